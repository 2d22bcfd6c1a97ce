/**
 * Fused media transform (shaders/media-transform.wgsl), model-spec steps 1–3: per region r and
 * channel c, geometric adstock → Hill saturation → DAG channel mixing:
 *
 *   α = min(σ(alphaRaw), 0.8), a = clamp(softplus(slopeRaw), aMin, 5), g = clamp(softplus(halfSatRaw), 0.01, 1)
 *   (aMin = `slopeMin`, 2 in the reference: S-shaped curves only; below 1 concave ones too;
 *   the bounds and the raw → constrained maps: src/maths/constraints.ts)
 *   A = σ(dagLogits/τ) ⊙ M (M strictly upper-triangular or 1 − I), m = σ(mixRaw)
 *   s_0 = x_0, s_t = clamp(x_t + α·s_{t−1}, 0, 10)
 *   h = σ(a·(ln s − ln g)) for s > 0, 0 at s ≤ 0 (upstreamCompat: x^a/(x^a + g^a + 1e-8), x = s⁺ + 1e-8)
 *   x̃_j = (1 − m_j)·h_j + m_j·Σ_i A[i,j]·h_i
 *
 * Forward: one dispatch (one invocation per region, time loop inside). Backward: two dispatches (a
 * reverse-time pass per region writing dx and per-region partial parameter gradients, then a sum
 * over regions). Long sequences split the time loops over several dispatches (mediaForwardPlan,
 * mediaBackwardPlan). Clamps pass the gradient inside their bounds, bounds included (PyTorch).
 */
import { defineKernel, linearGrid } from '../engine/kernel.js';
import { shaderConstants, uniformLayout, type UniformValues } from '../engine/kernel-interface.js';
import { formatShape } from '../engine/shape.js';
import {
  LOOP_BUDGET,
  LOOP_MARGIN,
  loopBudget,
  stepsPerDispatch,
} from '../engine/launch-planner.js';
import type { Tensor } from '../engine/tensor.js';
import { defineGradient } from '../autograd/registry.js';
import { clamp, hillPower, sigmoid } from '../maths/functions.js';
import {
  alphaFromRaw,
  alphaRawGrad,
  halfSatFromRaw,
  halfSatRawGrad,
  MEDIA_CONSTRAINTS,
  slopeFromRaw,
  slopeRawGrad,
} from '../maths/constraints.js';

export interface MediaTransformOptions {
  /** DAG sigmoid temperature τ (default 0.5) */
  temperature?: number;
  /** 'triangular': strictly upper-triangular DAG; 'notears': every off-diagonal edge */
  mask?: 'triangular' | 'notears';
  /** upstream's power-form Hill with its 1e-8 offsets instead of the log-space form */
  upstreamCompat?: boolean;
  /** lower clamp of the Hill slope (default 2, the reference's) */
  slopeMin?: number;
  /**
   * weeks per dispatch, forward and in each backward phase (default: as many as the adapter's
   * loop budget allows; the results do not depend on it)
   */
  weeksPerDispatch?: number;
}

/** The shader keeps per-channel state in private arrays of this length. */
export const MEDIA_MAX_CHANNELS = 64;

// ---- kernel interface ---------------------------------------------------------------------------

/** Numbers the TypeScript and shaders/media-transform.wgsl share (the WGSL reads these names). */
const MEDIA = shaderConstants('media-transform', {
  /** private per-channel arrays' length */
  MAXC: MEDIA_MAX_CHANNELS,
  /** DAG mask: strictly upper-triangular */
  MASK_TRIANGULAR: 0,
  /** DAG mask: every off-diagonal edge */
  MASK_NOTEARS: 1,
  /** Hill form: log-space sigmoid */
  HILL_LOG: 0,
  /** Hill form: upstream's power form with its 1e-8 offsets */
  HILL_POWER: 1,
});

/**
 * One struct for the three entry points (the reduce reads only regions, weeks, channels; fields an
 * entry point does not read are given as 0 or the op's values, as `mediaParams` builds them).
 */
const uniforms = uniformLayout('media-transform', 'MediaUniforms', {
  /** regions R */
  regions: 'u32',
  /** weeks T */
  weeks: 'u32',
  /** channels C (≤ MEDIA_MAX_CHANNELS) */
  channels: 'u32',
  /** DAG mask: MASK_TRIANGULAR or MASK_NOTEARS */
  mask: 'u32',
  /** Hill form: HILL_LOG or HILL_POWER */
  hillForm: 'u32',
  /** forward: weeks [a0, a1) run by this dispatch; backward: weeks whose adstock it recomputes */
  a0: 'u32',
  a1: 'u32',
  /** backward: weeks b1 − 1 down to b0 run in reverse (b0 = b1: adstock only); 0 elsewhere */
  b0: 'u32',
  b1: 'u32',
  /** DAG sigmoid temperature τ */
  temperature: 'f32',
  /** the Hill slope's lower clamp (MEDIA_CONSTRAINTS.slopeMinReference in the reference) */
  slopeMin: 'f32',
});

type MediaValues = UniformValues<typeof uniforms.fields>;

// ---- float64 references -------------------------------------------------------------------------

const pow64 = (x: number, p: number) => (x <= 0 ? (p === 0 ? 1 : 0) : Math.pow(x, p));

interface Dims {
  R: number;
  T: number;
  C: number;
  notears: boolean;
  compat: boolean;
  tau: number;
  slopeMin: number;
  /** forward: weeks [a0, a1); backward: adstock weeks [a0, a1), reverse weeks [b0, b1) */
  a0: number;
  a1: number;
  b0: number;
  b1: number;
}

const dims = (p: MediaValues): Dims => ({
  R: p.regions,
  T: p.weeks,
  C: p.channels,
  notears: p.mask === MEDIA.MASK_NOTEARS,
  compat: p.hillForm === MEDIA.HILL_POWER,
  tau: p.temperature,
  slopeMin: p.slopeMin,
  a0: p.a0,
  a1: p.a1,
  b0: p.b0,
  b1: p.b1,
});

const maskOf = (d: Dims, i: number, j: number) => ((d.notears ? i !== j : i < j) ? 1 : 0);

function hill64(d: Dims, a: number, s: number, g: number): number {
  if (!d.compat) {
    const x = Math.max(a, 0);
    // (NaN propagates here, as the shader's; `hill` of src/maths gives 0 for it)
    return x <= 0 ? 0 : sigmoid(s * (Math.log(x) - Math.log(g)));
  }
  return hillPower(a, s, g);
}

/** (∂h/∂a, ∂h/∂s, ∂h/∂g) of hill64. */
function hillGrad64(d: Dims, a: number, s: number, g: number): [number, number, number] {
  if (!d.compat) {
    const x = Math.max(a, 0);
    if (x <= 0) return [0, 0, 0];
    const lx = Math.log(x) - Math.log(g);
    const h = sigmoid(s * lx);
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
  const alpha = Float64Array.from({ length: C }, (_, c) => alphaFromRaw(alphaRaw[c]));
  const slope = Float64Array.from({ length: C }, (_, c) => slopeFromRaw(slopeRaw[c], d.slopeMin));
  const half = Float64Array.from({ length: C }, (_, c) => halfSatFromRaw(halfRaw[c]));
  const mix = Float64Array.from({ length: C }, (_, c) => sigmoid(mixRaw[c]));
  const sg = Float64Array.from({ length: C * C }, (_, k) => sigmoid(dag[k] / d.tau));
  const A = Float64Array.from(
    { length: C * C },
    (_, k) => sg[k] * maskOf(d, Math.floor(k / C), k % C),
  );
  return { alpha, slope, half, mix, sg, A };
}

/** Clamped adstock of region r, channel c at week t from its value `prev` at week t − 1. */
function adstockStep(
  x: Float64Array,
  alpha: Float64Array,
  k: number,
  t: number,
  c: number,
  prev: number,
) {
  return t === 0 ? x[k] : clamp(x[k] + alpha[c] * prev, 0, MEDIA_CONSTRAINTS.adstockStateMax);
}

// ---- kernels ------------------------------------------------------------------------------------

export const mediaForwardKernel = defineKernel({
  name: 'media_forward',
  shader: 'media-transform',
  entryPoint: 'media_forward',
  uniforms,
  inputs: ['x', 'alphaRaw', 'slopeRaw', 'halfSatRaw', 'dagLogits', 'mixRaw'],
  outputs: ['out', 'state'],
  workgroupSize: [64],
  cpu: ([x, alphaRaw, slopeRaw, halfRaw, dag, mixRaw], [out, state], p) => {
    const d = dims(p);
    const { R, T, C, a0, a1 } = d;
    const { alpha, slope, half, mix, A } = params64(d, alphaRaw, slopeRaw, halfRaw, dag, mixRaw);
    const h = new Float64Array(C);
    for (let r = 0; r < R; r++) {
      // adstock at week a0 − 1, left by the previous dispatch
      const st = Float64Array.from(state.subarray(r * C, r * C + C));
      for (let t = a0; t < a1; t++) {
        const base = (r * T + t) * C;
        for (let c = 0; c < C; c++) {
          st[c] = adstockStep(x, alpha, base + c, t, c, st[c]);
          h[c] = hill64(d, st[c], slope[c], half[c]);
        }
        for (let j = 0; j < C; j++) {
          let pj = 0;
          for (let i = 0; i < C; i++) pj += A[i * C + j] * h[i];
          out[base + j] = (1 - mix[j]) * h[j] + mix[j] * pj;
        }
      }
      if (a1 < T) state.set(st, r * C);
    }
  },
});

export const mediaBackwardKernel = defineKernel({
  name: 'media_backward',
  shader: 'media-transform',
  entryPoint: 'media_backward',
  uniforms,
  inputs: ['x', 'alphaRaw', 'slopeRaw', 'halfSatRaw', 'dagLogits', 'mixRaw', 'dy'],
  outputs: ['work'],
  workgroupSize: [64],
  cpu: ([x, alphaRaw, slopeRaw, halfRaw, dag, mixRaw, dy], [work], p) => {
    const d = dims(p);
    const { R, T, C, tau, a0, a1, b0, b1 } = d;
    const { alpha, slope, half, mix, sg, A } = params64(
      d,
      alphaRaw,
      slopeRaw,
      halfRaw,
      dag,
      mixRaw,
    );
    const P = 4 * C + C * C;
    const h = new Float64Array(C);
    const q = new Float64Array(C);
    // the adstock is parked in dx's slots of work, as in the shader
    const st = work;
    for (let r = 0; r < R; r++) {
      for (let t = a0; t < a1; t++) {
        const base = (r * T + t) * C;
        for (let c = 0; c < C; c++)
          st[base + c] = adstockStep(x, alpha, base + c, t, c, st[base - C + c]);
      }
      if (b1 <= b0) continue;
      const pb = R * T * C + r * P;
      // the carried adjoint is α·dx at week b1 when an earlier dispatch ran the later weeks
      const carry = new Float64Array(C);
      if (b1 === T) for (let k = 0; k < P; k++) work[pb + k] = 0;
      else for (let c = 0; c < C; c++) carry[c] = alpha[c] * work[(r * T + b1) * C + c];
      for (let t = b1 - 1; t >= b0; t--) {
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
          // (dx overwrites this week's adstock below: read before)
          work[pb + C + i] += dh * hs;
          work[pb + 2 * C + i] += dh * hg;
          const da = dh * ha + carry[i];
          if (t === 0) {
            work[base + i] = da; // a_0 = x_0: no clamp
          } else {
            const prev = st[base - C + i];
            const pre = x[base + i] + alpha[i] * prev;
            const active = pre >= 0 && pre <= MEDIA_CONSTRAINTS.adstockStateMax;
            work[base + i] = active ? da : 0;
            if (active) work[pb + i] += prev * da;
            carry[i] = active ? alpha[i] * da : 0;
          }
        }
      }
      // chain through the raw parameterisations once the last week has run
      if (b0 > 0) continue;
      for (let c = 0; c < C; c++) {
        work[pb + c] *= alphaRawGrad(alphaRaw[c]);
        work[pb + C + c] *= slopeRawGrad(slopeRaw[c], d.slopeMin);
        work[pb + 2 * C + c] *= halfSatRawGrad(halfRaw[c]);
        work[pb + 3 * C + c] *= mix[c] * (1 - mix[c]);
      }
    }
  },
});

export const mediaReduceKernel = defineKernel({
  name: 'media_reduce',
  shader: 'media-transform',
  entryPoint: 'media_reduce',
  uniforms,
  inputs: ['work'],
  outputs: ['dx', 'dalphaRaw', 'dslopeRaw', 'dhalfSatRaw', 'ddagLogits', 'dmixRaw'],
  workgroupSize: [64],
  cpu: ([work], [dx, dalpha, dslope, dhalf, ddag, dmix], { regions: R, weeks: T, channels: C }) => {
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
});

function mediaParams(
  R: number,
  T: number,
  C: number,
  notears: boolean,
  compat: boolean,
  tau: number,
  slopeMin: number,
  [a0 = 0, a1 = 0, b0 = 0, b1 = 0]: readonly number[] = [],
): MediaValues {
  return {
    regions: R,
    weeks: T,
    channels: C,
    mask: notears ? MEDIA.MASK_NOTEARS : MEDIA.MASK_TRIANGULAR,
    hillForm: compat ? MEDIA.HILL_POWER : MEDIA.HILL_LOG,
    a0,
    a1,
    b0,
    b1,
    temperature: tau,
    slopeMin,
  };
}

// ---- time split ---------------------------------------------------------------------------------
// llvmpipe (Mesa's software adapter behind the 'gl' engine) silently ends every loop of a shader
// once one invocation has run 65,535 loop iterations in all: each loop entry costs its iterations
// + 1, nested loops multiply. The kernels run one region per invocation over all weeks, so long
// sequences split the weeks over several dispatches, each within the adapter's loop budget
// (src/engine/launch-planner.ts; one dispatch where loops are not capped).

/** Loop iterations per week: forward; backward adstock recompute; backward reverse step. */
const forwardWeek = (C: number) => C * C + 3 * C + 3;
const adstockWeek = (C: number) => C + 2;
const reverseWeek = (C: number) => 2 * C * C + 5 * C + 4;
/** Per-dispatch loops outside the weeks (state load and store, zeroing, chain), rounded up. */
const fixedLoops = (C: number) => (C + 1) * (C + 1) + 4 * (C + 1);

/** Forward week ranges [t0, t1), in order: [[0, T]] unless T is long. */
export function mediaForwardPlan(
  T: number,
  C: number,
  budget = LOOP_BUDGET,
  pinned?: number,
): [number, number][] {
  const steps = pinned ?? stepsPerDispatch(budget, forwardWeek(C), fixedLoops(C));
  const plan: [number, number][] = [];
  for (let t0 = 0; t0 < T; t0 += steps) plan.push([t0, Math.min(T, t0 + steps)]);
  return plan;
}

/**
 * Backward dispatches as [a0, a1, b0, b1]: recompute the adstock of weeks [a0, a1), then run weeks
 * b1 − 1 down to b0. [[0, T, 0, T]] unless T is long; else the adstock in forward chunks, the last
 * of which shares a dispatch with the first reverse chunk when both fit, then reverse chunks.
 */
export function mediaBackwardPlan(
  T: number,
  C: number,
  budget = LOOP_BUDGET,
  pinned?: number,
): [number, number, number, number][] {
  const room = budget - LOOP_MARGIN - fixedLoops(C);
  const forced = pinned;
  const sa = forced ?? stepsPerDispatch(budget, adstockWeek(C), fixedLoops(C));
  const sb = forced ?? stepsPerDispatch(budget, reverseWeek(C), fixedLoops(C));
  const plan: [number, number, number, number][] = [];
  for (let a0 = 0; a0 < T; a0 += sa) plan.push([a0, Math.min(T, a0 + sa), 0, 0]);
  for (let b1 = T; b1 > 0; b1 -= sb) plan.push([0, 0, Math.max(0, b1 - sb), b1]);
  // merge the last adstock chunk into the first reverse one when the two fit one dispatch
  const k = plan.findIndex((q) => q[3] > q[2]);
  const [a0, a1] = plan[k - 1];
  const [, , b0, b1] = plan[k];
  const cost = (a1 - a0) * adstockWeek(C) + (b1 - b0) * reverseWeek(C);
  if (cost <= room) plan.splice(k - 1, 2, [a0, a1, b0, b1]);
  return plan;
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
  const slopeMin = opts.slopeMin ?? MEDIA_CONSTRAINTS.slopeMinReference;
  if (!(slopeMin > 0 && slopeMin <= MEDIA_CONSTRAINTS.slopeMax))
    throw new Error(
      `causalmix: mediaTransform: slopeMin must be in (0, ${MEDIA_CONSTRAINTS.slopeMax}], got ${slopeMin}`,
    );
  const e = x.engine;
  const out = e.empty([R, T, C]);
  const inputs = [x, alphaRaw, slopeRaw, halfSatRaw, dagLogits, mixRaw];
  if (R > 0 && T > 0) {
    // adstock at the last week of a dispatch, for the next one
    const state = e.empty([R, C]);
    for (const range of mediaForwardPlan(T, C, loopBudget(e), opts.weeksPerDispatch))
      e.run(
        mediaForwardKernel,
        inputs,
        [out, state],
        mediaParams(R, T, C, notears, compat, tau, slopeMin, range),
        linearGrid(R, 64),
      );
    state.dispose();
  }
  return recordMediaTransform(inputs, out, {
    notears,
    compat,
    tau,
    slopeMin,
    weeksPerDispatch: opts.weeksPerDispatch,
  });
}

// ---- backward rule ------------------------------------------------------------------------------

const recordMediaTransform = defineGradient<{
  notears: boolean;
  compat: boolean;
  weeksPerDispatch: number | undefined;
  tau: number;
  slopeMin: number;
}>({
  op: 'media_transform',
  saves: [],
  why: 'nothing (the inputs are read again; adstock and Hill values are recomputed)',
  grad: (dy, { inputs, attrs }) => {
    const [x] = inputs;
    const e = x.engine;
    const [R, T, C] = x.shape;
    const p = (ranges: number[] = []) =>
      mediaParams(R, T, C, attrs.notears, attrs.compat, attrs.tau, attrs.slopeMin, ranges);
    // nothing to run over: every gradient is zero
    if (R === 0 || T === 0) return [x, ...inputs.slice(1)].map((t) => e.zeros(t.shape));
    const P = 4 * C + C * C;
    const work = e.empty([R * T * C + R * P]);
    const grads = [e.empty(x.shape), ...inputs.slice(1).map((t) => e.empty(t.shape))];
    const [dx, dalpha, dslope, dhalf, ddag, dmix] = grads;
    for (const ranges of mediaBackwardPlan(T, C, loopBudget(e), attrs.weeksPerDispatch))
      e.run(mediaBackwardKernel, [...inputs, dy], [work], p(ranges), linearGrid(R, 64));
    e.run(
      mediaReduceKernel,
      [work],
      [dx, dalpha, dslope, dhalf, ddag, dmix],
      p(),
      linearGrid(Math.max(R * T * C, P), 64),
    );
    work.dispose();
    return grads;
  },
});
