/**
 * Unfused comparators of the fused ops, built ONLY from generic ops (element-wise maps, clamp,
 * sum, matmul, slice, concat, reshape) so the tape differentiates them: the same maths as
 * src/ops/media-transform.ts, gru.ts, expm.ts and dag-penalty.ts, one generic dispatch per step.
 * The benchmark times them against the fused kernels (bench/fused.cases.ts), and
 * kernels-tests/composed.test.ts checks they agree in values and gradients.
 *
 * They create many intermediates and constant tensors: call them inside `tidy` or `record`. The tape
 * records them only inside a gradient scope: to differentiate, run them and `backward` inside
 * `gradScope(engine, …)`.
 */
import type { Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import type { DagPenaltyOptions } from '../src/ops/dag-penalty.js';
import {
  abs,
  add,
  addScalar,
  affine,
  clamp,
  log,
  mul,
  mulScalar,
  sigmoid,
  softplus,
  sqrt,
  square,
  sub,
  tanh,
} from '../src/ops/elementwise.js';
import { matmul } from '../src/ops/matmul.js';
import { expmSquarings, INV_FACT } from '../src/ops/expm.js';
import type { MediaTransformOptions } from '../src/ops/media-transform.js';
import { sum } from '../src/ops/reduce.js';
import { concat, reshape, slice } from '../src/ops/shape.js';

/** The DAG edge mask M [C, C]: strictly upper-triangular, or every off-diagonal edge. */
function dagMask(e: Engine, c: number, notears: boolean): Tensor {
  const m = Float64Array.from({ length: c * c }, (_, k) => {
    const [i, j] = [Math.floor(k / c), k % c];
    return (notears ? i !== j : i < j) ? 1 : 0;
  });
  return e.tensor(m, [c, c]);
}

/** c·I [d, d] as a constant. */
function scaledEye(e: Engine, d: number, c: number): Tensor {
  return e.tensor(
    Float64Array.from({ length: d * d }, (_, k) => (Math.floor(k / d) === k % d ? c : 0)),
    [d, d],
  );
}

// ---- media transform ----------------------------------------------------------------------------

/**
 * Below this the adstock counts as zero in the Hill curve: ln of the clamped value is finite, and
 * σ(a·(ln 1e-30 − ln g)) ≤ σ(2·(−69.1 + 4.6)) < 1e-55 for every allowed slope a ≥ 2 and g ≤ 1, which
 * is 0 in f32 (and its gradient, since clamp passes none below its bound). So h = 0 at s ≤ 0 as the
 * fused op defines, with no mask and no readback.
 */
const HILL_FLOOR = 1e-30;

/**
 * mediaTransform (model-spec §6.1–6.3, log-space Hill) from generic ops: adstock as a loop over T
 * of slice / mul / add / clamp joined by one concat, Hill element-wise, the DAG mix as one matmul.
 * (upstreamCompat is not composed.)
 */
export function mediaTransformComposed(
  x: Tensor,
  alphaRaw: Tensor,
  slopeRaw: Tensor,
  halfSatRaw: Tensor,
  dagLogits: Tensor,
  mixRaw: Tensor,
  opts: Pick<MediaTransformOptions, 'temperature' | 'mask'> = {},
): Tensor {
  const [R, T, C] = x.shape;
  const e = x.engine;
  const tau = opts.temperature ?? 0.5;
  // σ > 0, so min(σ, 0.8) is clamp(σ, 0, 0.8): one dispatch, same gradient rule (closed bound)
  const alpha = clamp(sigmoid(alphaRaw), 0, 0.8);
  const slope = clamp(softplus(slopeRaw), 2, 5);
  const half = clamp(softplus(halfSatRaw), 0.01, 1);
  // adstock: a_0 = x_0, a_t = clamp(x_t + α·a_{t−1}, 0, 10)
  const steps: Tensor[] = [slice(x, [0, 0, 0], [R, 1, C])];
  for (let t = 1; t < T; t++) {
    const xt = slice(x, [0, t, 0], [R, 1, C]);
    steps.push(clamp(add(xt, mul(steps[t - 1], alpha)), 0, 10));
  }
  const ad = T === 1 ? steps[0] : concat(steps, 1);
  // Hill: σ(a·(ln s − ln g)), 0 at s ≤ 0 (see HILL_FLOOR)
  const logS = log(clamp(ad, HILL_FLOOR, 3e38));
  const h = sigmoid(mul(slope, sub(logS, log(half))));
  // DAG: p = h·A with A = σ(L/τ) ∘ M; x̃ = h + m·(p − h) = (1 − m)·h + m·p
  const A = mul(sigmoid(mulScalar(dagLogits, 1 / tau)), dagMask(e, C, opts.mask === 'notears'));
  const p = reshape(matmul(reshape(h, [R * T, C]), A), [R, T, C]);
  return add(h, mul(sigmoid(mixRaw), sub(p, h)));
}

// ---- GRU ----------------------------------------------------------------------------------------

/**
 * gruSequence (PyTorch GRU, gate order r, z, n) from generic ops: the input projection of every
 * step as one matmul, then per step a matmul of h with W_hhᵀ and the gate maps; the h_t are joined
 * by one concat. h0 [H] is shared by every region (broadcast through the first step).
 */
export function gruSequenceComposed(
  u: Tensor,
  h0: Tensor,
  wih: Tensor,
  whh: Tensor,
  bih: Tensor,
  bhh: Tensor,
): Tensor {
  const [R, T, I] = u.shape;
  const H = h0.shape[0];
  const gi = reshape(add(matmul(reshape(u, [R * T, I]), wih, { transposeB: true }), bih), [
    R,
    T,
    3 * H,
  ]);
  let h = reshape(h0, [1, H]);
  const hs: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const git = reshape(slice(gi, [0, t, 0], [R, 1, 3 * H]), [R, 3 * H]);
    const gh = add(matmul(h, whh, { transposeB: true }), bhh); // [R | 1, 3H]
    const rz = sigmoid(slice(add(git, gh), [0, 0], [R, 2 * H]));
    const r = slice(rz, [0, 0], [R, H]);
    const z = slice(rz, [0, H], [R, H]);
    const rows = gh.shape[0];
    const n = tanh(add(slice(git, [0, 2 * H], [R, H]), mul(r, slice(gh, [0, 2 * H], [rows, H]))));
    // h' = (1 − z)·n + z·h = n + z·(h − n)
    h = add(n, mul(z, sub(h, n)));
    hs.push(reshape(h, [R, 1, H]));
  }
  return T === 1 ? hs[0] : concat(hs, 1);
}

// ---- matrix exponential and NOTEARS -------------------------------------------------------------

/** 1/k! for k = 0..12: the degree-12 Taylor coefficients of src/ops/expm.ts. */
// The host-side squarings and the Taylor coefficients are the fused op's own (src/ops/expm.ts):
// a composed program's dispatch list depends on s, so it is computed from the input values before
// recording (the bench knows the values it uploads).
export { expmSquarings };

/**
 * exp(A) of A [d, d] from matmul / mulScalar / add: A/2^s, the degree-12 Taylor polynomial by
 * Paterson–Stockmeyer (A², A³, A⁴ and two Horner steps in A⁴, as src/ops/expm.ts), then s
 * squarings. `squarings` comes from `expmSquarings` on the host (see there). Differentiable.
 */
export function expmComposed(a: Tensor, squarings: number): Tensor {
  const e = a.engine;
  const d = a.shape[0];
  const A = squarings > 0 ? mulScalar(a, 2 ** -squarings) : a;
  const A2 = matmul(A, A);
  const A3 = matmul(A2, A);
  const A4 = matmul(A2, A2);
  // c_b·I + c_{b+1}·A + c_{b+2}·A² + c_{b+3}·A³
  const block = (b: number) =>
    add(
      add(
        add(mulScalar(A, INV_FACT[b + 1]), mulScalar(A2, INV_FACT[b + 2])),
        mulScalar(A3, INV_FACT[b + 3]),
      ),
      scaledEye(e, d, INV_FACT[b]),
    );
  const X = add(block(8), mulScalar(A4, INV_FACT[12]));
  const Y = add(matmul(A4, X), block(4));
  let P = add(matmul(A4, Y), block(0));
  for (let q = 0; q < squarings; q++) P = matmul(P, P);
  return P;
}

/**
 * NOTEARS h(W) = tr(exp(W∘W)) − d from generic ops (the trace as Σ E∘I), a [] scalar;
 * `squarings` = expmSquarings of W∘W.
 */
export function notearsHComposed(w: Tensor, squarings: number): Tensor {
  const d = w.shape[0];
  const E = expmComposed(square(w), squarings);
  return addScalar(sum(mul(E, scaledEye(w.engine, d, 1))), -d);
}

// ---- DAG penalty --------------------------------------------------------------------------------

/** Fixed weights per mode [ΣA, ΣP(1−P), Σ|L|], as src/ops/dag-penalty.ts. */
const DAG_WEIGHTS = { triangular: [0.01, 0.001, 0.0002], notears: [0, 0, 1e-4] } as const;

/**
 * dagPenalty (model-spec §7) from generic ops, a [1] tensor:
 * (w0 + coef[0])·ΣA + w1·ΣP(1−P) + w2·Σ|L| + coef[1]·Σ_j √(Σ_i A_ij² + 1e-8), P = σ(L/τ), A = P∘M.
 * Terms whose fixed weight is 0 in the mode are left out; the coef terms always stay (coef is data).
 */
export function dagPenaltyComposed(
  logits: Tensor,
  coef: Tensor,
  opts: DagPenaltyOptions = {},
): Tensor {
  const c = logits.shape[0];
  const notears = opts.mode === 'notears';
  const scale = opts.scale ?? 1;
  const [w0, w1, w2] = DAG_WEIGHTS[notears ? 'notears' : 'triangular'].map((w) => w * scale);
  const P = sigmoid(mulScalar(logits, 1 / (opts.temperature ?? 0.5)));
  const A = mul(P, dagMask(logits.engine, c, notears));
  const coef0 = slice(coef, [0], [1]);
  const coef1 = slice(coef, [1], [1]);
  let v = mul(addScalar(coef0, w0), sum(A)); // [1]
  if (w1 !== 0) v = add(v, mulScalar(sum(mul(P, affine(P, -1, 1))), w1));
  if (w2 !== 0) v = add(v, mulScalar(sum(abs(logits)), w2));
  const norms = sqrt(addScalar(sum(square(A), 0), 1e-8));
  return add(v, mul(coef1, sum(norms)));
}
