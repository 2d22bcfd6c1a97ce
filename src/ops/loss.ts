/**
 * Masked mean losses (shaders/loss.wgsl): MSE and Huber as fused kernels. Each returns the scalar
 *
 *   L = Σ w·ℓ(pred − target) / max(Σ w, 1)
 *
 * with mask weights w (0/1; all ones when the mask is omitted), i.e. the mean over unmasked
 * elements, and 0 when nothing is unmasked. Forward and backward are one single-workgroup dispatch
 * each; the backward kernel reads the upstream gradient from its device tensor and recomputes Σ w
 * itself, so nothing is read back. The mask is a constant: it gets no gradient.
 */
import type { Engine } from '../engine/engine.js';
import { defineKernel } from '../engine/kernel.js';
import { shaderConstants, uniformLayout, type UniformValues } from '../engine/kernel-interface.js';
import { formatShape, sameShape } from '../engine/shape.js';
import { checkLoopBudget } from '../engine/launch-planner.js';
import type { Tensor } from '../engine/tensor.js';
import { defineGradient } from '../autograd/registry.js';

const CODES = shaderConstants('loss', { LOSS_MSE: 0, LOSS_HUBER: 1 });
export const LOSS = { mse: CODES.LOSS_MSE, huber: CODES.LOSS_HUBER } as const;

const uniforms = uniformLayout('loss', 'LossUniforms', {
  /** elements */
  n: 'u32',
  /** LOSS_MSE (ℓ = d²) or LOSS_HUBER */
  code: 'u32',
  /** 1 when the mask binding holds weights, 0 when every weight is 1 */
  has_mask: 'u32',
  /** Huber δ */
  delta: 'f32',
});
type LossParams = UniformValues<typeof uniforms.fields>;

// ---- float64 references -------------------------------------------------------------------------

/** ℓ(d): d² for MSE; PyTorch's Huber ½d² for |d| ≤ δ, δ(|d| − ½δ) beyond. */
export function pointLoss64(code: number, d: number, delta: number): number {
  if (code === LOSS.mse) return d * d;
  const a = Math.abs(d);
  return a <= delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
}

/** ℓ′(d): 2d for MSE; clamp(d, −δ, δ) for Huber (continuous at ±δ). */
export function pointLossGrad64(code: number, d: number, delta: number): number {
  if (code === LOSS.mse) return 2 * d;
  return Math.min(Math.max(d, -delta), delta);
}

const weight64 = (mask: Float64Array, p: LossParams, i: number) => (p.has_mask === 1 ? mask[i] : 1);

function count64(mask: Float64Array, p: LossParams): number {
  let c = 0;
  for (let i = 0; i < p.n; i++) c += weight64(mask, p, i);
  return c;
}

// ---- kernels ------------------------------------------------------------------------------------

export const lossKernel = defineKernel({
  name: 'loss_forward',
  shader: 'loss',
  entryPoint: 'loss_forward',
  uniforms,
  inputs: ['pred', 'target', 'mask'],
  outputs: ['out'],
  workgroupSize: [256],
  cpu: ([pred, target, mask], [out], p) => {
    let acc = 0;
    for (let i = 0; i < p.n; i++) {
      const w = weight64(mask, p, i);
      // skipped rather than multiplied by 0, as on the GPU (where ℓ may overflow to inf)
      if (w !== 0) acc += w * pointLoss64(p.code, pred[i] - target[i], p.delta);
    }
    out[0] = acc / Math.max(count64(mask, p), 1);
  },
});

export const lossGradKernel = defineKernel({
  name: 'loss_backward',
  shader: 'loss',
  entryPoint: 'loss_backward',
  uniforms,
  inputs: ['pred', 'target', 'mask', 'dy'],
  outputs: ['dpred', 'dtarget'],
  workgroupSize: [256],
  cpu: ([pred, target, mask, dy], [dpred, dtarget], p) => {
    const scale = dy[0] / Math.max(count64(mask, p), 1);
    for (let i = 0; i < p.n; i++) {
      const w = weight64(mask, p, i);
      const g = w !== 0 ? scale * w * pointLossGrad64(p.code, pred[i] - target[i], p.delta) : 0;
      dpred[i] = g;
      dtarget[i] = -g;
    }
  },
});

/** Both kernels run as one workgroup of 256 invocations striding over every element. */
const ONE_GROUP: [number, number, number] = [1, 1, 1];

/**
 * Loop iterations of one invocation of either kernel: two strided passes of ⌈n/256⌉ steps (the
 * loss or gradient, and Σ w) and at most two 8-step tree sums, each loop entry costing one more.
 */
export const lossLoopIterations = (n: number) => 2 * (Math.ceil(n / 256) + 1) + 2 * 9;

function checkLossBudget(e: Engine, kernel: string, n: number): void {
  checkLoopBudget(e, lossLoopIterations(n), `${kernel} over ${n} elements`);
}

function lossParams(code: number, n: number, hasMask: boolean, delta: number): LossParams {
  return { n, code, has_mask: hasMask ? 1 : 0, delta };
}

// ---- ops ----------------------------------------------------------------------------------------

function checkOperands(what: string, pred: Tensor, target: Tensor, mask: Tensor | undefined): void {
  const named: [string, Tensor | undefined][] = [
    ['pred', pred],
    ['target', target],
    ['mask', mask],
  ];
  for (const [name, t] of named) {
    if (!t) continue;
    t.assertAlive();
    if (t.engine !== pred.engine)
      throw new Error(`causalmix: ${what}: ${name} belongs to another engine than pred`);
    if (t.dtype !== 'float32')
      throw new Error(`causalmix: ${what}: ${name} must be float32, got ${t.dtype}`);
    if (!sameShape(t.shape, pred.shape)) {
      throw new Error(
        `causalmix: ${what}: ${name} has shape ${formatShape(t.shape)} but pred has shape ${formatShape(pred.shape)} (they must match)`,
      );
    }
  }
}

function maskedLoss(
  what: string,
  code: number,
  pred: Tensor,
  target: Tensor,
  mask: Tensor | undefined,
  delta: number,
): Tensor {
  checkOperands(what, pred, target, mask);
  const e = pred.engine;
  checkLossBudget(e, `${what} (loss_forward)`, pred.size);
  const out = e.empty([]);
  // Without a mask, pred fills the mask binding (never read: the flag says every weight is 1).
  const p = lossParams(code, pred.size, mask !== undefined, delta);
  e.run(lossKernel, [pred, target, mask ?? pred], [out], p, ONE_GROUP);
  // An alias keeps the mask alive for the backward pass even if the caller disposes it.
  const saved = mask ? [e.alias(mask, mask.shape)] : [];
  return recordMaskedLoss([pred, target], out, { code, delta }, saved);
}

/**
 * Mean squared error over the unmasked elements: Σ mask·(pred − target)² / max(Σ mask, 1).
 * `mask` (same shape, 0/1 weights) defaults to all ones; it gets no gradient.
 */
export function mseLoss(pred: Tensor, target: Tensor, mask?: Tensor): Tensor {
  return maskedLoss('mseLoss', LOSS.mse, pred, target, mask, 0);
}

/**
 * Huber loss (PyTorch's HuberLoss) over the unmasked elements: with d = pred − target,
 * ℓ = ½d² for |d| ≤ δ and δ(|d| − ½δ) otherwise; Σ mask·ℓ / max(Σ mask, 1).
 */
export function huberLoss(pred: Tensor, target: Tensor, delta: number, mask?: Tensor): Tensor {
  if (!(Number.isFinite(delta) && delta > 0))
    throw new Error(`causalmix: huberLoss: delta must be a positive finite number, got ${delta}`);
  return maskedLoss('huberLoss', LOSS.huber, pred, target, mask, delta);
}

// ---- backward rule ------------------------------------------------------------------------------

const recordMaskedLoss = defineGradient<{ code: number; delta: number }>({
  op: 'masked_loss',
  saves: ['mask?'],
  why: 'an alias of the mask, if any (pred and target are read again; ℓ′ is recomputed)',
  grad: (dy, { inputs: [pred, target], saved, attrs }) => {
    const e = pred.engine;
    const mask: Tensor | undefined = saved[0];
    checkLossBudget(e, 'loss_backward', pred.size);
    const dpred = e.empty(pred.shape);
    const dtarget = e.empty(target.shape);
    const p = lossParams(attrs.code, pred.size, mask !== undefined, attrs.delta);
    // One dispatch writes both gradients (dtarget = −dpred), scaled by dy read on the device.
    e.run(lossGradKernel, [pred, target, mask ?? pred, dy], [dpred, dtarget], p, ONE_GROUP);
    return [dpred, dtarget];
  },
});
