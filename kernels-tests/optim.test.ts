import { ParameterArena, type ParamSpec } from '../src/ops/optim.js';
import { expectClose, randArray, rng, useEngines } from './helpers.js';
import { TOL } from './tolerances.js';
import type { Engine } from '../src/engine/engine.js';

const E = useEngines();

/** PyTorch's AdamW (decoupled weight decay, bias correction) after clip_grad_norm_ per group. */
function adamwReference(
  params: Float64Array[],
  gradsPerStep: Float64Array[][],
  groups: number[],
  o: { lr: number; wd: number; clip: number[]; b1?: number; b2?: number; eps?: number },
): Float64Array[] {
  const b1 = o.b1 ?? 0.9;
  const b2 = o.b2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  const p = params.map((x) => Float64Array.from(x));
  const m = params.map((x) => new Float64Array(x.length));
  const v = params.map((x) => new Float64Array(x.length));
  gradsPerStep.forEach((grads, step) => {
    const t = step + 1;
    const sq = new Array(o.clip.length).fill(0);
    grads.forEach((g, k) => g.forEach((x) => (sq[groups[k]] += x * x)));
    const scale = sq.map((s, gi) =>
      o.clip[gi] > 0 ? Math.min(1, o.clip[gi] / (Math.sqrt(s) + 1e-6)) : 1,
    );
    grads.forEach((g, k) => {
      for (let i = 0; i < g.length; i++) {
        const gi = g[i] * scale[groups[k]];
        m[k][i] = b1 * m[k][i] + (1 - b1) * gi;
        v[k][i] = b2 * v[k][i] + (1 - b2) * gi * gi;
        p[k][i] *= 1 - o.lr * o.wd;
        const denom = Math.sqrt(v[k][i]) / Math.sqrt(1 - b2 ** t) + eps;
        p[k][i] -= (o.lr / (1 - b1 ** t)) * (m[k][i] / denom);
      }
    });
  });
  return p;
}

const SHAPES: number[][] = [[3, 5], [1], [300], [7, 40], [2, 2, 2]];
const GROUPS = [0, 1, 0, 1, 0];

function makeArena(e: Engine, inits: Float64Array[]): ParameterArena {
  const specs: ParamSpec[] = SHAPES.map((shape, i) => ({
    name: `p${i}`,
    shape,
    init: inits[i],
    group: GROUPS[i],
  }));
  return new ParameterArena(e, specs, { weightDecay: 0.01 });
}

describe.each([
  ['no clipping', [0, 0]],
  ['clipping that binds', [0.5, 0.05]],
  ['clipping that does not bind', [1e3, 1e3]],
])('fused clip + AdamW, %s', (_, clip) => {
  test('matches the float64 PyTorch-style reference over 5 steps', async () => {
    const r = rng(4);
    const inits = SHAPES.map((s) =>
      randArray(
        r,
        s.reduce((a, b) => a * b, 1),
      ),
    );
    const grads = Array.from({ length: 5 }, () =>
      SHAPES.map((s) =>
        randArray(
          r,
          s.reduce((a, b) => a * b, 1),
          -2,
          2,
        ),
      ),
    );
    const arena = makeArena(E.dev, inits);
    for (const step of grads) {
      step.forEach((g, k) => arena.grad(`p${k}`).write(g));
      arena.step({ lr: 0.01, weightDecay: 0.01, clipNorms: clip });
    }
    const got = await arena.read();
    const want = adamwReference(inits, grads, GROUPS, { lr: 0.01, wd: 0.01, clip });
    want.forEach((w, k) => expectClose(got.get(`p${k}`)!, w, TOL.adamw, `p${k}`));
    arena.dispose();
  });
});

test('group norms and in-place clipping match the reference', async () => {
  const r = rng(9);
  const inits = SHAPES.map((s) =>
    randArray(
      r,
      s.reduce((a, b) => a * b, 1),
    ),
  );
  const grads = SHAPES.map((s) =>
    randArray(
      r,
      s.reduce((a, b) => a * b, 1),
      -3,
      3,
    ),
  );
  const arena = makeArena(E.dev, inits);
  grads.forEach((g, k) => arena.grad(`p${k}`).write(g));
  arena.clipGradients([1, 2]);
  const norms = [0, 0];
  grads.forEach((g, k) => g.forEach((x) => (norms[GROUPS[k]] += x * x)));
  const n = norms.map(Math.sqrt);
  expectClose(await arena.gradNorms(), n, { atol: 1e-5, rtol: 1e-5 }, 'group norms');
  for (let k = 0; k < grads.length; k++) {
    const scale = Math.min(1, [1, 2][GROUPS[k]] / (n[GROUPS[k]] + 1e-6));
    expectClose(
      await arena.grad(`p${k}`).toArray(),
      grads[k].map((x) => x * scale),
      TOL.adamw,
      `clipped p${k}`,
    );
  }
  arena.dispose();
});

test('parameters are views that see the update; padding between segments is untouched', async () => {
  const arena = new ParameterArena(E.dev, [
    { name: 'a', shape: [3], init: [1, 2, 3] },
    { name: 'b', shape: [2], init: [4, 5] },
  ]);
  arena.grad('a').write([1, 1, 1]);
  arena.grad('b').write([-1, -1]);
  arena.step({ lr: 0.1 });
  // first Adam step moves each element by lr·sign(g) (bias-corrected m/√v = ±1)
  expectClose(await arena.param('a').toArray(), [0.9, 1.9, 2.9], TOL.adamw, 'a');
  expectClose(await arena.param('b').toArray(), [4.1, 5.1], TOL.adamw, 'b');
  expect(arena.size).toBe(512);
  arena.dispose();
});

test('setGrads gathers backward gradients and zeroes the missing ones', async () => {
  const e = E.dev;
  const arena = new ParameterArena(e, [
    { name: 'a', shape: [2], init: [1, 2] },
    { name: 'b', shape: [2], init: [3, 4] },
  ]);
  arena.grad('b').write([9, 9]);
  const g = e.tensor([0.5, -0.5]);
  arena.setGrads(new Map([[arena.param('a'), g]]));
  expectClose(await arena.grad('a').toArray(), [0.5, -0.5], TOL.exact, 'a');
  expectClose(await arena.grad('b').toArray(), [0, 0], TOL.exact, 'b');
  expect(() => arena.setGrads(new Map([[arena.param('a'), e.tensor([1, 2, 3])]]))).toThrow(
    /gradient of 'a' has shape \[3\]/,
  );
  arena.dispose();
});

test('bad declarations are rejected with the parameter named', () => {
  expect(() => new ParameterArena(E.cpu, [{ name: 'w', shape: [2, 2], init: [1, 2, 3] }])).toThrow(
    /'w' \[2, 2\] got 3 initial values/,
  );
  expect(
    () =>
      new ParameterArena(E.cpu, [
        { name: 'w', shape: [1] },
        { name: 'w', shape: [1] },
      ]),
  ).toThrow(/'w' is declared twice/);
});

test('L1/L2 penalties join the gradients before clipping, and their value is reported', async () => {
  const r = rng(12);
  const w = randArray(r, 300, -1, 1);
  w[5] = 0; // sign(0) = 0: no L1 gradient at exactly zero, as PyTorch's abs
  const g = randArray(r, 300, -0.1, 0.1);
  const [l1, l2] = [0.03, 0.2];
  const arena = new ParameterArena(E.dev, [
    { name: 'w', shape: [300], init: w, l1, l2, group: 0 },
    { name: 'free', shape: [4], init: [1, -1, 2, -2], group: 0 },
  ]);
  arena.grad('w').write(g);
  arena.grad('free').write([0, 0, 0, 0]);
  // lr 0: nothing moves, so the gradient arena shows the penalised (unclipped, 1e9) gradients
  arena.step({ lr: 0, weightDecay: 0, clipNorms: [1e9] });
  const want = Array.from(g, (x, i) => x + l1 * Math.sign(w[i]) + 2 * l2 * w[i]);
  expectClose(await arena.grad('w').toArray(), want, TOL.adamw, 'penalised grad');
  expectClose(await arena.grad('free').toArray(), [0, 0, 0, 0], TOL.exact, 'unpenalised');
  const value = w.reduce((s, x) => s + l1 * Math.abs(x) + l2 * x * x, 0);
  expectClose([await arena.penaltyValue()], [value], { atol: 1e-5, rtol: 1e-5 }, 'penalty');
  const norm = Math.sqrt(want.reduce((s, x) => s + x * x, 0));
  expectClose(await arena.gradNorms(), [norm], { atol: 1e-5, rtol: 1e-5 }, 'norm after penalty');
  arena.dispose();
});

test('clipGlobal clips every group jointly; resetOptimizer forgets the moments', async () => {
  const r = rng(21);
  const inits = SHAPES.map((s) =>
    randArray(
      r,
      s.reduce((a, b) => a * b, 1),
    ),
  );
  const grads = SHAPES.map((s) =>
    randArray(
      r,
      s.reduce((a, b) => a * b, 1),
      -2,
      2,
    ),
  );
  const arena = makeArena(E.dev, inits);
  grads.forEach((g, k) => arena.grad(`p${k}`).write(g));
  arena.step({ lr: 0.01, weightDecay: 0.01, clipGlobal: 0.5 });
  const got = await arena.read();
  // one group holding everything = the global norm
  const want = adamwReference(inits, [grads], [0, 0, 0, 0, 0], { lr: 0.01, wd: 0.01, clip: [0.5] });
  want.forEach((w, k) => expectClose(got.get(`p${k}`)!, w, TOL.adamw, `p${k}`));
  // after a reset, the next step is a first Adam step again (moves by lr·sign(g) for wd 0)
  arena.resetOptimizer();
  expect(arena.stepCount).toBe(0);
  const before = await arena.read();
  grads.forEach((g, k) => arena.grad(`p${k}`).write(g));
  arena.step({ lr: 0.001, weightDecay: 0, clipNorms: [0, 0] });
  const after = await arena.read();
  SHAPES.forEach((_, k) =>
    expectClose(
      after.get(`p${k}`)!,
      before.get(`p${k}`)!.map((x, i) => x - 0.001 * Math.sign(grads[k][i])),
      TOL.adamw,
      `first step after reset p${k}`,
    ),
  );
  arena.dispose();
});
