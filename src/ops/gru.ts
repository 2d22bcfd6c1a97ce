/**
 * GRU over whole sequences (shaders/gru.wgsl), PyTorch equations and gate order (r, z, n):
 *   r = σ(W_ir u + b_ir + W_hr h + b_hr),  z = σ(W_iz u + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in u + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h
 * The input projection of all timesteps is one matmul (the fused linear kernel); the recurrence is
 * one dispatch (one workgroup per RB regions looping over T, see gruRegionsPerWorkgroup) unless T
 * is long (gruStepsPerDispatch). BPTT is the same in reverse plus split-K weight-gradient products
 * (src/ops/linear.ts) and a sum.
 * Kernel parameters: `GruUniforms` below.
 */
import type { Tensor } from '../engine/tensor.js';
import { defineKernel, type KernelDef } from '../engine/kernel.js';
import { uniformLayout, type UniformValues } from '../engine/kernel-interface.js';
import { LOOP_BUDGET, loopBudget, stepsPerDispatch } from '../engine/launch-planner.js';
import { defineGradient } from '../autograd/registry.js';
import { noGrad } from '../autograd/tape.js';
import type { Engine } from '../engine/engine.js';
import { add } from './elementwise.js';
import { sigmoid } from '../maths/functions.js';
import { concat, reshape, slice } from './shape.js';
import { linear, linearInputGrad, linearWeightGrad } from './linear.js';
import { sum } from './reduce.js';

/** Largest hidden size: the shaders' workgroup arrays hold MAX_H floats per buffer. */
export const GRU_MAX_H = 512;

/** The uniforms of every entry point of shaders/gru.wgsl (forward and backward). */
const uniforms = uniformLayout('gru', 'GruUniforms', {
  /** regions in this chunk */
  regions: 'u32',
  /** timesteps T */
  timesteps: 'u32',
  /** hidden size H */
  hidden: 'u32',
  /** the chunk's first region (h and dh are indexed by global region, the rest per chunk) */
  first_region: 'u32',
  /** first step of this dispatch */
  first_step: 'u32',
  /** its number of steps */
  steps: 'u32',
});
type GruParams = UniformValues<typeof uniforms.fields>;

export const gruForwardKernel = defineKernel({
  name: 'gru_forward',
  shader: 'gru',
  entryPoint: 'gru_forward',
  uniforms,
  inputs: ['gi', 'h0', 'whh', 'bih', 'bhh'],
  outputs: ['h', 'saved'],
  workgroupSize: [64],
  cpu: ([gi, h0, whh, bih, bhh], [hOut, saved], p) => {
    const { regions: R, timesteps: T, hidden: H, first_region: r0, first_step: t0, steps } = p;
    const hcur = new Float64Array(H);
    for (let reg = 0; reg < R; reg++) {
      // a later dispatch resumes from h at step t0 − 1
      const from = ((reg + r0) * T + t0 - 1) * H;
      hcur.set(t0 === 0 ? h0.subarray(0, H) : hOut.subarray(from, from + H));
      for (let t = t0; t < t0 + steps; t++) {
        const row = reg * T + t;
        const grow = (reg + r0) * T + t;
        const hnext = new Float64Array(H);
        for (let j = 0; j < H; j++) {
          let ar = bhh[j];
          let az = bhh[H + j];
          let an = bhh[2 * H + j];
          for (let k = 0; k < H; k++) {
            ar += whh[j * H + k] * hcur[k];
            az += whh[(H + j) * H + k] * hcur[k];
            an += whh[(2 * H + j) * H + k] * hcur[k];
          }
          const g = row * 3 * H;
          const r = sigmoid(gi[g + j] + bih[j] + ar);
          const z = sigmoid(gi[g + H + j] + bih[H + j] + az);
          const n = Math.tanh(gi[g + 2 * H + j] + bih[2 * H + j] + r * an);
          hnext[j] = (1 - z) * n + z * hcur[j];
          hOut[grow * H + j] = hnext[j];
          const s = row * 4 * H;
          saved[s + j] = r;
          saved[s + H + j] = z;
          saved[s + 2 * H + j] = n;
          saved[s + 3 * H + j] = an;
        }
        hcur.set(hnext);
      }
    }
  },
});

export const gruBackwardKernel = defineKernel({
  name: 'gru_backward',
  shader: 'gru',
  entryPoint: 'gru_backward',
  uniforms,
  inputs: ['dh', 'h', 'h0', 'saved', 'whh'],
  outputs: ['dgi', 'dgh', 'hprev', 'dh0'],
  workgroupSize: [64],
  cpu: ([dh, h, h0, saved, whh], [dgi, dgh, hprev, dh0], p) => {
    const { regions: R, timesteps: T, hidden: H, first_region: r0, first_step: t0, steps } = p;
    for (let reg = 0; reg < R; reg++) {
      // dh0 carries dh_{t0+steps−1} between dispatches
      let carry = new Float64Array(H);
      if (t0 + steps < T) carry.set(dh0.subarray(reg * H, reg * H + H));
      for (let t = t0 + steps - 1; t >= t0; t--) {
        const row = reg * T + t;
        const grow = (reg + r0) * T + t;
        const s = row * 4 * H;
        const g = row * 3 * H;
        const next = new Float64Array(H);
        for (let j = 0; j < H; j++) {
          const hp = t > 0 ? h[(grow - 1) * H + j] : h0[j];
          const r = saved[s + j];
          const z = saved[s + H + j];
          const n = saved[s + 2 * H + j];
          const hn = saved[s + 3 * H + j];
          const d = dh[grow * H + j] + carry[j];
          const dnp = d * (1 - z) * (1 - n * n);
          const drp = dnp * hn * r * (1 - r);
          const dzp = d * (hp - n) * z * (1 - z);
          dgi[g + j] = drp;
          dgi[g + H + j] = dzp;
          dgi[g + 2 * H + j] = dnp;
          dgh[g + j] = drp;
          dgh[g + H + j] = dzp;
          dgh[g + 2 * H + j] = dnp * r;
          hprev[row * H + j] = hp;
          next[j] = d * z;
        }
        // dh_{t-1}[k] += Σ_j W_hh[j, k]·dgh[j]
        for (let j = 0; j < 3 * H; j++) {
          const gj = dgh[g + j];
          for (let k = 0; k < H; k++) next[k] += whh[j * H + k] * gj;
        }
        carry = next;
      }
      dh0.set(carry, reg * H);
    }
  },
});

/**
 * The vec4 variants (shaders/gru.wgsl) when H is a multiple of 4 and the adapter has 32 KiB of
 * workgroup memory; same maths, same reference.
 */
export const gruForwardKernelV4: KernelDef<GruParams> = {
  ...gruForwardKernel,
  name: 'gru_forward_v4',
  entryPoint: 'gru_forward_v4',
};
export const gruBackwardKernelV4: KernelDef<GruParams> = {
  ...gruBackwardKernel,
  name: 'gru_backward_v4',
  entryPoint: 'gru_backward_v4',
};

/** Regions per workgroup (RB) with an entry point in shaders/gru.wgsl, largest first. */
const RB_CHOICES = { scalar: [4, 2, 1], vec4: [8, 4, 2, 1] };
/**
 * Workgroup memory per entry point (shaders/gru.wgsl), in floats: the scalar kernels stay within
 * WebGPU's default 16 KiB, the vec4 ones use 32 KiB. The forward holds 2·RB·H floats, the backward
 * 3·RB·H.
 */
const WORKGROUP_FLOATS = { scalar: 4096, vec4: 8192 };
/** RB > 1 only while the launch keeps at least this many workgroups (see below). */
const MIN_WORKGROUPS = 4;

/** How gruSequence lays its work out; each setting is planned from the adapter when omitted. */
export interface GruOptions {
  /** at most this many regions per workgroup (RB; still bounded by workgroup memory) */
  regionsPerWorkgroup?: number;
  /** timesteps per recurrence dispatch */
  stepsPerDispatch?: number;
}

/** Whether gruSequence on `e` runs the vec4 kernels at hidden size H. */
export function gruUsesVec4(e: Engine, H: number): boolean {
  return (
    H % 4 === 0 && e.backend.limits.maxComputeWorkgroupStorageSize >= 4 * WORKGROUP_FLOATS.vec4
  );
}

/**
 * Regions per workgroup (RB) for `rc` regions of hidden size H: the largest RB (vec4 kernels: 8, 4,
 * 2, 1; scalar: 4, 2, 1) whose states fit workgroup memory (vec4: forward 2·RB·H ≤ 8192 floats,
 * backward 3·RB·H ≤ 8192, so RB 8 needs H ≤ 341 backward; scalar: ≤ 4096 each) and that leaves at
 * least MIN_WORKGROUPS workgroups.
 * Why: a workgroup of RB regions loads each W_hh element once a step for all of them. Software
 * adapters run a workgroup on one CPU thread and are bound by loads: on llvmpipe (2 cores) RB 8
 * takes the paper-size recurrences (R 190) from RB 4's ~1.6 s forward, ~1.0 s BPTT to ~1.1 s and
 * ~0.7 s. A GPU runs the workgroups side by side and gains less from fewer, longer ones, so RB
 * stays 1 while R is small (R ≤ 5 here; ≥ 4 workgroups still keep two per core on a 2-core CPU).
 */
export function gruRegionsPerWorkgroup(
  rc: number,
  H: number,
  vec4 = H % 4 === 0,
  most?: number,
): { forward: number; backward: number } {
  const kind = vec4 ? 'vec4' : 'scalar';
  const pick = (floatsPerRegion: number) =>
    RB_CHOICES[kind].find(
      (rb) =>
        rb === 1 ||
        (rb * floatsPerRegion <= WORKGROUP_FLOATS[kind] &&
          (most === undefined ? Math.ceil(rc / rb) >= MIN_WORKGROUPS : rb <= most)),
    )!;
  return { forward: pick(2 * H), backward: pick(3 * H) };
}

/**
 * llvmpipe ends every loop of a shader once it has run 65,535 loop iterations in all (Mesa's
 * LP_MAX_TGSI_LOOP_ITERATIONS), silently: a recurrence dispatch must stay below that per
 * invocation. This bounds the iterations one step takes (inner loops counted as if not unrolled).
 */
function loopIterationsPerStep(H: number, rb: number, vec4: boolean, dir: 'forward' | 'backward') {
  const H4 = H / 4;
  const passes = (n: number) => Math.ceil(n / 64);
  if (vec4) return dir === 'forward' ? passes(H4) * (H4 + 40) : 3 * H4 + 100;
  return dir === 'forward'
    ? passes(H) * (H * (rb + 1) + 4 * rb + 4)
    : passes(H) * (rb + 1) + passes(H) * (3 * H * (rb + 1) + 2 * rb + 2);
}

/**
 * Timesteps per recurrence dispatch under the adapter's loop `budget` (src/engine/launch-planner.ts;
 * the default is a capped adapter's): all of T unless the budget needs more dispatches.
 */
export function gruStepsPerDispatch(
  H: number,
  rb: number,
  vec4: boolean,
  dir: 'forward' | 'backward',
  budget = LOOP_BUDGET,
  pinned?: number,
): number {
  if (pinned !== undefined) return pinned;
  return stepsPerDispatch(budget, loopIterationsPerStep(H, rb, vec4, dir));
}

/** One recurrence dispatch's uniforms: `steps` timesteps from `t0` of regions r0 .. r0 + rc − 1. */
function gruParams(rc: number, T: number, H: number, r0: number, t0: number, steps: number) {
  const p: GruParams = {
    regions: rc,
    timesteps: T,
    hidden: H,
    first_region: r0,
    first_step: t0,
    steps,
  };
  return p;
}

const variants = new Map<string, KernelDef<GruParams>>();
/** `base` (an RB = 1 kernel) for RB regions per workgroup: entry point `<base>_rb<RB>`. */
function withRegions(base: KernelDef<GruParams>, rb: number): KernelDef<GruParams> {
  if (rb === 1) return base;
  const name = `${base.name}_rb${rb}`;
  let k = variants.get(name);
  if (!k) {
    k = { ...base, name, entryPoint: `${base.entryPoint}_rb${rb}` };
    variants.set(name, k);
  }
  return k;
}

function checkShapes(u: Tensor, h0: Tensor, wih: Tensor, whh: Tensor, bih: Tensor, bhh: Tensor) {
  const [R, T, I] = u.shape;
  const H = h0.shape[0];
  const ok =
    u.shape.length === 3 &&
    h0.shape.length === 1 &&
    wih.shape.join() === `${3 * H},${I}` &&
    whh.shape.join() === `${3 * H},${H}` &&
    bih.shape.join() === `${3 * H}` &&
    bhh.shape.join() === `${3 * H}`;
  if (!ok)
    throw new Error('causalmix: gruSequence shapes do not match u [R,T,I], h0 [H], W [3H,·]');
  if (H > GRU_MAX_H) throw new Error(`causalmix: gruSequence supports H ≤ ${GRU_MAX_H}, got ${H}`);
  return { R, T, I, H };
}

/**
 * h [R,T,H] of a GRU run over u [R,T,I] from the shared initial state h0 [H], with PyTorch's
 * weight layout W_ih [3H,I], W_hh [3H,H], b_ih [3H], b_hh [3H] (gate order r, z, n). `opts` pins
 * the work layout (the results do not depend on it).
 */
export function gruSequence(
  u: Tensor,
  h0: Tensor,
  wih: Tensor,
  whh: Tensor,
  bih: Tensor,
  bhh: Tensor,
  opts: GruOptions = {},
): Tensor {
  const { R, T, I, H } = checkShapes(u, h0, wih, whh, bih, bhh);
  const e = u.engine;
  const h = e.empty([R, T, H]);
  const saved: Tensor[] = [];
  const chunks = regionChunks(e, R, T, I, H);
  noGrad(e, () => {
    for (const [r0, rc] of chunks) {
      // Hoisted input projection: every timestep of the chunk's regions in one matmul.
      const uc = regionRows(u, r0, rc);
      const gi = linear(uc, wih);
      const s = e.empty([rc, T, 4 * H]);
      const v4 = gruUsesVec4(e, H);
      const rb = gruRegionsPerWorkgroup(rc, H, v4, opts.regionsPerWorkgroup).forward;
      const kernel = withRegions(v4 ? gruForwardKernelV4 : gruForwardKernel, rb);
      const steps = gruStepsPerDispatch(H, rb, v4, 'forward', loopBudget(e), opts.stepsPerDispatch);
      for (let t0 = 0; t0 < T; t0 += steps) {
        const p = gruParams(rc, T, H, r0, t0, Math.min(steps, T - t0));
        e.run(kernel, [gi, h0, whh, bih, bhh], [h, s], p, [Math.ceil(rc / rb), 1, 1]);
      }
      uc.dispose();
      gi.dispose();
      saved.push(s);
    }
  });
  // The backward pass reuses the forward's chunks (one saved tensor each).
  return recordGru([u, h0, wih, whh, bih, bhh], h, { R, T, I, H, chunks, opts }, saved);
}

/** Regions [r0, r0 + rc) of u [R,T,I] as a [rc·T, I] matrix (an alias when that is all of u). */
function regionRows(u: Tensor, r0: number, rc: number): Tensor {
  const [R, T, I] = u.shape;
  if (rc === R) return u.engine.alias(u, [R * T, I]);
  const part = slice(u, [r0, 0, 0], [rc, T, I]);
  const rows = reshape(part, [rc * T, I]);
  if (rows !== part) part.dispose();
  return rows;
}

/**
 * [first region, count] chunks such that every per-chunk buffer (u, the gate tensors, the saved
 * [rc,T,4H]) fits maxStorageBufferBindingSize. The full h [R,T,H] itself must fit.
 */
function regionChunks(e: Engine, R: number, T: number, I: number, H: number): [number, number][] {
  const maxFloats = Math.floor(e.backend.limits.maxStorageBufferBindingSize / 4);
  if (R * T * Math.max(H, I) > maxFloats) {
    throw new Error(
      `causalmix: gruSequence output [${R},${T},${Math.max(H, I)}] exceeds the binding-size limit`,
    );
  }
  const perRegion = T * Math.max(4 * H, I);
  const rc = Math.max(1, Math.min(R, Math.floor(maxFloats / perRegion)));
  const chunks: [number, number][] = [];
  for (let r0 = 0; r0 < R; r0 += rc) chunks.push([r0, Math.min(rc, R - r0)]);
  return chunks;
}

/** What the backward pass needs to know of a recorded gru: sizes and the region chunks. */
interface GruAttrs {
  R: number;
  T: number;
  I: number;
  H: number;
  chunks: [number, number][];
  opts: GruOptions;
}

const recordGru = defineGradient<GruAttrs>({
  op: 'gru',
  saves: ['gates of each region chunk*'],
  why: 'per step r, z, n and hn = W_hn·h + b_hn ([R,T,4H]); h itself is the output',
  grad: (dy, { inputs: [u, h0, wih, whh], output: h, saved, attrs }) => {
    const e = u.engine;
    const { T, I, H, chunks, opts } = attrs;
    const du: Tensor[] = [];
    const acc: Tensor[] = []; // dh0, dW_ih, dW_hh, db_ih, db_hh, summed over chunks
    chunks.forEach(([r0, rc], c) => {
      const dgi = e.empty([rc * T, 3 * H]);
      const dgh = e.empty([rc * T, 3 * H]);
      const hprev = e.empty([rc * T, H]);
      const dh0r = e.empty([rc, H]);
      const v4 = gruUsesVec4(e, H);
      const rb = gruRegionsPerWorkgroup(rc, H, v4, opts.regionsPerWorkgroup).backward;
      const kernel = withRegions(v4 ? gruBackwardKernelV4 : gruBackwardKernel, rb);
      const grid: [number, number, number] = [Math.ceil(rc / rb), 1, 1];
      // steps in reverse, later steps first; dh0r carries dh between dispatches
      const steps = gruStepsPerDispatch(
        H,
        rb,
        v4,
        'backward',
        loopBudget(e),
        opts.stepsPerDispatch,
      );
      for (let end = T; end > 0; end -= steps) {
        const t0 = Math.max(0, end - steps);
        const p = gruParams(rc, T, H, r0, t0, end - t0);
        e.run(kernel, [dy, h, h0, saved[c], whh], [dgi, dgh, hprev, dh0r], p, grid);
      }
      const uc = regionRows(u, r0, rc);
      const duc = linearInputGrad(uc, wih, dgi);
      du.push(e.alias(duc, [rc, T, I]));
      // dW_ih, db_ih, dW_hh, db_hh contract over the [rc·T] axis: split-K products
      const [dwih, dbih] = linearWeightGrad(uc, dgi);
      const [dwhh, dbhh] = linearWeightGrad(hprev, dgh);
      const parts = [sum(dh0r, 0), dwih, dwhh, dbih, dbhh];
      parts.forEach((g, i) => {
        if (c === 0) acc.push(g);
        else {
          const s = add(acc[i], g);
          acc[i].dispose();
          g.dispose();
          acc[i] = s;
        }
      });
      for (const t of [uc, duc, dgi, dgh, hprev, dh0r]) t.dispose();
    });
    let dU = du[0];
    if (du.length > 1) {
      dU = concat(du, 0);
      du.forEach((t) => t.dispose());
    }
    const [dh0, dwih, dwhh, dbih, dbhh] = acc;
    return [dU, dh0, dwih, dwhh, dbih, dbhh];
  },
});
