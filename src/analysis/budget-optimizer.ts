/**
 * Budget optimisation over an N-week horizon from per-channel Hill response curves
 * (model-spec §10; upstream `BudgetOptimizer`). Methods: 'global' (grid DP + KKT, default),
 * 'local' (projected gradient from an equal split) and 'de' (seeded differential evolution).
 * Upstream's method names are accepted as aliases. Constraint rules follow upstream's
 * set_constraints: default [0, budget]; upper capped at the budget; lower > upper → lower reset
 * to 0 with a warning; upper 0 is an error. Unlike upstream an unknown channel name is an error.
 */
import { DataError } from '../data/errors.js';
import type { CurveUnit, HillCurve, HillParams } from './response-curves.js';
import { curveMarginal, curveResponse, curveRises, isInterpolated } from './response-curves.js';
import { rowsToCsv, type Table } from './table.js';
import type { AllocationProblem } from './optimizer-problem.js';
import { isFeasible, totalResponse } from './optimizer-problem.js';
import { optimizeGlobal } from './optimizer-global.js';
import { optimizeLocal } from './optimizer-local.js';
import { optimizeDe } from './optimizer-de.js';

/** 'model': projected gradient ascent through the trained model (model-response.ts), not here */
export type OptimizerMethod = 'global' | 'local' | 'de' | 'model';

const METHOD_ALIASES: Record<string, OptimizerMethod> = {
  global: 'global',
  hybrid: 'global',
  local: 'local',
  'trust-constr': 'local',
  SLSQP: 'local',
  de: 'de',
  differential_evolution: 'de',
};

export interface BudgetOptimizerOptions {
  /** planning horizon in weeks (default 52) */
  numWeeks?: number;
  /** 'global' (default), 'local', 'de', or upstream's 'trust-constr' | 'SLSQP' (→ local),
   * 'differential_evolution' (→ de), 'hybrid' (→ global) */
  method?: string;
  /** DE seed (default 42, as upstream) */
  seed?: number;
  /** DP grid steps for 'global' (default 4000, fewer for many channels) */
  gridSteps?: number;
  /** what the budget measures; defaults to the curves' unit */
  unit?: CurveUnit;
  /**
   * Curves with simulated points ('simulated' curves) are known only up to their largest point
   * (3× the current input): by default such a channel's upper bound is that point × numWeeks
   * (unless the bounds together cannot hold the budget). false: [0, budget] as for other curves.
   */
  boundToCurveRange?: boolean;
}

export interface ChannelConstraint {
  lower?: number;
  upper?: number;
}

export interface ChannelAllocation {
  channel: string;
  totalSpend: number;
  weeklySpend: number;
  weeklyResponse: number;
  totalResponse: number;
  /** totalResponse / totalSpend (0 at zero spend) */
  roi: number;
  /** fraction of the budget, 0–1 */
  spendShare: number;
  /** fraction of the total response, 0–1 (0 when the total is not positive) */
  responseShare: number;
  /** the curve's half-saturation weekly spend */
  saturationPoint: number;
  /** weekly spend as a percentage of the saturation point */
  pctOfSaturation: number;
  slope: number;
  /** extra total response per extra unit of total spend at this allocation (mROAS) */
  marginalRoi: number;
  /** what the optimizer evaluated: the Hill equation or the interpolation of simulated points */
  curve: 'hill' | 'interpolation';
  lower: number;
  upper: number;
  bindsLower: boolean;
  bindsUpper: boolean;
}

export interface OptimizationResult {
  success: boolean;
  method: OptimizerMethod;
  message: string;
  allocation: Record<string, number>;
  predictedResponse: number;
  /** per-channel detail, largest spend first (upstream's order) */
  byChannel: ChannelAllocation[];
  warnings: string[];
  /** how the curves were used (interpolated channels, bounds from the simulated range) */
  notes: string[];
  budget: number;
  numWeeks: number;
  unit: CurveUnit;
}

export interface ScenarioRow {
  scenario: string;
  totalSpend: number;
  totalResponse: number;
  roi: number;
  allocation: Record<string, number>;
}

export interface CurrentComparisonRow {
  channel: string;
  currentSpend: number;
  optimalSpend: number;
  spendDelta: number;
  /** percent change of spend (0 when current spend is 0) */
  spendDeltaPct: number;
  currentResponse: number;
  optimalResponse: number;
  responseDelta: number;
  currentRoi: number;
  optimalRoi: number;
}

export interface CurrentComparison extends Table<CurrentComparisonRow> {
  totals: {
    currentSpend: number;
    optimalSpend: number;
    currentResponse: number;
    optimalResponse: number;
    responseLift: number;
    /** percent (0 when the current response is 0) */
    responseLiftPct: number;
  };
}

const ALLOCATION_COLUMNS = [
  'channel',
  'totalSpend',
  'weeklySpend',
  'weeklyResponse',
  'totalResponse',
  'roi',
  'spendShare',
  'responseShare',
  'saturationPoint',
  'pctOfSaturation',
  'slope',
  'marginalRoi',
  'curve',
  'lower',
  'upper',
  'bindsLower',
  'bindsUpper',
] as const;

/** CSV of a result's per-channel table. */
export function allocationToCsv(result: OptimizationResult): string {
  return rowsToCsv(result.byChannel, ALLOCATION_COLUMNS);
}

function checkFinite(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new DataError(`BudgetOptimizer: ${what} must be a finite number, got ${String(v)}`);
  }
  return v;
}

export class BudgetOptimizer {
  readonly budget: number;
  readonly channels: readonly string[];
  readonly numWeeks: number;
  readonly method: OptimizerMethod;
  readonly unit: CurveUnit;
  private readonly curves: HillParams[];
  private readonly seed: number;
  private readonly gridSteps?: number;
  private lower: number[];
  private upper: number[];
  /** the default upper bound per channel (the budget, or the simulated range of its curve) */
  private readonly defaultUpper: number[];
  private readonly baseWarnings: string[] = [];
  private constraintWarnings: string[] = [];
  private lastResult: OptimizationResult | null = null;

  constructor(
    budget: number,
    channels: readonly string[],
    curves: Record<string, HillParams> | readonly HillCurve[],
    opts: BudgetOptimizerOptions = {},
  ) {
    this.budget = checkFinite(budget, 'budget');
    if (!(budget > 0)) throw new DataError(`BudgetOptimizer: budget must be > 0, got ${budget}`);
    if (channels.length === 0) throw new DataError('BudgetOptimizer: no channels given');
    const seen = new Set<string>();
    for (const c of channels) {
      if (seen.has(c)) throw new DataError(`BudgetOptimizer: channel "${c}" is listed twice`);
      seen.add(c);
    }
    this.channels = channels.slice();
    const numWeeks = opts.numWeeks ?? 52;
    if (!Number.isInteger(numWeeks) || numWeeks < 1) {
      throw new DataError(`BudgetOptimizer: numWeeks must be a positive integer, got ${numWeeks}`);
    }
    this.numWeeks = numWeeks;
    const method = METHOD_ALIASES[opts.method ?? 'global'];
    if (opts.method === 'model')
      throw new DataError(
        "BudgetOptimizer: method 'model' runs through the trained model: use optimizeWithModel (model-response.ts)",
      );
    if (method === undefined) {
      throw new DataError(
        `BudgetOptimizer: unknown method "${opts.method}" (use ${Object.keys(METHOD_ALIASES).join(', ')})`,
      );
    }
    this.method = method;
    this.seed = opts.seed ?? 42;
    if (
      opts.gridSteps !== undefined &&
      !(Number.isInteger(opts.gridSteps) && opts.gridSteps >= 10)
    ) {
      throw new DataError(
        `BudgetOptimizer: gridSteps must be an integer ≥ 10, got ${opts.gridSteps}`,
      );
    }
    this.gridSteps = opts.gridSteps;

    const byName = new Map<string, HillParams & { unit?: CurveUnit }>();
    if (Array.isArray(curves)) {
      for (const c of curves as readonly HillCurve[]) byName.set(c.channel, c);
    } else {
      for (const [k, c] of Object.entries(curves as Record<string, HillParams>)) byName.set(k, c);
    }
    const units = new Set<CurveUnit>();
    this.curves = this.channels.map((ch) => {
      const c = byName.get(ch);
      if (c === undefined)
        throw new DataError(`BudgetOptimizer: no response curve for channel "${ch}"`);
      for (const key of ['top', 'bottom', 'saturation', 'slope'] as const) {
        checkFinite(c[key], `curve "${key}" of channel "${ch}"`);
      }
      if (!(c.saturation > 0) || !(c.slope > 0)) {
        throw new DataError(`BudgetOptimizer: channel "${ch}" needs saturation > 0 and slope > 0`);
      }
      if (!curveRises(c)) {
        this.baseWarnings.push(
          isInterpolated(c)
            ? `channel "${ch}": its simulated response does not rise, so spend there adds nothing`
            : `channel "${ch}": its curve does not rise (top ${c.top} ≤ bottom ${c.bottom}), so spend there adds nothing`,
        );
      }
      if (c.unit) units.add(c.unit);
      const out: HillParams = {
        top: c.top,
        bottom: c.bottom,
        saturation: c.saturation,
        slope: c.slope,
      };
      if (c.samples) {
        const { x, y } = c.samples;
        if (x.length !== y.length || x.length < 2 || ![...x, ...y].every(Number.isFinite))
          throw new DataError(`BudgetOptimizer: channel "${ch}" has bad curve samples`);
        out.samples = c.samples;
      }
      if (c.use === 'interpolation') {
        if (!c.samples)
          throw new DataError(
            `BudgetOptimizer: channel "${ch}" is to be interpolated but has no samples`,
          );
        out.use = 'interpolation';
      }
      return out;
    });
    if (units.size > 1) {
      this.baseWarnings.push(
        'curves mix spend and impressions; the budget adds unlike units (give costs per impression)',
      );
    }
    this.unit = opts.unit ?? (units.has('impressions') ? 'impressions' : 'spend');
    if (this.unit === 'impressions') {
      this.baseWarnings.push(
        'no cost per impression: budget, spend and ROI are in impressions, not money',
      );
    }
    const ranged = opts.boundToCurveRange !== false;
    const upper = this.curves.map((c) =>
      ranged && c.samples
        ? Math.min(this.budget, Math.max(...c.samples.x) * numWeeks)
        : this.budget,
    );
    if (upper.some((u) => u < this.budget)) {
      if (upper.reduce((a, b) => a + b, 0) < this.budget * (1 - 1e-12)) {
        upper.fill(this.budget);
        this.baseWarnings.push(
          'the budget is more than the simulated curves cover together (each up to 3× its current ' +
            'input): their ends are extrapolated as straight lines',
        );
      }
    }
    this.defaultUpper = upper;
    this.lower = this.channels.map(() => 0);
    this.upper = upper.slice();
  }

  /**
   * Per-channel bounds by channel name; channels not named get [0, budget] (or [0, the curve's
   * simulated range], see boundToCurveRange; the call replaces any earlier constraints, as
   * upstream).
   */
  setConstraints(constraints: Record<string, ChannelConstraint>): void {
    for (const name of Object.keys(constraints)) {
      if (!this.channels.includes(name)) {
        throw new DataError(
          `setConstraints: unknown channel "${name}" (channels: ${this.channels.join(', ')})`,
        );
      }
    }
    const lower: number[] = [];
    const upper: number[] = [];
    const zeroUpper: string[] = [];
    for (const [i, ch] of this.channels.entries()) {
      const c = constraints[ch] ?? {};
      const lo = c.lower === undefined ? 0 : checkFinite(c.lower, `lower bound of channel "${ch}"`);
      const hi =
        c.upper === undefined
          ? this.defaultUpper[i]
          : checkFinite(c.upper, `upper bound of channel "${ch}"`);
      if (lo < 0)
        throw new DataError(`setConstraints: lower bound of channel "${ch}" is negative (${lo})`);
      if (hi < 0)
        throw new DataError(`setConstraints: upper bound of channel "${ch}" is negative (${hi})`);
      if (hi === 0) zeroUpper.push(ch);
      lower.push(lo);
      upper.push(hi);
    }
    if (zeroUpper.length > 0) {
      throw new DataError(
        `setConstraints: upper bound cannot be 0 (the channel could not be used) for channel(s): ${zeroUpper.join(', ')}`,
      );
    }
    const warnings: string[] = [];
    this.channels.forEach((ch, i) => {
      upper[i] = Math.min(upper[i], this.budget);
      if (lower[i] > upper[i]) {
        warnings.push(
          `channel "${ch}": lower bound ${lower[i]} exceeds upper bound ${upper[i]}; lower reset to 0`,
        );
        lower[i] = 0;
      }
    });
    this.lower = lower;
    this.upper = upper;
    this.constraintWarnings = warnings;
  }

  /** The bounds in force, by channel. */
  get bounds(): Record<string, { lower: number; upper: number }> {
    const out: Record<string, { lower: number; upper: number }> = {};
    this.channels.forEach((ch, i) => (out[ch] = { lower: this.lower[i], upper: this.upper[i] }));
    return out;
  }

  private problem(): AllocationProblem {
    return {
      budget: this.budget,
      numWeeks: this.numWeeks,
      curves: this.curves,
      lower: this.lower,
      upper: this.upper,
    };
  }

  /** Total response over the horizon of an allocation (total spend per channel). */
  predictResponse(allocation: Record<string, number>): number {
    return totalResponse(this.problem(), this.allocationVector(allocation, 'allocation'));
  }

  /** Channels missing from an allocation count as 0; unknown or bad values are errors. */
  private allocationVector(allocation: Record<string, number>, what: string): number[] {
    for (const [name, v] of Object.entries(allocation)) {
      if (!this.channels.includes(name)) {
        throw new DataError(
          `${what}: unknown channel "${name}" (channels: ${this.channels.join(', ')})`,
        );
      }
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new DataError(
          `${what}: spend for channel "${name}" must be a finite number ≥ 0, got ${v}`,
        );
      }
    }
    return this.channels.map((ch) => allocation[ch] ?? 0);
  }

  /** How the curves are used: interpolated channels, and bounds set by the simulated range. */
  curveNotes(): string[] {
    const notes: string[] = [];
    const interp = this.channels.filter((_, i) => isInterpolated(this.curves[i]));
    if (interp.length > 0)
      notes.push(
        `${interp.join(', ')}: the Hill fit of the simulated points has R² below 0.99, so the ` +
          'optimizer follows a monotone interpolation of the points',
      );
    const ranged = this.channels.filter(
      (_, i) =>
        this.curves[i].samples &&
        this.upper[i] === this.defaultUpper[i] &&
        this.upper[i] < this.budget,
    );
    if (ranged.length > 0)
      notes.push(
        `upper bounds of ${ranged.join(', ')}: the simulated range of the curve (3× the current ` +
          'input); pass constraints to go beyond it',
      );
    return notes;
  }

  optimize(): OptimizationResult {
    const p = this.problem();
    const warnings = [...this.baseWarnings, ...this.constraintWarnings];
    const base = {
      method: this.method,
      budget: this.budget,
      numWeeks: this.numWeeks,
      unit: this.unit,
      notes: this.curveNotes(),
    };
    if (!isFeasible(p)) {
      const loSum = this.lower.reduce((a, b) => a + b, 0);
      const hiSum = this.upper.reduce((a, b) => a + b, 0);
      const message =
        loSum > this.budget
          ? `infeasible constraints: lower bounds sum to ${loSum}, more than the budget ${this.budget}`
          : `infeasible constraints: upper bounds sum to ${hiSum}, less than the budget ${this.budget}`;
      const result: OptimizationResult = {
        ...base,
        success: false,
        message,
        allocation: Object.fromEntries(this.channels.map((c) => [c, 0])),
        predictedResponse: 0,
        byChannel: [],
        warnings,
      };
      this.lastResult = result;
      return result;
    }
    let x: number[];
    let message: string;
    if (this.method === 'global') {
      const g = optimizeGlobal(p, this.gridSteps);
      x = g.x;
      message =
        `dynamic programming on a ${g.gridSteps}-step budget grid, kept after ${g.stage}` +
        (g.lambda !== null ? ` (common marginal response ${g.lambda.toPrecision(6)})` : '');
    } else if (this.method === 'local') {
      const l = optimizeLocal(p);
      x = l.x;
      message = `projected gradient from an equal split: ${l.iterations} iterations${l.converged ? '' : ' (iteration limit reached)'}`;
    } else {
      const d = optimizeDe(p, { seed: this.seed });
      x = d.x;
      message = `differential evolution (seed ${this.seed}): ${d.generations} generations${d.converged ? '' : ' (generation limit reached)'}, then local polish`;
    }
    const result: OptimizationResult = {
      ...base,
      success: true,
      message,
      allocation: Object.fromEntries(this.channels.map((c, i) => [c, x[i]])),
      predictedResponse: totalResponse(p, x),
      byChannel: this.channelRows(x),
      warnings,
    };
    this.lastResult = result;
    return result;
  }

  /**
   * A result for an allocation found elsewhere (e.g. through the model): the curves' response and
   * the per-channel detail of that allocation, under this optimizer's bounds.
   */
  resultFor(
    allocation: Record<string, number>,
    method: OptimizerMethod,
    message: string,
  ): OptimizationResult {
    const x = this.allocationVector(allocation, 'allocation');
    const result: OptimizationResult = {
      success: true,
      method,
      message,
      allocation: Object.fromEntries(this.channels.map((c, i) => [c, x[i]])),
      predictedResponse: totalResponse(this.problem(), x),
      byChannel: this.channelRows(x),
      warnings: [...this.baseWarnings, ...this.constraintWarnings],
      notes: this.curveNotes(),
      budget: this.budget,
      numWeeks: this.numWeeks,
      unit: this.unit,
    };
    this.lastResult = result;
    return result;
  }

  private channelRows(x: readonly number[]): ChannelAllocation[] {
    const N = this.numWeeks;
    const tol = 1e-9 * this.budget;
    const rows = this.channels.map((channel, i) => {
      const c = this.curves[i];
      const weeklySpend = x[i] / N;
      const weeklyResponse = curveResponse(c, weeklySpend);
      const total = weeklyResponse * N;
      return {
        channel,
        totalSpend: x[i],
        weeklySpend,
        weeklyResponse,
        totalResponse: total,
        roi: x[i] > 0 ? total / x[i] : 0,
        spendShare: x[i] / this.budget,
        responseShare: 0,
        saturationPoint: c.saturation,
        pctOfSaturation: (weeklySpend / c.saturation) * 100,
        slope: c.slope,
        marginalRoi: curveMarginal(c, weeklySpend),
        curve: isInterpolated(c) ? ('interpolation' as const) : ('hill' as const),
        lower: this.lower[i],
        upper: this.upper[i],
        bindsLower: x[i] <= this.lower[i] + tol,
        bindsUpper: x[i] >= this.upper[i] - tol,
      };
    });
    const sum = rows.reduce((a, r) => a + r.totalResponse, 0);
    if (sum > 0) for (const r of rows) r.responseShare = r.totalResponse / sum;
    return rows.sort((a, b) => b.totalSpend - a.totalSpend);
  }

  /** Response and ROI of named allocations (missing channels count as 0 spend). */
  compareScenarios(scenarios: Record<string, Record<string, number>>): Table<ScenarioRow> {
    const p = this.problem();
    const rows: ScenarioRow[] = Object.entries(scenarios).map(([scenario, alloc]) => {
      const x = this.allocationVector(alloc, `scenario "${scenario}"`);
      const totalSpend = x.reduce((a, b) => a + b, 0);
      const total = totalResponse(p, x);
      return {
        scenario,
        totalSpend,
        totalResponse: total,
        roi: totalSpend > 0 ? total / totalSpend : 0,
        allocation: Object.fromEntries(this.channels.map((c, i) => [c, x[i]])),
      };
    });
    const columns = ['scenario', 'totalSpend', 'totalResponse', 'roi', ...this.channels];
    return {
      rows,
      toCsv: () =>
        rowsToCsv(
          rows.map((r) => ({ ...r.allocation, ...r, allocation: undefined })),
          columns,
        ),
    };
  }

  /** Current allocation against an optimised one (the last optimize() result, run if none). */
  compareWithCurrent(
    current: Record<string, number>,
    result: OptimizationResult | null = this.lastResult,
  ): CurrentComparison {
    const opt = result ?? this.optimize();
    const x = this.allocationVector(current, 'current allocation');
    const p = this.problem();
    const N = this.numWeeks;
    const rows: CurrentComparisonRow[] = this.channels.map((channel, i) => {
      const c = this.curves[i];
      const currentSpend = x[i];
      const optimalSpend = opt.allocation[channel] ?? 0;
      const currentResponse = N * curveResponse(c, currentSpend / N);
      const optimalResponse = N * curveResponse(c, optimalSpend / N);
      return {
        channel,
        currentSpend,
        optimalSpend,
        spendDelta: optimalSpend - currentSpend,
        spendDeltaPct: currentSpend > 0 ? ((optimalSpend - currentSpend) / currentSpend) * 100 : 0,
        currentResponse,
        optimalResponse,
        responseDelta: optimalResponse - currentResponse,
        currentRoi: currentSpend > 0 ? currentResponse / currentSpend : 0,
        optimalRoi: optimalSpend > 0 ? optimalResponse / optimalSpend : 0,
      };
    });
    rows.sort((a, b) => b.optimalSpend - a.optimalSpend);
    const currentResponse = totalResponse(p, x);
    const optimalResponse = rows.reduce((a, r) => a + r.optimalResponse, 0);
    const columns = [
      'channel',
      'currentSpend',
      'optimalSpend',
      'spendDelta',
      'spendDeltaPct',
      'currentResponse',
      'optimalResponse',
      'responseDelta',
      'currentRoi',
      'optimalRoi',
    ];
    return {
      rows,
      totals: {
        currentSpend: x.reduce((a, b) => a + b, 0),
        optimalSpend: rows.reduce((a, r) => a + r.optimalSpend, 0),
        currentResponse,
        optimalResponse,
        responseLift: optimalResponse - currentResponse,
        responseLiftPct:
          currentResponse !== 0
            ? ((optimalResponse - currentResponse) / Math.abs(currentResponse)) * 100
            : 0,
      },
      toCsv: () => rowsToCsv(rows, columns),
    };
  }
}

export interface OptimizeFromCurvesOptions extends BudgetOptimizerOptions {
  /** channels to optimise over (default: every curve given, in order) */
  channels?: string[];
  constraints?: Record<string, ChannelConstraint>;
}

/** One call: build the optimiser from curves, apply constraints, optimise. */
export function optimizeBudgetFromCurves(
  budget: number,
  curves: Record<string, HillParams> | readonly HillCurve[],
  opts: OptimizeFromCurvesOptions = {},
): OptimizationResult {
  const channels =
    opts.channels ??
    (Array.isArray(curves)
      ? (curves as readonly HillCurve[]).map((c) => c.channel)
      : Object.keys(curves as Record<string, HillParams>));
  const optimizer = new BudgetOptimizer(budget, channels, curves, opts);
  if (opts.constraints) optimizer.setConstraints(opts.constraints);
  return optimizer.optimize();
}

export { formatOptimizationReport } from './optimizer-report.js';
export type { OptimizationReportOptions } from './optimizer-report.js';
