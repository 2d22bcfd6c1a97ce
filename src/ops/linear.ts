/**
 * Fused linear layer: y = act(x·Wᵀ + b) for x [..., I], W [O, I] (PyTorch layout), b [O] or none,
 * act ∈ {none, relu, tanh}. Every leading axis of x folds into M rows. It runs on the grouped
 * layer's kernels (shaders/grouped-linear.wgsl) as a single group bound to W and b directly.
 *
 * Forward: one dispatch; bias and activation run in the matmul's epilogue.
 * Backward, given dy [..., O], with dZ = dy ⊙ act′ applied while the kernels load dy (never stored):
 *   dx = dZ·W (one dispatch, skipped when x needs no gradient)
 *   dW = dZᵀ·x and db = Σ_rows dZ: a split-K pass over the rows (db as an extra column of ones)
 *   into one packed [dW | db] buffer, plus a reduction of the slices when M is large (see
 *   src/ops/grouped-linear.ts); dW and db are views of it.
 * So backward is at most 3 dispatches.
 *
 * act′ comes from the saved output y: relu′ = [y > 0], so relu′(0) = 0 as in PyTorch (and as
 * src/ops/elementwise.ts); tanh′ = 1 − y². The latter loses relative precision where |y| → 1, but
 * its absolute error stays within ~2·2⁻²⁴ there, which is all a gradient (a sum of such terms
 * times dy) can see, so y is saved instead of the pre-activation.
 */
import type { Engine } from '../engine/engine.js';
import { formatShape, numel } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { defineGradient } from '../autograd/registry.js';
import {
  dxInto,
  forwardInto,
  gradWeights,
  LINEAR_ACTIVATION_CODES,
  singleLayerPlan,
  type Plan,
} from './grouped-linear.js';

export type LinearActivation = 'none' | 'relu' | 'tanh';

const ACT = LINEAR_ACTIVATION_CODES;

// ---- op -----------------------------------------------------------------------------------------

function check(x: Tensor, weight: Tensor, bias: Tensor | null, activation: string): void {
  const fail = (msg: string) => {
    throw new Error(`causalmix: linear: ${msg}`);
  };
  for (const [name, t] of [
    ['x', x],
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (!t) continue;
    t.assertAlive();
    if (t.engine !== x.engine) fail(`${name} belongs to another engine than x`);
    if (t.dtype !== 'float32') fail(`${name} must be float32, got ${t.dtype}`);
  }
  if (!(activation in ACT))
    fail(`activation must be 'none', 'relu' or 'tanh', got '${activation}'`);
  if (weight.rank !== 2) fail(`weight must be [O, I], got ${formatShape(weight.shape)}`);
  const [o, n] = weight.shape;
  if (o < 1 || n < 1) fail(`weight ${formatShape(weight.shape)} needs O ≥ 1 and I ≥ 1`);
  if (x.rank < 1 || x.shape[x.rank - 1] !== n)
    fail(`x ${formatShape(x.shape)} must end in I = ${n} (weight ${formatShape(weight.shape)})`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== o))
    fail(`bias has shape ${formatShape(bias.shape)}, expected [${o}]`);
}

/**
 * act(x·Wᵀ + b): x [..., I], weight [O, I], bias [O] or null → [..., O], in one dispatch.
 * activation: 'none' (default), 'relu' or 'tanh'.
 */
export function linear(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  activation: LinearActivation = 'none',
): Tensor {
  check(x, weight, bias, activation);
  const e = x.engine;
  const o = weight.shape[0];
  const m = numel(x.shape.slice(0, -1));
  const code = ACT[activation];
  const y = e.empty([...x.shape.slice(0, -1), o]);
  const pl = singleLayerPlan(e, m, weight.shape, bias !== null, code);
  // The bias binding holds b at 0 (the plan's offset is the packed gradient's); without a bias
  // the weight stands in for the unread binding.
  const fwd: Plan = { ...pl, groups: [{ ...pl.groups[0], boff: 0 }] };
  forwardInto(e, fwd, x, weight, bias ?? weight, y);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  // Only act′ needs y; an alias keeps it alive even if the caller disposes the output.
  const saved = code === ACT.none ? [] : [e.alias(y, y.shape)];
  return recordLinear(inputs, y, { code }, saved);
}

// ---- backward rule ------------------------------------------------------------------------------

/** dx = dZ·W [M, I] in one dispatch. */
function gradX(e: Engine, x: Tensor, w: Tensor, dy: Tensor, y: Tensor, code: number): Tensor {
  const dx = e.empty(x.shape);
  dxInto(e, singleLayerPlan(e, x.size / w.shape[1], w.shape, false, code), dy, w, y, dx);
  return dx;
}

/** dW [O, I] and, when `wantDb`, db [O]: views of one packed split-K result. */
function gradW(
  e: Engine,
  x: Tensor,
  wShape: readonly number[],
  dy: Tensor,
  y: Tensor,
  code: number,
  wantDb: boolean,
): [Tensor, Tensor | null] {
  const [o, n] = wShape;
  const pl = singleLayerPlan(e, x.size / n, wShape, wantDb, code);
  const grad = gradWeights(e, x, dy, y, pl);
  const g = pl.groups[0];
  const dw = e.sliceView(grad, g.woff, [o, n]);
  const db = wantDb ? e.sliceView(grad, g.boff, [o]) : null;
  grad.dispose(); // the views keep the memory
  return [dw, db];
}

/**
 * For other ops' backward passes (e.g. the GRU's): dW = dZᵀ·x [O, I] and db = Σ_rows dZ [O] by
 * the split-K kernel, and dx = dZ·W [M, I], with dZ [M, O] given directly (no activation).
 */
export function linearWeightGrad(x: Tensor, dz: Tensor): [Tensor, Tensor] {
  const [n, o] = [x.shape[x.rank - 1], dz.shape[dz.rank - 1]];
  const [dw, db] = gradW(x.engine, x, [o, n], dz, dz, ACT.none, true);
  return [dw, db!];
}

export function linearInputGrad(x: Tensor, w: Tensor, dz: Tensor): Tensor {
  return gradX(x.engine, x, w, dz, dz, ACT.none);
}

const recordLinear = defineGradient<{ code: number }>({
  op: 'linear',
  saves: ['y?'],
  why: 'y (an alias of the output) when the activation is relu or tanh; x and W are inputs',
  grad: (dy, { inputs, saved, attrs }) => {
    const [x, w, b] = inputs;
    const e = x.engine;
    const code = attrs.code;
    // act = none never reads y: dy stands in for the binding.
    const y = saved[0] ?? dy;
    const m = x.size / w.shape[1];
    const dx = !x.requiresGrad ? null : m === 0 ? e.empty(x.shape) : gradX(e, x, w, dy, y, code);
    const wantDb = b !== undefined && b.requiresGrad;
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (w.requiresGrad || wantDb) {
      [dw, db] = gradW(e, x, w.shape, dy, y, code, wantDb);
      if (!w.requiresGrad) {
        dw.dispose();
        dw = null;
      }
    }
    return b === undefined ? [dx, dw] : [dx, dw, db];
  },
});
