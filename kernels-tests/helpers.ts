/**
 * Shared test setup: the device under test (CAUSALMIX_ADAPTER pins it: gl, swiftshader, cpu, …)
 * and the float64 CPU reference engine, plus comparison and finite-difference helpers.
 */
import { createEngine, type Engine } from '../src/engine/engine.js';
import { Rng } from '../src/engine/random.js';
import type { Tensor } from '../src/engine/tensor.js';

export interface Engines {
  /** the engine under test (a WebGPU adapter in CI; the CPU when CAUSALMIX_ADAPTER=cpu) */
  dev: Engine;
  /** the float64 reference */
  cpu: Engine;
}

/** Creates both engines for a test file; destroy them in afterAll. */
export async function makeEngines(): Promise<Engines> {
  const dev = await createEngine({ adapter: 'auto' });
  const cpu = await createEngine({ adapter: 'cpu' });
  return { dev, cpu };
}

export function destroyEngines(e: Engines | undefined): void {
  e?.dev?.destroy();
  e?.cpu?.destroy();
}

/**
 * Creates both engines before a test file's tests and destroys them after: one shared device per
 * test process, as Dawn prefers. The returned object is filled in by `beforeAll`.
 */
export function useEngines(): Engines {
  const engines = {} as Engines;
  beforeAll(async () => {
    Object.assign(engines, await makeEngines());
  });
  afterAll(() => destroyEngines(engines));
  return engines;
}

export function rng(seed = 1): Rng {
  return new Rng(seed);
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Fails with the worst element when |a − e| > atol + rtol·|e| anywhere. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  label = '',
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length} != expected ${expected.length}`);
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const excess = Math.abs(a - e) - (tol.atol + tol.rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} ` +
        `(|diff| ${Math.abs(actual[worst] - expected[worst]).toExponential(3)} > atol ${tol.atol} + rtol ${tol.rtol}·|e|)`,
    );
  }
}

/** Central finite differences of a scalar function of one flat array (float64). */
export function finiteDiff(
  f: (x: Float64Array) => number,
  x: Float64Array,
  eps = 1e-6,
): Float64Array {
  const g = new Float64Array(x.length);
  const y = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    y[i] = x[i] + eps;
    const fp = f(y);
    y[i] = x[i] - eps;
    const fm = f(y);
    y[i] = x[i];
    g[i] = (fp - fm) / (2 * eps);
  }
  return g;
}

/** Reads a tensor synchronously on the CPU engine (its storage is a Float64Array). */
export function cpuValues(t: Tensor): Float64Array {
  if (t.engine.isGpu) throw new Error('cpuValues needs a CPU tensor');
  return Float64Array.from(t.storage.cpu);
}

/** A random shape's worth of values in [lo, hi). */
export function randArray(r: Rng, n: number, lo = -1, hi = 1): Float64Array {
  return r.uniformArray(n, lo, hi);
}
