/**
 * The GRU input of a training step, u = concat([xt, dropout(features, seed, p)], 2), fused into
 * one dispatch forward and one backward (shaders/gru-input.wgsl) instead of six. The mask is
 * dropout's hash of (seed, flat index in features), so the values equal the unfused composition
 * bit for bit, and the backward pass regenerates it from the seed (nothing is saved).
 */
import { defineKernel, linearGrid } from '../engine/kernel.js';
import { uniformLayout, type UniformValues } from '../engine/kernel-interface.js';
import { formatShape } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { defineGradient } from '../autograd/registry.js';
import { dropoutKeep } from './dropout.js';

const fail = (msg: string): never => {
  throw new Error(`causalmix: gruInput: ${msg}`);
};

/** The uniforms of both entry points of shaders/gru-input.wgsl. */
const uniforms = uniformLayout('gru-input', 'GruInputUniforms', {
  /** elements of u, R·T·(C + F) */
  n: 'u32',
  /** C, the last dimension of xt */
  c: 'u32',
  /** F, the last dimension of features */
  f: 'u32',
  /** the dropout rate p (0: features pass through untouched) */
  rate: 'f32',
  /** 1 / (1 − p) */
  scale: 'f32',
});
type GruInputParams = UniformValues<typeof uniforms.fields>;

/** A dispatch's uniforms: `rows` rows of C + F columns, dropout rate p. */
function params(rows: number, c: number, f: number, p: number): GruInputParams {
  return { n: rows * (c + f), c, f, rate: p, scale: 1 / (1 - p) };
}

/** features element i (or its gradient) v after dropout: the shader's gru_input_drop. */
function drop(seed: number, i: number, v: number, { rate, scale }: GruInputParams): number {
  if (rate <= 0) return v;
  return dropoutKeep(seed, i, rate) ? v * scale : 0;
}

export const gruInputKernel = defineKernel({
  name: 'gru_input',
  shader: 'gru-input',
  entryPoint: 'gru_input',
  uniforms,
  inputs: ['xt', 'features', 'seed'],
  outputs: ['u'],
  workgroupSize: [256],
  cpu: ([x, feat, seed], [u], p) => {
    const { n, c, f } = p;
    // Row by row rather than decoding each flat index: the same elements, in the same order.
    for (let row = 0, o = 0; o < n; row++) {
      for (let j = 0; j < c; j++) u[o++] = x[row * c + j];
      for (let j = 0; j < f; j++, o++) u[o] = drop(seed[0], row * f + j, feat[row * f + j], p);
    }
  },
});

export const gruInputGradKernel = defineKernel({
  name: 'gru_input_grad',
  shader: 'gru-input',
  entryPoint: 'gru_input_grad',
  uniforms,
  inputs: ['dy', 'seed'],
  outputs: ['dxt', 'dfeatures'],
  workgroupSize: [256],
  cpu: ([dy, seed], [dx, dfeat], p) => {
    const { n, c, f } = p;
    for (let row = 0, o = 0; o < n; row++) {
      for (let j = 0; j < c; j++) dx[row * c + j] = dy[o++];
      for (let j = 0; j < f; j++, o++) dfeat[row * f + j] = drop(seed[0], row * f + j, dy[o], p);
    }
  },
});

/**
 * u[r, t, :] = [xt[r, t, :], features[r, t, :] · mask / (1 − p)] for xt [R, T, C] and features
 * [R, T, F] (float32), `seed` an int32 tensor of one element, p in [0, 1). Equals
 * `concat([xt, dropout(features, seed, p)], 2)` exactly; p = 0 is a plain concat (still one
 * dispatch). The seed must not change before backward (the mask is regenerated from it).
 */
export function gruInput(xt: Tensor, features: Tensor, seed: Tensor, p: number): Tensor {
  if (!(p >= 0 && p < 1)) fail(`dropout rate must be in [0, 1), got ${p}`);
  if (seed.size !== 1 || seed.dtype !== 'int32')
    fail(
      `seed must be an int32 tensor of one element (got ${seed.dtype} ${formatShape(seed.shape)})`,
    );
  const e = xt.engine;
  if (features.engine !== e || seed.engine !== e)
    fail('xt, features and seed live on different engines');
  if (xt.dtype !== 'float32' || features.dtype !== 'float32')
    fail(`xt and features must be float32 (got ${xt.dtype} and ${features.dtype})`);
  const pair = `xt ${formatShape(xt.shape)} and features ${formatShape(features.shape)}`;
  if (xt.rank !== 3 || features.rank !== 3) fail(`${pair} must both have rank 3 ([R, T, ·])`);
  const [r, t, c] = xt.shape;
  const f = features.shape[2];
  if (features.shape[0] !== r || features.shape[1] !== t) fail(`${pair} disagree on [R, T]`);
  const shape = [r, t, c + f];
  const u = e.empty(shape);
  if (u.size > 0)
    e.run(
      gruInputKernel,
      [xt, features, seed],
      [u],
      params(r * t, c, f, p),
      linearGrid(u.size, 256),
    );
  return recordGruInput([xt, features, seed], u, { p });
}

const recordGruInput = defineGradient<{ p: number }>({
  op: 'gruInput',
  saves: [],
  why: 'nothing (the mask is regenerated from the seed tensor, which must not change before backward)',
  grad: (dy, { inputs: [xt, features, seed], attrs }) => {
    const e = dy.engine;
    // One dispatch writes both gradients; one an input does not need is freed here.
    const dx = e.empty(xt.shape);
    const dfeat = e.empty(features.shape);
    const [r, t, c] = xt.shape;
    const p = params(r * t, c, features.shape[2], attrs.p);
    if (dy.size > 0)
      e.run(gruInputGradKernel, [dy, seed], [dx, dfeat], p, linearGrid(dy.size, 256));
    const need = (g: Tensor, x: Tensor): Tensor | null => {
      if (x.requiresGrad) return g;
      g.dispose();
      return null;
    };
    return [need(dx, xt), need(dfeat, features), null];
  },
});
