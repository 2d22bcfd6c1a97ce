import { execFileSync } from 'node:child_process';
import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { resolveAdapterChoice } from '../src/engine/device.js';
import { WebGpuBackend } from '../src/engine/webgpu-backend.js';
import type { Tensor } from '../src/engine/tensor.js';
import * as ops from '../src/ops/index.js';
import { ParameterArena } from '../src/ops/optim.js';
import { rng, useEngines } from './helpers.js';

const E = useEngines();

test(`the device under test is ${process.env.CAUSALMIX_ADAPTER ?? 'auto'}`, () => {
  // Printed so the CI log names the adapter each run used.
  console.log(`adapter under test: ${E.dev.describe()}`);
  if (process.env.CAUSALMIX_ADAPTER && process.env.CAUSALMIX_ADAPTER !== 'cpu')
    expect(E.dev.isGpu).toBe(true);
});

/** A small regression problem: y ≈ softplus(X·w + b), trained on the arena. */
function problem(e: Engine) {
  const r = rng(17);
  const n = 50;
  const k = 4;
  const X = r.uniformArray(n * k, -1, 1);
  const wTrue = [0.5, -1, 2, 0.25];
  const y = Array.from({ length: n }, (_, i) =>
    Math.log1p(Math.exp(wTrue.reduce((s, w, j) => s + w * X[i * k + j], 0.3))),
  );
  const arena = new ParameterArena(e, [
    { name: 'w', shape: [k], init: [0, 0, 0, 0] },
    { name: 'b', shape: [1], init: [0] },
  ]);
  const Xt = e.keep(e.tensor(X, [n, k]));
  const yt = e.keep(e.tensor(y, [n]));
  const lossOf = () => {
    const pred = ops.softplus(ops.add(ops.sum(ops.mul(Xt, arena.param('w')), 1), arena.param('b')));
    return ops.mean(ops.square(ops.sub(pred, yt)));
  };
  /** forward + backward + gradient gather + clip + AdamW: the whole training step */
  const step = () =>
    gradScope(e, () => {
      const loss = lossOf();
      arena.setGrads(backward(loss));
      arena.queueStep();
      return loss;
    });
  const dispose = () => {
    arena.dispose();
    Xt.dispose();
    yt.dispose();
  };
  return { arena, step, dispose, hyper: { lr: 0.05, weightDecay: 1e-4, clipNorms: [2] } };
}

test('the pool reuses buffers once the submit that used them is out', () => {
  const e = E.dev;
  const work = () => {
    ops.exp(e.ones([1000]));
    e.flush();
  };
  e.tidy(work);
  e.flush();
  const created = e.stats().createdBuffers;
  for (let i = 0; i < 50; i++) e.tidy(work);
  e.flush();
  expect(e.stats().createdBuffers).toBe(created);
});

test('a recorded training step is one submit, and memory stays flat over 1000 steps', async () => {
  const e = E.dev;
  const p = problem(e);
  const program = e.record(() => p.step());
  const loss = program.outputs;
  p.arena.setHyper(p.hyper);
  program.run();
  const first = await loss.item();
  const before = e.stats();
  for (let i = 1; i < 1000; i++) {
    p.arena.setHyper(p.hyper);
    program.run();
  }
  const after = e.stats();
  expect(after.submits - before.submits).toBe(999);
  expect(after.liveBuffers).toBe(before.liveBuffers);
  expect(after.liveBytes).toBe(before.liveBytes);
  expect(after.createdBuffers).toBe(before.createdBuffers);
  expect(program.dispatchCount).toBeGreaterThan(5);
  const last = await loss.item();
  expect(last).toBeLessThan(first * 0.05);
  program.dispose();
  p.dispose();
});

test('eager training in tidy scopes also keeps memory flat', () => {
  const e = E.dev;
  const p = problem(e);
  const runStep = () => {
    p.arena.setHyper(p.hyper);
    e.tidy(() => {
      p.step();
    });
  };
  for (let i = 0; i < 5; i++) runStep();
  e.flush();
  const before = e.stats().liveBuffers;
  for (let i = 0; i < 200; i++) runStep();
  e.flush();
  expect(e.stats().liveBuffers).toBe(before);
  p.dispose();
});

test('replaying a recorded step gives exactly the eager result', async () => {
  const e = E.dev;
  const a = problem(e);
  const b = problem(e);
  const program = e.record(() => b.step());
  for (let i = 0; i < 20; i++) {
    a.arena.setHyper(a.hyper);
    e.tidy(() => {
      a.step();
    });
    b.arena.setHyper(b.hyper);
    program.run();
  }
  expect(await a.arena.param('w').toArray()).toEqual(await b.arena.param('w').toArray());
  program.dispose();
  a.dispose();
  b.dispose();
});

test('the same seed on the same adapter gives the same result', async () => {
  const run = async (e: Engine) => {
    const x = e.randn([64]);
    return ops.sigmoid(ops.mul(x, e.rand([64]))).toArray();
  };
  const e1 = await createEngine({ adapter: E.dev.isGpu ? 'auto' : 'cpu', seed: 7 });
  const e2 = await createEngine({ adapter: E.dev.isGpu ? 'auto' : 'cpu', seed: 7 });
  expect(await run(e1)).toEqual(await run(e2));
  e1.destroy();
  e2.destroy();
});

test('bad input gets clear errors', async () => {
  const e = E.dev;
  expect(() => e.tensor([1, NaN, 3])).toThrow(/value NaN at index 1 is not a finite number/);
  expect(() => e.tensor([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
  expect(() => ops.add(e.ones([2, 3]), e.ones([4]))).toThrow(
    /\[2, 3\] and \[4\] cannot be broadcast/,
  );
  const t = e.ones([2]);
  expect(() => t.write([1, 2, 3])).toThrow(/write of 3 values into a tensor of shape \[2\]/);
  t.dispose();
  expect(() => ops.exp(t)).toThrow(/used after dispose/);
  await expect(t.toArray()).rejects.toThrow(/used after dispose/);
  gradScope(e, () => {
    expect(() => backward(ops.exp(e.ones([3]).requireGrad()))).toThrow(/scalar loss/);
  });
  expect(() => e.empty([2, -1])).toThrow(/invalid dimension -1/);
  expect(() => e.empty([1, 1, 1, 1, 1, 1, 1])).toThrow(/rank 7/);
});

test('CAUSALMIX_ADAPTER pins what auto means; explicit choices win', () => {
  const saved = process.env.CAUSALMIX_ADAPTER;
  process.env.CAUSALMIX_ADAPTER = 'swiftshader';
  expect(resolveAdapterChoice('auto')).toBe('swiftshader');
  expect(resolveAdapterChoice('cpu')).toBe('cpu');
  process.env.CAUSALMIX_ADAPTER = 'tpu';
  expect(() => resolveAdapterChoice(undefined)).toThrow(/unknown adapter 'tpu'/);
  if (saved === undefined) delete process.env.CAUSALMIX_ADAPTER;
  else process.env.CAUSALMIX_ADAPTER = saved;
});

test('no adapter: the error lists what was tried and how to fix it', () => {
  // A child process, so the Vulkan loader really sees an ICD list with nothing in it.
  const script = `import('${new URL('../src/engine/device.ts', import.meta.url).pathname}').then(m => m.acquireBackend({ adapter: 'vulkan' })).then(() => console.log('FOUND'), e => console.log(e.message))`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
    env: {
      ...process.env,
      CAUSALMIX_ADAPTER: '',
      VK_ICD_FILENAMES: '/nonexistent/icd.json',
      NODE_OPTIONS: '',
    },
    encoding: 'utf8',
  });
  expect(out).toMatch(/no WebGPU adapter for 'vulkan'. Tried:/);
  expect(out).toMatch(/any Vulkan adapter/);
  expect(out).toMatch(/Fix: /);
});

test('a lost device turns into a clear error, never a hang', async () => {
  if (!E.dev.isGpu) return; // the CPU backend has no device to lose
  const e = await createEngine({ adapter: 'auto' });
  const x: Tensor = ops.exp(e.ones([16]));
  (e.backend as WebGpuBackend).device.destroy();
  await new Promise((r) => setTimeout(r, 50));
  await expect(x.toArray()).rejects.toThrow(/GPU device was (destroyed|lost)/);
  expect(() => ops.exp(x)).toThrow(/GPU device was (destroyed|lost)/);
});
