/**
 * Inverted dropout (shaders/dropout.wgsl) whose mask comes from a hash of (seed, element index):
 * nothing is stored for the backward pass, and a recorded training step draws a new mask each
 * run when the caller rewrites the 1-element int32 seed tensor.
 */
import { defineKernel, linearGrid } from '../engine/kernel.js';
import { uniformLayout } from '../engine/kernel-interface.js';
import type { Tensor } from '../engine/tensor.js';
import { defineGradient } from '../autograd/registry.js';

/** The shader's PCG hash on 32-bit unsigned integers (Math.imul keeps the products in u32). */
function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** 1 where element i survives dropout with rate p under `seed`, else 0 (the kernel's rule). */
export function dropoutKeep(seed: number, i: number, p: number): boolean {
  const h = pcgHash((i ^ pcgHash(seed)) >>> 0);
  return (h >>> 8) / 16777216 >= p;
}

const uniforms = uniformLayout('dropout', 'DropoutUniforms', {
  /** elements */
  n: 'u32',
  /** the dropout rate p */
  rate: 'f32',
  /** 1 / (1 − p) */
  scale: 'f32',
});

export const dropoutKernel = defineKernel({
  name: 'dropout',
  shader: 'dropout',
  entryPoint: 'dropout',
  uniforms,
  inputs: ['x', 'seed'],
  outputs: ['y'],
  workgroupSize: [256],
  cpu: ([x, seed], [y], { n, rate, scale }) => {
    for (let i = 0; i < n; i++) y[i] = dropoutKeep(seed[0], i, rate) ? x[i] * scale : 0;
  },
});

function run(x: Tensor, seed: Tensor, p: number): Tensor {
  const y = x.engine.empty(x.shape);
  if (x.size > 0)
    x.engine.run(
      dropoutKernel,
      [x, seed],
      [y],
      { n: x.size, rate: p, scale: 1 / (1 - p) },
      linearGrid(x.size, 256),
    );
  return y;
}

/**
 * y = x · mask / (1 − p) with mask drawn from `seed` (an int32 tensor of one element); p in [0, 1).
 * p = 0 returns x unchanged (no dispatch).
 */
export function dropout(x: Tensor, seed: Tensor, p: number): Tensor {
  if (!(p >= 0 && p < 1)) throw new Error(`causalmix: dropout rate must be in [0, 1), got ${p}`);
  if (seed.size !== 1 || seed.dtype !== 'int32')
    throw new Error('causalmix: dropout seed must be an int32 tensor of one element');
  if (p === 0) return x;
  return recordDropout([x, seed], run(x, seed, p), { p });
}

const recordDropout = defineGradient<{ p: number }>({
  op: 'dropout',
  saves: [],
  why: 'nothing (the mask is regenerated from the seed tensor, which must not change before backward)',
  grad: (dy, { inputs, attrs }) => [run(dy, inputs[1], attrs.p), null],
});
