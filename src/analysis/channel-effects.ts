/**
 * Per-channel total effects, the table a user acts on (`channels.csv`): each channel's direct
 * contribution (through its own input), its mediated contribution (what it causes through other
 * channels' inputs along the learned channel graph, credited to it as the cause), their sum, its
 * share of all media, and ROAS. Sums run over the observed training region-weeks in KPI units;
 * the totals over all channels equal the media components of the decomposition over those cells.
 */
import type { Decomposition, FittedMMM } from '../model/fitted.js';
import { mediaPathways, type MediaPathways } from './contributions.js';
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
  toCsv(): string;
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
  return {
    channels,
    direct,
    mediated: credited,
    total,
    shareOfMedia,
    spend,
    roas,
    edgeShare,
    mediaTotal,
    toCsv: () =>
      rowsToCsv(
        channels.map((channel, c) => ({
          channel,
          direct_contribution: direct[c],
          mediated_contribution: credited[c],
          total_contribution: total[c],
          share_of_media: shareOfMedia[c],
          roas: Number.isFinite(roas[c]) ? roas[c] : '',
        })),
        [
          'channel',
          'direct_contribution',
          'mediated_contribution',
          'total_contribution',
          'share_of_media',
          'roas',
        ],
      ),
  };
}
