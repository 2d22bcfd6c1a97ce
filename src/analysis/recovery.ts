/**
 * Ground-truth recovery: how a fitted model splits media contribution across channels, next to the
 * truth of a generated panel (src/data/synthetic.ts). Shares are taken over the observed training
 * weeks, where the model was fitted. The model's share comes two ways: its direct contributions
 * β·x̃ per channel, and total effects, where a channel is credited with what its DAG children
 * carry of it (what a marketer would attribute to that channel).
 */
import type { SyntheticPanelOptions } from '../data/synthetic.js';
import type { ConfigOverrides } from '../model/config.js';
import type { Decomposition, FittedMMM } from '../model/fitted.js';
import { mediaPathways } from './contributions.js';

/**
 * The recovery scenario of tests/ground-truth.test.ts and `npm run bench:truth`: 20 regions ×
 * 104 weeks × 5 channels, every channel flighted (an always-on channel's effect cannot be told
 * apart from the baseline).
 */
export const GROUND_TRUTH_PANEL = {
  regions: 20,
  weeks: 104,
  channels: 5,
  seed: 42,
  alwaysOn: [] as string[],
  flighting: 'national',
} satisfies SyntheticPanelOptions;

/**
 * Its model configuration (defaults otherwise): a small hidden size that trains in CI, and neither
 * prior of model-spec §7. The attribution prior asks media to be 40 % of every region-week's KPI,
 * which flighted channels (media near 0 in dark weeks) contradict, so it pushes effects onto
 * whatever is on; the seasonal prior holds the seasonal scale at 1, i.e. a seasonal swing as large
 * as the region's mean KPI (the curve is min–max scaled to [0, 1]), far above this panel's ±12 %.
 */
export const GROUND_TRUTH_CONFIG = {
  hiddenDim: 32,
  epochs: 1500,
  mediaPriorWeight: 0,
  seasonalPriorWeight: 0,
} satisfies ConfigOverrides;

export interface RecoveryReport {
  channels: string[];
  /** the truth's share of each channel in Σ media contribution (sums to 1) */
  truth: number[];
  /** the model's direct contributions β_c·x̃_c */
  direct: number[];
  /** the model's total effects (own effect plus effects through DAG children) */
  totalEffect: number[];
  /** largest |model − truth| over the channels, in share units (0.1 = 10 points) */
  maxErrorDirect: number;
  maxErrorTotal: number;
}

/** Each channel's share of Σ_c v over the observed training region-weeks of [R, W, C] values. */
function shares(
  v: Float64Array,
  R: number,
  W: number,
  C: number,
  wTrain: number,
  observed: Uint8Array,
): number[] {
  const tot = new Float64Array(C);
  for (let r = 0; r < R; r++)
    for (let w = 0; w < wTrain; w++) {
      if (!observed[r * W + w]) continue;
      for (let c = 0; c < C; c++) tot[c] += v[(r * W + w) * C + c];
    }
  const s = tot.reduce((a, b) => a + b, 0);
  return Array.from(tot, (x) => x / s);
}

/** Recovered vs true channel shares; `truthContributions` is the generator's [R, W, C]. */
export async function recoveryReport(
  fitted: FittedMMM,
  truthContributions: Float64Array,
  dec?: Decomposition,
): Promise<RecoveryReport> {
  const d = dec ?? (await fitted.decompose());
  const p = fitted.prepared;
  const { R, W, C } = d;
  if (truthContributions.length !== R * W * C)
    throw new Error(
      `causalmix: recoveryReport: truth has ${truthContributions.length} values, expected R×W×C = ${R * W * C}`,
    );
  const share = (v: Float64Array) => shares(v, R, W, C, p.wTrain, p.observed);
  const pw = await mediaPathways(fitted, d);
  const total = new Float64Array(R * W * C);
  for (let i = 0; i < total.length; i++) total[i] = pw.direct[i] + pw.creditedViaChildren[i];
  const truth = share(truthContributions);
  const direct = share(d.mediaContrib);
  const totalEffect = share(total);
  const worst = (v: number[]) => Math.max(...v.map((x, c) => Math.abs(x - truth[c])));
  return {
    channels: [...p.channels],
    truth,
    direct,
    totalEffect,
    maxErrorDirect: worst(direct),
    maxErrorTotal: worst(totalEffect),
  };
}

/** The report as a small text table (percentages). */
export function formatRecoveryReport(r: RecoveryReport): string {
  const row = (name: string, v: number[]) =>
    `${name.padEnd(22)} ${v.map((x) => (100 * x).toFixed(1).padStart(8)).join(' ')}`;
  return [
    `${''.padEnd(22)} ${r.channels.map((c) => c.padStart(8)).join(' ')}`,
    row('truth %', r.truth),
    row('model, direct %', r.direct),
    row('model, total effect %', r.totalEffect),
    `largest error: direct ${(100 * r.maxErrorDirect).toFixed(1)} points, total effect ${(100 * r.maxErrorTotal).toFixed(1)} points`,
  ].join('\n');
}
