/**
 * Seasonal curve per region (model-spec §3), as upstream core/seasonality.py computes it through
 * statsmodels' `seasonal_decompose(x, model='additive', period=p)` (two-sided filter, no trend
 * extrapolation):
 *   trend_t = centred moving average: odd p → mean of x[t−h..t+h], h = (p−1)/2; even p → the 2×p
 *             average with weights ½,1,…,1,½ over x[t−p/2..t+p/2], divided by p; undefined (NaN)
 *             within h (resp. p/2) of either end
 *   phase means of x − trend over indices i, i+p, i+2p, … ignoring undefined entries, re-centred
 *   to zero mean; tiled from index 0
 * then min–max to [0, 1] (constant → 0.5). p = min(52, ⌊n/2⌋); fewer than 8 weeks → 0.5.
 *
 * Ragged regions: the series is the region's observed training weeks from its first to its last
 * one (its span); phase 0 is the span's first week (`origin`, an index on the shared week axis).
 * Weeks missing inside the span are left undefined (NaN) rather than filled: every moving average
 * touching one is undefined and drops out of the phase means, exactly like statsmodels' edges. A
 * phase left with no value at all gets 0 (the centre) before the min–max.
 * Every other week t — padding before the axis, holdout, future — uses phase (t − origin) mod p.
 */

export const SEASONAL_MAX_PERIOD = 52;
export const SEASONAL_MIN_WEEKS = 8;

/** A fitted seasonal curve: plain JSON. */
export interface SeasonalFit {
  /** p; 0 for the constant-0.5 curve */
  period: number;
  /** shared-axis week index of phase 0 (the region's first observed training week) */
  origin: number;
  /** the region's span length in weeks (first..last observed training week) */
  length: number;
  /** min–max scaled phase values, length p ([] when period is 0) */
  pattern: number[];
}

/** Additive decomposition's seasonal component (not min–max scaled), length of `x`. */
export function seasonalDecompose(x: ArrayLike<number>, period: number): Float64Array {
  const n = x.length;
  const p = period;
  if (!Number.isInteger(p) || p < 2 || n < 2 * p) {
    throw new RangeError(`seasonalDecompose needs period ≥ 2 and 2 full periods (n ${n}, p ${p})`);
  }
  const half = Math.floor(p / 2);
  // filter weights, length 2·half + 1
  const wts = new Float64Array(2 * half + 1).fill(1 / p);
  if (p % 2 === 0) {
    wts[0] = 0.5 / p;
    wts[2 * half] = 0.5 / p;
  }
  const sums = new Float64Array(p);
  const counts = new Int32Array(p);
  for (let t = half; t < n - half; t++) {
    let trend = 0;
    for (let j = 0; j < wts.length; j++) trend += wts[j] * x[t - half + j];
    const d = x[t] - trend;
    if (Number.isNaN(d)) continue;
    sums[t % p] += d;
    counts[t % p]++;
  }
  const means = new Float64Array(p);
  let total = 0;
  let m = 0;
  for (let i = 0; i < p; i++) {
    means[i] = counts[i] > 0 ? sums[i] / counts[i] : NaN;
    if (counts[i] > 0) {
      total += means[i];
      m++;
    }
  }
  const centre = m > 0 ? total / m : 0;
  for (let i = 0; i < p; i++) means[i] = counts[i] > 0 ? means[i] - centre : 0;
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) out[t] = means[t % p];
  return out;
}

/** Min–max to [0, 1]; a constant series becomes 0.5. */
export function minMaxScale(x: ArrayLike<number>): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  const out = new Float64Array(x.length);
  if (!(hi > lo)) return out.fill(0.5);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - lo) / (hi - lo);
  return out;
}

/**
 * Fits one region's curve. `y` is its target in original units on the shared axis, `observed`
 * its mask; only weeks [0, wTrain) are used.
 */
export function fitSeasonality(
  y: ArrayLike<number>,
  observed: ArrayLike<number>,
  wTrain: number,
): SeasonalFit {
  let first = -1;
  let last = -1;
  let n = 0;
  for (let w = 0; w < wTrain; w++) {
    if (!observed[w]) continue;
    if (first < 0) first = w;
    last = w;
    n++;
  }
  const origin = Math.max(first, 0);
  if (n < SEASONAL_MIN_WEEKS) return { period: 0, origin, length: n, pattern: [] };
  const length = last - first + 1;
  const span = new Float64Array(length);
  for (let i = 0; i < length; i++) span[i] = observed[first + i] ? y[first + i] : NaN;
  const period = Math.min(SEASONAL_MAX_PERIOD, Math.floor(n / 2));
  const seasonal = seasonalDecompose(span, period);
  // the span holds every phase (length ≥ 2p), so scaling the pattern = scaling the tiled curve
  const pattern = Array.from(minMaxScale(seasonal.subarray(0, period)));
  return { period, origin, length, pattern };
}

/** S at shared-axis week t (any integer: negative for padding, ≥ W for future weeks). */
export function seasonalAt(fit: SeasonalFit, t: number): number {
  if (fit.period === 0) return 0.5;
  const p = fit.period;
  return fit.pattern[(((t - fit.origin) % p) + p) % p];
}
