/**
 * Quick start: load the real panel (or generate one), train DeepCausalMMM, print the evaluation
 * report with the naive forecasts beside it, and save the model.
 *
 *   node --import tsx examples/quickstart.ts                       # MMM_Data.csv, the adapter's default
 *   node --import tsx examples/quickstart.ts --synthetic --hidden 32 --epochs 300
 *   node --import tsx examples/quickstart.ts --checkpoint run.ckpt # resumable across processes
 *   … --media-prior-weight 0.5 --seasonal-prior-weight 0.1          # with the reference's priors
 */
import { parseArgs } from 'node:util';
import { formatEvaluationReport } from '../src/analysis/metrics.js';
import { loadCsvPanel } from '../src/data/csv-file.js';
import { describeMapping } from '../src/data/csv.js';
import { UnifiedDataPipeline } from '../src/data/pipeline.js';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import { createEngine } from '../src/engine/engine.js';
import type { AdapterChoice } from '../src/engine/device.js';
import { readCheckpoint, saveModel, writeCheckpoint } from '../src/model/checkpoint-file.js';
import { autoConfig } from '../src/model/auto-config.js';
import { ModelTrainer } from '../src/model/trainer.js';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string', default: 'data/mmm-data-real/MMM_Data.csv' },
    synthetic: { type: 'boolean', default: false },
    adapter: { type: 'string', default: 'auto' },
    hidden: { type: 'string' },
    epochs: { type: 'string' },
    warm: { type: 'string' },
    'log-every': { type: 'string' },
    'media-prior-weight': { type: 'string' },
    'seasonal-prior-weight': { type: 'string' },
    checkpoint: { type: 'string' },
    out: { type: 'string', default: 'quickstart-model.json' },
  },
});
const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));

const engine = await createEngine({ adapter: a.adapter as AdapterChoice });
console.log(`adapter: ${engine.describe()}`);
let panel;
if (a.synthetic) {
  panel = generateSyntheticPanel({ regions: 20, weeks: 104, channels: 5 }).panel;
  console.log('data: synthetic panel, 20 regions × 104 weeks × 5 channels × 3 controls');
} else {
  const loaded = loadCsvPanel(a.data!);
  panel = loaded.panel;
  console.log(`data: ${a.data}\n${describeMapping(loaded.mapping)}`);
}
// the adapter's default (a smaller network on a software adapter), as `causalmix fit` does;
// options given here win
const overrides = Object.fromEntries(
  Object.entries({
    hiddenDim: num(a.hidden),
    epochs: num(a.epochs),
    warmStartEpochs: num(a.warm),
    logEvery: num(a['log-every']),
    mediaPriorWeight: num(a['media-prior-weight']),
    seasonalPriorWeight: num(a['seasonal-prior-weight']),
  }).filter(([, v]) => v !== undefined),
);
const size = { R: panel.regions.length, T: panel.weeks.length, C: panel.channels.length };
const auto = autoConfig(engine, size, overrides);
for (const r of auto.reasons) console.log(`chosen: ${r}`);
const config = auto.config;
const prepared = new UnifiedDataPipeline(config).fit(panel);
console.log(
  `${prepared.R} regions, ${prepared.wTrain} training + ${prepared.wHoldout} holdout weeks, ` +
    `${prepared.C} channels, ${prepared.K} controls; hidden ${config.hiddenDim}, ${config.epochs} epochs, ` +
    `prior weights: media ${config.mediaPriorWeight}, seasonal ${config.seasonalPriorWeight}`,
);
const trainer = new ModelTrainer(engine, config);
const resume = a.checkpoint ? readCheckpoint(a.checkpoint) : undefined;
if (resume) console.log(`resuming from ${a.checkpoint} at epoch ${resume.epoch}`);
const fitted = await trainer.fit(prepared, {
  resume,
  checkpointEvery: a.checkpoint ? 50 : undefined,
  onCheckpoint: a.checkpoint ? (c) => writeCheckpoint(a.checkpoint!, c) : undefined,
  onProgress: (p) =>
    console.log(
      `${p.phase} ${p.epoch}/${p.epochs}  loss ${p.loss.toFixed(5)}  data ${p.dataLoss.toFixed(5)}  ` +
        `R² ${p.r2.toFixed(3)}  lr ${p.lr.toExponential(1)}  ${(p.elapsedMs / 1000).toFixed(0)} s  ` +
        `ETA ${(p.etaMs / 1000).toFixed(0)} s`,
    ),
});
const t = fitted.training;
console.log(
  `trained ${t.epochs} epochs in ${t.seconds.toFixed(1)} s (${((t.seconds / Math.max(1, t.epochs + config.warmStartEpochs)) * 1000).toFixed(0)} ms per epoch, ` +
    `${t.dispatchesPerStep} dispatches per step, 1 submit) on ${engine.adapterName}`,
);
const report = await fitted.evaluate();
console.log(formatEvaluationReport(report));
await saveModel(a.out!, fitted, { metrics: report });
console.log(`model saved to ${a.out}`);
engine.destroy();
