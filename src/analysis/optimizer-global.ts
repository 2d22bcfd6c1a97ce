/**
 * Global budget allocation. Hill curves with slope > 1 are S-shaped, so the objective is not
 * concave and gradient methods can stop at poor points. Dynamic programming over channels on a
 * fine grid of the budget finds the global optimum up to one grid step; a KKT step (equal
 * marginal response across channels off their bounds, by bisection on the Lagrange multiplier)
 * then makes it exact, and a pairwise polish cleans up what the KKT step leaves fixed.
 */
import type { AllocationProblem } from './optimizer-problem.js';
import { curveRises } from './response-curves.js';
import {
  channelInflection,
  channelMarginal,
  channelResponse,
  fixResidual,
  pairwisePolish,
  totalResponse,
} from './optimizer-problem.js';

export interface GlobalSolution {
  x: number[];
  /** grid steps the DP used */
  gridSteps: number;
  /** the common marginal response λ of the KKT step, when it ran */
  lambda: number | null;
  /** which stage gave the kept point */
  stage: 'dp' | 'kkt' | 'polish';
}

/** Default grid: 4000 steps, fewer for many channels so n·G² stays near 2·10⁸ operations. */
export function defaultGridSteps(n: number): number {
  return Math.max(500, Math.min(4000, Math.floor(Math.sqrt(2e8 / Math.max(1, n)))));
}

/**
 * DP over channels: V_j(m) = max_k g_j(k) + V_{j−1}(m − k), with m grid units of the budget left
 * above the lower bounds. A channel whose room is not a whole number of steps takes its exact
 * upper bound at its last step, so at most one step per such channel goes unspent; the polish
 * puts it back.
 */
export function dpAllocate(p: AllocationProblem, gridSteps: number): number[] {
  const n = p.curves.length;
  const R = p.budget - p.lower.reduce((a, b) => a + b, 0);
  if (!(R > 0)) return p.lower.slice();
  const G = gridSteps;
  const delta = R / G;
  const spendOf = (i: number, k: number) =>
    p.lower[i] + Math.min(k * delta, p.upper[i] - p.lower[i]);
  const caps: number[] = [];
  const gains: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const room = p.upper[i] - p.lower[i];
    const K = Math.min(G, Math.ceil(room / delta - 1e-9));
    caps.push(K);
    const g = new Float64Array(K + 1);
    for (let k = 0; k <= K; k++) g[k] = channelResponse(p, i, spendOf(i, k));
    gains.push(g);
  }
  const choice: Int32Array[] = [];
  let prev = new Float64Array(G + 1).fill(-Infinity);
  {
    const c = new Int32Array(G + 1);
    for (let m = 0; m <= Math.min(G, caps[0]); m++) {
      prev[m] = gains[0][m];
      c[m] = m;
    }
    choice.push(c);
  }
  for (let i = 1; i < n; i++) {
    const cur = new Float64Array(G + 1).fill(-Infinity);
    const c = new Int32Array(G + 1);
    const g = gains[i];
    const K = caps[i];
    for (let m = 0; m <= G; m++) {
      let best = -Infinity;
      let arg = 0;
      const kMax = Math.min(m, K);
      for (let k = 0; k <= kMax; k++) {
        const v = g[k] + prev[m - k];
        if (v > best) {
          best = v;
          arg = k;
        }
      }
      cur[m] = best;
      c[m] = arg;
    }
    choice.push(c);
    prev = cur;
  }
  const x = new Array<number>(n);
  let m = G;
  for (let i = n - 1; i >= 0; i--) {
    const k = choice[i][m];
    x[i] = spendOf(i, k);
    m -= k;
  }
  return x;
}

/**
 * x with marginal λ on channel i's decreasing-marginal piece [lo, hi] (clipped to it). Marginals
 * fall on that piece, so bisection in x.
 */
function inverseMarginal(p: AllocationProblem, i: number, lambda: number, lo: number, hi: number) {
  if (channelMarginal(p, i, lo) <= lambda) return lo;
  if (channelMarginal(p, i, hi) >= lambda) return hi;
  let a = lo;
  let b = hi;
  for (let it = 0; it < 200; it++) {
    const mid = 0.5 * (a + b);
    if (mid === a || mid === b) break;
    if (channelMarginal(p, i, mid) > lambda) a = mid;
    else b = mid;
  }
  return 0.5 * (a + b);
}

/**
 * KKT step from a starting point: channels whose curve rises and that sit on the concave part of
 * it (spend ≥ inflection) share one marginal λ, clipped to their bounds; the rest (convex part,
 * flat or falling curves) stay where the start put them. Returns null when no λ fits the budget.
 */
export function kktRefine(
  p: AllocationProblem,
  start: readonly number[],
): { x: number[]; lambda: number } | null {
  const n = start.length;
  const free: { i: number; lo: number; hi: number }[] = [];
  let fixedSum = 0;
  for (let i = 0; i < n; i++) {
    const c = p.curves[i];
    const infl = channelInflection(p, i);
    const lo = Math.max(p.lower[i], infl);
    if (curveRises(c) && start[i] >= lo && lo < p.upper[i]) free.push({ i, lo, hi: p.upper[i] });
    else fixedSum += start[i];
  }
  if (free.length === 0) return null;
  const target = p.budget - fixedSum;
  const loSum = free.reduce((a, f) => a + f.lo, 0);
  const hiSum = free.reduce((a, f) => a + f.hi, 0);
  if (target < loSum || target > hiSum) return null;
  const xs = (lambda: number) => free.map((f) => inverseMarginal(p, f.i, lambda, f.lo, f.hi));
  const sumAt = (lambda: number) => xs(lambda).reduce((a, b) => a + b, 0);
  // λ upper end: the largest marginal at a free channel's low end (finite stand-in for ∞ at 0)
  let lamHi = 0;
  for (const f of free) {
    let m = channelMarginal(p, f.i, f.lo);
    if (!Number.isFinite(m)) m = channelMarginal(p, f.i, f.lo + 1e-12 * p.budget);
    lamHi = Math.max(lamHi, m);
  }
  let lamLo = 0;
  lamHi = lamHi * 2 + 1e-300;
  for (let it = 0; it < 300; it++) {
    const mid = lamLo > 0 ? Math.sqrt(lamLo * lamHi) : 0.5 * (lamLo + lamHi);
    if (mid === lamLo || mid === lamHi) break;
    if (sumAt(mid) > target) lamLo = mid;
    else lamHi = mid;
  }
  const lambda = 0.5 * (lamLo + lamHi);
  const xf = xs(lambda);
  const x = start.slice();
  free.forEach((f, k) => (x[f.i] = xf[k]));
  return { x: fixResidual(p, x), lambda };
}

/** DP, then KKT and polish; keeps the best feasible point. */
export function optimizeGlobal(p: AllocationProblem, gridSteps?: number): GlobalSolution {
  const G = gridSteps ?? defaultGridSteps(p.curves.length);
  const xDp = fixResidual(p, dpAllocate(p, G));
  let best: GlobalSolution = { x: xDp, gridSteps: G, lambda: null, stage: 'dp' };
  let bestF = totalResponse(p, xDp);
  const consider = (x: number[], stage: GlobalSolution['stage'], lambda: number | null) => {
    const f = totalResponse(p, x);
    if (f > bestF) {
      bestF = f;
      best = { x, gridSteps: G, lambda, stage };
    }
  };
  const polished = pairwisePolish(p, xDp);
  consider(polished, 'polish', null);
  for (const start of [xDp, polished]) {
    const k = kktRefine(p, start);
    if (k) consider(k.x, 'kkt', k.lambda);
  }
  return best;
}
