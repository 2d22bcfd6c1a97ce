/**
 * The loop-iteration cap of Mesa's llvmpipe/lavapipe (src/engine/launch-planner.ts): how adapters report
 * it, the budget check, matmul's split over K, and the ops that refuse inputs past the budget
 * instead of returning silently truncated sums. On the gl adapter the device tests run just past
 * the budget; a CPU backend with a cap (and the float64 reference without one) checks the same
 * paths on every adapter without large device buffers.
 */
import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import { CpuBackend } from '../src/engine/cpu-backend.js';
import { loopIterationCapOf } from '../src/engine/device.js';
import { Engine } from '../src/engine/engine.js';
import {
  checkLoopBudget,
  LOOP_BUDGET,
  loopBudget,
  LoopBudgetError,
} from '../src/engine/launch-planner.js';
import type { Tensor } from '../src/engine/tensor.js';
// Direct imports: the op index also pulls in families other people are still writing.
import { lossLoopIterations, mseLoss } from '../src/ops/loss.js';
import { matmul, matmulLoopIterations } from '../src/ops/matmul.js';
import { reduceWideLoopIterations, sum } from '../src/ops/reduce.js';
import { indexSelect } from '../src/ops/shape.js';
import { cpuValues, expectClose, randArray, rng, useEngines } from './helpers.js';
import { matmulTol, TOL } from './tolerances.js';

const E = useEngines();
const MESA_CAP = 65535;

/** The CPU reference with llvmpipe's cap; the cap can be changed (e.g. lifted for a forward pass). */
class CappedCpuBackend extends CpuBackend {
  override loopIterationCap: number;
  constructor(cap = MESA_CAP) {
    super();
    this.loopIterationCap = cap;
  }
}

function cappedEngine(cap = MESA_CAP): { e: Engine; backend: CappedCpuBackend } {
  const backend = new CappedCpuBackend(cap);
  return { e: new Engine(backend), backend };
}

/** op(A)·op(B) in float64; A is stored [M, K] ([K, M] when tA), B [K, N] ([N, K] when tB). */
function refMatmul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
  tA: boolean,
  tB: boolean,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let l = 0; l < k; l++) {
        acc += (tA ? a[l * m + i] : a[i * k + l]) * (tB ? b[j * k + l] : b[l * n + j]);
      }
      out[i * n + j] = acc;
    }
  }
  return out;
}

/** dx of indexSelect(x [dim], 0, idx) for upstream dy [count]: a scatter-add. */
function refIndexSelectGrad(dim: number, idx: number[], dy: ArrayLike<number>): Float64Array {
  const dx = new Float64Array(dim);
  idx.forEach((j, k) => (dx[j] += dy[k]));
  return dx;
}

const dispatchesOf = (e: Engine, fn: () => void): number => {
  e.flush();
  const before = e.stats().dispatches;
  fn();
  e.flush();
  return e.stats().dispatches - before;
};

describe('the cap each adapter reports', () => {
  test('llvmpipe and lavapipe are capped at 65,535; other adapters are not', () => {
    expect(loopIterationCapOf({ device: 'llvmpipe-llvm-15-0-6-256-bits-', description: '' })).toBe(
      MESA_CAP,
    );
    expect(
      loopIterationCapOf({ device: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }),
    ).toBe(MESA_CAP);
    expect(loopIterationCapOf({ device: 'Lavapipe', description: 'Mesa 22.3.6' })).toBe(MESA_CAP);
    expect(loopIterationCapOf({ device: 'SwiftShader Device (Subzero)', description: '' })).toBe(
      Infinity,
    );
    expect(loopIterationCapOf({ device: 'NVIDIA H100', description: 'NVIDIA' })).toBe(Infinity);
    expect(loopIterationCapOf({})).toBe(Infinity);
  });

  test('the CPU reference has no cap; the engine under test reports its adapter’s', () => {
    expect(E.cpu.loopIterationCap).toBe(Infinity);
    expect(loopBudget(E.cpu)).toBe(Infinity);
    const pinned = process.env.CAUSALMIX_ADAPTER;
    if (pinned === 'gl') expect(E.dev.loopIterationCap).toBe(MESA_CAP);
    if (pinned === 'swiftshader' || pinned === 'cpu') expect(E.dev.loopIterationCap).toBe(Infinity);
    expect(loopBudget(E.dev)).toBe(
      Number.isFinite(E.dev.loopIterationCap) ? LOOP_BUDGET : Infinity,
    );
  });
});

describe('checkLoopBudget', () => {
  const capped = { loopIterationCap: MESA_CAP, adapterName: 'fake llvmpipe' };

  test('passes up to the budget and throws past it, naming the op, the size and the limit', () => {
    expect(LOOP_BUDGET).toBe(60000);
    expect(() => checkLoopBudget(capped, 60000, 'op_x over 59999 things')).not.toThrow();
    let err: unknown;
    try {
      checkLoopBudget(capped, 60001, 'op_x over 60000 things');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LoopBudgetError);
    const msg = (err as Error).message;
    expect(msg).toContain('op_x over 60000 things');
    expect(msg).toContain('60001 loop iterations');
    expect(msg).toContain('fake llvmpipe');
    expect(msg).toContain('65535');
    expect(msg).toContain('60000');
    expect(msg).toMatch(/Split the input/);
    expect(msg).toMatch(/swiftshader/);
  });

  test('never throws where loops are uncapped', () => {
    const free = { loopIterationCap: Infinity, adapterName: 'a GPU' };
    expect(() => checkLoopBudget(free, 1e15, 'op_x')).not.toThrow();
    expect(() => checkLoopBudget(E.cpu, 1e15, 'op_x')).not.toThrow();
  });

  test('a cap below the default budget is the budget', () => {
    const small = { loopIterationCap: 100, adapterName: 'tiny' };
    expect(loopBudget(small)).toBe(100);
    expect(() => checkLoopBudget(small, 100, 'op_x')).not.toThrow();
    expect(() => checkLoopBudget(small, 101, 'op_x')).toThrow(LoopBudgetError);
  });
});

describe('matmul splits a long K on capped adapters', () => {
  const K = 70000;
  const [M, N] = [3, 5];

  test('iteration counts follow the shader’s loops', () => {
    // one tile: z, ty and tx loops run once (2 each, entry included), the k loop K + 1
    expect(matmulLoopIterations(M, N, K, 1)).toBe(K + 7);
    // 65,536 batches: the z loop strides twice over the 65,535 workgroups
    expect(matmulLoopIterations(M, N, 10, 65536)).toBe(3 + 2 * (2 + 1 * (2 + 11)));
  });

  test.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('K = 70,000, transposeA=%s transposeB=%s: agrees with the reference', async (tA, tB) => {
    const e = E.dev;
    const a = randArray(rng(1), M * K);
    const b = randArray(rng(2), K * N);
    const ta = e.tensor(a, tA ? [K, M] : [M, K]);
    const tb = e.tensor(b, tB ? [N, K] : [K, N]);
    let c: Tensor | undefined;
    const n = dispatchesOf(e, () => (c = matmul(ta, tb, { transposeA: tA, transposeB: tB })));
    expect(c!.shape).toEqual([M, N]);
    expectClose(await c!.toArray(), refMatmul(a, b, M, K, N, tA, tB), matmulTol(K), 'C');
    // capped: two K slices and one add; otherwise one dispatch
    expect(n).toBe(Number.isFinite(e.loopIterationCap) ? 3 : 1);
  });

  test('the gradient of a weight shared by 70,000 rows (folded into K) agrees', async () => {
    const e = E.dev;
    const [B, R, I, O] = [35, 2000, 3, 2];
    const x = randArray(rng(3), B * R * I);
    const w = randArray(rng(4), I * O);
    const dy = randArray(rng(5), B * R * O);
    const wt = e.tensor(w, [I, O]).requireGrad();
    gradScope(e, () => backward(matmul(e.tensor(x, [B, R, I]), wt), e.tensor(dy, [B, R, O])));
    // dW = Xᵀ·dY with X as [B·R, I]
    const expected = refMatmul(x, dy, I, B * R, O, true, false);
    expectClose(await wt.grad!.toArray(), expected, matmulTol(B * R), 'dW');
  });

  test('a capped CPU engine gives the uncapped result, with batches and both gradients', () => {
    // a cap of 1,000 cuts K = 2,500 into three slices (the last one shorter)
    const { e } = cappedEngine(1000);
    const k = 2500;
    const a = randArray(rng(6), 2 * 3 * k);
    const b = randArray(rng(7), 3 * k * 4);
    const dy = randArray(rng(8), 2 * 3 * 3 * 4);
    const run = (eng: Engine) => {
      // [2, 1, 3, K]·[3, 4, K]ᵀ: broadcast batches, B transposed in storage
      const ta = eng.tensor(a, [2, 1, 3, k]).requireGrad();
      const tb = eng.tensor(b, [3, 4, k]).requireGrad();
      const c = gradScope(eng, () => {
        const c = matmul(ta, tb, { transposeB: true });
        backward(c, eng.tensor(dy, [2, 3, 3, 4]));
        return c;
      });
      return [c, ta.grad!, tb.grad!].map(cpuValues);
    };
    const got = run(e);
    const want = run(E.cpu);
    const tol = { atol: 1e-9, rtol: 1e-12 };
    ['C', 'dA', 'dB'].forEach((name, i) => expectClose(got[i], want[i], tol, name));
    // the forward product alone: three slices and two adds
    const ta = e.tensor(a, [2, 1, 3, k]);
    const tb = e.tensor(b, [3, 4, k]);
    expect(dispatchesOf(e, () => matmul(ta, tb, { transposeB: true }))).toBe(5);
    e.destroy();
  });

  test('below the budget nothing changes: one dispatch on the capped engine', () => {
    const { e } = cappedEngine();
    const k = 59000;
    const ta = e.tensor(randArray(rng(9), 2 * k), [2, k]);
    const tb = e.tensor(randArray(rng(10), k * 2), [k, 2]);
    expect(dispatchesOf(e, () => matmul(ta, tb))).toBe(1);
    e.destroy();
  });

  test('throws when not even one K step fits the budget', () => {
    // a cap of 5 iterations is below the loops around the k loop (7 for one tile)
    const { e } = cappedEngine(5);
    const a = e.tensor([1, 2, 3, 4], [2, 2]);
    expect(() => matmul(a, a)).toThrow(LoopBudgetError);
    expect(() => matmul(a, a)).toThrow(/matmul of 1 × \[2, 2\]·\[2, 2\] \(K = 2\)/);
    e.destroy();
  });
});

describe('index_select_grad (its loop runs over every index)', () => {
  const dim = 3;
  const indices = (count: number) => Array.from({ length: count }, (_, k) => (k * 7) % dim);

  test('59,999 indices (at the budget) give the scatter-add on every adapter', async () => {
    const e = E.dev;
    const idx = indices(59999);
    const dy = randArray(rng(11), idx.length);
    const x = e.tensor([1, 2, 3], [dim]).requireGrad();
    gradScope(e, () => backward(indexSelect(x, 0, idx), e.tensor(dy, [idx.length])));
    expectClose(await x.grad!.toArray(), refIndexSelectGrad(dim, idx, dy), TOL.sum, 'dx');
  });

  test('70,000 indices: capped adapters refuse the backward pass, others compute it', async () => {
    const e = E.dev;
    const idx = indices(70000);
    const dy = randArray(rng(12), idx.length);
    const x = e.tensor([1, 2, 3], [dim]).requireGrad();
    await gradScope(e, async () => {
      const y = indexSelect(x, 0, idx);
      // the forward gather has no loop: it works everywhere
      expect(Array.from((await y.toArray()).slice(0, 4))).toEqual([1, 2, 3, 1]);
      const seed = e.tensor(dy, [idx.length]);
      if (Number.isFinite(e.loopIterationCap)) {
        expect(() => backward(y, seed)).toThrow(LoopBudgetError);
      } else {
        backward(y, seed);
        expectClose(await x.grad!.toArray(), refIndexSelectGrad(dim, idx, dy), TOL.sum, 'dx');
      }
    });
  });

  test('the message names the op and the index count (capped CPU engine)', () => {
    const { e } = cappedEngine();
    const x = e.tensor([1, 2, 3], [dim]).requireGrad();
    gradScope(e, () => {
      const y = indexSelect(x, 0, indices(70000));
      expect(() => backward(sum(y))).toThrow(/index_select_grad .*over 70000 indices/);
    });
    e.destroy();
  });
});

describe('reduce_wide and the losses refuse inputs past the budget (capped CPU engine)', () => {
  test('sum: the budget ends at 15,357,440 values per output', () => {
    expect(reduceWideLoopIterations(15357440)).toBe(LOOP_BUDGET);
    expect(reduceWideLoopIterations(15357441)).toBe(LOOP_BUDGET + 1);
    const { e } = cappedEngine();
    const x = e.empty([15357441]);
    expect(() => sum(x)).toThrow(LoopBudgetError);
    expect(() => sum(x)).toThrow(/sum of 15357441 values per output/);
    e.destroy();
  });

  test('mseLoss: the budget ends at 7,677,440 elements', () => {
    expect(lossLoopIterations(7677440)).toBe(LOOP_BUDGET);
    expect(lossLoopIterations(7677441)).toBeGreaterThan(LOOP_BUDGET);
    const { e } = cappedEngine();
    const n = 7677441;
    const p = e.empty([n]);
    expect(() => mseLoss(p, p)).toThrow(LoopBudgetError);
    expect(() => mseLoss(p, p)).toThrow(/mseLoss \(loss_forward\) over 7677441 elements/);
    e.destroy();
  });

  test('the backward pass checks too (cap set after the forward pass)', () => {
    // with a cap of 1,000 the loss kernels fit 125,440 elements: 2·(490 + 1) + 18
    const { e, backend } = cappedEngine(Infinity);
    const n = 125441;
    const p = e.zeros([n]).requireGrad();
    gradScope(e, () => {
      const loss = mseLoss(p, e.zeros([n]));
      backend.loopIterationCap = 1000;
      expect(() => backward(loss)).toThrow(/loss_backward over 125441 elements/);
    });
    e.destroy();
  });
});
