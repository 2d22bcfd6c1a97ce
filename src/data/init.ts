/**
 * Data-driven initial values (model-spec §5), computed in float64 over the observed training
 * region-weeks of the prepared (scaled) data, padding excluded.
 *
 * Reading of upstream `initialize_stable_coefficients_from_data` (core/unified_model.py): it runs
 * two separate ridge regressions of ỹ, one on the media shares alone and one on the scaled
 * controls alone (not one joint regression), each `β = (XᵀX + 0.01 I)⁻¹ Xᵀ ỹ` without intercept.
 * The std ratios are pooled: std(ỹ) over all rows, std(X) over every element of the media (resp.
 * control) matrix at once — one number per block, not one per channel — with Bessel's correction.
 *   media:    stable_c = σ(|β_c|) · std(ỹ) / std(X_media)
 *   controls: stable_k = β_k · std(ỹ) / std(X_ctrl) · e^{−2.3}
 * Hill g: the 0.6-quantile (linear interpolation) of the channel's shares > 1e-4 when more than 10
 * exist, clamped to [0.05, 0.9]; raw = inverse softplus. upstreamCompat writes what the reference
 * writes (spec §9.4): ln(e^g − 1) for g > 0.5, else the logit ln(g / (1 − g + 1e-8)); and the
 * region baseline raw is the mean ỹ itself instead of its inverse softplus.
 */
import { inverseSoftplus, sigmoid } from '../maths/functions.js';
import type { PreparedData } from './pipeline.js';
import { quantileLinear, stdDev } from './scaling.js';

export const RIDGE_LAMBDA = 0.01;
export const CTRL_STABLE_SCALE = Math.exp(-2.3);
export const HILL_SHARE_MIN = 1e-4;
export const HILL_MIN_COUNT = 10;
export const HILL_QUANTILE = 0.6;
export const HILL_G_RANGE: readonly [number, number] = [0.05, 0.9];
/** raw g kept when a channel has too few non-zero shares: the centre of upstream's U(0.1, 0.3) */
export const DEFAULT_HALF_SAT_RAW = 0.2;

export interface DataDrivenInit {
  baselineRaw: Float64Array;
  stableMedia: Float64Array;
  stableCtrl: Float64Array;
  halfSatRaw: Float64Array;
  /** 1 where halfSatRaw came from the data, 0 where the default was kept */
  halfSatFromData: Uint8Array;
}

/** x with softplus(x) = y (y > 0): src/maths/functions.ts, re-exported for this module's users. */
export { inverseSoftplus };

export function dataDrivenInit(
  prepared: PreparedData,
  opts: { upstreamCompat?: boolean } = {},
): DataDrivenInit {
  const compat = opts.upstreamCompat ?? false;
  const { R, T, B, C, K, wTrain } = prepared;

  // rows = observed training region-weeks, as sequence positions r·T + B + w
  const rows: number[] = [];
  const baselineRaw = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let sum = 0;
    let n = 0;
    for (let w = 0; w < wTrain; w++) {
      const pos = r * T + B + w;
      if (!prepared.trainMask[pos]) continue;
      rows.push(pos);
      sum += prepared.target[pos];
      n++;
    }
    const mean = n > 0 ? sum / n : 1;
    baselineRaw[r] = compat ? mean : inverseSoftplus(mean);
  }

  const y = Float64Array.from(rows, (pos) => prepared.target[pos]);
  const Xm = gather(prepared.media, rows, C);
  const Xc = gather(prepared.controls, rows, K);
  const sy = stdDev(y);

  const stableMedia = new Float64Array(C);
  const betaM = ridge(Xm, y, rows.length, C, RIDGE_LAMBDA);
  const sm = stdDev(Xm);
  for (let c = 0; c < C; c++) stableMedia[c] = sm > 0 ? (sigmoid(Math.abs(betaM[c])) * sy) / sm : 0;

  const stableCtrl = new Float64Array(K);
  if (K > 0) {
    const betaC = ridge(Xc, y, rows.length, K, RIDGE_LAMBDA);
    const sc = stdDev(Xc);
    for (let k = 0; k < K; k++)
      stableCtrl[k] = sc > 0 ? ((betaC[k] * sy) / sc) * CTRL_STABLE_SCALE : 0;
  }

  const halfSatRaw = new Float64Array(C).fill(DEFAULT_HALF_SAT_RAW);
  const halfSatFromData = new Uint8Array(C);
  for (let c = 0; c < C; c++) {
    const shares: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const v = Xm[i * C + c];
      if (v > HILL_SHARE_MIN) shares.push(v);
    }
    if (shares.length <= HILL_MIN_COUNT) continue;
    shares.sort((a, b) => a - b);
    const q = quantileLinear(shares, HILL_QUANTILE);
    const g = Math.min(Math.max(q, HILL_G_RANGE[0]), HILL_G_RANGE[1]);
    halfSatRaw[c] = compat
      ? g > 0.5
        ? inverseSoftplus(g)
        : Math.log(g / (1 - g + 1e-8))
      : inverseSoftplus(g);
    halfSatFromData[c] = 1;
  }
  return { baselineRaw, stableMedia, stableCtrl, halfSatRaw, halfSatFromData };
}

function gather(src: ArrayLike<number>, rows: number[], D: number): Float64Array {
  const out = new Float64Array(rows.length * D);
  for (let i = 0; i < rows.length; i++) {
    for (let d = 0; d < D; d++) out[i * D + d] = src[rows[i] * D + d];
  }
  return out;
}

/** β = (XᵀX + λI)⁻¹ Xᵀy for row-major X [n, D], by Cholesky (XᵀX + λI is positive definite). */
export function ridge(
  X: ArrayLike<number>,
  y: ArrayLike<number>,
  n: number,
  D: number,
  lambda: number,
): Float64Array {
  const A = new Float64Array(D * D);
  const b = new Float64Array(D);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < D; p++) {
      const xp = X[i * D + p];
      b[p] += xp * y[i];
      for (let q = 0; q <= p; q++) A[p * D + q] += xp * X[i * D + q];
    }
  }
  for (let p = 0; p < D; p++) {
    A[p * D + p] += lambda;
    for (let q = 0; q < p; q++) A[q * D + p] = A[p * D + q];
  }
  return choleskySolve(A, b, D);
}

/** Solves A x = b for symmetric positive-definite A [D, D] (row-major). */
export function choleskySolve(A: Float64Array, b: Float64Array, D: number): Float64Array {
  const L = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * D + j];
      for (let k = 0; k < j; k++) s -= L[i * D + k] * L[j * D + k];
      if (i === j) {
        if (!(s > 0)) throw new RangeError('choleskySolve: matrix is not positive definite');
        L[i * D + i] = Math.sqrt(s);
      } else {
        L[i * D + j] = s / L[j * D + j];
      }
    }
  }
  const z = new Float64Array(D);
  for (let i = 0; i < D; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * D + k] * z[k];
    z[i] = s / L[i * D + i];
  }
  const x = new Float64Array(D);
  for (let i = D - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < D; k++) s -= L[k * D + i] * x[k];
    x[i] = s / L[i * D + i];
  }
  return x;
}
