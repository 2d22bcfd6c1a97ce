/**
 * Every parameter of the model (model-spec §4) with its shape, initial value, clip group and
 * penalty weights, in the order the parameter arena lays them out.
 */
import { Rng } from '../engine/random.js';
import { inverseSoftplus } from '../maths/functions.js';
import type { ParamSpec } from '../ops/optim.js';
import type { MMMConfig } from './config.js';
import { pathRows, type PathLayout } from './trend.js';

export interface ModelDims {
  /** regions */
  R: number;
  /** the learned baseline path (trend, Fourier seasonality; src/model/trend.ts); absent: none */
  path?: PathLayout;
  /** media channels */
  C: number;
  /** controls */
  K: number;
  /** GRU hidden size (the control MLP has H/2 outputs) */
  H: number;
}

/** Values initialised from the data (model-spec §5); absent ones get neutral defaults. */
export interface DataInit {
  baselineRaw?: ArrayLike<number>;
  stableMedia?: ArrayLike<number>;
  stableCtrl?: ArrayLike<number>;
  halfSatRaw?: ArrayLike<number>;
  /** bias of the media head's last layer (default 0: σ = ½ of the coefficient's maximum) */
  mediaHeadBias?: ArrayLike<number>;
  /** start values of the baseline path's parameters (src/model/trend.ts pathStart) */
  path?: Partial<
    Record<
      'trendNational' | 'trendRegional' | 'seasonNational' | 'seasonRegional',
      ArrayLike<number>
    >
  >;
}

/** Clip groups (model-spec §8): coefficient-related parameters, and all others. */
export const CLIP_COEFF = 0;
export const CLIP_OTHER = 1;

export const HEAD_LAYERS = 3;

/** Names of a coefficient head's layers: prefix.{0,1,2}.{weight,bias}. */
export function headNames(prefix: 'mediaHead' | 'ctrlHead'): [string, string][] {
  return Array.from({ length: HEAD_LAYERS }, (_, i) => [
    `${prefix}.${i}.weight`,
    `${prefix}.${i}.bias`,
  ]);
}

/** PyTorch's nn.Linear default: U(±1/√fan_in) for weight and bias. */
function torchLinear(rng: Rng, out: number, fanIn: number): [Float64Array, Float64Array] {
  const b = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0; // no controls: an empty layer, bias 0
  return [rng.uniformArray(out * fanIn, -b, b), rng.uniformArray(out, -b, b)];
}

/** Xavier-uniform with a gain, zero bias (the coefficient heads). */
function xavier(rng: Rng, out: number, fanIn: number, gain: number): [Float64Array, Float64Array] {
  const b = gain * Math.sqrt(6 / (fanIn + out));
  return [rng.uniformArray(out * fanIn, -b, b), new Float64Array(out)];
}

const filled = (n: number, v: number) => new Float64Array(n).fill(v);

function sized(name: string, v: ArrayLike<number> | undefined, n: number, fallback: number) {
  if (v === undefined) return filled(n, fallback);
  if (v.length !== n)
    throw new Error(`causalmix: init '${name}' has ${v.length} values, expected ${n}`);
  return Float64Array.from(v);
}

/** The arena's parameter list, initialised as model-spec §4–5 say (seeded). */
export function parameterSpecs(
  dims: ModelDims,
  config: MMMConfig,
  init: DataInit = {},
): ParamSpec[] {
  const { R, C, K, H } = dims;
  const Hc = H / 2;
  const rng = new Rng(config.seed);
  const l1 = config.l1Weight;
  const l2 = config.l2Weight;
  const sparse = config.sparsityWeight;
  const specs: ParamSpec[] = [];
  const add = (name: string, shape: number[], values: Float64Array, group: number, extraL1 = 0) =>
    specs.push({ name, shape, init: values, group, l1: l1 + extraL1, l2 });

  // the media transform's shape parameters (no penalty unless mediaShapePenalty: raw 0 is no
  // neutral value for them)
  const shape = (name: string, values: Float64Array) =>
    config.mediaShapePenalty
      ? add(name, [C], values, CLIP_OTHER)
      : specs.push({ name, shape: [C], init: values, group: CLIP_OTHER, l1: 0, l2: 0 });
  shape('adstockRaw', filled(C, 0.8));
  shape('hillSlopeRaw', filled(C, 2.5));
  shape('hillHalfSatRaw', sized('halfSatRaw', init.halfSatRaw, C, inverseSoftplus(0.5)));
  // the draws happen in every mode, so the later parameters' initial values do not depend on it
  const dagInit = rng.normalArray(C * C, 0, 1).map((x) => 0.3 * x - 0.1);
  if (config.dagMode !== 'media') {
    add('dagLogits', [C, C], dagInit, CLIP_OTHER);
    add('interactionRaw', [C], filled(C, -1.4), CLIP_OTHER);
  }
  add(
    'regionBaselineRaw',
    [R],
    sized('baselineRaw', init.baselineRaw, R, inverseSoftplus(1)),
    CLIP_OTHER,
  );
  add('globalBiasRaw', [1], filled(1, 0), CLIP_OTHER);
  add('predictionScaleRaw', [1], filled(1, 0), CLIP_OTHER);
  add('seasonalCoeffRaw', [1], filled(1, 1), CLIP_COEFF);
  // a media coefficient's level (its maximum, and the head's last bias below) is not pulled
  // towards raw 0 unless mediaCoefficientPenalty: raw 0 means half of sp(0) + 0.1, an effect for
  // every channel, so a channel without one kept a share of media
  const free = (name: string, shape: number[], values: Float64Array) =>
    config.mediaCoefficientPenalty
      ? add(name, shape, values, CLIP_COEFF)
      : specs.push({ name, shape, init: values, group: CLIP_COEFF, l1: 0, l2: 0 });
  free('mediaCoeffMaxRaw', [C], filled(C, 1.0));
  add('ctrlCoeffMaxRaw', [K], filled(K, 1.5), CLIP_COEFF);
  add('h0', [H], rng.normalArray(H, 0, 0.01), CLIP_OTHER);
  add('stableMediaCoeff', [C], sized('stableMedia', init.stableMedia, C, 0), CLIP_COEFF, sparse);
  add('stableCtrlCoeff', [K], sized('stableCtrl', init.stableCtrl, K, 0), CLIP_COEFF, sparse);
  // without controls the control network and head do not exist (their draws still happen, so
  // the other parameters start where they would)
  const [cw, cb] = torchLinear(rng, Hc, K);
  if (K > 0) {
    add('ctrlMlp.weight', [Hc, K], cw, CLIP_OTHER);
    add('ctrlMlp.bias', [Hc], cb, CLIP_OTHER);
  }
  // GRU: U(±1/√H) for every weight and bias, as PyTorch; the sparsity term covers all of them
  const I = C + Hc;
  const g = 1 / Math.sqrt(H);
  add('gru.weightIh', [3 * H, I], rng.uniformArray(3 * H * I, -g, g), CLIP_OTHER, 0.1 * sparse);
  add('gru.weightHh', [3 * H, H], rng.uniformArray(3 * H * H, -g, g), CLIP_OTHER, 0.1 * sparse);
  add('gru.biasIh', [3 * H], rng.uniformArray(3 * H, -g, g), CLIP_OTHER, 0.1 * sparse);
  add('gru.biasHh', [3 * H], rng.uniformArray(3 * H, -g, g), CLIP_OTHER, 0.1 * sparse);
  for (const [prefix, out] of [
    ['mediaHead', C],
    ['ctrlHead', K],
  ] as const) {
    const sizes = [H, H, Hc, out];
    headNames(prefix).forEach(([wn, bn], i) => {
      const [w, b0] = xavier(rng, sizes[i + 1], sizes[i], 0.1);
      const last = prefix === 'mediaHead' && i === HEAD_LAYERS - 1;
      const b = last ? sized('mediaHeadBias', init.mediaHeadBias, out, 0) : b0;
      if (out === 0) return;
      add(wn, [sizes[i + 1], sizes[i]], w, CLIP_COEFF);
      if (last) free(bn, [sizes[i + 1]], b);
      else add(bn, [sizes[i + 1]], b, CLIP_COEFF);
    });
  }
  // the baseline path (src/model/trend.ts), last so the other draws stay as they were: level
  // changes under L1 (national, and regional ones scaled by 1/R: each reaches 1/R of the loss's
  // cells), Fourier coefficients under the usual L2
  if (dims.path) {
    const { M, F } = pathRows(dims.path);
    const param = (name: string, shape: number[], l1v: number) =>
      specs.push({
        name,
        shape,
        init: filled(
          shape.reduce((a, b) => a * b, 1),
          0,
        ),
        group: CLIP_OTHER,
        l1: l1v,
        l2,
      });
    if (M > 0) {
      param('trendNational', [M], config.trendL1);
      param('trendRegional', [R, M], config.trendL1 / R);
    }
    if (F > 0) {
      param('seasonNational', [F], l1);
      param('seasonRegional', [R, F], l1);
    }
  }
  return specs;
}
