/**
 * Ground-truth recovery (issue 4): on a generated 20-region × 104-week × 5-channel panel with known
 * adstock, Hill curves and coefficients, the fitted model's share of each channel in the total
 * media contribution (total effects: DAG-mediated effects credited to the parent channel) lies
 * within 10 percentage points of the truth. Fixed seed, the documented recovery configuration
 * (GROUND_TRUTH_CONFIG: hidden 32, no attribution or seasonal prior), one training run.
 */
import {
  formatRecoveryReport,
  GROUND_TRUTH_CONFIG,
  GROUND_TRUTH_PANEL,
  recoveryReport,
} from '../src/analysis/recovery.js';
import { UnifiedDataPipeline } from '../src/data/pipeline.js';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { getDefaultConfig, updateConfig } from '../src/model/config.js';
import { ModelTrainer } from '../src/model/trainer.js';

let e: Engine;
beforeAll(async () => {
  e = await createEngine({ adapter: 'auto' });
});
afterAll(() => e?.destroy());

test('each channel’s recovered share is within 10 points of the truth', async () => {
  const { panel, truth } = generateSyntheticPanel(GROUND_TRUTH_PANEL);
  const config = updateConfig(getDefaultConfig(), { ...GROUND_TRUTH_CONFIG, logEvery: 500 });
  const prepared = new UnifiedDataPipeline(config).fit(panel);
  const fitted = await new ModelTrainer(e, config).fit(prepared);
  const report = await recoveryReport(fitted, truth.contributions);
  console.log(`ground truth on ${e.adapterName}\n${formatRecoveryReport(report)}`);
  // the report's truth is the generator's own split, over the same weeks
  expect(report.truth.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
  // channels whose share misses by more than 10 points (named, so a failure says which)
  const missed = report.channels.filter(
    (_, c) => Math.abs(report.totalEffect[c] - report.truth[c]) > 0.1,
  );
  expect(missed).toEqual([]);
  expect(report.maxErrorTotal).toBeLessThanOrEqual(0.1);
  fitted.dispose();
}, 900_000);

test('the report rejects a truth of the wrong size', async () => {
  const { panel } = generateSyntheticPanel({ regions: 2, weeks: 50, channels: 2, seed: 1 });
  const config = updateConfig(getDefaultConfig(), { hiddenDim: 4, epochs: 1, warmStartEpochs: 0 });
  const prepared = new UnifiedDataPipeline(config).fit(panel);
  const fitted = await new ModelTrainer(e, config).fit(prepared);
  await expect(recoveryReport(fitted, new Float64Array(3))).rejects.toThrow(
    /truth has 3 values, expected R×W×C = 200/,
  );
  fitted.dispose();
});
