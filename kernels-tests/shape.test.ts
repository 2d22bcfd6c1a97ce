import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import type { Engine } from '../src/engine/engine.js';
import { numel } from '../src/engine/shape.js';
import type { Tensor } from '../src/engine/tensor.js';
// Direct imports: the op index also pulls in families other people are still writing.
import { addScalar, mul, mulScalar, neg } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/reduce.js';
import {
  broadcastTo,
  concat,
  indexSelect,
  permute,
  reshape,
  slice,
  transpose,
} from '../src/ops/shape.js';
import {
  cpuValues,
  expectClose,
  finiteDiff,
  randArray,
  rng,
  type Tolerance,
  useEngines,
} from './helpers.js';
import { TOL } from './tolerances.js';

const E = useEngines();

// ---- independent float64 references ------------------------------------------------------------
// Every shape op copies input elements to output positions, so a reference is the list of the
// source of each output element: [input number, flat index in that input]. The forward is then a
// gather and the gradient of Σ w ⊙ y a scatter-add of w, both computed here index by index.

type Source = [number, number];

interface Ref {
  shape: number[];
  src: Source[];
}

/** Row-major coordinates of flat index i. */
function coordsOf(i: number, shape: readonly number[]): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return c;
}

function flatOf(c: readonly number[], shape: readonly number[]): number {
  return c.reduce((f, v, d) => f * shape[d] + v, 0);
}

/** A reference whose output element at coordinates c reads input 0 at `from(c)`. */
function mapRef(shape: number[], inShape: readonly number[], from: (c: number[]) => number[]): Ref {
  const src: Source[] = [];
  for (let i = 0; i < numel(shape); i++) src.push([0, flatOf(from(coordsOf(i, shape)), inShape)]);
  return { shape, src };
}

const refTranspose = (shape: number[], perm: number[]) =>
  mapRef(
    perm.map((a) => shape[a]),
    shape,
    (c) => {
      const x = new Array<number>(shape.length);
      perm.forEach((a, d) => (x[a] = c[d]));
      return x;
    },
  );

const refSlice = (shape: number[], begin: number[], size: number[]) =>
  mapRef(
    size.map((s, d) => (s === -1 ? shape[d] - begin[d] : s)),
    shape,
    (c) => c.map((v, d) => v + begin[d]),
  );

const refBroadcast = (from: number[], to: number[]) =>
  mapRef(to, from, (c) => from.map((d, j) => (d === 1 ? 0 : c[j + to.length - from.length])));

const refIndexSelect = (shape: number[], axis: number, idx: number[]) =>
  mapRef(
    shape.map((d, i) => (i === axis ? idx.length : d)),
    shape,
    (c) => c.map((v, d) => (d === axis ? idx[v] : v)),
  );

function refConcat(shapes: number[][], axis: number): Ref {
  const total = shapes.reduce((n, s) => n + s[axis], 0);
  const shape = shapes[0].map((d, i) => (i === axis ? total : d));
  const src: Source[] = [];
  for (let i = 0; i < numel(shape); i++) {
    const c = coordsOf(i, shape);
    let k = 0;
    let pos = c[axis];
    while (pos >= shapes[k][axis]) pos -= shapes[k++][axis];
    src.push([
      k,
      flatOf(
        c.map((v, d) => (d === axis ? pos : v)),
        shapes[k],
      ),
    ]);
  }
  return { shape, src };
}

function refForward(ref: Ref, xs: Float64Array[]): Float64Array {
  return Float64Array.from(ref.src, ([k, j]) => xs[k][j]);
}

function refGrads(ref: Ref, xs: Float64Array[], w: Float64Array): Float64Array[] {
  const g = xs.map((x) => new Float64Array(x.length));
  ref.src.forEach(([k, j], i) => (g[k][j] += w[i]));
  return g;
}

// ---- the check every op goes through ------------------------------------------------------------

/**
 * Runs `op` on random inputs of `shapes` on engine `e`, then backward from the seed w (random,
 * y's shape), and compares y and every input gradient with the reference.
 */
async function checkOp(
  e: Engine,
  shapes: number[][],
  op: (xs: Tensor[]) => Tensor,
  ref: Ref,
  gradTol: Tolerance = TOL.exact,
  seed = 7,
): Promise<void> {
  const r = rng(seed);
  const data = shapes.map((s) => randArray(r, numel(s), -2, 2));
  await gradScope(e, async () => {
    const xs = data.map((d, k) => e.tensor(d, shapes[k]).requireGrad());
    const y = op(xs);
    expect(y.shape).toEqual(ref.shape);
    expectClose(await y.toArray(), refForward(ref, data), TOL.exact, 'forward');
    const w = randArray(r, numel(ref.shape));
    backward(y, e.tensor(w, ref.shape));
    const want = refGrads(ref, data, w);
    for (let k = 0; k < xs.length; k++) {
      expect(xs[k].grad!.shape).toEqual(shapes[k]);
      expectClose(await xs[k].grad!.toArray(), want[k], gradTol, `gradient of input ${k}`);
    }
  });
}

/** Finite differences of Σ w ⊙ op(xs) w.r.t. every input, on the float64 CPU engine. */
function fdCheck(shapes: number[][], op: (xs: Tensor[]) => Tensor): void {
  const e = E.cpu;
  const r = rng(19);
  const data = shapes.map((s) => randArray(r, numel(s), -2, 2));
  const xs = data.map((d, k) => e.tensor(d, shapes[k]).requireGrad());
  const wt = gradScope(e, () => {
    const y = op(xs);
    const w = randArray(r, y.size);
    const wt = e.tensor(w, y.shape);
    backward(sum(mul(y, wt)));
    return wt;
  });
  data.forEach((d, k) => {
    const f = (v: Float64Array) =>
      e.tidy(() => {
        const ins = data.map((other, m) => e.tensor(m === k ? v : other, shapes[m]));
        return cpuValues(sum(mul(op(ins), wt)))[0];
      });
    expectClose(cpuValues(xs[k].grad!), finiteDiff(f, d), TOL.finiteDiff, `fd input ${k}`);
  });
}

// ---- reshape ------------------------------------------------------------------------------------

describe('reshape', () => {
  const cases: [number[], number[], number[]][] = [
    [
      [2, 3, 4],
      [4, -1],
      [4, 6],
    ],
    [[6], [1, 2, 1, 3], [1, 2, 1, 3]],
    [[3, 67], [201], [201]],
    [
      [0, 3],
      [-1, 3],
      [0, 3],
    ],
    [[], [1, 1], [1, 1]],
    [
      [2, 3],
      [1, 1, 2, 1, 3, -1],
      [1, 1, 2, 1, 3, 1],
    ],
  ];
  test.each(cases)('%j to %j', async (from, to, want) => {
    // Row-major order is unchanged: output element i is input element i.
    const src = Array.from({ length: numel(from) }, (_, i): Source => [0, i]);
    await checkOp(E.dev, [from], ([x]) => reshape(x, to), { shape: want, src });
  });

  test('is a view: no dispatch, shared memory', async () => {
    const e = E.dev;
    const x = e.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    e.flush();
    const before = e.stats().dispatches;
    const y = reshape(x, [3, 2]);
    e.flush();
    expect(e.stats().dispatches).toBe(before);
    expect(y.storage).toBe(x.storage);
    expect(Array.from(await y.toArray())).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('rejects bad shapes', () => {
    const x = E.dev.zeros([2, 3]);
    expect(() => reshape(x, [4, -1])).toThrow(/-1 cannot be inferred/);
    expect(() => reshape(x, [-1, -1])).toThrow(/at most one dimension may be -1/);
    expect(() => reshape(x, [7])).toThrow(/6 values do not fit/);
    expect(() => reshape(x, [2.5, 2])).toThrow(/invalid dimension 2.5/);
    expect(() => reshape(x, [-2, -3])).toThrow(/invalid dimension -2/);
    expect(() => reshape(x, [1, 1, 1, 1, 1, 2, 3])).toThrow(/rank 7/);
    expect(() => reshape(E.dev.zeros([0, 3]), [-1, 0])).toThrow(/-1 cannot be inferred/);
  });
});

// ---- transpose ----------------------------------------------------------------------------------

describe('transpose', () => {
  const cases: [number[], number[] | undefined][] = [
    [[2, 3], undefined],
    [[3, 67], undefined],
    [
      [2, 3, 4],
      [1, 2, 0],
    ],
    [
      [2, 1, 3, 1],
      [3, 1, 0, 2],
    ],
    [
      [2, 0, 3],
      [2, 0, 1],
    ],
    [
      [2, 3, 1, 2, 3, 2],
      [5, 3, 1, 0, 4, 2],
    ],
    [[2, 3, 1, 2, 3, 2], undefined],
    [[5], undefined],
    [[], undefined],
    [
      [4, 5, 6],
      [0, 1, 2],
    ],
    [
      [65, 3],
      [1, 0],
    ],
  ];
  test.each(cases)('%j perm %j: forward and backward', async (shape, perm) => {
    const p = perm ?? [...shape.keys()].reverse();
    await checkOp(E.dev, [shape], ([x]) => transpose(x, perm), refTranspose(shape, p));
  });

  test('permute is transpose with an explicit permutation', async () => {
    await checkOp(
      E.dev,
      [[2, 3, 4]],
      ([x]) => permute(x, [2, 0, 1]),
      refTranspose([2, 3, 4], [2, 0, 1]),
    );
  });

  test('rejects bad permutations', () => {
    const x = E.dev.zeros([2, 3, 4]);
    expect(() => transpose(x, [0, 1])).toThrow(/not a permutation of the 3 axes/);
    expect(() => transpose(x, [0, 0, 1])).toThrow(/not a permutation/);
    expect(() => transpose(x, [0, 1, 3])).toThrow(/not a permutation/);
    expect(() => transpose(x, [0, -1, 2])).toThrow(/not a permutation/);
    expect(() => transpose(x, [0, 1.5, 2])).toThrow(/not a permutation/);
  });
});

// ---- slice --------------------------------------------------------------------------------------

describe('slice', () => {
  const cases: [number[], number[], number[]][] = [
    [
      [5, 7],
      [1, 2],
      [3, 4],
    ],
    [
      [5, 7],
      [0, 0],
      [-1, -1],
    ],
    [
      [5, 7],
      [2, 3],
      [0, 2],
    ],
    [
      [4, 67],
      [1, 5],
      [2, -1],
    ],
    [
      [0, 3],
      [0, 1],
      [0, 2],
    ],
    [
      [2, 3, 2, 3, 2, 3],
      [1, 0, 1, 1, 0, 2],
      [1, 3, -1, 2, 2, 1],
    ],
    [
      [3, 1, 4],
      [2, 0, 1],
      [-1, 1, 2],
    ],
    [[5], [5], [-1]],
    [[70], [3], [66]],
    [[], [], []],
  ];
  test.each(cases)('%j from %j size %j: forward and backward', async (shape, begin, size) => {
    await checkOp(E.dev, [shape], ([x]) => slice(x, begin, size), refSlice(shape, begin, size));
  });

  test('an omitted size runs to the end of every axis', async () => {
    await checkOp(E.dev, [[4, 5]], ([x]) => slice(x, [1, 3]), refSlice([4, 5], [1, 3], [-1, -1]));
  });

  test('the gradient outside the slice is zero even in reused memory (recorded program)', async () => {
    const e = E.dev;
    const shape = [6, 9];
    const r = rng(4);
    const x = e.tensor(randArray(r, 54), shape).requireGrad();
    const seed = e.tensor(randArray(r, 8), [2, 4]);
    // Garbage-filled buffers freed inside the recording are what its later allocations reuse.
    const prog = e.record(() =>
      gradScope(e, () => {
        const junk = [addScalar(x, 1234), addScalar(x, 5678)];
        junk.forEach((t) => t.dispose());
        const y = slice(mulScalar(x, 3), [2, 4], [2, 4]);
        backward(y, seed);
        return { y, g: x.grad! };
      }),
    );
    const ref = refSlice(shape, [2, 4], [2, 4]);
    for (let run = 0; run < 2; run++) {
      const xv = randArray(r, 54);
      x.write(xv);
      const { y, g } = prog.run();
      expectClose(await y.toArray(), refForward(ref, [xv.map((v) => 3 * v)]), TOL.exact, 'y');
      const want = refGrads(
        ref,
        [xv],
        (await seed.toArray()).map((v) => 3 * v),
      );
      expectClose(await g.toArray(), want[0], TOL.exact, 'grad');
    }
    prog.dispose();
  });

  test('rejects bad bounds', () => {
    const x = E.dev.zeros([4, 5]);
    expect(() => slice(x, [0], [1, 1])).toThrow(/begin needs 2 entries/);
    expect(() => slice(x, [0, 0], [1])).toThrow(/size needs 2 entries/);
    expect(() => slice(x, [5, 0], [0, 1])).toThrow(/begin 5 is outside axis 0/);
    expect(() => slice(x, [-1, 0], [1, 1])).toThrow(/begin -1 is outside axis 0/);
    expect(() => slice(x, [1, 0], [4, 1])).toThrow(/size 4 runs past axis 0/);
    expect(() => slice(x, [1, 0], [1, -2])).toThrow(/size -2 runs past axis 1/);
    expect(() => slice(x, [1, 0.5], [1, 1])).toThrow(/begin 0.5/);
  });
});

// ---- concat -------------------------------------------------------------------------------------

describe('concat', () => {
  const cases: [number[][], number][] = [
    [
      [
        [2, 3],
        [4, 3],
      ],
      0,
    ],
    [
      [
        [2, 3],
        [2, 5],
        [2, 1],
      ],
      1,
    ],
    [
      [
        [2, 3],
        [2, 0],
        [2, 4],
      ],
      -1,
    ],
    [
      [
        [0, 3],
        [0, 3],
      ],
      1,
    ],
    [
      [
        [1, 2, 1, 2, 3, 2],
        [1, 2, 3, 2, 3, 2],
      ],
      2,
    ],
    [[[3, 67]], 1],
    [[[67], [70]], 0],
    [
      [
        [2, 3, 4],
        [2, 2, 4],
        [2, 5, 4],
        [2, 1, 4],
      ],
      1,
    ],
  ];
  test.each(cases)('%j along %d: forward and every input gradient', async (shapes, axis) => {
    const ax = axis < 0 ? axis + shapes[0].length : axis;
    await checkOp(E.dev, shapes, (xs) => concat(xs, axis), refConcat(shapes, ax));
  });

  test('the same tensor twice accumulates both gradients', async () => {
    const e = E.dev;
    const a = e.tensor([1, 2, 3], [3]).requireGrad();
    await gradScope(e, async () => {
      const y = concat([a, a, neg(a)], 0);
      expect(Array.from(await y.toArray())).toEqual([1, 2, 3, 1, 2, 3, -1, -2, -3]);
      backward(y, e.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [9]));
    });
    expectClose(await a.grad!.toArray(), [1 + 4 - 7, 2 + 5 - 8, 3 + 6 - 9], TOL.exact, 'grad');
  });

  test('inputs without requiresGrad get no gradient', async () => {
    const e = E.dev;
    const a = e.tensor([1, 2], [2]).requireGrad();
    const b = e.tensor([3], [1]);
    const grads = gradScope(e, () => backward(concat([b, a], 0), e.tensor([5, 6, 7], [3])));
    expect(b.grad).toBeNull();
    expect([...grads.keys()]).toEqual([a]);
    expect(Array.from(await a.grad!.toArray())).toEqual([6, 7]);
  });

  test('rejects mismatched inputs', () => {
    const e = E.dev;
    expect(() => concat([], 0)).toThrow(/at least one tensor/);
    expect(() => concat([e.zeros([2, 3]), e.zeros([3, 3])], 1)).toThrow(
      /shape \[3, 3\] does not match \[2, 3\]/,
    );
    expect(() => concat([e.zeros([2, 3]), e.zeros([2, 3, 1])], 0)).toThrow(/does not match/);
    expect(() => concat([e.zeros([2, 3]), e.zeros([2, 3])], 2)).toThrow(/axis 2 is out of range/);
    expect(() => concat([e.scalar(1), e.scalar(2)], 0)).toThrow(/cannot join scalars/);
    expect(() => concat([e.zeros([2]), E.cpu.zeros([2])], 0)).toThrow(/two engines/);
  });
});

// ---- broadcastTo --------------------------------------------------------------------------------

describe('broadcastTo', () => {
  const cases: [number[], number[]][] = [
    [[3], [2, 3]],
    [
      [2, 1],
      [2, 5],
    ],
    [[1], [3, 67]],
    [[], [4, 2]],
    [
      [3, 1, 2],
      [2, 3, 5, 2],
    ],
    [
      [1, 2, 1, 3, 1, 2],
      [2, 2, 3, 3, 2, 2],
    ],
    [
      [2, 1],
      [2, 0],
    ],
    [
      [0, 1],
      [3, 0, 4],
    ],
    [
      [2, 3],
      [2, 3],
    ],
    [
      [1, 1],
      [1, 1],
    ],
  ];
  test.each(cases)('%j to %j: forward and summed gradient', async (from, to) => {
    await checkOp(E.dev, [from], ([x]) => broadcastTo(x, to), refBroadcast(from, to), TOL.sum);
  });

  test('rejects incompatible shapes', () => {
    const x = E.dev.zeros([2, 3]);
    expect(() => broadcastTo(x, [3, 3])).toThrow(/cannot be broadcast to \[3, 3\]/);
    expect(() => broadcastTo(x, [3])).toThrow(/more axes than \[3\]/);
    expect(() => broadcastTo(x, [1, 1, 1, 1, 1, 2, 3])).toThrow(/rank 7/);
    expect(() => broadcastTo(x, [2, -1])).toThrow(/invalid dimension -1/);
  });
});

// ---- indexSelect --------------------------------------------------------------------------------

describe('indexSelect', () => {
  const cases: [number[], number, number[]][] = [
    [[5, 3], 0, [4, 0, 0, 2, 4, 4]],
    [[5, 3], 1, [2, 2, 1]],
    [[2, 3, 4], 1, [0, 2, 1, 0]],
    [[2, 3, 4], -1, [3]],
    [[4, 67], 0, [3, 1, 3]],
    [[67, 4], 0, Array.from({ length: 100 }, (_, i) => (i * 37) % 67)],
    [[3, 4], 0, []],
    [[0, 4], 1, [1, 3]],
    [[2, 2, 3, 1, 2, 2], 2, [2, 0, 2, 1]],
    [[3], 0, [1, 1, 1, 1, 1, 1, 1]],
    [[1, 5], 0, [0, 0, 0]],
  ];
  describe.each([
    ['number[]', false],
    ['int32 tensor', true],
  ])('indices as %s', (_, asTensor) => {
    test.each(cases)('%j axis %d indices %j: gather and scatter-add', async (shape, axis, idx) => {
      const ax = axis < 0 ? axis + shape.length : axis;
      const op = ([x]: Tensor[]) =>
        indexSelect(x, axis, asTensor ? x.engine.tensor(idx, [idx.length], 'int32') : idx);
      await checkOp(E.dev, [shape], op, refIndexSelect(shape, ax, idx), TOL.sum);
    });
  });

  test('the caller keeps its index tensor after backward', async () => {
    const e = E.dev;
    const x = e.tensor([1, 2, 3], [3]).requireGrad();
    const idx = e.tensor([2, 2, 0], [3], 'int32');
    gradScope(e, () => backward(sum(indexSelect(x, 0, idx))));
    expect(idx.isDisposed).toBe(false);
    expect(Array.from(await idx.toArray())).toEqual([2, 2, 0]);
    expect(Array.from(await x.grad!.toArray())).toEqual([1, 0, 2]);
  });

  test('out-of-range indices in a device tensor select 0 and get no gradient', async () => {
    const e = E.dev;
    const x = e.tensor([1, 2, 3, 4, 5, 6], [3, 2]).requireGrad();
    await gradScope(e, async () => {
      const y = indexSelect(x, 0, e.tensor([0, -1, 3, 2], [4], 'int32'));
      expect(Array.from(await y.toArray())).toEqual([1, 2, 0, 0, 0, 0, 5, 6]);
      backward(y, e.tensor([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]));
    });
    expect(Array.from(await x.grad!.toArray())).toEqual([1, 2, 0, 0, 7, 8]);
  });

  test('rejects bad arguments', () => {
    const e = E.dev;
    const x = e.zeros([5, 3]);
    expect(() => indexSelect(x, 0, [0, 5])).toThrow(
      /index 5 \(position 1\) is not an integer in \[0, 5\)/,
    );
    expect(() => indexSelect(x, 1, [-1])).toThrow(
      /index -1 \(position 0\) is not an integer in \[0, 3\)/,
    );
    expect(() => indexSelect(x, 0, [1.5])).toThrow(/index 1.5/);
    expect(() => indexSelect(x, 2, [0])).toThrow(/axis 2 is out of range/);
    expect(() => indexSelect(x, 0, e.tensor([0, 1], [2]))).toThrow(/int32 tensor \(got float32\)/);
    expect(() => indexSelect(x, 0, e.tensor([0, 1], [1, 2], 'int32'))).toThrow(/rank 1/);
    expect(() => indexSelect(x, 0, E.cpu.tensor([0], [1], 'int32'))).toThrow(/another engine/);
    expect(() => indexSelect(e.scalar(1), 0, [0])).toThrow(/rank ≥ 1/);
  });
});

// ---- dtypes -------------------------------------------------------------------------------------

test('int32 tensors reshape as views; the copying ops reject them', async () => {
  const e = E.dev;
  const t = e.tensor([1, -2, 3, 4, 5, 6], [2, 3], 'int32');
  const r = reshape(t, [3, 2]);
  expect(r.dtype).toBe('int32');
  expect(Array.from(await r.toArray())).toEqual([1, -2, 3, 4, 5, 6]);
  expect(() => transpose(t)).toThrow(/transpose supports float32 tensors only \(got int32\)/);
  expect(() => slice(t, [0, 0])).toThrow(/slice supports float32/);
  expect(() => concat([e.zeros([1, 3]), t], 0)).toThrow(/concat supports float32/);
  expect(() => broadcastTo(t, [2, 2, 3])).toThrow(/broadcastTo supports float32/);
  expect(() => indexSelect(t, 0, [0])).toThrow(/indexSelect supports float32/);
});

// ---- gradients by finite differences (float64 CPU engine) --------------------------------------

describe('finite differences (CPU backend)', () => {
  const cases: [string, number[][], (xs: Tensor[]) => Tensor][] = [
    ['reshape', [[2, 6]], ([x]) => reshape(x, [3, -1, 2])],
    ['transpose', [[2, 3, 4]], ([x]) => transpose(x, [2, 0, 1])],
    ['slice', [[4, 5]], ([x]) => slice(x, [1, 2], [2, -1])],
    [
      'concat',
      [
        [2, 3],
        [2, 2],
      ],
      (xs) => concat(xs, 1),
    ],
    ['broadcastTo', [[3, 1]], ([x]) => broadcastTo(x, [2, 3, 4])],
    ['indexSelect', [[4, 3]], ([x]) => indexSelect(x, 0, [3, 0, 3, 3, 1])],
    [
      'composition',
      [[3, 4]],
      ([x]) =>
        indexSelect(
          concat([transpose(x), broadcastTo(slice(x, [1, 0], [1, 3]), [4, 3])], 1),
          1,
          [5, 0, 5, 2],
        ),
    ],
  ];
  test.each(cases)('%s', (_, shapes, op) => fdCheck(shapes, op));
});

// ---- device against the float64 reference engine -----------------------------------------------

test('device and CPU agree on random shapes and chains of shape ops', async () => {
  const r = rng(33);
  const int = (n: number) => Math.floor(r.uniform() * n);
  for (let trial = 0; trial < 12; trial++) {
    // Every random choice is drawn first, so both engines run the same chain.
    const rank = 1 + int(6);
    // Mostly small dims, some 1s and the occasional empty axis.
    const shape = Array.from({ length: rank }, () => (r.uniform() < 0.05 ? 0 : 1 + int(5)));
    const perm = [...shape.keys()].sort(() => r.uniform() - 0.5);
    const tShape = perm.map((a) => shape[a]);
    const begin = tShape.map((d) => int(d + 1));
    const size = tShape.map((d, i) => (r.uniform() < 0.3 ? -1 : int(d - begin[i] + 1)));
    const axis = int(rank);
    const cShape = tShape.map(
      (d, i) => (size[i] === -1 ? d - begin[i] : size[i]) * (i === axis ? 2 : 1),
    );
    const pick = int(rank);
    const idx = Array.from({ length: 1 + int(7) }, () => int(cShape[pick]));
    const x = randArray(r, numel(shape), -2, 2);
    const chain = (e: Engine) => {
      const xt = e.tensor(x, shape).requireGrad();
      const s = slice(transpose(xt, perm), begin, size);
      const c = concat([s, neg(s)], axis);
      const g = indexSelect(c, pick, cShape[pick] === 0 ? [] : idx);
      const y = broadcastTo(reshape(g, [1, -1]), [3, g.size]);
      return { xt, y };
    };
    const { d, c } = gradScope(E.dev, () =>
      gradScope(E.cpu, () => {
        const d = chain(E.dev);
        const c = chain(E.cpu);
        expect(d.y.shape).toEqual(c.y.shape);
        const w = randArray(r, d.y.size);
        backward(d.y, E.dev.tensor(w, d.y.shape));
        backward(c.y, E.cpu.tensor(w, c.y.shape));
        return { d, c };
      }),
    );
    const label = `trial ${trial} ${JSON.stringify({ shape, perm, begin, size, axis, pick, idx })}`;
    expectClose(await d.y.toArray(), await c.y.toArray(), TOL.exact, `${label} value`);
    expectClose(
      await d.xt.grad!.toArray(),
      await c.xt.grad!.toArray(),
      TOL.sum,
      `${label} gradient`,
    );
  }
});

test('launches past 65,535 workgroups (grid spread over y)', async () => {
  const e = E.dev;
  const n = 2_100_000; // 2n = 4.2M elements > 65,535 · 64
  // Distinct values without the cost of 4.2M generator draws.
  const x = new Float64Array(2 * n);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 7919) % 10007) / 10007 - 0.5;
  const xt = e.tensor(x, [2, n]).requireGrad();
  const y = gradScope(e, () => {
    const y = indexSelect(xt, 0, [1, 0, 1]);
    const z = slice(y, [1, n - 100], [2, 100]);
    backward(z, e.tensor(new Float64Array(200).fill(1), [2, 100]));
    return y;
  });
  const yv = await y.toArray();
  // Row k of y is row [1, 0, 1][k] of x.
  const at = [0, n - 1, n, 2 * n - 1, 2 * n, 3 * n - 1];
  const wantY = at.map((i) => x[[1, 0, 1][Math.floor(i / n)] * n + (i % n)]);
  expectClose(
    at.map((i) => yv[i]),
    wantY,
    TOL.exact,
    'large forward',
  );
  const g = await xt.grad!.toArray();
  // z reads y rows 1 (x row 0) and 2 (x row 1) at the last 100 columns, each once.
  const want = new Float64Array(2 * n);
  for (let c = n - 100; c < n; c++) want[c] = want[n + c] = 1;
  expectClose(g, want, TOL.exact, 'large gradient');
});

test('forward and backward free every intermediate buffer', () => {
  const e = E.dev;
  e.flush();
  const before = e.stats().liveBuffers;
  e.tidy(() =>
    gradScope(e, () => {
      const x = e.tensor(randArray(rng(3), 24), [2, 3, 4]).requireGrad();
      const y = indexSelect(
        concat(
          [
            slice(transpose(x), [1, 0, 0], [-1, -1, 2]),
            broadcastTo(reshape(x, [3, 8, 1]), [3, 8, 2]),
          ],
          1,
        ),
        2,
        [1, 1, 0],
      );
      backward(sum(y));
    }),
  );
  e.flush();
  expect(e.stats().liveBuffers).toBe(before);
});
