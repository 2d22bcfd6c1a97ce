/**
 * The dashboard's input: plain arrays already in original units (no model objects), so the
 * dashboard can be built from a saved result in Node or in the browser. Arrays are row-major:
 * [R,W] is region-major over weeks, [R,W,C] adds the channel as the fastest axis.
 */
import { DataError } from '../data/errors.js';

/** Any flat numeric array: number[], Float64Array, Float32Array, Uint8Array … */
export type NumericArray = ArrayLike<number>;

export interface SplitMetrics {
  r2: number;
  rmse: number;
  mae?: number;
}

/** A fitted Hill curve `y = bottom + (top − bottom)·x^slope / (saturation^slope + x^slope)`. */
export interface ResponseCurveData {
  channel: string;
  top: number;
  bottom: number;
  saturation: number;
  slope: number;
  r2: number;
  /**
   * the points the curve was fitted to: simulated by the model (x = weekly input over the
   * planning window × a multiplier, y = weekly incremental response) or observed weeks
   */
  points: { x: number; y: number }[];
  /** 'simulated' (model-implied curves) or 'scatter' (fitted to observed weeks; default) */
  source?: 'simulated' | 'scatter';
  /** what the optimizer uses: the Hill equation, or the monotone interpolation of the points */
  use?: 'hill' | 'interpolation';
  /** an ensemble's 90 % interval of the simulated response at each point's x (weekly units) */
  band?: { x: number; lo: number; hi: number }[];
}

export interface BudgetRow {
  channel: string;
  current: number;
  optimal: number;
  currentResponse?: number;
  optimalResponse?: number;
}

/** A fit warning the user can act on (src/analysis/warnings.ts), shown at the top of the page. */
export interface DashboardWarning {
  kind: string;
  /** the channels it concerns (empty when it is about the whole model) */
  channels: string[];
  message: string;
}

/**
 * A channel's total effect (src/analysis/channel-effects.ts) over the observed training
 * region-weeks, in KPI units: direct (through its own input) + mediated (what it causes through
 * other channels' inputs along the channel graph) = total.
 */
export interface ChannelEffectRow {
  channel: string;
  direct: number;
  mediated: number;
  total: number;
  /** total / Σ total over all channels (0–1) */
  shareOfMedia: number;
  /** total per unit of spend; null when costs are unknown */
  roas: number | null;
  /** an ensemble's 90 % interval of the share and of ROAS (absent for one model) */
  shareOfMediaLo?: number;
  shareOfMediaHi?: number;
  roasLo?: number;
  roasHi?: number;
}

/**
 * A lift test (geo experiment) the fit was calibrated on, with the model's own counterfactual lift
 * over the same definition: `channel` switched off in `regions` during startWeek … endWeek, the
 * KPI difference summed over those regions and weeks plus `postWeeks` more (KPI units).
 */
export interface LiftTestRow {
  channel: string;
  /** region names, or ['all'] */
  regions: string[];
  /** the data's own week values (entries of DashboardData.weeks), inclusive */
  startWeek: number | string;
  endWeek: number | string;
  /** weeks after endWeek whose KPI the experiment also counted */
  postWeeks: number;
  /** the measured lift and its standard error (> 0) */
  measured: number;
  se: number;
  /** the model's lift after the warm start, before the calibration term acted */
  before: number;
  /** the model's lift at the end of training */
  after: number;
  /** (before − measured) / se and (after − measured) / se */
  zBefore: number;
  zAfter: number;
}

/** How the model scaled the media inputs it was given. */
export type MediaScaling = 'shareOfVoice' | 'regionMean';

/**
 * What a scaled media input is, for labels: "share of voice" only when it is one (the default
 * scaling divides by the region's mean, which is no share of anything).
 */
export function scaledInputName(scaling: MediaScaling | undefined): string {
  if (scaling === 'shareOfVoice') return 'share of voice';
  if (scaling === 'regionMean') return 'scaled input (x / 4·region mean)';
  return 'scaled input';
}

export interface DashboardData {
  title?: string;
  adapterName?: string;
  /** what the KPI counts, used in labels (default 'KPI'), e.g. 'visits' */
  kpiName?: string;
  /** unit of the raw media inputs (default 'impressions') */
  mediaUnit?: string;
  /** unit of response-curve inputs and budgets (default: mediaUnit; say 'impressions' when no costs) */
  spendUnit?: string;
  /** week labels: numbers, ISO dates ('2023-01-02') or any strings, length W */
  weeks: (number | string)[];
  /** the first wTrain weeks are training weeks, the rest holdout (1 ≤ wTrain ≤ W) */
  wTrain: number;
  regions: string[];
  channels: string[];
  controlNames: string[];
  /** [R,W] KPI in original units; a cell counts only where observed is 1 and the value is finite */
  actual: NumericArray;
  /** [R,W] */
  predicted: NumericArray;
  /** [R,W] 1 = observed, 0 = missing/padded */
  observed: NumericArray;
  /** [R,W,C] media contributions in KPI units */
  mediaContrib: NumericArray;
  /** [R,W,K] control contributions in KPI units */
  controlContrib: NumericArray;
  /** [R,W] baseline contribution (without seasonality) in KPI units */
  baseline: NumericArray;
  /** [R,W] seasonal contribution in KPI units */
  seasonal: NumericArray;
  /** [R,W,C] time-varying media coefficients */
  mediaCoeffs: NumericArray;
  /** [R,W,C] raw media inputs (impressions or spend) */
  mediaInputs: NumericArray;
  /** [R,W,C] scaled media inputs, the model's input (see mediaScaling) */
  mediaShares?: NumericArray;
  /** how mediaShares were scaled: share of voice, or x / (4 × the region's training mean) */
  mediaScaling?: MediaScaling;
  /** [R,W,K] scaled control inputs */
  controlInputs?: NumericArray;
  /** adjacency[i][j]: influence of channel i on channel j */
  dag: { adjacency: number[][]; threshold: number };
  metrics: { train: SplitMetrics; holdout: SplitMetrics };
  responseCurves?: ResponseCurveData[];
  budget?: BudgetRow[];
  /** fit warnings; the page shows them in a box at the top */
  warnings?: DashboardWarning[];
  /** total effects per channel; the share and ROAS charts use them when given */
  channelEffects?: ChannelEffectRow[];
  /** lift tests the fit was calibrated on: measured vs the model's lift before and after */
  liftTests?: LiftTestRow[];
}

export interface DashboardDims {
  R: number;
  W: number;
  C: number;
  K: number;
}

function checkNames(names: string[], what: string, allowEmpty: boolean): void {
  if (!Array.isArray(names) || (!allowEmpty && names.length === 0))
    throw new DataError(`dashboard: ${what} must be a non-empty list of names`);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new DataError(`dashboard: ${what} name '${n}' appears twice`);
    seen.add(n);
  }
}

function checkLength(arr: NumericArray | undefined, name: string, dims: number[], axes: string) {
  if (arr === undefined) return;
  const n = dims.reduce((a, b) => a * b, 1);
  if (arr.length !== n)
    throw new DataError(
      `dashboard: ${name} has length ${arr.length}, expected ${axes} = ${dims.join('×')} = ${n}`,
    );
}

function checkChannelRef(channel: string, channels: string[], where: string): void {
  if (!channels.includes(channel))
    throw new DataError(`dashboard: ${where} names channel '${channel}', which is not in channels`);
}

/** Checks every shape and cross-reference; returns the dimensions. Throws DataError naming the fault. */
export function validateDashboardData(d: DashboardData): DashboardDims {
  checkNames(d.regions, 'regions', false);
  checkNames(d.channels, 'channels', false);
  checkNames(d.controlNames, 'controlNames', true);
  if (!Array.isArray(d.weeks) || d.weeks.length === 0)
    throw new DataError('dashboard: weeks must be a non-empty list');
  const R = d.regions.length;
  const W = d.weeks.length;
  const C = d.channels.length;
  const K = d.controlNames.length;
  if (!Number.isInteger(d.wTrain) || d.wTrain < 1 || d.wTrain > W)
    throw new DataError(`dashboard: wTrain ${d.wTrain} must be an integer in 1..${W} (weeks)`);

  const rw = [R, W];
  const rwc = [R, W, C];
  const rwk = [R, W, K];
  checkLength(d.actual, 'actual', rw, 'R×W');
  checkLength(d.predicted, 'predicted', rw, 'R×W');
  checkLength(d.observed, 'observed', rw, 'R×W');
  checkLength(d.baseline, 'baseline', rw, 'R×W');
  checkLength(d.seasonal, 'seasonal', rw, 'R×W');
  checkLength(d.mediaContrib, 'mediaContrib', rwc, 'R×W×C');
  checkLength(d.mediaCoeffs, 'mediaCoeffs', rwc, 'R×W×C');
  checkLength(d.mediaInputs, 'mediaInputs', rwc, 'R×W×C');
  checkLength(d.mediaShares, 'mediaShares', rwc, 'R×W×C');
  checkLength(d.controlContrib, 'controlContrib', rwk, 'R×W×K');
  checkLength(d.controlInputs, 'controlInputs', rwk, 'R×W×K');

  const adj = d.dag?.adjacency;
  if (!Array.isArray(adj) || adj.length !== C || adj.some((row) => row?.length !== C))
    throw new DataError(`dashboard: dag.adjacency must be ${C}×${C} (channels × channels)`);
  if (!Number.isFinite(d.dag.threshold))
    throw new DataError(`dashboard: dag.threshold ${d.dag.threshold} must be a finite number`);

  for (const split of ['train', 'holdout'] as const) {
    const m = d.metrics?.[split];
    if (m === undefined || typeof m.r2 !== 'number' || typeof m.rmse !== 'number')
      throw new DataError(`dashboard: metrics.${split} needs numeric r2 and rmse`);
  }
  for (const curve of d.responseCurves ?? []) {
    checkChannelRef(curve.channel, d.channels, 'responseCurves');
    for (const key of ['top', 'bottom', 'saturation', 'slope'] as const) {
      if (!Number.isFinite(curve[key]))
        throw new DataError(
          `dashboard: responseCurves '${curve.channel}' ${key} ${curve[key]} is not finite`,
        );
    }
    for (const b of curve.band ?? [])
      if (![b.x, b.lo, b.hi].every(Number.isFinite) || b.lo > b.hi)
        throw new DataError(
          `dashboard: responseCurves '${curve.channel}' band point (${b.x}, ${b.lo}, ${b.hi}) needs finite x and bounds, lower first`,
        );
  }
  for (const row of d.budget ?? []) {
    checkChannelRef(row.channel, d.channels, 'budget');
    if (!Number.isFinite(row.current) || !Number.isFinite(row.optimal))
      throw new DataError(`dashboard: budget '${row.channel}' needs finite current and optimal`);
  }
  if (d.mediaScaling !== undefined && !MEDIA_SCALINGS.includes(d.mediaScaling))
    throw new DataError(
      `dashboard: mediaScaling '${d.mediaScaling}' must be one of ${MEDIA_SCALINGS.join(', ')}`,
    );
  checkWarnings(d.warnings, d.channels);
  checkChannelEffects(d.channelEffects, d.channels);
  checkLiftTests(d.liftTests, d);
  return { R, W, C, K };
}

const MEDIA_SCALINGS: readonly string[] = ['shareOfVoice', 'regionMean'];

function checkWarnings(warnings: DashboardWarning[] | undefined, channels: string[]): void {
  if (warnings === undefined) return;
  if (!Array.isArray(warnings)) throw new DataError('dashboard: warnings must be a list');
  warnings.forEach((w, i) => {
    const where = `warnings[${i}]`;
    if (typeof w?.kind !== 'string' || typeof w.message !== 'string')
      throw new DataError(`dashboard: ${where} needs a kind and a message (strings)`);
    if (!Array.isArray(w.channels))
      throw new DataError(`dashboard: ${where}.channels must be a list of channel names`);
    for (const ch of w.channels) checkChannelRef(ch, channels, where);
  });
}

function checkChannelEffects(rows: ChannelEffectRow[] | undefined, channels: string[]): void {
  if (rows === undefined) return;
  if (!Array.isArray(rows)) throw new DataError('dashboard: channelEffects must be a list');
  const seen = new Set<string>();
  for (const row of rows) {
    checkChannelRef(row.channel, channels, 'channelEffects');
    if (seen.has(row.channel))
      throw new DataError(`dashboard: channelEffects names channel '${row.channel}' twice`);
    seen.add(row.channel);
    for (const key of ['direct', 'mediated', 'total', 'shareOfMedia'] as const) {
      if (!Number.isFinite(row[key]))
        throw new DataError(
          `dashboard: channelEffects '${row.channel}' ${key} ${row[key]} is not finite`,
        );
    }
    // null means "no costs"; a number must be a real one
    if (row.roas !== null && !Number.isFinite(row.roas))
      throw new DataError(
        `dashboard: channelEffects '${row.channel}' roas ${row.roas} must be finite or null`,
      );
    for (const [lo, hi] of [
      ['shareOfMediaLo', 'shareOfMediaHi'],
      ['roasLo', 'roasHi'],
    ] as const) {
      const a = row[lo];
      const b = row[hi];
      if (a === undefined && b === undefined) continue;
      if (!Number.isFinite(a) || !Number.isFinite(b) || a! > b!)
        throw new DataError(
          `dashboard: channelEffects '${row.channel}' ${lo}/${hi} (${a}, ${b}) must be two finite bounds, lower first`,
        );
    }
  }
}

function checkLiftTests(tests: LiftTestRow[] | undefined, d: DashboardData): void {
  if (tests === undefined) return;
  if (!Array.isArray(tests)) throw new DataError('dashboard: liftTests must be a list');
  const weekIndex = (v: unknown) => d.weeks.findIndex((w) => String(w) === String(v));
  tests.forEach((t, i) => {
    const where = `liftTests[${i}]`;
    if (typeof t?.channel !== 'string')
      throw new DataError(`dashboard: ${where} needs a channel name (string)`);
    checkChannelRef(t.channel, d.channels, where);
    const named = `${where} '${t.channel}'`;
    const regions = t.regions;
    if (!Array.isArray(regions) || regions.length === 0)
      throw new DataError(`dashboard: ${named} regions must be a non-empty list (or ['all'])`);
    const everywhere = regions.length === 1 && regions[0] === 'all';
    if (!everywhere)
      for (const r of regions)
        if (!d.regions.includes(r))
          throw new DataError(`dashboard: ${named} names region '${r}', which is not in regions`);
    const from = weekIndex(t.startWeek);
    const to = weekIndex(t.endWeek);
    if (from < 0) throw new DataError(`dashboard: ${named} startWeek ${t.startWeek} is not a week`);
    if (to < 0) throw new DataError(`dashboard: ${named} endWeek ${t.endWeek} is not a week`);
    if (to < from)
      throw new DataError(
        `dashboard: ${named} endWeek ${t.endWeek} comes before startWeek ${t.startWeek}`,
      );
    if (!Number.isInteger(t.postWeeks) || t.postWeeks < 0)
      throw new DataError(
        `dashboard: ${named} postWeeks ${t.postWeeks} must be a whole number ≥ 0`,
      );
    for (const key of ['measured', 'before', 'after', 'zBefore', 'zAfter'] as const) {
      if (typeof t[key] !== 'number' || !Number.isFinite(t[key]))
        throw new DataError(`dashboard: ${named} ${key} ${t[key]} is not finite`);
    }
    if (typeof t.se !== 'number' || !Number.isFinite(t.se) || t.se <= 0)
      throw new DataError(`dashboard: ${named} se ${t.se} must be a finite number > 0`);
  });
}
