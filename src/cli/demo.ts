/**
 * `causalmix demo`: a panel with a known causal process (the recovery benchmark's generator,
 * flighted channels with costs) → the default model for the adapter → results folder, and the
 * recovered channel shares printed beside the generator's truth. No data of your own needed.
 */
import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../data/atomic-write.js';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { AdapterChoice } from '../engine/device.js';
import type { ConfigOverrides } from '../model/config.js';
import { generateRecoveryPanel, type ChannelPlan } from '../recovery/generator.js';
import { adapterName, nonNegativeInt, positiveInt } from './common.js';
import { fitAndWrite } from './fit-run.js';
import { panelToCsv } from './panel-csv.js';

interface DemoOptions {
  epochs?: number;
  hidden?: number;
  regions: number;
  weeks: number;
  channels: number;
  seed: number;
  adapter: AdapterChoice;
  out: string;
  verbose?: boolean;
}

const NAMES = ['tv', 'search', 'social', 'display', 'radio', 'video', 'print', 'ooh'];

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'generate a panel with a known process, fit the default model, write the results and ' +
        'dashboard, and print the recovered channel shares beside the truth',
    )
    .option('--epochs <n>', 'training epochs (default: chosen for the adapter)', nonNegativeInt)
    .option('--hidden <n>', 'GRU hidden size, even (default: chosen for the adapter)', positiveInt)
    .option('--regions <n>', 'synthetic regions', positiveInt, 10)
    .option('--weeks <n>', 'synthetic weeks (≥ 46)', positiveInt, 104)
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
      const C = Math.min(o.channels, NAMES.length);
      // flighted channels, effects log-spaced from 40 % to 10 % of media in a seeded order
      const channels: ChannelPlan[] = NAMES.slice(0, C).map((name, i) => ({
        name,
        pattern: 'flighted',
        weight: C === 1 ? 1 : 0.4 * Math.pow(0.25, i / (C - 1)),
      }));
      const rp = generateRecoveryPanel({
        seed: o.seed,
        regions: o.regions,
        weeks: o.weeks,
        channels,
        controls: 2,
        mediaShare: 0.3,
        noise: 0.05,
        shuffleWeights: true,
      });
      const { panel, truth } = rp;
      mkdirSync(o.out, { recursive: true });
      const csv = join(o.out, 'data.csv');
      writeFileAtomic(csv, panelToCsv(panel));
      console.log(
        `synthetic panel: ${o.regions} regions × ${o.weeks} weeks × ${C} channels (true media ` +
          `share of the KPI ${(100 * truth.mediaShare).toFixed(1)} %), written to ${csv}`,
      );
      const overrides: ConfigOverrides = { logEvery: 10 };
      if (o.epochs !== undefined) {
        overrides.epochs = o.epochs;
        overrides.warmStartEpochs = Math.min(50, o.epochs);
      }
      if (o.hidden !== undefined) overrides.hiddenDim = o.hidden;
      const result = await fitAndWrite(panel, overrides, {
        outDir: o.out,
        adapter: o.adapter,
        costPerImpression: rp.costPerImpression,
        title: 'causalmix demo (synthetic data with a known process)',
        verbose: o.verbose,
      });
      if (!result) return;
      console.log('\nrecovered vs true share of media (total effects, training weeks):');
      truth.channels.forEach((t, c) => {
        const i = result.effects.channels.indexOf(t.name);
        const got = result.effects.shareOfMedia[i];
        console.log(
          `  ${t.name.padEnd(8)} model ${(100 * got).toFixed(1).padStart(5)} %   truth ` +
            `${(100 * truth.shareOfMedia[c]).toFixed(1).padStart(5)} %`,
        );
      });
    });
}
