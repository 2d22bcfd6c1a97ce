import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import { dagPenalty } from '../src/ops/dag-penalty.js';
import { mulScalar } from '../src/ops/elementwise.js';
import { expectClose, finiteDiff, randArray, rng, useEngines } from './helpers.js';
import { TOL } from './tolerances.js';

const E = useEngines();

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** The spec's formulas written out plainly (float64). */
function reference(
  l: Float64Array,
  c: number,
  mode: 'triangular' | 'notears',
  tau: number,
  coef: number[],
) {
  const P = Array.from(l, (x) => sig(x / tau));
  const mask = (i: number, j: number) => (mode === 'notears' ? (i !== j ? 1 : 0) : i < j ? 1 : 0);
  const A = P.map((p, e) => p * mask(Math.floor(e / c), e % c));
  const sumA = A.reduce((s, a) => s + a, 0);
  const conf = P.reduce((s, p) => s + p * (1 - p), 0);
  const l1 = l.reduce((s, x) => s + Math.abs(x), 0);
  if (mode === 'triangular') return 0.01 * sumA + 0.001 * conf + 0.0002 * l1;
  let group = 0;
  for (let j = 0; j < c; j++) {
    let s = 0;
    for (let i = 0; i < c; i++) s += A[i * c + j] ** 2;
    group += Math.sqrt(s + 1e-8);
  }
  return 1e-4 * l1 + coef[0] * sumA + coef[1] * group;
}

describe.each([
  ['triangular', 5, [0, 0]],
  ['triangular', 13, [0, 0]],
  ['notears', 5, [0.005, 0.01]],
  ['notears', 13, [0.005, 0.01]],
  ['notears', 64, [0.005, 0.01]],
  ['notears', 7, [0, 0]],
] as const)('dagPenalty %s C=%i coef=%j', (mode, c, coef) => {
  test('value and gradient match the plain formulas and finite differences', async () => {
    // keep logits away from |L|'s kink at 0, where central differences are meaningless
    const l = randArray(rng(c), c * c, -2, 2).map((x) => (Math.abs(x) < 0.05 ? x + 0.1 : x));
    const want = reference(l, c, mode, 0.5, [...coef]);
    // finite differences cost O(C⁴) here: at C = 64 the CPU kernel (checked by FD at small C)
    // is the reference
    const cpuGrad = async () => {
      const lt = E.cpu.tensor(l, [c, c]).requireGrad();
      return gradScope(E.cpu, () =>
        backward(dagPenalty(lt, E.cpu.tensor([...coef]), { mode })).get(lt)!,
      ).toArray();
    };
    const fd =
      c <= 13 ? finiteDiff((x) => reference(x, c, mode, 0.5, [...coef]), l) : await cpuGrad();
    for (const e of [E.dev, E.cpu]) {
      const lt = e.tensor(l, [c, c]).requireGrad();
      const { v, g } = gradScope(e, () => {
        const v = dagPenalty(lt, e.tensor([...coef]), { mode, temperature: 0.5 });
        return { v, g: backward(v).get(lt)! };
      });
      expectClose(await v.toArray(), [want], TOL.sum, `${e.adapterName} value`);
      expectClose(
        await g.toArray(),
        fd,
        e.isGpu ? TOL.sum : TOL.finiteDiff,
        `${e.adapterName} grad`,
      );
    }
  });
});

test('scale multiplies the fixed weights (the loss folds dagWeight in)', async () => {
  const e = E.dev;
  const l = e.tensor(randArray(rng(2), 25, -2, 2), [5, 5]);
  const coef = e.tensor([0, 0]);
  const one = await dagPenalty(l, coef).item();
  const scaled = await dagPenalty(l, coef, { scale: 0.008 }).item();
  expectClose([scaled], [0.008 * one], { atol: 1e-9, rtol: 1e-5 }, 'scaled');
});

test('base is added to the value and receives dy as its gradient', async () => {
  for (const e of [E.dev, E.cpu]) {
    const l = e.tensor(randArray(rng(3), 25, -2, 2), [5, 5]).requireGrad();
    const coef = e.tensor([0, 0]);
    const alone = await dagPenalty(l, coef).item();
    const base = e.tensor([0.37]).requireGrad();
    await gradScope(e, async () => {
      const v = dagPenalty(l, coef, { base });
      expectClose([await v.item()], [alone + 0.37], TOL.sum, `${e.adapterName} value`);
      const grads = backward(mulScalar(v, 3));
      expectClose(await grads.get(base)!.toArray(), [3], TOL.exact, `${e.adapterName} d base`);
      const withoutBase = backward(mulScalar(dagPenalty(l, coef), 3)).get(l)!;
      expectClose(
        await grads.get(l)!.toArray(),
        await withoutBase.toArray(),
        TOL.exact,
        `${e.adapterName} d logits`,
      );
    });
  }
});

test('shape errors name the problem', () => {
  const e = E.cpu;
  expect(() => dagPenalty(e.zeros([2, 3]), e.zeros([2]))).toThrow(/logits must be \[C, C\]/);
  expect(() => dagPenalty(e.zeros([2, 2]), e.zeros([3]))).toThrow(/coef must hold 2 values/);
  expect(() => dagPenalty(e.zeros([2, 2]), e.zeros([2]), { base: e.zeros([2]) })).toThrow(
    /base must hold 1 value/,
  );
});
