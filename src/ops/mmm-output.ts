/**
 * Fused model output (shaders/mmm-output.wgsl), model-spec §6 items 5–8 and the §7 data, attribution
 * and seasonal terms (sp = softplus, σ = sigmoid):
 *
 *   β̂ = σ(headMedia)·(sp(mediaMaxRaw) + 0.1),  γ̂ = tanh(headCtrl)·(sp(ctrlMaxRaw) + 0.1)
 *   weeks t < B: β = s_t·stableMedia + (1 − s_t)·β̂ (γ likewise), s_t = exp(−3t/B) | 1 − t/B |
 *   1/(1 + exp((t − B/2)/(B/4))); weeks t ≥ B: β = β̂, γ = γ̂
 *   raw = Σ_c xt·β + Σ_k z·γ + max(sp(baselineRaw_r) + sp(globalBiasRaw), 0) + sp(seasonalCoeffRaw)·S
 *         + offset   (optional [R, T], e.g. a learned trend; ∂loss/∂offset = ∂loss/∂raw)
 *   pred = sp(predScaleRaw)·raw;  n = Σ mask;  data = Σ mask·ℓ(pred − target)/n
 *   L_attr = Σ mask·(Σ_c xt·β − prior·raw)²/n;  L_seas = (sp(seasonalCoeffRaw) − 1)²
 *   loss = data + wA·L_attr·stopgrad(data/(L_attr + 1e-8)) + wS·L_seas·stopgrad(data/(L_seas + 1e-8))
 *
 * Forward: two dispatches (one invocation per region-week writing per-workgroup partial sums and
 * the optional decomposition, then one workgroup reducing them to `parts` and the loss). Backward:
 * two dispatches (per region-week gradients of the heads and xt plus a small work area, then one
 * workgroup per parameter family summing over the region-weeks; no atomics). Every sum divides by
 * max(n, 1), so a fully masked batch gives loss 0 and zero gradients.
 *
 * The two heads may also come side by side in one tensor `heads` [R, T, C + K] (media columns
 * first), as the grouped coefficient-head layers produce them; its gradient is then one tensor too.
 *
 * The optional `offset` travels in `aux` like the seasonal curve (a copy, no dispatch); its
 * gradient is the per-week g_raw the backward element pass computes anyway, written to one more
 * segment of the gradient buffer. Without it the buffers, outputs and gradients are as before.
 *
 * WebGPU guarantees only 8 storage buffers per stage, so the small parameters and the [R,T]
 * constants are packed into one `aux` buffer with buffer copies (no dispatches), and results that
 * come out together share one buffer and are handed out as aligned views of it.
 */
import type { Engine } from '../engine/engine.js';
import { defineKernel, linearGrid } from '../engine/kernel.js';
import { shaderConstants, uniformLayout, type UniformValues } from '../engine/kernel-interface.js';
import { formatShape } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { defineGradient } from '../autograd/registry.js';
import { sigmoid as sigmoid64, softplus as softplus64 } from '../maths/functions.js';
import { coefficientMax } from '../maths/constraints.js';

export interface MmmOutputInputs {
  /** pre-activation media coefficient head output [R, T, C] (or `heads`) */
  headMedia: Tensor;
  /** pre-activation control coefficient head output [R, T, K] (or `heads`) */
  headCtrl: Tensor;
  mediaMaxRaw: Tensor;
  ctrlMaxRaw: Tensor;
  stableMedia: Tensor;
  stableCtrl: Tensor;
  /** transformed media [R, T, C] */
  xt: Tensor;
  /** scaled controls [R, T, K] (no gradient) */
  z: Tensor;
  baselineRaw: Tensor;
  globalBiasRaw: Tensor;
  seasonalCoeffRaw: Tensor;
  predScaleRaw: Tensor;
  /** seasonal curve S [R, T] (no gradient) */
  seasonal: Tensor;
  /** scaled target [R, T] (no gradient) */
  target: Tensor;
  /** 0/1 loss weights [R, T] (no gradient) */
  lossMask: Tensor;
  /**
   * optional additive term of raw [R, T] in scaled units (before the prediction scale), e.g. a
   * learned trend; differentiable: its gradient is ∂loss/∂raw per region-week
   */
  offset?: Tensor;
}

export type BurnInMethod = 'exponential' | 'linear' | 'sigmoid';

export interface MmmOutputOptions {
  /** burn-in weeks B (default 6; 0 disables the blend) */
  burnInWeeks?: number;
  burnInMethod?: BurnInMethod;
  /** data loss (default 'huber') */
  loss?: 'huber' | 'mse';
  huberDelta?: number;
  /** media share of raw in the attribution prior (default 0.40) */
  mediaPrior?: number;
  attrWeight?: number;
  /**
   * how attrWeight scales L_attr: 'adaptive' (the reference) times stopgrad(data/(L_attr + 1e-8)),
   * so the term is always attrWeight × the data loss; 'fixed': attrWeight·L_attr as it stands
   */
  attrScale?: 'adaptive' | 'fixed';
  seasWeight?: number;
  /** 'all' also returns the decomposition (plain tensors, no gradient); default 'loss' */
  outputs?: 'loss' | 'all';
}

export interface MmmOutputResult {
  /** the scalar loss [1]: the only differentiable output */
  loss: Tensor;
  /** [data, L_attr, L_seas, n] */
  parts: Tensor;
  prediction?: Tensor;
  mediaCoeffs?: Tensor;
  ctrlCoeffs?: Tensor;
  mediaContrib?: Tensor;
  ctrlContrib?: Tensor;
  baseline?: Tensor;
  seasonalContrib?: Tensor;
  /** the offset [R, T] as added to raw ('all' outputs with an `offset` input only) */
  offsetContrib?: Tensor;
}

/** The inputs with both heads side by side: `heads` [R, T, C + K], media columns first. */
export type MmmOutputCombinedInputs = Omit<MmmOutputInputs, 'headMedia' | 'headCtrl'> & {
  heads: Tensor;
};

/** Input order of the op (and of its gradients). */
export const MMM_OUTPUT_INPUTS = [
  'headMedia',
  'headCtrl',
  'mediaMaxRaw',
  'ctrlMaxRaw',
  'stableMedia',
  'stableCtrl',
  'xt',
  'z',
  'baselineRaw',
  'globalBiasRaw',
  'seasonalCoeffRaw',
  'predScaleRaw',
  'seasonal',
  'target',
  'lossMask',
] as const satisfies readonly (keyof MmmOutputInputs)[];

/** The optional inputs, which follow MMM_OUTPUT_INPUTS (in this order) when given. */
export const MMM_OUTPUT_OPTIONAL_INPUTS = [
  'offset',
] as const satisfies readonly (keyof MmmOutputInputs)[];

/** Inputs that never receive a gradient. */
const CONSTANT = new Set<string>(['z', 'seasonal', 'target', 'lossMask']);

/** Burn-in methods and data losses: the codes the shader's uniforms carry. */
const CODES = shaderConstants('mmm-output', {
  BURN_IN_EXPONENTIAL: 0,
  BURN_IN_LINEAR: 1,
  BURN_IN_SIGMOID: 2,
  LOSS_MSE: 0,
  LOSS_HUBER: 1,
});
const METHOD: Record<BurnInMethod, number> = {
  exponential: CODES.BURN_IN_EXPONENTIAL,
  linear: CODES.BURN_IN_LINEAR,
  sigmoid: CODES.BURN_IN_SIGMOID,
};
export const LOSS_CODE = { mse: CODES.LOSS_MSE, huber: CODES.LOSS_HUBER } as const;

/** Per-(r,t) invocations per workgroup of the forward and backward element passes. */
const WG = 64;

/**
 * The uniforms of every entry point of shaders/mmm-output.wgsl (each reads the ones it needs).
 * Positions are element offsets of the segments packed into one buffer (see `plan`).
 */
const uniforms = uniformLayout('mmm-output', 'MmmOutputUniforms', {
  /** regions R */
  regions: 'u32',
  /** weeks T */
  weeks: 'u32',
  /** media channels C */
  media: 'u32',
  /** control channels K (may be 0) */
  controls: 'u32',
  /** burn-in weeks B (0: no blend) */
  burnIn: 'u32',
  /** BURN_IN_EXPONENTIAL, BURN_IN_LINEAR or BURN_IN_SIGMOID */
  burnInMethod: 'u32',
  /** the data loss: LOSS_MSE or LOSS_HUBER */
  lossCode: 'u32',
  /** 1: the forward pass also writes the decomposition ('all' outputs) */
  allOutputs: 'u32',
  /** position of mediaMaxRaw in aux */
  auxMediaMax: 'u32',
  /** position of ctrlMaxRaw in aux */
  auxCtrlMax: 'u32',
  /** position of stableMedia in aux */
  auxStableMedia: 'u32',
  /** position of stableCtrl in aux */
  auxStableCtrl: 'u32',
  /** position of baselineRaw in aux */
  auxBaseline: 'u32',
  /** position of globalBiasRaw in aux */
  auxGlobalBias: 'u32',
  /** position of seasonalCoeffRaw in aux */
  auxSeasCoeff: 'u32',
  /** position of predScaleRaw in aux */
  auxPredScale: 'u32',
  /** position of the seasonal curve in aux */
  auxSeasonal: 'u32',
  /** position of the target in aux */
  auxTarget: 'u32',
  /** position of lossMask in aux */
  auxMask: 'u32',
  /** position of the prediction in the forward output ('all' outputs only, else 0; so below) */
  outPrediction: 'u32',
  /** position of mediaCoeffs in the forward output */
  outMediaCoeffs: 'u32',
  /** position of ctrlCoeffs in the forward output */
  outCtrlCoeffs: 'u32',
  /** position of mediaContrib in the forward output */
  outMediaContrib: 'u32',
  /** position of ctrlContrib in the forward output */
  outCtrlContrib: 'u32',
  /** position of baseline in the forward output */
  outBaseline: 'u32',
  /** position of seasonalContrib in the forward output */
  outSeasonalContrib: 'u32',
  /** forward workgroups: their partial sums (3 each) start the forward output */
  groups: 'u32',
  /** position of dHeadMedia in the gradient buffer */
  gradHeadMedia: 'u32',
  /** position of dHeadCtrl in the gradient buffer (= gradHeadMedia for combined heads) */
  gradHeadCtrl: 'u32',
  /** position of dXt in the gradient buffer */
  gradXt: 'u32',
  /** position of dMediaMaxRaw in the gradient buffer */
  gradMediaMax: 'u32',
  /** position of dCtrlMaxRaw in the gradient buffer */
  gradCtrlMax: 'u32',
  /** position of dStableMedia in the gradient buffer */
  gradStableMedia: 'u32',
  /** position of dStableCtrl in the gradient buffer */
  gradStableCtrl: 'u32',
  /** position of dBaselineRaw in the gradient buffer */
  gradBaseline: 'u32',
  /** position of dGlobalBiasRaw in the gradient buffer */
  gradGlobalBias: 'u32',
  /** position of dSeasonalCoeffRaw in the gradient buffer */
  gradSeasCoeff: 'u32',
  /** position of dPredScaleRaw in the gradient buffer */
  gradPredScale: 'u32',
  /** position of the work area (per (r,t): g_raw, g_media, g_pred·raw; then one scalar) */
  gradWork: 'u32',
  /** row stride of the media head (C; C + K for combined heads) */
  headsMediaStride: 'u32',
  /** row stride of the control head (K; C + K for combined heads) */
  headsCtrlStride: 'u32',
  /** the control head's first column (0; C for combined heads) */
  headsCtrlColumn: 'u32',
  /** 1: an offset [R, T] is added to raw (0: the three positions below are 0, unused) */
  hasOffset: 'u32',
  /** position of the offset in aux */
  auxOffset: 'u32',
  /** position of offsetContrib in the forward output ('all' outputs only, else 0) */
  outOffset: 'u32',
  /** position of dOffset (= g_raw per (r,t)) in the gradient buffer */
  gradOffset: 'u32',
  /** Huber δ */
  huberDelta: 'f32',
  /** media share of raw in the attribution prior */
  mediaPrior: 'f32',
  /** attribution weight */
  attrWeight: 'f32',
  /** seasonal prior weight */
  seasWeight: 'f32',
  /** 1: L_attr scaled by stopgrad(data/(L_attr + 1e-8)) (the reference), 0: a fixed weight */
  attrAdaptive: 'u32',
});
type MmmParams = UniformValues<typeof uniforms.fields>;

const AUX = {
  mediaMax: 0,
  ctrlMax: 1,
  stableMedia: 2,
  stableCtrl: 3,
  baseline: 4,
  globalBias: 5,
  seasCoeff: 6,
  predScale: 7,
  seasonal: 8,
  target: 9,
  mask: 10,
  /** only with an offset (the segment after the others) */
  offset: 11,
};
const OUT = {
  prediction: 0,
  mediaCoeffs: 1,
  ctrlCoeffs: 2,
  mediaContrib: 3,
  ctrlContrib: 4,
  baseline: 5,
  seasonalContrib: 6,
  /** only with an offset in 'all' mode */
  offsetContrib: 7,
};
const GRAD = {
  headMedia: 0,
  headCtrl: 1,
  xt: 2,
  mediaMax: 3,
  ctrlMax: 4,
  stableMedia: 5,
  stableCtrl: 6,
  baseline: 7,
  globalBias: 8,
  seasCoeff: 9,
  predScale: 10,
  work: 11,
  /** only with an offset: ∂loss/∂offset = g_raw per region-week */
  offset: 12,
};

// ---- float64 references -------------------------------------------------------------------------

/** Burn-in weight s_t of week t < B for method code m. */
export function burnWeight64(m: number, t: number, B: number): number {
  if (m === METHOD.linear) return 1 - t / B;
  if (m === METHOD.sigmoid) return sigmoid64(-(t - 0.5 * B) / (0.25 * B));
  return Math.exp((-3 * t) / B);
}

function pointLoss64(code: number, d: number, delta: number): number {
  if (code === LOSS_CODE.mse) return d * d;
  const a = Math.abs(d);
  return a < delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
}

function pointGrad64(code: number, d: number, delta: number): number {
  if (code === LOSS_CODE.mse) return 2 * d;
  return Math.min(Math.max(d, -delta), delta);
}

/** Head share (1 − s_t) during the burn-in, 1 after it. */
const headShare64 = (p: MmmParams, t: number) =>
  t < p.burnIn ? 1 - burnWeight64(p.burnInMethod, t, p.burnIn) : 1;

const blend64 = (p: MmmParams, t: number, stable: number, head: number) => {
  if (t >= p.burnIn) return head;
  const s = burnWeight64(p.burnInMethod, t, p.burnIn);
  return s * stable + (1 - s) * head;
};

function beta64(p: MmmParams, aux: Float64Array, hm: Float64Array, i: number, c: number): number {
  const max = coefficientMax(aux[p.auxMediaMax + c]);
  const head = sigmoid64(hm[i * p.headsMediaStride + c]) * max;
  return blend64(p, i % p.weeks, aux[p.auxStableMedia + c], head);
}

function gamma64(p: MmmParams, aux: Float64Array, hc: Float64Array, i: number, k: number): number {
  const max = coefficientMax(aux[p.auxCtrlMax + k]);
  const head = Math.tanh(hc[i * p.headsCtrlStride + p.headsCtrlColumn + k]) * max;
  return blend64(p, i % p.weeks, aux[p.auxStableCtrl + k], head);
}

const baseline64 = (p: MmmParams, aux: Float64Array, r: number) =>
  Math.max(softplus64(aux[p.auxBaseline + r]) + softplus64(aux[p.auxGlobalBias]), 0);

const seasonal64 = (p: MmmParams, aux: Float64Array, i: number) =>
  softplus64(aux[p.auxSeasCoeff]) * aux[p.auxSeasonal + i];

/** Σ media, raw and prediction of region-week i. */
function row64(p: MmmParams, [hm, hc, xt, z, aux]: Float64Array[], i: number) {
  const { weeks: T, media: C, controls: K } = p;
  let msum = 0;
  for (let c = 0; c < C; c++) msum += xt[i * C + c] * beta64(p, aux, hm, i, c);
  let csum = 0;
  for (let k = 0; k < K; k++) csum += z[i * K + k] * gamma64(p, aux, hc, i, k);
  let raw = msum + csum + baseline64(p, aux, Math.floor(i / T)) + seasonal64(p, aux, i);
  if (p.hasOffset === 1) raw += aux[p.auxOffset + i];
  return { msum, raw, pred: softplus64(aux[p.auxPredScale]) * raw };
}

// ---- kernels ------------------------------------------------------------------------------------

export const mmmForwardKernel = defineKernel({
  name: 'mmm_forward',
  shader: 'mmm-output',
  entryPoint: 'mmm_forward',
  uniforms,
  inputs: ['headMedia', 'headCtrl', 'xt', 'z', 'aux'],
  outputs: ['out'],
  workgroupSize: [64],
  cpu: (inputs, [out], p) => {
    const [hm, hc, xt, z, aux] = inputs;
    const { regions: R, weeks: T, media: C, controls: K } = p;
    const n = R * T;
    out.fill(0, 0, 3 * p.groups);
    for (let i = 0; i < n; i++) {
      const row = row64(p, inputs, i);
      const w = aux[p.auxMask + i];
      const g = 3 * Math.floor(i / WG);
      if (w !== 0) {
        const a = row.msum - p.mediaPrior * row.raw;
        out[g] += w * pointLoss64(p.lossCode, row.pred - aux[p.auxTarget + i], p.huberDelta);
        out[g + 1] += w * a * a;
        out[g + 2] += w;
      }
      if (p.allOutputs !== 1) continue;
      for (let c = 0; c < C; c++) {
        const b = beta64(p, aux, hm, i, c);
        out[p.outMediaCoeffs + i * C + c] = b;
        out[p.outMediaContrib + i * C + c] = xt[i * C + c] * b;
      }
      for (let k = 0; k < K; k++) {
        const g2 = gamma64(p, aux, hc, i, k);
        out[p.outCtrlCoeffs + i * K + k] = g2;
        out[p.outCtrlContrib + i * K + k] = z[i * K + k] * g2;
      }
      out[p.outPrediction + i] = row.pred;
      out[p.outBaseline + i] = baseline64(p, aux, Math.floor(i / T));
      out[p.outSeasonalContrib + i] = seasonal64(p, aux, i);
      if (p.hasOffset === 1) out[p.outOffset + i] = aux[p.auxOffset + i];
    }
  },
});

export const mmmLossKernel = defineKernel({
  name: 'mmm_loss',
  shader: 'mmm-output',
  entryPoint: 'mmm_loss',
  uniforms,
  inputs: ['partials', 'aux'],
  outputs: ['parts', 'loss'],
  workgroupSize: [256],
  cpu: ([partials, aux], [parts, loss], p) => {
    let dsum = 0;
    let asum = 0;
    let n = 0;
    for (let g = 0; g < p.groups; g++) {
      dsum += partials[3 * g];
      asum += partials[3 * g + 1];
      n += partials[3 * g + 2];
    }
    const data = dsum / Math.max(n, 1);
    const attr = asum / Math.max(n, 1);
    const e = softplus64(aux[p.auxSeasCoeff]) - 1;
    const seas = e * e;
    parts.set([data, attr, seas, n]);
    loss[0] =
      data +
      p.attrWeight * attr * (p.attrAdaptive !== 0 ? data / (attr + 1e-8) : 1) +
      p.seasWeight * seas * (data / (seas + 1e-8));
  },
});

export const mmmBackwardKernel = defineKernel({
  name: 'mmm_backward',
  shader: 'mmm-output',
  entryPoint: 'mmm_backward',
  uniforms,
  inputs: ['headMedia', 'headCtrl', 'xt', 'z', 'aux', 'parts', 'dy'],
  outputs: ['grad'],
  workgroupSize: [64],
  cpu: (inputs, [grad], p) => {
    const [hm, hc, xt, z, aux, parts, dyT] = inputs;
    const { regions: R, weeks: T, media: C, controls: K } = p;
    const n = R * T;
    const nn = Math.max(parts[3], 1);
    const data = parts[0];
    const dy = dyT[0];
    const W = p.gradWork;
    for (let i = 0; i < n; i++) {
      const t = i % T;
      const row = row64(p, inputs, i);
      const w = aux[p.auxMask + i];
      let gp = 0;
      let ga = 0;
      if (w !== 0) {
        gp = (dy * w * pointGrad64(p.lossCode, row.pred - aux[p.auxTarget + i], p.huberDelta)) / nn;
        const ratio = p.attrAdaptive !== 0 ? data / (parts[1] + 1e-8) : 1;
        ga = (dy * p.attrWeight * ratio * 2 * w * (row.msum - p.mediaPrior * row.raw)) / nn;
      }
      const graw = gp * softplus64(aux[p.auxPredScale]) - p.mediaPrior * ga;
      const gmed = graw + ga;
      const keep = headShare64(p, t);
      for (let c = 0; c < C; c++) {
        const j = i * C + c;
        const h = i * p.headsMediaStride + c;
        const sg = sigmoid64(hm[h]);
        const max = coefficientMax(aux[p.auxMediaMax + c]);
        grad[p.gradXt + j] = gmed * beta64(p, aux, hm, i, c);
        grad[p.gradHeadMedia + h] = gmed * xt[j] * keep * max * sg * (1 - sg);
      }
      for (let k = 0; k < K; k++) {
        const j = i * K + k;
        const h = i * p.headsCtrlStride + p.headsCtrlColumn + k;
        const th = Math.tanh(hc[h]);
        const max = coefficientMax(aux[p.auxCtrlMax + k]);
        grad[p.gradHeadCtrl + h] = graw * z[j] * keep * max * (1 - th * th);
      }
      grad[W + i] = graw;
      grad[W + n + i] = gmed;
      grad[W + 2 * n + i] = gp * row.raw;
      if (p.hasOffset === 1) grad[p.gradOffset + i] = graw;
    }
    const sc = aux[p.auxSeasCoeff];
    const e = softplus64(sc) - 1;
    grad[W + 3 * n] = dy * p.seasWeight * (data / (parts[2] + 1e-8)) * 2 * e * sigmoid64(sc);
  },
});

export const mmmReduceKernel = defineKernel({
  name: 'mmm_reduce',
  shader: 'mmm-output',
  entryPoint: 'mmm_reduce',
  uniforms,
  inputs: ['headMedia', 'headCtrl', 'xt', 'z', 'aux'],
  outputs: ['grad'],
  workgroupSize: [256],
  cpu: ([hm, hc, xt, z, aux], [grad], p) => {
    const { regions: R, weeks: T, media: C, controls: K } = p;
    const n = R * T;
    const W = p.gradWork;
    for (let c = 0; c < C; c++) {
      let dmax = 0;
      let dstable = 0;
      for (let i = 0; i < n; i++) {
        const t = i % T;
        const gx = grad[W + n + i] * xt[i * C + c];
        dmax += headShare64(p, t) * gx * sigmoid64(hm[i * p.headsMediaStride + c]);
        if (t < p.burnIn) dstable += burnWeight64(p.burnInMethod, t, p.burnIn) * gx;
      }
      grad[p.gradMediaMax + c] = dmax * sigmoid64(aux[p.auxMediaMax + c]);
      grad[p.gradStableMedia + c] = dstable;
    }
    for (let k = 0; k < K; k++) {
      let dmax = 0;
      let dstable = 0;
      for (let i = 0; i < n; i++) {
        const t = i % T;
        const gz = grad[W + i] * z[i * K + k];
        dmax +=
          headShare64(p, t) * gz * Math.tanh(hc[i * p.headsCtrlStride + p.headsCtrlColumn + k]);
        if (t < p.burnIn) dstable += burnWeight64(p.burnInMethod, t, p.burnIn) * gz;
      }
      grad[p.gradCtrlMax + k] = dmax * sigmoid64(aux[p.auxCtrlMax + k]);
      grad[p.gradStableCtrl + k] = dstable;
    }
    let gb = 0;
    let gs = 0;
    let gps = 0;
    for (let r = 0; r < R; r++) {
      let acc = 0;
      for (let t = 0; t < T; t++) acc += grad[W + r * T + t];
      grad[p.gradBaseline + r] = acc * sigmoid64(aux[p.auxBaseline + r]);
    }
    for (let i = 0; i < n; i++) {
      gb += grad[W + i];
      gs += grad[W + i] * aux[p.auxSeasonal + i];
      gps += grad[W + 2 * n + i];
    }
    grad[p.gradGlobalBias] = gb * sigmoid64(aux[p.auxGlobalBias]);
    grad[p.gradSeasCoeff] = gs * sigmoid64(aux[p.auxSeasCoeff]) + grad[W + 3 * n];
    grad[p.gradPredScale] = gps * sigmoid64(aux[p.auxPredScale]);
  },
});

// ---- buffer layouts -----------------------------------------------------------------------------

/**
 * Offsets of segments packed into one buffer, each starting at a multiple of the backend's view
 * alignment and reserving at least 4 elements (GPU bindings of views are ≥ 16 bytes).
 */
function packSegments(sizes: number[], align: number): { offsets: number[]; total: number } {
  const offsets: number[] = [];
  let at = 0;
  for (const s of sizes) {
    offsets.push(at);
    at += Math.ceil(Math.max(s, 4) / align) * align;
  }
  return { offsets, total: at };
}

interface Plan {
  params: MmmParams;
  aux: { offsets: number[]; total: number };
  out: { offsets: number[]; total: number };
  grad: { offsets: number[]; total: number };
  groups: number;
}

export interface Settings {
  B: number;
  method: number;
  code: number;
  all: boolean;
  delta: number;
  prior: number;
  wAttr: number;
  wSeas: number;
  attrAdaptive: boolean;
  /** the heads come side by side in one [R, T, C + K] tensor */
  combined: boolean;
  /** an `offset` [R, T] is added to raw */
  offset: boolean;
}

function plan(e: Engine, R: number, T: number, C: number, K: number, s: Settings): Plan {
  const align = e.backend.viewAlignment;
  const n = R * T;
  const groups = Math.ceil(n / WG);
  // the offset's segments (if any) come after all others: without one the layouts are unchanged
  const extra = s.offset ? [n] : [];
  const aux = packSegments([C, K, C, K, R, 1, 1, 1, n, n, n, ...extra], align);
  // the forward partials come first, the decomposition (if any) after them
  const outSizes = [3 * groups, ...(s.all ? [n, n * C, n * K, n * C, n * K, n, n, ...extra] : [])];
  const outPack = packSegments(outSizes, align);
  const out = { offsets: outPack.offsets.slice(1), total: outPack.total };
  const headSizes = s.combined ? [n * (C + K), 0] : [n * C, n * K];
  const grad = packSegments(
    [...headSizes, n * C, C, K, C, K, R, 1, 1, 1, 3 * n + 1, ...extra],
    align,
  );
  // combined heads: one gradient segment, the control columns after the media ones
  if (s.combined) grad.offsets[GRAD.headCtrl] = grad.offsets[GRAD.headMedia];
  // the decomposition's positions only with 'all' outputs, the offset's only with an offset
  const outAt = (j: number) => (s.all ? out.offsets[j] : 0);
  const params: MmmParams = {
    regions: R,
    weeks: T,
    media: C,
    controls: K,
    burnIn: s.B,
    burnInMethod: s.method,
    lossCode: s.code,
    allOutputs: s.all ? 1 : 0,
    auxMediaMax: aux.offsets[AUX.mediaMax],
    auxCtrlMax: aux.offsets[AUX.ctrlMax],
    auxStableMedia: aux.offsets[AUX.stableMedia],
    auxStableCtrl: aux.offsets[AUX.stableCtrl],
    auxBaseline: aux.offsets[AUX.baseline],
    auxGlobalBias: aux.offsets[AUX.globalBias],
    auxSeasCoeff: aux.offsets[AUX.seasCoeff],
    auxPredScale: aux.offsets[AUX.predScale],
    auxSeasonal: aux.offsets[AUX.seasonal],
    auxTarget: aux.offsets[AUX.target],
    auxMask: aux.offsets[AUX.mask],
    outPrediction: outAt(OUT.prediction),
    outMediaCoeffs: outAt(OUT.mediaCoeffs),
    outCtrlCoeffs: outAt(OUT.ctrlCoeffs),
    outMediaContrib: outAt(OUT.mediaContrib),
    outCtrlContrib: outAt(OUT.ctrlContrib),
    outBaseline: outAt(OUT.baseline),
    outSeasonalContrib: outAt(OUT.seasonalContrib),
    groups,
    gradHeadMedia: grad.offsets[GRAD.headMedia],
    gradHeadCtrl: grad.offsets[GRAD.headCtrl],
    gradXt: grad.offsets[GRAD.xt],
    gradMediaMax: grad.offsets[GRAD.mediaMax],
    gradCtrlMax: grad.offsets[GRAD.ctrlMax],
    gradStableMedia: grad.offsets[GRAD.stableMedia],
    gradStableCtrl: grad.offsets[GRAD.stableCtrl],
    gradBaseline: grad.offsets[GRAD.baseline],
    gradGlobalBias: grad.offsets[GRAD.globalBias],
    gradSeasCoeff: grad.offsets[GRAD.seasCoeff],
    gradPredScale: grad.offsets[GRAD.predScale],
    gradWork: grad.offsets[GRAD.work],
    headsMediaStride: s.combined ? C + K : C,
    headsCtrlStride: s.combined ? C + K : K,
    headsCtrlColumn: s.combined ? C : 0,
    hasOffset: s.offset ? 1 : 0,
    auxOffset: s.offset ? aux.offsets[AUX.offset] : 0,
    outOffset: s.offset ? outAt(OUT.offsetContrib) : 0,
    gradOffset: s.offset ? grad.offsets[GRAD.offset] : 0,
    huberDelta: s.delta,
    mediaPrior: s.prior,
    attrWeight: s.wAttr,
    seasWeight: s.wSeas,
    attrAdaptive: s.attrAdaptive ? 1 : 0,
  };
  return {
    params,
    aux,
    out,
    grad,
    groups,
  };
}

// ---- op -----------------------------------------------------------------------------------------

export function settingsOf(opts: MmmOutputOptions): Settings {
  const B = opts.burnInWeeks ?? 6;
  if (!(Number.isInteger(B) && B >= 0))
    throw new Error(`causalmix: mmmOutput: burnInWeeks must be an integer ≥ 0, got ${B}`);
  const method = opts.burnInMethod ?? 'exponential';
  if (!(method in METHOD))
    throw new Error(
      `causalmix: mmmOutput: burnInMethod must be 'exponential', 'linear' or 'sigmoid', got '${method}'`,
    );
  const loss = opts.loss ?? 'huber';
  if (loss !== 'huber' && loss !== 'mse')
    throw new Error(`causalmix: mmmOutput: loss must be 'huber' or 'mse', got '${String(loss)}'`);
  const delta = opts.huberDelta ?? 0.25;
  if (!(Number.isFinite(delta) && delta > 0))
    throw new Error(`causalmix: mmmOutput: huberDelta must be a positive number, got ${delta}`);
  const num = (name: string, x: number) => {
    if (!Number.isFinite(x))
      throw new Error(`causalmix: mmmOutput: ${name} must be a finite number, got ${x}`);
    return x;
  };
  const outputs = opts.outputs ?? 'loss';
  if (outputs !== 'loss' && outputs !== 'all')
    throw new Error(
      `causalmix: mmmOutput: outputs must be 'loss' or 'all', got '${String(outputs)}'`,
    );
  return {
    B,
    method: METHOD[method],
    code: LOSS_CODE[loss],
    all: outputs === 'all',
    delta,
    prior: num('mediaPrior', opts.mediaPrior ?? 0.4),
    wAttr: num('attrWeight', opts.attrWeight ?? 0.5),
    wSeas: num('seasWeight', opts.seasWeight ?? 0.1),
    attrAdaptive: attrScaleOf(opts.attrScale),
    combined: false,
    offset: false,
  };
}

function attrScaleOf(mode: MmmOutputOptions['attrScale']): boolean {
  const m = mode ?? 'adaptive';
  if (m !== 'adaptive' && m !== 'fixed')
    throw new Error(
      `causalmix: mmmOutput: attrScale must be 'adaptive' or 'fixed', got '${String(m)}'`,
    );
  return m === 'adaptive';
}

/** Checks every input's engine, dtype and shape; returns [R, T, C, K]. */
export function checkInputs(
  inp: MmmOutputInputs,
  combined: boolean,
): [number, number, number, number] {
  for (const name of MMM_OUTPUT_INPUTS) {
    if (!inp[name]) throw new Error(`causalmix: mmmOutput: input ${name} is missing`);
    inp[name].assertAlive();
  }
  if (inp.offset) inp.offset.assertAlive();
  if (combined) return checkCombined(inp);
  const hm = inp.headMedia;
  const hc = inp.headCtrl;
  if (hm.rank !== 3 || hm.shape[2] < 1)
    throw new Error(
      `causalmix: mmmOutput: headMedia must be [R, T, C] with C ≥ 1, got ${formatShape(hm.shape)}`,
    );
  const [R, T, C] = hm.shape;
  if (R < 1 || T < 1)
    throw new Error(
      `causalmix: mmmOutput: headMedia ${formatShape(hm.shape)} needs at least one region and one week`,
    );
  if (hc.rank !== 3)
    throw new Error(
      `causalmix: mmmOutput: headCtrl must be [R, T, K], got ${formatShape(hc.shape)}`,
    );
  const K = hc.shape[2];
  checkShapes(inp, R, T, C, K, [R, T, C], [R, T, K]);
  return [R, T, C, K];
}

/** Combined heads [R, T, C + K]: C and K come from xt [R, T, C] and z [R, T, K]. */
function checkCombined(inp: MmmOutputInputs): [number, number, number, number] {
  const { xt, z } = inp;
  if (xt.rank !== 3 || xt.shape[2] < 1 || xt.shape[0] < 1 || xt.shape[1] < 1)
    throw new Error(
      `causalmix: mmmOutput: xt must be [R, T, C] with R, T, C ≥ 1, got ${formatShape(xt.shape)}`,
    );
  const [R, T, C] = xt.shape;
  if (z.rank !== 3)
    throw new Error(`causalmix: mmmOutput: z must be [R, T, K], got ${formatShape(z.shape)}`);
  const K = z.shape[2];
  checkShapes(inp, R, T, C, K, [R, T, C + K], [R, T, C + K]);
  return [R, T, C, K];
}

function checkShapes(
  inp: MmmOutputInputs,
  R: number,
  T: number,
  C: number,
  K: number,
  headMedia: number[],
  headCtrl: number[],
): void {
  const hm = inp.headMedia;
  const want: Record<(typeof MMM_OUTPUT_INPUTS)[number], number[]> = {
    headMedia,
    headCtrl,
    mediaMaxRaw: [C],
    ctrlMaxRaw: [K],
    stableMedia: [C],
    stableCtrl: [K],
    xt: [R, T, C],
    z: [R, T, K],
    baselineRaw: [R],
    globalBiasRaw: [1],
    seasonalCoeffRaw: [1],
    predScaleRaw: [1],
    seasonal: [R, T],
    target: [R, T],
    lossMask: [R, T],
  };
  for (const name of MMM_OUTPUT_INPUTS) {
    const t = inp[name];
    const shape = want[name];
    if (t.engine !== hm.engine)
      throw new Error(`causalmix: mmmOutput: ${name} belongs to another engine than headMedia`);
    if (t.dtype !== 'float32')
      throw new Error(`causalmix: mmmOutput: ${name} must be float32, got ${t.dtype}`);
    if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      throw new Error(
        `causalmix: mmmOutput: ${name} has shape ${formatShape(t.shape)}, expected ${formatShape(shape)}`,
      );
  }
  const offset = inp.offset;
  if (offset) {
    if (offset.engine !== hm.engine)
      throw new Error('causalmix: mmmOutput: offset belongs to another engine than headMedia');
    if (offset.dtype !== 'float32')
      throw new Error(`causalmix: mmmOutput: offset must be float32, got ${offset.dtype}`);
    if (offset.rank !== 2 || offset.shape[0] !== R || offset.shape[1] !== T)
      throw new Error(
        `causalmix: mmmOutput: offset has shape ${formatShape(offset.shape)}, expected ${formatShape([R, T])}`,
      );
  }
}

/** The op's inputs with `heads` standing in for both heads, and whether it does. */
export function headsOf(inp: MmmOutputInputs | MmmOutputCombinedInputs): {
  inp: MmmOutputInputs;
  combined: boolean;
} {
  if (!('heads' in inp) || inp.heads === undefined)
    return { inp: inp as MmmOutputInputs, combined: false };
  const { heads, ...rest } = inp;
  return { inp: { ...rest, headMedia: heads, headCtrl: heads }, combined: true };
}

/**
 * The model's output head and loss, fused: returns the scalar loss (recorded on the tape), its
 * parts [data, L_attr, L_seas, n] and, with `outputs: 'all'`, the decomposition. K = 0 (no
 * controls) is allowed.
 */
export function mmmOutput(
  given: MmmOutputInputs | MmmOutputCombinedInputs,
  opts: MmmOutputOptions = {},
): MmmOutputResult {
  const { inp, combined } = headsOf(given);
  const settings = settingsOf(opts);
  const [R, T, C, K] = checkInputs(inp, combined);
  const s = { ...settings, combined, offset: inp.offset !== undefined };
  const e = inp.headMedia.engine;
  const pl = plan(e, R, T, C, K, s);
  const n = R * T;

  // Pack the small parameters and the [R,T] constants into aux (copies, not dispatches).
  const aux = e.empty([pl.aux.total]);
  const packed: Tensor[] = [
    inp.mediaMaxRaw,
    inp.ctrlMaxRaw,
    inp.stableMedia,
    inp.stableCtrl,
    inp.baselineRaw,
    inp.globalBiasRaw,
    inp.seasonalCoeffRaw,
    inp.predScaleRaw,
    inp.seasonal,
    inp.target,
    inp.lossMask,
    ...(inp.offset ? [inp.offset] : []),
  ];
  packed.forEach((t, j) => {
    if (t.size === 0) return;
    const dst = e.sliceView(aux, pl.aux.offsets[j], [t.size]);
    e.copy(t, dst);
    dst.dispose();
  });

  const out = e.empty([pl.out.total]);
  const big = [inp.headMedia, inp.headCtrl, inp.xt, inp.z];
  e.run(mmmForwardKernel, [...big, aux], [out], pl.params, linearGrid(n, WG));
  const parts = e.empty([4]);
  const loss = e.empty([1]);
  e.run(mmmLossKernel, [out, aux], [parts, loss], pl.params, [1, 1, 1]);

  const result: MmmOutputResult = { loss, parts };
  if (s.all) {
    const seg = (j: number, shape: number[]) => e.sliceView(out, pl.out.offsets[j], shape);
    result.prediction = seg(OUT.prediction, [R, T]);
    result.mediaCoeffs = seg(OUT.mediaCoeffs, [R, T, C]);
    result.ctrlCoeffs = seg(OUT.ctrlCoeffs, [R, T, K]);
    result.mediaContrib = seg(OUT.mediaContrib, [R, T, C]);
    result.ctrlContrib = seg(OUT.ctrlContrib, [R, T, K]);
    result.baseline = seg(OUT.baseline, [R, T]);
    result.seasonalContrib = seg(OUT.seasonalContrib, [R, T]);
    if (s.offset) result.offsetContrib = seg(OUT.offsetContrib, [R, T]);
  }
  out.dispose(); // the views (if any) keep the memory

  // the offset (if any) follows the required inputs
  const inputs = [...MMM_OUTPUT_INPUTS.map((k) => inp[k]), ...(inp.offset ? [inp.offset] : [])];
  // aux holds the forward's copies of the small parameters; the parts give the stop-gradient ratios
  result.loss = recordMmmOutput(inputs, loss, { ...s, all: false }, [aux, e.alias(parts, [4])]);
  return result;
}

// ---- backward rule ------------------------------------------------------------------------------

const recordMmmOutput = defineGradient<Settings & { all: boolean }>({
  op: 'mmm_output',
  saves: ['aux', 'parts'],
  why: 'the packed small parameters and constants (aux) and an alias of parts',
  grad: (dy, { inputs, saved, attrs }) => {
    const [aux, parts] = saved;
    const [hm, hc, , , , , xt, z] = inputs;
    const e = hm.engine;
    const [R, T, C] = xt.shape;
    const K = z.shape[2];
    const settings: Settings = attrs;
    const pl = plan(e, R, T, C, K, settings);
    const n = R * T;
    const grad = e.empty([pl.grad.total]);
    e.run(mmmBackwardKernel, [hm, hc, xt, z, aux, parts, dy], [grad], pl.params, linearGrid(n, WG));
    e.run(mmmReduceKernel, [hm, hc, xt, z, aux], [grad], pl.params, linearGrid(C + K + R + 1, 1));
    const seg = (j: number, shape: readonly number[]) =>
      e.sliceView(grad, pl.grad.offsets[j], [...shape]);
    const byName: Partial<Record<keyof MmmOutputInputs, Tensor>> = {
      headMedia: seg(GRAD.headMedia, hm.shape),
      // combined heads: the one gradient above covers both (the input appears twice)
      headCtrl: settings.combined ? undefined : seg(GRAD.headCtrl, hc.shape),
      xt: seg(GRAD.xt, xt.shape),
      mediaMaxRaw: seg(GRAD.mediaMax, [C]),
      ctrlMaxRaw: seg(GRAD.ctrlMax, [K]),
      stableMedia: seg(GRAD.stableMedia, [C]),
      stableCtrl: seg(GRAD.stableCtrl, [K]),
      baselineRaw: seg(GRAD.baseline, [R]),
      globalBiasRaw: seg(GRAD.globalBias, [1]),
      seasonalCoeffRaw: seg(GRAD.seasCoeff, [1]),
      predScaleRaw: seg(GRAD.predScale, [1]),
      offset: settings.offset ? seg(GRAD.offset, [R, T]) : undefined,
    };
    grad.dispose(); // the views keep the memory
    const names = settings.offset
      ? [...MMM_OUTPUT_INPUTS, ...MMM_OUTPUT_OPTIONAL_INPUTS]
      : MMM_OUTPUT_INPUTS;
    return names.map((k) => (CONSTANT.has(k) ? null : (byName[k] ?? null)));
  },
});

/** Each week's weight of the stable coefficients (the heads get 1 − it): nonzero in the burn-in. */
export function stableWeights(method: number, B: number, T: number): Float64Array {
  const sw = new Float64Array(T);
  for (let t = 0; t < Math.min(B, T); t++) sw[t] = burnWeight64(method, t, B);
  return sw;
}

/** `stableWeights` for a burn-in given by name (the model's counterfactual terms use it). */
export function burnInStableWeights(B: number, method: BurnInMethod, T: number): Float64Array {
  return stableWeights(METHOD[method], B, T);
}
