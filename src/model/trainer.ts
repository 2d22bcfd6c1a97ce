/**
 * ModelTrainer (model-spec §8): warm start, then one full-batch AdamW step per epoch. Each step is
 * a recorded program (forward, backward, penalties, clipping, update: one submit, no readback);
 * losses are read back every `logEvery` epochs only, where the plateau schedule, early stopping,
 * progress and checkpoints happen.
 */
import { dataDrivenInit } from '../data/init.js';
import type { PreparedData } from '../data/pipeline.js';
import type { Engine } from '../engine/engine.js';
import { backward } from '../autograd/backward.js';
import { gradScope, noGrad } from '../autograd/tape.js';
import type { Program } from '../engine/program.js';
import type { Tensor } from '../engine/tensor.js';
import { disposeBatch, toDevice, trainingBatch, trainingMasks, type HostBatch } from './batch.js';
import type { MMMConfig } from './config.js';
import { FittedMMM } from './fitted.js';
import { DeepCausalMMM, type ModelBatch } from './model.js';
import {
  EarlyStopping,
  PlateauScheduler,
  type EarlyStoppingState,
  type PlateauState,
} from './scheduler.js';
import { decodeF32, decodeF64, encodeF32, encodeF64 } from './codec.js';
import { checkTrainingMemory } from './memory.js';
import { mediaStartInit } from './media-init.js';
import type { DataInit } from './parameters.js';
import { pathLayoutFor, pathStart } from './trend.js';
import type { LiftTest } from '../calibration/lift-tests.js';
import { add } from '../ops/index.js';
import { LiftCalibration, liftWeight } from './lift-term.js';

export interface TrainProgress {
  phase: 'warm-start' | 'train';
  epoch: number;
  epochs: number;
  /** total loss (data + priors + DAG + L1/L2) */
  loss: number;
  /** Huber (or MSE in the warm start) over the training weeks */
  dataLoss: number;
  /** Huber over the validation window (validationWeeks > 0) */
  valLoss?: number;
  /** R² of the scaled target over the training weeks */
  r2: number;
  lr: number;
  elapsedMs: number;
  etaMs: number;
  /** NOTEARS h(A) when that mode is on */
  h?: number;
}

/** Everything needed to continue a training in another process. */
export interface TrainerCheckpoint {
  format: 'causalmix-checkpoint';
  version: 1;
  /** main-phase epochs done */
  epoch: number;
  warmDone: boolean;
  /** warm-start epochs done (absent in files from before it was saved: 0, or all when warmDone) */
  warmEpoch?: number;
  scheduler: PlateauState;
  notears: { rho: number; alpha: number; hPrev: number };
  stepCount: number;
  /**
   * base64 of the parameter, first-moment and second-moment arenas: float32 (what a GPU trains
   * in), or float64 when `dtype` says so (the CPU backend)
   */
  dtype?: 'f32' | 'f64';
  params: string;
  m: string;
  v: string;
  history: TrainProgress[];
  /** lift-test calibration: the term's weight and the model's lifts where the term started */
  lift?: { weight: number; before: number[] };
  /** early stopping's state and the best weights so far (validationWeeks > 0) */
  early?: EarlyStoppingState;
  best?: Record<string, string>;
}

export interface FitOptions {
  onProgress?: (p: TrainProgress) => void;
  /** stops training at the next epoch boundary; the model trained so far is returned */
  signal?: AbortSignal;
  /**
   * Called with a resumable state every `checkpointEvery` main-phase epochs, when
   * `checkpointSeconds` have passed since the last one (checked at epoch boundaries), at the end
   * of the warm start, and at the end (also after an abort). Resuming from it gives the same
   * weights, bit for bit, as a training never stopped (same adapter; the CPU backend trains in
   * float64 and saves float32, so there it is close, not exact).
   */
  onCheckpoint?: (c: TrainerCheckpoint) => void | Promise<void>;
  checkpointEvery?: number;
  checkpointSeconds?: number;
  resume?: TrainerCheckpoint;
  /**
   * Geo experiments to calibrate on (src/calibration/lift-tests.ts, resolved against the data):
   * the main phase's loss gains each test's squared z-score (src/model/lift-term.ts). Without
   * tests the training step is exactly the one without calibration.
   */
  liftTests?: readonly LiftTest[];
  /**
   * [R, B + wTrain] weights multiplying the training loss's cells (an ensemble member's
   * resampling, src/model/ensemble.ts); the media centre and the reported R² keep the plain cells
   */
  lossWeights?: ArrayLike<number>;
}

/** A lift test's outcome: the model's lift where the calibration started and at the end. */
export interface LiftTestResult {
  channel: string;
  regions: string[];
  startWeek: number | string;
  endWeek: number | string;
  postWeeks: number;
  measured: number;
  se: number;
  /** the model's lift after the warm start, before the calibration term acted */
  before: number;
  after: number;
  zBefore: number;
  zAfter: number;
}

interface StepOutputs {
  total: Tensor;
  parts: Tensor;
  h?: Tensor;
}

export class ModelTrainer {
  constructor(
    readonly engine: Engine,
    readonly config: MMMConfig,
  ) {}

  /** Builds the model for `prepared` with its data-driven initialisation (spec §5). */
  createModel(prepared: PreparedData): DeepCausalMMM {
    const init: DataInit = dataDrivenInit(prepared, { upstreamCompat: this.config.upstreamCompat });
    const path = pathLayoutFor(this.config, prepared.B, prepared.wTrain);
    if (prepared.scalers.media?.scaling === 'regionMean') {
      const start = path ? pathStart(prepared, path) : undefined;
      Object.assign(
        init,
        mediaStartInit(
          prepared,
          init.halfSatRaw!,
          this.config.hillSlopeMin,
          start?.level,
          this.config.mediaCentering,
        ),
      );
      if (start) init.path = start;
    }
    const dims = {
      R: prepared.R,
      C: prepared.C,
      K: prepared.K,
      H: this.config.hiddenDim,
      path,
    };
    return new DeepCausalMMM(this.engine, dims, this.config, init);
  }

  /** Records one training step (forward, backward, update) as a program. */
  recordStep(
    model: DeepCausalMMM,
    batch: ModelBatch,
    loss: 'huber' | 'mse',
    calibration?: LiftCalibration,
  ): Program<StepOutputs> {
    const e = this.engine;
    return e.record(() =>
      gradScope(e, () => {
        const f = model.forward(batch, { training: true, loss });
        const total = calibration
          ? add(
              f.total,
              calibration.penalty(
                calibration.lifts(
                  {
                    xt: f.mediaTransformed,
                    heads: f.heads,
                    // the same centre as the pass's (computed apart: the pass fused it away)
                    center: model.mediaCenterFor(f.mediaTransformed, batch),
                  },
                  batch,
                  true,
                ),
              ),
            )
          : f.total;
        model.arena.setGrads(backward(total));
        model.arena.queueStep();
        return f.h ? { total, parts: f.parts, h: f.h } : { total, parts: f.parts };
      }),
    );
  }

  /** The model's lifts of the calibration's tests, as a recorded program. */
  recordLiftProbe(model: DeepCausalMMM, batch: ModelBatch, calib: LiftCalibration): LiftProbe {
    const e = this.engine;
    const program = e.record(() =>
      noGrad(e, () => {
        const actual = model.encode(batch);
        const center = model.mediaCenterFor(actual.xt, batch);
        return { lifts: calib.lifts({ ...actual, center }, batch, false) };
      }),
    );
    return {
      program,
      read: async () => {
        program.run();
        return Array.from(await program.outputs.lifts.toArray());
      },
    };
  }

  async fit(prepared: PreparedData, opts: FitOptions = {}): Promise<FittedMMM> {
    this.checkTrainable(prepared);
    const recorded = this.recordRun(prepared, opts);
    const run = new TrainingRun(this.engine, this.config, prepared, opts, recorded);
    if (opts.resume) run.restore(opts.resume);
    run.startClocks();
    await run.warmStart();
    await run.startLiftCalibration();
    await run.mainPhase();
    return run.finish();
  }

  /** Fails before anything is allocated: no training weeks left, or a model too big to train. */
  private checkTrainable(prepared: PreparedData): void {
    const cfg = this.config;
    if (cfg.validationWeeks >= prepared.wTrain)
      throw new Error(
        `causalmix: validationWeeks (${cfg.validationWeeks}) must be fewer than the ${prepared.wTrain} training weeks`,
      );
    checkTrainingMemory(
      this.engine.backend.limits,
      prepared.R,
      prepared.T,
      prepared.C,
      prepared.K,
      cfg.hiddenDim,
    );
  }

  /**
   * The model, its batch on the device and every program a fit runs, recorded once up front (in
   * this order: it is the order of the device's allocations and recordings).
   */
  private recordRun(prepared: PreparedData, opts: FitOptions): RecordedRun {
    const cfg = this.config;
    const e = this.engine;
    const model = this.createModel(prepared);
    const host = trainingBatch(prepared, cfg.validationWeeks, cfg.upstreamCompat);
    if (opts.lossWeights) host.lossMask = weightedMask(host, opts.lossWeights);
    const batch = toDevice(e, host, prepared.C, prepared.K, model.dims.path);
    const masks = trainingMasks(prepared, cfg.validationWeeks, cfg.upstreamCompat);
    // evaluation of the training sequence: predictions (for R²) and the loss over the validation window
    const evalBatch: ModelBatch = {
      ...batch,
      lossMask: e.keep(e.tensor(masks.val, [host.R, host.T])),
    };
    const evalProgram = e.record(() =>
      noGrad(e, () => {
        const f = model.forward(evalBatch, { outputs: 'all' });
        return { prediction: f.prediction!, parts: f.parts };
      }),
    );
    const warm = cfg.warmStartEpochs > 0 ? this.recordStep(model, batch, 'mse') : null;
    const calib = opts.liftTests?.length
      ? new LiftCalibration(e, model, prepared, host, opts.liftTests, cfg)
      : undefined;
    const main = this.recordStep(model, batch, 'huber', calib);
    const liftProbe = calib && this.recordLiftProbe(model, batch, calib);
    return { model, host, batch, masks, evalBatch, evalProgram, warm, calib, main, liftProbe };
  }
}

/** The training loss mask times per-cell weights (which must match its shape and be ≥ 0). */
function weightedMask(host: HostBatch, weights: ArrayLike<number>): Float32Array {
  if (weights.length !== host.lossMask.length)
    throw new Error(
      `causalmix: lossWeights has ${weights.length} values, expected ${host.R} × ${host.T} = ${host.lossMask.length}`,
    );
  return host.lossMask.map((m, i) => {
    const w = weights[i];
    if (!(w >= 0) || !Number.isFinite(w))
      throw new Error(`causalmix: lossWeights[${i}] is ${w}; weights must be finite and ≥ 0`);
    return m * w;
  });
}

/** What ModelTrainer.recordRun prepares for one fit. */
interface RecordedRun {
  model: DeepCausalMMM;
  host: HostBatch;
  batch: ModelBatch;
  masks: ReturnType<typeof trainingMasks>;
  /** the batch with the validation window's loss mask */
  evalBatch: ModelBatch;
  evalProgram: Program<{ prediction: Tensor; parts: Tensor }>;
  /** the warm-start step (MSE); null without a warm start */
  warm: Program<StepOutputs> | null;
  calib?: LiftCalibration;
  main: Program<StepOutputs>;
  liftProbe?: LiftProbe;
}

/**
 * One ModelTrainer.fit: the loop's state (what a checkpoint saves and `restore` reads back) and
 * its phases. Resuming bit for bit relies on every device operation keeping its order: the steps
 * below issue them exactly in the order of the one long loop they were split from.
 */
class TrainingRun {
  private readonly sched: PlateauScheduler;
  private readonly early: EarlyStopping | null;
  /** the best weights so far (early stopping) */
  private best: Map<string, Float64Array> | null = null;
  private readonly notears: { rho: number; alpha: number; hPrev: number };
  private history: TrainProgress[] = [];
  private lift: TrainerCheckpoint['lift'];
  /** main-phase epochs done */
  private epoch = 0;
  /** warm-start epochs done */
  private warmEpoch = 0;
  private warmDone = false;
  /** steps run by this call (not before a resume), and all it will run: for the ETA */
  private stepsDone = 0;
  private totalSteps = 0;
  private t0 = 0;
  private lastCheckpoint = 0;
  private lastYield = 0;

  constructor(
    private readonly e: Engine,
    private readonly cfg: MMMConfig,
    private readonly prepared: PreparedData,
    private readonly opts: FitOptions,
    private readonly run: RecordedRun,
  ) {
    this.sched = new PlateauScheduler(
      cfg.learningRate,
      cfg.plateauPatience,
      cfg.plateauFactor,
      cfg.minLr,
    );
    this.early = cfg.validationWeeks > 0 ? new EarlyStopping(cfg.earlyStoppingPatience) : null;
    this.notears = { rho: cfg.notears.rho0, alpha: cfg.notears.alpha0, hPrev: Infinity };
  }

  /** Continues a checkpoint: weights and optimizer moments on the device, the loop's state here. */
  restore(r: TrainerCheckpoint): void {
    if (r.format !== 'causalmix-checkpoint' || r.version !== 1)
      throw new Error('causalmix: not a causalmix checkpoint (format/version)');
    const dec = r.dtype === 'f64' ? decodeF64 : decodeF32;
    this.run.model.arena.writeState(dec(r.params), dec(r.m), dec(r.v), r.stepCount);
    // JSON writes Infinity as null: "nothing seen yet" comes back as null
    this.sched.state = { ...r.scheduler, best: r.scheduler.best ?? Infinity };
    Object.assign(this.notears, r.notears, { hPrev: r.notears.hPrev ?? Infinity });
    this.history = [...r.history];
    this.epoch = r.epoch;
    this.warmDone = r.warmDone;
    this.warmEpoch = r.warmEpoch ?? (r.warmDone ? this.cfg.warmStartEpochs : 0);
    if (this.early && r.early) this.early.state = { ...r.early };
    if (r.lift) this.lift = { ...r.lift };
    if (r.best)
      this.best = new Map(
        Object.entries(r.best).map(([k, v]) => [k, Float64Array.from(decodeF32(v))]),
      );
  }

  /** Elapsed time, the ETA and the checkpoint and signal timers count from here. */
  startClocks(): void {
    this.t0 = performance.now();
    const warmLeft = this.warmDone ? 0 : this.cfg.warmStartEpochs - this.warmEpoch;
    this.totalSteps = warmLeft + this.cfg.epochs - this.epoch;
    this.lastCheckpoint = performance.now();
    this.lastYield = performance.now();
  }

  /** Warm start (MSE, its own lr and clipping), then a fresh optimizer for the main phase. */
  async warmStart(): Promise<void> {
    const { cfg } = this;
    const { model, warm } = this.run;
    if (!warm || this.warmDone) {
      this.warmDone = true;
      return;
    }
    const warmEpochs = cfg.warmStartEpochs;
    for (let ep = this.warmEpoch; ep < warmEpochs && !this.aborted(); ep++) {
      model.dropoutSeed.write([this.seedOf(1, ep)]);
      model.arena.setHyper({
        lr: cfg.warmStartLr,
        weightDecay: cfg.weightDecay,
        clipGlobal: cfg.warmStartClip,
      });
      warm.run();
      this.warmEpoch = ep + 1;
      this.stepsDone++;
      if ((ep + 1) % cfg.logEvery === 0 || ep === warmEpochs - 1)
        await this.report('warm-start', warm, ep + 1, warmEpochs);
      await this.letSignalsIn();
    }
    if (!this.aborted()) {
      // the main phase starts a fresh optimizer, as the reference does
      model.arena.resetOptimizer();
      this.warmDone = true;
      await this.checkpoint();
    }
  }

  /** The lift term's weight and the lifts before it acts, once where the main phase starts. */
  async startLiftCalibration(): Promise<void> {
    const { model, batch, host, calib, liftProbe } = this.run;
    if (!calib || !liftProbe || this.aborted()) return;
    // a resumed run keeps the weight and the lifts of where the term first started
    this.lift ??= await startCalibration(
      model,
      batch,
      liftProbe,
      host.lossMask,
      this.cfg.liftTestWeight,
    );
    calib.weight.write([this.lift.weight]);
  }

  /** Main phase (Huber, AdamW, NOTEARS duals) until the last epoch, early stopping or an abort. */
  async mainPhase(): Promise<void> {
    const cfg = this.cfg;
    // the NOTEARS tensors are rewritten only when their values change (at the dual updates)
    let written = '';
    while (this.epoch < cfg.epochs && !this.aborted()) {
      const active = cfg.dagMode === 'notears' && this.epoch >= cfg.notears.warmup;
      written = this.mainStep(active, written);
      await this.notearsDualUpdate(active);
      if (this.epoch % cfg.logEvery === 0 || this.epoch === cfg.epochs) {
        if (await this.observeMainLoss()) break;
      }
      if (this.checkpointDue()) await this.checkpoint();
      await this.letSignalsIn();
    }
  }

  /** One main-phase step; returns the NOTEARS values now on the device. */
  private mainStep(active: boolean, written: string): string {
    const { cfg, notears } = this;
    const { model, main } = this.run;
    const duals = `${active} ${notears.rho} ${notears.alpha}`;
    if (duals !== written) model.setNotears(active, notears.rho, notears.alpha);
    model.dropoutSeed.write([this.seedOf(2, this.epoch)]);
    model.arena.setHyper({
      lr: this.sched.state.lr,
      weightDecay: cfg.weightDecay,
      clipNorms: [cfg.clipCoeff, cfg.clipOther],
    });
    main.run();
    this.epoch++;
    this.stepsDone++;
    return duals;
  }

  /** NOTEARS outer loop (spec §8): grow ρ when h did not shrink enough, then dual ascent. */
  private async notearsDualUpdate(active: boolean): Promise<void> {
    const nt = this.cfg.notears;
    const hOut = this.run.main.outputs.h;
    if (!active || (this.epoch - nt.warmup) % nt.every !== 0 || !hOut) return;
    const h = await hOut.item();
    const notears = this.notears;
    if (h > nt.progress * notears.hPrev) notears.rho = Math.min(notears.rho * nt.factor, nt.rhoMax);
    notears.alpha += notears.rho * h;
    notears.hPrev = h;
  }

  /** A logged main-phase epoch: progress, the plateau schedule, early stopping; true to stop. */
  private async observeMainLoss(): Promise<boolean> {
    const { cfg, early } = this;
    const p = await this.report('train', this.run.main, this.epoch, cfg.epochs);
    this.sched.observe(p.valLoss ?? p.loss, cfg.logEvery);
    if (early && p.valLoss !== undefined) {
      const verdict = early.observe(p.valLoss, this.epoch, cfg.logEvery);
      if (verdict === 'improved') this.best = await this.run.model.arena.read();
      if (verdict === 'stop') return true;
    }
    return false;
  }

  /** The last checkpoint, the best weights back, the lifts after; frees what the fit recorded. */
  async finish(): Promise<FittedMMM> {
    const { cfg, early, epoch } = this;
    const { model, calib, liftProbe, main, batch } = this.run;
    await this.checkpoint();
    if (this.best) model.arena.write(this.best);
    model.freezeMediaCenter(batch);
    const liftTests =
      calib && liftProbe && this.lift
        ? liftResults(calib.tests, this.lift.before, await liftProbe.read())
        : undefined;
    this.dispose();
    return new FittedMMM(this.e, model, this.prepared, cfg, {
      history: this.history,
      epochs: epoch,
      cancelled: this.aborted(),
      stoppedEarly: early !== null && epoch < cfg.epochs && !this.aborted(),
      bestEpoch: early?.bestEpoch,
      seconds: (performance.now() - this.t0) / 1000,
      dispatchesPerStep: main.dispatchCount,
      ...(liftTests ? { liftTests } : {}),
    });
  }

  /** Everything recorded for the fit except the model, which the fitted model keeps. */
  private dispose(): void {
    const { warm, main, evalProgram, liftProbe, calib, evalBatch, batch } = this.run;
    [warm, main, evalProgram, liftProbe?.program].forEach((p) => p?.dispose());
    calib?.dispose();
    evalBatch.lossMask.dispose();
    disposeBatch(batch);
  }

  private aborted(): boolean {
    return this.opts.signal?.aborted === true;
  }

  /** Dropout's seed: a function of the seed, the phase and the epoch, so a resume redraws it. */
  private seedOf(phase: number, epoch: number): number {
    return (this.cfg.seed * 100003 + phase * 7919 + epoch) | 0;
  }

  /** Reads the losses back (the only readback), evaluates, records and reports the progress. */
  private async report(
    phase: TrainProgress['phase'],
    program: Program<StepOutputs>,
    epoch: number,
    epochs: number,
  ): Promise<TrainProgress> {
    const { cfg, run } = this;
    const done = this.stepsDone;
    const todo = this.totalSteps - done;
    const [out, parts, penalty] = await Promise.all([
      program.outputs.total.item(),
      program.outputs.parts.toArray(),
      run.model.arena.penaltyValue(),
    ]);
    run.evalProgram.run();
    const [pred, evalParts] = await Promise.all([
      run.evalProgram.outputs.prediction.toArray(),
      run.evalProgram.outputs.parts.toArray(),
    ]);
    const elapsedMs = performance.now() - this.t0;
    const p: TrainProgress = {
      phase,
      epoch,
      epochs,
      loss: out + penalty,
      dataLoss: parts[0],
      valLoss: cfg.validationWeeks > 0 ? evalParts[0] : undefined,
      r2: maskedR2(run.host.target, pred, run.masks.train),
      lr: phase === 'train' ? this.sched.state.lr : cfg.warmStartLr,
      elapsedMs,
      etaMs: done > 0 ? (elapsedMs / done) * todo : NaN,
      h: program.outputs.h ? await program.outputs.h.item() : undefined,
    };
    this.history.push(p);
    this.opts.onProgress?.(p);
    return p;
  }

  /** Hands a resumable state to onCheckpoint (a no-op without it). */
  private async checkpoint(): Promise<void> {
    const opts = this.opts;
    if (!opts.onCheckpoint) return;
    const gpu = this.e.isGpu;
    const enc = gpu ? encodeF32 : encodeF64;
    const st = await this.run.model.arena.readState();
    const { early, best, lift } = this;
    await opts.onCheckpoint({
      format: 'causalmix-checkpoint',
      version: 1,
      epoch: this.epoch,
      warmDone: this.warmDone,
      warmEpoch: this.warmEpoch,
      scheduler: { ...this.sched.state },
      notears: { ...this.notears },
      stepCount: st.stepCount,
      dtype: gpu ? 'f32' : 'f64',
      params: enc(st.params),
      m: enc(st.m),
      v: enc(st.v),
      history: this.history,
      ...(lift ? { lift } : {}),
      ...(early ? { early: early.state } : {}),
      ...(best ? { best: Object.fromEntries([...best].map(([k, v]) => [k, enc(v)])) } : {}),
    });
    this.lastCheckpoint = performance.now();
  }

  private checkpointDue(): boolean {
    const { checkpointEvery, checkpointSeconds } = this.opts;
    return (
      (checkpointEvery !== undefined && this.epoch % checkpointEvery === 0) ||
      (checkpointSeconds !== undefined &&
        performance.now() - this.lastCheckpoint >= checkpointSeconds * 1000)
    );
  }

  /** A signal is only seen when the event loop runs: let it run every 50 ms or so. */
  private async letSignalsIn(): Promise<void> {
    if (!this.opts.signal || performance.now() - this.lastYield < 50) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.lastYield = performance.now();
  }
}

/** A recorded evaluation of the model's lifts [J] (no dropout, no gradient). */
interface LiftProbe {
  program: Program<{ lifts: Tensor }>;
  read(): Promise<number[]>;
}

/** Data loss (mean Huber over the training cells) and the lifts, for the calibration's start. */
async function startCalibration(
  model: DeepCausalMMM,
  batch: ModelBatch,
  probe: LiftProbe,
  lossMask: ArrayLike<number>,
  scale: number,
): Promise<{ weight: number; before: number[] }> {
  const e = model.engine;
  const lossProgram = e.record(() =>
    noGrad(e, () => ({ parts: model.forward(batch, { loss: 'huber' }).parts })),
  );
  lossProgram.run();
  const [dataLoss] = await lossProgram.outputs.parts.toArray();
  lossProgram.dispose();
  let n = 0;
  for (let i = 0; i < lossMask.length; i++) n += lossMask[i];
  return { weight: liftWeight(dataLoss, n, scale), before: await probe.read() };
}

function liftResults(
  tests: readonly LiftTest[],
  before: number[],
  after: number[],
): LiftTestResult[] {
  return tests.map((t, j) => ({
    channel: t.channel,
    regions: t.regions === 'all' ? ['all'] : [...t.regions],
    startWeek: t.startWeek,
    endWeek: t.endWeek,
    postWeeks: t.postWeeks,
    measured: t.lift,
    se: t.se,
    before: before[j],
    after: after[j],
    zBefore: (before[j] - t.lift) / t.se,
    zAfter: (after[j] - t.lift) / t.se,
  }));
}

/** R² of pred against target over mask (host side, float64). */
export function maskedR2(
  target: ArrayLike<number>,
  pred: ArrayLike<number>,
  mask: ArrayLike<number>,
): number {
  let n = 0;
  let mean = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    n++;
    mean += target[i];
  }
  if (n === 0) return NaN;
  mean /= n;
  let ssr = 0;
  let sst = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    ssr += (target[i] - pred[i]) ** 2;
    sst += (target[i] - mean) ** 2;
  }
  return 1 - ssr / sst;
}
