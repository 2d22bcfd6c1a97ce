/** `causalmix fit data.csv …`: load, train, write the results folder (`--dry-run`: load only). */
import { Option, type Command } from 'commander';
import { checkCostPerImpression } from '../analysis/model-curves.js';
import { loadCsvPanel } from '../data/csv-file.js';
import { describeMapping, type ColumnMapping, type ColumnRoles } from '../data/csv.js';
import { LayoutError } from '../data/layout.js';
import type { Panel } from '../data/panel.js';
import { UnifiedDataPipeline } from '../data/pipeline.js';
import type { AdapterChoice } from '../engine/device.js';
import { getDefaultConfig, updateConfig, type ConfigOverrides } from '../model/config.js';
import {
  adapterName,
  CliError,
  nameList,
  nonNegativeInt,
  positiveInt,
  readJsonObject,
} from './common.js';
import { CHECKPOINT_SECONDS, ENSEMBLE_NO_RESUME, fitAndWrite, shapeLine } from './fit-run.js';
import { panelFingerprint, readRunCheckpoint } from './fit-checkpoint.js';
import { Interruption } from './interrupt.js';
import type { LiftTestInput } from '../calibration/lift-tests.js';
import { readLiftTestsFile } from '../calibration/lift-tests-file.js';
import { cliFlags } from './flags.js';

interface FitOptions {
  config?: string;
  region?: string;
  week?: string;
  target?: string;
  kpi?: 'conversions' | 'revenue';
  media?: string[];
  mediaPrefix?: string;
  controls?: string[];
  controlPrefix?: string;
  perCapita?: boolean;
  population?: string;
  costPerImpression?: string;
  epochs?: number;
  warmStart?: number;
  hidden?: number;
  logEvery?: number;
  adapter: AdapterChoice;
  out?: string;
  checkpointEvery?: number;
  resume?: string;
  liftTests?: string;
  members?: number;
  dryRun?: boolean;
  verbose?: boolean;
}

export function registerFit(program: Command): void {
  program
    .command('fit')
    .description(
      'train DeepCausalMMM on a long-format CSV and write model, metrics, tables and a dashboard',
    )
    .argument('<data.csv>', 'one row per region × week (or per week: one region)')
    .option('--config <file.json>', 'model configuration overrides (JSON object)')
    .option('--region <col>', 'region column (detected; a file without one is one region)')
    .option('--week <col>', 'week column: week numbers or ISO dates (detected when omitted)')
    .option('--target <col>', 'KPI column (detected when omitted)')
    .addOption(
      new Option(
        '--kpi <kind>',
        'revenue: the KPI times the revenue_per_conversion column (Meridian-style files)',
      ).choices(['conversions', 'revenue']),
    )
    .option('--media <cols>', 'media columns, comma-separated', nameList)
    .option(
      '--media-prefix <p>',
      'media columns by prefix (default: detected, e.g. impressions_*, *_impression, *_S)',
    )
    .option(
      '--controls <cols>',
      'control columns, comma-separated (a text column: 0/1 per value)',
      nameList,
    )
    .option('--control-prefix <p>', 'control columns by prefix (default: detected, e.g. control_*)')
    .option('--per-capita', 'divide the KPI and the media by the population column')
    .option('--population <col>', 'population column for --per-capita (default: population)')
    .option(
      '--cost-per-impression <file.json>',
      'JSON object channel → cost per impression (default: from *_spend / *_S columns when present)',
    )
    .option(
      '--lift-tests <file>',
      'geo experiments to calibrate on: CSV or JSON with channel, regions, start_week, end_week, [post_weeks], lift, se',
    )
    .option(
      '--members <k>',
      'ensemble members (default 1): K ≥ 2 trains K models and gives channel shares, ROAS and forecasts 90 % intervals',
      positiveInt,
    )
    .option('--epochs <n>', 'training epochs (overrides the config)', nonNegativeInt)
    .option('--warm-start <n>', 'warm-start epochs (overrides the config)', nonNegativeInt)
    .option('--hidden <n>', 'GRU hidden size, even (overrides the config)', positiveInt)
    .option('--log-every <n>', 'epochs between progress reports', positiveInt)
    .option(
      '--adapter <name>',
      'auto, gpu, software, cpu, gl, swiftshader or vulkan',
      adapterName,
      'auto',
    )
    .option('--out <dir>', 'output folder (default: causalmix-out, or the --resume folder)')
    .option(
      '--checkpoint-every <epochs>',
      `epochs between checkpoints in the output folder (default: every ${CHECKPOINT_SECONDS / 60} minutes of training; 0: only at the end of the warm start and on Ctrl-C)`,
      nonNegativeInt,
    )
    .option(
      '--resume <dir>',
      'continue an interrupted fit from the checkpoint in <dir> (same data and options)',
    )
    .option('--dry-run', 'print the column mapping and the data summary, then stop (no training)')
    .option('--verbose', "also show the GPU driver's own start-up messages (Dawn)")
    .action(async (data: string, o: FitOptions) => {
      let overrides: ConfigOverrides = {};
      if (o.config) overrides = readJsonObject(o.config, 'config file') as ConfigOverrides;
      // explicit options; the rest is chosen for the adapter when it is known (autoConfig)
      const explicit: ConfigOverrides = Object.fromEntries(
        Object.entries({
          ...overrides,
          epochs: o.epochs ?? overrides.epochs,
          warmStartEpochs: o.warmStart ?? overrides.warmStartEpochs,
          hiddenDim: o.hidden ?? overrides.hiddenDim,
          logEvery: o.logEvery ?? overrides.logEvery,
        }).filter(([, v]) => v !== undefined),
      );
      const config = updateConfig(getDefaultConfig(), explicit);
      const { panel, mapping } = loadForCli(data, o);
      console.log(`data: ${data}\n${describeMapping(mapping, cliFlags)}`);
      const costs = costsFor(o, panel, mapping);
      const liftTests = o.liftTests ? readLiftTests(o.liftTests) : undefined;
      if (o.dryRun) {
        const p = new UnifiedDataPipeline(config).fit(panel);
        console.log(`${shapeLine(p)}: ready to fit (--dry-run: stopping here)`);
        return;
      }
      if (o.resume !== undefined && (o.members ?? 1) > 1) throw new CliError(ENSEMBLE_NO_RESUME);
      const resume = o.resume !== undefined ? readRunCheckpoint(o.resume) : undefined;
      const interruption = new Interruption().install();
      try {
        const done = await fitAndWrite(panel, explicit, {
          outDir: o.out ?? o.resume ?? 'causalmix-out',
          adapter: o.adapter,
          costPerImpression: costs,
          verbose: o.verbose,
          liftTests,
          liftTestsSource: o.liftTests,
          members: o.members,
          checkpoints: {
            every: o.checkpointEvery,
            resume,
            data: panelFingerprint(panel),
            argv: process.argv.slice(2),
            interruption,
          },
        });
        if (!done) process.exitCode = interruption.exitCode;
      } finally {
        interruption.uninstall();
      }
    });
}

/** Loads the CSV with the flags' roles; layout errors name the flags that settle them. */
function loadForCli(path: string, o: FitOptions): { panel: Panel; mapping: ColumnMapping } {
  const roles: ColumnRoles = {
    region: o.region,
    week: o.week,
    target: o.target,
    kpi: o.kpi,
    media: o.media,
    mediaPrefix: o.mediaPrefix,
    controls: o.controls,
    controlPrefix: o.controlPrefix,
    perCapita: o.perCapita,
    population: o.population,
  };
  try {
    return loadCsvPanel(path, roles);
  } catch (e) {
    if (e instanceof LayoutError) throw new CliError(e.render(cliFlags));
    throw e;
  }
}

/** The lift-test file's rows (checked against the data once it is prepared). */
function readLiftTests(path: string): LiftTestInput[] {
  try {
    return readLiftTestsFile(path);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/** Costs from --cost-per-impression, else from the file's spend columns, else none. */
function costsFor(
  o: FitOptions,
  panel: Panel,
  mapping: ColumnMapping,
): Record<string, number> | undefined {
  if (!o.costPerImpression) return mapping.costPerImpression ?? undefined;
  const raw = readJsonObject(o.costPerImpression, 'cost-per-impression file');
  try {
    return checkCostPerImpression(raw, panel.channels);
  } catch (e) {
    throw new CliError(
      `${o.costPerImpression}: ${(e as Error).message.replace(/^causalmix: /, '')}`,
    );
  }
}
