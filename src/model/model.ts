/**
 * DeepCausalMMM on the engine (model-spec §6–7): parameters in one arena, the forward pass built
 * from the fused ops (media transform, GRU sequence, fused linear layers, model output + loss, DAG
 * penalty), so a whole training step records into one program.
 */
import { noGrad } from '../autograd/tape.js';
import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import {
  add,
  centerRows,
  dagPenalty,
  groupedLinear,
  gruInput,
  gruSequence,
  concat,
  linear,
  matmul,
  mean,
  sub,
  sum,
  square,
  mediaTransform,
  mmmOutput,
  mul,
  mulScalar,
  notearsH,
  ParameterArena,
  sigmoid,
  type MmmOutputResult,
} from '../ops/index.js';
import type { MMMConfig } from './config.js';
import { headNames, parameterSpecs, type DataInit, type ModelDims } from './parameters.js';
import { pathRows } from './trend.js';

/** Device inputs of one forward pass: R region sequences of T weeks. */
export interface ModelBatch {
  /** share of voice [R, T, C] */
  media: Tensor;
  /** scaled controls [R, T, K] */
  controls: Tensor;
  /** scaled target ỹ [R, T] (zeros where unknown) */
  target: Tensor;
  /** 0/1 weights of the loss [R, T] */
  lossMask: Tensor;
  /** seasonal curve S [R, T] */
  seasonal: Tensor;
  /** the baseline path's basis [M + 2F, T] (src/model/trend.ts); absent without one */
  pathBasis?: Tensor;
  /** [R, T, 1] weights of the media centre (training); absent: the model's frozen centre */
  centerWeights?: Tensor;
}

export interface ForwardOptions {
  /** dropout on (training) or off (evaluation) */
  training?: boolean;
  /** 'mse' during the warm start, 'huber' otherwise */
  loss?: 'huber' | 'mse';
  /** also return the decomposition */
  outputs?: 'loss' | 'all';
}

export interface ForwardResult extends MmmOutputResult {
  /** total differentiable loss [1] (data loss, priors, DAG penalty) without the arena's L1/L2
   * penalties (added in the step) */
  total: Tensor;
  /** NOTEARS h(A) [1] (notears mode only) */
  h?: Tensor;
  /** transformed media [R, T, C] (before centring) */
  mediaTransformed: Tensor;
  /** both coefficient heads' output [R, T, C + K] (media columns first) */
  heads: Tensor;
}

export class DeepCausalMMM {
  readonly arena: ParameterArena;
  /** [R, 1, C] the media centre after training (mediaCentering), for every other forward pass */
  private frozenCenter: Tensor | null = null;
  /** int32 [1]: the dropout mask's seed, rewritten before each training step */
  readonly dropoutSeed: Tensor;
  /** [λ1, λg]·dagWeight of NOTEARS (zero before the warm-up) */
  readonly dagCoef: Tensor;
  /** ½ρ·dagWeight and α·dagWeight of NOTEARS' augmented Lagrangian (zero before the warm-up) */
  readonly halfRho: Tensor;
  readonly alpha: Tensor;
  private readonly dagMask: Tensor | null;
  /** dagMode 'media': the transform's graph inputs as constants (no edges, mix m = σ(−80) ≈ 0) */
  private readonly noGraph: { logits: Tensor; mix: Tensor } | null;

  constructor(
    readonly engine: Engine,
    readonly dims: ModelDims,
    readonly config: MMMConfig,
    init: DataInit = {},
  ) {
    this.arena = new ParameterArena(engine, parameterSpecs(dims, config, init), {
      weightDecay: config.weightDecay,
    });
    const keep = <T extends Tensor>(t: T) => engine.keep(t);
    this.dropoutSeed = keep(engine.tensor([config.seed], [1], 'int32'));
    this.dagCoef = keep(engine.zeros([2]));
    this.halfRho = keep(engine.zeros([1]));
    this.alpha = keep(engine.zeros([1]));
    const C = dims.C;
    this.noGraph =
      config.dagMode === 'media'
        ? {
            logits: keep(engine.zeros([C, C])),
            mix: keep(engine.tensor(new Array(C).fill(-80), [C])),
          }
        : null;
    this.dagMask =
      config.dagMode === 'notears'
        ? keep(
            engine.tensor(
              Array.from({ length: C * C }, (_, e) => (e % (C + 1) === 0 ? 0 : 1)),
              [C, C],
            ),
          )
        : null;
  }

  /** The baseline path [R, T]: [δN + δR | φN + φR] [R, M + 2F] · basis [M + 2F, T]. */
  private path(basis: Tensor): Tensor | undefined {
    const layout = this.dims.path;
    if (!layout) return undefined;
    const { M, F } = pathRows(layout);
    const p = (n: string) => this.arena.param(n);
    const parts: Tensor[] = [];
    if (M > 0) parts.push(add(p('trendRegional'), p('trendNational')));
    if (F > 0) parts.push(add(p('seasonRegional'), p('seasonNational')));
    if (parts.length === 0) return undefined;
    return matmul(parts.length === 1 ? parts[0] : concat(parts, 1), basis);
  }

  private readonly featureZeros = new Map<string, Tensor>();

  /** The control network's output when there are no controls: zeros [R, T, H/2]. */
  private noFeatures(R: number, T: number): Tensor {
    const key = `${R}x${T}`;
    let z = this.featureZeros.get(key);
    if (!z) {
      z = this.engine.keep(this.engine.zeros([R, T, this.dims.H / 2]));
      this.featureZeros.set(key, z);
    }
    return z;
  }

  param(name: string): Tensor {
    return this.arena.param(name);
  }

  /**
   * The media transform and the GRU with both coefficient heads: transformed media [R, T, C] and
   * the heads' output [R, T, C + K] (media columns first). Counterfactual terms run it again on
   * changed media (the dropout mask, drawn from the same seed and shape, is the same).
   */
  encode(batch: ModelBatch, training = false): { xt: Tensor; heads: Tensor } {
    const cfg = this.config;
    const p = (n: string) => this.arena.param(n);
    const graph = this.noGraph;
    const xt = mediaTransform(
      batch.media,
      p('adstockRaw'),
      p('hillSlopeRaw'),
      p('hillHalfSatRaw'),
      graph ? graph.logits : p('dagLogits'),
      graph ? graph.mix : p('interactionRaw'),
      {
        temperature: cfg.dagTemperature,
        mask: cfg.dagMode === 'notears' ? 'notears' : 'triangular',
        upstreamCompat: cfg.upstreamCompat,
        slopeMin: cfg.hillSlopeMin,
      },
    );
    const features =
      this.dims.K > 0
        ? linear(batch.controls, p('ctrlMlp.weight'), p('ctrlMlp.bias'), 'tanh')
        : this.noFeatures(batch.media.shape[0], batch.media.shape[1]);
    // [xt, dropout(features)] in one dispatch (dropout only while training)
    const u = gruInput(xt, features, this.dropoutSeed, training ? cfg.dropout : 0);
    const h = gruSequence(
      u,
      p('h0'),
      p('gru.weightIh'),
      p('gru.weightHh'),
      p('gru.biasIh'),
      p('gru.biasHh'),
    );
    // Both coefficient heads as one network of grouped layers: the first reads h for both, the
    // others each head's own block; the last gives [R, T, C + K] (media columns first).
    // (without controls the media head alone)
    const groups =
      this.dims.K > 0 ? [headNames('mediaHead'), headNames('ctrlHead')] : [headNames('mediaHead')];
    const heads = groups[0].reduce(
      (x, _, i) =>
        groupedLinear(
          x,
          groups.map((g) => p(g[i][0])),
          groups.map((g) => p(g[i][1])),
          { activation: i < 2 ? 'relu' : 'none', sharedInput: i === 0 },
        ),
      h,
    );
    return { xt, heads };
  }

  /**
   * Each region's weighted mean of the transformed media over time [R, 1, C] (weights: the
   * batch's training cells, summing to 1 per region); differentiable, so the shape parameters'
   * gradients see that a changed mean moves to the region's level.
   */
  private centerOf(xt: Tensor, weights: Tensor): Tensor {
    return sum(mul(xt, weights), 1, true);
  }

  /**
   * Fixes the media centre at the current parameters from a batch with centre weights (the
   * training sequence): evaluation, counterfactual and forecast passes subtract this one, so a
   * changed input moves the prediction by β·Δx̃ alone.
   */
  freezeMediaCenter(batch: ModelBatch): void {
    if (!this.config.mediaCentering) return;
    if (!batch.centerWeights)
      throw new Error('causalmix: freezeMediaCenter needs a batch with centre weights');
    const e = this.engine;
    const weights = batch.centerWeights;
    const center = noGrad(e, () =>
      e.tidy(() => e.keep(this.centerOf(this.encode(batch).xt, weights))),
    );
    this.frozenCenter?.dispose();
    this.frozenCenter = center;
  }

  /** Sets the frozen centre from host values [R·C] (a model copy for stacked scenarios). */
  setMediaCenter(values: ArrayLike<number>): void {
    const { R, C } = this.dims;
    if (values.length !== R * C)
      throw new Error(`causalmix: a media centre has R×C = ${R * C} values, got ${values.length}`);
    this.frozenCenter?.dispose();
    this.frozenCenter = this.engine.keep(this.engine.tensor(values, [R, 1, C]));
  }

  /** The frozen media centre on the host [R·C] (null without centring). */
  async mediaCenter(): Promise<Float64Array | null> {
    return this.frozenCenter ? this.frozenCenter.toArray() : null;
  }

  /**
   * The centre a forward pass over `batch` subtracts from x̃: the batch's own (training: centre
   * weights) or the frozen one; null without centring.
   */
  mediaCenterFor(xt: Tensor, batch: ModelBatch): Tensor | null {
    if (!this.config.mediaCentering) return null;
    if (batch.centerWeights) return this.centerOf(xt, batch.centerWeights);
    if (!this.frozenCenter)
      throw new Error(
        'causalmix: the media centre is not set (a forward pass without centre weights needs freezeMediaCenter first)',
      );
    return this.frozenCenter;
  }

  /**
   * x̃ as the output takes it: minus the batch's own centre (one fused op: training), minus the
   * frozen centre, or unchanged without centring.
   */
  private centered(xt: Tensor, batch: ModelBatch): Tensor {
    if (this.config.mediaCentering && batch.centerWeights)
      return centerRows(xt, batch.centerWeights);
    const center = this.mediaCenterFor(xt, batch);
    return center ? sub(xt, center) : xt;
  }

  /** The forward pass and the loss (model-spec §6–7). */
  forward(batch: ModelBatch, opts: ForwardOptions = {}): ForwardResult {
    const cfg = this.config;
    const p = (n: string) => this.arena.param(n);
    const graph = this.noGraph;
    const { xt, heads } = this.encode(batch, opts.training ?? false);
    const offset = batch.pathBasis ? this.path(batch.pathBasis) : undefined;
    const out = mmmOutput(
      {
        offset,
        heads,
        mediaMaxRaw: p('mediaCoeffMaxRaw'),
        ctrlMaxRaw: p('ctrlCoeffMaxRaw'),
        stableMedia: p('stableMediaCoeff'),
        stableCtrl: p('stableCtrlCoeff'),
        xt: this.centered(xt, batch),
        z: batch.controls,
        baselineRaw: p('regionBaselineRaw'),
        globalBiasRaw: p('globalBiasRaw'),
        seasonalCoeffRaw: p('seasonalCoeffRaw'),
        predScaleRaw: p('predictionScaleRaw'),
        seasonal: batch.seasonal,
        target: batch.target,
        lossMask: batch.lossMask,
      },
      {
        burnInWeeks: cfg.burnInWeeks,
        burnInMethod: cfg.burnInMethod,
        loss: opts.loss ?? 'huber',
        huberDelta: cfg.huberDelta,
        mediaPrior: cfg.mediaPrior,
        attrWeight: cfg.mediaPriorWeight,
        attrScale: cfg.mediaPriorScale,
        seasWeight: cfg.seasonalPriorWeight,
        outputs: opts.outputs ?? 'loss',
      },
    );
    // the penalty kernel adds the rest of the loss itself (no separate add)
    let total = graph
      ? out.loss
      : dagPenalty(p('dagLogits'), this.dagCoef, {
          mode: cfg.dagMode === 'notears' ? 'notears' : 'triangular',
          temperature: cfg.dagTemperature,
          scale: cfg.dagWeight,
          base: out.loss,
        });
    if (cfg.coefficientSmoothing > 0) {
      // the coefficients' movement over time: mean squared deviation of the head outputs from
      // each region's mean over the sequence
      const dev = sub(heads, mean(heads, 1, true));
      // sum(square(·)), not sumSquares: that one is the clipping's, without a gradient
      total = add(total, mulScalar(sum(square(dev)), cfg.coefficientSmoothing / dev.size));
    }
    let hValue: Tensor | undefined;
    if (this.dagMask) {
      // ½ρh² + αh with ρ, α (already × dagWeight) in host-written tensors
      const A = mul(sigmoid(mulScalar(p('dagLogits'), 1 / cfg.dagTemperature)), this.dagMask);
      hValue = notearsH(A);
      total = add(total, mul(hValue, add(mul(hValue, this.halfRho), this.alpha)));
    }
    return { ...out, total, h: hValue, mediaTransformed: xt, heads };
  }

  /** Sets NOTEARS' dual variables and weights (all zero before the warm-up). */
  setNotears(active: boolean, rho: number, alpha: number): void {
    const w = this.config.dagWeight;
    const n = this.config.notears;
    this.dagCoef.write(active ? [n.lambda1 * w, n.groupL1 * w] : [0, 0]);
    this.halfRho.write([active ? 0.5 * rho * w : 0]);
    this.alpha.write([active ? alpha * w : 0]);
  }

  dispose(): void {
    this.arena.dispose();
    [
      this.dropoutSeed,
      this.dagCoef,
      this.halfRho,
      this.alpha,
      this.dagMask,
      this.noGraph?.logits,
      this.noGraph?.mix,
      this.frozenCenter,
      ...this.featureZeros.values(),
    ].forEach((t) => t?.dispose());
  }
}
