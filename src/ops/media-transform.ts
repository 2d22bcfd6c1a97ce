/**
 * Fused media transform (shaders/media-transform.wgsl), model-spec steps 1–3: per region r and
 * channel c, geometric adstock → Hill saturation → DAG channel mixing:
 *
 *   α = min(σ(alphaRaw), 0.8), a = clamp(softplus(slopeRaw), 2, 5), g = clamp(softplus(halfSatRaw), 0.01, 1)
 *   A = σ(dagLogits/τ) ⊙ M (M strictly upper-triangular or 1 − I), m = σ(mixRaw)
 *   s_0 = x_0, s_t = clamp(x_t + α·s_{t−1}, 0, 10)
 *   h = σ(a·(ln s − ln g)) for s > 0, 0 at s ≤ 0 (upstreamCompat: x^a/(x^a + g^a + 1e-8), x = s⁺ + 1e-8)
 *   x̃_j = (1 − m_j)·h_j + m_j·Σ_i A[i,j]·h_i
 *
 * Forward: one dispatch (one invocation per region, time loop inside). Backward: two dispatches (a
 * reverse-time pass per region writing dx and per-region partial parameter gradients, then a sum
 * over regions). Clamps pass the gradient inside their bounds, bounds included (PyTorch).
 */
import type { KernelDef, KernelParams } from '../engine/kernel.js';
import { linearGrid } from '../engine/kernel.js';
import { formatShape } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { registerGradient } from '../autograd/registry.js';
import { recordOp } from '../autograd/tape.js';

export interface MediaTransformOptions {
  /** DAG sigmoid temperature τ (default 0.5) */
  temperature?: number;
  /** 'triangular': strictly upper-triangular DAG; 'notears': every off-diagonal edge */
  mask?: 'triangular' | 'notears';
  /** upstream's power-form Hill with its 1e-8 offsets instead of the log-space form */
  upstreamCompat?: boolean;
}

/** The shader keeps per-channel state in private arrays of this length. */
export const MEDIA_MAX_CHANNELS = 64;

// ---- float64 references -------------------------------------------------------------------------

const sigmoid64 = (x: number) =>
  x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
const softplus64 = (x: number) =>
  x < -15 ? Math.exp(x) : Math.max(x, 0) + Math.log(1 + Math.exp(-Math.abs(x)));
const clamp64 = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);
const pow64 = (x: number, p: number) => (x <= 0 ? (p === 0 ? 1 : 0) : Math.pow(x, p));

interface Dims {
  R: number;
  T: number;
  C: number;
  notears: boolean;
  compat: boolean;
  tau: number;
}

const dims = (p: KernelParams): Dims => ({
  R: p.u[0],
  T: p.u[1],
  C: p.u[2],
  notears: p.u[3] === 1,
  compat: p.u[4] === 1,
  tau: p.f[0],
});

const maskOf = (d: Dims, i: number, j: number) => ((d.notears ? i !== j : i < j) ? 1 : 0);

function hill64(d: Dims, a: number, s: number, g: number): number {
  if (!d.compat) {
    const x = Math.max(a, 0);
    return x <= 0 ? 0 : sigmoid64(s * (Math.log(x) - Math.log(g)));
  }
  const x = Math.max(a, 0) + 1e-8;
  const n = pow64(x, s);
  const gs = pow64(g, s);
  return clamp64(n / (n + gs + 1e-8), 0, 1);
}

/** (∂h/∂a, ∂h/∂s, ∂h/∂g) of hill64. */
function hillGrad64(d: Dims, a: number, s: number, g: number): [number, number, number] {
  if (!d.compat) {
    const x = Math.max(a, 0);
    if (x <= 0) return [0, 0, 0];
    const lx = Math.log(x) - Math.log(g);
    const h = sigmoid64(s * lx);
    const k = h * (1 - h);
    return [(k * s) / x, k * lx, (-k * s) / g];
  }
  const x = Math.max(a, 0) + 1e-8;
  const n = pow64(x, s);
  const gs = pow64(g, s);
  const den = n + gs + 1e-8;
  const dn = (gs + 1e-8) / (den * den);
  const dg = -n / (den * den);
  const pass = a >= 0 ? 1 : 0;
  return [(pass * dn * s * n) / x, dn * n * Math.log(x) + dg * gs * Math.log(g), (dg * s * gs) / g];
}

/** Constrained per-channel parameters and the DAG matrix A (row i → column j). */
function params64(
  d: Dims,
  alphaRaw: Float64Array,
  slopeRaw: Float64Array,
  halfRaw: Float64Array,
  dag: Float64Array,
  mixRaw: Float64Array,
) {
  const { C } = d;
  const alpha = Float64Array.from({ length: C }, (_, c) => Math.min(sigmoid64(alphaRaw[c]), 0.8));
  const slope = Float64Array.from({ length: C }, (_, c) => clamp64(softplus64(slopeRaw[c]), 2, 5));
  const half = Float64Array.from({ length: C }, (_, c) => clamp64(softplus64(halfRaw[c]), 0.01, 1));
  const mix = Float64Array.from({ length: C }, (_, c) => sigmoid64(mixRaw[c]));
  const sg = Float64Array.from({ length: C * C }, (_, k) => sigmoid64(dag[k] / d.tau));
  const A = Float64Array.from(
    { length: C * C },
    (_, k) => sg[k] * maskOf(d, Math.floor(k / C), k % C),
  );
  return { alpha, slope, half, mix, sg, A };
}

/** Clamped adstock for all (r, t, c), laid out like x. */
function adstock64(d: Dims, x: Float64Array, alpha: Float64Array): Float64Array {
  const { R, T, C } = d;
  const st = new Float64Array(R * T * C);
  for (let r = 0; r < R; r++)
    for (let t = 0; t < T; t++)
      for (let c = 0; c < C; c++) {
        const k = (r * T + t) * C + c;
        st[k] = t === 0 ? x[k] : clamp64(x[k] + alpha[c] * st[k - C], 0, 10);
      }
  return st;
}

// ---- kernels ------------------------------------------------------------------------------------

export const mediaForwardKernel: KernelDef = {
  name: 'media_forward',
  shader: 'media-transform',
  entryPoint: 'media_forward',
  cpu: ([x, alphaRaw, slopeRaw, halfRaw, dag, mixRaw], [out], p) => {
    const d = dims(p);
    const { R, T, C } = d;
    const { alpha, slope, half, mix, A } = params64(d, alphaRaw, slopeRaw, halfRaw, dag, mixRaw);
    const st = adstock64(d, x, alpha);
    const h = new Float64Array(C);
    for (let r = 0; r < R; r++)
      for (let t = 0; t < T; t++) {
        const base = (r * T + t) * C;
        for (let c = 0; c < C; c++) h[c] = hill64(d, st[base + c], slope[c], half[c]);
        for (let j = 0; j < C; j++) {
          let pj = 0;
          for (let i = 0; i < C; i++) pj += A[i * C + j] * h[i];
          out[base + j] = (1 - mix[j]) * h[j] + mix[j] * pj;
        }
      }
  },
};

export const mediaBackwardKernel: KernelDef = {
  name: 'media_backward',
  shader: 'media-transform',
  entryPoint: 'media_backward',
  cpu: ([x, alphaRaw, slopeRaw, halfRaw, dag, mixRaw, dy], [work], p) => {
    const d = dims(p);
    const { R, T, C, tau } = d;
    const { alpha, slope, half, mix, sg, A } = params64(
      d,
      alphaRaw,
      slopeRaw,
      halfRaw,
      dag,
      mixRaw,
    );
    const st = adstock64(d, x, alpha);
    const P = 4 * C + C * C;
    const h = new Float64Array(C);
    const q = new Float64Array(C);
    for (let r = 0; r < R; r++) {
      const pb = R * T * C + r * P;
      for (let k = 0; k < P; k++) work[pb + k] = 0;
      const carry = new Float64Array(C);
      for (let t = T - 1; t >= 0; t--) {
        const base = (r * T + t) * C;
        for (let c = 0; c < C; c++) h[c] = hill64(d, st[base + c], slope[c], half[c]);
        for (let j = 0; j < C; j++) {
          let pj = 0;
          for (let i = 0; i < C; i++) pj += A[i * C + j] * h[i];
          work[pb + 3 * C + j] += dy[base + j] * (pj - h[j]);
          q[j] = mix[j] * dy[base + j];
        }
        for (let i = 0; i < C; i++) {
          let dh = (1 - mix[i]) * dy[base + i];
          for (let j = 0; j < C; j++) {
            if (!maskOf(d, i, j)) continue;
            const s = sg[i * C + j];
            dh += s * q[j];
            work[pb + 4 * C + i * C + j] += (q[j] * h[i] * s * (1 - s)) / tau;
          }
          const [ha, hs, hg] = hillGrad64(d, st[base + i], slope[i], half[i]);
          work[pb + C + i] += dh * hs;
          work[pb + 2 * C + i] += dh * hg;
          const da = dh * ha + carry[i];
          if (t === 0) {
            work[base + i] = da; // a_0 = x_0: no clamp
          } else {
            const prev = st[base - C + i];
            const pre = x[base + i] + alpha[i] * prev;
            const active = pre >= 0 && pre <= 10;
            work[base + i] = active ? da : 0;
            if (active) work[pb + i] += prev * da;
            carry[i] = active ? alpha[i] * da : 0;
          }
        }
      }
      // chain through the raw parameterisations
      for (let c = 0; c < C; c++) {
        const sa = sigmoid64(alphaRaw[c]);
        work[pb + c] *= sa <= 0.8 ? sa * (1 - sa) : 0;
        const sp = softplus64(slopeRaw[c]);
        work[pb + C + c] *= sp >= 2 && sp <= 5 ? sigmoid64(slopeRaw[c]) : 0;
        const hp = softplus64(halfRaw[c]);
        work[pb + 2 * C + c] *= hp >= 0.01 && hp <= 1 ? sigmoid64(halfRaw[c]) : 0;
        work[pb + 3 * C + c] *= mix[c] * (1 - mix[c]);
      }
    }
  },
};

export const mediaReduceKernel: KernelDef = {
  name: 'media_reduce',
  shader: 'media-transform',
  entryPoint: 'media_reduce',
  cpu: ([work], [dx, dalpha, dslope, dhalf, ddag, dmix], p) => {
    const { R, T, C } = dims(p);
    const n = R * T * C;
    const P = 4 * C + C * C;
    for (let i = 0; i < n; i++) dx[i] = work[i];
    for (let i = 0; i < P; i++) {
      let acc = 0;
      for (let r = 0; r < R; r++) acc += work[n + r * P + i];
      if (i < C) dalpha[i] = acc;
      else if (i < 2 * C) dslope[i - C] = acc;
      else if (i < 3 * C) dhalf[i - 2 * C] = acc;
      else if (i < 4 * C) dmix[i - 3 * C] = acc;
      else ddag[i - 4 * C] = acc;
    }
  },
};

function mediaParams(
  R: number,
  T: number,
  C: number,
  notears: boolean,
  compat: boolean,
  tau: number,
): KernelParams {
  return { u: [R, T, C, notears ? 1 : 0, compat ? 1 : 0], f: [tau] };
}

// ---- op -----------------------------------------------------------------------------------------

function check(x: Tensor, params: [string, Tensor, number[]][]): void {
  for (const [name, t, shape] of params) {
    t.assertAlive();
    if (t.engine !== x.engine)
      throw new Error(`causalmix: mediaTransform: ${name} belongs to another engine than x`);
    if (t.dtype !== 'float32')
      throw new Error(`causalmix: mediaTransform: ${name} must be float32, got ${t.dtype}`);
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))
      throw new Error(
        `causalmix: mediaTransform: ${name} has shape ${formatShape(t.shape)}, expected ${formatShape(shape)}`,
      );
  }
}

/**
 * Adstock → Hill → DAG mix of media x [R, T, C] (C ≤ 64) with raw (unconstrained) per-channel
 * parameters alphaRaw, slopeRaw, halfSatRaw, mixRaw [C] and DAG logits [C, C]; returns [R, T, C].
 */
export function mediaTransform(
  x: Tensor,
  alphaRaw: Tensor,
  slopeRaw: Tensor,
  halfSatRaw: Tensor,
  dagLogits: Tensor,
  mixRaw: Tensor,
  opts: MediaTransformOptions = {},
): Tensor {
  x.assertAlive();
  if (x.shape.length !== 3)
    throw new Error(`causalmix: mediaTransform: x must be [R, T, C], got ${formatShape(x.shape)}`);
  const [R, T, C] = x.shape;
  if (C < 1 || C > MEDIA_MAX_CHANNELS)
    throw new Error(`causalmix: mediaTransform: C must be 1..${MEDIA_MAX_CHANNELS}, got ${C}`);
  check(x, [
    ['x', x, [R, T, C]],
    ['alphaRaw', alphaRaw, [C]],
    ['slopeRaw', slopeRaw, [C]],
    ['halfSatRaw', halfSatRaw, [C]],
    ['dagLogits', dagLogits, [C, C]],
    ['mixRaw', mixRaw, [C]],
  ]);
  const tau = opts.temperature ?? 0.5;
  if (!(Number.isFinite(tau) && tau > 0))
    throw new Error(`causalmix: mediaTransform: temperature must be positive, got ${tau}`);
  const notears = (opts.mask ?? 'triangular') === 'notears';
  const compat = opts.upstreamCompat ?? false;
  const e = x.engine;
  const out = e.empty([R, T, C]);
  const inputs = [x, alphaRaw, slopeRaw, halfSatRaw, dagLogits, mixRaw];
  if (R > 0 && T > 0)
    e.run(
      mediaForwardKernel,
      inputs,
      [out],
      mediaParams(R, T, C, notears, compat, tau),
      linearGrid(R, 64),
    );
  return recordOp('media_transform', inputs, out, { notears, compat, tau });
}

// ---- backward rule ------------------------------------------------------------------------------

registerGradient({
  op: 'media_transform',
  saves: 'nothing (the inputs are read again; adstock and Hill values are recomputed)',
  grad: (dy, { inputs, attrs }) => {
    const [x] = inputs;
    const e = x.engine;
    const [R, T, C] = x.shape;
    const p = mediaParams(
      R,
      T,
      C,
      attrs.notears as boolean,
      attrs.compat as boolean,
      attrs.tau as number,
    );
    // nothing to run over: every gradient is zero
    if (R === 0 || T === 0) return [x, ...inputs.slice(1)].map((t) => e.zeros(t.shape));
    const P = 4 * C + C * C;
    const work = e.empty([R * T * C + R * P]);
    const grads = [e.empty(x.shape), ...inputs.slice(1).map((t) => e.empty(t.shape))];
    const [dx, dalpha, dslope, dhalf, ddag, dmix] = grads;
    e.run(mediaBackwardKernel, [...inputs, dy], [work], p, linearGrid(R, 64));
    e.run(
      mediaReduceKernel,
      [work],
      [dx, dalpha, dslope, dhalf, ddag, dmix],
      p,
      linearGrid(Math.max(R * T * C, P), 64),
    );
    work.dispose();
    return grads;
  },
});
