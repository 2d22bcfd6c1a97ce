/**
 * Media centring (mediaCentering, docs/defaults.md): in training the media enter as deviations
 * from each region's mean of the transformed media over the loss cells, through a differentiable
 * mean (its gradient equals central finite differences on the float64 CPU backend); afterwards
 * the centre is frozen, so evaluation reproduces the training function, a changed input moves the
 * prediction by β·Δx̃ alone, and the decomposition still reports β·x̃.
 */
import { noGrad } from '../src/autograd/tape.js';
import { mediaPathways } from '../src/analysis/contributions.js';
import { UnifiedDataPipeline, type PreparedData } from '../src/data/pipeline.js';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { softplus } from '../src/maths/functions.js';
import { disposeBatch, toDevice, trainingBatch, type HostBatch } from '../src/model/batch.js';
import { smallConfig } from './small-config.js';
import { ModelTrainer } from '../src/model/trainer.js';
import { gradientVsDifferences } from './model-gradient-check.js';

let cpu: Engine;
let dev: Engine;
let prepared: PreparedData;
const synth = generateSyntheticPanel({ regions: 4, weeks: 60, channels: 3, controls: 2, seed: 5 });

beforeAll(async () => {
  cpu = await createEngine({ adapter: 'cpu' });
  dev = await createEngine({ adapter: 'auto' });
  prepared = new UnifiedDataPipeline({ minTrainWeeks: 40 }).fit(synth.panel);
});
afterAll(() => {
  cpu?.destroy();
  dev?.destroy();
});

const config = smallConfig;

test('the training batch carries centre weights: each region sums to 1 over the loss cells', () => {
  const host = trainingBatch(prepared, 0, false);
  const w = host.centerWeights!;
  for (let r = 0; r < host.R; r++) {
    let s = 0;
    for (let t = 0; t < host.T; t++) {
      const i = r * host.T + t;
      expect(w[i] > 0).toBe(host.lossMask[i] > 0);
      s += w[i];
    }
    expect(s).toBeCloseTo(1, 6);
  }
});

test("the centred loss's gradient equals central finite differences (float64)", async () => {
  const cfg = config();
  const model = new ModelTrainer(cpu, cfg).createModel(prepared);
  const batch = toDevice(
    cpu,
    trainingBatch(prepared, 0, false),
    prepared.C,
    prepared.K,
    model.dims.path,
  );
  const loss = () => model.forward(batch, { loss: 'huber' }).total;
  const points = await gradientVsDifferences(
    cpu,
    model,
    loss,
    ['adstockRaw', 'hillHalfSatRaw', 'mediaCoeffMaxRaw', 'mediaHead.2.bias', 'regionBaselineRaw'],
    3,
  );
  for (const { name, grad, fd } of points) {
    expect(Math.abs(grad - fd)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(fd)));
    // a channel's coefficient and its level are not one direction: the mean is taken out
    if (name === 'mediaCoeffMaxRaw') expect(Math.abs(fd)).toBeGreaterThan(0);
  }
  disposeBatch(batch);
  model.dispose();
});

test('a forward pass without centre weights needs the frozen centre, and names it', () => {
  const model = new ModelTrainer(cpu, config()).createModel(prepared);
  const host: HostBatch = { ...trainingBatch(prepared, 0, false), centerWeights: undefined };
  const batch = toDevice(cpu, host, prepared.C, prepared.K, model.dims.path);
  expect(() => noGrad(cpu, () => model.forward(batch))).toThrow(/media centre is not set/);
  disposeBatch(batch);
  model.dispose();
});

test('after training: the frozen centre reproduces the training function; inputs move the prediction by β·Δx̃', async () => {
  const fitted = await new ModelTrainer(dev, config()).fit(prepared);
  const model = fitted.model;
  const host = trainingBatch(prepared, 0, false);
  const own = toDevice(dev, host, prepared.C, prepared.K, model.dims.path);
  const frozen = toDevice(
    dev,
    { ...host, centerWeights: undefined },
    prepared.C,
    prepared.K,
    model.dims.path,
  );
  const more = toDevice(
    dev,
    { ...host, centerWeights: undefined, media: host.media.map((x) => 1.5 * x) },
    prepared.C,
    prepared.K,
    model.dims.path,
  );
  const run = (b: typeof own) =>
    noGrad(dev, () => {
      const f = model.forward(b, { outputs: 'all' });
      return Promise.all([
        f.prediction!.toArray(),
        f.mediaTransformed.toArray(),
        f.mediaCoeffs!.toArray(),
      ]);
    });
  const [[pOwn], [p0, x0, beta], [p1, x1]] = await Promise.all([run(own), run(frozen), run(more)]);
  // the same arithmetic on the same adapter: equal bit for bit
  expect(Array.from(p0)).toEqual(Array.from(pOwn));
  const ps = softplus((await model.param('predictionScaleRaw').toArray())[0]);
  const { C } = prepared;
  let worst = 0;
  let moved = 0;
  for (let i = 0; i < p0.length; i++) {
    let want = 0;
    for (let c = 0; c < C; c++) want += ps * beta[i * C + c] * (x1[i * C + c] - x0[i * C + c]);
    worst = Math.max(worst, Math.abs(p1[i] - p0[i] - want));
    moved = Math.max(moved, Math.abs(want));
  }
  expect(moved).toBeGreaterThan(1e-3);
  expect(worst).toBeLessThanOrEqual(1e-5 * Math.max(1, moved));
  [own, frozen, more].forEach(disposeBatch);

  // the decomposition reports β·x̃, as the host recomputes it, and still adds up
  const dec = await fitted.decompose();
  const pw = await mediaPathways(fitted, dec);
  const scale = Math.max(...dec.mediaContrib.map(Math.abs));
  dec.mediaContrib.forEach((v, i) =>
    expect(Math.abs(v - pw.contribution[i])).toBeLessThanOrEqual(1e-4 * scale),
  );
  fitted.dispose();
}, 300_000);

test('mediaCentering false needs no centre (the reference model)', async () => {
  const cfg = config({ mediaCentering: false, epochs: 5 });
  const fitted = await new ModelTrainer(dev, cfg).fit(prepared);
  expect(await fitted.model.mediaCenter()).toBeNull();
  const dec = await fitted.decompose();
  expect(dec.prediction.every(Number.isFinite)).toBe(true);
  fitted.dispose();
});
