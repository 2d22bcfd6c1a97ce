import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import { broadcastShapes, numel } from '../src/engine/shape.js';
import type { Engine } from '../src/engine/engine.js';
import * as ops from '../src/ops/index.js';
import { matmul, matmulShape } from '../src/ops/matmul.js';
import { cpuValues, expectClose, finiteDiff, randArray, rng, useEngines } from './helpers.js';
import { matmulTol, TOL } from './tolerances.js';

const E = useEngines();

/** One product: logical op(A) [...batchA, M, K] times op(B) [...batchB, K, N]. */
interface Case {
  batchA: number[];
  batchB: number[];
  m: number;
  k: number;
  n: number;
}

/** Stored shapes: a transposed operand holds its last two axes swapped. */
function shapesOf(c: Case, tA: boolean, tB: boolean): [number[], number[]] {
  return [
    [...c.batchA, ...(tA ? [c.k, c.m] : [c.m, c.k])],
    [...c.batchB, ...(tB ? [c.n, c.k] : [c.k, c.n])],
  ];
}

/** Flat index, in the (right-aligned, possibly broadcast) batch dims `own`, of batch z of `batch`. */
function batchIndex(z: number, batch: number[], own: number[]): number {
  let rem = z;
  let idx = 0;
  let scale = 1;
  for (let d = batch.length - 1; d >= 0; d--) {
    const coord = rem % batch[d];
    rem = Math.floor(rem / batch[d]);
    const j = d - (batch.length - own.length);
    if (j < 0) continue;
    if (own[j] !== 1) idx += coord * scale;
    scale *= own[j];
  }
  return idx;
}

/**
 * Triple-loop float64 reference: C = op(A)·op(B) per broadcast batch, and the gradients of
 * Σ w ⊙ C with respect to the stored A and B (accumulated over the batches that share them).
 */
function reference(
  c: Case,
  tA: boolean,
  tB: boolean,
  a: Float64Array,
  b: Float64Array,
  w: Float64Array,
) {
  const { m, k, n } = c;
  const batch = broadcastShapes(c.batchA, c.batchB);
  const out = new Float64Array(numel(batch) * m * n);
  const ga = new Float64Array(a.length);
  const gb = new Float64Array(b.length);
  for (let z = 0; z < numel(batch); z++) {
    const za = batchIndex(z, batch, c.batchA) * m * k;
    const zb = batchIndex(z, batch, c.batchB) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const o = (z * m + i) * n + j;
        for (let l = 0; l < k; l++) {
          const ia = za + (tA ? l * m + i : i * k + l);
          const ib = zb + (tB ? j * k + l : l * n + j);
          out[o] += a[ia] * b[ib];
          ga[ia] += w[o] * b[ib];
          gb[ib] += w[o] * a[ia];
        }
      }
    }
  }
  return { out, ga, gb, shape: [...batch, m, n] };
}

/** C = matmul(A, B) and the gradients of Σ w ⊙ C on engine `e`. */
function run(
  e: Engine,
  as: number[],
  bs: number[],
  tA: boolean,
  tB: boolean,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  w: ArrayLike<number>,
) {
  const at = e.tensor(a, as).requireGrad();
  const bt = e.tensor(b, bs).requireGrad();
  return gradScope(e, () => {
    const y = matmul(at, bt, { transposeA: tA, transposeB: tB });
    backward(ops.sum(ops.mul(y, e.tensor(w, y.shape))));
    return { y, ga: at.grad!, gb: bt.grad! };
  });
}

const batchOut = (c: Case) => broadcastShapes(c.batchA, c.batchB);

/** How many batches share each matrix of an operand (its gradient sums that many products). */
function repeats(batch: number[], own: number[]): number {
  return numel(own) === 0 ? 1 : numel(batch) / numel(own);
}

const mk = (batchA: number[], m: number, k: number, n: number, batchB: number[] = []): Case => ({
  batchA,
  batchB,
  m,
  k,
  n,
});

const caseName = (c: Case) =>
  `[${[...c.batchA, c.m, c.k]}]·[${[...c.batchB, c.k, c.n]}]`.replace(/,/g, '×');

// Sizes around the 4×4 register block and the 32×32 workgroup tile, plus empty and size-1 axes.
const cases: Case[] = [
  mk([], 1, 1, 1),
  mk([], 3, 5, 7),
  mk([], 4, 4, 4),
  mk([], 32, 8, 32),
  mk([], 33, 17, 65),
  mk([], 130, 1, 3),
  mk([], 1, 70, 1),
  mk([], 5, 3, 1),
  mk([], 1, 3, 6),
  mk([], 37, 0, 5), // K = 0: zeros
  mk([], 0, 3, 4), // M = 0: empty
  mk([], 3, 4, 0), // N = 0: empty
  mk([5], 3, 5, 7), // [B, M, K]·[K, N] (a shared B)
  mk([], 6, 2, 9, [4]), // [M, K]·[B, K, N] (a shared A)
  mk([1], 5, 6, 3, [3]), // size-1 batch broadcast
  mk([3], 7, 9, 2, [3]), // matching batches
  mk([2, 1], 3, 4, 5, [3]), // both sides broadcast: [2, 3] batches
  mk([3], 4, 2, 3, [1, 1]), // equal batch count, different rank
  mk([2, 3], 9, 33, 6, [1, 1]),
  mk([2, 1, 3, 1], 2, 3, 5, [1, 2, 1, 3]), // rank 6, four batch dims
  mk([0], 3, 4, 2), // no batches
  mk([4], 3, 0, 2, [1]), // K = 0 with a broadcast gradient
];

const transposes: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

describe.each(transposes)('matmul transposeA=%s transposeB=%s', (tA, tB) => {
  test.each(cases.map((c) => [caseName(c), c] as const))(
    '%s: forward and both gradients match the float64 reference',
    async (_, c) => {
      const r = rng(7);
      const [as, bs] = shapesOf(c, tA, tB);
      const a = randArray(r, numel(as), -2, 2);
      const b = randArray(r, numel(bs), -2, 2);
      const w = randArray(r, numel(batchOut(c)) * c.m * c.n);
      const exp = reference(c, tA, tB, a, b, w);
      const got = run(E.dev, as, bs, tA, tB, a, b, w);
      expect(got.y.shape).toEqual(exp.shape);
      expect(matmulShape(as, bs, { transposeA: tA, transposeB: tB })).toEqual(exp.shape);
      expectClose(await got.y.toArray(), exp.out, matmulTol(c.k, 2, 2), 'forward');
      // dA sums n products per batch sharing it, dB sums m (w ∈ [−1, 1] plays the other factor).
      const batch = exp.shape.slice(0, -2);
      const nA = c.n * repeats(batch, c.batchA);
      const nB = c.m * repeats(batch, c.batchB);
      expectClose(await got.ga.toArray(), exp.ga, matmulTol(nA, 1, 2), 'grad a');
      expectClose(await got.gb.toArray(), exp.gb, matmulTol(nB, 1, 2), 'grad b');
    },
  );
});

// Hand-computed products: they catch a transpose mistake that the kernel and the test's reference
// might share.
test('transposes read the swapped axes', async () => {
  const a = E.dev.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = E.dev.tensor([1, 0, 2, 0, 1, 3], [2, 3]);
  expect(Array.from(await matmul(a, b, { transposeB: true }).toArray())).toEqual([7, 11, 16, 23]);
  expect(Array.from(await matmul(a, b, { transposeA: true }).toArray())).toEqual([
    1, 4, 14, 2, 5, 19, 3, 6, 24,
  ]);
  const c = E.dev.tensor([1, 2, 3, 4], [2, 2]);
  const i = E.dev.tensor([0, 1, 1, 0], [2, 2]);
  expect(Array.from(await matmul(c, i, { transposeA: true, transposeB: true }).toArray())).toEqual([
    3, 1, 4, 2,
  ]);
});

test('K = 0 writes zeros even into reused memory', async () => {
  const e = E.dev;
  e.full([6, 5], 7).dispose(); // leaves a buffer of the same size in the pool
  e.flush();
  const y = matmul(e.zeros([6, 0]), e.zeros([0, 5]));
  expect(Array.from(await y.toArray())).toEqual(new Array(30).fill(0));
});

test('only inputs that require a gradient get one', async () => {
  const e = E.dev;
  const x = e.tensor(randArray(rng(2), 12), [4, 3]);
  const wt = e.tensor(randArray(rng(3), 6), [3, 2]).requireGrad();
  gradScope(e, () => backward(ops.sum(matmul(x, wt))));
  expect(x.grad).toBeNull();
  expect(wt.grad!.shape).toEqual([3, 2]);
});

test('a weight shared by every batch gets its gradient without a reduction', () => {
  // [1, B, M, K]·[K, N]: dW = Σ_b X_bᵀ·dY_b is one product with the batches folded into K (the
  // size-1 batch dim must not prevent it).
  const e = E.dev;
  const x = e.tensor(randArray(rng(4), 5 * 3 * 4), [1, 5, 3, 4]);
  const wt = e.tensor(randArray(rng(5), 4 * 2), [4, 2]).requireGrad();
  gradScope(e, () => {
    const y = matmul(x, wt);
    const loss = ops.sum(y);
    e.flush();
    const before = e.stats().dispatches;
    backward(loss);
    e.flush();
    // sum's backward (1 dispatch) and one matmul for dW; x needs no gradient
    expect(e.stats().dispatches - before).toBe(2);
  });
});

test('shape errors are reported', () => {
  const e = E.cpu;
  expect(() => matmul(e.zeros([3]), e.zeros([3, 2]))).toThrow(/at least 2 dimensions/);
  expect(() => matmul(e.zeros([2, 3]), e.zeros([4, 2]))).toThrow(/inner dimensions 3 and 4/);
  expect(() => matmul(e.zeros([2, 3]), e.zeros([2, 2]), { transposeA: true })).not.toThrow();
  expect(() => matmul(e.zeros([2, 2, 3]), e.zeros([3, 3, 2]))).toThrow(/batch dimensions/);
  expect(() => matmul(e.zeros([2, 3]), E.dev.zeros([3, 2]))).toThrow(/two engines/);
});

describe('backward rule matches finite differences (CPU backend)', () => {
  const fdCases: [string, Case][] = [
    ['2-D', mk([], 3, 4, 2)],
    ['shared B', mk([3], 2, 3, 2)],
    ['shared A', mk([], 2, 3, 2, [3])],
    ['broadcast both', mk([2, 1], 2, 2, 3, [2])],
  ];
  test.each(transposes.flatMap(([tA, tB]) => fdCases.map(([n, c]) => [n, tA, tB, c] as const)))(
    '%s, transposeA=%s transposeB=%s',
    (_, tA, tB, c) => {
      const e = E.cpu;
      const r = rng(13);
      const [as, bs] = shapesOf(c, tA, tB);
      const a = randArray(r, numel(as));
      const b = randArray(r, numel(bs));
      const ys = matmulShape(as, bs, { transposeA: tA, transposeB: tB });
      const w = randArray(r, numel(ys));
      const f = (av: Float64Array, bv: Float64Array) =>
        e.tidy(() => {
          const y = matmul(e.tensor(av, as), e.tensor(bv, bs), { transposeA: tA, transposeB: tB });
          return cpuValues(ops.sum(ops.mul(y, e.tensor(w, ys))))[0];
        });
      const got = run(e, as, bs, tA, tB, a, b, w);
      expectClose(
        cpuValues(got.ga),
        finiteDiff((v) => f(v, b), a),
        TOL.finiteDiff,
        'fd a',
      );
      expectClose(
        cpuValues(got.gb),
        finiteDiff((v) => f(a, v), b),
        TOL.finiteDiff,
        'fd b',
      );
    },
  );
});

test('device and CPU agree on random shapes', async () => {
  const r = rng(31);
  const pick = (lo: number, hi: number) => lo + Math.floor(r.uniform() * (hi - lo + 1));
  const batches: [number[], number[]][] = [
    [[], []],
    [[3], []],
    [[], [2]],
    [[2, 1], [3]],
    [[4], [4]],
  ];
  for (let trial = 0; trial < 8; trial++) {
    const [batchA, batchB] = batches[trial % batches.length];
    const c = mk(batchA, pick(1, 40), pick(1, 40), pick(1, 40), batchB);
    const tA = r.uniform() < 0.5;
    const tB = r.uniform() < 0.5;
    const [as, bs] = shapesOf(c, tA, tB);
    const a = randArray(r, numel(as));
    const b = randArray(r, numel(bs));
    const w = randArray(r, numel(matmulShape(as, bs, { transposeA: tA, transposeB: tB })));
    const d = run(E.dev, as, bs, tA, tB, a, b, w);
    const h = run(E.cpu, as, bs, tA, tB, a, b, w);
    const label = `trial ${trial} ${caseName(c)} tA=${tA} tB=${tB}`;
    const batch = d.y.shape.slice(0, -2);
    expectClose(await d.y.toArray(), cpuValues(h.y), matmulTol(c.k), `${label} forward`);
    const tolA = matmulTol(c.n * repeats(batch, batchA));
    const tolB = matmulTol(c.m * repeats(batch, batchB));
    expectClose(await d.ga.toArray(), cpuValues(h.ga), tolA, `${label} grad a`);
    expectClose(await d.gb.toArray(), cpuValues(h.gb), tolB, `${label} grad b`);
  }
});

describe('extreme values', () => {
  const VALUES = [0, 100, -100, 1e-30, -1e-30, 1, -1];

  test('entries in {0, ±100, ±1e-30, ±1} stay finite and agree with the reference', async () => {
    const r = rng(17);
    const c = mk([2], 9, 13, 6);
    const [as, bs] = shapesOf(c, false, true);
    const draw = (n: number) =>
      Float64Array.from({ length: n }, () => VALUES[Math.floor(r.uniform() * VALUES.length)]);
    const a = draw(numel(as));
    const b = draw(numel(bs));
    const w = draw(2 * c.m * c.n);
    const exp = reference(c, false, true, a, b, w);
    const got = run(E.dev, as, bs, false, true, a, b, w);
    const y = await got.y.toArray();
    const ga = await got.ga.toArray();
    const gb = await got.gb.toArray();
    expect([...y, ...ga, ...gb].every(Number.isFinite)).toBe(true);
    expectClose(y, exp.out, matmulTol(c.k, 100, 100), 'forward');
    expectClose(ga, exp.ga, matmulTol(c.n, 100, 100), 'grad a');
    expectClose(gb, exp.gb, matmulTol(c.m * 2, 100, 100), 'grad b');
  });

  test('tiny entries keep their relative precision (no flush to zero)', async () => {
    // 1e-30 is a normal f32 (the smallest is 1.2e-38): 37 of them sum to 3.7e-29 within rtol.
    const a = E.dev.full([3, 37], 1e-30);
    const b = E.dev.ones([37, 2]);
    const y = await matmul(a, b).toArray();
    expectClose(y, new Array(6).fill(37e-30), matmulTol(37, 1e-30, 1), 'tiny');
    expect(y.every((v) => v > 0)).toBe(true);
  });

  test('zeros times large values are exactly zero', async () => {
    const a = E.dev.zeros([5, 6]);
    const b = E.dev.full([6, 7], -100);
    expect(Array.from(await matmul(a, b).toArray())).toEqual(new Array(35).fill(0));
  });
});

describe('large grids (the kernel strides over more than 65,535 workgroups)', () => {
  test('more than 65,535 batches', async () => {
    const z = 65537;
    const r = rng(23);
    const a = randArray(r, z * 2);
    const b = randArray(r, z * 2);
    const y = await matmul(E.dev.tensor(a, [z, 1, 2]), E.dev.tensor(b, [z, 2, 1])).toArray();
    expectClose(
      y,
      Float64Array.from({ length: z }, (_, i) => a[2 * i] * b[2 * i] + a[2 * i + 1] * b[2 * i + 1]),
      matmulTol(2),
      'batched dots',
    );
  });
});
