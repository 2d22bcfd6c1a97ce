/**
 * Panel → model tensors (model-spec §2–3): temporal split, scaling fitted on observed training
 * weeks, per-region seasonal curves, B padding weeks. Training and holdout weeks form ONE sequence
 * per region, T = B + W (padding first), so the recurrence runs on into the holdout; masks say
 * which positions count. Everything the transform needs later (prediction on new weeks) is in
 * `scalers`, plain JSON.
 *
 * Neutral inputs where there is no data: padding weeks get media 0 (as upstream), controls 0,
 * target 0; unobserved region-weeks get media 1/C under share of voice (the share of an empty
 * week) or 0 under the default region-mean scaling (no media), controls 0 (the
 * centre), target 0. None of them is in a mask.
 *
 * upstreamCompat (spec §9): IQR·1.349, ỹ = y/(ȳ + 1e-8), the clip re-decided on the holdout block,
 * and the reference's seasonal layout (§9.2): the training curve S (length wTrain) is left-padded
 * with S[0] over the padding weeks and holdout week t reuses S[t − wHoldout]. That layout needs a
 * region observed on every training week; any other region, and future weeks, continue by phase.
 */
import { DataError } from './errors.js';
import type { Panel } from './panel.js';
import {
  controlClipForBlock,
  fitControlScaler,
  fitMediaScaler,
  neutralMedia,
  scaleMedia,
  type MediaScaler,
  type MediaScaling,
  fitTargetScaler,
  scaleControl,
  scaleTarget,
  type ControlScaler,
  type TargetScaler,
} from './scaling.js';
import { fitSeasonality, seasonalAt, type SeasonalFit } from './seasonality.js';
import { splitWeeks, validatePanel } from './validate.js';

export interface PipelineConfig {
  /** share of the shared week axis held out at the end (floor(W · ratio) weeks) */
  holdoutRatio: number;
  /** error when fewer training weeks remain */
  minTrainWeeks: number;
  /** B, zero weeks prepended to every sequence */
  burnInWeeks: number;
  /** reproduce the reference's scaling/seasonality choices (spec §9) */
  upstreamCompat: boolean;
  /** media input scaling; upstreamCompat always uses share of voice */
  mediaScaling: MediaScaling;
}

export const DEFAULT_PIPELINE_CONFIG: Readonly<PipelineConfig> = {
  holdoutRatio: 0.12,
  minTrainWeeks: 40,
  burnInWeeks: 6,
  upstreamCompat: false,
  mediaScaling: 'regionMean',
};

/** Everything needed to transform new weeks the same way: plain JSON. */
export interface PipelineScalers {
  version: 1;
  upstreamCompat: boolean;
  regions: string[];
  channels: string[];
  controlNames: string[];
  W: number;
  wTrain: number;
  wHoldout: number;
  B: number;
  controls: ControlScaler;
  /** absent in model files from before media scaling was a choice: share of voice */
  media?: MediaScaler;
  /** clip used on the holdout weeks (differs from controls.clip only in upstreamCompat mode) */
  holdoutClip: number;
  target: TargetScaler;
  /** one per region */
  seasonal: SeasonalFit[];
}

export interface PreparedData {
  R: number;
  W: number;
  wTrain: number;
  wHoldout: number;
  B: number;
  T: number;
  C: number;
  K: number;
  regions: string[];
  weeks: (number | string)[];
  channels: string[];
  controlNames: string[];
  /** [R,T,C] scaled media (share of voice or x / divisor_rc); padding 0, unobserved neutral */
  media: Float32Array;
  /** [R,T,K] scaled; padding and unobserved 0 */
  controls: Float32Array;
  /** [R,T] ỹ; 0 where padding/unobserved */
  target: Float32Array;
  /** [R,T] 1 on observed training weeks */
  trainMask: Float32Array;
  /** [R,T] 1 on observed holdout weeks */
  holdoutMask: Float32Array;
  /** [R,T] S in [0,1] */
  seasonal: Float32Array;
  /** [R] ȳ_r */
  yMean: Float64Array;
  scalers: PipelineScalers;
  /** [R,W] original units, 0 where unobserved */
  rawTarget: Float64Array;
  /** [R,W] */
  observed: Uint8Array;
}

/** New weeks for prediction: a panel without (or with an ignored) target. */
export type FutureInput = Omit<Panel, 'target' | 'observed'> & {
  target?: Float64Array;
  observed?: Uint8Array;
};

/** New weeks, transformed; they follow the fitted axis (week index W + f). */
export interface PreparedFuture {
  F: number;
  weeks: (number | string)[];
  /** [R,F,C] scaled media (unobserved neutral) */
  media: Float32Array;
  /** [R,F,K] scaled (unobserved 0) */
  controls: Float32Array;
  /** [R,F] S continued by phase */
  seasonal: Float32Array;
  /** [R,F] */
  observed: Uint8Array;
}

/** S for region r at shared-axis week t under the prepared layout (see the module comment). */
export function seasonalFor(s: PipelineScalers, r: number, t: number): number {
  const fit = s.seasonal[r];
  const fullSpan = fit.origin === 0 && fit.length === s.wTrain;
  if (!s.upstreamCompat || !fullSpan || t >= s.W) return seasonalAt(fit, t);
  if (t < 0) return seasonalAt(fit, 0);
  if (t < s.wTrain) return seasonalAt(fit, t);
  return s.wTrain >= s.wHoldout ? seasonalAt(fit, t - s.wHoldout) : seasonalAt(fit, t);
}

export class UnifiedDataPipeline {
  readonly config: PipelineConfig;

  constructor(config: Partial<PipelineConfig> = {}) {
    this.config = { ...DEFAULT_PIPELINE_CONFIG, ...config };
    const B = this.config.burnInWeeks;
    if (!Number.isInteger(B) || B < 0) {
      throw new DataError(`burnInWeeks must be an integer ≥ 0, got ${B}`);
    }
    splitWeeks(0, this.config.holdoutRatio); // range check
  }

  /** Validates, splits, fits the scalers and the seasonal curves, and lays out the sequences. */
  fit(panel: Panel): PreparedData {
    const { holdoutRatio, minTrainWeeks, upstreamCompat: compat } = this.config;
    const split = validatePanel(panel, { holdoutRatio, minTrainWeeks })!;
    const R = panel.regions.length;
    const W = panel.weeks.length;
    const C = panel.channels.length;
    const K = panel.controlNames.length;
    const B = this.config.burnInWeeks;
    const T = B + W;
    const { wTrain, wHoldout } = split;
    const obs = panel.observed;

    const trainCells: number[] = [];
    const holdoutCells: number[] = [];
    for (let r = 0; r < R; r++) {
      for (let w = 0; w < W; w++) {
        if (obs[r * W + w]) (w < wTrain ? trainCells : holdoutCells).push(r * W + w);
      }
    }
    const mediaScaler: MediaScaler =
      compat || this.config.mediaScaling === 'shareOfVoice'
        ? { scaling: 'shareOfVoice' }
        : fitMediaScaler(panel.media, R, W, C, trainCells);
    const controls = fitControlScaler(panel.controls, K, trainCells, compat);
    if (K === 0) controls.stdRatio = 0;
    // the reference scales the holdout as its own block, so its clip may differ
    const holdoutClip =
      compat && K > 0 && holdoutCells.length > 1
        ? controlClipForBlock(controls, panel.controls, K, holdoutCells).clip
        : controls.clip;
    const target = fitTargetScaler(panel.target, obs, R, W, wTrain, compat);
    const seasonal = panel.regions.map((_, r) =>
      fitSeasonality(
        panel.target.subarray(r * W, (r + 1) * W),
        obs.subarray(r * W, (r + 1) * W),
        wTrain,
      ),
    );
    const scalers: PipelineScalers = {
      version: 1,
      upstreamCompat: compat,
      regions: [...panel.regions],
      channels: [...panel.channels],
      controlNames: [...panel.controlNames],
      W,
      wTrain,
      wHoldout,
      B,
      controls,
      media: mediaScaler,
      holdoutClip,
      target,
      seasonal,
    };

    const media = new Float32Array(R * T * C);
    const ctrl = new Float32Array(R * T * K);
    const y = new Float32Array(R * T);
    const trainMask = new Float32Array(R * T);
    const holdoutMask = new Float32Array(R * T);
    const seas = new Float32Array(R * T);
    const rawTarget = new Float64Array(R * W);
    for (let r = 0; r < R; r++) {
      for (let b = 0; b < T; b++) seas[r * T + b] = seasonalFor(scalers, r, b - B);
      for (let w = 0; w < W; w++) {
        const cell = r * W + w;
        const pos = r * T + B + w;
        if (!obs[cell]) {
          media.fill(neutralMedia(mediaScaler, C), pos * C, (pos + 1) * C);
          continue;
        }
        scaleMedia(mediaScaler, r, panel.media, cell * C, C, media, pos * C);
        const clip = w < wTrain ? controls.clip : holdoutClip;
        for (let k = 0; k < K; k++) {
          ctrl[pos * K + k] = scaleControl(controls, k, panel.controls[cell * K + k], clip);
        }
        y[pos] = scaleTarget(target, r, panel.target[cell]);
        rawTarget[cell] = panel.target[cell];
        (w < wTrain ? trainMask : holdoutMask)[pos] = 1;
      }
    }

    return {
      R,
      W,
      wTrain,
      wHoldout,
      B,
      T,
      C,
      K,
      regions: [...panel.regions],
      weeks: [...panel.weeks],
      channels: [...panel.channels],
      controlNames: [...panel.controlNames],
      media,
      controls: ctrl,
      target: y,
      trainMask,
      holdoutMask,
      seasonal: seas,
      yMean: Float64Array.from(target.yMean),
      scalers,
      rawTarget,
      observed: Uint8Array.from(obs),
    };
  }

  /**
   * Transforms F new weeks (after the fitted axis) with the fitted scalers. Regions, channels and
   * controls are matched by name, so their order in `future` does not matter; every fitted one
   * must be present and no other.
   */
  prepareFuture(future: FutureInput, prepared: PreparedData | PipelineScalers): PreparedFuture {
    const s = 'scalers' in prepared ? prepared.scalers : prepared;
    return prepareFutureWeeks(future, s);
  }
}

/** Same as UnifiedDataPipeline.prototype.prepareFuture, from the scalers alone (a loaded model). */
export function prepareFutureWeeks(future: FutureInput, s: PipelineScalers): PreparedFuture {
  const F = future.weeks.length;
  const fr = future.regions.length;
  const fc = future.channels.length;
  const fk = future.controlNames.length;
  const observed = future.observed
    ? Uint8Array.from(future.observed)
    : new Uint8Array(fr * F).fill(1);
  validatePanel({
    ...future,
    target: future.target ?? new Float64Array(fr * F),
    observed,
  });
  const regionIdx = matchNames('region', s.regions, future.regions);
  const chanIdx = matchNames('channel', s.channels, future.channels);
  const ctrlIdx = matchNames('control', s.controlNames, future.controlNames);

  const R = s.regions.length;
  const C = s.channels.length;
  const K = s.controlNames.length;
  const media = new Float32Array(R * F * C);
  const controls = new Float32Array(R * F * K);
  const seasonal = new Float32Array(R * F);
  const outObs = new Uint8Array(R * F);
  const row = new Float64Array(C);
  const mediaScaler: MediaScaler = s.media ?? { scaling: 'shareOfVoice' };

  // the control block in fitted order, for the upstreamCompat clip re-decision
  const ctrlRows = new Float64Array(R * F * K);
  const cells: number[] = [];
  for (let r = 0; r < R; r++) {
    for (let f = 0; f < F; f++) {
      const src = regionIdx[r] * F + f;
      if (!observed[src]) continue;
      cells.push(r * F + f);
      for (let k = 0; k < K; k++)
        ctrlRows[(r * F + f) * K + k] = future.controls[src * fk + ctrlIdx[k]];
    }
  }
  const clip =
    s.upstreamCompat && K > 0 && cells.length > 1
      ? controlClipForBlock(s.controls, ctrlRows, K, cells).clip
      : s.controls.clip;

  for (let r = 0; r < R; r++) {
    for (let f = 0; f < F; f++) {
      const src = regionIdx[r] * F + f;
      const pos = r * F + f;
      seasonal[pos] = seasonalFor(s, r, s.W + f);
      if (!observed[src]) {
        media.fill(neutralMedia(mediaScaler, C), pos * C, (pos + 1) * C);
        continue;
      }
      outObs[pos] = 1;
      for (let c = 0; c < C; c++) row[c] = future.media[src * fc + chanIdx[c]];
      scaleMedia(mediaScaler, r, row, 0, C, media, pos * C);
      for (let k = 0; k < K; k++) {
        controls[pos * K + k] = scaleControl(s.controls, k, ctrlRows[pos * K + k], clip);
      }
    }
  }
  return { F, weeks: [...future.weeks], media, controls, seasonal, observed: outObs };
}

/** For each fitted name, its index in `given`; unknown or missing names are errors. */
function matchNames(what: string, fitted: string[], given: string[]): number[] {
  const pos = new Map(given.map((g, i) => [g, i]));
  const missing = fitted.filter((f) => !pos.has(f));
  if (missing.length > 0) {
    throw new DataError(
      `new weeks lack ${what}${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} ` +
        `that the model was fitted on`,
    );
  }
  const fittedSet = new Set(fitted);
  const unknown = given.filter((g) => !fittedSet.has(g));
  if (unknown.length > 0) {
    throw new DataError(
      `new weeks have unknown ${what}${unknown.length > 1 ? 's' : ''} ` +
        `${unknown.map((u) => `'${u}'`).join(', ')}; the model knows ${fitted.map((f) => `'${f}'`).join(', ')}`,
    );
  }
  return fitted.map((f) => pos.get(f)!);
}
