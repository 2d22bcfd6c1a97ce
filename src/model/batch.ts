/**
 * Device batches cut from the prepared data: the training sequence (padding + training weeks)
 * and the full sequence (padding + every week) used for evaluation and prediction.
 */
import type { PreparedData } from '../data/pipeline.js';
import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import type { ModelBatch } from './model.js';
import { pathBasis, pathRows, type PathLayout } from './trend.js';

/** The first `T` weeks of every region of an [R, Tfull, D] array. */
export function leadingWeeks(a: Float32Array, R: number, Tfull: number, D: number, T: number) {
  const out = new Float32Array(R * T * D);
  for (let r = 0; r < R; r++) out.set(a.subarray(r * Tfull * D, (r * Tfull + T) * D), r * T * D);
  return out;
}

export interface HostBatch {
  R: number;
  T: number;
  media: Float32Array;
  controls: Float32Array;
  target: Float32Array;
  lossMask: Float32Array;
  seasonal: Float32Array;
  /**
   * [R, T] weights of the media centre (the training cells, each region's summing to 1): a batch
   * with them centres its own media (training), one without uses the model's frozen centre
   */
  centerWeights?: Float32Array;
}

/** Each region's mask scaled to sum to 1 (a region without cells gets zeros). */
export function centerWeightsOf(mask: Float32Array, R: number, T: number): Float32Array {
  const out = new Float32Array(R * T);
  for (let r = 0; r < R; r++) {
    let n = 0;
    for (let t = 0; t < T; t++) n += mask[r * T + t];
    if (n > 0) for (let t = 0; t < T; t++) out[r * T + t] = mask[r * T + t] / n;
  }
  return out;
}

/**
 * The loss masks of training: observed training weeks minus the validation window (the last
 * `validationWeeks` training weeks), and that window. In upstreamCompat mode every week of the
 * training sequence counts, padding included (the reference's behaviour, spec §9.1).
 */
export function trainingMasks(p: PreparedData, validationWeeks: number, compat: boolean) {
  const T = p.B + p.wTrain;
  const train = leadingWeeks(p.trainMask, p.R, p.T, 1, T);
  const val = new Float32Array(p.R * T);
  for (let r = 0; r < p.R; r++)
    for (let w = p.wTrain - validationWeeks; w < p.wTrain; w++) {
      const i = r * T + p.B + w;
      val[i] = train[i];
      train[i] = 0;
    }
  if (compat) train.fill(1);
  return { train, val };
}

/** The training sequence: T = B + wTrain weeks. */
export function trainingBatch(
  p: PreparedData,
  validationWeeks: number,
  compat: boolean,
): HostBatch {
  const T = p.B + p.wTrain;
  const cut = (a: Float32Array, D: number) => leadingWeeks(a, p.R, p.T, D, T);
  const lossMask = trainingMasks(p, validationWeeks, compat).train;
  return {
    R: p.R,
    T,
    media: cut(p.media, p.C),
    controls: cut(p.controls, p.K),
    target: cut(p.target, 1),
    lossMask,
    seasonal: cut(p.seasonal, 1),
    // the centre is taken over the cells the loss counts
    centerWeights: centerWeightsOf(lossMask, p.R, T),
  };
}

/** The full sequence (every week); the loss mask is the observed holdout. */
export function fullBatch(p: PreparedData): HostBatch {
  return {
    R: p.R,
    T: p.T,
    media: p.media,
    controls: p.controls,
    target: p.target,
    lossMask: p.holdoutMask,
    seasonal: p.seasonal,
  };
}

/**
 * The batch on the device. With the model's baseline path it adds the path's basis for the
 * batch's length; with Fourier seasonality the reference's fixed seasonal curve is not used (0).
 */
export function toDevice(
  e: Engine,
  b: HostBatch,
  C: number,
  K: number,
  path?: PathLayout,
): ModelBatch {
  const keep = (t: Tensor) => e.keep(t);
  const fourier = (path?.fourier ?? 0) > 0;
  const batch: ModelBatch = {
    media: keep(e.tensor(b.media, [b.R, b.T, C])),
    controls: keep(e.tensor(b.controls, [b.R, b.T, K])),
    target: keep(e.tensor(b.target, [b.R, b.T])),
    lossMask: keep(e.tensor(b.lossMask, [b.R, b.T])),
    seasonal: keep(fourier ? e.zeros([b.R, b.T]) : e.tensor(b.seasonal, [b.R, b.T])),
  };
  if (b.centerWeights) batch.centerWeights = keep(e.tensor(b.centerWeights, [b.R, b.T, 1]));
  if (path) {
    const { M, F } = pathRows(path);
    if (M + F > 0) batch.pathBasis = keep(e.tensor(pathBasis(path, b.T), [M + F, b.T]));
  }
  return batch;
}

export function disposeBatch(b: ModelBatch): void {
  Object.values(b).forEach((t: Tensor | undefined) => t?.dispose());
}
