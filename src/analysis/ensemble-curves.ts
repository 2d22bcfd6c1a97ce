/**
 * An ensemble's response curves and budget: each member's model-implied curves (the same
 * scenarios run through each member), their mean response at every multiplier with a 90 %
 * interval (src/analysis/intervals.ts), and a Hill fit of the mean, which is what the optimizer
 * allocates on: the sum over channels of mean curves is the members' mean total response, so the
 * allocation maximises the ensemble's mean response. How much the recommendation itself depends
 * on the member is the spread of each member's own optimal allocation.
 */
import type { FittedMMM } from '../model/fitted.js';
import {
  BudgetOptimizer,
  type ChannelConstraint,
  type OptimizerMethod,
} from './budget-optimizer.js';
import type { HillCurve } from './response-curves.js';
import {
  INTERVAL_LEVEL,
  memberInterval,
  memberIntervals,
  type MemberInterval,
} from './intervals.js';
import {
  checkPlanWithModel,
  curvesResult,
  modelImpliedCurves,
  planCheckOf,
  planMultipliers,
  ScenarioRunner,
  simulatedCurve,
  type ModelCurveOptions,
  type ModelCurves,
  type PlanCheck,
} from './model-response.js';

export interface EnsembleCurves {
  /** the mean curves, with `responseLo`/`responseHi` on each channel for K ≥ 2 */
  curves: ModelCurves;
  /** each member's own curves (K of them) */
  members: ModelCurves[];
}

/** Every member's curves and their mean (one member: its own curves, no bounds). */
export async function ensembleModelCurves(
  members: readonly FittedMMM[],
  opts: ModelCurveOptions = {},
  runners: readonly (ScenarioRunner | undefined)[] = [],
  level = INTERVAL_LEVEL,
): Promise<EnsembleCurves> {
  if (members.length === 0) throw new Error('causalmix: an ensemble needs at least one member');
  const each: ModelCurves[] = [];
  for (let k = 0; k < members.length; k++)
    each.push(await modelImpliedCurves(members[k], opts, runners[k]));
  if (each.length === 1) return { curves: each[0], members: each };
  const first = each[0];
  const channels = first.channels.map((s, i) => {
    const all = each.map((m) => m.channels[i]);
    if (all.some((m) => m.channel !== s.channel))
      throw new Error('causalmix: ensemble members simulated different channels');
    const iv = memberIntervals(
      all.map((m) => m.response),
      level,
    );
    const mean = simulatedCurve({
      channel: s.channel,
      multipliers: s.multipliers,
      input: s.input,
      response: iv.map((v) => v.mean),
      windowWeeks: first.windowWeeks,
      unit: first.unit,
      tailWeeks: Math.max(...all.map((m) => m.tailWeeks)),
      pattern: s.pattern,
    });
    return { ...mean, responseLo: iv.map((v) => v.lo), responseHi: iv.map((v) => v.hi) };
  });
  const run = {
    ...first.run,
    scenarios: each.reduce((a, m) => a + m.run.scenarios, 0),
    forwards: each.reduce((a, m) => a + m.run.forwards, 0),
    submits: each.reduce((a, m) => a + m.run.submits, 0),
    dispatches: each.reduce((a, m) => a + m.run.dispatches, 0),
    seconds: each.reduce((a, m) => a + m.run.seconds, 0),
  };
  const rest = {
    unit: first.unit,
    window: first.window,
    windowWeeks: first.windowWeeks,
    multipliers: first.multipliers,
    skipped: first.skipped,
    graphEdges: first.graphEdges,
    absoluteScaling: first.absoluteScaling,
    run,
  };
  return { curves: curvesResult(channels, rest), members: each };
}

export interface AllocationSpread {
  channel: string;
  /** each member's optimal spend for the channel (total over the horizon) */
  perMember: number[];
  interval: MemberInterval;
}

/**
 * The spread of the recommendation: each member's curves optimised for the same budget, horizon
 * and constraints; per channel the members' optimal spends and their 90 % interval.
 */
export function allocationSpread(
  memberCurves: readonly HillCurve[][],
  budget: number,
  numWeeks: number,
  opts: { constraints?: Record<string, ChannelConstraint>; method?: OptimizerMethod } = {},
  level = INTERVAL_LEVEL,
): AllocationSpread[] {
  const channels = memberCurves[0].map((c) => c.channel);
  const allocations = memberCurves.map((curves) => {
    const optimizer = new BudgetOptimizer(budget, channels, curves, {
      numWeeks,
      ...(opts.method ? { method: opts.method } : {}),
    });
    if (opts.constraints) optimizer.setConstraints(opts.constraints);
    return optimizer.optimize().allocation;
  });
  return channels.map((channel) => {
    const perMember = allocations.map((a) => a[channel] ?? 0);
    return { channel, perMember, interval: memberInterval(perMember, level) };
  });
}

/**
 * The plan run through every member (each runner is one member's): the model's response is the
 * members' mean, against the mean curves' prediction.
 */
export async function checkPlanWithMembers(
  runners: readonly ScenarioRunner[],
  allocation: Record<string, number>,
  numWeeks: number,
  curveResponse: number,
): Promise<PlanCheck> {
  if (runners.length === 1)
    return checkPlanWithModel(runners[0], allocation, numWeeks, curveResponse);
  const m = planMultipliers(runners[0], allocation, numWeeks);
  let sum = 0;
  let stats;
  for (const r of runners) {
    const out = await r.planResponse(m);
    sum += (out.response * numWeeks) / r.windowWeeks;
    stats ??= out.stats;
  }
  return planCheckOf(runners[0], m, sum / runners.length, curveResponse, stats!);
}

/** One line per channel: the members' optimal spends (mean and 90 % interval). */
export function formatAllocationSpread(
  spread: readonly AllocationSpread[],
  unit: string,
): string[] {
  const f = (v: number) => new Intl.NumberFormat('en', { maximumSignificantDigits: 3 }).format(v);
  return [
    `each member's own optimal mix (${unit}, mean and ${Math.round(100 * INTERVAL_LEVEL)} % interval across members):`,
    ...spread.map(
      (s) =>
        `  ${s.channel}: ${f(s.interval.mean)} (${f(Math.max(0, s.interval.lo))}–${f(s.interval.hi)})`,
    ),
  ];
}
