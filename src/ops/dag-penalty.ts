/**
 * The DAG regulariser (model-spec §7) as one fused op (shaders/dag-penalty.wgsl): forward and
 * backward are one single-workgroup dispatch each, instead of a dozen tiny element-wise ones.
 *
 *   triangular: 0.01·ΣA + 0.001·ΣP(1−P) + 0.0002·Σ|L|
 *   notears:    1e-4·Σ|L| + coef[0]·ΣA + coef[1]·Σ_j ‖A[:, j]‖₂   (coef = [λ1, λg], or 0 before warm-up)
 * with P = σ(L/τ) and A = P ∘ M. The acyclicity term ½ρh² + αh is added by the model with
 * `notearsH` (it needs the matrix exponential).
 */
import { defineKernel } from '../engine/kernel.js';
import { uniformLayout, type UniformValues } from '../engine/kernel-interface.js';
import { formatShape } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { defineGradient } from '../autograd/registry.js';
import { sigmoid } from '../maths/functions.js';

export const DAG_MAX_CHANNELS = 64;

/** Fixed weights per mode: [ΣA, ΣP(1−P), Σ|L|]. */
const MODE_WEIGHTS = { triangular: [0.01, 0.001, 0.0002], notears: [0, 0, 1e-4] } as const;

function maskOf(notears: boolean, i: number, j: number): number {
  return notears ? (i === j ? 0 : 1) : i < j ? 1 : 0;
}

function colNorms64(l: Float64Array, c: number, notears: boolean, invTau: number): number[] {
  return Array.from({ length: c }, (_, j) => {
    let s = 0;
    for (let i = 0; i < c; i++) s += (sigmoid(l[i * c + j] * invTau) * maskOf(notears, i, j)) ** 2;
    return Math.sqrt(s + 1e-8);
  });
}

const uniforms = uniformLayout('dag-penalty', 'DagPenaltyUniforms', {
  /** channels C */
  c: 'u32',
  /** 1: the NOTEARS mask (off-diagonal), 0: strictly upper-triangular */
  notears: 'u32',
  /** 1: the forward adds the base value */
  has_base: 'u32',
  /** weights of ΣA, ΣP(1−P) and Σ|L| */
  w_a: 'f32',
  w_p: 'f32',
  w_l: 'f32',
  /** 1/τ */
  inv_tau: 'f32',
});
type DagParams = UniformValues<typeof uniforms.fields>;

export const dagPenaltyKernel = defineKernel({
  name: 'dag_penalty',
  shader: 'dag-penalty',
  entryPoint: 'dag_penalty',
  uniforms,
  inputs: ['logits', 'coef', 'base'],
  outputs: ['value'],
  workgroupSize: [256],
  cpu: ([l, coef, base], [out], p) => {
    const { c, notears: nt, has_base: hasBase, w_a: w0, w_p: w1, w_l: w2, inv_tau: invTau } = p;
    let v = 0;
    for (let e = 0; e < c * c; e++) {
      const pr = sigmoid(l[e] * invTau);
      const a = pr * maskOf(nt === 1, Math.floor(e / c), e % c);
      v += (w0 + coef[0]) * a + w1 * pr * (1 - pr) + w2 * Math.abs(l[e]);
    }
    colNorms64(l, c, nt === 1, invTau).forEach((n) => (v += coef[1] * n));
    out[0] = v + (hasBase === 1 ? base[0] : 0);
  },
});

export const dagPenaltyGradKernel = defineKernel({
  name: 'dag_penalty_grad',
  shader: 'dag-penalty',
  entryPoint: 'dag_penalty_grad',
  uniforms,
  inputs: ['logits', 'coef', 'dy'],
  outputs: ['dlogits'],
  workgroupSize: [256],
  cpu: ([l, coef, dy], [dl], p) => {
    const { c, notears: nt, w_a: w0, w_p: w1, w_l: w2, inv_tau: invTau } = p;
    const norms = colNorms64(l, c, nt === 1, invTau);
    for (let e = 0; e < c * c; e++) {
      const j = e % c;
      const pr = sigmoid(l[e] * invTau);
      const m = maskOf(nt === 1, Math.floor(e / c), j);
      const dp = pr * (1 - pr) * invTau;
      const da = w0 + coef[0] + (coef[1] * pr * m) / norms[j];
      dl[e] = dy[0] * (da * m * dp + w1 * (1 - 2 * pr) * dp + w2 * Math.sign(l[e]));
    }
  },
});

export interface DagPenaltyOptions {
  mode?: 'triangular' | 'notears';
  temperature?: number;
  /** multiplies the fixed weights (the loss's dagWeight; coef is scaled by whoever writes it) */
  scale?: number;
  /** a [1] value added to the penalty (the rest of the loss), saving the step a separate add */
  base?: Tensor;
}

function params(
  c: number,
  notears: boolean,
  tau: number,
  scale: number,
  hasBase: boolean,
): DagParams {
  const w = MODE_WEIGHTS[notears ? 'notears' : 'triangular'];
  return {
    c,
    notears: notears ? 1 : 0,
    has_base: hasBase ? 1 : 0,
    w_a: w[0] * scale,
    w_p: w[1] * scale,
    w_l: w[2] * scale,
    inv_tau: 1 / tau,
  };
}

/**
 * The DAG penalty of logits [C, C]; `coef` [2] holds the NOTEARS weights [λ1, λg] (written by the
 * trainer; zeros in triangular mode or before the warm-up). Returns a [1] tensor (plus `base`).
 */
export function dagPenalty(logits: Tensor, coef: Tensor, opts: DagPenaltyOptions = {}): Tensor {
  const c = logits.shape[0];
  if (logits.shape.length !== 2 || logits.shape[1] !== c || c < 1 || c > DAG_MAX_CHANNELS)
    throw new Error(
      `causalmix: dagPenalty: logits must be [C, C] with C ≤ ${DAG_MAX_CHANNELS}, got ${formatShape(logits.shape)}`,
    );
  if (coef.size !== 2) throw new Error('causalmix: dagPenalty: coef must hold 2 values');
  const base = opts.base;
  if (base && base.size !== 1)
    throw new Error(
      `causalmix: dagPenalty: base must hold 1 value, got ${formatShape(base.shape)}`,
    );
  const tau = opts.temperature ?? 0.5;
  const notears = opts.mode === 'notears';
  const scale = opts.scale ?? 1;
  const out = logits.engine.empty([1]);
  const p = params(c, notears, tau, scale, base !== undefined);
  logits.engine.run(dagPenaltyKernel, [logits, coef, base ?? logits], [out], p, [1, 1, 1]);
  const inputs = base ? [logits, coef, base] : [logits, coef];
  return recordDagPenalty(inputs, out, { p });
}

const recordDagPenalty = defineGradient<{ p: DagParams }>({
  op: 'dag_penalty',
  saves: [],
  why: 'nothing (probabilities and column norms are recomputed from the logits)',
  grad: (dy, { inputs, attrs }) => {
    const [logits, coef, base] = inputs;
    const dl = logits.engine.empty(logits.shape);
    logits.engine.run(dagPenaltyGradKernel, [logits, coef, dy], [dl], attrs.p, [1, 1, 1]);
    // ∂(penalty + base)/∂base = 1: dy itself
    return base ? [dl, null, logits.engine.alias(dy, base.shape)] : [dl, null];
  },
});
