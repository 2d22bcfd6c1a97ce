import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import type { Engine } from '../src/engine/engine.js';
import * as ops from '../src/ops/index.js';
import {
  gruRegionsPerWorkgroup,
  gruSequence,
  gruStepsPerDispatch,
  type GruOptions,
} from '../src/ops/gru.js';
import { expectClose, finiteDiff, randArray, rng, useEngines } from './helpers.js';
import { TOL } from './tolerances.js';

const E = useEngines();

interface Params {
  R: number;
  T: number;
  I: number;
  H: number;
  u: Float64Array;
  h0: Float64Array;
  wih: Float64Array;
  whh: Float64Array;
  bih: Float64Array;
  bhh: Float64Array;
}

function makeParams(R: number, T: number, I: number, H: number, seed = 1): Params {
  const g = rng(seed);
  // Weights ~ U(−1/√H, 1/√H) as PyTorch initialises them.
  const s = 1 / Math.sqrt(H);
  return {
    R,
    T,
    I,
    H,
    u: randArray(g, R * T * I),
    h0: randArray(g, H, -0.5, 0.5),
    wih: randArray(g, 3 * H * I, -s, s),
    whh: randArray(g, 3 * H * H, -s, s),
    bih: randArray(g, 3 * H, -s, s),
    bhh: randArray(g, 3 * H, -s, s),
  };
}

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Straightforward float64 GRU, one step at a time. `order` maps (r, z, n) to row blocks of the
 * weights, so a permuted order gives the "wrong gate order" reference.
 */
function refForward(p: Params, order: [number, number, number] = [0, 1, 2]): Float64Array {
  const { R, T, I, H } = p;
  const out = new Float64Array(R * T * H);
  const [br, bz, bn] = order.map((o) => o * H);
  for (let reg = 0; reg < R; reg++) {
    let h = Float64Array.from(p.h0);
    for (let t = 0; t < T; t++) {
      const x = p.u.subarray((reg * T + t) * I, (reg * T + t + 1) * I);
      const gi = (row: number) => {
        let a = p.bih[row];
        for (let i = 0; i < I; i++) a += p.wih[row * I + i] * x[i];
        return a;
      };
      const gh = (row: number) => {
        let a = p.bhh[row];
        for (let k = 0; k < H; k++) a += p.whh[row * H + k] * h[k];
        return a;
      };
      const next = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const r = sig(gi(br + j) + gh(br + j));
        const z = sig(gi(bz + j) + gh(bz + j));
        const n = Math.tanh(gi(bn + j) + r * gh(bn + j));
        next[j] = (1 - z) * n + z * h[j];
      }
      h = next;
      out.set(h, (reg * T + t) * H);
    }
  }
  return out;
}

const KEYS = ['u', 'h0', 'wih', 'whh', 'bih', 'bhh'] as const;
const SHAPES = (p: Params): Record<(typeof KEYS)[number], number[]> => ({
  u: [p.R, p.T, p.I],
  h0: [p.H],
  wih: [3 * p.H, p.I],
  whh: [3 * p.H, p.H],
  bih: [3 * p.H],
  bhh: [3 * p.H],
});

/** Runs gruSequence on `e` with `opts`; with `w`, also the gradients of Σ w ⊙ h. */
async function runGru(e: Engine, p: Params, w?: Float64Array, opts: GruOptions = {}) {
  const shapes = SHAPES(p);
  const ts = KEYS.map((k) => {
    const t = e.tensor(p[k], shapes[k]);
    return w ? t.requireGrad() : t;
  });
  const [u, h0, wih, whh, bih, bhh] = ts;
  return gradScope(e, async () => {
    const h = gruSequence(u, h0, wih, whh, bih, bhh, opts);
    const out = { h: await h.toArray(), grads: [] as Float64Array[] };
    if (w) {
      backward(ops.sum(ops.mul(h, e.tensor(w, h.shape))));
      for (const t of ts) out.grads.push(await t.grad!.toArray());
    }
    return out;
  });
}

/*
 * Tolerances. The recurrence compounds f32 rounding over T steps, but the GRU is contractive for
 * these weights (|W| ≤ 1/√H, z ∈ (0, 1)), so errors do not grow: each step adds an H-term dot
 * product (~√H·2⁻²⁴) plus sigmoid/tanh error (3e-6 relative, TOL.transcendental).
 * - forward: atol 2e-5 covers ~T steps of those at O(1) values; rtol 1e-5.
 * - gradients: matmul-style sums over R·T terms of O(1) products → scaled with √(R·T·H).
 */
const fwdTol = { atol: 2e-5, rtol: 1e-5 };
const gradTol = (p: Params) => ({
  atol: 2e-5 * Math.sqrt(p.R * p.T * Math.max(p.H, p.I)),
  rtol: 1e-5,
});

describe('gruSequence forward', () => {
  const cases: [number, number, number, number][] = [
    [1, 1, 1, 1],
    [1, 5, 3, 4], // R = 1
    [3, 7, 5, 2], // non-square: I ≠ H
    [2, 4, 3, 67], // H not a multiple of the workgroup size (64)
    [4, 3, 9, 130],
    [2, 5, 6, 68], // H % 4 == 0: the vec4 kernels, with more units than invocations
    [1, 3, 4, 280], // the model's default hidden size
  ];
  test.each(cases)('R %i T %i I %i H %i matches the float64 reference', async (R, T, I, H) => {
    const p = makeParams(R, T, I, H);
    const ref = refForward(p);
    expectClose((await runGru(E.cpu, p)).h, ref, { atol: 1e-12, rtol: 1e-12 }, 'cpu');
    expectClose((await runGru(E.dev, p)).h, ref, fwdTol, 'dev');
  });

  test('gate order and time direction matter (the reference would catch a swap)', async () => {
    const p = makeParams(2, 6, 3, 5);
    const got = (await runGru(E.dev, p)).h;
    const swapped = refForward(p, [1, 0, 2]);
    expect(() => expectClose(got, swapped, fwdTol, 'swapped')).toThrow();
    // Reversing time: run the reference on the time-reversed input.
    const rev = { ...p, u: new Float64Array(p.u.length) };
    for (let r = 0; r < p.R; r++)
      for (let t = 0; t < p.T; t++)
        rev.u.set(
          p.u.subarray((r * p.T + t) * p.I, (r * p.T + t + 1) * p.I),
          (r * p.T + p.T - 1 - t) * p.I,
        );
    expect(() => expectClose(got, refForward(rev), fwdTol, 'reversed')).toThrow();
  });

  test('forward is one recurrence dispatch plus the input-projection matmul', () => {
    const e = E.dev;
    const p = makeParams(3, 8, 4, 6);
    const ts = KEYS.map((k) => e.tensor(p[k], SHAPES(p)[k]));
    e.flush();
    const before = e.stats().dispatches;
    const h = gruSequence(ts[0], ts[1], ts[2], ts[3], ts[4], ts[5]);
    e.flush();
    // one matmul (a single dispatch for a 2-D product) + one recurrence
    expect(e.stats().dispatches - before).toBe(2);
    h.dispose();
  });
});

describe('gruSequence backward', () => {
  test('CPU gradients match central finite differences of the float64 reference', async () => {
    const p = makeParams(2, 4, 3, 3, 7);
    const w = randArray(rng(9), p.R * p.T * p.H);
    const { grads } = await runGru(E.cpu, p, w);
    KEYS.forEach((k, idx) => {
      const f = (x: Float64Array) => {
        const h = refForward({ ...p, [k]: x });
        let s = 0;
        for (let i = 0; i < h.length; i++) s += w[i] * h[i];
        return s;
      };
      expectClose(grads[idx], finiteDiff(f, p[k]), TOL.finiteDiff, k);
    });
  });

  const cases: [number, number, number, number][] = [
    [1, 5, 3, 4],
    [3, 6, 5, 2],
    [2, 4, 3, 67],
    [2, 5, 6, 68], // vec4 BPTT
  ];
  test.each(cases)('R %i T %i I %i H %i: device gradients match the CPU', async (R, T, I, H) => {
    const p = makeParams(R, T, I, H, 3);
    const w = randArray(rng(4), R * T * H);
    const c = await runGru(E.cpu, p, w);
    const d = await runGru(E.dev, p, w);
    expectClose(d.h, c.h, fwdTol, 'h');
    KEYS.forEach((k, idx) => expectClose(d.grads[idx], c.grads[idx], gradTol(p), k));
  });

  test('backward is one BPTT dispatch plus matmuls and sums', () => {
    const e = E.dev;
    const p = makeParams(3, 8, 4, 6);
    const ts = KEYS.map((k) => e.tensor(p[k], SHAPES(p)[k]).requireGrad());
    const n = gradScope(e, () => {
      const h = gruSequence(ts[0], ts[1], ts[2], ts[3], ts[4], ts[5]);
      const loss = ops.sum(h);
      e.flush();
      const before = e.stats().dispatches;
      backward(loss);
      e.flush();
      return e.stats().dispatches - before;
    });
    // sum's backward (1) + BPTT (1) + 3 matmuls (du, dW_ih, dW_hh) + 3 sums (b_ih, b_hh, h0) = 8
    // at this size, independent of T and R (no per-step dispatches).
    expect(n).toBeLessThanOrEqual(8);
  });
});

// Each limit on its own with the other sizes small (keeps SwiftShader fast): forward against the
// float64 reference, gradients against the CPU.
describe('gruSequence limits', () => {
  const cases: [string, number, number, number, number][] = [
    ['H 320', 1, 3, 4, 320],
    ['I 512', 2, 4, 512, 8],
    ['R 1024', 1024, 2, 2, 4],
    ['T 260', 2, 260, 3, 8],
    // llvmpipe stops a shader's loops after 65,535 iterations in all: long T at the model's H
    // must still be right (this failed on gl before the recurrence was split over dispatches).
    ['T 120, H 280', 2, 120, 3, 280],
    ['T 150, H 67 (scalar kernels)', 2, 150, 3, 67],
  ];
  test.each(cases)('%s (R %i T %i I %i H %i)', async (_name, R, T, I, H) => {
    const p = makeParams(R, T, I, H, 11);
    const w = randArray(rng(12), R * T * H);
    const d = await runGru(E.dev, p, w);
    expectClose(d.h, refForward(p), fwdTol, 'h');
    const c = await runGru(E.cpu, p, w);
    KEYS.forEach((k, idx) => expectClose(d.grads[idx], c.grads[idx], gradTol(p), k));
  });
});

test('regions are processed in chunks when buffers would exceed the binding-size limit', async () => {
  const p = makeParams(5, 3, 4, 6, 21);
  const w = randArray(rng(22), p.R * p.T * p.H);
  for (const e of [E.cpu, E.dev]) {
    const dispatches = () => (e.flush(), e.stats().dispatches);
    let before = dispatches();
    const whole = await runGru(e, p, w);
    const wholeCount = dispatches() - before;
    // Shrink the limit so that the saved [rc,T,4H] tensor holds two regions: chunks 2 + 2 + 1.
    const limits = e.backend.limits as { maxStorageBufferBindingSize: number };
    const saved = limits.maxStorageBufferBindingSize;
    limits.maxStorageBufferBindingSize = 2 * p.T * 4 * p.H * 4;
    try {
      before = dispatches();
      const chunked = await runGru(e, p, w);
      expect(dispatches() - before).toBeGreaterThan(wholeCount); // really took the chunked path
      expectClose(chunked.h, whole.h, { atol: 0, rtol: 0 }, 'h');
      KEYS.forEach((k, i) => expectClose(chunked.grads[i], whole.grads[i], gradTol(p), k));
    } finally {
      limits.maxStorageBufferBindingSize = saved;
    }
  }
});

/** `opts` with RB pinned to `rb` (null: the rule). */
function withRegions(rb: number | null, opts: GruOptions = {}): GruOptions {
  return rb === null ? opts : { ...opts, regionsPerWorkgroup: rb };
}

// Several regions per workgroup (RB): W_hh loaded once per step serves RB regions; the last
// workgroup of a launch may hold fewer real regions than RB.
describe('gruSequence regions per workgroup', () => {
  /** [forward, backward] RB for R regions at H, at most `pinned` (null or omitted: the rule) */
  const rb = (R: number, H: number, pinned: number | null = null) => {
    const most = withRegions(pinned).regionsPerWorkgroup;
    const { forward, backward } = gruRegionsPerWorkgroup(R, H, undefined, most);
    return [forward, backward];
  };

  test('RB is the largest of 8, 4, 2, 1 (vec4) that fits workgroup memory and keeps 4 workgroups', () => {
    expect(rb(190, 280)).toEqual([8, 8]); // the paper's size: 24 workgroups
    expect(rb(25, 280)).toEqual([8, 8]); // ⌈25/8⌉ = 4 workgroups
    expect(rb(24, 280)).toEqual([4, 4]); // ⌈24/8⌉ = 3
    expect(rb(13, 280)).toEqual([4, 4]); // ⌈13/4⌉ = 4
    expect(rb(12, 280)).toEqual([2, 2]); // ⌈12/4⌉ = 3
    expect(rb(10, 280)).toEqual([2, 2]); // the small panel: 5 workgroups
    expect(rb(7, 280)).toEqual([2, 2]); // ⌈7/2⌉ = 4
    expect(rb(6, 280)).toEqual([1, 1]);
    expect(rb(1, 4)).toEqual([1, 1]);
    // vec4: forward holds 2·RB·H floats of 8192, backward 3·RB·H.
    expect(rb(190, 512)).toEqual([8, 4]);
    expect(rb(190, 340)).toEqual([8, 8]);
    expect(rb(190, 344)).toEqual([8, 4]);
    // scalar kernels (H % 4 ≠ 0): RB ≤ 4 and 4096 floats.
    expect(rb(190, 281)).toEqual([4, 4]);
    expect(rb(190, 343)).toEqual([4, 2]);
    expect(rb(190, 511)).toEqual([4, 2]);
  });

  test('a pinned RB is still bounded by workgroup memory; null restores the rule', async () => {
    expect(rb(3, 280, 8)).toEqual([8, 8]);
    expect(rb(3, 512, 8)).toEqual([8, 4]);
    expect(rb(3, 511, 8)).toEqual([4, 2]);
    expect(rb(3, 280, 4)).toEqual([4, 4]);
    expect(rb(190, 280, 2)).toEqual([2, 2]);
    expect(rb(190, 280, 1)).toEqual([1, 1]);
    expect(rb(3, 280)).toEqual([1, 1]);
    expect(rb(190, 280)).toEqual([8, 8]);
  });

  // [name, R, T, I, H, pinned RB or null (the rule), expected forward and backward RB]
  const cases: [string, number, number, number, number, number | null, number, number][] = [
    ['rule RB 4, scalar, 3 regions in the last', 15, 3, 3, 5, null, 4, 4],
    ['rule RB 4, vec4, 1 region in the last', 13, 3, 2, 8, null, 4, 4],
    ['rule RB 2, scalar, 1 region in the last', 9, 3, 2, 6, null, 2, 2],
    ['RB 8 at H 512: memory leaves the backward RB 4', 9, 2, 2, 512, 8, 8, 4],
    ['RB 4 at H 510 (scalar): memory leaves the backward RB 2', 5, 2, 2, 510, 4, 4, 2],
    ['RB 4, H 67 > 64 units, one workgroup of 3', 3, 4, 3, 67, 4, 4, 4],
    ['RB 2, vec4, H 68, 1 region in the last', 5, 4, 3, 68, 2, 2, 2],
    ['RB 4, H 280, 2 regions in the last', 6, 3, 3, 280, 4, 4, 4],
    ['rule RB 8, vec4, 1 region in the last', 25, 3, 2, 8, null, 8, 8],
    ['RB 8, vec4, H 68 (odd H/4), 5 regions in the last', 13, 4, 3, 68, 8, 8, 8],
    ['RB 8, H 280, 3 regions in the last', 11, 3, 3, 280, 8, 8, 8],
    ['RB 8 at H 344: memory leaves the backward RB 4', 9, 2, 2, 344, 8, 8, 4],
    ['RB 1, vec4, H 260: 65 unit blocks > 64 invocations', 2, 3, 3, 260, 1, 1, 1],
  ];
  test.each(cases)('%s (R %i T %i I %i H %i)', async (_n, R, T, I, H, pin, fRb, bRb) => {
    const p = makeParams(R, T, I, H, 31);
    const w = randArray(rng(32), R * T * H);
    expect(rb(R, H, pin)).toEqual([fRb, bRb]);
    const d = await runGru(E.dev, p, w, withRegions(pin));
    expectClose(d.h, refForward(p), fwdTol, 'h');
    const c = await runGru(E.cpu, p, w);
    KEYS.forEach((k, idx) => expectClose(d.grads[idx], c.grads[idx], gradTol(p), k));
  });

  // Each region's sums run in the same order whatever RB and its slot in the workgroup, so
  // regions swapped between workgroups and slots give the same values.
  test.each([
    [4, 67],
    [4, 68],
    [8, 68],
    [2, 280],
    [8, 280],
  ])('RB %i equals RB 1 region by region (H %i)', async (n, H) => {
    const p = makeParams(11, 3, 4, H, 41);
    const w = randArray(rng(42), p.R * p.T * H);
    const one = await runGru(E.dev, p, w, withRegions(1));
    const many = await runGru(E.dev, p, w, withRegions(n));
    expectClose(many.h, one.h, { atol: 0, rtol: 0 }, 'h');
    KEYS.forEach((k, idx) => expectClose(many.grads[idx], one.grads[idx], gradTol(p), k));
  });

  test('RB 4 keeps one recurrence dispatch forward and one BPTT dispatch', async () => {
    const e = E.dev;
    const p = makeParams(6, 8, 4, 6);
    const ts = KEYS.map((k) => e.tensor(p[k], SHAPES(p)[k]).requireGrad());
    gradScope(e, () => {
      e.flush();
      const before = e.stats().dispatches;
      const h = gruSequence(ts[0], ts[1], ts[2], ts[3], ts[4], ts[5], withRegions(4));
      e.flush();
      expect(e.stats().dispatches - before).toBe(2); // input matmul + recurrence
      const loss = ops.sum(h);
      e.flush();
      const mid = e.stats().dispatches;
      backward(loss);
      e.flush();
      expect(e.stats().dispatches - mid).toBeLessThanOrEqual(8); // as with RB 1 (above)
    });
  });
});

/** `opts` with the steps per recurrence dispatch pinned to `n`. */
function withSteps(n: number, opts: GruOptions = {}): GruOptions {
  return { ...opts, stepsPerDispatch: n };
}

// Long sequences run as several recurrence dispatches (llvmpipe's loop-iteration limit): the
// forward resumes from h, the backward from the carry it leaves in dh0.
describe('gruSequence over several dispatches in time', () => {
  test('steps per dispatch: all of T at the paper size, fewer for long steps, ≥ 1', () => {
    expect(gruStepsPerDispatch(280, 8, true, 'forward')).toBeGreaterThanOrEqual(120);
    expect(gruStepsPerDispatch(280, 8, true, 'backward')).toBeGreaterThanOrEqual(120);
    expect(gruStepsPerDispatch(280, 4, false, 'backward')).toBeLessThan(10);
    expect(gruStepsPerDispatch(511, 4, false, 'backward')).toBe(1);
  });

  // [H, R, T, steps, RB]: scalar and vec4 kernels, T a multiple of the steps or not
  test.each([
    [67, 5, 7, 3, 4],
    [68, 9, 7, 2, 8],
    [8, 3, 6, 3, 1],
    [12, 6, 5, 1, 2],
  ])('H %i R %i T %i, %i steps a dispatch, RB %i: equals one dispatch', async (H, R, T, n, rb) => {
    const p = makeParams(R, T, 3, H, 51);
    const w = randArray(rng(52), R * T * H);
    for (const e of [E.cpu, E.dev]) {
      const dispatches = () => (e.flush(), e.stats().dispatches);
      let before = dispatches();
      const whole = await runGru(e, p, w, withRegions(rb));
      const wholeCount = dispatches() - before;
      before = dispatches();
      const split = await runGru(e, p, w, withSteps(n, withRegions(rb)));
      // forward and backward each ⌈T/n⌉ recurrence dispatches instead of 1
      expect(dispatches() - before).toBe(wholeCount + 2 * (Math.ceil(T / n) - 1));
      expectClose(split.h, whole.h, { atol: 0, rtol: 0 }, 'h');
      KEYS.forEach((k, i) => expectClose(split.grads[i], whole.grads[i], gradTol(p), k));
    }
  });
});
