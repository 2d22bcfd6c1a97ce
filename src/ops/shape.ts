/**
 * Shape ops: reshape, transpose, slice, concat, broadcastTo and indexSelect, with their backward
 * rules. Reshape is a view (no copy); transpose, slice, concat and broadcastTo are strided
 * identity maps (`stridedMap` in elementwise.ts); indexSelect, its scatter-add backward and the
 * backward of slice have their own kernels (shaders/gather.wgsl).
 */
import type { Engine } from '../engine/engine.js';
import { defineKernel, linearGrid } from '../engine/kernel.js';
import { uniformLayout, type UniformValues } from '../engine/kernel-interface.js';
import {
  broadcastStrides,
  checkShape,
  formatShape,
  MAX_RANK,
  normalizeAxis,
  numel,
  padTo,
  sameShape,
  stridesOf,
  type Shape,
} from '../engine/shape.js';
import { checkLoopBudget } from '../engine/launch-planner.js';
import type { Tensor } from '../engine/tensor.js';
import { defineGradient } from '../autograd/registry.js';
import { stridedMap, UNARY } from './elementwise.js';
import { sumToShape } from './reduce.js';

const fail = (msg: string): never => {
  throw new Error(`causalmix: ${msg}`);
};

const contiguous = (shape: Shape) => ({ offset: 0, strides: stridesOf(shape) });

/** The copying kernels move f32 values; int32 bits read as f32 could be flushed as denormals. */
function checkFloat(op: string, x: Tensor): void {
  if (x.dtype !== 'float32') fail(`${op} supports float32 tensors only (got ${x.dtype})`);
}

// ---- kernels ------------------------------------------------------------------------------------

/** Uniforms of index_select and index_select_grad (x seen as [outer, dim, inner]). */
const gatherUniforms = uniformLayout('gather', 'GatherUniforms', {
  /** invocations: elements of the output (index_select) or of x (index_select_grad) */
  n: 'u32',
  /** elements after the axis */
  inner: 'u32',
  /** indices */
  count: 'u32',
  /** length of the axis in x */
  dim: 'u32',
});
type GatherParams = UniformValues<typeof gatherUniforms.fields>;

/** Uniforms of slice_grad (read in WGSL as `us`), all padded to 6-D. */
const sliceGradUniforms = uniformLayout(
  'gather',
  'SliceGradUniforms',
  {
    /** elements of x */
    n: 'u32',
    /** x's shape (left-padded with 1s) */
    shape: 'u32[6]',
    /** where the slice starts (left-padded with 0s) */
    begin: 'u32[6]',
    /** the slice's extent, dy's shape (left-padded with 1s) */
    size: 'u32[6]',
  },
  'us',
);

/** Is `j` a valid position along an axis of length `dim`? (Invalid indices select 0.) */
const inRange = (j: number, dim: number) => j >= 0 && j < dim;

// The float64 references loop over [outer, count | dim, inner] directly rather than decoding every
// flat index as the shaders do: same results, and fast enough for the CPU backend to train on.
// The scatter-add visits the indices in the same ascending order as the shader's loop, so each
// gradient element is summed in the same order.

export const indexSelectKernel = defineKernel({
  name: 'index_select',
  shader: 'gather',
  entryPoint: 'index_select',
  uniforms: gatherUniforms,
  inputs: ['x', 'indices'],
  outputs: ['out'],
  workgroupSize: [64],
  cpu: ([x, idx], [out], { n, inner, count, dim }) => {
    if (n === 0) return;
    const outer = n / (inner * count);
    let i = 0;
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < count; k++) {
        const j = idx[k];
        const from = (o * dim + j) * inner;
        for (let r = 0; r < inner; r++) out[i++] = inRange(j, dim) ? x[from + r] : 0;
      }
    }
  },
});

export const indexSelectGradKernel = defineKernel({
  name: 'index_select_grad',
  shader: 'gather',
  entryPoint: 'index_select_grad',
  uniforms: gatherUniforms,
  inputs: ['dy', 'indices'],
  outputs: ['dx'],
  workgroupSize: [64],
  cpu: ([dy, idx], [dx], { n, inner, count, dim }) => {
    dx.fill(0, 0, n);
    if (n === 0) return;
    const outer = n / (inner * dim);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < count; k++) {
        const j = idx[k];
        if (!inRange(j, dim)) continue;
        const to = (o * dim + j) * inner;
        const from = (o * count + k) * inner;
        for (let r = 0; r < inner; r++) dx[to + r] += dy[from + r];
      }
    }
  },
});

export const sliceGradKernel = defineKernel({
  name: 'slice_grad',
  shader: 'gather',
  entryPoint: 'slice_grad',
  uniforms: sliceGradUniforms,
  inputs: ['dy'],
  outputs: ['dx'],
  workgroupSize: [64],
  cpu: ([dy], [dx], { n, shape, begin, size }) => {
    dx.fill(0, 0, n);
    const strides = stridesOf(shape);
    const m = numel(size);
    // Walk the slice in row-major order with an odometer over its coordinates.
    const c = new Array<number>(MAX_RANK).fill(0);
    let off = begin.reduce((a, b, d) => a + b * strides[d], 0);
    for (let i = 0; i < m; i++) {
      dx[off] = dy[i];
      for (let d = MAX_RANK - 1; d >= 0; d--) {
        off += strides[d];
        if (++c[d] < size[d]) break;
        off -= c[d] * strides[d];
        c[d] = 0;
      }
    }
  },
});

function gatherParams(n: number, inner: number, count: number, dim: number): GatherParams {
  return { n, inner, count, dim };
}

/** x seen as [outer, dim, inner] around `axis`. */
function splitAt(shape: Shape, axis: number) {
  return { dim: shape[axis], inner: numel(shape.slice(axis + 1)) };
}

// ---- reshape ------------------------------------------------------------------------------------

/** The target shape with its one −1 (if any) inferred from the size of `from`. */
function resolveShape(from: Shape, shape: Shape): number[] {
  const what = `reshape of ${formatShape(from)} to ${formatShape(shape)}`;
  const holes = shape.filter((d) => d === -1).length;
  if (holes > 1) fail(`${what}: at most one dimension may be -1`);
  checkShape(
    shape.filter((d) => d !== -1),
    'reshape: shape',
  );
  const out = [...shape];
  if (holes === 1) {
    const known = numel(shape.filter((d) => d !== -1));
    if (known === 0 || numel(from) % known !== 0) fail(`${what}: the -1 cannot be inferred`);
    out[out.indexOf(-1)] = numel(from) / known;
  }
  checkShape(out, 'reshape: shape');
  if (numel(out) !== numel(from)) fail(`${what}: ${numel(from)} values do not fit`);
  return out;
}

/**
 * The same values in another shape of the same size (a view: no copy; any dtype). One dim may
 * be −1.
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const out = x.engine.alias(x, resolveShape(x.shape, shape));
  return recordReshape([x], out, {});
}

const recordReshape = defineGradient<object>({
  op: 'reshape',
  saves: [],
  why: 'nothing',
  grad: (dy, { inputs: [x] }) => [x.engine.alias(dy, x.shape)],
});

// ---- transpose ----------------------------------------------------------------------------------

function checkPerm(perm: readonly number[], rank: number): void {
  const ok =
    perm.length === rank &&
    perm.every((a) => Number.isInteger(a) && a >= 0 && a < rank) &&
    new Set(perm).size === rank;
  if (!ok) {
    fail(`transpose: [${perm.join(', ')}] is not a permutation of the ${rank} axes`);
  }
}

/**
 * Permutes the axes: output axis d is input axis perm[d] (default: reversed). The identity
 * permutation returns a view.
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ? [...perm] : [...x.shape.keys()].reverse();
  checkPerm(p, x.rank);
  checkFloat('transpose', x);
  const shape = p.map((a) => x.shape[a]);
  let out: Tensor;
  if (p.every((a, d) => a === d)) {
    out = x.engine.alias(x, shape);
  } else {
    out = x.engine.empty(shape);
    const xs = stridesOf(x.shape);
    const src = { offset: 0, strides: p.map((a) => xs[a]) };
    stridedMap(UNARY.identity, x, src, out, contiguous(shape), shape);
  }
  return recordTranspose([x], out, { perm: p });
}

/** `transpose` with an explicit permutation. */
export const permute = (x: Tensor, perm: readonly number[]) => transpose(x, perm);

const recordTranspose = defineGradient<{ perm: number[] }>({
  op: 'transpose',
  saves: [],
  why: 'nothing (the permutation)',
  grad: (dy, { attrs }) => {
    // The inverse permutation: input axis perm[d] came from output axis d.
    const perm = attrs.perm;
    const inv = new Array<number>(perm.length);
    perm.forEach((a, d) => (inv[a] = d));
    return [transpose(dy, inv)];
  },
});

// ---- slice --------------------------------------------------------------------------------------

/**
 * The block starting at `begin` with extent `size` (−1, or an omitted `size`, runs to the end of
 * that axis). `begin` and `size` give one entry per axis.
 */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  checkFloat('slice', x);
  const what = `slice of ${formatShape(x.shape)} at [${begin.join(', ')}]`;
  if (begin.length !== x.rank) fail(`${what}: begin needs ${x.rank} entries`);
  if (size && size.length !== x.rank) fail(`${what}: size needs ${x.rank} entries`);
  const ext = x.shape.map((dim, d) => {
    const b = begin[d];
    if (!Number.isInteger(b) || b < 0 || b > dim)
      fail(`${what}: begin ${b} is outside axis ${d} (length ${dim})`);
    const s = size?.[d] ?? -1;
    const e = s === -1 ? dim - b : s;
    if (!Number.isInteger(e) || e < 0 || b + e > dim) {
      fail(`${what}: size ${s} runs past axis ${d} (length ${dim})`);
    }
    return e;
  });
  const out = x.engine.empty(ext);
  const xs = stridesOf(x.shape);
  const offset = begin.reduce((acc, b, d) => acc + b * xs[d], 0);
  stridedMap(UNARY.identity, x, { offset, strides: xs }, out, contiguous(ext), ext);
  return recordSlice([x], out, { begin: [...begin] });
}

const recordSlice = defineGradient<{ begin: number[] }>({
  op: 'slice',
  saves: [],
  why: 'nothing (begin)',
  grad: (dy, { inputs: [x], attrs }) => {
    const dx = x.engine.empty(x.shape);
    const p = {
      n: x.size,
      shape: padTo(x.shape, 1),
      begin: padTo(attrs.begin, 0),
      size: padTo(dy.shape, 1),
    };
    x.engine.run(sliceGradKernel, [dy], [dx], p, linearGrid(x.size, 64));
    return [dx];
  },
});

// ---- concat -------------------------------------------------------------------------------------

/** Joins tensors along `axis`; every other dimension must agree. */
export function concat(tensors: readonly Tensor[], axis: number): Tensor {
  if (tensors.length === 0) fail('concat needs at least one tensor');
  const first = tensors[0];
  const e: Engine = first.engine;
  if (first.rank === 0) fail('concat cannot join scalars (rank 0); reshape them to [1] first');
  const ax = normalizeAxis(axis, first.rank);
  for (const t of tensors) {
    if (t.engine !== e) fail('concat: tensors from two engines cannot be combined');
    checkFloat('concat', t);
    const ok = t.rank === first.rank && t.shape.every((d, i) => i === ax || d === first.shape[i]);
    if (!ok) {
      fail(
        `concat along axis ${ax}: shape ${formatShape(t.shape)} does not match ${formatShape(first.shape)}`,
      );
    }
  }
  const starts: number[] = [];
  let total = 0;
  for (const t of tensors) {
    starts.push(total);
    total += t.shape[ax];
  }
  const shape = first.shape.map((d, i) => (i === ax ? total : d));
  checkShape(shape, 'concat: result shape');
  const out = e.empty(shape);
  const os = stridesOf(shape);
  // One strided copy per input into its block of the output.
  tensors.forEach((t, k) => {
    const dst = { offset: starts[k] * os[ax], strides: os };
    stridedMap(UNARY.identity, t, contiguous(t.shape), out, dst, t.shape);
  });
  return recordConcat([...tensors], out, { axis: ax, starts });
}

const recordConcat = defineGradient<{ axis: number; starts: number[] }>({
  op: 'concat',
  saves: [],
  why: 'nothing (the axis and block starts)',
  grad: (dy, { inputs, attrs }) => {
    const ax = attrs.axis;
    const starts = attrs.starts;
    // Inputs that need no gradient get none (the sweep would only dispose it).
    return inputs.map((t, k) =>
      t.requiresGrad
        ? slice(
            dy,
            dy.shape.map((_, d) => (d === ax ? starts[k] : 0)),
            t.shape,
          )
        : null,
    );
  },
});

// ---- broadcastTo --------------------------------------------------------------------------------

/** Repeats x along its size-1 (and new leading) axes to `shape` (NumPy broadcasting rules). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  checkShape(shape, 'broadcastTo: shape');
  checkFloat('broadcastTo', x);
  if (x.rank > shape.length) {
    fail(`broadcastTo: ${formatShape(x.shape)} has more axes than ${formatShape(shape)}`);
  }
  let out: Tensor;
  if (sameShape(x.shape, shape)) {
    out = x.engine.alias(x, shape);
  } else {
    // Stride 0 on the broadcast axes (broadcastStrides rejects incompatible shapes).
    const src = { offset: 0, strides: broadcastStrides(x.shape, shape) };
    out = x.engine.empty(shape);
    stridedMap(UNARY.identity, x, src, out, contiguous(shape), shape);
  }
  return recordBroadcastTo([x], out, {});
}

const recordBroadcastTo = defineGradient<object>({
  op: 'broadcastTo',
  saves: [],
  why: 'nothing',
  grad: (dy, { inputs: [x] }) => [sumToShape(dy, x.shape)],
});

// ---- indexSelect --------------------------------------------------------------------------------

/** The int32 index tensor the op saves: an alias of a given one, or built from a checked list. */
function indexTensor(e: Engine, indices: Tensor | readonly number[], dim: number) {
  if (!Array.isArray(indices)) {
    const t = indices as Tensor;
    if (t.engine !== e) fail('indexSelect: the indices live on another engine');
    if (t.dtype !== 'int32') fail(`indexSelect: indices must be an int32 tensor (got ${t.dtype})`);
    if (t.rank !== 1) fail(`indexSelect: indices must have rank 1 (got ${formatShape(t.shape)})`);
    // An alias: the tape disposes what it saves, and the caller keeps its own tensor.
    return e.alias(t, t.shape);
  }
  const list = indices as readonly number[];
  list.forEach((j, k) => {
    if (!Number.isInteger(j) || j < 0 || j >= dim) {
      fail(`indexSelect: index ${j} (position ${k}) is not an integer in [0, ${dim})`);
    }
  });
  return e.tensor(list, [list.length], 'int32');
}

/**
 * Picks positions `indices` along `axis` (duplicates allowed, any order): the result has
 * indices.length entries on that axis. Indices are an int32 tensor of rank 1 or a number[]
 * (checked here); in a device tensor, an index outside [0, length) selects 0 and gets no gradient.
 */
export function indexSelect(x: Tensor, axis: number, indices: Tensor | readonly number[]): Tensor {
  if (x.rank === 0) fail('indexSelect needs a tensor of rank ≥ 1');
  checkFloat('indexSelect', x);
  const ax = normalizeAxis(axis, x.rank);
  const e = x.engine;
  const { dim, inner } = splitAt(x.shape, ax);
  const idx = indexTensor(e, indices, dim);
  const count = idx.size;
  const shape = x.shape.map((d, i) => (i === ax ? count : d));
  const out = e.empty(shape);
  const n = out.size;
  e.run(indexSelectKernel, [x, idx], [out], gatherParams(n, inner, count, dim), linearGrid(n, 64));
  return recordIndexSelect([x], out, { axis: ax }, [idx]);
}

const recordIndexSelect = defineGradient<{ axis: number }>({
  op: 'indexSelect',
  saves: ['indices'],
  why: 'the int32 indices',
  grad: (dy, { inputs: [x], saved: [idx], attrs }) => {
    const { dim, inner } = splitAt(x.shape, attrs.axis);
    // Each invocation loops over every index (count + 1 loop iterations).
    const what = `index_select_grad (the gradient of indexSelect) over ${idx.size} indices`;
    checkLoopBudget(x.engine, idx.size + 1, what);
    const dx = x.engine.empty(x.shape);
    const p = gatherParams(x.size, inner, idx.size, dim);
    x.engine.run(indexSelectGradKernel, [dy, idx], [dx], p, linearGrid(x.size, 64));
    return [dx];
  },
});
