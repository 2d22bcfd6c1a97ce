import { expm as mathExpm, matrix } from 'mathjs';
import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import type { Engine } from '../src/engine/engine.js';
import type { Rng } from '../src/engine/random.js';
import { expm, expm64, notearsH } from '../src/ops/expm.js';
import { expectClose, finiteDiff, rng, useEngines } from './helpers.js';
import { TOL } from './tolerances.js';

const E = useEngines();

/** Values as the device stores them (f32). */
const f32 = (a: ArrayLike<number>) => Float64Array.from(a, Math.fround);

function oneNorm(a: ArrayLike<number>, d: number): number {
  let m = 0;
  for (let j = 0; j < d; j++) {
    let c = 0;
    for (let i = 0; i < d; i++) c += Math.abs(a[i * d + j]);
    m = Math.max(m, c);
  }
  return m;
}

type Kind = 'random' | 'symmetric' | 'nonnormal';

/** A d×d matrix of the given kind scaled to 1-norm `norm`. */
function makeMatrix(r: Rng, d: number, kind: Kind, norm: number): Float64Array {
  const a = r.uniformArray(d * d, -1, 1);
  if (kind === 'symmetric')
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) a[i * d + j] = a[j * d + i];
  if (kind === 'nonnormal')
    // strong upper part over a small diagonal: far from normal, exp has transient growth
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) a[i * d + j] *= j > i ? 3 : i === j ? 0.3 : 0.05;
  const s = norm / Math.max(oneNorm(a, d), 1e-30);
  return f32(a.map((v) => v * s));
}

function mathjsExpm(a: Float64Array, d: number): Float64Array {
  const rows = Array.from({ length: d }, (_, i) => Array.from(a.subarray(i * d, i * d + d)));
  const m = mathExpm(matrix(rows)).toArray() as number[][];
  return Float64Array.from(m.flat());
}

function relFrob(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < y.length; i++) {
    num += (x[i] - y[i]) ** 2;
    den += y[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/*
 * Tolerance for the device (f32, u = 2⁻²⁴ ≈ 6e-8). With ‖A/2^s‖₁ ≤ 1 the polynomial (5 products,
 * terms ≤ e) is accurate to a few u·√d (inner products of length d, rounding errors ~random). Each
 * squaring X ← X² doubles the relative error it inherits, so s ≈ log2 ‖A‖₁ squarings give
 * ≈ 2^s ≈ ‖A‖₁ times that: the condition number of exp itself is of the same order (‖A‖), so no
 * f32 algorithm does better. Hence 2e-7·(1 + ‖A‖₁)·√d ≈ 3.3·u·(1 + ‖A‖₁)·√d; the worst case seen
 * over all adapters is about half of it (d = 1, ‖A‖₁ = 20: 2.2e-6 against 4.2e-6).
 *
 * The float64 reference shares the kernel's truncation: degree 12 at ‖A/2^s‖₁ ≤ 1 leaves a relative
 * error ≤ e·1/13! ≈ 4.4e-10 per scaled exponential, and the s squarings multiply a relative error
 * by 2^s ≤ 2(1 + ‖A‖₁): hence 1e-9·(1 + ‖A‖₁) against mathjs (Padé 13, f64).
 */
const devTol = (norm: number, d: number) => 2e-7 * (1 + norm) * Math.sqrt(d);
const f64Tol = (norm: number) => 1e-9 * (1 + norm);

const DIMS = [1, 2, 5, 13, 32, 50, 64];
const NORMS = [1e-3, 0.5, 3, 20];
const KINDS: Kind[] = ['random', 'symmetric', 'nonnormal'];

async function devExpm(e: Engine, a: Float64Array, d: number): Promise<Float64Array> {
  const t = e.tensor(a, [d, d]);
  const out = expm(t);
  const v = Float64Array.from(await out.toArray());
  t.dispose();
  out.dispose();
  return v;
}

describe('expm', () => {
  test.each(DIMS.map((d) => [d]))('d = %i: matches mathjs.expm over kinds and norms', async (d) => {
    const r = rng(100 + d);
    for (const kind of KINDS)
      for (const norm of NORMS) {
        const a = makeMatrix(r, d, kind, norm);
        const ref = mathjsExpm(a, d);
        const label = `${kind} d=${d} ‖A‖₁=${norm}`;
        const e64 = expm64(a, d);
        const err64 = relFrob(e64, ref);
        expect({ label, err64, ok: err64 < f64Tol(norm) }).toEqual({ label, err64, ok: true });
        const got = await devExpm(E.dev, a, d);
        const err = relFrob(got, ref);
        expect({ label, err, ok: err < devTol(norm, d) }).toEqual({ label, err, ok: true });
        // the CPU backend runs the kernel's float64 reference
        const cpu = await devExpm(E.cpu, a, d);
        expect(relFrob(cpu, e64)).toBe(0);
      }
  });

  test('one dispatch per expm', () => {
    const e = E.dev;
    const t = e.tensor(makeMatrix(rng(3), 64, 'random', 20), [64, 64]);
    e.flush();
    const before = e.stats().dispatches;
    const out = expm(t);
    e.flush();
    expect(e.stats().dispatches - before).toBe(1);
    out.dispose();
    t.dispose();
  });

  test('rejects non-square and too large matrices', () => {
    expect(() => expm(E.cpu.tensor(new Float64Array(6), [2, 3]))).toThrow(/square/);
    expect(() => expm(E.cpu.tensor(new Float64Array(65 * 65), [65, 65]))).toThrow(/exceeds/);
  });
});

describe('notearsH', () => {
  /** h and ∂h/∂W on engine e. */
  async function hAndGrad(e: Engine, w: Float64Array, d: number, dy = 1) {
    const t = e.tensor(w, [d, d]).requireGrad();
    const h = gradScope(e, () => {
      const h = notearsH(t);
      backward(h, dy === 1 ? undefined : e.scalar(dy));
      return h;
    });
    return { h: (await h.toArray())[0], g: Float64Array.from(await t.grad!.toArray()) };
  }

  const h64 = (w: Float64Array, d: number) => {
    const Ex = expm64(
      w.map((v) => v * v),
      d,
    );
    let t = 0;
    for (let i = 0; i < d; i++) t += Ex[i * d + i] - 1;
    return t;
  };

  test('strictly upper-triangular W (nilpotent) gives h = 0', async () => {
    for (const d of [2, 5, 13, 32, 64]) {
      const r = rng(d);
      const w = f32(
        Float64Array.from({ length: d * d }, (_, e) =>
          e % d > Math.floor(e / d) ? r.uniform() * 2 - 1 : 0,
        ),
      );
      const { h } = await hAndGrad(E.dev, w, d);
      expect(Math.abs(h)).toBeLessThan(1e-6);
    }
  });

  test.each([[2], [5], [13], [32]])(
    'd = %i: h and gradient vs f64 and finite differences',
    async (d) => {
      const r = rng(50 + d);
      // ‖W∘W‖₁ = 3 (the regime NOTEARS works in), which needs s = 2 squarings
      const w0 = makeMatrix(r, d, 'random', 1);
      const sq = oneNorm(
        w0.map((v) => v * v),
        d,
      );
      const w = f32(w0.map((v) => v * Math.sqrt(3 / sq)));
      const ref = await hAndGrad(E.cpu, w, d, 1.5);
      // f64 reference vs finite differences of the f64 h
      const fd = finiteDiff((x) => h64(x, d), w).map((g) => 1.5 * g);
      expectClose([ref.h], [h64(w, d)], { atol: 1e-13, rtol: 1e-12 }, 'h f64');
      expectClose(ref.g, fd, TOL.finiteDiff, 'grad vs finite differences');
      // the gradient's analytic form 2·W∘Eᵀ (E from mathjs)
      const Em = mathjsExpm(
        w.map((v) => v * v),
        d,
      );
      const ga = Float64Array.from(w, (v, e) => 1.5 * 2 * v * Em[(e % d) * d + Math.floor(e / d)]);
      expectClose(ref.g, ga, { atol: 1e-12, rtol: 1e-10 }, 'grad vs 2W∘Eᵀ');
      // device vs CPU: h is a trace of ‖E‖-sized values, so budget the expm tolerance times ‖E‖
      const dev = await hAndGrad(E.dev, w, d, 1.5);
      const tol = devTol(3, d);
      expectClose([dev.h], [ref.h], { atol: tol * d * 3, rtol: tol }, 'h device');
      expectClose(dev.g, ref.g, { atol: tol * 3, rtol: tol }, 'grad device');
    },
  );

  test('forward one dispatch, backward one dispatch', () => {
    const e = E.dev;
    const d = 32;
    const t = e.tensor(makeMatrix(rng(9), d, 'random', 4), [d, d]).requireGrad();
    gradScope(e, () => {
      e.flush();
      const s0 = e.stats().dispatches;
      const h = notearsH(t);
      e.flush();
      const s1 = e.stats().dispatches;
      backward(h);
      e.flush();
      expect(s1 - s0).toBe(1);
    });
    // grad starts as null: a gradient of the right shape was set
    expect(t.grad?.shape).toEqual([d, d]);
  });
});
