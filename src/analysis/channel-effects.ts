/**
 * Per-channel total effects, the table a user acts on (`channels.csv`): each channel's direct
 * contribution (through its own input), its mediated contribution (what it causes through other
 * channels' inputs along the learned channel graph, credited to it as the cause), their sum, its
 * share of all media, and ROAS. Sums run over the observed training region-weeks in KPI units;
 * the totals over all channels equal the media components of the decomposition over those cells.
 */
import type { Decomposition, FittedMMM } from '../model/fitted.js';
import { mediaPathways, type MediaPathways } from './contributions.js';
import { INTERVAL_LEVEL, memberIntervals, type MemberInterval } from './intervals.js';
import { rowsToCsv } from './table.js';

export interface ChannelEffects {
  channels: string[];
  direct: number[];
  mediated: number[];
  total: number[];
  /** total / Σ total (0–1) */
  shareOfMedia: number[];
  /** money (or impressions without costs) over the same cells */
  spend: number[];
  /** total per unit of spend; NaN without costs */
  roas: number[];
  /** edge[i][j]: the share of channel j's contribution that the graph credits to channel i */
  edgeShare: number[][];
  /** Σ of all media components over the counted cells */
  mediaTotal: number;
  /** an ensemble's intervals (src/analysis/intervals.ts); absent for a single model */
  intervals?: ChannelIntervals;
  toCsv(): string;
}

/** Per channel, the ensemble's `level` interval of each answer (the point values are means). */
export interface ChannelIntervals {
  members: number;
  level: number;
  total: MemberInterval[];
  shareOfMedia: MemberInterval[];
  /** NaN bounds without costs */
  roas: MemberInterval[];
}

/** The counted cells: observed region-weeks of the training block. */
function trainingCells(fitted: FittedMMM): Uint8Array {
  const p = fitted.prepared;
  const out = new Uint8Array(p.R * p.W);
  for (let r = 0; r < p.R; r++)
    for (let w = 0; w < p.wTrain; w++) out[r * p.W + w] = p.observed[r * p.W + w];
  return out;
}

export interface ChannelEffectOptions {
  /** the panel's raw media [R, W, C] (for spend) */
  rawMedia?: ArrayLike<number>;
  costPerImpression?: Record<string, number> | null;
  /** precomputed pathways, counted over the training cells */
  pathways?: MediaPathways;
}

export async function channelEffects(
  fitted: FittedMMM,
  dec?: Decomposition,
  opts: ChannelEffectOptions = {},
): Promise<ChannelEffects> {
  const p = fitted.prepared;
  const { R, W, C } = p;
  const cells = trainingCells(fitted);
  const pw = opts.pathways ?? (await mediaPathways(fitted, dec, { counted: cells }));
  const contribution = new Array<number>(C).fill(0);
  const spend = new Array<number>(C).fill(0);
  const costs = opts.costPerImpression ?? null;
  for (let cell = 0; cell < R * W; cell++) {
    if (!cells[cell]) continue;
    for (let c = 0; c < C; c++) {
      contribution[c] += pw.contribution[cell * C + c];
      if (opts.rawMedia)
        spend[c] += opts.rawMedia[cell * C + c] * (costs ? costs[p.channels[c]] : 1);
    }
  }
  const direct = pw.totals.direct;
  const credited = pw.totals.creditedViaChildren;
  const total = direct.map((d, c) => d + credited[c]);
  const mediaTotal = total.reduce((a, b) => a + b, 0);
  const shareOfMedia = total.map((t) => (mediaTotal !== 0 ? t / mediaTotal : NaN));
  const roas = total.map((t, c) => (costs && spend[c] > 0 ? t / spend[c] : NaN));
  const edgeShare = pw.totals.flow.map((row) =>
    row.map((f, j) => (contribution[j] !== 0 ? f / contribution[j] : 0)),
  );
  const channels = [...p.channels];
  const fields: Omit<ChannelEffects, 'toCsv'> = {
    channels,
    direct,
    mediated: credited,
    total,
    shareOfMedia,
    spend,
    roas,
    edgeShare,
    mediaTotal,
  };
  return { ...fields, toCsv: () => channelEffectsCsv(fields) };
}

const CSV_COLUMNS = [
  'channel',
  'direct_contribution',
  'mediated_contribution',
  'total_contribution',
  'share_of_media',
  'roas',
  'total_contribution_lo',
  'total_contribution_hi',
  'share_of_media_lo',
  'share_of_media_hi',
  'roas_lo',
  'roas_hi',
];

/** `channels.csv`: one row per channel; the interval columns are empty for a single model. */
export function channelEffectsCsv(e: Omit<ChannelEffects, 'toCsv'>): string {
  const num = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : '');
  const iv = e.intervals;
  return rowsToCsv(
    e.channels.map((channel, c) => ({
      channel,
      direct_contribution: e.direct[c],
      mediated_contribution: e.mediated[c],
      total_contribution: e.total[c],
      share_of_media: e.shareOfMedia[c],
      roas: num(e.roas[c]),
      total_contribution_lo: num(iv?.total[c].lo),
      total_contribution_hi: num(iv?.total[c].hi),
      share_of_media_lo: num(iv?.shareOfMedia[c].lo),
      share_of_media_hi: num(iv?.shareOfMedia[c].hi),
      roas_lo: num(iv?.roas[c].lo),
      roas_hi: num(iv?.roas[c].hi),
    })),
    CSV_COLUMNS,
  );
}

/**
 * An ensemble's channel table: every figure the members' mean (shares are the mean of each
 * member's shares, not renormalised, so they still sum to 1), with the members' intervals. The
 * edge shares are the members' mean too. One member gives exactly that member's table.
 */
export async function ensembleChannelEffects(
  members: readonly FittedMMM[],
  opts: ChannelEffectOptions & { decompositions?: readonly Decomposition[] } = {},
  level = INTERVAL_LEVEL,
): Promise<ChannelEffects> {
  if (members.length === 0) throw new Error('causalmix: an ensemble needs at least one member');
  const { decompositions, ...rest } = opts;
  const each: ChannelEffects[] = [];
  for (let k = 0; k < members.length; k++)
    each.push(await channelEffects(members[k], decompositions?.[k], rest));
  if (each.length === 1) return each[0];
  const K = each.length;
  const mean = (pick: (e: ChannelEffects) => number[]) =>
    pick(each[0]).map((_, c) => each.reduce((a, e) => a + pick(e)[c], 0) / K);
  const first = each[0];
  const fields: Omit<ChannelEffects, 'toCsv'> = {
    channels: first.channels,
    direct: mean((e) => e.direct),
    mediated: mean((e) => e.mediated),
    total: mean((e) => e.total),
    shareOfMedia: mean((e) => e.shareOfMedia),
    spend: first.spend,
    roas: mean((e) => e.roas),
    edgeShare: first.edgeShare.map((row, i) =>
      row.map((_, j) => each.reduce((a, e) => a + e.edgeShare[i][j], 0) / K),
    ),
    mediaTotal: each.reduce((a, e) => a + e.mediaTotal, 0) / K,
    intervals: {
      members: K,
      level,
      total: memberIntervals(
        each.map((e) => e.total),
        level,
      ),
      shareOfMedia: memberIntervals(
        each.map((e) => e.shareOfMedia),
        level,
      ),
      roas: memberIntervals(
        each.map((e) => e.roas),
        level,
      ),
    },
  };
  return { ...fields, toCsv: () => channelEffectsCsv(fields) };
}
