/**
 * Benchmark cases of the fused model output (src/ops/mmm-output.ts): one training step's forward
 * and backward, fused (4 dispatches) and built from generic ops (the unfused comparator). The
 * bench driver adds them to its table, e.g. `mmmOutputCases(190, 102, 13, 7)`; with
 * `{ offset: true }` the cases also pass an additive `offset` [R, T] (the model's trend; still 4
 * dispatches fused).
 */
import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import type { Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import {
  MMM_OUTPUT_INPUTS,
  MMM_OUTPUT_OPTIONAL_INPUTS,
  mmmOutput,
  type MmmOutputInputs,
  type MmmOutputResult,
} from '../src/ops/mmm-output.js';
import { mmmOutputComposed } from './mmm-output-composed.js';
import type { BenchCase } from './harness.js';

/** The sizes the table reports: the quick panel and the paper's (R, T, C, K). */
export const MMM_OUTPUT_BENCH_SIZES: [number, number, number, number][] = [
  [10, 52, 5, 3],
  [190, 102, 13, 7],
];

/** Options of the benchmark cases. */
export interface MmmOutputBenchOptions {
  /** also pass an additive `offset` [R, T] (with a gradient) */
  offset?: boolean;
}

/** Random inputs in the ranges the model sees; z, seasonal, target and the mask take no gradient. */
function inputs(
  e: Engine,
  R: number,
  T: number,
  C: number,
  K: number,
  opts: MmmOutputBenchOptions,
): MmmOutputInputs {
  const shapes: Record<keyof MmmOutputInputs, [number[], number, number]> = {
    headMedia: [[R, T, C], -2, 2],
    headCtrl: [[R, T, K], -1.5, 1.5],
    mediaMaxRaw: [[C], -1, 1],
    ctrlMaxRaw: [[K], -1, 1],
    stableMedia: [[C], 0, 0.5],
    stableCtrl: [[K], -0.2, 0.2],
    xt: [[R, T, C], 0, 1],
    z: [[R, T, K], -2, 2],
    baselineRaw: [[R], -1, 0.5],
    globalBiasRaw: [[1], -1, 0],
    seasonalCoeffRaw: [[1], -0.5, 1],
    predScaleRaw: [[1], -0.5, 0.5],
    seasonal: [[R, T], 0, 1],
    target: [[R, T], 0.5, 3.5],
    lossMask: [[R, T], 1, 1],
    offset: [[R, T], -0.5, 0.5],
  };
  const constant = new Set(['z', 'seasonal', 'target', 'lossMask']);
  const out = {} as Record<keyof MmmOutputInputs, Tensor>;
  const names = opts.offset
    ? [...MMM_OUTPUT_INPUTS, ...MMM_OUTPUT_OPTIONAL_INPUTS]
    : MMM_OUTPUT_INPUTS;
  for (const k of names) {
    const [shape, lo, hi] = shapes[k];
    const t = lo === hi ? e.full(shape, lo) : e.rand(shape, lo, hi);
    out[k] = e.keep(t).requireGrad(!constant.has(k));
  }
  return out;
}

function step(
  op: (inp: MmmOutputInputs) => MmmOutputResult,
  R: number,
  T: number,
  C: number,
  K: number,
  opts: MmmOutputBenchOptions,
) {
  return (e: Engine) => {
    const inp = inputs(e, R, T, C, K, opts);
    const program = e.record(() => gradScope(e, () => [...backward(op(inp).loss).values()]));
    return { program, dispose: () => Object.values(inp).forEach((t: Tensor) => t.dispose()) };
  };
}

/** "mmm-output fwd+bwd (fused)" and "(unfused)" at one size. */
export function mmmOutputCases(
  R: number,
  T: number,
  C: number,
  K: number,
  opts: MmmOutputBenchOptions = {},
): BenchCase[] {
  const size = `R,T,C,K = ${R}, ${T}, ${C}, ${K}${opts.offset ? ', offset' : ''}`;
  return [
    {
      name: 'mmm-output fwd+bwd (fused)',
      size,
      build: step((i) => mmmOutput(i), R, T, C, K, opts),
    },
    {
      name: 'mmm-output fwd+bwd (unfused)',
      size,
      build: step((i) => mmmOutputComposed(i), R, T, C, K, opts),
    },
  ];
}
