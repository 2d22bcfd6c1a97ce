/**
 * Sums and means over axes or in total (shaders/reduce.wgsl). Small reductions use one
 * invocation per output; long ones a 256-wide workgroup per output with a tree sum, which is
 * also more accurate in f32.
 */
import { linearGrid, type KernelDef, type KernelParams } from '../engine/kernel.js';
import {
  broadcastStrides,
  MAX_RANK,
  normalizeAxis,
  padTo,
  sameShape,
  stridesOf,
  type Shape,
} from '../engine/shape.js';
import { checkLoopBudget } from '../engine/loop-cap.js';
import type { Tensor } from '../engine/tensor.js';
import { registerGradient } from '../autograd/registry.js';
import { recordOp } from '../autograd/tape.js';
import { stridedMap, UNARY } from './elementwise.js';

const SLOT = {
  nOut: 0,
  nRed: 1,
  square: 2,
  keptShape: 8,
  keptStrides: 16,
  redShape: 24,
  redStrides: 32,
};
/** Reductions at least this long use the workgroup-per-output kernel. */
const WIDE_FROM = 512;
/** Invocations per workgroup of reduce_wide. */
const WIDE = 256;

/**
 * Loop iterations of one reduce_wide invocation: ⌈nRed/256⌉ strided steps and an 8-step tree, each
 * loop entry costing one more (strided_offset's fixed 6-step loop is unrolled).
 */
export const reduceWideLoopIterations = (nRed: number) => Math.ceil(nRed / WIDE) + 1 + 9;

function offset(i: number, u: number[], shapeSlot: number, strideSlot: number): number {
  let rem = i;
  let off = 0;
  for (let d = MAX_RANK - 1; d >= 0; d--) {
    const n = u[shapeSlot + d];
    off += (rem % n) * u[strideSlot + d];
    rem = Math.floor(rem / n);
  }
  return off;
}

function reduce64([x]: Float64Array[], [out]: Float64Array[], p: KernelParams): void {
  const u = p.u;
  for (let o = 0; o < u[SLOT.nOut]; o++) {
    const base = offset(o, u, SLOT.keptShape, SLOT.keptStrides);
    let acc = 0;
    for (let j = 0; j < u[SLOT.nRed]; j++) {
      const v = x[base + offset(j, u, SLOT.redShape, SLOT.redStrides)];
      acc += u[SLOT.square] === 1 ? v * v : v;
    }
    out[o] = acc * p.f[0];
  }
}

export const reduceRowsKernel: KernelDef = {
  name: 'reduce_rows',
  shader: 'reduce',
  entryPoint: 'reduce_rows',
  cpu: reduce64,
};
export const reduceWideKernel: KernelDef = {
  name: 'reduce_wide',
  shader: 'reduce',
  entryPoint: 'reduce_wide',
  cpu: reduce64,
};

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
  const u = new Array<number>(40).fill(0);
  u[SLOT.nOut] = nOut;
  u[SLOT.nRed] = nRed;
  u[SLOT.square] = square ? 1 : 0;
  const put = (slot: number, v: number[], fill: number) =>
    padTo(v, fill).forEach((val, i) => (u[slot + i] = val));
  put(SLOT.keptShape, keptShape, 1);
  put(
    SLOT.keptStrides,
    kept.map((i) => strides[i]),
    0,
  );
  put(SLOT.redShape, redShape, 1);
  put(
    SLOT.redStrides,
    axes.map((i) => strides[i]),
    0,
  );
  const p = { u, f: [scale] };
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
  return recordOp('sum', [x], out, { scale, keptShape: kept.shape });
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

registerGradient({
  op: 'sum',
  saves: 'nothing (the scale and the kept shape)',
  grad: (dy, { inputs: [x], attrs }) => {
    // dx = scale · dy broadcast back over the reduced axes: one strided affine map.
    const dx = x.engine.empty(x.shape);
    const strides = broadcastStrides(attrs.keptShape as number[], x.shape);
    stridedMap(
      UNARY.affine,
      dy,
      { offset: 0, strides },
      dx,
      { offset: 0, strides: stridesOf(x.shape) },
      x.shape,
      [attrs.scale as number, 0],
    );
    return [dx];
  },
});
