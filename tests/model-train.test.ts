/**
 * The trainer and the fitted model on a tiny synthetic panel: the loss falls, one submit per
 * step, determinism, checkpoint/resume equals an uninterrupted run, cancellation, save/load,
 * prediction of new weeks, and the decomposition adding up.
 */
import { UnifiedDataPipeline, type PreparedData } from '../src/data/pipeline.js';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { getDefaultConfig, updateConfig } from '../src/model/config.js';
import { fromModelFile, toModelFile } from '../src/model/model-file.js';
import { smallConfig } from './small-config.js';
import { ModelTrainer, type TrainerCheckpoint, type TrainProgress } from '../src/model/trainer.js';
import { toDevice, trainingBatch } from '../src/model/batch.js';
import { checkTrainingMemory } from '../src/model/memory.js';

let dev: Engine;
let cpu: Engine;
let prepared: PreparedData;
const synth = generateSyntheticPanel({ regions: 5, weeks: 60, channels: 3, controls: 2, seed: 3 });

beforeAll(async () => {
  dev = await createEngine({ adapter: 'auto' });
  cpu = await createEngine({ adapter: 'cpu' });
  prepared = new UnifiedDataPipeline({ minTrainWeeks: 40 }).fit(synth.panel);
});
afterAll(() => {
  dev?.destroy();
  cpu?.destroy();
});

const small = smallConfig;

async function params(f: { model: { arena: { read(): Promise<Map<string, Float64Array>> } } }) {
  return [...(await f.model.arena.read()).values()].flatMap((a) => Array.from(a));
}

test('training lowers the loss and reports progress', async () => {
  const seen: TrainProgress[] = [];
  const fitted = await new ModelTrainer(dev, small({ epochs: 60 })).fit(prepared, {
    onProgress: (p) => seen.push(p),
  });
  const train = seen.filter((p) => p.phase === 'train');
  expect(seen.filter((p) => p.phase === 'warm-start')).toHaveLength(1);
  expect(train.map((p) => p.epoch)).toEqual([10, 20, 30, 40, 50, 60]);
  // the warm-start report is the loss where training began; by the first training report the
  // loss is already near this panel's noise floor (trend and seasonality start from a ridge fit)
  const warm = seen.find((p) => p.phase === 'warm-start')!;
  expect(train[train.length - 1].dataLoss).toBeLessThan(0.5 * warm.dataLoss);
  expect(train[train.length - 1].dataLoss).toBeLessThan(train[0].dataLoss);
  for (const p of seen) {
    expect(Number.isFinite(p.loss) && p.loss >= p.dataLoss).toBe(true);
    expect(p.lr).toBeGreaterThan(0);
  }
  expect(fitted.training.epochs).toBe(60);
  fitted.dispose();
});

test('a training step is one recorded program: one submit per step', async () => {
  const config = small();
  const trainer = new ModelTrainer(dev, config);
  const model = trainer.createModel(prepared);
  const batch = toDevice(dev, trainingBatch(prepared, 0, false), prepared.C, prepared.K);
  const step = trainer.recordStep(model, batch, 'huber');
  await dev.sync();
  const before = dev.stats();
  for (let i = 0; i < 5; i++) {
    model.arena.setHyper({ lr: 0.01, clipNorms: [1, 2] });
    step.run();
  }
  const after = dev.stats();
  if (dev.isGpu) expect(after.submits - before.submits).toBe(5);
  expect(after.dispatches - before.dispatches).toBe(5 * step.dispatchCount);
  console.log(`training step: ${step.dispatchCount} dispatches on ${dev.adapterName}`);
  step.dispose();
  model.dispose();
});

test('same seed, same result; a resumed training equals an uninterrupted one', async () => {
  const a = await new ModelTrainer(dev, small()).fit(prepared);
  const b = await new ModelTrainer(dev, small()).fit(prepared);
  expect(await params(b)).toEqual(await params(a));
  let saved: TrainerCheckpoint | undefined;
  const half = await new ModelTrainer(dev, small({ epochs: 20 })).fit(prepared, {
    onCheckpoint: (c) => {
      saved = JSON.parse(JSON.stringify(c)) as TrainerCheckpoint; // as if through a file
    },
  });
  expect(saved!.epoch).toBe(20);
  const resumed = await new ModelTrainer(dev, small()).fit(prepared, { resume: saved });
  expect(await params(resumed)).toEqual(await params(a));
  [a, b, half, resumed].forEach((f) => f.dispose());
});

test('resuming from the end of the warm start, or from inside it, equals an uninterrupted run', async () => {
  const config = small({ logEvery: 7 });
  const whole = await params(await new ModelTrainer(dev, config).fit(prepared));
  // every checkpoint of a run cut during the warm start, each as if read back from a file
  const saved: TrainerCheckpoint[] = [];
  const keep = (c: TrainerCheckpoint) => {
    saved.push(JSON.parse(JSON.stringify(c)) as TrainerCheckpoint);
  };
  const ctl = new AbortController();
  const cut = await new ModelTrainer(dev, small({ logEvery: 3 })).fit(prepared, {
    signal: ctl.signal,
    onProgress: (p) => p.phase === 'warm-start' && p.epoch >= 3 && ctl.abort(),
    onCheckpoint: keep,
  });
  expect(saved.map((c) => [c.warmDone, c.warmEpoch, c.epoch])).toEqual([[false, 3, 0]]);
  const fromWarm = await new ModelTrainer(dev, config).fit(prepared, {
    resume: saved[0],
    onCheckpoint: keep,
    checkpointEvery: 1000,
  });
  // the resumed run's first checkpoint is the end of the warm start: no loss seen yet there
  const endOfWarm = saved[1];
  expect([endOfWarm.warmDone, endOfWarm.warmEpoch, endOfWarm.epoch]).toEqual([true, 5, 0]);
  expect(endOfWarm.scheduler.best).toBeNull();
  const fromEnd = await new ModelTrainer(dev, config).fit(prepared, { resume: endOfWarm });
  expect(await params(fromWarm)).toEqual(whole);
  expect(await params(fromEnd)).toEqual(whole);
  [cut, fromWarm, fromEnd].forEach((f) => f.dispose());
});

test('an AbortSignal stops training at the next epoch', async () => {
  const ctl = new AbortController();
  const fitted = await new ModelTrainer(dev, small({ epochs: 200 })).fit(prepared, {
    signal: ctl.signal,
    onProgress: (p) => p.phase === 'train' && p.epoch >= 20 && ctl.abort(),
  });
  expect(fitted.training.cancelled).toBe(true);
  expect(fitted.training.epochs).toBe(20);
  fitted.dispose();
});

test('save/load: identical on the same backend, within 1e-5 on the CPU; components add up', async () => {
  const fitted = await new ModelTrainer(dev, small()).fit(prepared);
  const file = JSON.parse(JSON.stringify(await toModelFile(fitted, { note: 'test' })));
  expect(file.format).toBe('causalmix-model');
  const same = fromModelFile(dev, file);
  const onCpu = fromModelFile(cpu, file);
  const [d0, d1, d2] = await Promise.all([fitted, same, onCpu].map((f) => f.decompose()));
  expect(Array.from(d1.prediction)).toEqual(Array.from(d0.prediction));
  const scale = Math.max(...d0.predictionUnclamped.map(Math.abs));
  d2.predictionUnclamped.forEach((v, i) =>
    expect(Math.abs(v - d0.predictionUnclamped[i])).toBeLessThanOrEqual(1e-5 * scale),
  );
  // the components add up to the unclamped prediction at every region-week
  const { R, W, C, K } = d0;
  for (let i = 0; i < R * W; i++) {
    let sum = d0.baseline[i] + d0.seasonal[i];
    let abs = Math.abs(d0.baseline[i]) + Math.abs(d0.seasonal[i]);
    for (let c = 0; c < C; c++) {
      sum += d0.mediaContrib[i * C + c];
      abs += Math.abs(d0.mediaContrib[i * C + c]);
    }
    for (let k = 0; k < K; k++) {
      sum += d0.ctrlContrib[i * K + k];
      abs += Math.abs(d0.ctrlContrib[i * K + k]);
    }
    expect(Math.abs(sum - d0.predictionUnclamped[i])).toBeLessThanOrEqual(1e-5 * abs);
  }
  expect(() => fromModelFile(dev, { ...file, version: 99 })).toThrow(/version 99 is not supported/);
  expect(() => fromModelFile(dev, { format: 'other' })).toThrow(/not a causalmix model file/);
  [fitted, same, onCpu].forEach((f) => f.dispose());
});

test('predictFuture continues the sequence: planned weeks give finite predictions per region', async () => {
  const fitted = await new ModelTrainer(dev, small()).fit(prepared);
  const p = synth.panel;
  const [R, W, C, K, F] = [
    p.regions.length,
    p.weeks.length,
    p.channels.length,
    p.controlNames.length,
    4,
  ];
  // plan: repeat the last observed week's media and controls
  const media = new Float64Array(R * F * C);
  const controls = new Float64Array(R * F * K);
  for (let r = 0; r < R; r++)
    for (let f = 0; f < F; f++) {
      media.set(p.media.subarray((r * W + W - 1) * C, (r * W + W) * C), (r * F + f) * C);
      controls.set(p.controls.subarray((r * W + W - 1) * K, (r * W + W) * K), (r * F + f) * K);
    }
  const out = await fitted.predictFuture({
    regions: p.regions,
    weeks: [W, W + 1, W + 2, W + 3],
    channels: p.channels,
    controlNames: p.controlNames,
    media,
    controls,
  });
  expect(out.prediction).toHaveLength(R * F);
  expect(out.mediaContrib).toHaveLength(R * F * C);
  out.prediction.forEach((v) => expect(Number.isFinite(v) && v >= 0).toBe(true));
  // more of one channel (the always-on second one) raises that channel's contribution
  const more = Float64Array.from(media);
  for (let i = 0; i < R * F; i++) more[i * C + 1] = 3 * more[i * C + 1] + 1000;
  const out2 = await fitted.predictFuture({
    regions: p.regions,
    weeks: [W, W + 1, W + 2, W + 3],
    channels: p.channels,
    controlNames: p.controlNames,
    media: more,
    controls,
  });
  const channel = (o: typeof out, c: number) =>
    o.mediaContrib.filter((_, i) => i % C === c).reduce((s, v) => s + v, 0);
  expect(channel(out2, 1)).toBeGreaterThan(channel(out, 1));
  // absolute media scaling and no mixing graph: the other channels' contributions do not move
  expect(channel(out2, 0)).toBeCloseTo(channel(out, 0), 8);
  fitted.dispose();
});

test('a panel too large for the adapter fails before training, saying what to change', () => {
  const limits = { ...dev.backend.limits, maxStorageBufferBindingSize: 128 * 2 ** 20 };
  expect(() => checkTrainingMemory(limits, 190, 115, 13, 7, 280)).not.toThrow();
  expect(() => checkTrainingMemory(limits, 5000, 260, 13, 7, 512)).toThrow(
    /5000 regions × 260 weeks\) with hiddenDim 512 needs a \d+ MiB buffer \(hidden states \[R·T, H\]\), more than this adapter can bind \(128 MiB\); use a smaller hiddenDim/,
  );
});

test('bad training settings name the problem', async () => {
  await expect(new ModelTrainer(dev, small({ validationWeeks: 60 })).fit(prepared)).rejects.toThrow(
    /validationWeeks \(60\) must be fewer than the \d+ training weeks/,
  );
  expect(() => small({ hiddenDim: 7 })).toThrow(/hiddenDim must be an even integer/);
  expect(() => updateConfig(getDefaultConfig(), { hidenDim: 8 } as never)).toThrow(
    /unknown config key 'hidenDim'/,
  );
});
