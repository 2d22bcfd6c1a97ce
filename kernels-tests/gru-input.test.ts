import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import type { Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import { dropout, dropoutKeep } from '../src/ops/dropout.js';
import { gruInput } from '../src/ops/gru-input.js';
import { concat, mul, sum } from '../src/ops/index.js';
import { cpuValues, expectClose, finiteDiff, randArray, rng, useEngines } from './helpers.js';
import { TOL } from './tolerances.js';

const E = useEngines();

interface Case {
  R: number;
  T: number;
  C: number;
  F: number;
  p: number;
  seed: number;
}

interface Inputs {
  xt: Float64Array;
  feat: Float64Array;
}

function inputs(c: Case, s: number): Inputs {
  const r = rng(s);
  return {
    xt: randArray(r, c.R * c.T * c.C, -2, 2),
    feat: randArray(r, c.R * c.T * c.F, 0.5, 1.5),
  };
}

/** Scale of features element i: 1/(1 − p) kept, 0 dropped (dropout's documented rule). */
const maskScale = (c: Case, i: number) => (dropoutKeep(c.seed, i, c.p) ? 1 / (1 - c.p) : 0);

/** float64 reference, written from the definition: u[row] = [xt[row], features[row] · mask]. */
function reference(c: Case, { xt, feat }: Inputs): Float64Array {
  const u = new Float64Array(c.R * c.T * (c.C + c.F));
  for (let r = 0; r < c.R; r++)
    for (let t = 0; t < c.T; t++) {
      const row = r * c.T + t;
      for (let j = 0; j < c.C; j++) u[row * (c.C + c.F) + j] = xt[row * c.C + j];
      for (let f = 0; f < c.F; f++) {
        const i = row * c.F + f;
        u[row * (c.C + c.F) + c.C + f] = feat[i] * maskScale(c, i);
      }
    }
  return u;
}

/** Device tensors for a case (xt, features, seed). */
function tensors(e: Engine, c: Case, inp: Inputs): [Tensor, Tensor, Tensor] {
  return [
    e.tensor(inp.xt, [c.R, c.T, c.C]),
    e.tensor(inp.feat, [c.R, c.T, c.F]),
    e.tensor([c.seed], [1], 'int32'),
  ];
}

/** Fails at the first element whose bits differ (Object.is tells +0 from −0). */
function expectIdentical(a: Float64Array, b: Float64Array, label: string): void {
  expect(a.length).toBe(b.length);
  const k = a.findIndex((v, i) => !Object.is(v, b[i]));
  if (k >= 0) throw new Error(`${label}: element ${k} is ${a[k]}, expected exactly ${b[k]}`);
}

/** The unfused path the op replaces (dropout skipped at p = 0, as the model does). */
function unfused(xt: Tensor, feat: Tensor, seed: Tensor, p: number): Tensor {
  return concat([xt, p > 0 ? dropout(feat, seed, p) : feat], 2);
}

const CASES: Case[] = [
  { R: 2, T: 5, C: 3, F: 4, p: 0.3, seed: 11 },
  { R: 3, T: 7, C: 1, F: 1, p: 0.5, seed: 12 },
  { R: 1, T: 9, C: 1, F: 6, p: 0.1, seed: -5 },
  { R: 4, T: 3, C: 5, F: 1, p: 0.25, seed: 0 },
  { R: 3, T: 37, C: 11, F: 17, p: 0.2, seed: 99 },
  // 7·150·313 = 328,650 elements: far from a multiple of 256, 1,284 workgroups
  { R: 7, T: 150, C: 13, F: 300, p: 0.15, seed: 2024 },
  { R: 2, T: 6, C: 4, F: 5, p: 0, seed: 3 },
];
const label = (c: Case) => `R${c.R} T${c.T} C${c.C} F${c.F} p${c.p}`;

describe('gruInput forward', () => {
  test.each(CASES.map((c) => [label(c), c] as const))(
    '%s: matches the float64 reference',
    async (_, c) => {
      const inp = inputs(c, c.R * 31 + c.F);
      const u = gruInput(...tensors(E.dev, c, inp), c.p);
      expect(u.shape).toEqual([c.R, c.T, c.C + c.F]);
      expectClose(await u.toArray(), reference(c, inp), TOL.exact, label(c));
    },
  );

  test.each(CASES.map((c) => [label(c), c] as const))(
    '%s: bit-identical to concat([xt, dropout(features)], 2)',
    async (_, c) => {
      const inp = inputs(c, c.T * 17 + c.C);
      const [xt, feat, seed] = tensors(E.dev, c, inp);
      const [fused, ref] = await Promise.all(
        [gruInput(xt, feat, seed, c.p), unfused(xt, feat, seed, c.p)].map((t) => t.toArray()),
      );
      expectIdentical(fused, ref, label(c));
    },
  );

  test('the device mask is the CPU mask; about a fraction p is dropped', async () => {
    const c: Case = { R: 4, T: 50, C: 2, F: 100, p: 0.12, seed: 777 };
    const inp = inputs(c, 8);
    const [dev, cpu] = await Promise.all(
      [E.dev, E.cpu].map((e) => gruInput(...tensors(e, c, inp), c.p).toArray()),
    );
    const n = c.R * c.T * c.F;
    const dropped = dev.filter((v) => v === 0).length; // features are ≥ 0.5, xt never exactly 0
    // each element dropped with probability 0.12: 3 standard deviations ≈ 0.7 %
    expect(Math.abs(dropped / n - c.p)).toBeLessThan(0.007);
    for (let i = 0; i < dev.length; i++) expect(dev[i] === 0).toBe(cpu[i] === 0);
  });

  test('p = 0 is a plain concat; a new seed draws a new mask, the same seed the same one', async () => {
    const c: Case = { R: 3, T: 20, C: 2, F: 30, p: 0.4, seed: 42 };
    const inp = inputs(c, 9);
    const e = E.dev;
    const [xt, feat, seed] = tensors(e, c, inp);
    const plain = await gruInput(xt, feat, seed, 0).toArray();
    expectIdentical(plain, await concat([xt, feat], 2).toArray(), 'p = 0 vs concat');
    expectClose(plain, reference({ ...c, p: 0 }, inp), TOL.exact, 'p = 0');
    const a = await gruInput(xt, feat, seed, c.p).toArray();
    const again = await gruInput(xt, feat, e.tensor([42], [1], 'int32'), c.p).toArray();
    const b = await gruInput(xt, feat, e.tensor([43], [1], 'int32'), c.p).toArray();
    expectIdentical(again, a, 'same seed');
    expect(b.some((v, i) => (v === 0) !== (a[i] === 0))).toBe(true);
    expectClose(b, reference({ ...c, seed: 43 }, inp), TOL.exact, 'seed 43');
  });
});

describe('gruInput backward', () => {
  test.each(CASES.map((c) => [label(c), c] as const))(
    '%s: dy → dxt = dy[..., :C], dfeatures = dy[..., C:] · mask, as the unfused path',
    async (_, c) => {
      const e = E.dev;
      const inp = inputs(c, c.R + c.T);
      const dyv = randArray(rng(c.F + 1), c.R * c.T * (c.C + c.F));
      const [xt, feat, seed] = tensors(e, c, inp);
      xt.requireGrad();
      feat.requireGrad();
      const dy = e.tensor(dyv, [c.R, c.T, c.C + c.F]);
      const g = gradScope(e, () => backward(gruInput(xt, feat, seed, c.p), dy));
      const [gx, gf] = await Promise.all([g.get(xt)!.toArray(), g.get(feat)!.toArray()]);
      const wantX = new Float64Array(xt.size);
      const wantF = new Float64Array(feat.size);
      for (let row = 0; row < c.R * c.T; row++) {
        for (let j = 0; j < c.C; j++) wantX[row * c.C + j] = dyv[row * (c.C + c.F) + j];
        for (let f = 0; f < c.F; f++) {
          const i = row * c.F + f;
          wantF[i] = dyv[row * (c.C + c.F) + c.C + f] * maskScale(c, i);
        }
      }
      expectClose(gx, wantX, TOL.exact, 'dxt');
      expectClose(gf, wantF, TOL.exact, 'dfeatures');
      // the same gradients, bit for bit, through dropout + concat
      const g2 = gradScope(e, () => backward(unfused(xt, feat, seed, c.p), dy));
      const [ux, uf] = await Promise.all([g2.get(xt)!.toArray(), g2.get(feat)!.toArray()]);
      expectIdentical(gx, ux, 'dxt vs unfused');
      expectIdentical(gf, uf, 'dfeatures vs unfused');
    },
  );

  test('an input that needs no gradient gets none; the seed never does', async () => {
    const c: Case = { R: 2, T: 4, C: 3, F: 5, p: 0.3, seed: 5 };
    const inp = inputs(c, 10);
    for (const which of ['xt', 'features'] as const) {
      const e = E.dev;
      const [xt, feat, seed] = tensors(e, c, inp);
      (which === 'xt' ? xt : feat).requireGrad();
      const dyv = randArray(rng(11), c.R * c.T * (c.C + c.F));
      const g = gradScope(e, () =>
        backward(gruInput(xt, feat, seed, c.p), e.tensor(dyv, [c.R, c.T, c.C + c.F])),
      );
      expect(g.size).toBe(1);
      expect(g.has(seed)).toBe(false);
      const got = await g.get(which === 'xt' ? xt : feat)!.toArray();
      const want =
        which === 'xt'
          ? Array.from(inp.xt, (_, k) => dyv[Math.floor(k / c.C) * (c.C + c.F) + (k % c.C)])
          : Array.from(inp.feat, (_, i) => {
              const col = Math.floor(i / c.F) * (c.C + c.F) + c.C + (i % c.F);
              return dyv[col] * maskScale(c, i);
            });
      expectClose(got, want, TOL.exact, `${which} alone`);
    }
  });

  test('matches finite differences on the CPU backend', () => {
    const e = E.cpu;
    const c: Case = { R: 2, T: 3, C: 2, F: 3, p: 0.35, seed: 17 };
    const inp = inputs(c, 12);
    const w = randArray(rng(13), c.R * c.T * (c.C + c.F));
    const uShape = [c.R, c.T, c.C + c.F];
    const loss = (x: Float64Array, f: Float64Array) =>
      e.tidy(() => {
        const [xt, feat, seed] = tensors(e, c, { xt: x, feat: f });
        return cpuValues(sum(mul(gruInput(xt, feat, seed, c.p), e.tensor(w, uShape))))[0];
      });
    const [xt, feat, seed] = tensors(e, c, inp);
    xt.requireGrad();
    feat.requireGrad();
    gradScope(e, () => backward(sum(mul(gruInput(xt, feat, seed, c.p), e.tensor(w, uShape)))));
    const fdX = finiteDiff((v) => loss(v, inp.feat), inp.xt);
    const fdF = finiteDiff((v) => loss(inp.xt, v), inp.feat);
    expectClose(cpuValues(xt.grad!), fdX, TOL.finiteDiff, 'fd xt');
    expectClose(cpuValues(feat.grad!), fdF, TOL.finiteDiff, 'fd features');
    // some features were dropped, so their finite-difference gradient is 0
    expect(fdF.some((v) => v === 0)).toBe(true);
  });
});

describe('gruInput dispatches', () => {
  test.each([0, 0.3])('p = %s: forward 1 dispatch, backward 1 dispatch', (p) => {
    const e = E.dev;
    const c: Case = { R: 3, T: 40, C: 4, F: 9, p, seed: 1 };
    for (const grads of [
      [true, true],
      [true, false],
      [false, true],
    ]) {
      const [xt, feat, seed] = tensors(e, c, inputs(c, 14));
      xt.requireGrad(grads[0]);
      feat.requireGrad(grads[1]);
      const dy = e.rand([c.R, c.T, c.C + c.F]);
      e.flush();
      gradScope(e, () => {
        let d0 = e.stats().dispatches;
        const u = gruInput(xt, feat, seed, p);
        e.flush();
        expect(e.stats().dispatches - d0).toBe(1);
        d0 = e.stats().dispatches;
        backward(u, dy);
        e.flush();
        expect(e.stats().dispatches - d0).toBe(1);
      });
    }
  });

  test('a recorded step replays one forward and one backward dispatch with a rewritten seed', async () => {
    const e = E.dev;
    const c: Case = { R: 2, T: 30, C: 3, F: 8, p: 0.5, seed: 7 };
    const inp = inputs(c, 15);
    const [xt, feat, seed] = tensors(e, c, inp);
    feat.requireGrad();
    const ones = new Float64Array(c.R * c.T * (c.C + c.F)).fill(1);
    const dy = e.tensor(ones, [c.R, c.T, c.C + c.F]);
    const program = e.record(() =>
      gradScope(e, () => {
        const u = gruInput(xt, feat, seed, c.p);
        return { u, g: backward(u, dy).get(feat)! };
      }),
    );
    expect(program.kernelCounts()).toEqual({ gru_input: 1, gru_input_grad: 1 });
    for (const s of [7, 8]) {
      e.write(seed, [s]);
      program.run();
      const cs = { ...c, seed: s };
      expectClose(await program.outputs.u.toArray(), reference(cs, inp), TOL.exact, `u ${s}`);
      const wantG = Array.from(inp.feat, (_, i) => maskScale(cs, i));
      expectClose(await program.outputs.g.toArray(), wantG, TOL.exact, `dfeatures ${s}`);
    }
    program.dispose();
  });
});

describe('gruInput validation', () => {
  test('rejects bad shapes, dtypes, seeds and rates, naming them', () => {
    const e = E.cpu;
    const xt = e.zeros([2, 3, 4]);
    const feat = e.zeros([2, 3, 5]);
    const seed = e.tensor([1], [1], 'int32');
    expect(() => gruInput(e.zeros([2, 3]), feat, seed, 0.1)).toThrow(
      'causalmix: gruInput: xt [2, 3] and features [2, 3, 5] must both have rank 3 ([R, T, ·])',
    );
    expect(() => gruInput(xt, e.zeros([6, 5]), seed, 0.1)).toThrow(/features \[6, 5\] must both/);
    expect(() => gruInput(xt, e.zeros([2, 4, 5]), seed, 0.1)).toThrow(
      'causalmix: gruInput: xt [2, 3, 4] and features [2, 4, 5] disagree on [R, T]',
    );
    expect(() => gruInput(xt, e.zeros([3, 3, 5]), seed, 0.1)).toThrow(/disagree on \[R, T\]/);
    expect(() =>
      gruInput(xt, e.tensor(new Float64Array(30), [2, 3, 5], 'int32'), seed, 0.1),
    ).toThrow('causalmix: gruInput: xt and features must be float32 (got float32 and int32)');
    expect(() => gruInput(xt, feat, e.tensor([1]), 0.1)).toThrow(
      'causalmix: gruInput: seed must be an int32 tensor of one element (got float32 [1])',
    );
    expect(() => gruInput(xt, feat, e.tensor([1, 2], [2], 'int32'), 0.1)).toThrow(
      /seed must be an int32 tensor of one element \(got int32 \[2\]\)/,
    );
    for (const p of [1, -0.1, NaN])
      expect(() => gruInput(xt, feat, seed, p)).toThrow(
        `causalmix: gruInput: dropout rate must be in [0, 1), got ${p}`,
      );
    expect(() => gruInput(xt, E.dev.zeros([2, 3, 5]), seed, 0.1)).toThrow(
      'causalmix: gruInput: xt, features and seed live on different engines',
    );
  });
});
