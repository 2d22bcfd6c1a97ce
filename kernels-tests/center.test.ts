import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import type { Engine } from '../src/engine/engine.js';
import { centerRows } from '../src/ops/center.js';
import { mul, sub, sum } from '../src/ops/index.js';
import { cpuValues, expectClose, finiteDiff, randArray, rng, useEngines } from './helpers.js';
import { TOL } from './tolerances.js';

const E = useEngines();

interface Case {
  A: number;
  T: number;
  C: number;
}

/** x in [−2, 2); weights like the model's: a mask (some cells 0) over each row's count. */
function inputs({ A, T, C }: Case, seed: number) {
  const r = rng(seed);
  const x = randArray(r, A * T * C, -2, 2);
  const w = new Float64Array(A * T);
  for (let a = 0; a < A; a++) {
    const mask = Array.from({ length: T }, (_, t) => (t === 0 || r.uniform() > 0.2 ? 1 : 0));
    const n = mask.reduce((s: number, v) => s + v, 0);
    mask.forEach((v, t) => (w[a * T + t] = v / n));
  }
  return { x, w };
}

/** float64 reference from the definition: each (a, c) minus its weighted mean over t. */
function reference({ A, T, C }: Case, x: Float64Array, w: Float64Array): Float64Array {
  const y = new Float64Array(x.length);
  for (let a = 0; a < A; a++)
    for (let c = 0; c < C; c++) {
      let m = 0;
      for (let t = 0; t < T; t++) m += w[a * T + t] * x[(a * T + t) * C + c];
      for (let t = 0; t < T; t++) y[(a * T + t) * C + c] = x[(a * T + t) * C + c] - m;
    }
  return y;
}

/** float64 gradient: ∂/∂x_s of Σ_t dy_t·(x_t − Σ_u w_u x_u) = dy_s − w_s·Σ_t dy_t. */
function gradReference({ A, T, C }: Case, dy: Float64Array, w: Float64Array): Float64Array {
  const dx = new Float64Array(dy.length);
  for (let a = 0; a < A; a++)
    for (let c = 0; c < C; c++) {
      let total = 0;
      for (let t = 0; t < T; t++) total += dy[(a * T + t) * C + c];
      for (let t = 0; t < T; t++)
        dx[(a * T + t) * C + c] = dy[(a * T + t) * C + c] - w[a * T + t] * total;
    }
  return dx;
}

const tensors = (e: Engine, { A, T, C }: Case, x: Float64Array, w: Float64Array) =>
  [e.tensor(x, [A, T, C]), e.tensor(w, [A, T, 1])] as const;

const CASES: Case[] = [
  { A: 1, T: 1, C: 1 },
  { A: 2, T: 5, C: 3 },
  { A: 3, T: 52, C: 1 },
  { A: 20, T: 96, C: 4 },
  // 190 × 13 = 2,470 (a, c) pairs: 39 workgroups of 64, the last one partly idle
  { A: 190, T: 109, C: 13 },
];
const label = (c: Case) => `A${c.A} T${c.T} C${c.C}`;

describe('centerRows', () => {
  test.each(CASES.map((c) => [label(c), c] as const))(
    '%s: forward and backward match the float64 reference',
    async (_, c) => {
      const e = E.dev;
      const { x, w } = inputs(c, c.A * 7 + c.T);
      const dyv = randArray(rng(c.C + 3), x.length);
      const [xt, wt] = tensors(e, c, x, w);
      xt.requireGrad();
      const { y, g } = gradScope(e, () => {
        const y = centerRows(xt, wt);
        return { y, g: backward(y, e.tensor(dyv, [c.A, c.T, c.C])).get(xt)! };
      });
      expectClose(await y.toArray(), reference(c, x, w), TOL.sum, `${label(c)} y`);
      expectClose(await g.toArray(), gradReference(c, dyv, w), TOL.sum, `${label(c)} dx`);
    },
  );

  test('equals the unfused x − Σ_t w·x within summation rounding', async () => {
    const c: Case = { A: 6, T: 40, C: 5 };
    const { x, w } = inputs(c, 21);
    const [xt, wt] = tensors(E.dev, c, x, w);
    const [fused, unfused] = await Promise.all(
      [centerRows(xt, wt), sub(xt, sum(mul(xt, wt), 1, true))].map((t) => t.toArray()),
    );
    expectClose(fused, unfused, TOL.sum, 'fused vs unfused');
  });

  test('matches finite differences on the CPU backend', () => {
    const e = E.cpu;
    const c: Case = { A: 2, T: 6, C: 3 };
    const { x, w } = inputs(c, 31);
    const weights = randArray(rng(32), x.length);
    const shape = [c.A, c.T, c.C];
    const loss = (v: Float64Array) =>
      e.tidy(() => {
        const [xt, wt] = tensors(e, c, v, w);
        return cpuValues(sum(mul(centerRows(xt, wt), e.tensor(weights, shape))))[0];
      });
    const [xt, wt] = tensors(e, c, x, w);
    xt.requireGrad();
    gradScope(e, () => backward(sum(mul(centerRows(xt, wt), e.tensor(weights, shape)))));
    expectClose(cpuValues(xt.grad!), finiteDiff(loss, x), TOL.finiteDiff, 'fd x');
  });

  test('one dispatch forward, one backward; a recorded step replays them', async () => {
    const e = E.dev;
    const c: Case = { A: 4, T: 30, C: 3 };
    const { x, w } = inputs(c, 41);
    const [xt, wt] = tensors(e, c, x, w);
    xt.requireGrad();
    const dyv = randArray(rng(42), x.length);
    const dy = e.tensor(dyv, [c.A, c.T, c.C]);
    const program = e.record(() =>
      gradScope(e, () => {
        const y = centerRows(xt, wt);
        return { y, g: backward(y, dy).get(xt)! };
      }),
    );
    expect(program.kernelCounts()).toEqual({ center_rows: 1, center_rows_grad: 1 });
    program.run();
    expectClose(await program.outputs.y.toArray(), reference(c, x, w), TOL.sum, 'y');
    expectClose(await program.outputs.g.toArray(), gradReference(c, dyv, w), TOL.sum, 'dx');
    program.dispose();
  });

  test('wrong shapes, dtypes and a weight that asks for a gradient are refused', () => {
    const e = E.cpu;
    const x = e.zeros([2, 3, 4]);
    expect(() => centerRows(x, e.zeros([2, 3, 4]))).toThrow(
      /centerRows: x \[2, 3, 4\] and w \[2, 3, 4\]: w must be \[A, T, 1\]/,
    );
    expect(() => centerRows(e.zeros([6, 4]), e.zeros([6, 1]))).toThrow(/must both have rank 3/);
    expect(() => centerRows(x, e.zeros([2, 3, 1]).requireGrad())).toThrow(/w is data/);
    expect(() => centerRows(x, e.tensor([1, 1, 1, 1, 1, 1], [2, 3, 1], 'int32'))).toThrow(
      /must be float32/,
    );
  });
});
