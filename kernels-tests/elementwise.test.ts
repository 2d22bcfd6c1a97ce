import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import { stridesOf, broadcastShapes, numel } from '../src/engine/shape.js';
import type { Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import * as ops from '../src/ops/index.js';
import {
  BINARY,
  binary64,
  binaryGrad64,
  UNARY,
  unary64,
  unaryGrad64,
} from '../src/ops/elementwise.js';
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

interface UnaryCase {
  name: string;
  code: number;
  op: (x: Tensor) => Tensor;
  f0?: number;
  f1?: number;
  lo: number;
  hi: number;
  tol: Tolerance;
  /** extreme inputs the op must handle (finite results, reference agreement) */
  extremes: number[];
}

const EXTREMES = [0, 100, -100, 1e-30, -1e-30, 1e-7, -1e-7, 3, -3];
const POSITIVE = [1e-30, 1e-7, 1, 100, 1e6];
const unaryCases: UnaryCase[] = [
  { name: 'neg', code: UNARY.neg, op: ops.neg, lo: -3, hi: 3, tol: TOL.exact, extremes: EXTREMES },
  {
    name: 'exp',
    code: UNARY.exp,
    op: ops.exp,
    lo: -10,
    hi: 10,
    tol: TOL.exp,
    extremes: [0, -100, 1e-30, -1e-30, 20, -20],
  },
  {
    name: 'log',
    code: UNARY.log,
    op: ops.log,
    lo: 0.01,
    hi: 10,
    tol: TOL.log,
    extremes: [1, 1e-6, 1e6],
  },
  {
    name: 'sigmoid',
    code: UNARY.sigmoid,
    op: ops.sigmoid,
    lo: -12,
    hi: 12,
    tol: TOL.transcendental,
    extremes: EXTREMES,
  },
  {
    name: 'softplus',
    code: UNARY.softplus,
    op: ops.softplus,
    lo: -20,
    hi: 20,
    tol: TOL.transcendental,
    extremes: EXTREMES,
  },
  {
    name: 'tanh',
    code: UNARY.tanh,
    op: ops.tanh,
    lo: -6,
    hi: 6,
    tol: TOL.transcendental,
    extremes: EXTREMES,
  },
  {
    name: 'relu',
    code: UNARY.relu,
    op: ops.relu,
    lo: -2,
    hi: 2,
    tol: TOL.exact,
    extremes: EXTREMES,
  },
  {
    name: 'clamp',
    code: UNARY.clamp,
    op: (x) => ops.clamp(x, -0.5, 0.75),
    f0: -0.5,
    f1: 0.75,
    lo: -2,
    hi: 2,
    tol: TOL.exact,
    extremes: [...EXTREMES, -0.5, 0.75],
  },
  {
    name: 'powScalar',
    code: UNARY.powScalar,
    op: (x) => ops.powScalar(x, 2.5),
    f0: 2.5,
    lo: 0,
    hi: 4,
    tol: TOL.exp,
    extremes: [0, 1e-30, 1e-7, 1, 100],
  },
  {
    name: 'powScalar(p=1)',
    code: UNARY.powScalar,
    op: (x) => ops.powScalar(x, 1),
    f0: 1,
    lo: 0,
    hi: 4,
    tol: TOL.exp,
    extremes: [0, 1e-7, 1],
  },
  {
    name: 'powScalar(p=0.5)',
    code: UNARY.powScalar,
    op: (x) => ops.powScalar(x, 0.5),
    f0: 0.5,
    lo: 0.01,
    hi: 4,
    tol: TOL.exp,
    extremes: POSITIVE,
  },
  { name: 'abs', code: UNARY.abs, op: ops.abs, lo: -3, hi: 3, tol: TOL.exact, extremes: EXTREMES },
  {
    name: 'sqrt',
    code: UNARY.sqrt,
    op: ops.sqrt,
    lo: 0.01,
    hi: 9,
    tol: TOL.transcendental,
    extremes: POSITIVE,
  },
  {
    name: 'square',
    code: UNARY.square,
    op: ops.square,
    lo: -3,
    hi: 3,
    tol: TOL.exact,
    extremes: EXTREMES,
  },
  {
    name: 'affine',
    code: UNARY.affine,
    op: (x) => ops.affine(x, -1.5, 0.25),
    f0: -1.5,
    f1: 0.25,
    lo: -3,
    hi: 3,
    tol: TOL.exact,
    extremes: EXTREMES,
  },
  {
    name: 'log1p',
    code: UNARY.log1p,
    op: ops.log1p,
    lo: -0.9,
    hi: 10,
    tol: TOL.log,
    // tiny |x|, where log(1 + x) in float32 would lose every digit
    extremes: [0, 1e-30, -1e-30, 1e-7, -1e-7, 1e-3, -0.5, 1e6],
  },
];

/** y = Σ w ⊙ op(x): its gradient w.r.t. x is w ⊙ op′(x). */
function weightedLoss(
  e: Engine,
  op: (x: Tensor) => Tensor,
  x: Float64Array,
  w: Float64Array,
  shape: number[],
) {
  return gradScope(e, () => {
    const xt = e.tensor(x, shape).requireGrad();
    const y = op(xt);
    const loss = ops.sum(ops.mul(y, e.tensor(w, shape)));
    backward(loss);
    return { y, loss, grad: xt.grad! };
  });
}

describe.each(unaryCases)('unary $name', (c) => {
  const shape = [3, 67]; // 201 elements: not a multiple of the workgroup size
  test('forward and backward match the float64 reference', async () => {
    const r = rng(11);
    const x = randArray(r, numel(shape), c.lo, c.hi);
    const w = randArray(r, numel(shape));
    const { y, grad } = weightedLoss(E.dev, c.op, x, w, shape);
    const f0 = c.f0 ?? 0;
    const f1 = c.f1 ?? 0;
    expectClose(
      await y.toArray(),
      x.map((v) => unary64(c.code, v, f0, f1)),
      c.tol,
      `${c.name} forward`,
    );
    expectClose(
      await grad.toArray(),
      x.map((v, i) => w[i] * unaryGrad64(c.code, v, f0, f1)),
      c.tol,
      `${c.name} backward`,
    );
  });

  test('extreme inputs stay finite and agree with the reference', async () => {
    const x = Float64Array.from(c.extremes);
    const w = new Float64Array(x.length).fill(1);
    const { y, grad } = weightedLoss(E.dev, c.op, x, w, [x.length]);
    const f0 = c.f0 ?? 0;
    const f1 = c.f1 ?? 0;
    const yv = await y.toArray();
    const gv = await grad.toArray();
    const refY = x.map((v) => unary64(c.code, Math.fround(v), f0, f1));
    const refG = x.map((v) => unaryGrad64(c.code, Math.fround(v), f0, f1));
    for (let i = 0; i < x.length; i++) {
      // f32 overflows where f64 does not (exp(20)·… stays finite; exp(100) is excluded above)
      expect(Number.isFinite(yv[i])).toBe(true);
      expect(Number.isFinite(gv[i])).toBe(true);
    }
    expectClose(
      yv,
      refY,
      { ...c.tol, atol: Math.max(c.tol.atol, 1e-6) },
      `${c.name} extreme forward`,
    );
    expectClose(
      gv,
      refG,
      { ...c.tol, atol: Math.max(c.tol.atol, 1e-6) },
      `${c.name} extreme backward`,
    );
  });

  test('backward rule matches finite differences (CPU backend)', () => {
    const r = rng(5);
    const x = randArray(r, 12, c.lo, c.hi).map((v) =>
      c.name === 'relu' || c.name === 'abs' ? v + Math.sign(v) * 0.05 : v,
    );
    const w = randArray(r, 12);
    if (c.name === 'clamp')
      x.forEach(
        (v, i) => (x[i] = Math.abs(v + 0.5) < 0.01 || Math.abs(v - 0.75) < 0.01 ? v + 0.05 : v),
      );
    const { grad } = weightedLoss(E.cpu, c.op, x, w, [12]);
    const f = (v: Float64Array) =>
      E.cpu.tidy(
        () => cpuValues(ops.sum(ops.mul(c.op(E.cpu.tensor(v, [12])), E.cpu.tensor(w, [12]))))[0],
      );
    expectClose(cpuValues(grad), finiteDiff(f, x), TOL.finiteDiff, `${c.name} finite differences`);
  });
});

/** Reference broadcast binary op computed index by index (independent of the kernel's strides). */
function broadcastRef(code: number, a: Float64Array, as: number[], b: Float64Array, bs: number[]) {
  const shape = broadcastShapes(as, bs);
  const n = numel(shape);
  const out = new Float64Array(n);
  const ga = new Float64Array(a.length);
  const gb = new Float64Array(b.length);
  const os = stridesOf(shape);
  const index = (i: number, s: number[]) => {
    const st = stridesOf(s);
    let off = 0;
    for (let d = 0; d < shape.length; d++) {
      const coord = Math.floor(i / os[d]) % shape[d];
      const j = d - (shape.length - s.length);
      if (j >= 0 && s[j] !== 1) off += coord * st[j];
    }
    return off;
  };
  for (let i = 0; i < n; i++) {
    const ia = index(i, as);
    const ib = index(i, bs);
    out[i] = binary64(code, a[ia], b[ib]);
    const [da, db] = binaryGrad64(code, a[ia], b[ib]);
    ga[ia] += da;
    gb[ib] += db;
  }
  return { out, ga, gb, shape };
}

const binaryOps: [string, number, (a: Tensor, b: Tensor) => Tensor, Tolerance][] = [
  ['add', BINARY.add, ops.add, TOL.exact],
  ['sub', BINARY.sub, ops.sub, TOL.exact],
  ['mul', BINARY.mul, ops.mul, TOL.exact],
  ['div', BINARY.div, ops.div, TOL.exact],
  ['minimum', BINARY.min, ops.minimum, TOL.exact],
  ['maximum', BINARY.max, ops.maximum, TOL.exact],
  ['pow', BINARY.pow, ops.pow, TOL.exp],
];

const shapePairs: [number[], number[]][] = [
  [
    [2, 3],
    [2, 3],
  ],
  [[2, 3], [3]],
  [
    [4, 1, 5],
    [3, 1],
  ],
  [[1], [7]],
  [[], [2, 2]],
  [[197], [1]],
  [[2, 0, 3], [3]],
  [
    [1, 2, 1, 3, 1, 2],
    [2, 1, 3, 1, 1],
  ],
];

test('log1p keeps its relative accuracy for tiny |x|, where log(1 + x) would not', async () => {
  // in float32, 1 + 1e-7 rounds to 1 + 1.19e-7: the naive form is 19 % off there
  const x = Float64Array.from([1e-30, -1e-30, 1e-7, -1e-7, 3e-6, -3e-6, 1e-4]);
  const y = await ops.log1p(E.dev.tensor(x, [x.length])).toArray();
  y.forEach((v, i) => {
    const want = Math.log1p(Math.fround(x[i]));
    expect(Math.abs(v - want)).toBeLessThanOrEqual(1e-6 * Math.abs(want));
  });
});

describe.each(binaryOps)('binary %s', (name, code, op, tol) => {
  test.each(shapePairs)(
    'shapes %j and %j: forward and gradients of both inputs',
    async (as, bs) => {
      const r = rng(3);
      const positive = name === 'pow' || name === 'div';
      const a = randArray(r, numel(as), positive ? 0.1 : -2, 2);
      const b = randArray(r, numel(bs), positive ? 0.5 : -2, 2);
      if (name === 'minimum' || name === 'maximum') a[0] = b.length > 0 ? b[0] : a[0]; // a tie
      const ref = broadcastRef(code, a, as, b, bs);
      const at = E.dev.tensor(a, as).requireGrad();
      const bt = E.dev.tensor(b, bs).requireGrad();
      const y = gradScope(E.dev, () => {
        const y = op(at, bt);
        expect(y.shape).toEqual(ref.shape);
        backward(ops.sum(y));
        return y;
      });
      expectClose(await y.toArray(), ref.out, tol, `${name} forward`);
      const sumTol = { atol: tol.atol + TOL.sum.atol, rtol: tol.rtol + TOL.sum.rtol };
      expectClose(await at.grad!.toArray(), ref.ga, sumTol, `${name} grad a`);
      expectClose(await bt.grad!.toArray(), ref.gb, sumTol, `${name} grad b`);
    },
  );

  test('backward rule matches finite differences (CPU backend)', () => {
    const r = rng(8);
    const as = [3, 4];
    const bs = [4];
    const a = randArray(r, 12, 0.2, 2);
    const b = randArray(r, 4, 0.5, 2);
    const w = randArray(r, 12);
    const e = E.cpu;
    const f = (av: Float64Array, bv: Float64Array) =>
      e.tidy(
        () =>
          cpuValues(ops.sum(ops.mul(op(e.tensor(av, as), e.tensor(bv, bs)), e.tensor(w, as))))[0],
      );
    const at = e.tensor(a, as).requireGrad();
    const bt = e.tensor(b, bs).requireGrad();
    gradScope(e, () => backward(ops.sum(ops.mul(op(at, bt), e.tensor(w, as)))));
    expectClose(
      cpuValues(at.grad!),
      finiteDiff((v) => f(v, b), a),
      TOL.finiteDiff,
      `${name} fd a`,
    );
    expectClose(
      cpuValues(bt.grad!),
      finiteDiff((v) => f(a, v), b),
      TOL.finiteDiff,
      `${name} fd b`,
    );
  });
});

test('device and CPU agree on random shapes and compositions', async () => {
  const r = rng(21);
  for (let trial = 0; trial < 6; trial++) {
    const rank = 1 + Math.floor(r.uniform() * 4);
    const shape = Array.from({ length: rank }, () => 1 + Math.floor(r.uniform() * 9));
    const x = randArray(r, numel(shape), -3, 3);
    const run = (e: Engine) =>
      gradScope(e, () => {
        const xt = e.tensor(x, shape).requireGrad();
        const y = ops.mean(ops.mul(ops.tanh(ops.softplus(xt)), ops.sigmoid(ops.neg(xt))));
        backward(y);
        return { y, g: xt.grad! };
      });
    const d = run(E.dev);
    const c = run(E.cpu);
    expectClose(
      await d.y.toArray(),
      await c.y.toArray(),
      TOL.transcendental,
      `trial ${trial} value`,
    );
    expectClose(
      await d.g.toArray(),
      await c.g.toArray(),
      { atol: 1e-6, rtol: 1e-5 },
      `trial ${trial} gradient`,
    );
  }
});
