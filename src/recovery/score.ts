/**
 * Fits a model on a recovery panel and scores what it recovered against the known truth: each
 * channel's share of media (total effects) and ROAS, the media share of the KPI, the holdout error
 * next to the naive forecasts, the channel graph's edges, and the fit time.
 */
import { ensembleChannelEffects, type ChannelIntervals } from '../analysis/channel-effects.js';
import { meanDecomposition, predictionIntervals } from '../analysis/ensemble-forecast.js';
import { fitEnsemble } from '../model/ensemble.js';
import type { Decomposition } from '../model/fitted.js';
import { UnifiedDataPipeline } from '../data/pipeline.js';
import type { Panel } from '../data/panel.js';
import type { Engine } from '../engine/engine.js';
import type { MMMConfig } from '../model/config.js';
import type { LiftTestResult, TrainProgress } from '../model/trainer.js';
import { resolveLiftTests, type LiftTestInput } from '../calibration/lift-tests.js';
import type { RecoveryPanel, RecoveryTruth } from './generator.js';

/** An edge passes when the graph credits its cause with at least this share of the child's effect. */
export const EDGE_THRESHOLD = 0.1;

export interface ChannelScore {
  channel: string;
  trueShare: number;
  share: number;
  /** share − trueShare, in points (percentage points of media) */
  shareErrorPts: number;
  trueRoas: number;
  roas: number;
  /** (roas − trueRoas) / trueRoas, in % (NaN for a channel without a true effect) */
  roasErrorPct: number;
  /** an ensemble's interval of the share, and whether it holds the true share */
  shareLo?: number;
  shareHi?: number;
  shareCovered?: boolean;
}

export interface EdgeScore {
  from: string;
  to: string;
  /** share of the child's effect credited to the parent */
  strength: number;
  /** the strongest edge into the child, and above the threshold */
  found: boolean;
}

export interface RecoveryScore {
  channels: ChannelScore[];
  maxShareErrorPts: number;
  meanShareErrorPts: number;
  maxAbsRoasErrorPct: number;
  trueMediaShare: number;
  mediaShare: number;
  holdoutRmse: number;
  naiveRecentRmse: number;
  naiveTrainingMeanRmse: number;
  holdoutR2Scaled: number;
  naiveRecentR2Scaled: number;
  trueEdges: EdgeScore[];
  /** edges above the threshold that are not true edges */
  spuriousEdges: { from: string; to: string; strength: number }[];
  epochs: number;
  fitSeconds: number;
  /** with lift tests: each test's measured lift and the model's before and after calibration */
  liftTests?: LiftTestResult[];
  /** an ensemble's members, and the share of holdout region-weeks inside the 90 % interval */
  members?: number;
  holdoutPredictionCoverage?: number;
}

/** The same panel with its channels in another order (columns permuted, nothing else). */
export function permuteChannels(panel: Panel, order: number[]): Panel {
  const { R, W } = { R: panel.regions.length, W: panel.weeks.length };
  const C = panel.channels.length;
  const media = new Float64Array(R * W * C);
  for (let cell = 0; cell < R * W; cell++)
    order.forEach((src, dst) => (media[cell * C + dst] = panel.media[cell * C + src]));
  return { ...panel, channels: order.map((i) => panel.channels[i]), media };
}

/** Scores a fitted model's channel effects and evaluation against the truth. */
export function scoreAgainstTruth(
  truth: RecoveryTruth,
  effects: {
    channels: string[];
    shareOfMedia: number[];
    roas: number[];
    mediaTotal: number;
    edgeShare: number[][];
    intervals?: ChannelIntervals;
  },
  kpiTotal: number,
  evalFigures: Pick<
    RecoveryScore,
    | 'holdoutRmse'
    | 'naiveRecentRmse'
    | 'naiveTrainingMeanRmse'
    | 'holdoutR2Scaled'
    | 'naiveRecentR2Scaled'
    | 'epochs'
    | 'fitSeconds'
    | 'liftTests'
    | 'members'
    | 'holdoutPredictionCoverage'
  >,
): RecoveryScore {
  const at = new Map(effects.channels.map((c, i) => [c, i]));
  const channels = truth.channels.map((t, c) => {
    const i = at.get(t.name)!;
    const share = effects.shareOfMedia[i];
    const roas = effects.roas[i];
    const iv = effects.intervals?.shareOfMedia[i];
    const trueShare = truth.shareOfMedia[c];
    return {
      channel: t.name,
      trueShare,
      share,
      shareErrorPts: 100 * (share - trueShare),
      trueRoas: truth.roas[c],
      roas,
      roasErrorPct: truth.total[c] > 0 ? (100 * (roas - truth.roas[c])) / truth.roas[c] : NaN,
      ...(iv
        ? { shareLo: iv.lo, shareHi: iv.hi, shareCovered: iv.lo <= trueShare && trueShare <= iv.hi }
        : {}),
    };
  });
  const abs = channels.map((c) => Math.abs(c.shareErrorPts));
  const trueEdges = truth.edges.map((e) => {
    const i = at.get(e.from)!;
    const j = at.get(e.to)!;
    const strength = effects.edgeShare[i][j];
    const strongest = effects.edgeShare.every((row, k) => k === i || row[j] <= strength);
    return { from: e.from, to: e.to, strength, found: strongest && strength >= EDGE_THRESHOLD };
  });
  const isTrue = new Set(truth.edges.map((e) => `${e.from}>${e.to}`));
  const spuriousEdges: RecoveryScore['spuriousEdges'] = [];
  effects.edgeShare.forEach((row, i) =>
    row.forEach((s, j) => {
      const key = `${effects.channels[i]}>${effects.channels[j]}`;
      if (i !== j && s >= EDGE_THRESHOLD && !isTrue.has(key))
        spuriousEdges.push({ from: effects.channels[i], to: effects.channels[j], strength: s });
    }),
  );
  return {
    channels,
    maxShareErrorPts: Math.max(...abs),
    meanShareErrorPts: abs.reduce((a, b) => a + b, 0) / abs.length,
    maxAbsRoasErrorPct: Math.max(
      ...channels.map((c) => Math.abs(c.roasErrorPct)).filter(Number.isFinite),
    ),
    trueMediaShare: truth.mediaShare,
    mediaShare: effects.mediaTotal / kpiTotal,
    trueEdges,
    spuriousEdges,
    ...evalFigures,
  };
}

/**
 * Trains `config` on the panel (optionally with its channels permuted) and scores it; with
 * `members` ≥ 2 an ensemble (src/model/ensemble.ts), scored on its mean with its intervals.
 */
export async function fitAndScore(
  engine: Engine,
  rp: RecoveryPanel,
  config: MMMConfig,
  opts: {
    channelOrder?: number[];
    onProgress?: (p: TrainProgress) => void;
    liftTests?: LiftTestInput[];
    members?: number;
  } = {},
): Promise<RecoveryScore> {
  const panel = opts.channelOrder ? permuteChannels(rp.panel, opts.channelOrder) : rp.panel;
  const prepared = new UnifiedDataPipeline(config).fit(panel);
  const liftTests = opts.liftTests?.length
    ? resolveLiftTests(opts.liftTests, panel, { wTrain: prepared.wTrain })
    : undefined;
  const members = await fitEnsemble(engine, config, prepared, {
    members: opts.members ?? 1,
    onProgress: opts.onProgress,
    liftTests,
  });
  try {
    const decs: Decomposition[] = [];
    for (const m of members) decs.push(await m.decompose());
    const dec = meanDecomposition(decs);
    const fitted = members[0];
    const report = await fitted.evaluate(dec);
    const effects = await ensembleChannelEffects(members, {
      decompositions: decs,
      rawMedia: panel.media,
      costPerImpression: rp.costPerImpression,
    });
    // the KPI over the same cells as the truth's shares: observed training region-weeks
    let kpi = 0;
    for (let r = 0; r < prepared.R; r++)
      for (let w = 0; w < prepared.wTrain; w++)
        if (prepared.observed[r * prepared.W + w]) kpi += prepared.rawTarget[r * prepared.W + w];
    const ensemble =
      members.length > 1
        ? {
            members: members.length,
            holdoutPredictionCoverage: predictionIntervals(decs, prepared).holdoutCoverage,
          }
        : {};
    return scoreAgainstTruth(rp.truth, effects, kpi, {
      holdoutRmse: report.holdout.rmse,
      naiveRecentRmse: report.naive.recentMean.rmse,
      naiveTrainingMeanRmse: report.naive.trainingMean.rmse,
      holdoutR2Scaled: report.holdout.r2Scaled,
      naiveRecentR2Scaled: report.naive.recentMean.r2Scaled,
      epochs: fitted.training.epochs,
      fitSeconds: members.reduce((a, m) => a + m.training.seconds, 0),
      ...(fitted.training.liftTests ? { liftTests: fitted.training.liftTests } : {}),
      ...ensemble,
    });
  } finally {
    members.forEach((m) => m.dispose());
  }
}
