/**
 * Local budget allocation, the counterpart of upstream's SLSQP / trust-constr runs: projected
 * gradient ascent from an equal split (projected onto the bounds and the budget), with a
 * backtracking step, then the pairwise polish. On S-shaped curves it can stop at a poor
 * stationary point; that is what 'global' is for.
 */
import type { AllocationProblem } from './optimizer-problem.js';
import {
  channelMarginal,
  pairwisePolish,
  projectOntoBudget,
  totalResponse,
} from './optimizer-problem.js';

export interface LocalSolution {
  x: number[];
  iterations: number;
  converged: boolean;
}

/** Equal split of the budget, projected onto the bounds (upstream's starting point). */
export function equalSplit(p: AllocationProblem): number[] {
  const n = p.curves.length;
  return projectOntoBudget(p, new Array<number>(n).fill(p.budget / n));
}

/** Gradient with ∞ (slope < 1 at 0 spend) replaced by the marginal a hair above 0. */
function gradient(p: AllocationProblem, x: readonly number[]): number[] {
  return x.map((xi, i) => {
    const m = channelMarginal(p, i, xi);
    return Number.isFinite(m) ? m : channelMarginal(p, i, xi + 1e-9 * p.budget);
  });
}

export function projectedGradient(
  p: AllocationProblem,
  x0: readonly number[],
  maxIterations = 2000,
): LocalSolution {
  let x = x0.slice();
  let f = totalResponse(p, x);
  const tol = 1e-10 * Math.max(1, p.budget);
  let step = 0;
  let converged = false;
  let it = 0;
  for (; it < maxIterations; it++) {
    const g = gradient(p, x);
    const gMax = Math.max(...g.map(Math.abs));
    if (!(gMax > 0)) {
      converged = true;
      break;
    }
    if (step === 0) step = (0.1 * p.budget) / gMax;
    let accepted = false;
    let moved = 0;
    for (let back = 0; back < 60; back++) {
      const y = projectOntoBudget(
        p,
        x.map((xi, i) => xi + step * g[i]),
      );
      let dir = 0;
      moved = 0;
      for (let i = 0; i < y.length; i++) {
        dir += g[i] * (y[i] - x[i]);
        moved = Math.max(moved, Math.abs(y[i] - x[i]));
      }
      const fy = totalResponse(p, y);
      if (moved <= tol) break;
      if (fy >= f + 1e-4 * dir) {
        x = y;
        f = fy;
        accepted = true;
        break;
      }
      step /= 2;
    }
    if (!accepted || moved <= tol) {
      converged = true;
      break;
    }
    step *= 2;
  }
  return { x, iterations: it, converged };
}

/** Projected gradient from an equal split, then the pairwise polish. */
export function optimizeLocal(p: AllocationProblem): LocalSolution {
  const pg = projectedGradient(p, equalSplit(p));
  const x = pairwisePolish(p, pg.x);
  return { ...pg, x: totalResponse(p, x) >= totalResponse(p, pg.x) ? x : pg.x };
}
