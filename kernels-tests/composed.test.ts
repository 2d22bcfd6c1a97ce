/**
 * The benchmark's unfused comparators (bench/composed.ts) compute what the fused ops compute:
 * values and every gradient agree on the float64 CPU backend (to rounding) and on the device.
 * Each check runs both versions on the same engine from the same f32-rounded inputs.
 */
import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import type { Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import { dagPenalty, type DagPenaltyOptions } from '../src/ops/dag-penalty.js';
import { mul } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/reduce.js';
import { expm, notearsH } from '../src/ops/expm.js';
import { gruSequence } from '../src/ops/gru.js';
import { mediaTransform, type MediaTransformOptions } from '../src/ops/media-transform.js';
import {
  dagPenaltyComposed,
  expmComposed,
  expmSquarings,
  gruSequenceComposed,
  mediaTransformComposed,
  notearsHComposed,
} from '../bench/composed.js';
import { expectClose, randArray, rng, useEngines, type Tolerance } from './helpers.js';
import { TOL } from './tolerances.js';

const E = useEngines();

const f32 = (a: ArrayLike<number>) => Float64Array.from(a, Math.fround);

/** An input: values, shape, and whether it takes a gradient. */
type Input = [Float64Array, number[], boolean];

interface Result {
  y: Float64Array;
  grads: Float64Array[];
}

/**
 * Runs `op` over fresh tensors of `inputs` on `e`, then backward of Σ w∘y (w = seed values in
 * [−1, 1], fixed per call) and reads y and the gradients of the inputs that take one.
 */
async function run(e: Engine, inputs: Input[], op: (...xs: Tensor[]) => Tensor): Promise<Result> {
  const xs = inputs.map(([v, s, g]) => e.tensor(v, s).requireGrad(g));
  const yv = await gradScope(e, async () => {
    const y = op(...xs);
    const yv = await y.toArray();
    const w = f32(randArray(rng(77), y.size, -1, 1));
    backward(sum(mul(y, e.tensor(w, y.shape))));
    return yv;
  });
  const grads: Float64Array[] = [];
  // an input the output does not reach (α when T = 1) gets no gradient: it is zero
  for (const [k, x] of xs.entries())
    if (inputs[k][2]) grads.push(x.grad ? await x.grad.toArray() : new Float64Array(x.size));
  xs.forEach((x) => x.dispose());
  return { y: yv, grads };
}

/** Fused and composed agree on the CPU reference (cpuTol) and on the device (devTol). */
async function agree(
  inputs: Input[],
  fused: (...xs: Tensor[]) => Tensor,
  composed: (...xs: Tensor[]) => Tensor,
  cpuTol: Tolerance,
  devTol: Tolerance,
  label: string,
): Promise<void> {
  for (const [e, tol] of [
    [E.cpu, cpuTol],
    [E.dev, devTol],
  ] as const) {
    const a = await run(e, inputs, fused);
    const b = await run(e, inputs, composed);
    const where = `${label} on ${e.adapterName}`;
    expectClose(b.y, a.y, tol, `${where}: value`);
    expect(b.grads.length).toBe(a.grads.length);
    a.grads.forEach((g, k) => expectClose(b.grads[k], g, tol, `${where}: gradient ${k}`));
  }
}

// f64 vs f64: the two differ only in summation order (and 1e-55-size Hill tails) → 1e-9.
const F64: Tolerance = { atol: 1e-9, rtol: 1e-9 };

describe('mediaTransformComposed', () => {
  function inputs(seed: number, R: number, T: number, C: number, zeros = false): Input[] {
    const r = rng(seed);
    const x = f32(randArray(r, R * T * C, 0, 2));
    if (zeros) for (let i = 0; i < x.length; i += 4) x[i] = 0; // zero weeks (adstock may hit 0)
    return [
      [x, [R, T, C], true],
      [f32(randArray(r, C, -2, 1)), [C], true],
      [f32(randArray(r, C, 2.2, 4.8)), [C], true],
      [f32(randArray(r, C, -1, 0.4)), [C], true],
      [f32(randArray(r, C * C, -1, 1)), [C, C], true],
      [f32(randArray(r, C, -1, 1)), [C], true],
    ];
  }
  // device: the fused op's own budget against f64 (TOL.loss on gradients) covers both versions
  const check = (inp: Input[], o: MediaTransformOptions, label: string) =>
    agree(
      inp,
      (x, a, s, g, l, m) => mediaTransform(x, a, s, g, l, m, o),
      (x, a, s, g, l, m) => mediaTransformComposed(x, a, s, g, l, m, o),
      F64,
      TOL.loss,
      label,
    );
  test('triangular mask', () => check(inputs(1, 3, 12, 4), {}, 'tri'));
  test('notears mask, τ 0.8, zero weeks', () =>
    check(inputs(2, 2, 9, 5, true), { mask: 'notears', temperature: 0.8 }, 'notears'));
  test('T = 1', () => check(inputs(3, 2, 1, 3), {}, 'T1'));
});

describe('gruSequenceComposed', () => {
  function inputs(seed: number, R: number, T: number, I: number, H: number): Input[] {
    const r = rng(seed);
    const s = 1 / Math.sqrt(H); // PyTorch's U(−1/√H, 1/√H)
    return [
      [f32(randArray(r, R * T * I)), [R, T, I], true],
      [f32(randArray(r, H, -0.5, 0.5)), [H], true],
      [f32(randArray(r, 3 * H * I, -s, s)), [3 * H, I], true],
      [f32(randArray(r, 3 * H * H, -s, s)), [3 * H, H], true],
      [f32(randArray(r, 3 * H, -s, s)), [3 * H], true],
      [f32(randArray(r, 3 * H, -s, s)), [3 * H], true],
    ];
  }
  // device: the GRU suite's budgets (kernels-tests/gru.test.ts), gradients scaled by √(R·T·H)
  test.each([
    [3, 6, 5, 8],
    [2, 5, 7, 70],
    [2, 1, 3, 4],
  ])('R %i T %i I %i H %i', (R, T, I, H) =>
    agree(
      inputs(R * T + H, R, T, I, H),
      (u, h0, wih, whh, bih, bhh) => gruSequence(u, h0, wih, whh, bih, bhh),
      gruSequenceComposed,
      F64,
      { atol: 2e-5 * Math.sqrt(R * T * Math.max(H, I)), rtol: 1e-5 },
      `gru ${R}×${T}×${I}→${H}`,
    ),
  );
});

describe('expmComposed and notearsHComposed', () => {
  // device: the expm suite's bound 2e-7·(1 + ‖A‖₁)·√d, with ‖A‖₁ ≤ 3 here, plus 1e-5 relative
  const devTol = (d: number): Tolerance => ({ atol: 8e-7 * Math.sqrt(d), rtol: 1e-5 });

  test.each([
    [1, 0.3],
    [5, 0.5],
    [13, 0.25],
  ])('expm, d %i, entries up to %f (squarings from the host)', async (d, amp) => {
    const a = f32(randArray(rng(d), d * d, -amp, amp));
    const s = expmSquarings(a, d);
    if (d > 1) expect(s).toBeGreaterThan(0); // the squaring loop is exercised
    for (const [e, tol] of [
      [E.cpu, F64],
      [E.dev, devTol(d)],
    ] as const) {
      const want = await expm(e.tensor(a, [d, d])).toArray();
      const got = await expmComposed(e.tensor(a, [d, d]), s).toArray();
      expectClose(got, want, tol, `expm d ${d} on ${e.adapterName}`);
    }
  });

  test('expmSquarings is the least s with ‖A/2^s‖₁ ≤ 1', () => {
    expect(expmSquarings([0.5, 0.5, 0.5, 0.5], 2)).toBe(0); // column sums 1
    expect(expmSquarings([3, 0, 0, 1], 2)).toBe(2); // 3 → 1.5 → 0.75
    expect(expmSquarings([1, 0, 1, 0], 2)).toBe(1); // column 0 sums 2
  });

  test.each([4, 13])('notearsH, d %i', (d) => {
    const w = f32(randArray(rng(10 + d), d * d, -0.6, 0.6));
    const s = expmSquarings(
      w.map((v) => v * v),
      d,
    );
    return agree(
      [[w, [d, d], true]],
      notearsH,
      (x) => notearsHComposed(x, s),
      F64,
      devTol(d),
      `notearsH d ${d}`,
    );
  });
});

describe('dagPenaltyComposed', () => {
  const cases: [string, DagPenaltyOptions, number[]][] = [
    ['triangular', {}, [0, 0]],
    ['triangular, coef and scale', { scale: 2, temperature: 0.7 }, [0.3, 0.2]],
    ['notears', { mode: 'notears' }, [0.005, 0.01]],
  ];
  test.each(cases)('%s', (label, o, coef) => {
    const c = 6;
    const l = f32(randArray(rng(3), c * c, -2, 2));
    return agree(
      [
        [l, [c, c], true],
        [Float64Array.from(coef), [2], false],
      ],
      (x, k) => dagPenalty(x, k, o),
      (x, k) => dagPenaltyComposed(x, k, o),
      F64,
      TOL.sum,
      label,
    );
  });
});
