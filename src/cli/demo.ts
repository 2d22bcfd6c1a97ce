/** `causalmix demo`: synthetic panel → small model → results folder, with no data of your own. */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { generateSyntheticPanel } from '../data/synthetic.js';
import type { AdapterChoice } from '../engine/device.js';
import { getDefaultConfig, updateConfig } from '../model/config.js';
import { adapterName, nonNegativeInt, positiveInt } from './common.js';
import { fitAndWrite } from './fit-run.js';
import { panelToCsv } from './panel-csv.js';

interface DemoOptions {
  epochs: number;
  hidden: number;
  regions: number;
  weeks: number;
  channels: number;
  seed: number;
  adapter: AdapterChoice;
  out: string;
  verbose?: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'generate a synthetic panel, fit a small model and write the results and dashboard',
    )
    .option('--epochs <n>', 'training epochs', nonNegativeInt, 200)
    .option('--hidden <n>', 'GRU hidden size, even', positiveInt, 32)
    .option('--regions <n>', 'synthetic regions', positiveInt, 10)
    .option('--weeks <n>', 'synthetic weeks', positiveInt, 104)
    .option('--channels <n>', 'synthetic media channels (at most 8)', positiveInt, 4)
    .option('--seed <n>', 'generator seed', nonNegativeInt, 7)
    .option(
      '--adapter <name>',
      'auto, gpu, software, cpu, gl, swiftshader or vulkan',
      adapterName,
      'auto',
    )
    .option('--out <dir>', 'output folder', 'causalmix-demo')
    .option('--verbose', "also show the GPU driver's own start-up messages (Dawn)")
    .action(async (o: DemoOptions) => {
      const { panel } = generateSyntheticPanel({
        regions: o.regions,
        weeks: o.weeks,
        channels: o.channels,
        seed: o.seed,
      });
      mkdirSync(o.out, { recursive: true });
      const csv = join(o.out, 'data.csv');
      writeFileSync(csv, panelToCsv(panel));
      console.log(
        `synthetic panel: ${o.regions} regions × ${o.weeks} weeks × ${o.channels} channels, written to ${csv}`,
      );
      const config = updateConfig(getDefaultConfig(), {
        hiddenDim: o.hidden,
        epochs: o.epochs,
        warmStartEpochs: Math.min(50, o.epochs),
        logEvery: 10,
      });
      await fitAndWrite(panel, config, {
        outDir: o.out,
        adapter: o.adapter,
        title: 'causalmix demo (synthetic data)',
        verbose: o.verbose,
      });
    });
}
