/**
 * Differential evolution (rand/1/bin by default; upstream's scipy call uses best/1/bin, which
 * collapses onto a corner of the budget simplex within a few generations here), seeded so the
 * same seed gives the same allocation. Every trial vector is repaired by projecting it onto the budget simplex
 * with bounds, so the whole population stays feasible; the best member is then polished locally.
 */
import { Rng } from '../engine/random.js';
import type { AllocationProblem } from './optimizer-problem.js';
import { pairwisePolish, projectOntoBudget, totalResponse } from './optimizer-problem.js';
import { projectedGradient } from './optimizer-local.js';

export interface DeOptions {
  seed?: number;
  /** population = popSize · channels (at least 10) */
  popSize?: number;
  maxGenerations?: number;
  /** stop when the spread of the population's objective is below tol · |mean| */
  tol?: number;
  /** crossover probability */
  recombination?: number;
  /** mutation base: 'rand1bin' explores more, 'best1bin' (upstream's) converges faster */
  strategy?: 'rand1bin' | 'best1bin';
}

export interface DeSolution {
  x: number[];
  generations: number;
  converged: boolean;
}

export function optimizeDe(p: AllocationProblem, opts: DeOptions = {}): DeSolution {
  const n = p.curves.length;
  const rng = new Rng(opts.seed ?? 42);
  const np = Math.max(10, (opts.popSize ?? 15) * n);
  const maxGen = opts.maxGenerations ?? 1000;
  const tol = opts.tol ?? 1e-8;
  const cr = opts.recombination ?? 0.7;
  const strategy = opts.strategy ?? 'rand1bin';
  const pop: number[][] = [];
  const fit: number[] = [];
  for (let k = 0; k < np; k++) {
    // uniform on the simplex above the lower bounds (Dirichlet(1) weights), then repaired for the
    // upper bounds; uniform boxes projected onto the budget pile up on the simplex's corners
    const w = Array.from({ length: n }, () => -Math.log(1 - rng.uniform()));
    const ws = w.reduce((a, b) => a + b, 0);
    const free = p.budget - p.lower.reduce((a, b) => a + b, 0);
    const x = projectOntoBudget(
      p,
      w.map((wi, i) => p.lower[i] + (free * wi) / ws),
    );
    pop.push(x);
    fit.push(totalResponse(p, x));
  }
  let best = fit.indexOf(Math.max(...fit));
  let gen = 0;
  let converged = false;
  const pick = (exclude: number[]) => {
    for (;;) {
      const r = Math.floor(rng.uniform() * np);
      if (!exclude.includes(r)) return r;
    }
  };
  for (; gen < maxGen; gen++) {
    const F = 0.5 + 0.5 * rng.uniform(); // dithered mutation, as scipy's default (0.5, 1)
    for (let k = 0; k < np; k++) {
      const r0 = strategy === 'best1bin' ? best : pick([k]);
      const r1 = pick([k, r0]);
      const r2 = pick([k, r0, r1]);
      const jRand = Math.floor(rng.uniform() * n);
      const trial = pop[k].slice();
      for (let i = 0; i < n; i++) {
        if (i === jRand || rng.uniform() < cr) {
          trial[i] = pop[r0][i] + F * (pop[r1][i] - pop[r2][i]);
        }
      }
      const x = projectOntoBudget(p, trial);
      const fx = totalResponse(p, x);
      if (fx >= fit[k]) {
        pop[k] = x;
        fit[k] = fx;
        if (fx > fit[best]) best = k;
      }
    }
    const mean = fit.reduce((a, b) => a + b, 0) / np;
    const sd = Math.sqrt(fit.reduce((a, b) => a + (b - mean) ** 2, 0) / np);
    if (sd <= tol * Math.abs(mean)) {
      converged = true;
      gen++;
      break;
    }
  }
  const pg = projectedGradient(p, pop[best], 500).x;
  const polished = pairwisePolish(p, pg);
  const candidates = [pop[best], pg, polished];
  const fs = candidates.map((c) => totalResponse(p, c));
  const x = candidates[fs.indexOf(Math.max(...fs))];
  return { x, generations: gen, converged };
}
