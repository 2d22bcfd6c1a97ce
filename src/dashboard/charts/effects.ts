/**
 * Charts from the per-channel total effects (DashboardData.channelEffects): each channel's share
 * of media, split into its direct part (through its own input) and its mediated part (through
 * other channels' inputs), and its ROAS when costs are known. A channel that works only through
 * other channels gets its share here, which the decomposition's per-input contributions miss.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ChannelEffectRow } from '../data.js';
import type { ChartDef, Prepared } from './common.js';
import { baseConfig, channelColor, chartTitle, round } from './common.js';
import { channelContributionsChart } from './contributions.js';

export const DIRECT_LABEL = 'Direct (own input)';
export const MEDIATED_LABEL = 'Mediated (through other channels)';

export interface ShareRow {
  channel: string;
  pathway: typeof DIRECT_LABEL | typeof MEDIATED_LABEL;
  /** this part's effect in KPI units */
  value: number;
  /** this part over the total effect of all channels */
  share: number;
  /** the channel's whole share of media (direct + mediated) */
  totalShare: number;
  total: number;
}

/** Two stacked parts per channel; the parts of a channel add up to its share of media. */
export function effectShareRows(effects: ChannelEffectRow[]): ShareRow[] {
  const mediaTotal = effects.reduce((s, e) => s + e.total, 0);
  const of = (v: number) => (mediaTotal !== 0 ? v / mediaTotal : 0);
  return effects.flatMap((e) =>
    (
      [
        [DIRECT_LABEL, e.direct],
        [MEDIATED_LABEL, e.mediated],
      ] as const
    ).map(([pathway, value]) => ({
      channel: e.channel,
      pathway,
      value,
      share: of(value),
      totalShare: e.shareOfMedia,
      total: e.total,
    })),
  );
}

/** The channel-share chart: from total effects when the data has them, else the decomposition. */
export function channelShareChart(p: Prepared): ChartDef {
  const effects = p.data.channelEffects;
  if (!effects || effects.length === 0) return channelContributionsChart(p);
  const mediaTotal = effects.reduce((s, e) => s + e.total, 0);
  const rows = effectShareRows(effects).map((r) => ({
    ...r,
    value: round(r.value),
    share: round(r.share),
    totalShare: round(r.totalShare),
    total: round(r.total),
    // stacking order: the direct part at the bottom
    pi: r.pathway === DIRECT_LABEL ? 0 : 1,
  }));
  const title = 'Share of media per channel (total effects)';
  const x = channelAxis(byShare(effects));
  const bands = intervalRows(effects, 'shareOfMediaLo', 'shareOfMediaHi');
  const bars = {
    mark: { type: 'bar', stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      x,
      y: {
        field: 'share',
        type: 'quantitative',
        stack: 'zero',
        title: 'Share of media (total effect)',
        axis: { format: '.0%' },
      },
      color: {
        field: 'channel',
        type: 'nominal',
        scale: channelColor(p.data.channels),
        legend: null,
      },
      // the channel keeps its colour; the mediated part is the paler one
      opacity: {
        field: 'pathway',
        type: 'ordinal',
        sort: [DIRECT_LABEL, MEDIATED_LABEL],
        title: 'Effect',
        scale: { domain: [DIRECT_LABEL, MEDIATED_LABEL], range: [1, 0.45] },
        legend: { orient: 'top', labelLimit: 320 },
      },
      order: { field: 'pi', type: 'quantitative', sort: 'ascending' },
      tooltip: [
        { field: 'channel', type: 'nominal', title: 'Channel' },
        { field: 'pathway', type: 'nominal', title: 'Effect' },
        { field: 'value', type: 'quantitative', title: p.kpi, format: ',.0f' },
        { field: 'share', type: 'quantitative', title: 'Share of media', format: '.1%' },
        { field: 'total', type: 'quantitative', title: `Total ${p.kpi}`, format: ',.0f' },
        { field: 'totalShare', type: 'quantitative', title: 'Total share', format: '.1%' },
      ],
    },
  };
  return {
    id: 'channel-contributions',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(
        title,
        `Each channel's effect on ${p.kpi} over the observed training weeks, own input plus ` +
          `what it causes through other channels (media total ${Math.round(mediaTotal).toLocaleString('en-US')})` +
          (bands.length > 0 ? `; lines: ${bandNote(bands.length, effects)}` : ''),
      ),
      data: { values: rows },
      width: 560,
      height: 280,
      ...(bands.length > 0
        ? { layer: [bars, intervalLayer(x, bands, 'Share of media', '.1%')] }
        : bars),
    } as TopLevelSpec,
  };
}

/** The channel axis in an explicit order, shared by the bars and their interval lines. */
const channelAxis = (sort: string[]) => ({
  field: 'channel',
  type: 'nominal',
  sort,
  title: null,
  axis: { labelAngle: -35 },
});

/** Channels by share, largest first: one explicit order for the bars and their interval lines. */
function byShare(effects: ChannelEffectRow[]): string[] {
  return [...effects].sort((a, b) => b.shareOfMedia - a.shareOfMedia).map((e) => e.channel);
}

type BoundKey = 'shareOfMediaLo' | 'shareOfMediaHi' | 'roasLo' | 'roasHi';

/** An ensemble's bounds per channel (none for one model). */
function intervalRows(effects: ChannelEffectRow[], lo: BoundKey, hi: BoundKey) {
  return effects
    .filter((e) => e[lo] !== undefined && e[hi] !== undefined)
    .map((e) => ({ channel: e.channel, lo: round(e[lo]!), hi: round(e[hi]!) }));
}

const bandNote = (n: number, effects: ChannelEffectRow[]) =>
  `90 % intervals across the ensemble's members` +
  (n < effects.length ? ` (${n} of ${effects.length} channels)` : '');

/** A vertical line from each channel's lower to its upper bound, over the bars. */
function intervalLayer(
  x: Record<string, unknown>,
  rows: ReturnType<typeof intervalRows>,
  what: string,
  format: string,
) {
  return {
    data: { values: rows },
    mark: { type: 'rule', strokeWidth: 2, color: '#222' },
    encoding: {
      x,
      y: { field: 'lo', type: 'quantitative' },
      y2: { field: 'hi' },
      tooltip: [
        { field: 'channel', type: 'nominal', title: 'Channel' },
        { field: 'lo', type: 'quantitative', title: `${what}, 90 % low`, format },
        { field: 'hi', type: 'quantitative', title: `${what}, 90 % high`, format },
      ],
    },
  };
}

/** ROAS per channel from total effects; skipped without effects or without costs. */
export function roasChart(p: Prepared): ChartDef | null {
  const priced = (p.data.channelEffects ?? []).filter((e) => e.roas !== null);
  if (priced.length === 0) return null;
  const rows = priced.map((e) => ({
    channel: e.channel,
    roas: round(e.roas!),
    total: round(e.total),
  }));
  const title = 'ROAS per channel (total effects)';
  const x = channelAxis([...priced].sort((a, b) => b.roas! - a.roas!).map((e) => e.channel));
  const bands = intervalRows(priced, 'roasLo', 'roasHi');
  const bars = {
    mark: { type: 'bar' },
    encoding: {
      x,
      y: { field: 'roas', type: 'quantitative', title: `ROAS (${p.kpi} per unit of spend)` },
      color: {
        field: 'channel',
        type: 'nominal',
        scale: channelColor(p.data.channels),
        legend: null,
      },
      tooltip: [
        { field: 'channel', type: 'nominal', title: 'Channel' },
        { field: 'roas', type: 'quantitative', title: 'ROAS', format: '.3~r' },
        { field: 'total', type: 'quantitative', title: `Total ${p.kpi}`, format: ',.0f' },
      ],
    },
  };
  return {
    id: 'channel-roas',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(
        title,
        `${p.kpi} per unit of spend over the observed training weeks, counting what each ` +
          'channel causes through other channels' +
          (bands.length > 0 ? `; lines: ${bandNote(bands.length, priced)}` : ''),
      ),
      data: { values: rows },
      width: 560,
      height: 260,
      ...(bands.length > 0 ? { layer: [bars, intervalLayer(x, bands, 'ROAS', '.3~r')] } : bars),
    } as TopLevelSpec,
  };
}
