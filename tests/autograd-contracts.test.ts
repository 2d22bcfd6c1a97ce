/**
 * The autograd contracts: the tape records only inside a gradient scope, backward refuses to run
 * outside one, a scope drops what backward did not consume, and an op's recorder takes exactly the
 * saved tensors its rule declares.
 */
import { backward } from '../src/autograd/backward.js';
import { defineGradient } from '../src/autograd/registry.js';
import { gradScope, noGrad, tapeOf } from '../src/autograd/tape.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { exp, mul } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/reduce.js';

let e: Engine;
beforeAll(async () => {
  e = await createEngine({ adapter: 'cpu' });
});
afterAll(() => e.destroy());

test('outside a gradient scope nothing is recorded, and backward refuses to run', () => {
  const x = e.tensor([1, 2, 3], [3]).requireGrad();
  const y = sum(exp(x));
  expect(tapeOf(e).entries).toHaveLength(0);
  expect(y.requiresGrad).toBe(false);
  expect(() => backward(y)).toThrow(/outside a gradient scope/);
});

test('inside a scope the ops are recorded and backward gives the gradient', async () => {
  const x = e.tensor([0, 1, 2], [3]).requireGrad();
  const g = gradScope(e, () => {
    const y = sum(exp(x));
    expect(tapeOf(e).entries.length).toBe(2);
    return backward(y).get(x)!;
  });
  const got = await g.toArray();
  [1, Math.exp(1), Math.exp(2)].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
  expect(tapeOf(e).entries).toHaveLength(0);
});

test('noGrad pauses recording inside a scope', () => {
  const x = e.tensor([1], [1]).requireGrad();
  gradScope(e, () => {
    noGrad(e, () => exp(x));
    expect(tapeOf(e).entries).toHaveLength(0);
    exp(x);
    expect(tapeOf(e).entries).toHaveLength(1);
  });
});

test('closing the outermost scope drops entries backward did not consume, saved tensors too', async () => {
  const x = e.tensor([1, 2], [2]).requireGrad();
  const before = e.stats().liveBuffers;
  const inner = gradScope(e, () => {
    const y = mul(x, x);
    gradScope(e, () => exp(y));
    // an inner scope's close leaves the outer scope's entries alone
    expect(tapeOf(e).entries).toHaveLength(2);
    return y;
  });
  expect(tapeOf(e).entries).toHaveLength(0);
  inner.dispose();
  expect(e.stats().liveBuffers).toBeLessThanOrEqual(before + 1);
});

test('an async scope stays open until its promise settles', async () => {
  const x = e.tensor([0.5], [1]).requireGrad();
  const g = await gradScope(e, async () => {
    const y = sum(exp(x));
    await y.toArray();
    return backward(y).get(x)!;
  });
  expect((await g.toArray())[0]).toBeCloseTo(Math.exp(0.5), 6);
  expect(tapeOf(e).scopes).toBe(0);
});

test('a scope closes when its function throws', () => {
  expect(() =>
    gradScope(e, () => {
      throw new Error('boom');
    }),
  ).toThrow('boom');
  expect(tapeOf(e).scopes).toBe(0);
});

test("a recorder takes exactly the saved tensors its rule declares ('?' optional, '*' any number)", () => {
  const rec = defineGradient<{ k: number }>({
    op: 'test_saves_one',
    saves: ['a', 'b?'],
    grad: () => [null],
  });
  const many = defineGradient<object>({
    op: 'test_saves_many',
    saves: ['first', 'rest*'],
    grad: () => [null],
  });
  const t = () => e.tensor([1], [1]);
  gradScope(e, () => {
    const x = t().requireGrad();
    expect(() => rec([x], t(), { k: 1 }, [])).toThrow(
      /op 'test_saves_one' saves \[a, b\?\] for backward, given 0 tensors/,
    );
    expect(() => rec([x], t(), { k: 1 }, [t(), t(), t()])).toThrow(/given 3 tensors/);
    expect(rec([x], t(), { k: 1 }, [t()]).requiresGrad).toBe(true);
    expect(rec([x], t(), { k: 1 }, [t(), t()]).requiresGrad).toBe(true);
    expect(() => many([x], t(), {}, [])).toThrow(/given 0 tensors/);
    expect(many([x], t(), {}, [t(), t(), t(), t()]).requiresGrad).toBe(true);
  });
  expect(() => defineGradient({ op: 'test_saves_one', saves: [], grad: () => [] })).toThrow(
    /registered twice/,
  );
});
