/**
 * Fused-vs-unfused benchmark cases (issue 3): every fused op of a training step paired with the
 * same computation built from generic ops (bench/composed.ts, or the comparators next to the fused
 * linear and model-output ops). Each case records forward + backward of one step as a program over
 * inputs drawn from a fixed seed, so the fused and unfused programs (and the CPU reference) see the
 * same values.
 */
import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import type { Engine } from '../src/engine/engine.js';
import { Rng } from '../src/engine/random.js';
import type { Tensor } from '../src/engine/tensor.js';
import { dagPenalty } from '../src/ops/dag-penalty.js';
import { expm, notearsH } from '../src/ops/expm.js';
import { gruSequence } from '../src/ops/gru.js';
import { mediaTransform } from '../src/ops/media-transform.js';
import { sum } from '../src/ops/reduce.js';
import {
  dagPenaltyComposed,
  expmComposed,
  expmSquarings,
  gruSequenceComposed,
  mediaTransformComposed,
  notearsHComposed,
} from './composed.js';
import type { BenchCase } from './harness.js';
import { linearCases } from './linear.cases.js';
import { mmmOutputCases } from './mmm-output.cases.js';

export type FusedSize = 'small' | 'paper';

/** (R, T, C, K, H): the quick panel, and the paper's 190 regions × (96 + 6 padding) weeks. */
export const FUSED_SIZES: Record<
  FusedSize,
  { R: number; T: number; C: number; K: number; H: number }
> = {
  small: { R: 10, T: 52, C: 5, K: 3, H: 280 },
  paper: { R: 190, T: 102, C: 13, K: 7, H: 280 },
};

/** One fused op and its unfused comparator at one size. */
export interface FusedPair {
  op: string;
  size: string;
  fused: BenchCase;
  unfused: BenchCase;
}

/** An input: shape, host values, and whether it takes a gradient. */
type Input = [number[], Float64Array, boolean];

const uniform = (seed: number, n: number, lo: number, hi: number) =>
  new Rng(seed).uniformArray(n, lo, hi);

/**
 * A case recording `fn` over `inputs` and, with `grad`, backward of its sum (a scalar output is
 * used as is); the program's outputs are the gradients. The inputs are freed with the case.
 */
function recorded(
  name: string,
  size: string,
  inputs: Input[],
  fn: (...xs: Tensor[]) => Tensor,
  grad = true,
): BenchCase {
  return {
    name,
    size,
    build: (e: Engine) => {
      const xs = inputs.map(([s, v, g]) => e.keep(e.tensor(v, s)).requireGrad(grad && g));
      const program = e.record(() =>
        gradScope(e, () => {
          const out = fn(...xs);
          if (!grad) return out;
          return [...backward(out.size === 1 ? out : sum(out)).values()];
        }),
      );
      return { program, dispose: () => xs.forEach((x) => x.dispose()) };
    },
  };
}

/** Both versions of one op over the same inputs. */
function pair(
  op: string,
  size: string,
  inputs: Input[],
  fused: (...xs: Tensor[]) => Tensor,
  unfused: (...xs: Tensor[]) => Tensor,
  grad = true,
): FusedPair {
  return {
    op,
    size,
    fused: recorded(`${op} (fused)`, size, inputs, fused, grad),
    unfused: recorded(`${op} (unfused)`, size, inputs, unfused, grad),
  };
}

/** A pair from a [fused, unfused] list such as linearCases / mmmOutputCases return. */
function fromList(op: string, [fused, unfused]: BenchCase[]): FusedPair {
  return { op, size: fused.size, fused, unfused };
}

/** W = σ(L/τ)∘M-like weights in [0, 1) off the diagonal: what notearsH sees in the model. */
function dagWeights(seed: number, d: number): Float64Array {
  return uniform(seed, d * d, 0, 1).map((v, k) => (Math.floor(k / d) === k % d ? 0 : v));
}

/** Every fused op of a training step against its unfused comparator at `size`. */
export function fusedCases(size: FusedSize): FusedPair[] {
  const { R, T, C, K, H } = FUSED_SIZES[size];
  const fmt = (s: number[]) => `[${s.join(', ')}]`;
  const rtc = [R, T, C];
  const I = C + H / 2; // GRU input: transformed media ‖ control features
  const w = 1 / Math.sqrt(H); // PyTorch's GRU initialisation range
  const media: Input[] = [
    [rtc, uniform(1, R * T * C, 0, 2), true],
    [[C], uniform(2, C, -2, 1), true],
    [[C], uniform(3, C, 2.2, 4.8), true],
    [[C], uniform(4, C, -1, 0.4), true],
    [[C, C], uniform(5, C * C, -1, 1), true],
    [[C], uniform(6, C, -1, 1), true],
  ];
  const gru: Input[] = [
    [[R, T, I], uniform(11, R * T * I, -1, 1), true],
    [[H], uniform(12, H, -0.5, 0.5), true],
    [[3 * H, I], uniform(13, 3 * H * I, -w, w), true],
    [[3 * H, H], uniform(14, 3 * H * H, -w, w), true],
    [[3 * H], uniform(15, 3 * H, -w, w), true],
    [[3 * H], uniform(16, 3 * H, -w, w), true],
  ];
  // expm of W∘W and notearsH(W) for the DAG weights; the composed squarings come from the host
  const W = dagWeights(21, C);
  const W2 = W.map((v) => v * v);
  const squarings = expmSquarings(W2, C);
  return [
    pair(
      'media transform fwd+bwd',
      fmt(rtc),
      media,
      (x, a, s, g, l, m) => mediaTransform(x, a, s, g, l, m),
      (x, a, s, g, l, m) => mediaTransformComposed(x, a, s, g, l, m),
    ),
    pair(
      'GRU fwd+bwd',
      `${fmt([R, T, I])} → H ${H}`,
      gru,
      (u, h0, wih, whh, bih, bhh) => gruSequence(u, h0, wih, whh, bih, bhh),
      gruSequenceComposed,
    ),
    fromList('linear+relu fwd+bwd', linearCases(R * T, H, H)),
    fromList('mmm-output fwd+bwd', mmmOutputCases(R, T, C, K)),
    pair(
      'expm fwd',
      `d = ${C}`,
      [[[C, C], W2, false]],
      expm,
      (a) => expmComposed(a, squarings),
      false, // the fused expm has no gradient (notearsH carries the differentiable use)
    ),
    pair('notearsH fwd+bwd', `d = ${C}`, [[[C, C], W, true]], notearsH, (x) =>
      notearsHComposed(x, squarings),
    ),
    pair(
      'dag penalty fwd+bwd',
      `C = ${C} (triangular)`,
      [
        [[C, C], uniform(31, C * C, -2, 2), true],
        [[2], new Float64Array(2), false], // coef: zero in triangular mode, as the trainer writes
      ],
      (l, coef) => dagPenalty(l, coef),
      (l, coef) => dagPenaltyComposed(l, coef),
    ),
  ];
}
