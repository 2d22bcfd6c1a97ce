/** `causalmix fit data.csv …`: load, train, write the results folder. */
import type { Command } from 'commander';
import { checkCostPerImpression } from '../analysis/model-curves.js';
import { loadCsvPanel } from '../data/csv-file.js';
import { describeMapping, type ColumnRoles } from '../data/csv.js';
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
import { fitAndWrite } from './fit-run.js';

interface FitOptions {
  config?: string;
  region?: string;
  week?: string;
  target?: string;
  media?: string[];
  mediaPrefix?: string;
  controls?: string[];
  controlPrefix?: string;
  costPerImpression?: string;
  epochs?: number;
  warmStart?: number;
  hidden?: number;
  logEvery?: number;
  adapter: AdapterChoice;
  out: string;
}

export function registerFit(program: Command): void {
  program
    .command('fit')
    .description(
      'train DeepCausalMMM on a long-format CSV and write model, metrics, tables and a dashboard',
    )
    .argument('<data.csv>', 'one row per region × week')
    .option('--config <file.json>', 'model configuration overrides (JSON object)')
    .option('--region <col>', 'region column (detected when omitted)')
    .option('--week <col>', 'week column: week numbers or ISO dates (detected when omitted)')
    .option('--target <col>', 'KPI column (detected when omitted)')
    .option('--media <cols>', 'media columns, comma-separated', nameList)
    .option(
      '--media-prefix <p>',
      'media columns by prefix (default: impressions_, media_ or spend_)',
    )
    .option('--controls <cols>', 'control columns, comma-separated', nameList)
    .option('--control-prefix <p>', 'control columns by prefix (default: control_)')
    .option(
      '--cost-per-impression <file.json>',
      'JSON object channel → cost per impression; response curves and budgets are then in spend',
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
    .option('--out <dir>', 'output folder', 'causalmix-out')
    .action(async (data: string, o: FitOptions) => {
      let overrides: ConfigOverrides = {};
      if (o.config) overrides = readJsonObject(o.config, 'config file') as ConfigOverrides;
      const config = updateConfig(getDefaultConfig(), {
        ...overrides,
        epochs: o.epochs ?? overrides.epochs,
        warmStartEpochs: o.warmStart ?? overrides.warmStartEpochs,
        hiddenDim: o.hidden ?? overrides.hiddenDim,
        logEvery: o.logEvery ?? overrides.logEvery,
      });
      const roles: ColumnRoles = {
        region: o.region,
        week: o.week,
        target: o.target,
        media: o.media,
        mediaPrefix: o.mediaPrefix,
        controls: o.controls,
        controlPrefix: o.controlPrefix,
      };
      const { panel, mapping } = loadCsvPanel(data, roles);
      console.log(`data: ${data}\n${describeMapping(mapping)}`);
      let costs: Record<string, number> | undefined;
      if (o.costPerImpression) {
        const raw = readJsonObject(o.costPerImpression, 'cost-per-impression file');
        try {
          costs = checkCostPerImpression(raw, panel.channels);
        } catch (e) {
          throw new CliError(
            `${o.costPerImpression}: ${(e as Error).message.replace(/^causalmix: /, '')}`,
          );
        }
      }
      await fitAndWrite(panel, config, {
        outDir: o.out,
        adapter: o.adapter,
        costPerImpression: costs,
      });
    });
}
