/**
 * The check a reader needs before trusting a fit: does the model forecast the holdout weeks better
 * than the naive forecasts scored beside it (each region's training mean, and its mean over the
 * last training weeks)? Shared by the CLI's report and the browser page's warning; no Node imports.
 */
import type { EvaluationReport } from './metrics.js';

export interface FitCheck {
  /** holdout RMSE of the model (NaN without holdout weeks) */
  modelRmse: number;
  /** the naive forecasts, best (lowest RMSE) first */
  naive: { label: string; rmse: number }[];
  /** a warning in plain words when the model is worse than a naive forecast, else null */
  warning: string | null;
}

export function fitCheck(report: EvaluationReport): FitCheck {
  const n = report.naive.recentWeeks;
  const naive = [
    { label: "each region's training mean", rmse: report.naive.trainingMean.rmse },
    {
      label: `each region's mean of its last ${n} training weeks`,
      rmse: report.naive.recentMean.rmse,
    },
  ]
    .filter((x) => Number.isFinite(x.rmse))
    .sort((a, b) => a.rmse - b.rmse);
  const modelRmse = report.holdout.n > 0 ? report.holdout.rmse : NaN;
  const best = naive[0];
  const warning =
    best && Number.isFinite(modelRmse) && modelRmse > best.rmse
      ? `the model forecasts the ${report.weeksHoldout} holdout weeks worse than a naive forecast ` +
        `(${best.label}): RMSE ${fmt(modelRmse)} against ${fmt(best.rmse)}. Its contributions, ` +
        `curves and budgets are not to be trusted yet: train longer, or check the data and columns.`
      : null;
  return { modelRmse, naive, warning };
}

const fmt = (v: number) => new Intl.NumberFormat('en', { maximumSignificantDigits: 3 }).format(v);
