/**
 * Element-wise ops (shaders/elementwise.wgsl): unary maps, binary maps with NumPy broadcasting,
 * and their backward kernels. Every map reads and writes through strides over a 6-D iteration
 * space, so the same kernel also serves copies, transposes, slices and broadcasts (src/ops/shape.ts).
 */
import type { Engine } from '../engine/engine.js';
import { defineKernel, linearGrid } from '../engine/kernel.js';
import { shaderConstants, uniformLayout, type UniformValues } from '../engine/kernel-interface.js';
import {
  broadcastShapes,
  broadcastStrides,
  MAX_RANK,
  padTo,
  sameShape,
  stridesOf,
  type Shape,
} from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { defineGradient } from '../autograd/registry.js';
import { sumToShape } from './reduce.js';
import { sigmoid as sigmoid64, softplus as softplus64 } from '../maths/functions.js';

/**
 * Op codes: the one table for TypeScript and shaders/elementwise.wgsl (whose switches read the
 * WGSL constants by these names).
 */
const CODES = shaderConstants('elementwise', {
  UNARY_IDENTITY: 0,
  UNARY_NEG: 1,
  UNARY_EXP: 2,
  UNARY_LOG: 3,
  UNARY_SIGMOID: 4,
  UNARY_SOFTPLUS: 5,
  UNARY_TANH: 6,
  UNARY_RELU: 7,
  UNARY_CLAMP: 8,
  UNARY_POW_SCALAR: 9,
  UNARY_ABS: 10,
  UNARY_SQRT: 11,
  UNARY_SQUARE: 12,
  UNARY_AFFINE: 13,
  UNARY_LOG1P: 14,
  BINARY_ADD: 0,
  BINARY_SUB: 1,
  BINARY_MUL: 2,
  BINARY_DIV: 3,
  BINARY_MIN: 4,
  BINARY_MAX: 5,
  BINARY_POW: 6,
});

export const UNARY = {
  identity: CODES.UNARY_IDENTITY,
  neg: CODES.UNARY_NEG,
  exp: CODES.UNARY_EXP,
  log: CODES.UNARY_LOG,
  sigmoid: CODES.UNARY_SIGMOID,
  softplus: CODES.UNARY_SOFTPLUS,
  tanh: CODES.UNARY_TANH,
  relu: CODES.UNARY_RELU,
  clamp: CODES.UNARY_CLAMP,
  powScalar: CODES.UNARY_POW_SCALAR,
  abs: CODES.UNARY_ABS,
  sqrt: CODES.UNARY_SQRT,
  square: CODES.UNARY_SQUARE,
  affine: CODES.UNARY_AFFINE,
  log1p: CODES.UNARY_LOG1P,
} as const;

export const BINARY = {
  add: CODES.BINARY_ADD,
  sub: CODES.BINARY_SUB,
  mul: CODES.BINARY_MUL,
  div: CODES.BINARY_DIV,
  min: CODES.BINARY_MIN,
  max: CODES.BINARY_MAX,
  pow: CODES.BINARY_POW,
} as const;

// ---- float64 references -------------------------------------------------------------------------

/** The float64 sigmoid and softplus of src/maths/functions.ts, under the names `ops` exports. */
export { sigmoid64, softplus64 };

function pow64(x: number, p: number): number {
  return x <= 0 ? (p === 0 ? 1 : 0) : x ** p;
}

/** f(x) for a unary code; f0/f1 are the op's scalars (clamp bounds, exponent, scale/shift). */
export function unary64(code: number, x: number, f0: number, f1: number): number {
  switch (code) {
    case UNARY.identity:
      return x;
    case UNARY.neg:
      return -x;
    case UNARY.exp:
      return Math.exp(x);
    case UNARY.log:
      return Math.log(x);
    case UNARY.sigmoid:
      return sigmoid64(x);
    case UNARY.softplus:
      return softplus64(x);
    case UNARY.tanh:
      return Math.tanh(x);
    case UNARY.relu:
      return Math.max(x, 0);
    case UNARY.clamp:
      return Math.min(Math.max(x, f0), f1);
    case UNARY.powScalar:
      return pow64(x, f0);
    case UNARY.abs:
      return Math.abs(x);
    case UNARY.sqrt:
      return Math.sqrt(Math.max(x, 0));
    case UNARY.square:
      return x * x;
    case UNARY.affine:
      return f0 * x + f1;
    case UNARY.log1p:
      return Math.log1p(x);
    default:
      throw new Error(`unknown unary code ${code}`);
  }
}

/**
 * f'(x). One-sided conventions, as PyTorch: relu'(0) = 0; clamp passes the gradient on the closed
 * interval [lo, hi]; |x|'(0) = 0; at x = 0, d x^p = 1 for p = 1 and 0 otherwise; sqrt'(0) = 0.
 */
export function unaryGrad64(code: number, x: number, f0: number, f1: number): number {
  switch (code) {
    case UNARY.identity:
      return 1;
    case UNARY.neg:
      return -1;
    case UNARY.exp:
      return Math.exp(x);
    case UNARY.log:
      return 1 / x;
    case UNARY.sigmoid: {
      const s = sigmoid64(x);
      return s * (1 - s);
    }
    case UNARY.softplus:
      return sigmoid64(x);
    case UNARY.tanh: {
      const t = Math.tanh(x);
      return 1 - t * t;
    }
    case UNARY.relu:
      return x > 0 ? 1 : 0;
    case UNARY.clamp:
      return x >= f0 && x <= f1 ? 1 : 0;
    case UNARY.powScalar:
      return x <= 0 ? (f0 === 1 ? 1 : 0) : f0 * x ** (f0 - 1);
    case UNARY.abs:
      return Math.sign(x);
    case UNARY.sqrt:
      return x > 0 ? 0.5 / Math.sqrt(x) : 0;
    case UNARY.square:
      return 2 * x;
    case UNARY.affine:
      return f0 + 0 * f1;
    case UNARY.log1p:
      return 1 / (1 + x);
    default:
      throw new Error(`unknown unary code ${code}`);
  }
}

export function binary64(code: number, a: number, b: number): number {
  switch (code) {
    case BINARY.add:
      return a + b;
    case BINARY.sub:
      return a - b;
    case BINARY.mul:
      return a * b;
    case BINARY.div:
      return a / b;
    case BINARY.min:
      return Math.min(a, b);
    case BINARY.max:
      return Math.max(a, b);
    case BINARY.pow:
      return pow64(a, b);
    default:
      throw new Error(`unknown binary code ${code}`);
  }
}

/** (∂/∂a, ∂/∂b); min/max ties split evenly. pow: a ≥ 0, with the conventions of powScalar. */
export function binaryGrad64(code: number, a: number, b: number): [number, number] {
  switch (code) {
    case BINARY.add:
      return [1, 1];
    case BINARY.sub:
      return [1, -1];
    case BINARY.mul:
      return [b, a];
    case BINARY.div:
      return [1 / b, -a / (b * b)];
    case BINARY.min:
      return a === b ? [0.5, 0.5] : a < b ? [1, 0] : [0, 1];
    case BINARY.max:
      return a === b ? [0.5, 0.5] : a > b ? [1, 0] : [0, 1];
    case BINARY.pow:
      return a <= 0 ? [b === 1 ? 1 : 0, 0] : [b * a ** (b - 1), a ** b * Math.log(a)];
    default:
      throw new Error(`unknown binary code ${code}`);
  }
}

// ---- kernels ------------------------------------------------------------------------------------

const uniforms = uniformLayout(
  'elementwise',
  'ElementwiseUniforms',
  {
    /** elements of the iteration space */
    n: 'u32',
    /** the UNARY_* or BINARY_* op code */
    code: 'u32',
    /** element offset of a in its buffer */
    off_a: 'u32',
    /** element offset of b (unary_grad: dy) */
    off_b: 'u32',
    /** element offset of out */
    off_out: 'u32',
    /** 1 when a, b and out are all contiguous at offset 0 over `shape` (no stride decoding) */
    contiguous: 'u32',
    /** the op's scalars: clamp's lo, powScalar's exponent, affine's scale */
    arg0: 'f32',
    /** clamp's hi, affine's shift */
    arg1: 'f32',
    /** the iteration shape, left-padded to 6-D with 1s */
    shape: 'u32[6]',
    /** a's strides over `shape` (0 on broadcast axes), left-padded with 0s */
    stride_a: 'u32[6]',
    /** b's strides, the same way */
    stride_b: 'u32[6]',
    /** out's strides, the same way */
    stride_out: 'u32[6]',
  },
  'u',
  {
    strided_a: ['shape', 'stride_a'],
    strided_b: ['shape', 'stride_b'],
    strided_out: ['shape', 'stride_out'],
  },
);
type ElementwiseParams = UniformValues<typeof uniforms.fields>;

/**
 * Offset of element `i` of a row-major 6-D iteration space `shape` under `strides`: the float64
 * twin of strided_offset6 (written out in shaders/elementwise.wgsl and reduce.wgsl).
 */
export function stridedOffset64(
  i: number,
  shape: readonly number[],
  strides: readonly number[],
): number {
  let rem = i;
  let off = 0;
  for (let d = MAX_RANK - 1; d >= 0; d--) {
    const n = shape[d];
    off += (rem % n) * strides[d];
    rem = Math.floor(rem / n);
  }
  return off;
}

function offsetOf(
  p: ElementwiseParams,
  i: number,
  base: number,
  strides: readonly number[],
): number {
  if (p.contiguous === 1) return base + i;
  return base + stridedOffset64(i, p.shape, strides);
}
const offA = (p: ElementwiseParams, i: number) => offsetOf(p, i, p.off_a, p.stride_a);
const offB = (p: ElementwiseParams, i: number) => offsetOf(p, i, p.off_b, p.stride_b);
const offOut = (p: ElementwiseParams, i: number) => offsetOf(p, i, p.off_out, p.stride_out);

export const unaryKernel = defineKernel({
  name: 'unary',
  shader: 'elementwise',
  entryPoint: 'unary',
  uniforms,
  inputs: ['a'],
  outputs: ['out'],
  workgroupSize: [64],
  cpu: ([a], [out], p) => {
    for (let i = 0; i < p.n; i++)
      out[offOut(p, i)] = unary64(p.code, a[offA(p, i)], p.arg0, p.arg1);
  },
});

export const unaryGradKernel = defineKernel({
  name: 'unary_grad',
  shader: 'elementwise',
  entryPoint: 'unary_grad',
  uniforms,
  inputs: ['x', 'dy'],
  outputs: ['dx'],
  workgroupSize: [64],
  cpu: ([x, dy], [out], p) => {
    for (let i = 0; i < p.n; i++)
      out[offOut(p, i)] = dy[offB(p, i)] * unaryGrad64(p.code, x[offA(p, i)], p.arg0, p.arg1);
  },
});

export const binaryKernel = defineKernel({
  name: 'binary',
  shader: 'elementwise',
  entryPoint: 'binary',
  uniforms,
  inputs: ['a', 'b'],
  outputs: ['out'],
  workgroupSize: [64],
  cpu: ([a, b], [out], p) => {
    for (let i = 0; i < p.n; i++)
      out[offOut(p, i)] = binary64(p.code, a[offA(p, i)], b[offB(p, i)]);
  },
});

export const binaryGradKernel = defineKernel({
  name: 'binary_grad',
  shader: 'elementwise',
  entryPoint: 'binary_grad',
  uniforms,
  inputs: ['a', 'b', 'dy'],
  outputs: ['da', 'db'],
  workgroupSize: [64],
  cpu: ([a, b, dy], [da, db], p) => {
    for (let i = 0; i < p.n; i++) {
      const [ga, gb] = binaryGrad64(p.code, a[offA(p, i)], b[offB(p, i)]);
      da[i] = ga * dy[i];
      db[i] = gb * dy[i];
    }
  },
});

/** Strided access of one operand: element offset and strides over the iteration shape. */
export interface Access {
  offset: number;
  strides: readonly number[];
}

const contiguous = (shape: Shape): Access => ({ offset: 0, strides: stridesOf(shape) });

function mapParams(
  code: number,
  shape: Shape,
  a: Access,
  b: Access,
  out: Access,
  args: readonly number[],
): ElementwiseParams {
  const n = shape.reduce((x, y) => x * y, 1);
  const c = stridesOf(shape);
  const isContig = (s: Access) => s.offset === 0 && sameShape(s.strides, c);
  const allContig = isContig(a) && isContig(b) && isContig(out);
  return {
    n,
    code,
    off_a: a.offset,
    off_b: b.offset,
    off_out: out.offset,
    contiguous: allContig ? 1 : 0,
    arg0: args[0] ?? 0,
    arg1: args[1] ?? 0,
    shape: padTo(shape, 1),
    stride_a: padTo(a.strides, 0),
    stride_b: padTo(b.strides, 0),
    stride_out: padTo(out.strides, 0),
  };
}

/**
 * Low-level strided unary map: for every index of `shape`, dst[dstAccess] = f(src[srcAccess]),
 * `args` the op's scalars (arg0, arg1). Code 0 (identity) is the copy behind transpose, slice,
 * concat and broadcastTo.
 */
export function stridedMap(
  code: number,
  src: Tensor,
  srcAccess: Access,
  dst: Tensor,
  dstAccess: Access,
  shape: Shape,
  args: readonly number[] = [],
): void {
  const p = mapParams(code, shape, srcAccess, srcAccess, dstAccess, args);
  src.engine.run(unaryKernel, [src], [dst], p, linearGrid(p.n, 64));
}

// ---- ops ----------------------------------------------------------------------------------------

function unaryOp(code: number, x: Tensor, f0 = 0, f1 = 0): Tensor {
  const e: Engine = x.engine;
  const out = e.empty(x.shape);
  stridedMap(code, x, contiguous(x.shape), out, contiguous(x.shape), x.shape, [f0, f1]);
  return recordUnary([x], out, { code, f0, f1 });
}

export const neg = (x: Tensor) => unaryOp(UNARY.neg, x);
export const exp = (x: Tensor) => unaryOp(UNARY.exp, x);
/** Natural log (x > 0). */
export const log = (x: Tensor) => unaryOp(UNARY.log, x);
export const sigmoid = (x: Tensor) => unaryOp(UNARY.sigmoid, x);
export const softplus = (x: Tensor) => unaryOp(UNARY.softplus, x);
export const tanh = (x: Tensor) => unaryOp(UNARY.tanh, x);
export const relu = (x: Tensor) => unaryOp(UNARY.relu, x);
export const abs = (x: Tensor) => unaryOp(UNARY.abs, x);
export const sqrt = (x: Tensor) => unaryOp(UNARY.sqrt, x);
export const square = (x: Tensor) => unaryOp(UNARY.square, x);
/** log(1 + x), accurate for small |x| (x > −1). */
export const log1p = (x: Tensor) => unaryOp(UNARY.log1p, x);
/** A fresh copy (differentiable). */
export const copy = (x: Tensor) => unaryOp(UNARY.identity, x);
/** Clamps to [lo, hi]; the gradient passes on the closed interval. */
export const clamp = (x: Tensor, lo: number, hi: number) => unaryOp(UNARY.clamp, x, lo, hi);
/** x^p for x ≥ 0 (0 at x = 0 for p > 0, 1 for p = 0). */
export const powScalar = (x: Tensor, p: number) => unaryOp(UNARY.powScalar, x, p);
/** scale·x + shift in one dispatch. */
export const affine = (x: Tensor, scale: number, shift = 0) =>
  unaryOp(UNARY.affine, x, scale, shift);
export const mulScalar = (x: Tensor, c: number) => affine(x, c, 0);
export const addScalar = (x: Tensor, c: number) => affine(x, 1, c);

function binaryOp(code: number, a: Tensor, b: Tensor): Tensor {
  if (a.engine !== b.engine)
    throw new Error('causalmix: tensors from two engines cannot be combined');
  const shape = broadcastShapes(a.shape, b.shape);
  const out = a.engine.empty(shape);
  const p = mapParams(
    code,
    shape,
    { offset: 0, strides: broadcastStrides(a.shape, shape) },
    { offset: 0, strides: broadcastStrides(b.shape, shape) },
    contiguous(shape),
    [],
  );
  a.engine.run(binaryKernel, [a, b], [out], p, linearGrid(p.n, 64));
  return recordBinary([a, b], out, { code });
}

export const add = (a: Tensor, b: Tensor) => binaryOp(BINARY.add, a, b);
export const sub = (a: Tensor, b: Tensor) => binaryOp(BINARY.sub, a, b);
export const mul = (a: Tensor, b: Tensor) => binaryOp(BINARY.mul, a, b);
export const div = (a: Tensor, b: Tensor) => binaryOp(BINARY.div, a, b);
export const minimum = (a: Tensor, b: Tensor) => binaryOp(BINARY.min, a, b);
export const maximum = (a: Tensor, b: Tensor) => binaryOp(BINARY.max, a, b);
/** a^b element-wise for a ≥ 0. */
export const pow = (a: Tensor, b: Tensor) => binaryOp(BINARY.pow, a, b);

// ---- backward rules -----------------------------------------------------------------------------

const recordUnary = defineGradient<{ code: number; f0: number; f1: number }>({
  op: 'unary',
  saves: [],
  why: 'the input x (f′ is recomputed from it in the same dispatch)',
  grad: (dy, { inputs: [x], attrs }) => {
    const out = x.engine.empty(x.shape);
    const p = mapParams(
      attrs.code,
      x.shape,
      contiguous(x.shape),
      contiguous(x.shape),
      contiguous(x.shape),
      [attrs.f0 as number, attrs.f1 as number],
    );
    x.engine.run(unaryGradKernel, [x, dy], [out], p, linearGrid(p.n, 64));
    return [out];
  },
});

const recordBinary = defineGradient<{ code: number }>({
  op: 'binary',
  saves: [],
  why: 'both inputs (read through their broadcast strides)',
  grad: (dy, { inputs: [a, b], attrs }) => {
    const e = a.engine;
    const shape = dy.shape;
    // a + b without broadcasting passes dy through to both: no dispatch
    if (attrs.code === BINARY.add && sameShape(a.shape, shape) && sameShape(b.shape, shape))
      return [e.alias(dy, shape), e.alias(dy, shape)];
    const da = e.empty(shape);
    const db = e.empty(shape);
    const p = mapParams(
      attrs.code,
      shape,
      { offset: 0, strides: broadcastStrides(a.shape, shape) },
      { offset: 0, strides: broadcastStrides(b.shape, shape) },
      contiguous(shape),
      [],
    );
    e.run(binaryGradKernel, [a, b, dy], [da, db], p, linearGrid(p.n, 64));
    return [reduceTo(da, a.shape), reduceTo(db, b.shape)];
  },
});

/** Sums a broadcast gradient back to `shape` (and frees the full-size one). */
function reduceTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const r = sumToShape(g, shape);
  g.dispose();
  return r;
}
