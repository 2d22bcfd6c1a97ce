/**
 * The budget-allocation problem shared by the solvers (model-spec §10):
 *
 *   maximise F(x) = Σ_i N · f_i(x_i / N)   s.t.  Σ_i x_i = B,  l_i ≤ x_i ≤ u_i,
 *
 * with f_i a channel's weekly curve (a Hill curve, or the monotone interpolation of simulated
 * points where the Hill fit is poor), x_i its spend over the N-week horizon. ∂F/∂x_i =
 * f_i'(x_i / N), so marginals are read straight off the weekly curve.
 */
import type { HillParams } from './response-curves.js';
import { curveInflection, curveMarginal, curveResponse } from './response-curves.js';

export interface AllocationProblem {
  budget: number;
  numWeeks: number;
  curves: readonly HillParams[];
  lower: readonly number[];
  upper: readonly number[];
}

/** N · f_i(x / N): channel i's response over the horizon. */
export function channelResponse(p: AllocationProblem, i: number, x: number): number {
  return p.numWeeks * curveResponse(p.curves[i], x / p.numWeeks);
}

/** ∂F/∂x_i at x. */
export function channelMarginal(p: AllocationProblem, i: number, x: number): number {
  return curveMarginal(p.curves[i], x / p.numWeeks);
}

export function totalResponse(p: AllocationProblem, x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += channelResponse(p, i, x[i]);
  return s;
}

/** Spend at which channel i's marginal peaks (0 for slope ≤ 1): below it the curve is convex. */
export function channelInflection(p: AllocationProblem, i: number): number {
  return p.numWeeks * curveInflection(p.curves[i]);
}

/** Σ lower ≤ B ≤ Σ upper (with a relative tolerance for rounding). */
export function isFeasible(p: AllocationProblem): boolean {
  const tol = 1e-12 * Math.max(1, p.budget);
  const lo = p.lower.reduce((a, b) => a + b, 0);
  const hi = p.upper.reduce((a, b) => a + b, 0);
  return lo <= p.budget + tol && hi >= p.budget - tol;
}

/**
 * Euclidean projection of y onto {Σx = B, l ≤ x ≤ u}: x_i = clip(y_i − τ, l_i, u_i). The sum is
 * piecewise linear and non-increasing in τ with breakpoints y_i − u_i and y_i − l_i, so τ is found
 * exactly between two sorted breakpoints; the last rounding residue goes to channels with room.
 */
export function projectOntoBudget(p: AllocationProblem, y: ArrayLike<number>): number[] {
  const n = y.length;
  const { lower: l, upper: u, budget: B } = p;
  const sumAt = (tau: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.min(Math.max(y[i] - tau, l[i]), u[i]);
    return s;
  };
  const bps: number[] = [];
  for (let i = 0; i < n; i++) bps.push(y[i] - u[i], y[i] - l[i]);
  bps.sort((a, b) => a - b);
  // smallest breakpoint index k with sumAt(bps[k]) ≤ B; the root lies in [bps[k−1], bps[k]]
  let lo = 0;
  let hi = bps.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sumAt(bps[mid]) <= B) hi = mid;
    else lo = mid + 1;
  }
  let tau = bps[lo];
  if (lo > 0) {
    const t0 = bps[lo - 1];
    const s0 = sumAt(t0);
    const s1 = sumAt(tau);
    if (s0 > s1) tau = t0 + ((s0 - B) * (tau - t0)) / (s0 - s1);
  }
  const x = new Array<number>(n);
  for (let i = 0; i < n; i++) x[i] = Math.min(Math.max(y[i] - tau, l[i]), u[i]);
  return fixResidual(p, x);
}

/** Moves Σx onto B exactly by nudging channels that have room (rounding clean-up only). */
export function fixResidual(p: AllocationProblem, x: number[]): number[] {
  let r = p.budget - x.reduce((a, b) => a + b, 0);
  for (let i = 0; i < x.length && r !== 0; i++) {
    const room = r > 0 ? p.upper[i] - x[i] : p.lower[i] - x[i];
    const step = r > 0 ? Math.min(r, room) : Math.max(r, room);
    x[i] += step;
    r -= step;
  }
  return x;
}

/**
 * Local pairwise exchange: repeatedly move budget from the channel with the lowest marginal
 * (that can give) to the one with the highest (that can take), up to the first point along the
 * move where the two marginals meet. It only climbs, so it is a local polish.
 */
export function pairwisePolish(
  p: AllocationProblem,
  x0: readonly number[],
  maxRounds = 2000,
): number[] {
  const x = x0.slice();
  const n = x.length;
  const eps = 1e-12 * Math.max(1, p.budget);
  for (let round = 0; round < maxRounds; round++) {
    let iBest = -1;
    let jBest = -1;
    let mHi = -Infinity;
    let mLo = Infinity;
    for (let k = 0; k < n; k++) {
      const m = channelMarginal(p, k, x[k]);
      if (x[k] < p.upper[k] - eps && m > mHi) {
        mHi = m;
        iBest = k;
      }
      if (x[k] > p.lower[k] + eps && m < mLo) {
        mLo = m;
        jBest = k;
      }
    }
    if (iBest < 0 || jBest < 0 || iBest === jBest) break;
    if (!(mHi - mLo > 1e-12 * Math.max(Math.abs(mHi), Math.abs(mLo), 1e-300))) break;
    const i = iBest;
    const j = jBest;
    const T = Math.min(p.upper[i] - x[i], x[j] - p.lower[j]);
    const dphi = (t: number) => channelMarginal(p, i, x[i] + t) - channelMarginal(p, j, x[j] - t);
    const phi = (t: number) => channelResponse(p, i, x[i] + t) + channelResponse(p, j, x[j] - t);
    // first sign change of φ' along [0, T], scanned then bisected
    let a = 0;
    let b = T;
    if (dphi(T) > 0) {
      a = T;
    } else {
      const steps = 32;
      for (let k = 1; k <= steps; k++) {
        const t = (T * k) / steps;
        if (dphi(t) <= 0) {
          b = t;
          break;
        }
        a = t;
      }
      for (let it = 0; it < 100 && b - a > eps; it++) {
        const mid = 0.5 * (a + b);
        if (dphi(mid) > 0) a = mid;
        else b = mid;
      }
    }
    const t = a;
    if (!(t > 0) || !(phi(t) > phi(0))) break;
    x[i] += t;
    x[j] -= t;
  }
  return x;
}
