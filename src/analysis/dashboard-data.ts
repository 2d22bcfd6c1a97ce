/**
 * A fitted model's results as the dashboard's plain input (src/dashboard DashboardData): the
 * decomposition, the evaluation, the DAG, response curves with their points and, when given, a
 * budget comparison, the per-channel total effects and the fit warnings; the lift tests the fit
 * was calibrated on come from the fitted model itself.
 */
import {
  scaledInputName,
  type BudgetRow,
  type ChannelEffectRow,
  type DashboardData,
  type DashboardWarning,
  type LiftTestRow,
  type MediaScaling,
  type ResponseCurveData,
} from '../dashboard/data.js';
import type { ChannelEffects } from './channel-effects.js';
import type { EvaluationReport } from './metrics.js';
import type { Decomposition, FittedMMM } from '../model/fitted.js';
import type { CurrentComparison } from './budget-optimizer.js';
import type { ModelResponseCurves } from './model-curves.js';
import type { ModelCurves } from './model-response.js';

export interface DashboardDataOptions {
  decomposition: Decomposition;
  report: EvaluationReport;
  /** model-implied curves (model-response.ts) or curves fitted to the weekly scatter */
  curves?: ModelCurves | ModelResponseCurves;
  /** current vs optimal, from BudgetOptimizer.compareWithCurrent, or rows as they are */
  budget?: CurrentComparison | BudgetRow[];
  /** raw media [R, W, C] (the panel's); without it the media inputs shown are the scaled ones */
  rawMedia?: ArrayLike<number>;
  /** per-channel total effects (channelEffects): the share and ROAS charts use them */
  channelEffects?: ChannelEffects;
  /** fit warnings (fitWarnings), shown at the top of the page */
  warnings?: DashboardWarning[];
  /** threshold for drawn DAG edges (default 0.3) */
  dagThreshold?: number;
  title?: string;
  kpiName?: string;
  mediaUnit?: string;
}

/** Builds the dashboard's input from a fitted model and its analysis results. */
export async function buildDashboardData(
  fitted: FittedMMM,
  opts: DashboardDataOptions,
): Promise<DashboardData> {
  const p = fitted.prepared;
  const d = opts.decomposition;
  const { R, W, T, B, C, K } = p;
  // the prepared inputs run over T = B + W weeks; the dashboard shows the W data weeks
  const cut = (a: Float32Array, D: number) => {
    const out = new Float64Array(R * W * D);
    for (let r = 0; r < R; r++)
      for (let w = 0; w < W; w++)
        for (let k = 0; k < D; k++) out[(r * W + w) * D + k] = a[(r * T + B + w) * D + k];
    return out;
  };
  const shares = cut(p.media, C);
  const curves: ResponseCurveData[] | undefined = opts.curves?.curves.map((c) => {
    const base = {
      channel: c.channel,
      top: c.top,
      bottom: c.bottom,
      saturation: c.saturation,
      slope: c.slope,
      r2: c.r2,
    };
    if (c.samples) {
      const band = curveBand(opts.curves!, c.channel);
      return {
        ...base,
        source: c.source ?? 'simulated',
        use: c.use ?? 'hill',
        points: c.samples.x.map((x, i) => ({ x, y: c.samples!.y[i] })),
        ...(band ? { band } : {}),
      };
    }
    const scatter = 'points' in opts.curves! ? opts.curves.points : [];
    const pts = scatter.find((q) => q.channel === c.channel);
    return {
      ...base,
      source: 'scatter' as const,
      points: pts ? Array.from(pts.x, (x, i) => ({ x, y: pts.y[i] })) : [],
    };
  });
  let budget: BudgetRow[] | undefined;
  if (Array.isArray(opts.budget)) budget = opts.budget;
  else if (opts.budget)
    budget = opts.budget.rows.map((r) => ({
      channel: r.channel,
      current: r.currentSpend,
      optimal: r.optimalSpend,
      currentResponse: r.currentResponse,
      optimalResponse: r.optimalResponse,
    }));
  const metric = (m: EvaluationReport['train']) => ({ r2: m.r2, rmse: m.rmse, mae: m.mae });
  const mediaScaling = mediaScalingOf(fitted);
  const mediaUnit = opts.rawMedia
    ? (opts.mediaUnit ?? 'impressions')
    : scaledInputName(mediaScaling);
  return {
    title: opts.title ?? 'causalmix: DeepCausalMMM results',
    adapterName: fitted.training.adapter ?? fitted.engine.adapterName,
    kpiName: opts.kpiName,
    mediaUnit,
    spendUnit: opts.curves?.unit ?? mediaUnit,
    weeks: [...p.weeks],
    wTrain: p.wTrain,
    regions: [...p.regions],
    channels: [...p.channels],
    controlNames: [...p.controlNames],
    actual: p.rawTarget,
    predicted: d.prediction,
    observed: p.observed,
    // region-weeks a region does not have are left out of every total (as in contributions.csv)
    mediaContrib: observedOnly(d.mediaContrib, p.observed, d.C),
    controlContrib: observedOnly(d.ctrlContrib, p.observed, d.K),
    baseline: observedOnly(d.baseline, p.observed, 1),
    seasonal: observedOnly(d.seasonal, p.observed, 1),
    mediaCoeffs: d.mediaCoeffs,
    mediaInputs: opts.rawMedia ?? shares,
    mediaShares: shares,
    mediaScaling,
    controlInputs: cut(p.controls, K),
    dag: { adjacency: await fitted.dagAdjacency(), threshold: opts.dagThreshold ?? 0.3 },
    metrics: { train: metric(opts.report.train), holdout: metric(opts.report.holdout) },
    responseCurves: curves,
    budget,
    warnings: opts.warnings?.map((w) => ({
      kind: w.kind,
      channels: [...w.channels],
      message: w.message,
    })),
    channelEffects: opts.channelEffects && effectRows(opts.channelEffects),
    liftTests: fitted.training.liftTests?.map((t): LiftTestRow => ({
      channel: t.channel,
      regions: [...t.regions],
      startWeek: t.startWeek,
      endWeek: t.endWeek,
      postWeeks: t.postWeeks,
      measured: t.measured,
      se: t.se,
      before: t.before,
      after: t.after,
      zBefore: t.zBefore,
      zAfter: t.zAfter,
    })),
  };
}

/** Model files from before media scaling was a choice have no media scaler: share of voice. */
function mediaScalingOf(fitted: FittedMMM): MediaScaling {
  return fitted.prepared.scalers.media?.scaling ?? 'shareOfVoice';
}

/** An ensemble's band around a simulated curve, in the curve's weekly units (none otherwise). */
function curveBand(curves: ModelCurves | ModelResponseCurves, channel: string) {
  if (!('channels' in curves)) return undefined;
  const s = curves.channels.find((x) => x.channel === channel);
  if (!s?.responseLo || !s.responseHi) return undefined;
  const Nw = curves.windowWeeks;
  return s.input.map((v, k) => ({
    x: v / Nw,
    lo: s.responseLo![k] / Nw,
    hi: s.responseHi![k] / Nw,
  }));
}

/** The analysis' columns as rows; NaN (no costs, or no media at all) becomes null or 0. */
function effectRows(e: ChannelEffects): ChannelEffectRow[] {
  const iv = e.intervals;
  const bounds = (b: { lo: number; hi: number } | undefined, lo: string, hi: string) =>
    b && Number.isFinite(b.lo) && Number.isFinite(b.hi) ? { [lo]: b.lo, [hi]: b.hi } : {};
  return e.channels.map((channel, c) => ({
    channel,
    direct: e.direct[c],
    mediated: e.mediated[c],
    total: e.total[c],
    shareOfMedia: Number.isFinite(e.shareOfMedia[c]) ? e.shareOfMedia[c] : 0,
    roas: Number.isFinite(e.roas[c]) ? e.roas[c] : null,
    ...bounds(iv?.shareOfMedia[c], 'shareOfMediaLo', 'shareOfMediaHi'),
    ...(Number.isFinite(e.roas[c]) ? bounds(iv?.roas[c], 'roasLo', 'roasHi') : {}),
  }));
}

/** A copy of [R·W, D] values with the unobserved region-weeks set to 0. */
function observedOnly(a: Float64Array, observed: Uint8Array, D: number): Float64Array {
  const out = Float64Array.from(a);
  for (let i = 0; i < observed.length; i++) if (!observed[i]) out.fill(0, i * D, (i + 1) * D);
  return out;
}
