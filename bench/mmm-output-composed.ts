/**
 * The fused mmm-output loss (src/ops/mmm-output.ts) built from generic ops: the unfused comparator
 * of the benchmark (bench/mmm-output.cases.ts) and a cross-check in
 * kernels-tests/mmm-output.test.ts. The stop-gradient ratios are computed under `noGrad`. It
 * creates many intermediates: call it inside `tidy` or `record`, and, to differentiate it, run it
 * and `backward` inside one `gradScope(engine, …)`.
 */
import type { Tensor } from '../src/engine/tensor.js';
import { noGrad } from '../src/autograd/tape.js';
import { COEFFICIENT_MAX_OFFSET } from '../src/maths/constraints.js';
import {
  add,
  addScalar,
  clamp,
  div,
  mul,
  mulScalar,
  sigmoid,
  softplus,
  square,
  sub,
  tanh,
} from '../src/ops/elementwise.js';
import { huberLoss, mseLoss } from '../src/ops/loss.js';
import { sum } from '../src/ops/reduce.js';
import { concat, reshape, slice } from '../src/ops/shape.js';
import {
  stableWeights,
  checkInputs,
  headsOf,
  LOSS_CODE,
  settingsOf,
  type MmmOutputCombinedInputs,
  type MmmOutputInputs,
  type MmmOutputOptions,
  type MmmOutputResult,
} from '../src/ops/mmm-output.js';

export function mmmOutputComposed(
  given: MmmOutputInputs | MmmOutputCombinedInputs,
  opts: MmmOutputOptions = {},
): MmmOutputResult {
  const s = settingsOf(opts);
  const heads = headsOf(given);
  const [R, T, C, K] = checkInputs(heads.inp, heads.combined);
  const inp = heads.combined
    ? {
        ...heads.inp,
        headMedia: slice(heads.inp.headMedia, [0, 0, 0], [R, T, C]),
        headCtrl: slice(heads.inp.headCtrl, [0, 0, C], [R, T, K]),
      }
    : heads.inp;
  const e = inp.headMedia.engine;
  const sw = stableWeights(s.method, s.B, T);
  const hw = sw.map((w) => 1 - w);
  const stableW = e.tensor(sw, [1, T, 1]);
  const headW = e.tensor(hw, [1, T, 1]);
  const coeffs = (head: Tensor, maxRaw: Tensor, stable: Tensor) =>
    add(
      mul(stableW, stable),
      mul(headW, mul(head, addScalar(softplus(maxRaw), COEFFICIENT_MAX_OFFSET))),
    );
  const beta = coeffs(sigmoid(inp.headMedia), inp.mediaMaxRaw, inp.stableMedia);
  const mediaContrib = mul(inp.xt, beta);
  const msum = sum(mediaContrib, 2);
  let gamma: Tensor;
  let ctrlContrib: Tensor;
  let raw: Tensor;
  const baseline = mul(
    clamp(add(reshape(softplus(inp.baselineRaw), [R, 1]), softplus(inp.globalBiasRaw)), 0, 3e38),
    e.ones([1, T]),
  );
  const seasonalContrib = mul(softplus(inp.seasonalCoeffRaw), inp.seasonal);
  if (K > 0) {
    gamma = coeffs(tanh(inp.headCtrl), inp.ctrlMaxRaw, inp.stableCtrl);
    ctrlContrib = mul(inp.z, gamma);
    raw = add(add(add(msum, sum(ctrlContrib, 2)), baseline), seasonalContrib);
  } else {
    gamma = e.empty([R, T, 0]);
    ctrlContrib = e.empty([R, T, 0]);
    raw = add(add(msum, baseline), seasonalContrib);
  }
  if (inp.offset) raw = add(raw, inp.offset);
  const pred = mul(softplus(inp.predScaleRaw), raw);
  const data =
    s.code === LOSS_CODE.huber
      ? huberLoss(pred, inp.target, s.delta, inp.lossMask)
      : mseLoss(pred, inp.target, inp.lossMask);
  const zeros = e.zeros([R, T]);
  const attr = mseLoss(sub(msum, mulScalar(raw, s.prior)), zeros, inp.lossMask);
  const seas = square(addScalar(softplus(inp.seasonalCoeffRaw), -1));
  const [ra, rs, parts] = noGrad(e, () => [
    s.attrAdaptive ? div(data, addScalar(attr, 1e-8)) : e.tensor([1], [1]),
    div(data, addScalar(seas, 1e-8)),
    concat(
      [reshape(data, [1]), reshape(attr, [1]), reshape(seas, [1]), reshape(sum(inp.lossMask), [1])],
      0,
    ),
  ]);
  // data and attr are scalars [], seas and the ratios [1]: the sum broadcasts to [1]
  const loss = add(add(data, mulScalar(mul(attr, ra), s.wAttr)), mulScalar(mul(seas, rs), s.wSeas));
  const result: MmmOutputResult = { loss, parts };
  if (s.all) {
    Object.assign(result, {
      prediction: pred,
      mediaCoeffs: beta,
      ctrlCoeffs: gamma,
      mediaContrib,
      ctrlContrib,
      baseline,
      seasonalContrib,
    });
    // a view of the input (not the input itself, so the caller may dispose both)
    if (inp.offset) result.offsetContrib = reshape(inp.offset, [R, T]);
  }
  return result;
}
