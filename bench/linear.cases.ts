/**
 * Bench cases for the fused linear layer (src/ops/linear.ts) against the same layer composed from
 * matmul(transposeB) + add + relu, forward and backward, for `npm run bench`'s table. Model sizes:
 * M = R·T rows (190·102 for the paper's panel, 10·52 for --quick), I = O = H.
 */
import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import type { Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import { add, relu } from '../src/ops/elementwise.js';
import { linear } from '../src/ops/linear.js';
import { matmul } from '../src/ops/matmul.js';
import { sum } from '../src/ops/reduce.js';
import type { BenchCase } from './harness.js';

type Layer = (x: Tensor, w: Tensor, b: Tensor) => Tensor;

/** Records layer + sum + backward over fresh random x [M, I], W [O, I], b [O] (all with grads). */
function recordedLayer(e: Engine, m: number, i: number, o: number, layer: Layer) {
  const xs = [[m, i], [o, i], [o]].map((s) => e.keep(e.rand(s, -1, 1)).requireGrad());
  const [x, w, b] = xs;
  const program = e.record(() => gradScope(e, () => [...backward(sum(layer(x, w, b))).values()]));
  return { program, dispose: () => xs.forEach((t) => t.dispose()) };
}

const fused: Layer = (x, w, b) => linear(x, w, b, 'relu');
const unfused: Layer = (x, w, b) => relu(add(matmul(x, w, { transposeB: true }), b));

/** "linear+relu fwd+bwd" fused and unfused for x [M, I] and W [O, I]. */
export function linearCases(m: number, i: number, o: number): BenchCase[] {
  const size = `${m}×${i} → ${o}`;
  return [
    {
      name: 'linear+relu fwd+bwd (fused)',
      size,
      build: (e) => recordedLayer(e, m, i, o, fused),
    },
    {
      name: 'linear+relu fwd+bwd (unfused: matmul + add + relu)',
      size,
      build: (e) => recordedLayer(e, m, i, o, unfused),
    },
  ];
}
