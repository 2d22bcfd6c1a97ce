/**
 * What every chart module shares: the validated input with its dimensions and unit labels, the
 * week axis, the colour scales (one colour per channel in every chart), compact number rounding
 * and the region sums the national charts are built from.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { DashboardData, DashboardDims, NumericArray } from '../data.js';
import { validateDashboardData } from '../data.js';

export interface ChartDef {
  /** file-name-safe identifier, e.g. 'waterfall' */
  id: string;
  title: string;
  spec: TopLevelSpec;
}

/** Channels keep these colours, in order, across every chart (cycled past 18 channels). */
export const CHANNEL_PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#17becf',
  '#bcbd22',
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#ff7f0e',
];
/** Non-media components: muted so they never pass for a channel. */
export const COMPONENT_COLORS: Record<string, string> = {
  Baseline: '#6b7b8c',
  Seasonality: '#c0a878',
  Controls: '#a3a3a3',
};
export const CONTROL_PALETTE = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02'];
export const SPLIT_COLORS = { Train: '#4e79a7', Holdout: '#e15759' };
export const ACTUAL_COLOR = '#333333';
export const PREDICTED_COLOR = '#f28e2b';

/**
 * A vega expression that writes the number `v` for people: 1.19B, 532k, 12.5, 0 (B for billions
 * rather than SI's G, and no SI 'm' for thousandths), three significant digits.
 */
export function compactNumberExpr(v: string): string {
  const scaled = (div: string, suffix: string) => `format(${v} / ${div}, '.3~r') + '${suffix}'`;
  return (
    `abs(${v}) >= 1e9 ? ${scaled('1e9', 'B')} : abs(${v}) >= 1e6 ? ${scaled('1e6', 'M')} : ` +
    `abs(${v}) >= 1e3 ? ${scaled('1e3', 'k')} : format(${v}, '.3~r')`
  );
}

export interface WeekAxis {
  type: 'quantitative' | 'temporal' | 'ordinal';
  /** the plotted value per week: the number, UTC milliseconds for dates, or the label */
  values: (number | string)[];
  labels: string[];
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+Z?)?$/;

/** Numbers plot on a linear axis, ISO dates on a UTC time axis, anything else in given order. */
export function weekAxis(weeks: (number | string)[]): WeekAxis {
  const labels = weeks.map(String);
  if (weeks.every((w) => typeof w === 'number' && Number.isFinite(w)))
    return { type: 'quantitative', values: weeks, labels };
  if (weeks.every((w) => typeof w === 'string' && ISO_DATE.test(w) && !isNaN(Date.parse(w))))
    return { type: 'temporal', values: weeks.map((w) => Date.parse(String(w))), labels };
  return { type: 'ordinal', values: labels, labels };
}

export interface Prepared {
  data: DashboardData;
  dims: DashboardDims;
  kpi: string;
  mediaUnit: string;
  spendUnit: string;
  week: WeekAxis;
}

export function prepare(data: DashboardData): Prepared {
  const dims = validateDashboardData(data);
  const mediaUnit = data.mediaUnit ?? 'impressions';
  return {
    data,
    dims,
    kpi: data.kpiName ?? 'KPI',
    mediaUnit,
    spendUnit: data.spendUnit ?? mediaUnit,
    week: weekAxis(data.weeks),
  };
}

/** The x encoding of a weekly chart (field 'week'); rows carry 'weekLabel' for tooltips. */
export function weekX(week: WeekAxis, title = 'Week') {
  if (week.type === 'temporal')
    return { field: 'week', type: 'temporal' as const, title, scale: { type: 'utc' as const } };
  if (week.type === 'quantitative')
    return { field: 'week', type: 'quantitative' as const, title, scale: { zero: false } };
  return { field: 'week', type: 'ordinal' as const, title, sort: null };
}

export const weekTooltip = { field: 'weekLabel', type: 'nominal' as const, title: 'Week' };

/** Six significant digits keep the embedded data compact; non-finite values become null. */
export function round(v: number): number | null {
  return Number.isFinite(v) ? Number(v.toPrecision(6)) : null;
}

export function channelColor(channels: string[]) {
  return {
    domain: channels,
    range: channels.map((_, i) => CHANNEL_PALETTE[i % CHANNEL_PALETTE.length]),
  };
}

/** Channel colours followed by the non-media components, for charts that mix both. */
export function componentColor(channels: string[], extra: string[]) {
  const ch = channelColor(channels);
  return {
    domain: [...ch.domain, ...extra],
    range: [...ch.range, ...extra.map((e) => COMPONENT_COLORS[e] ?? '#999999')],
  };
}

export function controlColor(names: string[]) {
  return { domain: names, range: names.map((_, i) => CONTROL_PALETTE[i % CONTROL_PALETTE.length]) };
}

/** Shared look: white background, no view border, readable titles. */
export const baseConfig = {
  background: 'white',
  config: {
    view: { stroke: null },
    title: { anchor: 'start' as const, fontSize: 15, subtitleFontSize: 11, subtitleColor: '#555' },
    axis: { labelFontSize: 11, titleFontSize: 12 },
    // vega's default labels for large numbers share one SI prefix: "0k", "0M", "1.19G"; these
    // are rewritten one by one as 0, 500k, 1.19B (labels with a format of their own are kept)
    axisQuantitative: {
      labelExpr: `test(regexp('[kMGTPmunpµ]$'), datum.label) ? (${compactNumberExpr('datum.value')}) : datum.label`,
    },
  },
};

export function chartTitle(text: string, subtitle?: string) {
  return subtitle ? { text, subtitle } : { text };
}

// ---- aggregation --------------------------------------------------------------------------------

/** Sum of [R,W,N] over regions → [W,N] (non-finite cells skipped). */
export function sumOverRegions(arr: NumericArray, R: number, W: number, N: number): Float64Array {
  const out = new Float64Array(W * N);
  for (let r = 0; r < R; r++) {
    const off = r * W * N;
    for (let i = 0; i < W * N; i++) {
      const v = arr[off + i];
      if (Number.isFinite(v)) out[i] += v;
    }
  }
  return out;
}

/** Mean of [R,W,N] over regions → [W,N], over finite cells (NaN where none). */
export function meanOverRegions(arr: NumericArray, R: number, W: number, N: number): Float64Array {
  const sum = new Float64Array(W * N);
  const count = new Float64Array(W * N);
  for (let r = 0; r < R; r++) {
    const off = r * W * N;
    for (let i = 0; i < W * N; i++) {
      const v = arr[off + i];
      if (Number.isFinite(v)) {
        sum[i] += v;
        count[i]++;
      }
    }
  }
  return sum.map((s, i) => (count[i] > 0 ? s / count[i] : NaN));
}

/** Sum of [R,W,N] over regions and weeks → [N]. */
export function totalsPerSeries(arr: NumericArray, R: number, W: number, N: number): number[] {
  const byWeek = sumOverRegions(arr, R, W, N);
  const out = new Array<number>(N).fill(0);
  for (let w = 0; w < W; w++) for (let n = 0; n < N; n++) out[n] += byWeek[w * N + n];
  return out;
}

/** A region-week counts for fit charts when observed and both actual and predicted are finite. */
export function cellCounts(p: Prepared, i: number): boolean {
  const { observed, actual, predicted } = p.data;
  return observed[i] !== 0 && Number.isFinite(actual[i]) && Number.isFinite(predicted[i]);
}
