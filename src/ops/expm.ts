/**
 * Matrix exponential and the NOTEARS acyclicity term (shaders/expm.wgsl).
 *
 * exp(A) by scaling and squaring: s = the least integer with ‖A/2^s‖₁ ≤ θ = 1 (the 1-norm is
 * computed on the device, no readback), a degree-12 Taylor polynomial of A/2^s evaluated by
 * Paterson–Stockmeyer (A², A³, A⁴ and two Horner steps in A⁴: 5 matrix products), then s
 * squarings. The truncation error θ¹³/13! ≈ 1.6e-10 is far below f32 rounding. Everything runs in
 * ONE single-workgroup dispatch for d ≤ 64, with the intermediate matrices in a storage scratch
 * buffer (6·d² floats), so workgroup memory stays below every adapter's limit.
 *
 * notearsH(W) = tr(exp(W∘W)) − d with ∂h/∂W = 2·W ∘ exp(W∘W)ᵀ from the saved exponential.
 */
import { defineKernel, linearGrid } from '../engine/kernel.js';
import { uniformLayout } from '../engine/kernel-interface.js';
import { formatShape } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { defineGradient } from '../autograd/registry.js';

export const EXPM_MAX_D = 64;
const THETA = 1;
const MAX_SQUARINGS = 64;
/** 1/k! for k = 0..12: the Taylor coefficients of the kernel's polynomial. */
export const INV_FACT = Array.from({ length: 13 }, (_, k) => {
  let f = 1;
  for (let i = 2; i <= k; i++) f /= i;
  return f;
});

// ---- float64 reference (same algorithm as the WGSL) ----------------------------------------------

function matmul64(x: Float64Array, y: Float64Array, d: number): Float64Array {
  const z = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) {
      const a = x[i * d + k];
      for (let j = 0; j < d; j++) z[i * d + j] += a * y[k * d + j];
    }
  return z;
}

/** The kernel's number of squarings s: the least s ≥ 0 with ‖a/2^s‖₁ ≤ θ (a is d×d row-major). */
export function expmSquarings(a: ArrayLike<number>, d: number): number {
  let norm = 0;
  for (let j = 0; j < d; j++) {
    let c = 0;
    for (let i = 0; i < d; i++) c += Math.abs(a[i * d + j]);
    norm = Math.max(norm, c);
  }
  let s = 0;
  while (norm > THETA && s < MAX_SQUARINGS) {
    norm *= 0.5;
    s++;
  }
  return s;
}

/** exp(a) of a d×d row-major matrix, in float64, by the kernel's scaling and squaring. */
export function expm64(a: ArrayLike<number>, d: number): Float64Array {
  const s = expmSquarings(a, d);
  const n = d * d;
  const scale = 2 ** -s;
  const A = Float64Array.from({ length: n }, (_, e) => a[e] * scale);
  const A2 = matmul64(A, A, d);
  const A3 = matmul64(A2, A, d);
  const A4 = matmul64(A2, A2, d);
  const block = (b: number, e: number) =>
    INV_FACT[b + 1] * A[e] +
    INV_FACT[b + 2] * A2[e] +
    INV_FACT[b + 3] * A3[e] +
    (Math.floor(e / d) === e % d ? INV_FACT[b] : 0);
  const X = Float64Array.from({ length: n }, (_, e) => block(8, e) + INV_FACT[12] * A4[e]);
  const Y = matmul64(A4, X, d);
  for (let e = 0; e < n; e++) Y[e] += block(4, e);
  let P = matmul64(A4, Y, d);
  for (let e = 0; e < n; e++) P[e] += block(0, e);
  for (let q = 0; q < s; q++) P = matmul64(P, P, d);
  return P;
}

// ---- kernels ------------------------------------------------------------------------------------

const uniforms = uniformLayout('expm', 'ExpmUniforms', {
  /** the matrix is d × d */
  d: 'u32',
  /** 1: exponentiate W∘W (NOTEARS) instead of W */
  squared: 'u32',
  /** 1: also write h = tr(E) − d */
  with_h: 'u32',
});

export const expmKernel = defineKernel({
  name: 'expm_forward',
  shader: 'expm',
  entryPoint: 'expm_forward',
  uniforms,
  inputs: ['a'],
  outputs: ['e', 'scratch', 'h'],
  workgroupSize: [256],
  cpu: ([a], [out, , h], { d, squared, with_h }) => {
    const src = squared === 1 ? Float64Array.from(a.subarray(0, d * d), (v) => v * v) : a;
    const E = expm64(src, d);
    out.set(E);
    if (with_h === 1) {
      let t = 0;
      for (let i = 0; i < d; i++) t += E[i * d + i] - 1;
      h[0] = t;
    }
  },
});

export const notearsGradKernel = defineKernel({
  name: 'notears_backward',
  shader: 'expm',
  entryPoint: 'notears_backward',
  uniforms,
  inputs: ['w', 'e', 'dy'],
  outputs: ['dw'],
  workgroupSize: [256],
  cpu: ([w, E, dy], [dw], { d }) => {
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) dw[i * d + j] = dy[0] * 2 * w[i * d + j] * E[j * d + i];
  },
});

const ONE_GROUP: [number, number, number] = [1, 1, 1];

function checkSquare(what: string, a: Tensor): number {
  a.assertAlive();
  const [d, d2] = a.shape;
  if (a.shape.length !== 2 || d !== d2)
    throw new Error(`causalmix: ${what}: needs a square matrix, got ${formatShape(a.shape)}`);
  if (d > EXPM_MAX_D)
    throw new Error(`causalmix: ${what}: d = ${d} exceeds the supported ${EXPM_MAX_D}`);
  return d;
}

/** Runs the kernel; returns E (and h when withH). */
function runExpm(a: Tensor, squared: boolean, withH: boolean): { E: Tensor; h: Tensor } {
  const e = a.engine;
  const d = a.shape[0];
  const E = e.empty([d, d]);
  const h = e.empty([]);
  const scratch = e.empty([Math.max(6 * d * d, 1)]);
  const p = { d, squared: squared ? 1 : 0, with_h: withH ? 1 : 0 };
  e.run(expmKernel, [a], [E, scratch, h], p, ONE_GROUP);
  scratch.dispose();
  return { E, h };
}

// ---- ops ----------------------------------------------------------------------------------------

/** exp(A) for a square A [d, d], d ≤ 64. No gradient (use notearsH for the acyclicity term). */
export function expm(a: Tensor): Tensor {
  checkSquare('expm', a);
  const { E, h } = runExpm(a, false, false);
  h.dispose();
  return E;
}

/** NOTEARS h(W) = tr(exp(W∘W)) − d, a scalar, differentiable in W. */
export function notearsH(w: Tensor): Tensor {
  checkSquare('notearsH', w);
  const { E, h } = runExpm(w, true, true);
  return recordNotearsH([w], h, { d: w.shape[0] }, [E]);
}

// ---- backward rule ------------------------------------------------------------------------------

const recordNotearsH = defineGradient<{ d: number }>({
  op: 'notears_h',
  saves: ['E'],
  why: 'E = exp(W∘W) from the forward pass (W is read again)',
  grad: (dy, { inputs: [w], saved }) => {
    const e = w.engine;
    const d = w.shape[0];
    const dw = e.empty([d, d]);
    e.run(
      notearsGradKernel,
      [w, saved[0], dy],
      [dw],
      { d, squared: 1, with_h: 0 },
      linearGrid(d * d, 256),
    );
    return [dw];
  },
});
