/**
 * `npm run bench:train`: one whole training step (forward, backward, penalties, clipping, AdamW)
 * of the model at the small (10 regions × 52 weeks × 5 channels × 3 controls) and the paper size
 * (190 × 109 × 13 × 7), hidden 280 by default: median step (= epoch) time, dispatches and submits
 * per step, on the adapter and on the float64 CPU backend in the same run.
 * Options: --adapter NAME, --hidden N, --size small|paper|both, --steps N, --skip-cpu, --json FILE,
 * --profile (also time one step kernel by kernel on the adapter, one submit per dispatch),
 * --config JSON (config overrides, e.g. '{"mediaCentering": false}').
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UnifiedDataPipeline } from '../src/data/pipeline.js';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import type { AdapterChoice } from '../src/engine/device.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { toDevice, trainingBatch } from '../src/model/batch.js';
import { getDefaultConfig, updateConfig, type ConfigOverrides } from '../src/model/config.js';
import { ModelTrainer } from '../src/model/trainer.js';

const { values: a } = parseArgs({
  options: {
    adapter: { type: 'string', default: 'auto' },
    hidden: { type: 'string', default: '280' },
    size: { type: 'string', default: 'both' },
    steps: { type: 'string', default: '5' },
    'skip-cpu': { type: 'boolean', default: false },
    json: { type: 'string' },
    profile: { type: 'boolean', default: false },
    config: { type: 'string' },
  },
});
const H = Number(a.hidden);
const SIZES = {
  small: { regions: 10, weeks: 52, channels: 5, controls: 3 },
  paper: { regions: 190, weeks: 109, channels: 13, controls: 7 },
} as const;
const sizes = a.size === 'both' ? (['small', 'paper'] as const) : [a.size as 'small' | 'paper'];

interface Row {
  size: string;
  backend: string;
  medianMs: number;
  dispatches: number;
  submitsPerStep: number;
}

async function measure(e: Engine, size: keyof typeof SIZES, steps: number): Promise<Row> {
  const s = SIZES[size];
  const { panel } = generateSyntheticPanel({ ...s, seed: 1 });
  const config = updateConfig(getDefaultConfig(), {
    hiddenDim: H,
    minTrainWeeks: 40,
    ...(a.config ? (JSON.parse(a.config) as ConfigOverrides) : {}),
  });
  const prepared = new UnifiedDataPipeline(config).fit(panel);
  const trainer = new ModelTrainer(e, config);
  const model = trainer.createModel(prepared);
  // with the model's trend and seasonality path, as a real fit has it
  const host = trainingBatch(prepared, 0, false);
  const batch = toDevice(e, host, prepared.C, prepared.K, model.dims.path);
  const step = trainer.recordStep(model, batch, 'huber');
  const times: number[] = [];
  let submits = 0;
  for (let i = 0; i <= steps; i++) {
    await e.sync();
    const before = e.stats().submits;
    const t0 = performance.now();
    model.arena.setHyper({ lr: 0.01, weightDecay: 5e-5, clipNorms: [1, 2] });
    step.run();
    await e.sync();
    // the first step warms pipelines and caches: not timed
    if (i > 0) times.push(performance.now() - t0);
    submits = e.stats().submits - before;
  }
  times.sort((x, y) => x - y);
  if (a.profile && e.isGpu) printProfile(await step.profile());
  const row = {
    // the training sequence: B padding + training weeks (the holdout is not trained on)
    size: `${size} ${s.regions}×${prepared.B + prepared.wTrain}×${s.channels}×${s.controls}, H ${H}`,
    backend: e.adapterName,
    medianMs: times[Math.floor(times.length / 2)],
    dispatches: step.dispatchCount,
    submitsPerStep: Math.max(1, submits),
  };
  step.dispose();
  model.dispose();
  return row;
}

/** Kernel times of one step, largest first (each dispatch waited on alone). */
function printProfile(ms: Record<string, number>): void {
  const total = Object.values(ms).reduce((x, y) => x + y, 0);
  console.log(`profile (${total.toFixed(0)} ms, one submit per command):`);
  for (const [name, t] of Object.entries(ms).sort((x, y) => y[1] - x[1]))
    console.log(
      `  ${name.padEnd(40)} ${t.toFixed(1).padStart(9)} ms ${((100 * t) / total).toFixed(1).padStart(5)} %`,
    );
}

const dev = await createEngine({ adapter: a.adapter as AdapterChoice });
const cpu = await createEngine({ adapter: 'cpu' });
console.log(`device: ${dev.describe()}`);
if (a.config) console.log(`config overrides: ${a.config}`);
const rows: Row[] = [];
for (const size of sizes) {
  rows.push(await measure(dev, size, Number(a.steps)));
  if (!a['skip-cpu']) rows.push(await measure(cpu, size, size === 'paper' ? 1 : Number(a.steps)));
}
const pad = (x: string, n: number) => x.padEnd(n);
console.log(
  `\n${pad('size', 36)} ${pad('backend', 44)} ${'ms/step'.padStart(9)} ${'dispatches'.padStart(10)} ${'submits'.padStart(7)}`,
);
for (const r of rows)
  console.log(
    `${pad(r.size, 36)} ${pad(r.backend, 44)} ${r.medianMs.toFixed(0).padStart(9)} ${String(r.dispatches).padStart(10)} ${String(r.submitsPerStep).padStart(7)}`,
  );
if (a.json) writeFileSync(a.json, JSON.stringify({ device: dev.describe(), rows }, null, 2));
dev.destroy();
cpu.destroy();
