import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import type { Engine } from '../src/engine/engine.js';
import { numel } from '../src/engine/shape.js';
import type { Tensor } from '../src/engine/tensor.js';
import { huberLoss, mseLoss } from '../src/ops/loss.js';
import { cpuValues, expectClose, finiteDiff, randArray, rng, useEngines } from './helpers.js';
import { TOL } from './tolerances.js';
import type { Rng } from '../src/engine/random.js';

const E = useEngines();

// ---- float64 reference (written independently of src/ops/loss.ts) --------------------------------

type Kind = 'mse' | 'huber';

function ell(kind: Kind, d: number, delta: number): number {
  if (kind === 'mse') return d * d;
  return Math.abs(d) <= delta ? 0.5 * d * d : delta * (Math.abs(d) - 0.5 * delta);
}

function dEll(kind: Kind, d: number, delta: number): number {
  if (kind === 'mse') return 2 * d;
  return Math.abs(d) <= delta ? d : delta * Math.sign(d);
}

/** The loss Σ w·ℓ(p − t) / max(Σ w, 1) and its analytic gradients for upstream gradient dy. */
function reference(
  kind: Kind,
  delta: number,
  p: Float64Array,
  t: Float64Array,
  m: Float64Array | undefined,
  dy = 1,
) {
  let total = 0;
  let count = 0;
  for (let i = 0; i < p.length; i++) {
    const w = m ? m[i] : 1;
    count += w;
    if (w !== 0) total += w * ell(kind, p[i] - t[i], delta);
  }
  const denom = Math.max(count, 1);
  const gp = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const w = m ? m[i] : 1;
    gp[i] = w === 0 ? 0 : (dy * w * dEll(kind, p[i] - t[i], delta)) / denom;
  }
  return { loss: total / denom, gp, gt: gp.map((g) => -g) };
}

// ---- cases --------------------------------------------------------------------------------------

interface LossCase {
  name: string;
  kind: Kind;
  delta: number;
  op: (p: Tensor, t: Tensor, m?: Tensor) => Tensor;
}

const cases: LossCase[] = [
  { name: 'mse', kind: 'mse', delta: 0, op: (p, t, m) => mseLoss(p, t, m) },
  { name: 'huber δ=1', kind: 'huber', delta: 1, op: (p, t, m) => huberLoss(p, t, 1, m) },
  { name: 'huber δ=0.25', kind: 'huber', delta: 0.25, op: (p, t, m) => huberLoss(p, t, 0.25, m) },
];

/** Values as the device stores them (f32), so the reference sees exactly the device's inputs. */
const f32 = (a: ArrayLike<number>) => Float64Array.from(a, Math.fround);

/** 0/1 mask with about 30% zeros (and at least one 1 when n > 0). */
function binaryMask(r: Rng, n: number): Float64Array {
  const m = Float64Array.from({ length: n }, () => (r.uniform() < 0.3 ? 0 : 1));
  if (n > 0) m[n - 1] = 1;
  return m;
}

/** Forward + backward on `e`, with pred and target requiring gradients. */
function lossAndGrads(
  e: Engine,
  c: LossCase,
  shape: number[],
  p: Float64Array,
  t: Float64Array,
  m?: Float64Array,
  dy?: number,
) {
  return gradScope(e, () => {
    const pt = e.tensor(p, shape).requireGrad();
    const tt = e.tensor(t, shape).requireGrad();
    const loss = c.op(pt, tt, m ? e.tensor(m, shape) : undefined);
    backward(loss, dy === undefined ? undefined : e.scalar(dy));
    return { loss, gp: pt.grad!, gt: tt.grad! };
  });
}

async function expectMatchesReference(
  e: Engine,
  c: LossCase,
  shape: number[],
  p: Float64Array,
  t: Float64Array,
  m: Float64Array | undefined,
  dy: number,
  label: string,
) {
  const ref = reference(c.kind, c.delta, p, t, m, dy);
  const got = lossAndGrads(e, c, shape, p, t, m, dy);
  expect(got.loss.shape).toEqual([]);
  expect(got.gp.shape).toEqual(shape);
  expect(got.gt.shape).toEqual(shape);
  expectClose(await got.loss.toArray(), [ref.loss], TOL.loss, `${label} loss`);
  expectClose(await got.gp.toArray(), ref.gp, TOL.loss, `${label} dpred`);
  expectClose(await got.gt.toArray(), ref.gt, TOL.loss, `${label} dtarget`);
}

// 1, 255, 256, 257 straddle the workgroup size; 190×102 = 19,380 is a realistic panel.
const shapes: number[][] = [[1], [255], [256], [257], [3, 5, 17], [190, 102]];

describe.each(cases)('$name', (c) => {
  test.each(shapes.map((s) => [s]))(
    'shape %j: loss and both gradients match the reference',
    async (shape) => {
      const r = rng(7 + numel(shape));
      const n = numel(shape);
      // |d| up to 6 puts Huber terms on both sides of δ
      const p = f32(randArray(r, n, -3, 3));
      const t = f32(randArray(r, n, -3, 3));
      const m = binaryMask(r, n);
      await expectMatchesReference(E.dev, c, shape, p, t, undefined, 1, `${c.name} no mask`);
      await expectMatchesReference(E.dev, c, shape, p, t, m, 1.75, `${c.name} mask, dy=1.75`);
    },
  );

  test('non-binary mask weights scale the terms and the count', async () => {
    const r = rng(4);
    const n = 300;
    const p = f32(randArray(r, n, -2, 2));
    const t = f32(randArray(r, n, -2, 2));
    const m = Float64Array.from({ length: n }, (_, i) => [0, 0.5, 1, 2][i % 4]);
    await expectMatchesReference(E.dev, c, [n], p, t, m, -0.5, `${c.name} weights`);
  });

  test('a total weight below 1 divides by 1 (max(Σ mask, 1))', async () => {
    const p = f32([0.3, -0.7, 2]);
    const t = f32([0.1, 0.4, -1]);
    const m = f32([0, 0.5, 0]);
    await expectMatchesReference(E.dev, c, [3], p, t, m, 1, `${c.name} light mask`);
  });

  test('masked-out elements are ignored, even where ℓ overflows f32', async () => {
    const r = rng(12);
    const n = 257;
    const p = f32(randArray(r, n, -2, 2));
    const t = f32(randArray(r, n, -2, 2));
    const m = binaryMask(r, n);
    // (1e30 − (−1e30))² is inf in f32; 0·inf would make the loss NaN
    m.forEach((w, i) => {
      if (w === 0) {
        p[i] = Math.fround(1e30);
        t[i] = Math.fround(-1e30);
      }
    });
    const ref = reference(c.kind, c.delta, p, t, m);
    const got = lossAndGrads(E.dev, c, [n], p, t, m);
    const loss = await got.loss.toArray();
    const gp = await got.gp.toArray();
    expect(Number.isFinite(loss[0])).toBe(true);
    expectClose(loss, [ref.loss], TOL.loss, `${c.name} loss`);
    expectClose(gp, ref.gp, TOL.loss, `${c.name} dpred`);
    m.forEach((w, i) => w === 0 && expect(gp[i]).toBe(0));
  });

  test('extreme values (0, ±100, tiny) stay finite and agree with the reference', async () => {
    const p = f32([0, 100, -100, 1e-30, -1e-30, 1e-7, 100, -100, 0, 3e-38, 1e-7]);
    const t = f32([0, -100, 100, 0, 1e-30, -1e-7, 100, 0, -100, -3e-38, 1e-7]);
    const m = f32([1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1]);
    for (const mask of [undefined, m]) {
      const got = lossAndGrads(E.dev, c, [p.length], p, t, mask, 1);
      const ref = reference(c.kind, c.delta, p, t, mask);
      const values = [...(await got.loss.toArray()), ...(await got.gp.toArray())];
      values.forEach((v) => expect(Number.isFinite(v)).toBe(true));
      expectClose(values.slice(0, 1), [ref.loss], TOL.loss, `${c.name} extreme loss`);
      expectClose(await got.gp.toArray(), ref.gp, TOL.loss, `${c.name} extreme dpred`);
      expectClose(await got.gt.toArray(), ref.gt, TOL.loss, `${c.name} extreme dtarget`);
    }
  });

  test('an all-zero mask gives loss 0 and zero gradients', async () => {
    for (const e of [E.dev, E.cpu]) {
      const r = rng(2);
      const n = 257;
      const got = lossAndGrads(e, c, [n], randArray(r, n), randArray(r, n), new Float64Array(n));
      expect(await got.loss.toArray()).toEqual(Float64Array.of(0));
      expect((await got.gp.toArray()).every((v) => v === 0)).toBe(true);
      expect((await got.gt.toArray()).every((v) => v === 0)).toBe(true);
    }
  });

  test.each([[[0]], [[4, 0, 3]]])(
    'empty shape %j gives loss 0 and empty gradients',
    async (shape) => {
      for (const e of [E.dev, E.cpu]) {
        for (const m of [undefined, new Float64Array(0)]) {
          const got = lossAndGrads(e, c, shape, new Float64Array(0), new Float64Array(0), m);
          expect(await got.loss.toArray()).toEqual(Float64Array.of(0));
          expect(got.gp.shape).toEqual(shape);
          expect(got.gt.shape).toEqual(shape);
          expect((await got.gp.toArray()).length).toBe(0);
        }
      }
    },
  );

  test('gradients match finite differences (CPU backend, away from the Huber kink)', () => {
    const r = rng(9);
    const n = 13;
    const shape = [n];
    const p = randArray(r, n, -2, 2);
    const t = randArray(r, n, -2, 2);
    const m = binaryMask(r, n);
    // keep every |d| at least 0.05 from δ, where ℓ′ is not differentiable
    p.forEach((v, i) => {
      if (c.kind === 'huber' && Math.abs(Math.abs(v - t[i]) - c.delta) < 0.05) p[i] = v + 0.1;
    });
    const e = E.cpu;
    const f = (pv: Float64Array, tv: Float64Array) =>
      e.tidy(
        () => cpuValues(c.op(e.tensor(pv, shape), e.tensor(tv, shape), e.tensor(m, shape)))[0],
      );
    const got = lossAndGrads(e, c, shape, p, t, m);
    const fdP = finiteDiff((v) => f(v, t), p);
    const fdT = finiteDiff((v) => f(p, v), t);
    expectClose(cpuValues(got.gp), fdP, TOL.finiteDiff, `${c.name} fd pred`);
    expectClose(cpuValues(got.gt), fdT, TOL.finiteDiff, `${c.name} fd target`);
  });

  test('device and CPU agree (190×102, masked, dy=0.6)', async () => {
    const r = rng(31);
    const shape = [190, 102];
    const n = numel(shape);
    const p = f32(randArray(r, n, -4, 4));
    const t = f32(randArray(r, n, -4, 4));
    const m = binaryMask(r, n);
    const d = lossAndGrads(E.dev, c, shape, p, t, m, 0.6);
    const h = lossAndGrads(E.cpu, c, shape, p, t, m, 0.6);
    expectClose(await d.loss.toArray(), cpuValues(h.loss), TOL.loss, `${c.name} loss`);
    expectClose(await d.gp.toArray(), cpuValues(h.gp), TOL.loss, `${c.name} dpred`);
    expectClose(await d.gt.toArray(), cpuValues(h.gt), TOL.loss, `${c.name} dtarget`);
  });

  test('forward and backward are one dispatch each', () => {
    const e = E.dev;
    const r = rng(5);
    const n = 19380;
    const pt = e.tensor(randArray(r, n), [n]).requireGrad();
    const tt = e.tensor(randArray(r, n), [n]).requireGrad();
    const mt = e.tensor(binaryMask(r, n), [n]);
    gradScope(e, () => {
      e.flush();
      const before = e.stats().dispatches;
      const loss = c.op(pt, tt, mt);
      e.flush();
      const afterForward = e.stats().dispatches;
      expect(afterForward - before).toBe(1);
      backward(loss);
      e.flush();
      // both gradients (pred and target) come from the same dispatch
      expect(e.stats().dispatches - afterForward).toBe(1);
    });
    expect(pt.grad).not.toBeNull();
    expect(tt.grad).not.toBeNull();
  });
});

describe('Huber on both sides of δ and exactly at ±δ', () => {
  // d = pred − target exactly representable in f32: inside, at and just beyond ±δ
  const eps = 2 ** -10;
  for (const delta of [1, 0.5]) {
    const ds = [0, 0.5 * delta, delta - eps, delta, delta + eps, 3 * delta];
    const d = f32([...ds, ...ds.map((v) => -v)]);
    const t = f32(d.map((_, i) => 0.25 * i - 1));
    const p = f32(d.map((v, i) => v + t[i]));
    const op = (pt: Tensor, tt: Tensor, mt?: Tensor) => huberLoss(pt, tt, delta, mt);

    test(`δ=${delta}: each element's loss (one-hot masks) and gradient`, async () => {
      const e = E.dev;
      // inputs are exact, so ℓ(d) is too: compare with the exact values
      for (let i = 0; i < d.length; i++) {
        const oneHot = new Float64Array(d.length);
        oneHot[i] = 1;
        const loss = op(e.tensor(p), e.tensor(t), e.tensor(oneHot));
        const a = Math.abs(d[i]);
        const expected = a <= delta ? 0.5 * a * a : delta * (a - 0.5 * delta);
        expectClose(await loss.toArray(), [expected], TOL.exact, `ℓ(${d[i]})`);
      }
      const c: LossCase = { name: 'huber', kind: 'huber', delta, op };
      const got = lossAndGrads(e, c, [d.length], p, t);
      // ℓ′ = clamp(d, −δ, δ): at d = ±δ both one-sided derivatives equal ±δ
      const expectedGrad = d.map((v) => Math.min(Math.max(v, -delta), delta) / d.length);
      expectClose(await got.gp.toArray(), expectedGrad, TOL.exact, `δ=${delta} dpred`);
      expectClose(
        await got.gt.toArray(),
        expectedGrad.map((g) => -g),
        TOL.exact,
        `δ=${delta} dtarget`,
      );
    });
  }
});

test('a recorded program reads new inputs and a new upstream gradient on each run', async () => {
  const e = E.dev;
  const r = rng(14);
  const n = 257;
  const delta = 0.5;
  const t = f32(randArray(r, n, -2, 2));
  const m = binaryMask(r, n);
  const pt = e.tensor(new Float64Array(n), [n]).requireGrad();
  const tt = e.tensor(t, [n]);
  const mt = e.tensor(m, [n]);
  const seed = e.scalar(1);
  const prog = e.record(() =>
    gradScope(e, () => {
      const loss = huberLoss(pt, tt, delta, mt);
      backward(loss, seed);
      return { loss, g: pt.grad! };
    }),
  );
  try {
    expect(prog.dispatchCount).toBe(2);
    for (const [trial, dy] of [1, -2.5, 0.125].entries()) {
      const p = f32(randArray(r, n, -2, 2));
      pt.write(p);
      seed.write([dy]);
      const out = prog.run();
      const ref = reference('huber', delta, p, t, m, dy);
      expectClose(await out.loss.toArray(), [ref.loss], TOL.loss, `run ${trial} loss`);
      expectClose(await out.g.toArray(), ref.gp, TOL.loss, `run ${trial} dpred`);
    }
  } finally {
    prog.dispose();
  }
});

describe('argument checks', () => {
  test('shapes must match', () => {
    const e = E.cpu;
    const a = e.zeros([3]);
    const b = e.zeros([4]);
    const a2 = e.zeros([3, 1]);
    expect(() => mseLoss(a, b)).toThrow(/target has shape \[4\] but pred has shape \[3\]/);
    expect(() => huberLoss(a, a2, 1)).toThrow(/target has shape \[3, 1\] but pred has shape \[3\]/);
    expect(() => mseLoss(a, a, b)).toThrow(/mask has shape \[4\] but pred has shape \[3\]/);
  });

  test('delta must be positive and finite', () => {
    const a = E.cpu.zeros([3]);
    for (const delta of [0, -1, NaN, Infinity])
      expect(() => huberLoss(a, a, delta)).toThrow(/delta must be a positive finite number/);
  });

  test('operands from two engines are rejected', () => {
    expect(() => mseLoss(E.cpu.zeros([2]), E.dev.zeros([2]))).toThrow(/another engine/);
  });
});
