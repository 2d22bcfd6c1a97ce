/**
 * `npm run bench:truth`: ground-truth recovery on a generated panel (20 regions × 104 weeks × 5
 * channels, every channel flighted): each channel's share of the total media contribution over the
 * training weeks as the model attributes it (direct, and total effects with DAG-mediated effects
 * credited to the parent) next to the generator's truth, with the largest error in points.
 * Options: --adapter, --hidden, --epochs, --seed, --flighting national|regional,
 * --media-prior-weight, --seasonal-prior-weight (defaults: the configuration of
 * tests/ground-truth.test.ts).
 */
import { parseArgs } from 'node:util';
import { formatRecoveryReport, recoveryReport } from '../src/analysis/recovery.js';
import { UnifiedDataPipeline } from '../src/data/pipeline.js';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import type { AdapterChoice } from '../src/engine/device.js';
import { createEngine } from '../src/engine/engine.js';
import { getDefaultConfig, updateConfig } from '../src/model/config.js';
import { ModelTrainer } from '../src/model/trainer.js';
import { GROUND_TRUTH_CONFIG, GROUND_TRUTH_PANEL } from '../src/analysis/recovery.js';

const { values: a } = parseArgs({
  options: {
    adapter: { type: 'string', default: 'auto' },
    hidden: { type: 'string', default: String(GROUND_TRUTH_CONFIG.hiddenDim) },
    epochs: { type: 'string', default: String(GROUND_TRUTH_CONFIG.epochs) },
    seed: { type: 'string', default: String(GROUND_TRUTH_PANEL.seed) },
    flighting: { type: 'string', default: GROUND_TRUTH_PANEL.flighting },
    'media-prior-weight': { type: 'string', default: String(GROUND_TRUTH_CONFIG.mediaPriorWeight) },
    'seasonal-prior-weight': {
      type: 'string',
      default: String(GROUND_TRUTH_CONFIG.seasonalPriorWeight),
    },
  },
});
const e = await createEngine({ adapter: a.adapter as AdapterChoice });
const { panel, truth } = generateSyntheticPanel({
  ...GROUND_TRUTH_PANEL,
  seed: Number(a.seed),
  flighting: a.flighting as 'national' | 'regional',
});
const config = updateConfig(getDefaultConfig(), {
  ...GROUND_TRUTH_CONFIG,
  hiddenDim: Number(a.hidden),
  epochs: Number(a.epochs),
  mediaPriorWeight: Number(a['media-prior-weight']),
  seasonalPriorWeight: Number(a['seasonal-prior-weight']),
  logEvery: 100,
});
const prepared = new UnifiedDataPipeline(config).fit(panel);
const t0 = performance.now();
const fitted = await new ModelTrainer(e, config).fit(prepared, {
  onProgress: (p) =>
    console.log(`${p.phase} ${p.epoch}  data ${p.dataLoss.toFixed(5)}  R² ${p.r2.toFixed(3)}`),
});
const seconds = (performance.now() - t0) / 1000;
console.log(
  `\nadapter: ${e.describe()}; hidden ${config.hiddenDim}, ${config.epochs} epochs, ` +
    `media prior weight ${config.mediaPriorWeight}, seasonal prior weight ` +
    `${config.seasonalPriorWeight}, ${a.flighting} flighting; ${seconds.toFixed(0)} s`,
);
console.log(formatRecoveryReport(await recoveryReport(fitted, truth.contributions)));
fitted.dispose();
e.destroy();
