/**
 * Scaling (model-spec §2), fitted on observed training region-weeks only and stored as plain
 * numbers so it can travel in a model file and transform weeks it never saw (prediction).
 *
 *   media:    'shareOfVoice' (the reference): s = x / (Σ_c x + 1e-8); a week with Σ_c x ≤ 1e-8
 *             gets 1/C per channel. 'regionMean' (the default): s = x / (4·x̄_rc), x̄_rc the
 *             region's mean of the channel over its observed training weeks (docs/defaults.md)
 *   controls: z = (x − median) / (IQR/1.349 + 1e-8)  (upstreamCompat: IQR·1.349, spec §9.3),
 *             clipped to ±5, or ±3.5 when std(z)/std(x) > 2
 *   target:   ỹ = y / ȳ_r (upstreamCompat: y / (ȳ_r + 1e-8)); inverse max(ỹ·ȳ_r, 0)
 *
 * The median is the lower median (sorted index ⌊(n−1)/2⌋, as torch.median); quartiles use linear
 * interpolation (torch.quantile's default). Reading of the clip rule in upstream core/scaling.py:
 * the ratio is torch.std over every element of the scaled control block (all regions, weeks and
 * controls pooled into one number) divided by torch.std of the raw block, taken before clipping;
 * both use Bessel's correction, which cancels. The reference re-evaluates it for each block it
 * transforms (training, then holdout separately); we decide it once on the training weeks, and
 * only in upstreamCompat mode re-decide it per transformed block (`controlClipForBlock`).
 */

export const SOV_EPS = 1e-8;
export const SCALE_EPS = 1e-8;
export const IQR_TO_STD = 1.349;
export const CLIP_STANDARD = 5;
export const CLIP_AGGRESSIVE = 3.5;
export const CLIP_RATIO_THRESHOLD = 2;

/** Plain-JSON control scaler (one entry per control, in controlNames order). */
export interface ControlScaler {
  median: number[];
  /** the divisor without the +1e-8: IQR/1.349 (upstreamCompat: IQR·1.349) */
  scale: number[];
  /** clip bound decided on the training weeks */
  clip: number;
  /** std(z)/std(x) over the training block, the number the clip was decided on */
  stdRatio: number;
  upstreamCompat: boolean;
}

/** Plain-JSON target scaler. */
export interface TargetScaler {
  /** ȳ_r, the region's mean over its observed training weeks */
  yMean: number[];
  upstreamCompat: boolean;
}

export type MediaScaling = 'shareOfVoice' | 'regionMean';

/**
 * Mean scaled input of a channel under 'regionMean': 1/4, so that the adstocked input (up to
 * 1/(1 − 0.8) = 5 times the input) stays mostly inside the Hill half-saturation range (0.01, 1]
 * and the adstock clamp at 10 of model-spec §4/§6.
 */
export const MEDIA_MEAN_LEVEL = 0.25;

/** Plain-JSON media scaler: the divisor per region and channel ([R][C]; absent: share of voice). */
export interface MediaScaler {
  scaling: MediaScaling;
  /** x̃ = x / divisor[r][c] ('regionMean' only) */
  divisor?: number[][];
}

/**
 * Divisors x̄_rc / MEDIA_MEAN_LEVEL from the observed training cells. A region that never ran a
 * channel in training takes the channel's mean over the regions that did (its input stays 0 in
 * training; a future plan there is then scaled like an average region); a channel never run
 * anywhere takes 1.
 */
export function fitMediaScaler(
  media: ArrayLike<number>,
  R: number,
  W: number,
  C: number,
  trainCells: number[],
): MediaScaler {
  const sum = Array.from({ length: R }, () => new Float64Array(C));
  const n = new Float64Array(R);
  for (const cell of trainCells) {
    const r = Math.floor(cell / W);
    n[r]++;
    for (let c = 0; c < C; c++) sum[r][c] += media[cell * C + c];
  }
  const divisor = Array.from({ length: R }, () => new Array<number>(C).fill(0));
  for (let c = 0; c < C; c++) {
    let total = 0;
    let regions = 0;
    for (let r = 0; r < R; r++) {
      const mean = n[r] > 0 ? sum[r][c] / n[r] : 0;
      if (mean > 0) {
        divisor[r][c] = mean / MEDIA_MEAN_LEVEL;
        total += divisor[r][c];
        regions++;
      }
    }
    const fallback = regions > 0 ? total / regions : 1;
    for (let r = 0; r < R; r++) if (!(divisor[r][c] > 0)) divisor[r][c] = fallback;
  }
  return { scaling: 'regionMean', divisor };
}

/** Scales one region-week of C inputs (x[xOff..xOff+C) → out[outOff..)). */
export function scaleMedia(
  s: MediaScaler,
  r: number,
  x: ArrayLike<number>,
  xOff: number,
  C: number,
  out: { [i: number]: number },
  outOff: number,
): void {
  if (s.scaling === 'shareOfVoice' || !s.divisor) {
    shareOfVoice(x, xOff, C, out, outOff);
    return;
  }
  for (let c = 0; c < C; c++) out[outOff + c] = x[xOff + c] / s.divisor[r][c];
}

/** The scaled input of an unobserved region-week: the share of an empty week, or no media. */
export function neutralMedia(s: MediaScaler, C: number): number {
  return s.scaling === 'shareOfVoice' ? 1 / C : 0;
}

/** Share of voice of one region-week: writes C shares of x[xOff..xOff+C) to out[outOff..). */
export function shareOfVoice(
  x: ArrayLike<number>,
  xOff: number,
  C: number,
  out: { [i: number]: number },
  outOff: number,
): void {
  let total = 0;
  for (let c = 0; c < C; c++) total += x[xOff + c];
  if (total <= SOV_EPS) {
    for (let c = 0; c < C; c++) out[outOff + c] = 1 / C;
    return;
  }
  const d = total + SOV_EPS;
  for (let c = 0; c < C; c++) out[outOff + c] = x[xOff + c] / d;
}

/** Sorted value at index ⌊(n−1)/2⌋ (torch.median's choice for even n). */
export function lowerMedian(sorted: ArrayLike<number>): number {
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** Quantile by linear interpolation between order statistics (numpy/torch default). */
export function quantileLinear(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

/** Unbiased (n − 1) standard deviation. */
export function stdDev(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 2) return 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += xs[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i] - mean) ** 2;
  return Math.sqrt(ss / (n - 1));
}

/**
 * Fits the control scaler on the given cells (region-week indices into a [cells, K] array).
 * `controls` is row-major [.., K]; `cells` lists the rows to use (observed training weeks).
 */
export function fitControlScaler(
  controls: ArrayLike<number>,
  K: number,
  cells: ArrayLike<number>,
  upstreamCompat: boolean,
): ControlScaler {
  const n = cells.length;
  const median: number[] = [];
  const scale: number[] = [];
  const col = new Float64Array(n);
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < n; i++) col[i] = controls[cells[i] * K + k];
    col.sort();
    median.push(lowerMedian(col));
    const iqr = quantileLinear(col, 0.75) - quantileLinear(col, 0.25);
    scale.push(upstreamCompat ? iqr * IQR_TO_STD : iqr / IQR_TO_STD);
  }
  const partial: ControlScaler = {
    median,
    scale,
    clip: CLIP_STANDARD,
    stdRatio: NaN,
    upstreamCompat,
  };
  const { clip, stdRatio } = controlClipForBlock(partial, controls, K, cells);
  return { ...partial, clip, stdRatio };
}

/** Unclipped robust z-score of control k. */
export function controlZ(s: ControlScaler, k: number, x: number): number {
  return (x - s.median[k]) / (s.scale[k] + SCALE_EPS);
}

/** Scaled control: the z-score clipped to ±clip. */
export function scaleControl(s: ControlScaler, k: number, x: number, clip = s.clip): number {
  const z = controlZ(s, k, x);
  return z > clip ? clip : z < -clip ? -clip : z;
}

/** The clip bound the std-ratio rule picks for a block of cells (pooled over every control). */
export function controlClipForBlock(
  s: ControlScaler,
  controls: ArrayLike<number>,
  K: number,
  cells: ArrayLike<number>,
): { clip: number; stdRatio: number } {
  const n = cells.length * K;
  const raw = new Float64Array(n);
  const z = new Float64Array(n);
  for (let i = 0; i < cells.length; i++) {
    for (let k = 0; k < K; k++) {
      const x = controls[cells[i] * K + k];
      raw[i * K + k] = x;
      z[i * K + k] = controlZ(s, k, x);
    }
  }
  const stdRatio = stdDev(z) / stdDev(raw);
  return { clip: stdRatio > CLIP_RATIO_THRESHOLD ? CLIP_AGGRESSIVE : CLIP_STANDARD, stdRatio };
}

/** ȳ_r over each region's observed training weeks of a [R, W] target. */
export function fitTargetScaler(
  target: ArrayLike<number>,
  observed: ArrayLike<number>,
  R: number,
  W: number,
  wTrain: number,
  upstreamCompat: boolean,
): TargetScaler {
  const yMean: number[] = [];
  for (let r = 0; r < R; r++) {
    let sum = 0;
    let n = 0;
    for (let w = 0; w < wTrain; w++) {
      if (!observed[r * W + w]) continue;
      sum += target[r * W + w];
      n++;
    }
    yMean.push(n > 0 ? sum / n : NaN);
  }
  return { yMean, upstreamCompat };
}

export function scaleTarget(s: TargetScaler, r: number, y: number): number {
  return y / (s.upstreamCompat ? s.yMean[r] + SCALE_EPS : s.yMean[r]);
}

/** Original units from ỹ, clamped at 0 (visits cannot be negative). */
export function inverseTarget(s: TargetScaler, r: number, yScaled: number): number {
  return Math.max(yScaled * s.yMean[r], 0);
}
