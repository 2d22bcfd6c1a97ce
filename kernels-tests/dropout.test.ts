import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import { dropout } from '../src/ops/dropout.js';
import { mul, sum } from '../src/ops/index.js';
import { expectClose, randArray, rng, useEngines } from './helpers.js';
import { TOL } from './tolerances.js';

const E = useEngines();

describe('dropout', () => {
  test('device mask equals the CPU reference mask exactly; rate and scale are right', async () => {
    const n = 20000;
    const x = randArray(rng(3), n, 0.5, 1.5);
    const p = 0.12;
    const [dev, cpu] = await Promise.all(
      [E.dev, E.cpu].map((e) => dropout(e.tensor(x), e.tensor([777], [1], 'int32'), p).toArray()),
    );
    const kept = dev.filter((v) => v !== 0).length;
    // each element kept with probability 0.88: 3 standard deviations ≈ 0.7 %
    expect(Math.abs(kept / n - (1 - p))).toBeLessThan(0.007);
    for (let i = 0; i < n; i++) expect(dev[i] === 0).toBe(cpu[i] === 0);
    const survivors = Array.from(x, (v, i) => (cpu[i] === 0 ? 0 : v / (1 - p)));
    expectClose(dev, survivors, TOL.exact, 'scaled survivors');
  });

  test('backward multiplies dy by the same mask; seeds change the mask', async () => {
    const e = E.dev;
    const x = e.tensor(randArray(rng(4), 1000, 1, 2)).requireGrad();
    const w = e.tensor(randArray(rng(5), 1000, -1, 1));
    const seed = e.tensor([42], [1], 'int32');
    const { y, grads } = gradScope(e, () => {
      const y = dropout(x, seed, 0.3);
      return { y, grads: backward(sum(mul(y, w))) };
    });
    const [yv, gx, wv, xv] = await Promise.all([y, grads.get(x)!, w, x].map((t) => t.toArray()));
    const mask = Array.from(yv, (v, i) => v / xv[i]);
    expectClose(
      gx,
      Array.from(wv, (v, i) => v * mask[i]),
      TOL.exact,
      'dx = dy · mask',
    );
    const other = await dropout(x, e.tensor([43], [1], 'int32'), 0.3).toArray();
    expect(other.some((v, i) => (v === 0) !== (yv[i] === 0))).toBe(true);
    const again = await dropout(x, e.tensor([42], [1], 'int32'), 0.3).toArray();
    expectClose(again, yv, TOL.exact, 'same seed, same mask');
  });

  test('p = 0 is the identity; bad rates and seeds are rejected', () => {
    const e = E.cpu;
    const x = e.tensor([1, 2, 3]);
    const seed = e.tensor([1], [1], 'int32');
    expect(dropout(x, seed, 0)).toBe(x);
    expect(() => dropout(x, seed, 1)).toThrow(/dropout rate must be in \[0, 1\), got 1/);
    expect(() => dropout(x, e.tensor([1]), 0.5)).toThrow(/int32 tensor of one element/);
  });
});
