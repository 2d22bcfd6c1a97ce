/**
 * The DAG regulariser (model-spec §7) as one fused op (shaders/dag-penalty.wgsl): forward and
 * backward are one single-workgroup dispatch each, instead of a dozen tiny element-wise ones.
 *
 *   triangular: 0.01·ΣA + 0.001·ΣP(1−P) + 0.0002·Σ|L|
 *   notears:    1e-4·Σ|L| + coef[0]·ΣA + coef[1]·Σ_j ‖A[:, j]‖₂   (coef = [λ1, λg], or 0 before warm-up)
 * with P = σ(L/τ) and A = P ∘ M. The acyclicity term ½ρh² + αh is added by the model with
 * `notearsH` (it needs the matrix exponential).
 */
import { type KernelDef, type KernelParams } from '../engine/kernel.js';
import { formatShape } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { registerGradient } from '../autograd/registry.js';
import { recordOp } from '../autograd/tape.js';
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

export const dagPenaltyKernel: KernelDef = {
  name: 'dag_penalty',
  shader: 'dag-penalty',
  entryPoint: 'dag_penalty',
  cpu: ([l, coef, base], [out], p) => {
    const [c, nt, hasBase] = p.u;
    const [w0, w1, w2, invTau] = p.f;
    let v = 0;
    for (let e = 0; e < c * c; e++) {
      const pr = sigmoid(l[e] * invTau);
      const a = pr * maskOf(nt === 1, Math.floor(e / c), e % c);
      v += (w0 + coef[0]) * a + w1 * pr * (1 - pr) + w2 * Math.abs(l[e]);
    }
    colNorms64(l, c, nt === 1, invTau).forEach((n) => (v += coef[1] * n));
    out[0] = v + (hasBase === 1 ? base[0] : 0);
  },
};

export const dagPenaltyGradKernel: KernelDef = {
  name: 'dag_penalty_grad',
  shader: 'dag-penalty',
  entryPoint: 'dag_penalty_grad',
  cpu: ([l, coef, dy], [dl], p) => {
    const [c, nt] = p.u;
    const [w0, w1, w2, invTau] = p.f;
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
};

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
): KernelParams {
  const w = MODE_WEIGHTS[notears ? 'notears' : 'triangular'];
  return {
    u: [c, notears ? 1 : 0, hasBase ? 1 : 0],
    f: [w[0] * scale, w[1] * scale, w[2] * scale, 1 / tau],
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
  return recordOp('dag_penalty', inputs, out, { p });
}

registerGradient({
  op: 'dag_penalty',
  saves: 'nothing (probabilities and column norms are recomputed from the logits)',
  grad: (dy, { inputs, attrs }) => {
    const [logits, coef, base] = inputs;
    const dl = logits.engine.empty(logits.shape);
    logits.engine.run(
      dagPenaltyGradKernel,
      [logits, coef, dy],
      [dl],
      attrs.p as KernelParams,
      [1, 1, 1],
    );
    // ∂(penalty + base)/∂base = 1: dy itself
    return base ? [dl, null, logits.engine.alias(dy, base.shape)] : [dl, null];
  },
});
