/**
 * Batched matrix multiply (shaders/matmul.wgsl): C = op(A)·op(B) over NumPy-broadcast batch dims,
 * where op transposes the last two axes when asked. The kernel reads both operands through
 * strides, so transposes and broadcast batches cost no copies, and the backward pass runs the same
 * kernel on the same tensors with the roles and transposes swapped.
 */
import { defineKernel } from '../engine/kernel.js';
import { uniformLayout, type UniformValues } from '../engine/kernel-interface.js';
import {
  broadcastShapes,
  formatShape,
  MAX_RANK,
  numel,
  padTo,
  stridesOf,
  type Shape,
} from '../engine/shape.js';
import type { Engine } from '../engine/engine.js';
import {
  checkLoopBudget,
  GUARANTEED_WORKGROUPS_PER_DIMENSION,
  loopBudget,
  maxWorkgroupsPerDimension,
} from '../engine/launch-planner.js';
import type { Tensor } from '../engine/tensor.js';
import { defineGradient } from '../autograd/registry.js';
import { add } from './elementwise.js';
import { sumToShape } from './reduce.js';

export interface MatmulOptions {
  /** use the transpose of a's last two axes: a is [..., K, M] */
  transposeA?: boolean;
  /** use the transpose of b's last two axes: b is [..., N, K] */
  transposeB?: boolean;
}

/** Batch dims the uniforms carry (the last two of MAX_RANK are the matrix). */
const BATCH_RANK = MAX_RANK - 2;

/** The uniforms of shaders/matmul.wgsl. */
const uniforms = uniformLayout('matmul', 'MatmulUniforms', {
  /** rows M of A and C */
  m: 'u32',
  /** columns N of B and C */
  n: 'u32',
  /** the contracted length K */
  k: 'u32',
  /** batches (the product of batchShape) */
  batches: 'u32',
  /** the broadcast batch shape, padded in front with 1s to BATCH_RANK (4) dims */
  batchShape: 'u32[4]',
  /** A's strides over the batch dims (0 where A is broadcast) */
  aBatch: 'u32[4]',
  /** A's row (m) stride */
  aRow: 'u32',
  /** A's column (k) stride */
  aCol: 'u32',
  /** B's strides over the batch dims (0 where B is broadcast) */
  bBatch: 'u32[4]',
  /** B's row (k) stride */
  bRow: 'u32',
  /** B's column (n) stride */
  bCol: 'u32',
});
type MatmulParams = UniformValues<typeof uniforms.fields>;

/** Outputs per workgroup along M and N (8×8 invocations, each a 4×4 block). */
const TILE = 32;

// ---- kernel -------------------------------------------------------------------------------------

function batchOffset(shape: readonly number[], strides: readonly number[], z: number): number {
  let rem = z;
  let off = 0;
  for (let d = BATCH_RANK - 1; d >= 0; d--) {
    const n = shape[d];
    off += (rem % n) * strides[d];
    rem = Math.floor(rem / n);
  }
  return off;
}

function matmul64([a, b]: Float64Array[], [c]: Float64Array[], p: MatmulParams): void {
  const { m, n, k, batches, aRow: sam, aCol: sak, bRow: sbk, bCol: sbn } = p;
  for (let z = 0; z < batches; z++) {
    const a0 = batchOffset(p.batchShape, p.aBatch, z);
    const b0 = batchOffset(p.batchShape, p.bBatch, z);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let l = 0; l < k; l++) acc += a[a0 + i * sam + l * sak] * b[b0 + l * sbk + j * sbn];
        c[(z * m + i) * n + j] = acc;
      }
    }
  }
}

export const matmulKernel = defineKernel({
  name: 'matmul',
  shader: 'matmul',
  entryPoint: 'matmul',
  uniforms,
  inputs: ['a', 'b'],
  outputs: ['c'],
  workgroupSize: [8, 8],
  cpu: matmul64,
});

/** How the kernel reads one matrix operand: strides over the batch dims, its rows, its columns. */
interface Operand {
  t: Tensor;
  batch: readonly number[];
  row: number;
  col: number;
}

const transposed = (o: Operand): Operand => ({ ...o, row: o.col, col: o.row });

/** Reads `t` ([..., r, c], contiguous) as a matrix per batch of `batchShape` (broadcasting). */
function operand(t: Tensor, batchShape: Shape, transpose: boolean): Operand {
  const s = stridesOf(t.shape);
  const own = t.shape.slice(0, -2);
  const lead = batchShape.length - own.length;
  const batch = batchShape.map((_, i) => (i < lead || own[i - lead] === 1 ? 0 : s[i - lead]));
  const o: Operand = { t, batch, row: s[t.rank - 2], col: s[t.rank - 1] };
  return transpose ? transposed(o) : o;
}

/**
 * True when the batch dims continue an inner index of `inner` steps of `stride` as one run
 * (offset = (z·inner + i)·stride), so that batch and inner index can be merged into one.
 */
function chains(batch: readonly number[], shape: Shape, inner: number, stride: number): boolean {
  let expected = inner * stride;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && batch[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/** The grid for an [m, n] product over `batches`: each axis capped at `perDimension` workgroups. */
function gridOf(
  m: number,
  n: number,
  batches: number,
  perDimension: number,
): [number, number, number] {
  return [
    Math.min(Math.ceil(n / TILE), perDimension),
    Math.min(Math.ceil(m / TILE), perDimension),
    Math.min(batches, perDimension),
  ];
}

/**
 * Loop iterations of the busiest invocation (shaders/matmul.wgsl): the z, ty and tx grid-stride
 * loops around a k loop of `k` steps, each loop entry costing one more than its steps (the batch
 * offset loops have a fixed count and are unrolled).
 */
export function matmulLoopIterations(
  m: number,
  n: number,
  k: number,
  batches: number,
  perDimension = GUARANTEED_WORKGROUPS_PER_DIMENSION,
): number {
  const [gx, gy, gz] = gridOf(m, n, batches, perDimension);
  const z = Math.ceil(batches / gz);
  const y = Math.ceil(Math.ceil(m / TILE) / gy);
  const x = Math.ceil(Math.ceil(n / TILE) / gx);
  return z + 1 + z * (y + 1 + y * (x + 1 + x * (k + 1)));
}

/** Queues out[z] = a[z]·b[z] ([m, k]·[k, n]) for every batch z of `batchShape`. */
function dispatch(
  out: Tensor,
  a: Operand,
  b: Operand,
  m: number,
  n: number,
  k: number,
  batchShape: Shape,
): void {
  const batches = numel(batchShape);
  const p: MatmulParams = {
    m,
    n,
    k,
    batches,
    batchShape: padTo(batchShape, 1, BATCH_RANK),
    aBatch: padTo(a.batch, 0, BATCH_RANK),
    aRow: a.row,
    aCol: a.col,
    bBatch: padTo(b.batch, 0, BATCH_RANK),
    bRow: b.row,
    bCol: b.col,
  };
  const grid = gridOf(m, n, batches, maxWorkgroupsPerDimension(out.engine));
  out.engine.run(matmulKernel, [a.t, b.t], [out], p, grid);
}

/**
 * The largest K slice one dispatch may contract within `budget` loop iterations (0 when not even
 * the smallest slice fits). Slices are multiples of the view alignment so that every slice start,
 * k0 times any stride, is a valid view offset.
 */
function kChunk(engine: Engine, m: number, n: number, batches: number, budget: number): number {
  const most = maxWorkgroupsPerDimension(engine);
  const fixed = matmulLoopIterations(m, n, 0, batches, most);
  const perK = matmulLoopIterations(m, n, 1, batches, most) - fixed;
  const fit = Math.floor((budget - fixed) / perK);
  const align = engine.backend.viewAlignment;
  return Math.max(0, fit - (fit % align));
}

/** `o` reading its K axis from k0 on: a view of its tensor starting k0 steps along that axis. */
function fromK(o: Operand, k0: number, kStride: number): { op: Operand; view: Tensor } {
  const off = k0 * kStride;
  const view = o.t.engine.sliceView(o.t, off, [o.t.size - off]);
  return { op: { ...o, t: view }, view };
}

/**
 * A fresh tensor of `shape` holding a[z]·b[z] per batch z. Mesa's llvmpipe silently stops the k
 * loop past its loop cap (see engine/launch-planner.ts), so there a long K is cut into slices that each
 * fit the budget and their products are added: op(A)·op(B) = Σ_s op(A)[:, s]·op(B)[s, :].
 */
function product(
  a: Operand,
  b: Operand,
  m: number,
  n: number,
  k: number,
  batchShape: Shape,
  shape: Shape,
): Tensor {
  const e = a.t.engine;
  const batches = numel(batchShape);
  const budget = loopBudget(e);
  const most = maxWorkgroupsPerDimension(e);
  if (m * n * batches === 0 || matmulLoopIterations(m, n, k, batches, most) <= budget) {
    const out = e.empty(shape);
    if (m * n * batches > 0) dispatch(out, a, b, m, n, k, batchShape);
    return out;
  }
  const chunk = kChunk(e, m, n, batches, budget);
  if (chunk === 0) {
    // So many tiles per invocation that even a slice of K does not fit: fail loudly.
    const what = `matmul of ${batches} × [${m}, ${k}]·[${k}, ${n}] (K = ${k})`;
    checkLoopBudget(e, matmulLoopIterations(m, n, k, batches, most), what);
  }
  let out = e.empty(shape);
  for (let k0 = 0; k0 < k; k0 += chunk) {
    const kc = Math.min(chunk, k - k0);
    const sa = fromK(a, k0, a.col);
    const sb = fromK(b, k0, b.row);
    const part = k0 === 0 ? out : e.empty(shape);
    dispatch(part, sa.op, sb.op, m, n, kc, batchShape);
    sa.view.dispose();
    sb.view.dispose();
    if (part !== out) {
      const sum = add(out, part);
      out.dispose();
      part.dispose();
      out = sum;
    }
  }
  return out;
}

/**
 * A fresh tensor of `shape` (same layout as [...batchShape, m, n]) holding a·b per batch. When b
 * is the same matrix for every batch and a's batches follow its rows in memory (the usual
 * [B, M, K]·[K, N]), the batches are folded into M: one [B·M, K]·[K, N] product fills the tiles.
 */
function gemm(
  a: Operand,
  b: Operand,
  m: number,
  n: number,
  k: number,
  batchShape: Shape,
  shape: Shape,
): Tensor {
  if (b.batch.every((s) => s === 0) && chains(a.batch, batchShape, m, a.row)) {
    return product(
      { ...a, batch: [] },
      { ...b, batch: [] },
      m * numel(batchShape),
      n,
      k,
      [],
      shape,
    );
  }
  return product(a, b, m, n, k, batchShape, shape);
}

interface Dims {
  m: number;
  n: number;
  k: number;
  /** the broadcast batch shape */
  batch: number[];
}

function dims(as: Shape, bs: Shape, transposeA: boolean, transposeB: boolean): Dims {
  const what = `matmul of ${formatShape(as)}${transposeA ? 'ᵀ' : ''} and ${formatShape(bs)}${transposeB ? 'ᵀ' : ''}`;
  if (as.length < 2 || bs.length < 2)
    throw new Error(`causalmix: ${what}: both operands need at least 2 dimensions`);
  const [ar, ac] = as.slice(-2);
  const [br, bc] = bs.slice(-2);
  const [m, k] = transposeA ? [ac, ar] : [ar, ac];
  const [kb, n] = transposeB ? [bc, br] : [br, bc];
  if (k !== kb) throw new Error(`causalmix: ${what}: inner dimensions ${k} and ${kb} differ`);
  let batch: number[];
  try {
    batch = broadcastShapes(as.slice(0, -2), bs.slice(0, -2));
  } catch {
    throw new Error(`causalmix: ${what}: batch dimensions cannot be broadcast together`);
  }
  return { m, n, k, batch };
}

// ---- ops ----------------------------------------------------------------------------------------

/** The shape of `matmul(a, b, options)`: [...broadcast batch, M, N]. Throws when they do not fit. */
export function matmulShape(as: Shape, bs: Shape, options: MatmulOptions = {}): number[] {
  const d = dims(as, bs, options.transposeA ?? false, options.transposeB ?? false);
  return [...d.batch, d.m, d.n];
}

/**
 * op(a)·op(b) for a [..., M, K] and b [..., K, N] (or [..., K, M] / [..., N, K] when transposed),
 * with the batch dims (all but the last two) broadcast NumPy-style: [B, M, K]·[K, N],
 * [1, M, K]·[B, K, N] and [2, 1, M, K]·[3, K, N] all work. Both operands need rank ≥ 2.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  if (a.engine !== b.engine)
    throw new Error('causalmix: tensors from two engines cannot be combined');
  const transposeA = options.transposeA ?? false;
  const transposeB = options.transposeB ?? false;
  const { m, n, k, batch } = dims(a.shape, b.shape, transposeA, transposeB);
  const out = gemm(operand(a, batch, transposeA), operand(b, batch, transposeB), m, n, k, batch, [
    ...batch,
    m,
    n,
  ]);
  return recordMatmul([a, b], out, { transposeA, transposeB });
}

// ---- backward rule ------------------------------------------------------------------------------

/**
 * The gradient of input `t` ([...own, rows, cols]) as x·y per batch ([rows, inner]·[inner, cols]),
 * summed over the batch dims `t` was broadcast along. A matrix shared by every batch is one product
 * whose contraction runs over batch and inner index together when memory allows (dW = Σ_z Xᵀ_z·dY_z
 * = Xᵀ·dY with X as [B·M, K]); otherwise the per-batch products are summed by a reduction.
 */
function gradOf(
  t: Tensor,
  x: Operand,
  y: Operand,
  rows: number,
  cols: number,
  inner: number,
  batch: Shape,
): Tensor {
  const own = t.shape.slice(0, -2);
  if (numel(own) === numel(batch)) return gemm(x, y, rows, cols, inner, batch, t.shape);
  const shared = numel(own) === 1;
  if (shared && chains(x.batch, batch, inner, x.col) && chains(y.batch, batch, inner, y.row)) {
    const flat = (o: Operand): Operand => ({ ...o, batch: [] });
    return gemm(flat(x), flat(y), rows, cols, inner * numel(batch), [], t.shape);
  }
  const full = gemm(x, y, rows, cols, inner, batch, [...batch, rows, cols]);
  const g = sumToShape(full, t.shape);
  full.dispose();
  return g;
}

const recordMatmul = defineGradient<{ transposeA: boolean; transposeB: boolean }>({
  op: 'matmul',
  saves: [],
  why: 'nothing beyond both inputs (read in place through swapped strides)',
  grad: (dy, { inputs: [a, b], attrs }) => {
    const transposeA = attrs.transposeA;
    const transposeB = attrs.transposeB;
    const { m, n, k, batch } = dims(a.shape, b.shape, transposeA, transposeB);
    const opA = operand(a, batch, transposeA);
    const opB = operand(b, batch, transposeB);
    const dC = operand(dy, batch, false);
    // d op(A) = dC·op(B)ᵀ and d op(B) = op(A)ᵀ·dC; a transposed input takes the transpose of its
    // gradient, (X·Y)ᵀ = Yᵀ·Xᵀ, which is again one product of strided operands.
    const da = !a.requiresGrad
      ? null
      : transposeA
        ? gradOf(a, opB, transposed(dC), k, m, n, batch)
        : gradOf(a, dC, transposed(opB), m, k, n, batch);
    const db = !b.requiresGrad
      ? null
      : transposeB
        ? gradOf(b, transposed(dC), opA, n, k, m, batch)
        : gradOf(b, transposed(opA), dC, k, n, m, batch);
    return [da, db];
  },
});
