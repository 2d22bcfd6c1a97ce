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
import { noGrad } from '../autograd/tape.js';
import type { Program } from '../engine/program.js';
import type { Tensor } from '../engine/tensor.js';
import { disposeBatch, toDevice, trainingBatch, trainingMasks } from './batch.js';
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
        mediaStartInit(prepared, init.halfSatRaw!, this.config.hillSlopeMin, start?.level),
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
    return this.engine.record(() => {
      const f = model.forward(batch, { training: true, loss });
      const total = calibration
        ? add(
            f.total,
            calibration.penalty(
              calibration.lifts({ xt: f.mediaTransformed, heads: f.heads }, batch, true),
            ),
          )
        : f.total;
      model.arena.setGrads(backward(total));
      model.arena.queueStep();
      return f.h ? { total, parts: f.parts, h: f.h } : { total, parts: f.parts };
    });
  }

  /** The model's lifts of the calibration's tests, as a recorded program. */
  recordLiftProbe(model: DeepCausalMMM, batch: ModelBatch, calib: LiftCalibration): LiftProbe {
    const e = this.engine;
    const program = e.record(() =>
      noGrad(e, () => ({ lifts: calib.lifts(model.encode(batch), batch, false) })),
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
    const cfg = this.config;
    const e = this.engine;
    if (cfg.validationWeeks >= prepared.wTrain)
      throw new Error(
        `causalmix: validationWeeks (${cfg.validationWeeks}) must be fewer than the ${prepared.wTrain} training weeks`,
      );
    checkTrainingMemory(
      e.backend.limits,
      prepared.R,
      prepared.T,
      prepared.C,
      prepared.K,
      cfg.hiddenDim,
    );
    const model = this.createModel(prepared);
    const host = trainingBatch(prepared, cfg.validationWeeks, cfg.upstreamCompat);
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

    const sched = new PlateauScheduler(
      cfg.learningRate,
      cfg.plateauPatience,
      cfg.plateauFactor,
      cfg.minLr,
    );
    const early = cfg.validationWeeks > 0 ? new EarlyStopping(cfg.earlyStoppingPatience) : null;
    let best: Map<string, Float64Array> | null = null;
    const notears = { rho: cfg.notears.rho0, alpha: cfg.notears.alpha0, hPrev: Infinity };
    let history: TrainProgress[] = [];
    let lift: TrainerCheckpoint['lift'];
    let start = 0;
    let warmStart = 0;
    let warmDone = false;
    if (opts.resume) {
      const r = opts.resume;
      if (r.format !== 'causalmix-checkpoint' || r.version !== 1)
        throw new Error('causalmix: not a causalmix checkpoint (format/version)');
      const dec = r.dtype === 'f64' ? decodeF64 : decodeF32;
      model.arena.writeState(dec(r.params), dec(r.m), dec(r.v), r.stepCount);
      // JSON writes Infinity as null: "nothing seen yet" comes back as null
      sched.state = { ...r.scheduler, best: r.scheduler.best ?? Infinity };
      Object.assign(notears, r.notears, { hPrev: r.notears.hPrev ?? Infinity });
      history = [...r.history];
      start = r.epoch;
      warmDone = r.warmDone;
      warmStart = r.warmEpoch ?? (r.warmDone ? cfg.warmStartEpochs : 0);
      if (early && r.early) early.state = { ...r.early };
      if (r.lift) lift = { ...r.lift };
      if (r.best)
        best = new Map(
          Object.entries(r.best).map(([k, v]) => [k, Float64Array.from(decodeF32(v))]),
        );
    }
    const t0 = performance.now();
    const seedOf = (phase: number, epoch: number) => (cfg.seed * 100003 + phase * 7919 + epoch) | 0;
    const aborted = () => opts.signal?.aborted === true;

    const report = async (
      phase: TrainProgress['phase'],
      program: Program<StepOutputs>,
      epoch: number,
      epochs: number,
      done: number,
      todo: number,
    ): Promise<TrainProgress> => {
      const [out, parts, penalty] = await Promise.all([
        program.outputs.total.item(),
        program.outputs.parts.toArray(),
        model.arena.penaltyValue(),
      ]);
      evalProgram.run();
      const [pred, evalParts] = await Promise.all([
        evalProgram.outputs.prediction.toArray(),
        evalProgram.outputs.parts.toArray(),
      ]);
      const elapsedMs = performance.now() - t0;
      const p: TrainProgress = {
        phase,
        epoch,
        epochs,
        loss: out + penalty,
        dataLoss: parts[0],
        valLoss: cfg.validationWeeks > 0 ? evalParts[0] : undefined,
        r2: maskedR2(host.target, pred, masks.train),
        lr: phase === 'train' ? sched.state.lr : cfg.warmStartLr,
        elapsedMs,
        etaMs: done > 0 ? (elapsedMs / done) * todo : NaN,
        h: program.outputs.h ? await program.outputs.h.item() : undefined,
      };
      history.push(p);
      opts.onProgress?.(p);
      return p;
    };

    const warmEpochs = cfg.warmStartEpochs;
    const totalSteps = (warmDone ? 0 : warmEpochs - warmStart) + cfg.epochs - start;
    let stepsDone = 0;
    let warmEpoch = warmStart;
    let epoch = start;
    let lastCheckpoint = performance.now();
    const enc = e.isGpu ? encodeF32 : encodeF64;
    const checkpoint = async () => {
      if (!opts.onCheckpoint) return;
      const st = await model.arena.readState();
      await opts.onCheckpoint({
        format: 'causalmix-checkpoint',
        version: 1,
        epoch,
        warmDone,
        warmEpoch,
        scheduler: { ...sched.state },
        notears: { ...notears },
        stepCount: st.stepCount,
        dtype: e.isGpu ? 'f32' : 'f64',
        params: enc(st.params),
        m: enc(st.m),
        v: enc(st.v),
        history,
        ...(lift ? { lift } : {}),
        ...(early ? { early: early.state } : {}),
        ...(best ? { best: Object.fromEntries([...best].map(([k, v]) => [k, enc(v)])) } : {}),
      });
      lastCheckpoint = performance.now();
    };
    const checkpointDue = () =>
      (opts.checkpointEvery !== undefined && epoch % opts.checkpointEvery === 0) ||
      (opts.checkpointSeconds !== undefined &&
        performance.now() - lastCheckpoint >= opts.checkpointSeconds * 1000);
    // a signal is only seen when the event loop runs: let it run every 50 ms or so
    let lastYield = performance.now();
    const letSignalsIn = async () => {
      if (!opts.signal || performance.now() - lastYield < 50) return;
      await new Promise((resolve) => setTimeout(resolve, 0));
      lastYield = performance.now();
    };
    if (warm && !warmDone) {
      for (let ep = warmStart; ep < warmEpochs && !aborted(); ep++) {
        model.dropoutSeed.write([seedOf(1, ep)]);
        model.arena.setHyper({
          lr: cfg.warmStartLr,
          weightDecay: cfg.weightDecay,
          clipGlobal: cfg.warmStartClip,
        });
        warm.run();
        warmEpoch = ep + 1;
        stepsDone++;
        if ((ep + 1) % cfg.logEvery === 0 || ep === warmEpochs - 1)
          await report('warm-start', warm, ep + 1, warmEpochs, stepsDone, totalSteps - stepsDone);
        await letSignalsIn();
      }
      if (!aborted()) {
        // the main phase starts a fresh optimizer, as the reference does
        model.arena.resetOptimizer();
        warmDone = true;
        await checkpoint();
      }
    } else warmDone = true;

    if (calib && liftProbe && !aborted()) {
      // the term's weight and the lifts before it acts, once where the main phase starts
      lift ??= await startCalibration(model, batch, liftProbe, host.lossMask, cfg.liftTestWeight);
      calib.weight.write([lift.weight]);
    }

    const nt = cfg.notears;
    // the NOTEARS tensors are rewritten only when their values change (at the dual updates)
    let written = '';
    while (epoch < cfg.epochs && !aborted()) {
      const active = cfg.dagMode === 'notears' && epoch >= nt.warmup;
      const duals = `${active} ${notears.rho} ${notears.alpha}`;
      if (duals !== written) model.setNotears(active, notears.rho, notears.alpha);
      written = duals;
      model.dropoutSeed.write([seedOf(2, epoch)]);
      model.arena.setHyper({
        lr: sched.state.lr,
        weightDecay: cfg.weightDecay,
        clipNorms: [cfg.clipCoeff, cfg.clipOther],
      });
      main.run();
      epoch++;
      stepsDone++;
      if (active && (epoch - nt.warmup) % nt.every === 0 && main.outputs.h) {
        // NOTEARS outer loop (spec §8): grow ρ when h did not shrink enough, then dual ascent
        const h = await main.outputs.h.item();
        if (h > nt.progress * notears.hPrev)
          notears.rho = Math.min(notears.rho * nt.factor, nt.rhoMax);
        notears.alpha += notears.rho * h;
        notears.hPrev = h;
      }
      if (epoch % cfg.logEvery === 0 || epoch === cfg.epochs) {
        const p = await report('train', main, epoch, cfg.epochs, stepsDone, totalSteps - stepsDone);
        sched.observe(p.valLoss ?? p.loss, cfg.logEvery);
        if (early && p.valLoss !== undefined) {
          const verdict = early.observe(p.valLoss, epoch, cfg.logEvery);
          if (verdict === 'improved') best = await model.arena.read();
          if (verdict === 'stop') break;
        }
      }
      if (checkpointDue()) await checkpoint();
      await letSignalsIn();
    }
    await checkpoint();
    if (best) model.arena.write(best);
    const liftTests =
      calib && liftProbe && lift
        ? liftResults(calib.tests, lift.before, await liftProbe.read())
        : undefined;
    [warm, main, evalProgram, liftProbe?.program].forEach((p) => p?.dispose());
    calib?.dispose();
    evalBatch.lossMask.dispose();
    disposeBatch(batch);
    return new FittedMMM(e, model, prepared, cfg, {
      history,
      epochs: epoch,
      cancelled: aborted(),
      stoppedEarly: early !== null && epoch < cfg.epochs && !aborted(),
      bestEpoch: early?.bestEpoch,
      seconds: (performance.now() - t0) / 1000,
      dispatchesPerStep: main.dispatchCount,
      ...(liftTests ? { liftTests } : {}),
    });
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
