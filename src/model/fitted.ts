/**
 * A trained (or loaded) model with its data: decomposition in original units, evaluation against
 * the naive forecasts, prediction of new weeks (continuing the sequence), and the model file.
 */
import { learnMediaGraph, type MediaGraph } from '../analysis/media-graph.js';
import { evaluationReport, type EvaluationReport } from '../analysis/metrics.js';
import { prepareFutureWeeks, type FutureInput, type PreparedData } from '../data/pipeline.js';
import type { Engine } from '../engine/engine.js';
import { noGrad } from '../autograd/tape.js';
import { sigmoid, softplus } from '../maths/functions.js';
import { disposeBatch, fullBatch, toDevice, type HostBatch } from './batch.js';
import type { MMMConfig } from './config.js';
import { DeepCausalMMM } from './model.js';
import type { LiftTestResult, TrainProgress } from './trainer.js';
import { pathBasis, pathRows } from './trend.js';

export interface TrainingSummary {
  history: TrainProgress[];
  /** main-phase epochs run */
  epochs: number;
  cancelled: boolean;
  stoppedEarly: boolean;
  bestEpoch?: number;
  seconds: number;
  dispatchesPerStep: number;
  adapter?: string;
  /** lift-test calibration: each test's measured lift and the model's before and after */
  liftTests?: LiftTestResult[];
}

/** Everything in original units over W weeks (padding removed), flat row-major. */
export interface Decomposition {
  R: number;
  W: number;
  C: number;
  K: number;
  /** [R, W] the reported prediction, clamped at 0 */
  prediction: Float64Array;
  /** [R, W] the unclamped prediction: the components add up to it */
  predictionUnclamped: Float64Array;
  /** region-weeks whose prediction the clamp at 0 changed */
  clampedCount: number;
  mediaContrib: Float64Array;
  ctrlContrib: Float64Array;
  baseline: Float64Array;
  seasonal: Float64Array;
  /** time-varying coefficients (scaled space) [R, W, C] and [R, W, K] */
  mediaCoeffs: Float64Array;
  ctrlCoeffs: Float64Array;
  /** predictions on the B padding weeks [R, B] (the paper-style R² counts them) */
  paddingPrediction: Float64Array;
}

export class FittedMMM {
  constructor(
    readonly engine: Engine,
    readonly model: DeepCausalMMM,
    readonly prepared: PreparedData,
    readonly config: MMMConfig,
    readonly training: TrainingSummary,
  ) {}

  get channels(): string[] {
    return this.prepared.channels;
  }

  /**
   * With media centring the model's output reports β·(x̃ − centre) and a level that holds β·centre:
   * back to β·x̃ for the media and the level less it, so contributions keep their meaning (the sum,
   * and so the prediction, is unchanged).
   */
  private async uncenter(
    media: Float64Array,
    baseline: Float64Array,
    beta: Float64Array,
    R: number,
    T: number,
  ): Promise<void> {
    const center = await this.model.mediaCenter();
    if (!center) return;
    const C = this.prepared.C;
    for (let r = 0; r < R; r++)
      for (let t = 0; t < T; t++) {
        const i = r * T + t;
        for (let c = 0; c < C; c++) {
          const shift = beta[i * C + c] * center[r * C + c];
          media[i * C + c] += shift;
          baseline[i] -= shift;
        }
      }
  }

  /** Runs the model over a host batch (eval mode) and returns the raw outputs on the host. */
  private async run(b: HostBatch) {
    const e = this.engine;
    const { C, K } = this.prepared;
    const batch = toDevice(e, b, C, K, this.model.dims.path);
    const out = noGrad(e, () => this.model.forward(batch, { outputs: 'all' }));
    const names = [
      'prediction',
      'mediaContrib',
      'ctrlContrib',
      'baseline',
      'seasonalContrib',
      'mediaCoeffs',
      'ctrlCoeffs',
    ] as const;
    const values = await Promise.all(names.map((n) => out[n]!.toArray()));
    await this.uncenter(values[1], values[3], values[5], b.R, b.T);
    // the learned path: its Fourier part is the seasonality, the rest (the trend) joins the
    // baseline, a region's level now changing over time
    if (out.offsetContrib) {
      const path = await out.offsetContrib.toArray();
      const seasonal = await this.fourierPart(b.R, b.T);
      path.forEach((v, i) => {
        values[3][i] += v - seasonal[i];
        values[4][i] += seasonal[i];
      });
    }
    e.tidy(() =>
      [
        out.total,
        out.parts,
        out.loss,
        out.mediaTransformed,
        out.offsetContrib,
        ...names.map((n) => out[n]!),
      ].forEach((t) => t?.dispose()),
    );
    disposeBatch(batch);
    const [scale] = await this.model.param('predictionScaleRaw').toArray();
    return {
      values: Object.fromEntries(names.map((n, i) => [n, values[i]])) as Record<
        (typeof names)[number],
        Float64Array
      >,
      ps: softplus(scale),
    };
  }

  /** The Fourier seasonality of the learned path, [R, T] in scaled units (0 without one). */
  private async fourierPart(R: number, T: number): Promise<Float64Array> {
    const out = new Float64Array(R * T);
    const layout = this.model.dims.path;
    if (!layout || layout.fourier === 0) return out;
    const { M, F } = pathRows(layout);
    const basis = pathBasis(layout, T);
    const [nat, reg] = await Promise.all([
      this.model.param('seasonNational').toArray(),
      this.model.param('seasonRegional').toArray(),
    ]);
    for (let r = 0; r < R; r++)
      for (let k = 0; k < F; k++) {
        const coef = nat[k] + reg[r * F + k];
        for (let t = 0; t < T; t++) out[r * T + t] += coef * basis[(M + k) * T + t];
      }
    return out;
  }

  /** Converts [R, T, D] scaled outputs to original units over weeks [from, from + n). */
  private static unscale(
    a: Float64Array,
    R: number,
    T: number,
    D: number,
    from: number,
    n: number,
    f: (r: number) => number,
  ) {
    const out = new Float64Array(R * n * D);
    for (let r = 0; r < R; r++) {
      const k = f(r);
      for (let w = 0; w < n; w++)
        for (let d = 0; d < D; d++) out[(r * n + w) * D + d] = a[(r * T + from + w) * D + d] * k;
    }
    return out;
  }

  /** The decomposition over the data's W weeks (spec §6.8). */
  async decompose(): Promise<Decomposition> {
    const p = this.prepared;
    const { R, T, B, W, C, K } = p;
    const { values: v, ps } = await this.run(fullBatch(p));
    const yk = (r: number) => p.yMean[r];
    const comp = (r: number) => ps * p.yMean[r];
    const cut = (a: Float64Array, D: number, f: (r: number) => number, from = B, n = W) =>
      FittedMMM.unscale(a, R, T, D, from, n, f);
    const predictionUnclamped = cut(v.prediction, 1, yk);
    let clampedCount = 0;
    const prediction = predictionUnclamped.map((x) => (x < 0 ? (clampedCount++, 0) : x));
    return {
      R,
      W,
      C,
      K,
      prediction,
      predictionUnclamped,
      clampedCount,
      mediaContrib: cut(v.mediaContrib, C, comp),
      ctrlContrib: cut(v.ctrlContrib, K, comp),
      baseline: cut(v.baseline, 1, comp),
      seasonal: cut(v.seasonalContrib, 1, comp),
      mediaCoeffs: cut(v.mediaCoeffs, C, () => 1),
      ctrlCoeffs: cut(v.ctrlCoeffs, K, () => 1),
      paddingPrediction: cut(v.prediction, 1, yk, 0, B).map((x) => Math.max(x, 0)),
    };
  }

  /** Train and holdout metrics with the two naive forecasts beside them (spec §8). */
  async evaluate(d?: Decomposition): Promise<EvaluationReport> {
    const p = this.prepared;
    const dec = d ?? (await this.decompose());
    return evaluationReport({
      actual: p.rawTarget,
      predicted: dec.prediction,
      observed: p.observed,
      wTrain: p.wTrain,
      yMean: p.yMean,
      regions: p.regions,
      burnInWeeks: p.B,
      paddingPredicted: { train: dec.paddingPrediction },
    });
  }

  /**
   * Predicts new weeks from planned media and controls: the sequence continues after the data's
   * last week (GRU state and adstock carry over). Returns original units, [R, F] and [R, F, C].
   */
  async predictFuture(future: FutureInput) {
    const p = this.prepared;
    const f = prepareFutureWeeks(future, p.scalers);
    const { R, T, C, K } = p;
    const T2 = T + f.F;
    const join = (a: Float32Array, b: Float32Array, D: number) => {
      const out = new Float32Array(R * T2 * D);
      for (let r = 0; r < R; r++) {
        out.set(a.subarray(r * T * D, (r + 1) * T * D), r * T2 * D);
        out.set(b.subarray(r * f.F * D, (r + 1) * f.F * D), (r * T2 + T) * D);
      }
      return out;
    };
    const zeros = new Float32Array(R * f.F);
    const { values: v, ps } = await this.run({
      R,
      T: T2,
      media: join(p.media, f.media, C),
      controls: join(p.controls, f.controls, K),
      target: join(p.target, zeros, 1),
      lossMask: new Float32Array(R * T2),
      seasonal: join(p.seasonal, f.seasonal, 1),
    });
    const cut = (a: Float64Array, D: number, k: (r: number) => number) =>
      FittedMMM.unscale(a, R, T2, D, T, f.F, k);
    const comp = (r: number) => ps * p.yMean[r];
    const predictionUnclamped = cut(v.prediction, 1, (r) => p.yMean[r]);
    return {
      weeks: f.weeks,
      regions: p.regions,
      channels: p.channels,
      prediction: predictionUnclamped.map((x) => Math.max(x, 0)),
      predictionUnclamped,
      mediaContrib: cut(v.mediaContrib, C, comp),
      ctrlContrib: cut(v.ctrlContrib, K, comp),
      baseline: cut(v.baseline, 1, comp),
      seasonal: cut(v.seasonalContrib, 1, comp),
    };
  }

  private graph: MediaGraph | null = null;

  /** The channel graph learned from the media series (dagMode 'media'; computed once). */
  mediaGraph(): MediaGraph {
    this.graph ??= learnMediaGraph(this.prepared);
    return this.graph;
  }

  /**
   * The learned channel graph [C][C] (row = cause, column = effect): in dagMode 'media' each
   * edge's strength (its cause's share of the child's input), else A = σ(L/τ) ∘ M.
   */
  async dagAdjacency(): Promise<number[][]> {
    if (this.config.dagMode === 'media') return this.mediaGraph().adjacency.map((r) => [...r]);
    const C = this.prepared.C;
    const l = await this.model.param('dagLogits').toArray();
    const tau = this.config.dagTemperature;
    const notears = this.config.dagMode === 'notears';
    return Array.from({ length: C }, (_, i) =>
      Array.from({ length: C }, (_, j) =>
        (notears ? i !== j : i < j) ? sigmoid(l[i * C + j] / tau) : 0,
      ),
    );
  }

  dispose(): void {
    this.model.dispose();
  }
}
