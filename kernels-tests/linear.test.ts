import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import { numel } from '../src/engine/shape.js';
import type { Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import { add, mul, relu, tanh } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/reduce.js';
import { matmul } from '../src/ops/matmul.js';
import { linear, type LinearActivation } from '../src/ops/linear.js';
import {
  linearSplit,
  LINEAR_MAX_SLICE_ROWS,
  LINEAR_MIN_SLICE_ROWS,
} from '../src/ops/grouped-linear.js';
import { cpuValues, expectClose, finiteDiff, randArray, rng, useEngines } from './helpers.js';
import { matmulTol, TOL } from './tolerances.js';

const E = useEngines();

const ACTS: LinearActivation[] = ['none', 'relu', 'tanh'];

/** One layer: x [...lead, I], W [O, I], bias [O] or none. */
interface Case {
  lead: number[];
  inF: number;
  outF: number;
  bias: boolean;
}

interface Values {
  x: Float64Array;
  w: Float64Array;
  b: Float64Array | null;
  /** the upstream gradient dy [...lead, O] */
  dy: Float64Array;
}

interface Result {
  y: Float64Array;
  dx: Float64Array;
  dw: Float64Array;
  db: Float64Array | null;
}

const rows = (c: Case) => numel(c.lead);

function draw(c: Case, seed: number): Values {
  const r = rng(seed);
  return {
    x: randArray(r, rows(c) * c.inF),
    w: randArray(r, c.outF * c.inF, -0.5, 0.5),
    b: c.bias ? randArray(r, c.outF) : null,
    dy: randArray(r, rows(c) * c.outF),
  };
}

/** A plain float64 loop: y = act(x·Wᵀ + b) and the gradients of Σ dy ⊙ y. */
function reference(c: Case, act: LinearActivation, v: Values): Result {
  const [m, n, o] = [rows(c), c.inF, c.outF];
  const y = new Float64Array(m * o);
  const dx = new Float64Array(m * n);
  const dw = new Float64Array(o * n);
  const db = new Float64Array(o);
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < o; j++) {
      let z = v.b ? v.b[j] : 0;
      for (let i = 0; i < n; i++) z += v.x[r * n + i] * v.w[j * n + i];
      const f = act === 'relu' ? Math.max(z, 0) : act === 'tanh' ? Math.tanh(z) : z;
      const df = act === 'relu' ? (z > 0 ? 1 : 0) : act === 'tanh' ? 1 - f * f : 1;
      y[r * o + j] = f;
      const dz = v.dy[r * o + j] * df;
      db[j] += dz;
      for (let i = 0; i < n; i++) {
        dx[r * n + i] += dz * v.w[j * n + i];
        dw[j * n + i] += dz * v.x[r * n + i];
      }
    }
  }
  return { y, dx, dw, db: v.b ? db : null };
}

type Layer = (x: Tensor, w: Tensor, b: Tensor | null) => Tensor;

/** Uploads the values, runs layer(x, W, b) and backward with seed dy; every input wants a grad. */
async function runLayer(e: Engine, c: Case, v: Values, layer: Layer): Promise<Result> {
  const [y, dx, dw, db] = e.tidy(() =>
    gradScope(e, () => {
      const x = e.tensor(v.x, [...c.lead, c.inF]).requireGrad();
      const w = e.tensor(v.w, [c.outF, c.inF]).requireGrad();
      const b = v.b ? e.tensor(v.b, [c.outF]).requireGrad() : null;
      const out = layer(x, w, b);
      expect(out.shape).toEqual([...c.lead, c.outF]);
      backward(out, e.tensor(v.dy, out.shape));
      return [out, x.grad!, w.grad!, b?.grad ?? null];
    }),
  );
  return {
    y: await y.toArray(),
    dx: await dx.toArray(),
    dw: await dw.toArray(),
    db: db ? await db.toArray() : null,
  };
}

const run = (e: Engine, c: Case, act: LinearActivation, v: Values) =>
  runLayer(e, c, v, (x, w, b) => linear(x, w, b, act));

/** The same layer from existing ops: matmul(x, W, transposeB) + b, then relu / tanh. */
const runComposed = (e: Engine, c: Case, act: LinearActivation, v: Values) =>
  runLayer(e, c, v, (x, w, b) => {
    let z = matmul(x, w, { transposeB: true });
    if (b) z = add(z, b);
    return act === 'relu' ? relu(z) : act === 'tanh' ? tanh(z) : z;
  });

/**
 * Tolerances: y is an I-term dot product plus the bias (relu and tanh are 1-Lipschitz); dx an
 * O-term one; dW and db sum over the M rows. x, dy ∈ [−1, 1], W ∈ [−0.5, 0.5].
 */
function compare(got: Result, exp: Result, c: Case, label: string, scale = 1): void {
  const tol = (k: number) => {
    const t = matmulTol(k);
    return { atol: t.atol * scale, rtol: t.rtol * scale };
  };
  expectClose(got.y, exp.y, tol(c.inF + 1), `${label} y`);
  expectClose(got.dx, exp.dx, tol(c.outF), `${label} dx`);
  expectClose(got.dw, exp.dw, tol(rows(c)), `${label} dW`);
  if (exp.db) expectClose(got.db!, exp.db, tol(rows(c)), `${label} db`);
  else expect(got.db).toBeNull();
}

const mk = (lead: number[], inF: number, outF: number, bias = true): Case => ({
  lead,
  inF,
  outF,
  bias,
});

const caseName = (c: Case) =>
  `[${[...c.lead, c.inF]}]→${c.outF}${c.bias ? '' : ' no bias'}`.replace(/,/g, '×');

// Edges of the 4×4 block and the 32×32 tile, rank 3, M = 1, O = 1, I = 1, no bias, and M past
// LINEAR_MIN_SLICE_ROWS so that dW splits into slices.
const cases: Case[] = [
  mk([37], 45, 29),
  mk([37], 45, 29, false),
  mk([3, 7], 45, 29), // rank-3 x [R, T, I]
  mk([1], 45, 29), // M = 1
  mk([37], 45, 1), // O = 1
  mk([5], 1, 3), // I = 1
  mk([1], 1, 1),
  mk([64], 32, 32),
  mk([33], 31, 33, false),
  mk([700], 13, 6), // split-K: two slices
  mk([2, 300], 33, 7, false),
  // the wide kernels (output ≥ 96 rows and ≥ 96 columns; forward and dx tiles 128 × 96, dW 96 ×
  // 96, blocks of 4-element quads 32 apart): edges of each quad, block and tile in forward, dx, dW
  mk([130], 97, 193),
  mk([129], 96, 96, false),
  mk([200], 191, 100),
  mk([97], 100, 129, false),
  mk([96], 95, 97),
];

describe.each(ACTS)('linear, activation %s', (act) => {
  test.each(cases.map((c) => [caseName(c), c] as const))(
    '%s: forward and gradients match a float64 loop and the CPU kernels',
    async (_, c) => {
      const v = draw(c, 11);
      const exp = reference(c, act, v);
      const got = await run(E.dev, c, act, v);
      compare(got, exp, c, 'vs loop');
      // The CPU kernels (float64, same split-K plan) agree with the loop to rounding.
      const host = await run(E.cpu, c, act, v);
      compare(host, exp, c, 'cpu kernel vs loop', 1e-4);
      compare(got, host, c, 'vs cpu kernel');
    },
  );

  test('agrees with matmul(transposeB) + add + activation on the device', async () => {
    for (const c of [mk([3, 7], 45, 29), mk([300], 20, 9, false)]) {
      const v = draw(c, 5);
      const fused = await run(E.dev, c, act, v);
      const plain = await runComposed(E.dev, c, act, v);
      compare(fused, plain, c, `${caseName(c)} fused vs composed`, 2);
    }
  });

  test('backward matches finite differences (CPU backend)', async () => {
    const e = E.cpu;
    for (const c of [mk([3], 4, 2), mk([2, 3], 5, 3, false)]) {
      const v = draw(c, 19);
      const got = await run(e, c, act, v);
      const f = (x: Float64Array, w: Float64Array, b: Float64Array | null) =>
        e.tidy(() => {
          const bt = b ? e.tensor(b, [c.outF]) : null;
          const y = linear(e.tensor(x, [...c.lead, c.inF]), e.tensor(w, [c.outF, c.inF]), bt, act);
          return cpuValues(sum(mul(y, e.tensor(v.dy, y.shape))))[0];
        });
      const label = `${caseName(c)} fd`;
      expectClose(
        got.dx,
        finiteDiff((x) => f(x, v.w, v.b), v.x),
        TOL.finiteDiff,
        `${label} x`,
      );
      expectClose(
        got.dw,
        finiteDiff((w) => f(v.x, w, v.b), v.w),
        TOL.finiteDiff,
        `${label} W`,
      );
      if (v.b)
        expectClose(
          got.db!,
          finiteDiff((b) => f(v.x, v.w, b), v.b),
          TOL.finiteDiff,
          `${label} b`,
        );
    }
  });
});

test('relu at exactly 0 passes no gradient (relu′(0) = 0, as PyTorch)', async () => {
  // z = x·Wᵀ + b = [0, 3, −1]: row 0 sits on the kink.
  for (const e of [E.dev, E.cpu]) {
    const x = e.tensor([0, 0, 1, 2, -1, 0], [3, 2]).requireGrad();
    const w = e.tensor([1, 1], [1, 2]).requireGrad();
    const b = e.tensor([0], [1]).requireGrad();
    const y = gradScope(e, () => {
      const y = linear(x, w, b, 'relu');
      backward(y, e.tensor([1, 1, 1], [3, 1]));
      return y;
    });
    expect(Array.from(await y.toArray())).toEqual([0, 3, 0]);
    expect(Array.from(await x.grad!.toArray())).toEqual([0, 0, 1, 1, 0, 0]);
    expect(Array.from(await w.grad!.toArray())).toEqual([1, 2]);
    expect(Array.from(await b.grad!.toArray())).toEqual([1]);
  }
});

describe('dispatch counts', () => {
  const c = mk([37], 45, 29);

  test('forward is one dispatch', () => {
    const e = E.dev;
    const v = draw(c, 3);
    const x = e.tensor(v.x, [37, 45]);
    const w = e.tensor(v.w, [29, 45]);
    const b = e.tensor(v.b!, [29]);
    for (const act of ACTS) {
      const program = e.record(() => linear(x, w, b, act));
      expect(program.dispatchCount).toBe(1);
      // 29 outputs: the 4×4-block variant of the grouped layer's kernel
      expect(program.kernelCounts()).toEqual({ grouped_linear_fwd4: 1 });
      program.dispose();
    }
    // ≥ 96 rows and ≥ 96 outputs: the wide kernel
    const big = e.record(() => linear(e.zeros([96, 45]), e.zeros([96, 45]), null, 'relu'));
    expect(big.kernelCounts()).toEqual({ grouped_linear_fwd: 1 });
    big.dispose();
  });

  /** Dispatches of linear's backward alone (the seed is dy itself). */
  function backwardDispatches(e: Engine, m: number, grads: [boolean, boolean, boolean]): number {
    const x = e.rand([m, 45]).requireGrad(grads[0]);
    const w = e.rand([29, 45]).requireGrad(grads[1]);
    const b = e.rand([29]).requireGrad(grads[2]);
    return gradScope(e, () => {
      const y = linear(x, w, b, 'tanh');
      const dy = e.rand([m, 29]);
      e.flush();
      const before = e.stats().dispatches;
      backward(y, dy);
      e.flush();
      return e.stats().dispatches - before;
    });
  }

  test('backward is at most three dispatches (dx, split-K dW + db, their sum)', () => {
    const e = E.dev;
    // small M: one slice, the dW pass writes dW and db itself
    expect(backwardDispatches(e, 37, [true, true, true])).toBe(2);
    // large M: partials and a reduction
    expect(backwardDispatches(e, 4000, [true, true, true])).toBe(3);
    expect(backwardDispatches(e, 4000, [false, true, true])).toBe(2);
    expect(backwardDispatches(e, 4000, [true, false, false])).toBe(1);
    expect(backwardDispatches(e, 37, [false, false, true])).toBe(1);
  });
});

describe('split-K plan', () => {
  test('slices hold at least the minimum rows, cover M and fit the binding limit', () => {
    for (const [m, o, cols] of [
      [20710, 280, 281],
      [1024 * 260, 8, 9],
      [19380, 280, 280],
      [255, 10, 10],
      [1, 1, 1],
    ]) {
      const { slices, rows: per } = linearSplit(m, o, cols, 2 ** 27);
      expect(slices * per).toBeGreaterThanOrEqual(m);
      expect((slices - 1) * per).toBeLessThan(m); // no empty slice
      if (slices > 1) expect(per).toBeGreaterThanOrEqual(LINEAR_MIN_SLICE_ROWS);
      expect(slices * o * cols * 4).toBeLessThanOrEqual(2 ** 27);
    }
    expect(linearSplit(20710, 280, 281, 2 ** 27).slices).toBeGreaterThan(1);
    // a wide result needs no slices for the workgroup target, but llvmpipe's loop cap bounds the
    // rows one invocation walks
    const wide = linearSplit(100_000, 3200, 3200, 2 ** 31);
    expect(wide.rows).toBeLessThanOrEqual(LINEAR_MAX_SLICE_ROWS);
    expect(wide.slices * wide.rows).toBeGreaterThanOrEqual(100_000);
    expect(linearSplit(100, 280, 281, 2 ** 27).slices).toBe(1);
  });

  test('a small binding limit caps the slices', () => {
    const o = 280;
    const cols = 281;
    // (M within 3 and 1 slices of LINEAR_MAX_SLICE_ROWS rows: that cap comes first)
    const split = linearSplit(90_000, o, cols, 3 * o * cols * 4 + 100);
    expect(split.slices).toBe(3);
    expect(linearSplit(30_000, o, cols, 100).slices).toBe(1);
  });
});

describe('large M: device vs the CPU kernels', () => {
  test('20,710 × 280 → 280 (relu, bias)', async () => {
    const c = mk([190, 109], 280, 280);
    const v = draw(c, 29);
    const got = await run(E.dev, c, 'relu', v);
    const host = await run(E.cpu, c, 'relu', v);
    compare(got, host, c, 'big');
  });

  test('1024·260 rows × 8 → 8 (tanh, bias)', async () => {
    const c = mk([1024, 260], 8, 8);
    const v = draw(c, 31);
    const got = await run(E.dev, c, 'tanh', v);
    const host = await run(E.cpu, c, 'tanh', v);
    compare(got, host, c, 'tall');
  });
});

test('no rows: empty output and zero weight gradients', async () => {
  for (const e of [E.dev, E.cpu]) {
    const x = e.zeros([0, 4]).requireGrad();
    const w = e.rand([3, 4]).requireGrad();
    const b = e.rand([3]).requireGrad();
    gradScope(e, () => {
      const y = linear(x, w, b, 'relu');
      expect(y.shape).toEqual([0, 3]);
      backward(y, e.zeros([0, 3]));
    });
    expect(x.grad!.shape).toEqual([0, 4]);
    expect(Array.from(await w.grad!.toArray())).toEqual(new Array(12).fill(0));
    expect(Array.from(await b.grad!.toArray())).toEqual([0, 0, 0]);
  }
});

test('only inputs that require a gradient get one', async () => {
  const e = E.dev;
  const x = e.rand([5, 4]);
  const w = e.rand([3, 4]).requireGrad();
  const b = e.rand([3]);
  gradScope(e, () => backward(sum(linear(x, w, b, 'relu'))));
  expect(x.grad).toBeNull();
  expect(b.grad).toBeNull();
  expect(w.grad!.shape).toEqual([3, 4]);
});

test('the backward pass keeps y alive after the caller disposes the output', async () => {
  const e = E.dev;
  const c = mk([6], 5, 4);
  const v = draw(c, 41);
  const x = e.tensor(v.x, [6, 5]).requireGrad();
  const w = e.tensor(v.w, [4, 5]).requireGrad();
  const b = e.tensor(v.b!, [4]).requireGrad();
  gradScope(e, () => {
    const y = linear(x, w, b, 'tanh');
    const loss = sum(y);
    y.dispose();
    e.full([6, 4], 9).dispose(); // a freed buffer of y's size, ready for reuse
    backward(loss);
  });
  const exp = reference(c, 'tanh', { ...v, dy: new Float64Array(24).fill(1) });
  expectClose(await x.grad!.toArray(), exp.dx, matmulTol(4), 'dx');
  expectClose(await w.grad!.toArray(), exp.dw, matmulTol(6), 'dW');
  expectClose(await b.grad!.toArray(), exp.db!, matmulTol(6), 'db');
});

test('bad inputs are reported', () => {
  const e = E.cpu;
  const x = e.zeros([4, 3]);
  const w = e.zeros([2, 3]);
  expect(() => linear(x, e.zeros([3]))).toThrow(/weight must be \[O, I\], got \[3\]/);
  expect(() => linear(x, e.zeros([2, 0]))).toThrow(/needs O ≥ 1 and I ≥ 1/);
  expect(() => linear(x, e.zeros([0, 3]))).toThrow(/needs O ≥ 1 and I ≥ 1/);
  expect(() => linear(e.zeros([4, 5]), w)).toThrow(/x \[4, 5\] must end in I = 3/);
  expect(() => linear(e.scalar(1), w)).toThrow(/must end in I = 3/);
  expect(() => linear(x, w, e.zeros([3]))).toThrow(/bias has shape \[3\], expected \[2\]/);
  expect(() => linear(x, w, e.zeros([1, 2]))).toThrow(/bias has shape \[1, 2\]/);
  expect(() => linear(x, w, null, 'gelu' as LinearActivation)).toThrow(/activation must be/);
  expect(() => linear(x, E.dev.zeros([2, 3]))).toThrow(/weight belongs to another engine/);
  expect(() => linear(x, w, e.tensor([1, 2], [2], 'int32'))).toThrow(/bias must be float32/);
  const gone = e.zeros([2, 3]);
  gone.dispose();
  expect(() => linear(x, gone)).toThrow(/after dispose/);
});
