/**
 * An ensemble's decomposition and forecast: the members' mean, cell by cell, and 90 % prediction
 * intervals for the KPI. A prediction interval covers a new week's KPI, so it adds the noise around
 * the mean forecast to the members' disagreement: half-width z·√(sd²·(1 + 1/K) + σ_r²), with sd the
 * members' spread in the cell, σ_r region r's root-mean-square error of the mean prediction over
 * its observed training weeks, and z the normal quantile (σ_r comes from dozens of weeks, so a
 * Student t adds nothing there).
 */
import type { PreparedData } from '../data/pipeline.js';
import { rowsToCsv } from './table.js';
import type { Decomposition } from '../model/fitted.js';
import normalQuantileOf from '@stdlib/stats-base-dists-normal-quantile';
import { INTERVAL_LEVEL } from './intervals.js';

/** The members' mean, field by field; the clamped prediction is the mean's, clamped again at 0. */
export function meanDecomposition(decs: readonly Decomposition[]): Decomposition {
  if (decs.length === 0) throw new Error('causalmix: an ensemble needs at least one member');
  if (decs.length === 1) return decs[0];
  const K = decs.length;
  const mean = (pick: (d: Decomposition) => Float64Array) => {
    const out = new Float64Array(pick(decs[0]).length);
    for (const d of decs) pick(d).forEach((v, i) => (out[i] += v / K));
    return out;
  };
  const predictionUnclamped = mean((d) => d.predictionUnclamped);
  let clampedCount = 0;
  const prediction = predictionUnclamped.map((x) => (x < 0 ? (clampedCount++, 0) : x));
  const { R, W, C, K: nCtrl } = decs[0];
  return {
    R,
    W,
    C,
    K: nCtrl,
    prediction,
    predictionUnclamped,
    clampedCount,
    mediaContrib: mean((d) => d.mediaContrib),
    ctrlContrib: mean((d) => d.ctrlContrib),
    baseline: mean((d) => d.baseline),
    seasonal: mean((d) => d.seasonal),
    mediaCoeffs: mean((d) => d.mediaCoeffs),
    ctrlCoeffs: mean((d) => d.ctrlCoeffs),
    paddingPrediction: mean((d) => d.paddingPrediction),
  };
}

export interface PredictionIntervals {
  level: number;
  members: number;
  /** [R, W] bounds of the KPI (original units; the lower one clamped at 0) */
  lo: Float64Array;
  hi: Float64Array;
  /** share of the observed holdout region-weeks whose KPI lies within its interval (NaN: none) */
  holdoutCoverage: number;
  holdoutCells: number;
}

type Cells = Pick<PreparedData, 'R' | 'W' | 'wTrain' | 'observed' | 'rawTarget'>;

/** Prediction intervals over every week from K ≥ 2 members' decompositions (see the header). */
export function predictionIntervals(
  decs: readonly Decomposition[],
  p: Cells,
  level = INTERVAL_LEVEL,
): PredictionIntervals {
  const K = decs.length;
  if (K < 2)
    throw new Error('causalmix: prediction intervals need an ensemble of 2 or more members');
  const { R, W, wTrain, observed, rawTarget } = p;
  const mean = meanDecomposition(decs).predictionUnclamped;
  const z = normalQuantileOf(0.5 + level / 2, 0, 1);
  const lo = new Float64Array(R * W);
  const hi = new Float64Array(R * W);
  let inside = 0;
  let cells = 0;
  for (let r = 0; r < R; r++) {
    let ss = 0;
    let n = 0;
    for (let w = 0; w < wTrain; w++) {
      const i = r * W + w;
      if (!observed[i]) continue;
      ss += (rawTarget[i] - mean[i]) ** 2;
      n++;
    }
    const sigma2 = n > 0 ? ss / n : 0;
    for (let w = 0; w < W; w++) {
      const i = r * W + w;
      let v = 0;
      for (const d of decs) v += (d.predictionUnclamped[i] - mean[i]) ** 2;
      const half = z * Math.sqrt((v / (K - 1)) * (1 + 1 / K) + sigma2);
      lo[i] = Math.max(0, mean[i] - half);
      hi[i] = mean[i] + half;
      if (w >= wTrain && observed[i]) {
        cells++;
        if (rawTarget[i] >= lo[i] && rawTarget[i] <= hi[i]) inside++;
      }
    }
  }
  return {
    level,
    members: K,
    lo,
    hi,
    holdoutCoverage: cells > 0 ? inside / cells : NaN,
    holdoutCells: cells,
  };
}

/**
 * `forecast.csv`: every observed region-week with the KPI, the ensemble's mean prediction and its
 * 90 % prediction interval, and whether the week was trained on or held out.
 */
export function forecastCsv(
  p: Pick<PreparedData, 'R' | 'W' | 'wTrain' | 'observed' | 'rawTarget' | 'regions' | 'weeks'>,
  mean: Decomposition,
  pi: PredictionIntervals,
): string {
  const rows = [];
  for (let r = 0; r < p.R; r++)
    for (let w = 0; w < p.W; w++) {
      const i = r * p.W + w;
      if (!p.observed[i]) continue;
      rows.push({
        region: p.regions[r],
        week: p.weeks[w],
        split: w < p.wTrain ? 'train' : 'holdout',
        actual: p.rawTarget[i],
        prediction: mean.prediction[i],
        prediction_lo: pi.lo[i],
        prediction_hi: pi.hi[i],
      });
    }
  return rowsToCsv(rows, [
    'region',
    'week',
    'split',
    'actual',
    'prediction',
    'prediction_lo',
    'prediction_hi',
  ]);
}
