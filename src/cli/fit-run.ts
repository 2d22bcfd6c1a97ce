/**
 * Train on a panel and write every result into one folder (shared by `fit` and `demo`):
 * model.json (model file; extras: response curves, metrics, costs, current weekly media, what-if
 * base), metrics.json, contributions.csv, response-curves.csv, dag.csv, dashboard.html and
 * charts/*.svg. Progress and the evaluation report go to `log`.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BudgetOptimizer } from '../analysis/budget-optimizer.js';
import { modelContributions } from '../analysis/contributions.js';
import { adjacencyToCsv, thresholdDag } from '../analysis/dag-analysis.js';
import { buildDashboardData } from '../analysis/dashboard-data.js';
import { formatEvaluationReport } from '../analysis/metrics.js';
import {
  formatCurveSummary,
  formatPlanCheck,
  ScenarioRunner,
  type PlanCheck,
} from '../analysis/model-response.js';
import { whatIfBaseFromPanel } from '../analysis/what-if.js';
import { writeDashboard } from '../dashboard/svg.js';
import type { Panel } from '../data/panel.js';
import { UnifiedDataPipeline, type PreparedData } from '../data/pipeline.js';
import type { AdapterChoice } from '../engine/device.js';
import { createEngine } from '../engine/engine.js';
import { saveModel } from '../model/checkpoint-file.js';
import { ModelTrainer } from '../model/trainer.js';
import { CliError, plainJson, progressReporter, toJson } from './common.js';
import { ensembleChannelEffects, type ChannelEffects } from '../analysis/channel-effects.js';
import {
  forecastCsv,
  meanDecomposition,
  predictionIntervals,
} from '../analysis/ensemble-forecast.js';
import {
  allocationSpread,
  checkPlanWithMembers,
  ensembleModelCurves,
  formatAllocationSpread,
  type AllocationSpread,
} from '../analysis/ensemble-curves.js';
import { fitEnsemble } from '../model/ensemble.js';
import type { Decomposition, FittedMMM } from '../model/fitted.js';
import type { Engine } from '../engine/engine.js';
import { fitWarnings } from '../analysis/warnings.js';
import { autoConfig } from '../model/auto-config.js';
import {
  getDefaultConfig,
  updateConfig,
  type ConfigOverrides,
  type MMMConfig,
} from '../model/config.js';
import { writeFileAtomic } from '../data/atomic-write.js';
import type {
  FitOptions as TrainOptions,
  LiftTestResult,
  TrainerCheckpoint,
} from '../model/trainer.js';
import { resolveLiftTests, type LiftTest, type LiftTestInput } from '../calibration/lift-tests.js';
import type { Interruption } from './interrupt.js';
import {
  checkpointPath,
  checkSameRun,
  removeRunCheckpoint,
  resumeCommand,
  writeRunCheckpoint,
  type RunCheckpoint,
  type RunIdentity,
} from './fit-checkpoint.js';

export interface FitRunOptions {
  outDir: string;
  adapter: AdapterChoice;
  costPerImpression?: Record<string, number>;
  title?: string;
  /** let the GPU driver's start-up messages through to stderr */
  verbose?: boolean;
  /** where messages go (default process.stdout) */
  log?: NodeJS.WriteStream;
  /** geo experiments to calibrate on (rows of `liftTestsSource`), checked against the data */
  liftTests?: LiftTestInput[];
  liftTestsSource?: string;
  /** checkpoints in `outDir`, resume and clean interruption (`fit`; `demo` has none) */
  checkpoints?: CheckpointOptions;
  /** ensemble members (default 1): K ≥ 2 gives every channel figure a 90 % interval */
  members?: number;
}

export interface CheckpointOptions {
  /** main-phase epochs between checkpoints; undefined: every CHECKPOINT_SECONDS; 0: none between */
  every?: number;
  resume?: RunCheckpoint;
  /** fingerprint of the data (fit-checkpoint.ts) */
  data: string;
  argv: string[];
  interruption: Interruption;
}

/** Default time between checkpoints: a crash costs at most this much training. */
export const CHECKPOINT_SECONDS = 120;

/** Weeks of history the "current" allocation is taken from. */
export const CURRENT_WEEKS = 52;

/**
 * Average weekly input per channel (impressions, or spend with costs) over the last
 * `weeks` training weeks, summed over observed regions.
 */
export function currentWeeklyMedia(
  panel: Panel,
  p: Pick<PreparedData, 'wTrain'>,
  costs?: Record<string, number>,
  weeks = CURRENT_WEEKS,
): Record<string, number> {
  const W = panel.weeks.length;
  const C = panel.channels.length;
  const from = Math.max(0, p.wTrain - weeks);
  const n = p.wTrain - from;
  const out: Record<string, number> = {};
  panel.channels.forEach((ch, c) => {
    let s = 0;
    for (let r = 0; r < panel.regions.length; r++)
      for (let w = from; w < p.wTrain; w++)
        if (panel.observed[r * W + w]) s += panel.media[(r * W + w) * C + c];
    out[ch] = (s / n) * (costs ? costs[ch] : 1);
  });
  return out;
}

/** Σ media / Σ KPI over the observed training region-weeks. */
export function mediaShareOfKpi(p: PreparedData, mediaTotal: number): number {
  let kpi = 0;
  for (let r = 0; r < p.R; r++)
    for (let w = 0; w < p.wTrain; w++) if (p.observed[r * p.W + w]) kpi += p.rawTarget[r * p.W + w];
  return kpi > 0 ? mediaTotal / kpi : NaN;
}

/** channels.csv's rows as JSON (metrics.json). */
function channelRows(e: ChannelEffects) {
  const num = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);
  const iv = e.intervals;
  return e.channels.map((channel, c) => ({
    channel,
    directContribution: e.direct[c],
    mediatedContribution: e.mediated[c],
    totalContribution: e.total[c],
    shareOfMedia: e.shareOfMedia[c],
    roas: num(e.roas[c]),
    ...(iv
      ? {
          totalContributionLo: iv.total[c].lo,
          totalContributionHi: iv.total[c].hi,
          shareOfMediaLo: iv.shareOfMedia[c].lo,
          shareOfMediaHi: iv.shareOfMedia[c].hi,
          roasLo: num(iv.roas[c].lo),
          roasHi: num(iv.roas[c].hi),
        }
      : {}),
  }));
}

/** How the intervals are made, for metrics.json. */
const ENSEMBLE_METHOD =
  'members trained on Bayesian-bootstrap weights of region × 13-week blocks, seeds seed + k; ' +
  'channel figures: mean ± t(K−1)·sd·√(1 + 1/K); KPI: mean ± z·√(sd²(1 + 1/K) + training RMSE²)';

export const ENSEMBLE_NO_RESUME =
  '--resume continues a single model; an ensemble (--members) keeps no checkpoint yet';

/** Printed after a single model's summary: how to get intervals. */
export const SINGLE_MODEL_NOTE =
  'one model, so no intervals: --members 8 trains an ensemble whose channel figures and ' +
  'forecasts carry 90 % intervals (8× the training time)';

/** The per-channel summary: total effects (own + through other channels), share, ROAS. */
export function formatChannelEffects(e: ChannelEffects, withCosts: boolean): string[] {
  const f = (v: number) => new Intl.NumberFormat('en', { maximumSignificantDigits: 3 }).format(v);
  const lines = [
    e.intervals
      ? `channels (total effects over the training weeks, mean of ${e.intervals.members} members; channels.csv):`
      : 'channels (total effects over the training weeks; channels.csv):',
  ];
  e.channels.forEach((ch, c) => {
    const via = e.mediated[c] !== 0 ? `, of which ${f(e.mediated[c])} through other channels` : '';
    const roas = withCosts && Number.isFinite(e.roas[c]) ? `, ROAS ${e.roas[c].toFixed(2)}` : '';
    const iv = e.intervals;
    const range = iv
      ? ` (${Math.round(100 * iv.level)} % interval ${(100 * iv.shareOfMedia[c].lo).toFixed(1)}–` +
        `${(100 * iv.shareOfMedia[c].hi).toFixed(1)} %)`
      : '';
    lines.push(
      `  ${ch}: ${(100 * e.shareOfMedia[c]).toFixed(1)} % of media${range}, ${f(e.total[c])}${via}${roas}`,
    );
  });
  return lines;
}

/** One line on the channel graph. */
function describeGraph(mode: string, adjacency: number[][], channels: string[]): string {
  if (mode !== 'media') {
    const edges = thresholdDag(adjacency)
      .flat()
      .filter((v) => v !== 0).length;
    return `DAG: ${edges} edges ≥ 0.3 (dag.csv has the full matrix)`;
  }
  const edges = adjacency.flatMap((row, i) =>
    row.flatMap((v, j) =>
      v > 0 ? [`${channels[i]} → ${channels[j]} (${(100 * v).toFixed(0)} %)`] : [],
    ),
  );
  return edges.length
    ? `channel graph (from the media series): ${edges.join(', ')} of the child's input`
    : 'channel graph (from the media series): no channel drives another';
}

/** The parts of a run's identity known before training. */
function runParts(
  ck: CheckpointOptions,
  overrides: ConfigOverrides,
  opts: FitRunOptions,
): Pick<RunIdentity, 'data' | 'overrides' | 'costPerImpression' | 'liftTests'> {
  return {
    data: ck.data,
    overrides,
    costPerImpression: opts.costPerImpression ?? null,
    liftTests: opts.liftTests ?? null,
  };
}

/** Each lift test: measured vs the model's lift before and after calibration. */
export function formatLiftTests(tests: LiftTestResult[]): string[] {
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const z = (v: number) => `z ${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)}`;
  const lines = [
    "lift tests (the model's lift in KPI, z = (model − measured) / se; before = after the warm " +
      'start, before the calibration term acted):',
  ];
  for (const t of tests) {
    const where = t.regions[0] === 'all' ? 'all regions' : `${t.regions.length} regions`;
    lines.push(
      `  ${t.channel}, ${where}, weeks ${t.startWeek}–${t.endWeek}` +
        (t.postWeeks ? ` + ${t.postWeeks}` : '') +
        `: measured ${n(t.measured)} ± ${n(t.se)}; model ${n(t.before)} (${z(t.zBefore)}) → ` +
        `${n(t.after)} (${z(t.zAfter)})`,
    );
  }
  return lines;
}

/** The trainer's checkpoint options for `--checkpoint-every`. */
function checkpointCadence(
  every?: number,
): Pick<TrainOptions, 'checkpointEvery' | 'checkpointSeconds'> {
  if (every === undefined) return { checkpointSeconds: CHECKPOINT_SECONDS };
  return every > 0 ? { checkpointEvery: every } : {};
}

/** "epoch 610 of 3000" or "warm-start epoch 20 of 50". */
function checkpointWhere(
  c: TrainerCheckpoint,
  config: { epochs: number; warmStartEpochs: number },
) {
  return c.warmDone
    ? `epoch ${c.epoch} of ${config.epochs}`
    : `warm-start epoch ${c.warmEpoch ?? 0} of ${config.warmStartEpochs}`;
}

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "4 regions, 53 training + 7 holdout weeks, 3 channels, 2 controls" */
export function shapeLine(p: Pick<PreparedData, 'R' | 'wTrain' | 'wHoldout' | 'C' | 'K'>): string {
  return (
    `${count(p.R, 'region', 'regions')}, ${p.wTrain} training + ${p.wHoldout} holdout weeks, ` +
    `${count(p.C, 'channel', 'channels')}, ${count(p.K, 'control', 'controls')}`
  );
}

/**
 * Fits `panel` with the default configuration for the adapter found (autoConfig), the explicit
 * `overrides` winning, and writes every result.
 */
export async function fitAndWrite(panel: Panel, overrides: ConfigOverrides, opts: FitRunOptions) {
  const log = opts.log ?? process.stdout;
  const say = (s: string) => log.write(s + '\n');
  try {
    mkdirSync(opts.outDir, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create output folder '${opts.outDir}': ${(e as Error).message}`);
  }
  const engine = await createEngine({ adapter: opts.adapter, verbose: opts.verbose });
  try {
    say(`adapter: ${engine.describe()}`);
    const ck = opts.checkpoints;
    let config;
    if (ck?.resume) {
      // the resumed run trains with the configuration it started with, whatever the adapter
      const r = ck.resume;
      checkSameRun(r.run, runParts(ck, overrides, opts), checkpointPath(opts.outDir));
      config = updateConfig(getDefaultConfig(), r.run.config);
      say(`resuming from ${checkpointPath(opts.outDir)}: ${checkpointWhere(r, config)}`);
    } else {
      const size = { R: panel.regions.length, T: panel.weeks.length, C: panel.channels.length };
      const auto = autoConfig(engine, size, overrides);
      config = auto.config;
      for (const r of auto.reasons) say(`chosen: ${r}`);
      if (ck && existsSync(checkpointPath(opts.outDir)))
        say(
          `note: ${checkpointPath(opts.outDir)} holds an interrupted fit; starting afresh ` +
            `(--resume ${opts.outDir} continues it)`,
        );
    }
    const prepared = new UnifiedDataPipeline(config).fit(panel);
    const liftTests = opts.liftTests
      ? resolveLiftTests(opts.liftTests, panel, { wTrain: prepared.wTrain }, opts.liftTestsSource)
      : undefined;
    say(
      `${shapeLine(prepared)}; hidden ${config.hiddenDim}, ` +
        `${config.warmStartEpochs} warm-start + ${config.epochs} epochs`,
    );
    const trainSingle = async (): Promise<FittedMMM | undefined> => {
      const progress = progressReporter(log, {
        warmStart: config.warmStartEpochs,
        train: config.epochs,
      });
      const trainer = new ModelTrainer(engine, config);
      let last: TrainerCheckpoint | undefined;
      const fitted = ck
        ? await ck.interruption.whileTraining((signal) =>
            trainer.fit(prepared, {
              onProgress: progress.onProgress,
              signal,
              liftTests,
              resume: ck.resume,
              ...checkpointCadence(ck.every),
              onCheckpoint: (c) => {
                const identity: RunIdentity = {
                  ...runParts(ck, overrides, opts),
                  config,
                  adapter: engine.adapterName,
                  argv: ck.argv,
                };
                writeRunCheckpoint(opts.outDir, c, identity);
                last = c;
              },
            }),
          )
        : await trainer.fit(prepared, { onProgress: progress.onProgress, liftTests });
      progress.stop();
      if (ck && last) {
        const resume = resumeCommand(ck.argv, opts.outDir);
        if (fitted.training.cancelled) {
          say(
            `interrupted at ${checkpointWhere(last, config)}: checkpoint saved in ` +
              `${checkpointPath(opts.outDir)}; resume with: ${resume}`,
          );
          fitted.dispose();
          return undefined;
        }
        // from here on a signal ends the process; the finished training is in the checkpoint
        ck.interruption.exitNote = () =>
          `causalmix: interrupted while writing the results; training had finished and is saved ` +
          `in ${checkpointPath(opts.outDir)}: resume with: ${resume}`;
      }
      return fitted;
    };
    const members = opts.members ?? 1;
    let ensemble: FittedMMM[];
    if (members > 1) {
      if (ck?.resume) throw new CliError(ENSEMBLE_NO_RESUME);
      const trained = await trainEnsemble(engine, config, prepared, members, liftTests, log, ck);
      if (!trained) return undefined;
      ensemble = trained;
    } else {
      const single = await trainSingle();
      if (!single) return undefined;
      ensemble = [single];
    }
    const fitted = ensemble[0];
    for (const m of ensemble) m.training.adapter = engine.adapterName;
    const seconds = ensemble.reduce((a, m) => a + m.training.seconds, 0);
    say(
      ensemble.length > 1
        ? `trained ${ensemble.length} members (${ensemble.map((m) => m.training.epochs).join(', ')} epochs) in ${seconds.toFixed(1)} s`
        : `trained ${fitted.training.epochs} epochs in ${seconds.toFixed(1)} s`,
    );

    // an ensemble reports its members' mean, with intervals (src/model/ensemble.ts)
    const decs: Decomposition[] = [];
    for (const m of ensemble) decs.push(await m.decompose());
    const dec = meanDecomposition(decs);
    const report = await fitted.evaluate(dec);
    const intervals = ensemble.length > 1 ? predictionIntervals(decs, prepared) : undefined;
    const contributions = await modelContributions(fitted, dec);
    const effects = await ensembleChannelEffects(ensemble, {
      decompositions: decs,
      rawMedia: panel.media,
      costPerImpression: opts.costPerImpression,
    });
    const warnings = fitWarnings({
      prepared,
      config,
      mediaShare: mediaShareOfKpi(prepared, effects.mediaTotal),
      report,
    });
    // model-implied response curves: the last 13 weeks' input × 0…3 run through the model
    const runners: ScenarioRunner[] = [];
    for (const m of ensemble)
      runners.push(
        await ScenarioRunner.create(m, {
          rawMedia: panel.media,
          costPerImpression: opts.costPerImpression,
        }),
      );
    const runner = runners[0];
    // an ensemble's curves are its members' mean, with bands (src/analysis/ensemble-curves.ts)
    const memberCurves = await ensembleModelCurves(ensemble, {}, runners);
    const curves = memberCurves.curves;
    for (const s of curves.skipped) say(`response curve skipped: ${s.reason}`);
    const adjacency = await fitted.dagAdjacency();
    const Nw = runner.windowWeeks;
    const currentWeekly = Object.fromEntries(
      prepared.channels.map((ch, c) => [ch, runner.windowInput[c] / Nw]),
    );

    // the planning window's mix against the optimal one for the same budget, checked by the model
    let budget;
    let planCheck: PlanCheck | undefined;
    let spread: AllocationSpread[] | undefined;
    const current = Object.fromEntries(
      prepared.channels.map((ch, c) => [ch, runner.windowInput[c]]),
    );
    const total = runner.windowInput.reduce((a, b) => a + b, 0);
    if (curves.curves.length === prepared.C && total > 0) {
      const optimizer = new BudgetOptimizer(total, prepared.channels, curves.curves, {
        numWeeks: Nw,
      });
      const result = optimizer.optimize();
      budget = optimizer.compareWithCurrent(current, result);
      planCheck = await checkPlanWithMembers(
        runners,
        result.allocation,
        Nw,
        result.predictedResponse,
      );
      if (ensemble.length > 1)
        spread = allocationSpread(
          memberCurves.members.map((m) => m.curves),
          total,
          Nw,
        );
    }

    const out = (name: string) => join(opts.outDir, name);
    const metricsJson = plainJson(report);
    await saveModel(
      out('model.json'),
      fitted,
      {
        responseCurves: curves.curves,
        // an ensemble's members' own curves: `optimize` reports the spread of its recommendation
        ...(ensemble.length > 1
          ? { memberResponseCurves: memberCurves.members.map((m) => m.curves) }
          : {}),
        curveUnit: curves.unit,
        metrics: metricsJson,
        costPerImpression: opts.costPerImpression ?? null,
        currentWeekly: { weeks: Nw, unit: curves.unit, perChannel: currentWeekly },
        modelCurves: {
          windowWeeks: Nw,
          window: {
            from: prepared.weeks[curves.window.from],
            to: prepared.weeks[curves.window.to - 1],
          },
          multipliers: curves.multipliers,
          unit: curves.unit,
          channels: curves.channels.map((s) => ({
            channel: s.channel,
            windowInput: s.input[s.multipliers.indexOf(1)],
            pattern: s.pattern,
            tailWeeks: s.tailWeeks,
          })),
          graphEdges: curves.graphEdges,
          // share-of-voice scaling: what `optimize` needs to run a plan through the model
          rawWindowMedia: runner.rawWindowMedia(),
        },
        whatIf: whatIfBaseFromPanel(panel, prepared),
      },
      ensemble.slice(1),
    );
    writeFileAtomic(
      out('metrics.json'),
      toJson({
        ...report,
        channels: channelRows(effects),
        ...(intervals
          ? {
              ensemble: {
                members: ensemble.length,
                level: intervals.level,
                method: ENSEMBLE_METHOD,
                holdoutPredictionCoverage: intervals.holdoutCoverage,
                holdoutCells: intervals.holdoutCells,
              },
            }
          : {}),
        warnings,
        ...(fitted.training.liftTests ? { liftTests: fitted.training.liftTests } : {}),
      }) + '\n',
    );
    writeFileAtomic(out('channels.csv'), effects.toCsv());
    writeFileAtomic(out('contributions.csv'), contributions.toCsv());
    if (intervals) writeFileAtomic(out('forecast.csv'), forecastCsv(prepared, dec, intervals));
    writeFileAtomic(out('response-curves.csv'), curves.toCsv());
    writeFileAtomic(out('dag.csv'), adjacencyToCsv(adjacency, prepared.channels));
    const data = await buildDashboardData(fitted, {
      decomposition: dec,
      report,
      curves,
      budget,
      rawMedia: panel.media,
      title: opts.title,
      channelEffects: effects,
      warnings,
    });
    const dash = await writeDashboard(data, opts.outDir);

    say('');
    say(formatEvaluationReport(report));
    say('');
    for (const w of warnings) say(`WARNING: ${w.message}`);
    const s = contributions.shares;
    const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
    say(
      `contribution shares: media ${pct(s.media)}, baseline ${pct(s.baseline)}, ` +
        `seasonal ${pct(s.seasonal)}, controls ${pct(s.control)}`,
    );
    for (const line of formatChannelEffects(effects, opts.costPerImpression !== undefined))
      say(line);
    if (intervals)
      say(
        `holdout: ${(100 * intervals.holdoutCoverage).toFixed(0)} % of ${intervals.holdoutCells} ` +
          `region-weeks inside the ${Math.round(100 * intervals.level)} % prediction interval`,
      );
    else say(SINGLE_MODEL_NOTE);
    say(describeGraph(config.dagMode, adjacency, prepared.channels));
    if (fitted.training.liftTests)
      for (const line of formatLiftTests(fitted.training.liftTests)) say(line);
    say(
      `response curves: simulated by the model (the last ${Nw} weeks' input × 0–3, ` +
        `${curves.run.scenarios} scenarios in ${curves.run.seconds.toFixed(1)} s)` +
        (curves.unit === 'impressions'
          ? '; no cost per impression given, so x is impressions, not spend'
          : ''),
    );
    for (const line of formatCurveSummary(curves)) say(line);
    if (planCheck) {
      say(`optimal mix of the last ${Nw} weeks' budget, run through the model:`);
      for (const line of formatPlanCheck(planCheck)) say(`  ${line}`);
    }
    if (spread) for (const line of formatAllocationSpread(spread, curves.unit)) say(`  ${line}`);
    say(`wrote ${opts.outDir}: model.json, metrics.json, channels.csv, contributions.csv,`);
    say(
      `  response-curves.csv, dag.csv, ${intervals ? 'forecast.csv, ' : ''}` +
        `${dash.svgPaths.length} charts, dashboard.html`,
    );
    // every result is written: the checkpoint has nothing left to resume
    if (ck) removeRunCheckpoint(opts.outDir);
    for (const m of ensemble) m.dispose();
    return { prepared, report, curves, contributions, effects, warnings, intervals };
  } finally {
    engine.destroy();
  }
}

/** The K members of an ensemble, one after another (no checkpoints); undefined when interrupted. */
async function trainEnsemble(
  engine: Engine,
  config: MMMConfig,
  prepared: PreparedData,
  members: number,
  liftTests: LiftTest[] | undefined,
  log: NodeJS.WriteStream,
  ck: CheckpointOptions | undefined,
): Promise<FittedMMM[] | undefined> {
  const say = (s: string) => log.write(s + '\n');
  say(
    `ensemble: ${members} members one after another, each on a Bayesian bootstrap of the ` +
      `region-quarters (no checkpoints while an ensemble trains)`,
  );
  let progress: ReturnType<typeof progressReporter> | undefined;
  const run = (signal?: AbortSignal) =>
    fitEnsemble(engine, config, prepared, {
      members,
      signal,
      liftTests,
      onMember: (k, K) => {
        progress?.stop();
        say(`member ${k + 1} of ${K}`);
        progress = progressReporter(log, {
          warmStart: config.warmStartEpochs,
          train: config.epochs,
        });
      },
      onProgress: (p) => progress?.onProgress(p),
    });
  const trained = ck ? await ck.interruption.whileTraining(run) : await run();
  progress?.stop();
  if (trained.length < members || trained.some((m) => m.training.cancelled)) {
    say(`interrupted after ${trained.length} of ${members} members: nothing written`);
    for (const m of trained) m.dispose();
    return undefined;
  }
  return trained;
}
