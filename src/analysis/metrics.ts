/**
 * Evaluation metrics (model-spec §8), float64, over flat region × week arrays with an observed
 * mask. Pooled R² is dominated by the level differences between regions (any per-region level
 * scores ~0.98 on MMM_Data.csv), so the report puts the model next to two naive forecasts that
 * use no media, and adds R² on the region-scaled target y/ȳ_r, which is blind to those levels.
 */
import { DataError } from '../data/errors.js';

export interface RegressionMetrics {
  /** number of masked-in cells */
  n: number;
  r2: number;
  rmse: number;
  mae: number;
  medianAe: number;
  /** RMSE over the errors with |error| ≤ the 95th percentile of |error| */
  trimmedRmse: number;
}

/** Metrics of one block (train, holdout, or a naive forecast on the holdout), original units. */
export interface BlockMetrics extends RegressionMetrics {
  /** pooled R² of y/ȳ_r against ŷ/ȳ_r */
  r2Scaled: number;
  /** per region R² over its cells in the block; NaN where undefined (< 2 cells or constant y) */
  perRegionR2: Float64Array;
  /** median of the defined per-region R² values (NaN if none) */
  perRegionR2Median: number;
  /** R² with B zero-target padding weeks per region counted as data (the reference's way) */
  paperStyleR2: number;
  paperStyleRmse: number;
}

export interface EvaluationInput {
  /** target in original units [R, W] */
  actual: Float64Array;
  /** prediction in original units [R, W] */
  predicted: Float64Array;
  /** 1 where the region has that week [R, W] */
  observed: Uint8Array;
  /** weeks 0..wTrain−1 of the shared axis are training, the rest holdout */
  wTrain: number;
  /** each region's training mean ȳ_r [R] (the scaling of the target) */
  yMean: Float64Array;
  regions: string[];
  /** B, the padding weeks per region counted by the paper-style R² (default 6) */
  burnInWeeks?: number;
  /**
   * The model's predictions (original units) on the B padding weeks of each sequence, [R, B].
   * Absent: a padding week counts as target 0 with prediction 0, i.e. it adds nothing to the
   * squared error but still enlarges the total sum of squares (an upper bound for the reference's
   * number, whose padding predictions are not exactly 0). Naive forecasts always use 0 there.
   */
  paddingPredicted?: { train?: Float64Array; holdout?: Float64Array };
  /** window of the recent-mean naive forecast, in observed training weeks (default 13) */
  recentWeeks?: number;
}

export interface EvaluationReport {
  regions: string[];
  weeksTrain: number;
  weeksHoldout: number;
  burnInWeeks: number;
  /** how the paper-style R² treated the padding predictions of [train, holdout] */
  paddingPredictions: { train: 'model' | 'zero'; holdout: 'model' | 'zero' };
  train: BlockMetrics;
  holdout: BlockMetrics;
  /** naive holdout forecasts, scored by the same code as the model */
  naive: {
    recentWeeks: number;
    /** each region's mean over its observed training weeks */
    trainingMean: BlockMetrics;
    /** each region's mean over its last `recentWeeks` observed training weeks */
    recentMean: BlockMetrics;
  };
}

// ---- elementary statistics ----------------------------------------------------------------------

/** Pearson correlation of two equally long arrays. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Quantile of an ascending array by linear interpolation (NumPy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

function checkLength(name: string, a: ArrayLike<number>, n: number, shape: string): void {
  if (a.length !== n)
    throw new DataError(`${name} has ${a.length} values; expected ${n} (shape ${shape})`);
}

/** R² = 1 − SSE/SST over paired values; NaN when there are none or the actuals are constant. */
function r2Of(a: ArrayLike<number>, p: ArrayLike<number>): number {
  const n = a.length;
  if (n === 0) return NaN;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += a[i];
  mean /= n;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < n; i++) {
    sse += (a[i] - p[i]) ** 2;
    sst += (a[i] - mean) ** 2;
  }
  return sst > 0 ? 1 - sse / sst : NaN;
}

function rmseOf(a: ArrayLike<number>, p: ArrayLike<number>): number {
  if (a.length === 0) return NaN;
  let sse = 0;
  for (let i = 0; i < a.length; i++) sse += (a[i] - p[i]) ** 2;
  return Math.sqrt(sse / a.length);
}

function medianOf(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  return quantileSorted(v, 0.5);
}

/** Metrics of paired values already selected (no mask). */
function metricsOfPairs(a: Float64Array, p: Float64Array): RegressionMetrics {
  const n = a.length;
  const absErr = new Float64Array(n);
  let sumAbs = 0;
  for (let i = 0; i < n; i++) {
    absErr[i] = Math.abs(a[i] - p[i]);
    sumAbs += absErr[i];
  }
  absErr.sort();
  const cut = quantileSorted(absErr, 0.95);
  let sseTrim = 0;
  let nTrim = 0;
  for (let i = 0; i < n && absErr[i] <= cut; i++) {
    sseTrim += absErr[i] ** 2;
    nTrim++;
  }
  return {
    n,
    r2: r2Of(a, p),
    rmse: rmseOf(a, p),
    mae: n > 0 ? sumAbs / n : NaN,
    medianAe: quantileSorted(absErr, 0.5),
    trimmedRmse: nTrim > 0 ? Math.sqrt(sseTrim / nTrim) : NaN,
  };
}

// ---- public metrics -----------------------------------------------------------------------------

/**
 * Pooled regression metrics over the cells where `mask` is non-zero (all cells without a mask).
 * Empty selection → n = 0 and NaN metrics; constant actuals → r2 NaN.
 */
export function regressionMetrics(
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
  mask?: ArrayLike<number>,
): RegressionMetrics {
  const n = actual.length;
  checkLength('predicted', predicted, n, `[${n}] like actual`);
  if (mask) checkLength('mask', mask, n, `[${n}] like actual`);
  const a: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < n; i++) {
    if (mask && !mask[i]) continue;
    if (!Number.isFinite(actual[i]))
      throw new DataError(`actual[${i}] = ${actual[i]} is not finite`);
    if (!Number.isFinite(predicted[i]))
      throw new DataError(`predicted[${i}] = ${predicted[i]} is not finite`);
    a.push(actual[i]);
    p.push(predicted[i]);
  }
  return metricsOfPairs(Float64Array.from(a), Float64Array.from(p));
}

interface BlockSpec {
  R: number;
  W: number;
  w0: number;
  w1: number;
  B: number;
  paddingPredicted?: Float64Array;
}

/** Scores predictions `pred(r, w)` on the observed cells of weeks [w0, w1). */
function blockMetrics(
  inp: EvaluationInput,
  spec: BlockSpec,
  pred: (r: number, w: number) => number,
): BlockMetrics {
  const { R, W, w0, w1, B } = spec;
  const a: number[] = [];
  const p: number[] = [];
  const as: number[] = [];
  const ps: number[] = [];
  const perRegionR2 = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    const ra: number[] = [];
    const rp: number[] = [];
    for (let w = w0; w < w1; w++) {
      const i = r * W + w;
      if (!inp.observed[i]) continue;
      const y = inp.actual[i];
      const yh = pred(r, w);
      if (!Number.isFinite(y))
        throw new DataError(`actual is not finite at region '${inp.regions[r]}', week ${w}`);
      if (!Number.isFinite(yh))
        throw new DataError(`prediction is not finite at region '${inp.regions[r]}', week ${w}`);
      ra.push(y);
      rp.push(yh);
      as.push(y / inp.yMean[r]);
      ps.push(yh / inp.yMean[r]);
    }
    perRegionR2[r] = ra.length >= 2 ? r2Of(ra, rp) : NaN;
    a.push(...ra);
    p.push(...rp);
  }
  const base = metricsOfPairs(Float64Array.from(a), Float64Array.from(p));
  // Paper style: the B zero-target padding weeks of every region count as data.
  const pa = a.slice();
  const pp = p.slice();
  for (let k = 0; k < R * B; k++) {
    pa.push(0);
    pp.push(spec.paddingPredicted ? spec.paddingPredicted[k] : 0);
  }
  return {
    ...base,
    r2Scaled: r2Of(as, ps),
    perRegionR2,
    perRegionR2Median: medianOf(Array.from(perRegionR2)),
    paperStyleR2: r2Of(pa, pp),
    paperStyleRmse: rmseOf(pa, pp),
  };
}

/**
 * Train and holdout metrics of a model's predictions, plus the same holdout metrics for two
 * naive forecasts (each region's training mean; its mean over the last `recentWeeks` observed
 * training weeks). Only observed cells count; padding weeks enter the paper-style numbers only.
 */
export function evaluationReport(inp: EvaluationInput): EvaluationReport {
  const R = inp.regions.length;
  if (R === 0) throw new DataError('evaluationReport: regions is empty');
  if (inp.actual.length % R !== 0)
    throw new DataError(
      `actual has ${inp.actual.length} values, not a multiple of the ${R} regions (shape [R, W])`,
    );
  const W = inp.actual.length / R;
  checkLength('predicted', inp.predicted, R * W, `[${R}, ${W}]`);
  checkLength('observed', inp.observed, R * W, `[${R}, ${W}]`);
  checkLength('yMean', inp.yMean, R, `[${R}]`);
  if (!Number.isInteger(inp.wTrain) || inp.wTrain < 1 || inp.wTrain > W)
    throw new DataError(`wTrain = ${inp.wTrain} must be an integer in [1, ${W}]`);
  const B = inp.burnInWeeks ?? 6;
  if (!Number.isInteger(B) || B < 0)
    throw new DataError(`burnInWeeks = ${B} must be a non-negative integer`);
  const recentWeeks = inp.recentWeeks ?? 13;
  if (!Number.isInteger(recentWeeks) || recentWeeks < 1)
    throw new DataError(`recentWeeks = ${recentWeeks} must be a positive integer`);
  const pad = inp.paddingPredicted ?? {};
  if (pad.train) checkLength('paddingPredicted.train', pad.train, R * B, `[${R}, ${B}]`);
  if (pad.holdout) checkLength('paddingPredicted.holdout', pad.holdout, R * B, `[${R}, ${B}]`);

  // Naive forecasts from each region's observed training weeks.
  const trainMean = new Float64Array(R);
  const recentMean = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    if (!(Number.isFinite(inp.yMean[r]) && inp.yMean[r] > 0))
      throw new DataError(`yMean of region '${inp.regions[r]}' is ${inp.yMean[r]}; must be > 0`);
    const ys: number[] = [];
    for (let w = 0; w < inp.wTrain; w++)
      if (inp.observed[r * W + w]) ys.push(inp.actual[r * W + w]);
    if (ys.length === 0)
      throw new DataError(`region '${inp.regions[r]}' has no observed training week`);
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    trainMean[r] = mean(ys);
    recentMean[r] = mean(ys.slice(-recentWeeks));
  }

  const model = (r: number, w: number) => inp.predicted[r * W + w];
  const train: BlockSpec = { R, W, w0: 0, w1: inp.wTrain, B, paddingPredicted: pad.train };
  const holdout: BlockSpec = { R, W, w0: inp.wTrain, w1: W, B, paddingPredicted: pad.holdout };
  const naiveSpec: BlockSpec = { ...holdout, paddingPredicted: undefined };
  return {
    regions: inp.regions,
    weeksTrain: inp.wTrain,
    weeksHoldout: W - inp.wTrain,
    burnInWeeks: B,
    paddingPredictions: {
      train: pad.train ? 'model' : 'zero',
      holdout: pad.holdout ? 'model' : 'zero',
    },
    train: blockMetrics(inp, train, model),
    holdout: blockMetrics(inp, holdout, model),
    naive: {
      recentWeeks,
      trainingMean: blockMetrics(inp, naiveSpec, (r) => trainMean[r]),
      recentMean: blockMetrics(inp, naiveSpec, (r) => recentMean[r]),
    },
  };
}

// ---- text report --------------------------------------------------------------------------------

/** A quantity in original units: 155338 → "155 k", 5.1e6 → "5.10 M". */
export function formatQuantity(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (a >= 1e5) return `${(x / 1e3).toFixed(0)} k`;
  if (a >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return a >= 1 ? x.toFixed(1) : x.toPrecision(3);
}

const fmtR2 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: string[]) =>
    cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('   ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('   '), ...rows.map(line)].join('\n');
}

/** Plain-text tables: holdout model vs naive forecasts, then train and holdout detail. */
export function formatEvaluationReport(report: EvaluationReport): string {
  const h = report.holdout;
  const { trainingMean, recentMean, recentWeeks } = report.naive;
  const holdoutRow = (name: string, m: BlockMetrics) => [
    name,
    formatQuantity(m.rmse),
    fmtR2(m.r2),
    fmtR2(m.r2Scaled),
    fmtR2(m.paperStyleR2),
  ];
  const detailRow = (name: string, m: BlockMetrics) => [
    name,
    String(m.n),
    fmtR2(m.r2),
    formatQuantity(m.rmse),
    formatQuantity(m.mae),
    formatQuantity(m.medianAe),
    formatQuantity(m.trimmedRmse),
    fmtR2(m.r2Scaled),
    fmtR2(m.perRegionR2Median),
    fmtR2(m.paperStyleR2),
  ];
  const pad = report.paddingPredictions;
  const padNote =
    report.burnInWeeks === 0
      ? 'paper-style R²: no padding weeks (B = 0), same as pooled R²'
      : `paper-style R²: ${report.burnInWeeks} zero-target padding weeks per region counted ` +
        `(model padding predictions: train ${pad.train === 'model' ? 'given' : 'taken as 0'}, ` +
        `holdout ${pad.holdout === 'model' ? 'given' : 'taken as 0'}; naive: 0); for comparison only`;
  return [
    `Holdout: ${report.weeksHoldout} weeks, ${h.n} observed region-weeks ` +
      `(train: ${report.weeksTrain} weeks, ${report.train.n} region-weeks)`,
    table(
      ['holdout', 'RMSE', 'pooled R²', 'R² (y/ȳ_r)', 'paper-style R²'],
      [
        holdoutRow('model', h),
        holdoutRow('naive: training mean', trainingMean),
        holdoutRow(`naive: last ${recentWeeks} training weeks`, recentMean),
      ],
    ),
    '',
    table(
      [
        'block',
        'n',
        'R²',
        'RMSE',
        'MAE',
        'median AE',
        'trimmed RMSE',
        'R² (y/ȳ_r)',
        'region R² (median)',
        'paper-style R²',
      ],
      [detailRow('train', report.train), detailRow('holdout', h)],
    ),
    '',
    padNote,
  ].join('\n');
}
