/**
 * The truth check of budget recommendations (issue 13): a recovery panel's true process
 * (src/recovery/generator.ts) evaluates the incremental media response of a plan over the planning
 * window, so a model's recommended plan can be set beside the true optimum for the same budget and
 * bounds and beside the current mix.
 *
 * A plan multiplies each channel's own input over the window (the last N weeks of the data) by
 * m_c; its spend is m_c × the channel's window spend. The response counts every channel's true
 * effect from the window's start until carry-over has run out (the kernels reach 8 weeks, an edge's
 * 8 more), against every channel at 0 over the window; weeks after the data get no input. A
 * media→media edge is recomputed from the parent's planned input, so a parent's plan moves its
 * child's input as it did in the data (the induced part is not the child's to buy; its cost
 * scales with the child's own multiplier, as the model's curves assume).
 */
import type { RecoveryPanel } from './generator.js';
import { carryOver, carryWeights, saturate } from './process.js';
import type { HillParams } from '../analysis/response-curves.js';
import { optimizeGlobal } from '../analysis/optimizer-global.js';

/** Weeks after the data the true process still counts (carry-over kernels + an edge's). */
const TAIL = 16;
const EDGE_CARRY = { kind: 'geometric', alpha: 0.5, maxLag: 8 } as const;

export interface BudgetBounds {
  /** multiplier bounds per channel (default [0, 3], the model curves' range) */
  lower?: number[];
  upper?: number[];
}

export interface TruePlan {
  /** multiplier of each channel's window input */
  multipliers: number[];
  /** spend per channel over the window */
  spend: number[];
  /** true incremental media response (KPI) */
  response: number;
}

export class TrueBudgetProcess {
  readonly channels: string[];
  /** [from, W) data weeks */
  readonly from: number;
  readonly W: number;
  /** spend per channel over the window (the data's) */
  readonly windowSpend: number[];
  private readonly R: number;
  private readonly C: number;
  /** [R, W, C] own input (intensity units, the edges' induced part removed) */
  private readonly own: Float64Array;
  private readonly parents: { child: number; parent: number; k: number }[];
  private readonly order: number[];
  private readonly weights: Float64Array[];
  private readonly zeroTotal: number;

  constructor(
    readonly rp: RecoveryPanel,
    windowWeeks = 13,
  ) {
    const { panel, truth } = rp;
    const R = (this.R = panel.regions.length);
    const W = (this.W = panel.weeks.length);
    const C = (this.C = panel.channels.length);
    this.channels = [...panel.channels];
    this.from = Math.max(0, W - windowWeeks);
    const idx = new Map(this.channels.map((c, i) => [c, i]));
    this.parents = truth.edges.map((e) => ({
      child: idx.get(e.to)!,
      parent: idx.get(e.from)!,
      k: e.k,
    }));
    // parents before children
    const depth = (c: number, seen = 0): number =>
      seen > C
        ? 0
        : Math.max(
            0,
            ...this.parents.filter((p) => p.child === c).map((p) => 1 + depth(p.parent, seen + 1)),
          );
    this.order = Array.from({ length: C }, (_, c) => c).sort((a, b) => depth(a) - depth(b));
    this.weights = truth.channels.map((ch) => carryWeights(ch.carry));
    // x = impressions / (size_r · unit_c); own = x − k·carry(parent's x)
    const x = new Float64Array(R * W * C);
    for (let r = 0; r < R; r++)
      for (let t = 0; t < W; t++)
        for (let c = 0; c < C; c++)
          x[(r * W + t) * C + c] =
            panel.media[(r * W + t) * C + c] / (truth.regionSize[r] * truth.channels[c].unit);
    this.own = Float64Array.from(x);
    const edgeW = carryWeights(EDGE_CARRY);
    for (const e of this.parents)
      for (let r = 0; r < R; r++) {
        const px = Float64Array.from({ length: W }, (_, t) => x[(r * W + t) * C + e.parent]);
        const ind = carryOver(px, edgeW);
        for (let t = 0; t < W; t++) {
          const i = (r * W + t) * C + e.child;
          this.own[i] = Math.max(0, this.own[i] - e.k * ind[t]);
        }
      }
    this.windowSpend = this.channels.map((_, c) => {
      let s = 0;
      for (let r = 0; r < R; r++)
        for (let t = this.from; t < W; t++) s += panel.media[(r * W + t) * C + c];
      return s * truth.channels[c].costPerImpression;
    });
    this.zeroTotal = this.total(new Array<number>(C).fill(0));
  }

  /** Σ true media effects from the window's start to the end of the tail. */
  private total(m: readonly number[]): number {
    const { R, W, C } = this;
    const { truth } = this.rp;
    const L = W + TAIL;
    const edgeW = carryWeights(EDGE_CARRY);
    let sum = 0;
    for (let r = 0; r < R; r++) {
      const xs: Float64Array[] = new Array(C);
      for (const c of this.order) {
        const x = new Float64Array(L);
        for (let t = 0; t < W; t++)
          x[t] = this.own[(r * W + t) * C + c] * (t >= this.from ? m[c] : 1);
        for (const e of this.parents)
          if (e.child === c) {
            const ind = carryOver(xs[e.parent], edgeW);
            for (let t = 0; t < L; t++) x[t] += e.k * ind[t];
          }
        xs[c] = x;
      }
      for (let c = 0; c < C; c++) {
        const ch = truth.channels[c];
        if (ch.coef === 0) continue;
        const carried = carryOver(xs[c], this.weights[c]);
        let s = 0;
        for (let t = this.from; t < L; t++) s += saturate(ch.saturation, carried[t] / ch.kappa);
        sum += ch.coef * truth.regionLevel[r] * s;
      }
    }
    return sum;
  }

  /** True incremental media response of multipliers (against all channels at 0 in the window). */
  response(m: readonly number[]): number {
    return this.total(m) - this.zeroTotal;
  }

  plan(m: readonly number[]): TruePlan {
    return {
      multipliers: [...m],
      spend: m.map((v, c) => v * this.windowSpend[c]),
      response: this.response(m),
    };
  }

  /** Multipliers of a spend allocation over the window. */
  multipliersOf(spend: Record<string, number> | readonly number[]): number[] {
    return this.channels.map((ch, c) => {
      const s = Array.isArray(spend)
        ? (spend as readonly number[])[c]
        : (spend as Record<string, number>)[ch];
      return this.windowSpend[c] > 0 ? (s ?? 0) / this.windowSpend[c] : 0;
    });
  }

  /**
   * The true optimum for a budget (spend over the window) within multiplier bounds: dynamic
   * programming over each channel's true curve alone (301 multipliers), then pairwise exchanges of
   * spend on the exact joint process (which an edge makes non-separable) with shrinking steps.
   */
  optimum(budget: number, bounds: BudgetBounds = {}): TruePlan {
    const C = this.C;
    const S = this.windowSpend;
    const lo = bounds.lower ?? new Array<number>(C).fill(0);
    const hi = bounds.upper ?? new Array<number>(C).fill(3);
    const lower = lo.map((v, c) => v * S[c]);
    const upper = hi.map((v, c) => Math.min(v * S[c], budget));
    const G = 300;
    const curves: HillParams[] = this.channels.map((_, c) => {
      const x: number[] = [];
      const y: number[] = [];
      for (let k = 0; k <= G; k++) {
        const mc = (hi[c] * k) / G;
        const m = new Array<number>(C).fill(0);
        m[c] = mc;
        x.push(mc * S[c]);
        y.push(this.response(m));
      }
      return {
        top: 1,
        bottom: 0,
        saturation: 1,
        slope: 1,
        use: 'interpolation',
        samples: { x, y },
      };
    });
    const problem = { budget, numWeeks: 1, curves, lower, upper };
    let spend = optimizeGlobal(problem).x;
    // the separable curves' optimum, then exchanges on the joint process
    const value = (s: readonly number[]) =>
      this.response(s.map((v, c) => (S[c] > 0 ? v / S[c] : 0)));
    let best = value(spend);
    for (let step = 0.05 * budget; step > 1e-5 * budget; step /= 2) {
      let improved = true;
      for (let pass = 0; improved && pass < 50; pass++) {
        improved = false;
        for (let i = 0; i < C; i++)
          for (let j = 0; j < C; j++) {
            if (i === j) continue;
            const d = Math.min(step, upper[i] - spend[i], spend[j] - lower[j]);
            if (!(d > 0)) continue;
            const s = spend.slice();
            s[i] += d;
            s[j] -= d;
            const v = value(s);
            if (v > best) {
              best = v;
              spend = s;
              improved = true;
            }
          }
      }
    }
    return this.plan(spend.map((v, c) => (S[c] > 0 ? v / S[c] : 0)));
  }
}

export interface BudgetTruthCheck {
  budget: number;
  optimum: TruePlan;
  model: TruePlan;
  current: TruePlan;
  /** (ii)/(i) and (iii)/(i) */
  modelRatio: number;
  currentRatio: number;
}

/**
 * (i) the true optimum for the budget and bounds, (ii) the model's recommended plan (spend per
 * channel over the window), (iii) the current mix scaled to the budget, all on the true process.
 */
export function budgetTruthCheck(
  truth: TrueBudgetProcess,
  modelPlan: Record<string, number> | readonly number[],
  budget = truth.windowSpend.reduce((a, b) => a + b, 0),
  bounds: BudgetBounds = {},
): BudgetTruthCheck {
  const optimum = truth.optimum(budget, bounds);
  const model = truth.plan(truth.multipliersOf(modelPlan));
  const now = truth.windowSpend.reduce((a, b) => a + b, 0);
  const current = truth.plan(truth.channels.map(() => budget / now));
  return {
    budget,
    optimum,
    model,
    current,
    modelRatio: model.response / optimum.response,
    currentRatio: current.response / optimum.response,
  };
}
