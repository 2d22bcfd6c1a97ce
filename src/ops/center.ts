/**
 * Centring over the time axis (shaders/center.wgsl): y = x − Σ_t w_t·x_t per (row, channel), for
 * x [A, T, C] and data weights w [A, T, 1]. The model's media centring (β·(x̃ − m), m each region's
 * weighted mean) in one dispatch forward and one backward instead of mul, sum and a broadcast
 * subtraction with their three gradient rules and accumulations.
 */
import { defineKernel, linearGrid } from '../engine/kernel.js';
import { uniformLayout, type UniformValues } from '../engine/kernel-interface.js';
import { checkLoopBudget } from '../engine/launch-planner.js';
import { formatShape } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { defineGradient } from '../autograd/registry.js';

const fail = (msg: string): never => {
  throw new Error(`causalmix: centerRows: ${msg}`);
};

/** The uniforms of both entry points of shaders/center.wgsl. */
const uniforms = uniformLayout('center', 'CenterUniforms', {
  /** rows A (regions) */
  a: 'u32',
  /** time steps T */
  t: 'u32',
  /** channels C */
  c: 'u32',
});
type CenterParams = UniformValues<typeof uniforms.fields>;

/** float64 reference of the forward: y = x − Σ_s w_s·x_s per (a, c). */
function center64([x, w]: Float64Array[], [y]: Float64Array[], { a, t, c }: CenterParams): void {
  for (let r = 0; r < a; r++)
    for (let j = 0; j < c; j++) {
      let m = 0;
      for (let s = 0; s < t; s++) m += w[r * t + s] * x[(r * t + s) * c + j];
      for (let s = 0; s < t; s++) y[(r * t + s) * c + j] = x[(r * t + s) * c + j] - m;
    }
}

/** float64 reference of the backward: dx_s = dy_s − w_s·Σ_t dy_t per (a, c). */
function centerGrad64([dy, w]: Float64Array[], [dx]: Float64Array[], p: CenterParams): void {
  const { a, t, c } = p;
  for (let r = 0; r < a; r++)
    for (let j = 0; j < c; j++) {
      let total = 0;
      for (let s = 0; s < t; s++) total += dy[(r * t + s) * c + j];
      for (let s = 0; s < t; s++)
        dx[(r * t + s) * c + j] = dy[(r * t + s) * c + j] - w[r * t + s] * total;
    }
}

export const centerRowsKernel = defineKernel({
  name: 'center_rows',
  shader: 'center',
  entryPoint: 'center_rows',
  uniforms,
  inputs: ['x', 'w'],
  outputs: ['y'],
  workgroupSize: [64],
  cpu: center64,
});

export const centerRowsGradKernel = defineKernel({
  name: 'center_rows_grad',
  shader: 'center',
  entryPoint: 'center_rows_grad',
  uniforms,
  inputs: ['dy', 'w'],
  outputs: ['dx'],
  workgroupSize: [64],
  cpu: centerGrad64,
});

/** Runs `kernel` over (a, c) pairs; each invocation loops twice over T. */
function launch(kernel: typeof centerRowsKernel, src: Tensor, w: Tensor): Tensor {
  const e = src.engine;
  const [a, t, c] = src.shape;
  const out = e.empty(src.shape);
  if (out.size > 0) {
    checkLoopBudget(e, 2 * t + 2, `centring over ${t} time steps (${kernel.name})`);
    e.run(kernel, [src, w], [out], { a, t, c }, linearGrid(a * c, 64));
  }
  return out;
}

/**
 * y[a, t, c] = x[a, t, c] − Σ_s w[a, s]·x[a, s, c] for x [A, T, C] and w [A, T, 1] (float32; w is
 * data and gets no gradient). With w a mask over each row's count, the subtracted value is the
 * row's masked mean per channel.
 */
export function centerRows(x: Tensor, w: Tensor): Tensor {
  if (w.engine !== x.engine) fail('x and w live on different engines');
  if (x.dtype !== 'float32' || w.dtype !== 'float32')
    fail(`x and w must be float32 (got ${x.dtype} and ${w.dtype})`);
  const pair = `x ${formatShape(x.shape)} and w ${formatShape(w.shape)}`;
  if (x.rank !== 3 || w.rank !== 3) fail(`${pair} must both have rank 3`);
  if (w.shape[0] !== x.shape[0] || w.shape[1] !== x.shape[1] || w.shape[2] !== 1)
    fail(`${pair}: w must be [A, T, 1] for x [A, T, C]`);
  if (w.requiresGrad) fail('w is data: it cannot require a gradient');
  return recordCenter([x, w], launch(centerRowsKernel, x, w), {});
}

const recordCenter = defineGradient<Record<string, never>>({
  op: 'centerRows',
  saves: [],
  why: 'nothing (the gradient needs only dy and the weights, an input)',
  grad: (dy, { inputs: [, w] }) => [launch(centerRowsGradKernel, dy, w), null],
});
