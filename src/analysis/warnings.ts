/**
 * Warnings a user can act on, computed after a fit: the media share sitting at the attribution
 * prior, channels too collinear to separate, channels whose input follows demand (possible
 * confounding), and a holdout forecast worse than a naive one. Each names what it is about and
 * what to do.
 */
import type { PreparedData } from '../data/pipeline.js';
import type { MMMConfig } from '../model/config.js';
import { choleskySolve } from '../data/init.js';
import { YEAR_WEEKS } from '../model/trend.js';
import { fitCheck } from './fit-check.js';
import { correlation, type EvaluationReport } from './metrics.js';

export type WarningKind = 'media-share-at-prior' | 'collinear' | 'follows-demand' | 'poor-forecast';

export interface FitWarning {
  kind: WarningKind;
  /** the channels it concerns (empty when it is about the whole model) */
  channels: string[];
  message: string;
}

/** Inputs more correlated than this cannot be told apart. */
export const COLLINEAR_CORRELATION = 0.8;
/** A channel whose national input correlates this much with the KPI's seasonal swing follows demand (other channels of the recovery panels reach 0.39 at most). */
export const DEMAND_CORRELATION = 0.5;
/** The media share is "at" the prior within this many points. */
export const PRIOR_TOLERANCE = 0.02;

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

/** National weekly means of the scaled inputs [C][wTrain] over observed training cells. */
function nationalInputs(p: PreparedData): Float64Array[] {
  const { R, T, B, W, C, wTrain } = p;
  return Array.from({ length: C }, (_, c) => {
    const out = new Float64Array(wTrain);
    for (let w = 0; w < wTrain; w++) {
      let s = 0;
      let n = 0;
      for (let r = 0; r < R; r++) {
        if (!p.observed[r * W + w]) continue;
        s += p.media[(r * T + B + w) * C + c];
        n++;
      }
      out[w] = n > 0 ? s / n : 0;
    }
    return out;
  });
}

/** Pairs of channels whose scaled inputs (pooled over observed training cells) correlate ≥ the bar. */
export function collinearPairs(p: PreparedData): { a: string; b: string; correlation: number }[] {
  const { R, T, B, W, C, wTrain } = p;
  const cells: number[] = [];
  for (let r = 0; r < R; r++)
    for (let w = 0; w < wTrain; w++) if (p.observed[r * W + w]) cells.push(r * T + B + w);
  const series = Array.from({ length: C }, (_, c) =>
    Float64Array.from(cells, (pos) => p.media[pos * C + c]),
  );
  const out: { a: string; b: string; correlation: number }[] = [];
  for (let i = 0; i < C; i++)
    for (let j = i + 1; j < C; j++) {
      const r = correlation(series[i], series[j]);
      if (r >= COLLINEAR_CORRELATION)
        out.push({ a: p.channels[i], b: p.channels[j], correlation: r });
    }
  return out;
}

/**
 * The KPI's seasonal swing: national mean of ỹ over the training weeks regressed on a line and
 * two yearly harmonics; the harmonics' part of the fit.
 */
function kpiSeason(p: PreparedData): Float64Array {
  const { R, T, B, W, wTrain } = p;
  const y = new Float64Array(wTrain);
  for (let w = 0; w < wTrain; w++) {
    let s = 0;
    let n = 0;
    for (let r = 0; r < R; r++) {
      if (!p.observed[r * W + w]) continue;
      s += p.target[r * T + B + w];
      n++;
    }
    y[w] = n > 0 ? s / n : NaN;
  }
  const cols = (w: number) => {
    const f = [1, w / wTrain];
    for (let j = 1; j <= 2; j++) {
      const a = (2 * Math.PI * j * w) / YEAR_WEEKS;
      f.push(Math.sin(a), Math.cos(a));
    }
    return f;
  };
  const P = 6;
  const A = new Float64Array(P * P);
  const b = new Float64Array(P);
  for (let w = 0; w < wTrain; w++) {
    if (!Number.isFinite(y[w])) continue;
    const f = cols(w);
    for (let i = 0; i < P; i++) {
      b[i] += f[i] * y[w];
      for (let j = 0; j < P; j++) A[i * P + j] += f[i] * f[j];
    }
  }
  for (let i = 0; i < P; i++) A[i * P + i] += 1e-9;
  let beta: Float64Array;
  try {
    beta = choleskySolve(A, b, P);
  } catch {
    return new Float64Array(wTrain);
  }
  return Float64Array.from({ length: wTrain }, (_, w) =>
    cols(w)
      .slice(2)
      .reduce((s, v, i) => s + v * beta[2 + i], 0),
  );
}

/** Channels whose national input correlates with the KPI's seasonal swing ≥ the bar. */
export function demandFollowers(p: PreparedData): { channel: string; correlation: number }[] {
  if (p.wTrain < YEAR_WEEKS) return [];
  const season = kpiSeason(p);
  return nationalInputs(p)
    .map((x, c) => ({ channel: p.channels[c], correlation: correlation(x, season) }))
    .filter((d) => Number.isFinite(d.correlation) && d.correlation >= DEMAND_CORRELATION);
}

export interface WarningInputs {
  prepared: PreparedData;
  config: Pick<MMMConfig, 'mediaPrior' | 'mediaPriorWeight'>;
  /** Σ media contributions / Σ KPI over the observed training cells */
  mediaShare: number;
  report: EvaluationReport;
}

export function fitWarnings(inp: WarningInputs): FitWarning[] {
  const out: FitWarning[] = [];
  const { config, mediaShare, report } = inp;
  if (config.mediaPriorWeight > 0 && Math.abs(mediaShare - config.mediaPrior) <= PRIOR_TOLERANCE)
    out.push({
      kind: 'media-share-at-prior',
      channels: [],
      message:
        `media share ${pct(mediaShare)} of the KPI sits at the attribution prior ` +
        `(mediaPrior ${pct(config.mediaPrior)}, weight ${config.mediaPriorWeight}): the prior, not ` +
        `the data, may have set it; refit with mediaPriorWeight 0 to see what the data say`,
    });
  for (const pair of collinearPairs(inp.prepared))
    out.push({
      kind: 'collinear',
      channels: [pair.a, pair.b],
      message:
        `${pair.a} and ${pair.b} move together (input correlation ${pair.correlation.toFixed(2)}): ` +
        `the data cannot split their effect; read their combined share, or vary one of them ` +
        `(a test, or regions with different plans) to separate them`,
    });
  for (const d of demandFollowers(inp.prepared))
    out.push({
      kind: 'follows-demand',
      channels: [d.channel],
      message:
        `${d.channel}'s spend follows the KPI's seasonal swing (correlation ` +
        `${d.correlation.toFixed(2)}): part of its measured effect may be demand it was bought ` +
        `into (confounding); a lift test (switching it off in some regions) would tell`,
    });
  const forecast = fitCheck(report).warning;
  if (forecast) out.push({ kind: 'poor-forecast', channels: [], message: forecast });
  return out;
}
