/**
 * Sums and means over axes or in total (shaders/reduce.wgsl). Small reductions use one
 * invocation per output; long ones a 256-wide workgroup per output with a tree sum, which is
 * also more accurate in f32.
 */
import { defineKernel, linearGrid } from '../engine/kernel.js';
import { uniformLayout, type UniformValues } from '../engine/kernel-interface.js';
import {
  broadcastStrides,
  normalizeAxis,
  padTo,
  sameShape,
  stridesOf,
  type Shape,
} from '../engine/shape.js';
import { checkLoopBudget } from '../engine/launch-planner.js';
import type { Tensor } from '../engine/tensor.js';
import { defineGradient } from '../autograd/registry.js';
import { stridedMap, stridedOffset64, UNARY } from './elementwise.js';

const uniforms = uniformLayout(
  'reduce',
  'ReduceUniforms',
  {
    /** outputs (elements of the kept dims) */
    n_out: 'u32',
    /** values summed per output (elements of the reduced dims) */
    n_red: 'u32',
    /** 1: sum of squares, 0: sum */
    square: 'u32',
    /** factor applied to each sum (1/count for a mean) */
    scale: 'f32',
    /** the kept dims' shape, left-padded to 6-D with 1s */
    kept_shape: 'u32[6]',
    /** their strides in x, left-padded with 0s */
    kept_strides: 'u32[6]',
    /** the reduced dims' shape, left-padded with 1s */
    red_shape: 'u32[6]',
    /** their strides in x, left-padded with 0s */
    red_strides: 'u32[6]',
  },
  'u',
  { kept_offset: ['kept_shape', 'kept_strides'], red_offset: ['red_shape', 'red_strides'] },
);
type ReduceParams = UniformValues<typeof uniforms.fields>;

/** Reductions at least this long use the workgroup-per-output kernel. */
const WIDE_FROM = 512;
/** Invocations per workgroup of reduce_wide. */
const WIDE = 256;

/**
 * Loop iterations of one reduce_wide invocation: ⌈nRed/256⌉ strided steps and an 8-step tree, each
 * loop entry costing one more (the offsets' fixed 6-step loops are unrolled).
 */
export const reduceWideLoopIterations = (nRed: number) => Math.ceil(nRed / WIDE) + 1 + 9;

function reduce64([x]: Float64Array[], [out]: Float64Array[], p: ReduceParams): void {
  for (let o = 0; o < p.n_out; o++) {
    const base = stridedOffset64(o, p.kept_shape, p.kept_strides);
    let acc = 0;
    for (let j = 0; j < p.n_red; j++) {
      const v = x[base + stridedOffset64(j, p.red_shape, p.red_strides)];
      acc += p.square === 1 ? v * v : v;
    }
    out[o] = acc * p.scale;
  }
}

export const reduceRowsKernel = defineKernel({
  name: 'reduce_rows',
  shader: 'reduce',
  entryPoint: 'reduce_rows',
  uniforms,
  inputs: ['x'],
  outputs: ['out'],
  workgroupSize: [64],
  cpu: reduce64,
});
export const reduceWideKernel = defineKernel({
  name: 'reduce_wide',
  shader: 'reduce',
  entryPoint: 'reduce_wide',
  uniforms,
  inputs: ['x'],
  outputs: ['out'],
  workgroupSize: [WIDE],
  cpu: reduce64,
});

function normalizeAxes(axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normalizeAxis(a, rank)))].sort((a, b) => a - b);
  return out;
}

/** Dispatches sum (or sum of squares) of x over `axes`, times `scale`, with kept dims as output. */
function reduceInto(x: Tensor, axes: number[], scale: number, square: boolean): Tensor {
  const strides = stridesOf(x.shape);
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const keptShape = kept.map((i) => x.shape[i]);
  const redShape = axes.map((i) => x.shape[i]);
  const nOut = keptShape.reduce((a, b) => a * b, 1);
  const nRed = redShape.reduce((a, b) => a * b, 1);
  if (nRed >= WIDE_FROM) {
    const what = `sum of ${nRed} values per output (reduce_wide)`;
    checkLoopBudget(x.engine, reduceWideLoopIterations(nRed), what);
  }
  const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = x.engine.empty(outShape);
  const p: ReduceParams = {
    n_out: nOut,
    n_red: nRed,
    square: square ? 1 : 0,
    scale,
    kept_shape: padTo(keptShape, 1),
    kept_strides: padTo(
      kept.map((i) => strides[i]),
      0,
    ),
    red_shape: padTo(redShape, 1),
    red_strides: padTo(
      axes.map((i) => strides[i]),
      0,
    ),
  };
  if (nRed >= WIDE_FROM) x.engine.run(reduceWideKernel, [x], [out], p, linearGrid(nOut, 1));
  else x.engine.run(reduceRowsKernel, [x], [out], p, linearGrid(nOut, 64));
  return out;
}

function reduceOp(
  x: Tensor,
  axes: number | readonly number[] | undefined,
  keepDims: boolean,
  mean: boolean,
): Tensor {
  const ax = normalizeAxes(axes, x.rank);
  const count = ax.reduce((n, i) => n * x.shape[i], 1);
  const scale = mean ? 1 / Math.max(count, 1) : 1;
  const kept = reduceInto(x, ax, scale, false);
  const shape = keepDims ? kept.shape : x.shape.filter((_, i) => !ax.includes(i));
  let out = kept;
  if (!keepDims) {
    out = x.engine.alias(kept, shape);
    kept.dispose();
  }
  return recordSum([x], out, { scale, keptShape: kept.shape });
}

/** Σ over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduceOp(x, axes, keepDims, false);
}

/** Mean over `axes` (all when omitted); the mean of nothing is 0. */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduceOp(x, axes, keepDims, true);
}

/** Σ x² over all elements, as a [1] tensor (not differentiable; used by gradient clipping). */
export function sumSquares(x: Tensor): Tensor {
  const all = normalizeAxes(undefined, x.rank);
  const r = reduceInto(x, all, 1, true);
  const out = x.engine.alias(r, [1]);
  r.dispose();
  return out;
}

/** Sums a broadcast result back to `shape` (the gradient of broadcasting). */
export function sumToShape(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return x.engine.alias(x, shape);
  const lead = x.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
  }
  const r = sum(x, axes, true);
  const out = x.engine.alias(r, shape);
  r.dispose();
  return out;
}

const recordSum = defineGradient<{ scale: number; keptShape: Shape }>({
  op: 'sum',
  saves: [],
  why: 'nothing (the scale and the kept shape)',
  grad: (dy, { inputs: [x], attrs }) => {
    // dx = scale · dy broadcast back over the reduced axes: one strided affine map.
    const dx = x.engine.empty(x.shape);
    const strides = broadcastStrides(attrs.keptShape, x.shape);
    stridedMap(
      UNARY.affine,
      dy,
      { offset: 0, strides },
      dx,
      { offset: 0, strides: stridesOf(x.shape) },
      x.shape,
      [attrs.scale, 0],
    );
    return [dx];
  },
});
