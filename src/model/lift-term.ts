/**
 * Lift-test calibration (issue 15): the model's own lift of each geo experiment, computed on the
 * engine inside the training step. For a test on channel c in regions G over counted weeks
 * [from, to], the counterfactual batch is the training batch with c's input set to 0 in G over the
 * test weeks; the model runs it (media transform, GRU, heads: carry-over and the coefficients'
 * response follow), and the lift is Σ_{r∈G, t∈[from,to]} ȳ_r · (ŷ − ŷ_cf)[r, t] in KPI units
 * (ȳ_r: the region's target scale). Baseline, seasonality and trend do not depend on media and
 * cancel in the difference, so only the media and control terms are recomputed. The loss gains
 * w · Σ_j ((lift_j − measured_j) / se_j)², with w written by the trainer (see `liftWeight`).
 */
import type { LiftTest } from '../calibration/lift-tests.js';
import type { PreparedData } from '../data/pipeline.js';
import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import {
  add,
  addScalar,
  burnInStableWeights,
  concat,
  mul,
  reshape,
  sigmoid,
  slice,
  softplus,
  sub,
  sum,
  square,
  tanh,
} from '../ops/index.js';
import { COEFFICIENT_MAX_OFFSET } from '../maths/constraints.js';
import type { HostBatch } from './batch.js';
import type { MMMConfig } from './config.js';
import type { DeepCausalMMM, ModelBatch } from './model.js';

/** What the model's output is made of where media matter: transformed media and the heads. */
interface Encoded {
  xt: Tensor;
  heads: Tensor;
  /** the media centre the model's output subtracts [R, 1, C] (mediaCentering), kept for the counterfactual */
  center?: Tensor | null;
}

export class LiftCalibration {
  readonly tests: readonly LiftTest[];
  /** per test: the training batch's media with the channel off in the test's cells [R, T, C] */
  private readonly cfMedia: Tensor[];
  /** per test: ȳ_r on the counted cells, 0 elsewhere [R, T] */
  private readonly cells: Tensor[];
  private readonly measured: Tensor;
  private readonly invSe: Tensor;
  /** [1] the term's weight, written by the trainer */
  readonly weight: Tensor;
  private readonly stableW: Tensor;
  private readonly headW: Tensor;

  constructor(
    private readonly engine: Engine,
    private readonly model: DeepCausalMMM,
    prepared: PreparedData,
    host: HostBatch,
    tests: readonly LiftTest[],
    config: Pick<MMMConfig, 'burnInWeeks' | 'burnInMethod'>,
  ) {
    if (tests.length === 0) throw new Error('causalmix: LiftCalibration needs at least one test');
    this.tests = tests;
    const { R, T } = host;
    const C = prepared.C;
    const B = prepared.B;
    const keep = (t: Tensor) => engine.keep(t);
    this.cfMedia = tests.map((t) => {
      const media = Float32Array.from(host.media);
      for (const r of t.regionIndex)
        for (let w = t.from; w <= t.testTo; w++) media[(r * T + B + w) * C + t.c] = 0;
      return keep(engine.tensor(media, [R, T, C]));
    });
    this.cells = tests.map((t) => {
      const cells = new Float32Array(R * T);
      for (const r of t.regionIndex)
        for (let w = t.from; w <= t.to; w++) cells[r * T + B + w] = prepared.yMean[r];
      return keep(engine.tensor(cells, [R, T]));
    });
    this.measured = keep(
      engine.tensor(
        tests.map((t) => t.lift),
        [tests.length],
      ),
    );
    this.invSe = keep(
      engine.tensor(
        tests.map((t) => 1 / t.se),
        [tests.length],
      ),
    );
    this.weight = keep(engine.zeros([1]));
    const sw = burnInStableWeights(config.burnInWeeks, config.burnInMethod, T);
    this.stableW = keep(engine.tensor(sw, [1, T, 1]));
    this.headW = keep(
      engine.tensor(
        sw.map((v) => 1 - v),
        [1, T, 1],
      ),
    );
  }

  /** The model's lift of every test [J], from the actual pass and one counterfactual pass each. */
  lifts(actual: Encoded, batch: ModelBatch, training: boolean): Tensor {
    const base = this.mediaPart(actual, batch.controls);
    const scale = softplus(this.model.param('predictionScaleRaw'));
    const lifts = this.tests.map((_, j) => {
      // around the actual media's centre: a go-dark moves no region's level
      const cf = {
        ...this.model.encode({ ...batch, media: this.cfMedia[j] }, training),
        center: actual.center,
      };
      const diff = mul(scale, sub(base, this.mediaPart(cf, batch.controls)));
      return reshape(sum(mul(diff, this.cells[j])), [1]);
    });
    return lifts.length === 1 ? lifts[0] : concat(lifts, 0);
  }

  /** weight · Σ z², z = (model lift − measured) / se. */
  penalty(lifts: Tensor): Tensor {
    // sum(square(·)): sumSquares is the clipping's non-differentiable reduction
    return mul(this.weight, sum(square(mul(sub(lifts, this.measured), this.invSe))));
  }

  /**
   * Σ_c β_c (x̃_c − centre_c) + Σ_k γ_k z_k [R, T]: the part of the unscaled prediction that media can move
   * (coefficients as the output head forms them, mmm-output.ts).
   */
  private mediaPart({ xt, heads, center }: Encoded, controls: Tensor): Tensor {
    const [R, T, C] = xt.shape;
    const K = controls.shape[2];
    const p = (n: string) => this.model.param(n);
    const coef = (act: Tensor, maxRaw: Tensor, stable: Tensor) =>
      add(
        mul(this.stableW, stable),
        mul(this.headW, mul(act, addScalar(softplus(maxRaw), COEFFICIENT_MAX_OFFSET))),
      );
    const head = (from: number, n: number) => slice(heads, [0, 0, from], [R, T, n]);
    const beta = coef(sigmoid(head(0, C)), p('mediaCoeffMaxRaw'), p('stableMediaCoeff'));
    const media = sum(mul(center ? sub(xt, center) : xt, beta), 2);
    if (K === 0) return media;
    const gamma = coef(tanh(head(C, K)), p('ctrlCoeffMaxRaw'), p('stableCtrlCoeff'));
    return add(media, sum(mul(controls, gamma), 2));
  }

  dispose(): void {
    [
      ...this.cfMedia,
      ...this.cells,
      this.measured,
      this.invSe,
      this.weight,
      this.stableW,
      this.headW,
    ].forEach((t) => t.dispose());
  }
}

/**
 * The term's weight: with Gaussian noise of variance σ² on the scaled KPI, the data loss (mean
 * Huber, ≈ ½·mean squared residual) is ≈ σ²/2, and the log-likelihood of N observed cells and J
 * tests is −(N/σ²)·dataLoss − ½Σz². Divided by N/σ² that is dataLoss + (σ²/2N)·Σz², so
 * w = dataLoss/N with the data loss measured once where the term starts (`liftTestWeight` scales it).
 */
export function liftWeight(dataLoss: number, observedCells: number, scale: number): number {
  return (scale * dataLoss) / observedCells;
}
