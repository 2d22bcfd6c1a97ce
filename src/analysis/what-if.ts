/**
 * Model-based what-if scenarios: planned media for the next F weeks goes through the fitted model
 * itself (FittedMMM.predictFuture: the sequence continues after the data, adstock and GRU state
 * carry over), unlike the budget optimiser, which works on fitted response curves.
 *
 * A plan gives national weekly totals per channel; each region gets the share of a channel it had
 * over its last 13 observed training weeks (equal shares when the channel was never on). Or a
 * plan gives the full [R, F, C] array. Controls stay at each region's last observed values. The
 * raw panel is not part of the fitted model, so those shares and controls come from a
 * `WhatIfBase` (plain JSON: build it from the panel once and save it with the model).
 */
import { DataError } from '../data/errors.js';
import type { Panel } from '../data/panel.js';
import type { PreparedData } from '../data/pipeline.js';
import type { FittedMMM } from '../model/fitted.js';
import { rowsToCsv, type Table } from './table.js';

export const SHARE_WEEKS = 13;

export interface WhatIfBase {
  regions: string[];
  channels: string[];
  controlNames: string[];
  /** shares[c][r]: region r's share of channel c (each channel's shares sum to 1) */
  shares: number[][];
  /** lastControls[r][k]: the region's controls on its last observed week (original units) */
  lastControls: number[][];
  /** the data's last week label, for naming the future weeks */
  lastWeek: number | string;
}

/** Region shares and last controls from the panel the model was fitted on. */
export function whatIfBaseFromPanel(
  panel: Panel,
  prepared: Pick<PreparedData, 'wTrain'>,
  shareWeeks = SHARE_WEEKS,
): WhatIfBase {
  const R = panel.regions.length;
  const W = panel.weeks.length;
  const C = panel.channels.length;
  const K = panel.controlNames.length;
  const sums = Array.from({ length: C }, () => new Array<number>(R).fill(0));
  const lastControls: number[][] = [];
  for (let r = 0; r < R; r++) {
    let taken = 0;
    for (let w = prepared.wTrain - 1; w >= 0 && taken < shareWeeks; w--) {
      if (!panel.observed[r * W + w]) continue;
      taken++;
      for (let c = 0; c < C; c++) sums[c][r] += panel.media[(r * W + w) * C + c];
    }
    let last = -1;
    for (let w = W - 1; w >= 0 && last < 0; w--) if (panel.observed[r * W + w]) last = w;
    if (last < 0) throw new DataError(`what-if: region '${panel.regions[r]}' has no observed week`);
    lastControls.push(Array.from({ length: K }, (_, k) => panel.controls[(r * W + last) * K + k]));
  }
  const shares = sums.map((row) => {
    const t = row.reduce((a, b) => a + b, 0);
    return t > 0 ? row.map((v) => v / t) : row.map(() => 1 / R);
  });
  return {
    regions: [...panel.regions],
    channels: [...panel.channels],
    controlNames: [...panel.controlNames],
    shares,
    lastControls,
    lastWeek: panel.weeks[W - 1],
  };
}

/** Checks a WhatIfBase read from JSON against the model's names. */
export function checkWhatIfBase(
  b: unknown,
  p: Pick<PreparedData, 'regions' | 'channels' | 'controlNames'>,
): WhatIfBase {
  const o = b as WhatIfBase;
  const same = (a: unknown, e: string[]) =>
    Array.isArray(a) && a.length === e.length && a.every((v, i) => v === e[i]);
  if (
    !o ||
    typeof o !== 'object' ||
    !same(o.regions, p.regions) ||
    !same(o.channels, p.channels) ||
    !same(o.controlNames, p.controlNames)
  )
    throw new DataError('what-if base does not match the model (regions, channels or controls)');
  const R = p.regions.length;
  const ok = (m: unknown, rows: number, cols: number) =>
    Array.isArray(m) &&
    m.length === rows &&
    m.every((r) => Array.isArray(r) && r.length === cols && r.every(Number.isFinite));
  if (!ok(o.shares, p.channels.length, R) || !ok(o.lastControls, R, p.controlNames.length))
    throw new DataError('what-if base: shares must be [C][R] and lastControls [R][K] numbers');
  return o;
}

export interface MediaPlan {
  /** F, the number of future weeks */
  weeks: number;
  /** national weekly total per channel: one number for every week, or F numbers */
  national?: Record<string, number | readonly number[]>;
  /** or the full plan [R, F, C] in the model's region and channel order */
  media?: ArrayLike<number>;
  /** controls [R, F, K]; default: each region's last observed values */
  controls?: ArrayLike<number>;
}

export interface ScenarioPrediction {
  name: string;
  weeks: (number | string)[];
  regions: string[];
  channels: string[];
  /** the media the model was given [R, F, C] */
  media: Float64Array;
  /** [R, F] (clamped at 0) and [R, F, C], original units */
  prediction: Float64Array;
  mediaContrib: Float64Array;
  /** Σ prediction over regions and weeks */
  totalKpi: number;
  /** Σ media contribution per channel */
  channelContribution: Record<string, number>;
  /** Σ media input per channel */
  channelMedia: Record<string, number>;
}

/** Labels for F weeks after `last`: next integers, or ISO dates 7 days apart. */
export function futureWeekLabels(last: number | string, F: number): (number | string)[] {
  if (typeof last === 'number') return Array.from({ length: F }, (_, f) => last + f + 1);
  const t = Date.parse(`${last}T00:00:00Z`);
  if (Number.isNaN(t)) return Array.from({ length: F }, (_, f) => `+${f + 1}`);
  return Array.from({ length: F }, (_, f) =>
    new Date(t + (f + 1) * 7 * 86400000).toISOString().slice(0, 10),
  );
}

/** The plan as a raw [R, F, C] media array. */
export function planMedia(plan: MediaPlan, base: WhatIfBase): Float64Array {
  const F = plan.weeks;
  if (!Number.isInteger(F) || F < 1)
    throw new DataError(`what-if: weeks must be a positive integer, got ${F}`);
  const R = base.regions.length;
  const C = base.channels.length;
  if ((plan.media === undefined) === (plan.national === undefined))
    throw new DataError(
      'what-if: give either national weekly totals per channel or media [R, F, C]',
    );
  const out = new Float64Array(R * F * C);
  if (plan.media !== undefined) {
    if (plan.media.length !== R * F * C)
      throw new DataError(
        `what-if: media has ${plan.media.length} values, expected R×F×C = ${R}×${F}×${C}`,
      );
    for (let i = 0; i < out.length; i++) {
      const v = plan.media[i];
      if (!Number.isFinite(v) || v < 0)
        throw new DataError(`what-if: media[${i}] = ${v} must be a finite number ≥ 0`);
      out[i] = v;
    }
    return out;
  }
  const nat = plan.national!;
  const unknown = Object.keys(nat).filter((k) => !base.channels.includes(k));
  if (unknown.length > 0)
    throw new DataError(
      `what-if: unknown channel(s) ${unknown.map((u) => `'${u}'`).join(', ')}; channels: ${base.channels.join(', ')}`,
    );
  base.channels.forEach((ch, c) => {
    const v = nat[ch] ?? 0;
    const series = typeof v === 'number' ? new Array<number>(F).fill(v) : Array.from(v);
    if (series.length !== F)
      throw new DataError(
        `what-if: channel '${ch}' has ${series.length} weekly values, expected ${F}`,
      );
    series.forEach((x, f) => {
      if (!Number.isFinite(x) || x < 0)
        throw new DataError(
          `what-if: channel '${ch}' week ${f + 1}: ${x} must be a finite number ≥ 0`,
        );
      for (let r = 0; r < R; r++) out[(r * F + f) * C + c] = x * base.shares[c][r];
    });
  });
  return out;
}

/** Runs the plan through the model. */
export async function predictScenario(
  fitted: FittedMMM,
  plan: MediaPlan,
  base: WhatIfBase,
  name = 'scenario',
): Promise<ScenarioPrediction> {
  const p = fitted.prepared;
  checkWhatIfBase(base, p);
  const { R, C, K } = p;
  const F = plan.weeks;
  const media = planMedia(plan, base);
  let controls: Float64Array;
  if (plan.controls !== undefined) {
    if (plan.controls.length !== R * F * K)
      throw new DataError(
        `what-if: controls have ${plan.controls.length} values, expected R×F×K = ${R}×${F}×${K}`,
      );
    controls = Float64Array.from(plan.controls);
  } else {
    controls = new Float64Array(R * F * K);
    for (let r = 0; r < R; r++)
      for (let f = 0; f < F; f++)
        for (let k = 0; k < K; k++) controls[(r * F + f) * K + k] = base.lastControls[r][k];
  }
  const weeks = futureWeekLabels(base.lastWeek, F);
  const out = await fitted.predictFuture({
    regions: p.regions,
    weeks,
    channels: p.channels,
    controlNames: p.controlNames,
    media,
    controls,
  });
  const channelContribution: Record<string, number> = {};
  const channelMedia: Record<string, number> = {};
  p.channels.forEach((ch, c) => {
    let s = 0;
    let m = 0;
    for (let i = 0; i < R * F; i++) {
      s += out.mediaContrib[i * C + c];
      m += media[i * C + c];
    }
    channelContribution[ch] = s;
    channelMedia[ch] = m;
  });
  return {
    name,
    weeks,
    regions: [...p.regions],
    channels: [...p.channels],
    media,
    prediction: out.prediction,
    mediaContrib: out.mediaContrib,
    totalKpi: out.prediction.reduce((a, b) => a + b, 0),
    channelContribution,
    channelMedia,
  };
}

export interface WhatIfComparisonRow {
  channel: string;
  mediaA: number;
  mediaB: number;
  contributionA: number;
  contributionB: number;
  contributionDelta: number;
}

export interface WhatIfComparison extends Table<WhatIfComparisonRow> {
  a: string;
  b: string;
  totalKpiA: number;
  totalKpiB: number;
  /** B − A */
  kpiDelta: number;
  /** percent of A (0 when A is 0) */
  kpiDeltaPct: number;
}

/** B against A, per channel and in total. */
export function compareWhatIf(a: ScenarioPrediction, b: ScenarioPrediction): WhatIfComparison {
  if (a.channels.join('\n') !== b.channels.join('\n'))
    throw new DataError('compareWhatIf: the scenarios have different channels');
  const rows = a.channels.map((channel) => ({
    channel,
    mediaA: a.channelMedia[channel],
    mediaB: b.channelMedia[channel],
    contributionA: a.channelContribution[channel],
    contributionB: b.channelContribution[channel],
    contributionDelta: b.channelContribution[channel] - a.channelContribution[channel],
  }));
  const kpiDelta = b.totalKpi - a.totalKpi;
  return {
    a: a.name,
    b: b.name,
    totalKpiA: a.totalKpi,
    totalKpiB: b.totalKpi,
    kpiDelta,
    kpiDeltaPct: a.totalKpi !== 0 ? (kpiDelta / Math.abs(a.totalKpi)) * 100 : 0,
    rows,
    toCsv: () =>
      rowsToCsv(rows, [
        'channel',
        'mediaA',
        'mediaB',
        'contributionA',
        'contributionB',
        'contributionDelta',
      ]),
  };
}

/** Short text summary of a comparison. */
export function formatWhatIf(c: WhatIfComparison): string {
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const lines = [
    `What-if: ${c.b} vs ${c.a}`,
    `  predicted KPI: ${n(c.totalKpiA)} → ${n(c.totalKpiB)} (${c.kpiDelta >= 0 ? '+' : ''}${n(c.kpiDelta)}, ${c.kpiDeltaPct >= 0 ? '+' : ''}${c.kpiDeltaPct.toFixed(2)}%)`,
  ];
  for (const r of c.rows)
    lines.push(
      `  ${r.channel.padEnd(20)} media ${n(r.mediaA)} → ${n(r.mediaB)}   contribution ${n(r.contributionA)} → ${n(r.contributionB)}`,
    );
  return lines.join('\n');
}
