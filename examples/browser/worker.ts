/**
 * The example page's training worker: it owns the engine (WebGPU through navigator.gpu, or the
 * CPU reference), trains, analyses, optimises budgets and reads and writes model files, so the
 * page stays responsive. The page talks to it with the messages below; nothing leaves the browser.
 */
// Module by module rather than from src/browser.ts, so the worker's bundle leaves out vega and
// vega-lite (the page draws the charts); the names are the same as the browser entry's.
import { BudgetOptimizer } from '../../src/analysis/budget-optimizer.js';
import { buildDashboardData } from '../../src/analysis/dashboard-data.js';
import { modelResponseCurves } from '../../src/analysis/model-curves.js';
import {
  reviveHillCurve,
  type CurveUnit,
  type HillCurve,
} from '../../src/analysis/response-curves.js';
import { fitCheck, type FitCheck } from '../../src/analysis/fit-check.js';
import type { BudgetRow, DashboardData } from '../../src/dashboard/data.js';
import type { Panel } from '../../src/data/panel.js';
import { UnifiedDataPipeline, type PreparedData } from '../../src/data/pipeline.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { WebGpuBackend } from '../../src/engine/webgpu-backend.js';
import { decodeF32, encodeF32 } from '../../src/model/codec.js';
import { getDefaultConfig, updateConfig } from '../../src/model/config.js';
import type { FittedMMM } from '../../src/model/fitted.js';
import { fromModelFileMembers, toModelFile } from '../../src/model/model-file.js';
import { ensembleChannelEffects } from '../../src/analysis/channel-effects.js';
import { meanDecomposition } from '../../src/analysis/ensemble-forecast.js';
import type { Decomposition } from '../../src/model/fitted.js';
import {
  ModelTrainer,
  type TrainerCheckpoint,
  type TrainProgress,
} from '../../src/model/trainer.js';
import { clearSaved, saveCheckpoint, saveRun, type SavedRun } from './saved-training.js';

/** Weeks of history the "current" media mix is taken from (as the CLI does). */
const CURRENT_WEEKS = 52;
/** Seconds between the checkpoints stored for resuming (besides the warm start's end and the end). */
const CHECKPOINT_SECONDS = 2;

export type EngineChoice = 'auto' | 'cpu';

export interface TrainRequest {
  epochs: number;
  warmStartEpochs: number;
  hiddenDim: number;
  engine: EngineChoice;
  /** epochs between progress reports (and loss readbacks) */
  logEvery: number;
  title: string;
}

export type ToWorker =
  /** `resume`: continue `run` from this checkpoint (the run is already saved) */
  | { type: 'train'; id: number; run: SavedRun; resume?: TrainerCheckpoint }
  | { type: 'cancel' }
  | { type: 'load-model'; id: number; text: string; engine: EngineChoice }
  | { type: 'optimize'; id: number; budget: number; weeks: number }
  | { type: 'model-file'; id: number }
  | { type: 'predictions'; id: number };

export interface ResultSummary {
  source: 'trained' | 'loaded';
  epochs: number;
  /** the epochs asked for (more than `epochs` when cancelled) */
  plannedEpochs: number;
  warmStartEpochs: number;
  cancelled: boolean;
  /** the epoch a resumed training continued from, or null */
  resumedFrom: number | null;
  seconds: number;
  /** pooled R² in KPI units */
  trainR2: number;
  holdoutR2: number;
  /** R² of y/ȳ_r over the training weeks: what the live progress shows during training */
  trainR2Scaled: number;
  /** holdout RMSE of the model and of the naive forecasts, and a warning when the model loses */
  check: FitCheck;
  /** channels with a response curve: the budget optimizer needs them */
  curveChannels: string[];
  curveUnit: CurveUnit;
  /** default budget form: the current weekly mix over `weeks` weeks, when known */
  budgetDefault: { budget: number; weeks: number } | null;
}

export interface BudgetTable {
  rows: BudgetRow[];
  unit: CurveUnit;
  weeks: number;
  predictedResponse: number;
  /** response lift of the optimal mix over the current one scaled to the same budget (percent) */
  liftPct: number | null;
  warnings: string[];
}

export type ErrorArea = 'adapter' | 'data' | 'train' | 'model' | 'optimize';

export type FromWorker =
  | { type: 'adapter'; name: string; details: string; isGpu: boolean }
  | { type: 'progress'; progress: TrainProgress }
  /** a checkpoint of the running training is stored (it can be resumed from `epoch`) */
  | { type: 'saved'; epoch: number }
  | { type: 'result'; id: number; summary: ResultSummary; dashboard: DashboardData }
  | { type: 'optimized'; id: number; table: BudgetTable }
  | { type: 'model-file'; id: number; text: string }
  | { type: 'predictions'; id: number; values: Float64Array }
  | { type: 'error'; id: number; area: ErrorArea; message: string };

/** The worker scope, typed without the WebWorker lib (the project compiles against DOM). */
interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  navigator: { gpu?: unknown };
}
const scope = self as unknown as WorkerScope;
const post = (m: FromWorker) => scope.postMessage(m);

/** What the last trained or loaded model brings along for the analyses. */
interface Current {
  fitted: FittedMMM;
  /** an ensemble's other members (a loaded model file from `fit --members`); empty for one model */
  others: FittedMMM[];
  rawMedia: Float64Array | null;
  curves: HillCurve[];
  curveUnit: CurveUnit;
  /** average weekly input per channel over the last training weeks, summed over regions */
  currentWeekly: Record<string, number> | null;
}

const engines = new Map<EngineChoice, Engine>();
let current: Current | null = null;
let abort: AbortController | null = null;

/** Error with the area the page reports it under. */
class AreaError extends Error {
  constructor(
    readonly area: ErrorArea,
    message: string,
  ) {
    super(message);
  }
}

/** Library messages start with 'causalmix: '; the page speaks to people. */
const plain = (e: unknown) =>
  (e instanceof Error ? e.message : String(e)).replace(/^causalmix: /, '');

async function engineFor(choice: EngineChoice): Promise<Engine> {
  const have = engines.get(choice);
  if (have) return have;
  if (choice === 'auto' && !scope.navigator.gpu)
    throw new AreaError(
      'adapter',
      'This browser has no WebGPU (navigator.gpu is missing). Use a browser with WebGPU ' +
        '(Chrome or Edge 113+, Safari 26+, Firefox 141+), or pick the CPU reference engine (slow).',
    );
  let engine: Engine;
  try {
    engine = await createEngine({ adapter: choice });
  } catch (e) {
    // navigator.gpu exists but hands out no adapter: WebGPU switched off, or no supported GPU
    throw new AreaError(
      'adapter',
      `This browser has no WebGPU adapter for this page (WebGPU is switched off or the GPU is not ` +
        `supported). Pick the CPU reference engine to train without it (slow).\n${plain(e)}`,
    );
  }
  engines.set(choice, engine);
  post({
    type: 'adapter',
    name: engine.describe(),
    details: adapterDetails(engine),
    isGpu: engine.isGpu,
  });
  return engine;
}

/**
 * Browsers leave the adapter's description empty (privacy), so the engine's name is often just the
 * vendor; the device's adapter info adds the architecture (e.g. 'swiftshader').
 */
function adapterDetails(engine: Engine): string {
  if (!engine.isGpu) return '';
  const info = (engine.backend as WebGpuBackend).device.adapterInfo as GPUAdapterInfo | undefined;
  if (!info) return '';
  const parts = [
    ['vendor', info.vendor],
    ['architecture', info.architecture],
    ['device', info.device],
    ['description', info.description],
  ].filter(([, v]) => v !== undefined && v !== '');
  return parts.map(([k, v]) => `${k} ${v}`).join(', ');
}

function currentWeeklyMedia(
  panel: Pick<Panel, 'channels' | 'regions' | 'weeks' | 'observed'>,
  media: Float64Array,
  wTrain: number,
): Record<string, number> {
  const W = panel.weeks.length;
  const C = panel.channels.length;
  const from = Math.max(0, wTrain - CURRENT_WEEKS);
  const out: Record<string, number> = {};
  panel.channels.forEach((ch, c) => {
    let s = 0;
    for (let r = 0; r < panel.regions.length; r++)
      for (let w = from; w < wTrain; w++)
        if (panel.observed[r * W + w]) s += media[(r * W + w) * C + c];
    out[ch] = s / (wTrain - from);
  });
  return out;
}

/** Decomposition, evaluation, curves, default budget comparison → the dashboard's input. */
async function analyse(
  c: Current,
  source: ResultSummary['source'],
  title: string,
  resumedFrom: number | null = null,
): Promise<{ summary: ResultSummary; dashboard: DashboardData }> {
  const { fitted } = c;
  const p: PreparedData = fitted.prepared;
  // an ensemble shows its members' mean, and its intervals in the channel charts
  const decs = await decompositions(c);
  const dec = meanDecomposition(decs);
  const report = await fitted.evaluate(dec);
  const effects = await ensembleChannelEffects([fitted, ...c.others], {
    decompositions: decs,
    rawMedia: c.rawMedia ?? undefined,
  });
  const fittedCurves = c.rawMedia ? modelResponseCurves(p, dec, c.rawMedia) : undefined;
  if (fittedCurves) {
    c.curves = fittedCurves.curves;
    c.curveUnit = fittedCurves.unit;
  }
  const weeks = Math.min(CURRENT_WEEKS, p.wTrain);
  const table = c.currentWeekly
    ? optimizeTable(c, sumWeekly(c.currentWeekly) * weeks, weeks)
    : null;
  const dashboard = await buildDashboardData(fitted, {
    decomposition: dec,
    report,
    curves: fittedCurves,
    budget: table?.rows,
    rawMedia: c.rawMedia ?? undefined,
    title,
    channelEffects: effects,
  });
  // a loaded file without the raw media still has its saved curves (no observed points)
  if (!fittedCurves && c.curves.length > 0)
    dashboard.responseCurves = c.curves.map((h) => ({
      channel: h.channel,
      top: h.top,
      bottom: h.bottom,
      saturation: h.saturation,
      slope: h.slope,
      r2: h.r2,
      points: [],
    }));
  const t = fitted.training;
  return {
    dashboard,
    summary: {
      source,
      epochs: t.epochs,
      plannedEpochs: fitted.config.epochs,
      warmStartEpochs: fitted.config.warmStartEpochs,
      cancelled: t.cancelled,
      resumedFrom,
      seconds: t.seconds,
      trainR2: report.train.r2,
      holdoutR2: report.holdout.r2,
      trainR2Scaled: report.train.r2Scaled,
      check: fitCheck(report),
      curveChannels: c.curves.map((h) => h.channel),
      curveUnit: c.curveUnit,
      budgetDefault: table ? { budget: sumWeekly(c.currentWeekly!) * weeks, weeks } : null,
    },
  };
}

async function decompositions(c: Current): Promise<Decomposition[]> {
  const out: Decomposition[] = [];
  for (const m of [c.fitted, ...c.others]) out.push(await m.decompose());
  return out;
}

const sumWeekly = (w: Record<string, number>) => Object.values(w).reduce((a, b) => a + b, 0);

/** The optimal mix for `budget` over `weeks`, against the current mix scaled to that budget. */
function optimizeTable(c: Current, budget: number, weeks: number): BudgetTable {
  if (c.curves.length === 0)
    throw new AreaError('optimize', 'this model has no response curves to optimise a budget with');
  const channels = c.curves.map((h) => h.channel);
  const optimizer = new BudgetOptimizer(budget, channels, c.curves, { numWeeks: weeks });
  const result = optimizer.optimize();
  let rows: BudgetRow[];
  let liftPct: number | null = null;
  const weekly = c.currentWeekly;
  const currentTotal = weekly ? channels.reduce((s, ch) => s + (weekly[ch] ?? 0), 0) : 0;
  if (weekly && currentTotal > 0) {
    const scaled = Object.fromEntries(
      channels.map((ch) => [ch, ((weekly[ch] ?? 0) / currentTotal) * budget]),
    );
    const cmp = optimizer.compareWithCurrent(scaled, result);
    rows = cmp.rows.map((r) => ({
      channel: r.channel,
      current: r.currentSpend,
      optimal: r.optimalSpend,
      currentResponse: r.currentResponse,
      optimalResponse: r.optimalResponse,
    }));
    liftPct = cmp.totals.responseLiftPct;
  } else {
    rows = result.byChannel.map((a) => ({
      channel: a.channel,
      current: NaN,
      optimal: a.totalSpend,
      optimalResponse: a.totalResponse,
    }));
  }
  return {
    rows,
    unit: result.unit,
    weeks,
    predictedResponse: result.predictedResponse,
    liftPct,
    warnings: result.warnings,
  };
}

/**
 * Stores the training as it goes (see saved-training.ts), so a reloaded tab can resume it. A
 * storage failure (no IndexedDB, quota) does not stop the training: it just cannot be resumed.
 */
const tryStore = (write: Promise<void>) =>
  write.then(
    () => true,
    (e: unknown) => {
      console.warn(`causalmix example: the training could not be stored: ${plain(e)}`);
      return false;
    },
  );

async function train(id: number, run: SavedRun, resume?: TrainerCheckpoint): Promise<void> {
  const { panel, request: req } = run;
  const config = updateConfig(getDefaultConfig(), {
    hiddenDim: req.hiddenDim,
    epochs: req.epochs,
    warmStartEpochs: req.warmStartEpochs,
    logEvery: req.logEvery,
  });
  let prepared: PreparedData;
  try {
    prepared = new UnifiedDataPipeline(config).fit(panel);
  } catch (e) {
    throw new AreaError('data', `The data cannot be used for training: ${plain(e)}`);
  }
  const engine = await engineFor(req.engine);
  if (!resume) await tryStore(saveRun(run));
  abort = new AbortController();
  let fitted: FittedMMM;
  try {
    fitted = await new ModelTrainer(engine, config).fit(prepared, {
      signal: abort.signal,
      onProgress: (progress) => post({ type: 'progress', progress }),
      // a reload or a crash loses at most these seconds of training (the state is small)
      checkpointSeconds: CHECKPOINT_SECONDS,
      onCheckpoint: async (c) => {
        if (await tryStore(saveCheckpoint(run.startedAt, c)))
          post({ type: 'saved', epoch: c.epoch });
      },
      resume,
    });
  } catch (e) {
    throw new AreaError('train', `Training failed: ${plain(e)}`);
  } finally {
    abort = null;
  }
  // A finished training is forgotten; a cancelled one stays resumable (its last checkpoint is
  // from the cancel), and the page offers to resume it until it is resumed, replaced or discarded.
  if (!fitted.training.cancelled) await tryStore(clearSaved());
  fitted.training.adapter = engine.adapterName;
  replaceCurrent({
    fitted,
    others: [],
    rawMedia: panel.media,
    curves: [],
    curveUnit: 'impressions',
    currentWeekly: currentWeeklyMedia(panel, panel.media, prepared.wTrain),
  });
  const out = await analyse(current!, 'trained', req.title, resume?.epoch ?? null);
  post({ type: 'result', id, ...out });
}

function replaceCurrent(next: Current): void {
  current?.fitted.dispose();
  current?.others.forEach((m) => m.dispose());
  current = next;
}

async function loadModel(id: number, text: string, choice: EngineChoice): Promise<void> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new AreaError(
      'model',
      `This file is not JSON, so not a causalmix model file: ${plain(e)}`,
    );
  }
  const engine = await engineFor(choice);
  let curves: HillCurve[] = [];
  try {
    const [fitted, ...others] = fromModelFileMembers(engine, json);
    const extras = (json.extras ?? {}) as Record<string, unknown>;
    if (Array.isArray(extras.responseCurves)) curves = extras.responseCurves.map(reviveHillCurve);
    const rawMedia = typeof extras.rawMedia === 'string' ? decodeF32(extras.rawMedia) : null;
    const weekly = extras.currentWeekly as { perChannel?: Record<string, number> } | undefined;
    replaceCurrent({
      fitted,
      others,
      rawMedia: rawMedia ? Float64Array.from(rawMedia) : null,
      curves,
      curveUnit: curves[0]?.unit ?? 'impressions',
      currentWeekly: weekly?.perChannel ?? null,
    });
  } catch (e) {
    throw new AreaError('model', `This model file cannot be loaded: ${plain(e)}`);
  }
  const out = await analyse(current!, 'loaded', 'causalmix: loaded model');
  post({ type: 'result', id, ...out });
}

function need(): Current {
  if (!current) throw new AreaError('model', 'Train a model or load a model file first.');
  return current;
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'cancel':
      abort?.abort();
      return;
    case 'train':
      return train(m.id, m.run, m.resume);
    case 'load-model':
      return loadModel(m.id, m.text, m.engine);
    case 'optimize': {
      const table = optimizeTable(need(), m.budget, m.weeks);
      post({ type: 'optimized', id: m.id, table });
      return;
    }
    case 'model-file': {
      const c = need();
      const file = await toModelFile(
        c.fitted,
        {
          responseCurves: c.curves,
          curveUnit: c.curveUnit,
          ...(c.currentWeekly
            ? {
                currentWeekly: {
                  weeks: CURRENT_WEEKS,
                  unit: c.curveUnit,
                  perChannel: c.currentWeekly,
                },
              }
            : {}),
          // the raw media lets a reloaded model redraw its response curves with their points
          ...(c.rawMedia ? { rawMedia: encodeF32(c.rawMedia) } : {}),
        },
        c.others,
      );
      post({ type: 'model-file', id: m.id, text: JSON.stringify(file) });
      return;
    }
    case 'predictions': {
      const dec = meanDecomposition(await decompositions(need()));
      post({ type: 'predictions', id: m.id, values: dec.prediction });
      return;
    }
  }
}

scope.onmessage = (e) => {
  const m = e.data;
  handle(m).catch((err: unknown) => {
    const area = err instanceof AreaError ? err.area : m.type === 'optimize' ? 'optimize' : 'model';
    post({ type: 'error', id: 'id' in m ? m.id : 0, area, message: plain(err) });
  });
};
