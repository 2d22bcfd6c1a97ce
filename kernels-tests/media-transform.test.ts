import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import type { Engine } from '../src/engine/engine.js';
import {
  mediaBackwardPlan,
  mediaForwardPlan,
  mediaTransform,
  type MediaTransformOptions,
} from '../src/ops/media-transform.js';
import { expectClose, finiteDiff, randArray, rng, useEngines } from './helpers.js';
import { TOL } from './tolerances.js';
import type { Tolerance } from './helpers.js';

const E = useEngines();

// ---- independent float64 reference, step by step from model-spec §4/§6 --------------------------

const sig = (z: number) => 1 / (1 + Math.exp(-z));
const softplus = (z: number) => Math.log1p(Math.exp(z));

interface Inputs {
  R: number;
  T: number;
  C: number;
  x: Float64Array;
  alphaRaw: Float64Array;
  slopeRaw: Float64Array;
  halfRaw: Float64Array;
  dag: Float64Array;
  mix: Float64Array;
}

function naive(inp: Inputs, o: MediaTransformOptions = {}): Float64Array {
  const { R, T, C } = inp;
  const tau = o.temperature ?? 0.5;
  const out = new Float64Array(R * T * C);
  for (let r = 0; r < R; r++) {
    const ad = new Float64Array(C);
    for (let t = 0; t < T; t++) {
      const h = new Float64Array(C);
      for (let c = 0; c < C; c++) {
        const x = inp.x[(r * T + t) * C + c];
        const alpha = Math.min(sig(inp.alphaRaw[c]), 0.8);
        ad[c] = t === 0 ? x : Math.min(Math.max(x + alpha * ad[c], 0), 10);
        const a = Math.min(Math.max(softplus(inp.slopeRaw[c]), o.slopeMin ?? 2), 5);
        const g = Math.min(Math.max(softplus(inp.halfRaw[c]), 0.01), 1);
        if (o.upstreamCompat) {
          const xx = Math.max(ad[c], 0) + 1e-8;
          h[c] = Math.min(Math.max(xx ** a / (xx ** a + g ** a + 1e-8), 0), 1);
        } else {
          const xx = Math.max(ad[c], 0);
          h[c] = xx > 0 ? sig(a * (Math.log(xx) - Math.log(g))) : 0;
        }
      }
      for (let j = 0; j < C; j++) {
        let p = 0;
        for (let i = 0; i < C; i++) {
          const edge = o.mask === 'notears' ? i !== j : i < j;
          if (edge) p += sig(inp.dag[i * C + j] / tau) * h[i];
        }
        const m = sig(inp.mix[j]);
        out[(r * T + t) * C + j] = (1 - m) * h[j] + m * p;
      }
    }
  }
  return out;
}

const f32 = (a: ArrayLike<number>) => Float64Array.from(a, Math.fround);

function randomInputs(seed: number, R: number, T: number, C: number): Inputs {
  const r = rng(seed);
  return {
    R,
    T,
    C,
    x: f32(randArray(r, R * T * C, 0, 2)),
    alphaRaw: f32(randArray(r, C, -2, 1)),
    slopeRaw: f32(randArray(r, C, 2.2, 4.8)),
    halfRaw: f32(randArray(r, C, -1, 0.4)),
    dag: f32(randArray(r, C * C, -1, 1)),
    mix: f32(randArray(r, C, -1, 1)),
  };
}

const KEYS = ['x', 'alphaRaw', 'slopeRaw', 'halfRaw', 'dag', 'mix'] as const;

function shapes(i: Inputs): number[][] {
  return [[i.R, i.T, i.C], [i.C], [i.C], [i.C], [i.C, i.C], [i.C]];
}

/** Forward and all six gradients for upstream gradient dy on engine e. */
async function run(e: Engine, inp: Inputs, dy: Float64Array, o: MediaTransformOptions = {}) {
  const sh = shapes(inp);
  const ts = KEYS.map((k, n) => e.tensor(inp[k], sh[n]).requireGrad());
  return gradScope(e, async () => {
    const y = mediaTransform(ts[0], ts[1], ts[2], ts[3], ts[4], ts[5], o);
    const yv = await y.toArray();
    backward(y, e.tensor(dy, sh[0]));
    const grads = await Promise.all(ts.map((t) => t.grad!.toArray()));
    return { y: Float64Array.from(yv), grads: grads.map((g) => Float64Array.from(g)) };
  });
}

/** Finite-difference gradients of Σ dy·naive(inp) w.r.t. every input. */
function fdGrads(inp: Inputs, dy: Float64Array, o: MediaTransformOptions = {}): Float64Array[] {
  return KEYS.map((k) =>
    finiteDiff((v) => {
      const y = naive({ ...inp, [k]: v }, o);
      let s = 0;
      for (let i = 0; i < y.length; i++) s += dy[i] * y[i];
      return s;
    }, inp[k]),
  );
}

// Device (f32) vs f64 kernel: the forward is sigmoid/log chains → TOL.transcendental. Gradients
// add C-term and T-step sums of O(1) terms (T ≤ 260 here): the loss budget (atol 1e-6, rtol 1e-5)
// holds on every adapter tried (gl, swiftshader).
const devTol: Tolerance = TOL.transcendental;
const devGradTol: Tolerance = TOL.loss;

async function checkCase(
  inp: Inputs,
  o: MediaTransformOptions,
  label: string,
  fd = true,
  paramTol: Tolerance = devGradTol,
) {
  const dy = f32(randArray(rng(99), inp.R * inp.T * inp.C, -1, 1));
  const want = naive(inp, o);
  const cpu = await run(E.cpu, inp, dy, o);
  expectClose(cpu.y, want, TOL.transcendental, `${label} cpu forward`);
  if (fd) {
    const g = fdGrads(inp, dy, o);
    KEYS.forEach((k, n) =>
      expectClose(cpu.grads[n], g[n], TOL.finiteDiff, `${label} cpu d${k} vs fd`),
    );
  }
  const dev = await run(E.dev, inp, dy, o);
  expectClose(dev.y, cpu.y, devTol, `${label} dev forward`);
  KEYS.forEach((k, n) =>
    expectClose(dev.grads[n], cpu.grads[n], n === 0 ? devGradTol : paramTol, `${label} dev d${k}`),
  );
}

describe('mediaTransform', () => {
  test('random inputs, triangular mask', async () => {
    await checkCase(randomInputs(1, 3, 12, 4), {}, 'tri');
  });
  test('notears mask, temperature 0.8', async () => {
    await checkCase(randomInputs(2, 2, 10, 5), { mask: 'notears', temperature: 0.8 }, 'notears');
  });
  test('upstreamCompat Hill', async () => {
    await checkCase(randomInputs(3, 2, 10, 4), { upstreamCompat: true }, 'compat');
  });
  test('slopeMin 0.5: concave curves (slopes 0.6–1.9) and a slope clamped at the floor', async () => {
    const inp = randomInputs(6, 2, 12, 5);
    // softplus⁻¹ of 0.6 … 1.9, and one below the floor (softplus(−1.5) ≈ 0.20 → clamped to 0.5)
    inp.slopeRaw = f32([-0.19, 0.4, 0.9, 1.73, -1.5]);
    await checkCase(inp, { slopeMin: 0.5 }, 'slopeMin');
  });
  test('slopeMin out of range is refused', () => {
    const inp = randomInputs(7, 1, 4, 2);
    const ts = KEYS.map((k, n) => E.cpu.tensor(inp[k], shapes(inp)[n]));
    expect(() => mediaTransform(ts[0], ts[1], ts[2], ts[3], ts[4], ts[5], { slopeMin: 0 })).toThrow(
      /slopeMin must be in \(0, 5\], got 0/,
    );
  });
  test('R = 1, C = 1', async () => {
    await checkCase(randomInputs(4, 1, 15, 1), {}, 'C1');
  });
  test('C = 13', async () => {
    await checkCase(randomInputs(5, 2, 6, 13), {}, 'C13');
  });
  test('zero media weeks, x near 0', async () => {
    const inp = randomInputs(6, 2, 12, 3);
    for (let i = 0; i < inp.x.length; i++) {
      if (i % 5 === 0) inp.x[i] = 0;
      else if (i % 7 === 0) inp.x[i] = Math.fround(1e-7);
    }
    inp.x.fill(0, 0, 3); // the first week is zero, so adstock stays exactly 0 for a while
    // fd cannot straddle the max(·, 0) kink at exact zeros; compare to the f64 kernel instead
    await checkCase(inp, {}, 'zeros', false);
  });
  test('α at the 0.8 cap, slopes at both clamps', async () => {
    const inp = randomInputs(7, 2, 10, 4);
    inp.alphaRaw.set([8, 8, -1, 0]);
    inp.slopeRaw.set([-10, 20, 3, 3]);
    await checkCase(inp, {}, 'clamps');
  });
  test('adstock clamps at 10 (heavy media) and at 0 (negative input)', async () => {
    const inp = randomInputs(11, 2, 10, 3);
    for (let i = 0; i < inp.x.length; i++) {
      // channel 0: weeks of 4–6 with α = 0.8 pass 10; channel 1: some weeks of −3 drop below 0
      if (i % 3 === 0) inp.x[i] = Math.fround(4 + (i % 5) * 0.5);
      else if (i % 3 === 1 && i % 2 === 0) inp.x[i] = -3;
    }
    inp.alphaRaw.set([8, 0, 0]);
    await checkCase(inp, {}, 'adclamp');
  });
  test('large T = 260', async () => {
    await checkCase(randomInputs(8, 2, 260, 3), {}, 'T260', false);
  });
  test('R = 70 spans two workgroups of 64 regions', async () => {
    await checkCase(randomInputs(10, 70, 8, 3), { mask: 'notears' }, 'R70', false);
  });
  // The parameter gradients here are serial f32 sums of R·T·C ≈ 6,000 terms of size up to ~10
  // (adstock × adjoint) that partly cancel: the budget for sums of n ≤ 10⁴ terms (TOL.sum), not the
  // loss budget the short cases hold. dx and the forward keep theirs. A split run is bitwise equal
  // to a one-dispatch run (test below), so this is f32 accumulation, not the split.
  const longSumTol: Tolerance = TOL.sum;
  // llvmpipe (gl) ends every loop of an invocation after 65,535 iterations in all: one dispatch
  // over these weeks returned wrong forward values (C 20) and wrong gradients (both) there.
  test('long sequences split over dispatches: C 13, T 160', async () => {
    await checkCase(randomInputs(12, 2, 160, 13), {}, 'T160C13', false, longSumTol);
  });
  test('long sequences split over dispatches: C 20, T 150', async () => {
    await checkCase(randomInputs(13, 2, 150, 20), {}, 'T150C20', false, longSumTol);
  });

  test('a split run equals the one-dispatch run, with its dispatch counts', async () => {
    const inp = randomInputs(14, 3, 30, 5);
    const dy = f32(randArray(rng(98), inp.R * inp.T * inp.C, -1, 1));
    for (const e of [E.cpu, E.dev]) {
      const whole = await run(e, inp, dy);
      e.flush();
      const d0 = e.stats().dispatches;
      const split = await run(e, inp, dy, { weeksPerDispatch: 7 });
      e.flush();
      // forward 5 (weeks 0–6, …, 28–29); backward: adstock 5 chunks, reverse 5, the last
      // adstock chunk merged with the first reverse one, and the reduce
      expect(e.stats().dispatches - d0).toBe(5 + 9 + 1);
      expect(split.y).toEqual(whole.y);
      split.grads.forEach((g, n) => expect(g).toEqual(whole.grads[n]));
    }
  });

  test('plans: every week once, in order, one dispatch each way at the paper size', () => {
    expect(mediaForwardPlan(102, 13)).toEqual([[0, 102]]);
    expect(mediaBackwardPlan(102, 13)).toEqual([[0, 102, 0, 102]]);
    for (const [T, C] of [
      [160, 13],
      [150, 20],
      [500, 64],
    ]) {
      // the forward fits one dispatch at C 13, T 160 (T·(C² + 3C + 3) ≈ 34,000 iterations)
      const fwd = mediaForwardPlan(T, C);
      expect(fwd.length).toBe(C === 13 ? 1 : Math.ceil(T / fwd[0][1]));
      expect(mediaBackwardPlan(T, C).length).toBeGreaterThan(1);
      fwd.forEach(([t0, t1], k) => {
        expect(t0).toBe(k === 0 ? 0 : fwd[k - 1][1]);
        expect(t1).toBeGreaterThan(t0);
      });
      expect(fwd[fwd.length - 1][1]).toBe(T);
      const bwd = mediaBackwardPlan(T, C);
      const ad = bwd.filter((q) => q[1] > q[0]);
      const rev = bwd.filter((q) => q[3] > q[2]);
      // the adstock runs forward over all weeks before any reverse week, which runs backward
      expect(bwd.indexOf(ad[ad.length - 1])).toBeLessThanOrEqual(bwd.indexOf(rev[0]));
      ad.forEach(([a0], k) => expect(a0).toBe(k === 0 ? 0 : ad[k - 1][1]));
      expect(ad[ad.length - 1][1]).toBe(T);
      rev.forEach((q, k) => expect(q[3]).toBe(k === 0 ? T : rev[k - 1][2]));
      expect(rev[rev.length - 1][2]).toBe(0);
    }
  });

  /** Dispatches of the op's forward and of its backward pass on random inputs of R × T × C. */
  async function dispatchCounts(seed: number, R: number, T: number, C: number) {
    const e = E.dev;
    const inp = randomInputs(seed, R, T, C);
    const sh = shapes(inp);
    const ts = KEYS.map((k, n) => e.tensor(inp[k], sh[n]).requireGrad());
    const { forward, back } = gradScope(e, () => {
      e.flush();
      let d0 = e.stats().dispatches;
      const y = mediaTransform(ts[0], ts[1], ts[2], ts[3], ts[4], ts[5]);
      e.flush();
      const forward = e.stats().dispatches - d0;
      const ones = e.tensor(new Float64Array(y.size).fill(1), y.shape);
      e.flush();
      d0 = e.stats().dispatches;
      backward(y, ones);
      e.flush();
      return { forward, back: e.stats().dispatches - d0 };
    });
    await ts[1].grad!.toArray();
    return { forward, backward: back };
  }

  test('paper size R 190 × T 102 × C 13: forward 1 dispatch, backward 2', async () => {
    expect(await dispatchCounts(15, 190, 102, 13)).toEqual({ forward: 1, backward: 2 });
  });

  test('dispatch counts: forward 1, backward ≤ 3', async () => {
    const n = await dispatchCounts(9, 2, 5, 3);
    expect(n.forward).toBe(1);
    expect(n.backward).toBeLessThanOrEqual(3);
  });
});
