/**
 * Central finite differences of a model's scalar loss beside the tape's gradient, for the first
 * few entries of the named parameters (float64 CPU backend); the tests keep their own tolerances.
 */
import { backward } from '../src/autograd/backward.js';
import { gradScope, noGrad } from '../src/autograd/tape.js';
import type { Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import type { DeepCausalMMM } from '../src/model/model.js';

export interface GradientPoint {
  name: string;
  i: number;
  grad: number;
  fd: number;
}

export async function gradientVsDifferences(
  engine: Engine,
  model: DeepCausalMMM,
  loss: () => Tensor,
  names: readonly string[],
  perParam: number,
  eps = 1e-6,
): Promise<GradientPoint[]> {
  gradScope(engine, () => model.arena.setGrads(backward(loss())));
  const value = async () => (await noGrad(engine, loss).toArray())[0];
  const out: GradientPoint[] = [];
  for (const name of names) {
    const p = model.param(name);
    const grad = await model.arena.grad(name).toArray();
    const x = await p.toArray();
    for (let i = 0; i < Math.min(x.length, perParam); i++) {
      const at = (v: number) => {
        const y = Float64Array.from(x);
        y[i] = v;
        p.write(y);
        return value();
      };
      const fd = ((await at(x[i] + eps)) - (await at(x[i] - eps))) / (2 * eps);
      p.write(x);
      out.push({ name, i, grad: grad[i], fd });
    }
  }
  return out;
}
