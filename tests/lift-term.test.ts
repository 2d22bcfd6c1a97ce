/**
 * Lift-test calibration's term (src/model/lift-term.ts): the model's lift of a go-dark test equals
 * the difference of its full predictions with and without the channel in the test's cells; its
 * gradient equals central finite differences (float64 CPU backend); without tests training is
 * unchanged bit for bit; with a test on a channel whose spend follows demand, the model's share
 * of that channel moves towards the truth.
 */
import { noGrad } from '../src/autograd/tape.js';
import { resolveLiftTests, type LiftTest } from '../src/calibration/lift-tests.js';
import { UnifiedDataPipeline, type PreparedData } from '../src/data/pipeline.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { toDevice, trainingBatch } from '../src/model/batch.js';
import { getDefaultConfig, updateConfig } from '../src/model/config.js';
import { LiftCalibration } from '../src/model/lift-term.js';
import { ModelTrainer } from '../src/model/trainer.js';
import { generateRecoveryPanel, type RecoveryPanel } from '../src/recovery/generator.js';
import { designGoDarkTest } from '../src/recovery/lift-truth.js';
import { scenarioById } from '../src/recovery/scenarios.js';
import { fitAndScore } from '../src/recovery/score.js';
import { gradientVsDifferences } from './model-gradient-check.js';

let cpu: Engine;
let dev: Engine;
beforeAll(async () => {
  cpu = await createEngine({ adapter: 'cpu' });
  dev = await createEngine({ adapter: 'auto' });
});
afterAll(() => {
  cpu?.destroy();
  dev?.destroy();
});

/** Scenario j (search follows demand) at a small size, and the benchmark's test on search. */
function panelAndTest(regions: number, seed = 1) {
  const rp = generateRecoveryPanel({ ...scenarioById('j').panel(0.3, seed), regions });
  const d = designGoDarkTest(rp, 'search', seed);
  const weeks = rp.panel.weeks;
  const input = {
    channel: 'search',
    regions: d.test.regions,
    startWeek: weeks[d.test.from],
    endWeek: weeks[d.test.testTo],
    postWeeks: d.test.postWeeks,
    lift: d.measuredLift,
    se: d.se,
    row: 1,
  };
  return { rp, input };
}

function resolved(
  rp: RecoveryPanel,
  input: Parameters<typeof resolveLiftTests>[0][0],
  p: PreparedData,
): LiftTest[] {
  return resolveLiftTests([input], rp.panel, { wTrain: p.wTrain });
}

test('the lift is the full prediction difference, and its gradient equals finite differences', async () => {
  const { rp, input } = panelAndTest(4);
  const config = updateConfig(getDefaultConfig(), { hiddenDim: 8 });
  const prepared = new UnifiedDataPipeline(config).fit(rp.panel);
  const tests = resolved(rp, input, prepared);
  const trainer = new ModelTrainer(cpu, config);
  const model = trainer.createModel(prepared);
  const host = trainingBatch(prepared, 0, false);
  const batch = toDevice(cpu, host, prepared.C, prepared.K, model.dims.path);
  const calib = new LiftCalibration(cpu, model, prepared, host, tests, config);
  calib.weight.write([1]);

  // the model's own counterfactual: full forward passes with and without search in the cells,
  // both around the media centre of the actual media (a lift moves no region's level)
  model.freezeMediaCenter(batch);
  const t = tests[0];
  const cfHost = { ...host, media: Float32Array.from(host.media), centerWeights: undefined };
  for (const r of t.regionIndex)
    for (let w = t.from; w <= t.testTo; w++)
      cfHost.media[(r * host.T + prepared.B + w) * prepared.C + t.c] = 0;
  const cfBatch = toDevice(cpu, cfHost, prepared.C, prepared.K, model.dims.path);
  const [pred, predCf] = await Promise.all(
    [{ ...batch, centerWeights: undefined }, cfBatch].map((b) =>
      noGrad(cpu, () => model.forward(b, { outputs: 'all' }).prediction!).toArray(),
    ),
  );
  let want = 0;
  for (const r of t.regionIndex)
    for (let w = t.from; w <= t.to; w++) {
      const i = r * host.T + prepared.B + w;
      want += prepared.yMean[r] * (pred[i] - predCf[i]);
    }
  // the actual pass as the training step has it: x̃, the heads and the centre its output subtracts
  const actual = () => {
    const enc = model.encode(batch);
    return { ...enc, center: model.mediaCenterFor(enc.xt, batch) };
  };
  const [got] = await noGrad(cpu, () => calib.lifts(actual(), batch, false)).toArray();
  expect(want).toBeGreaterThan(0);
  // float64 both ways; the fused output kernel's reference and the generic ops differ in their
  // softplus forms and summation order, which leaves ~1e-9 of the lift (measured 2e-9)
  expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-7 * Math.abs(want));

  // gradient of the penalty against central differences, for parameters all along the path
  const penalty = () => calib.penalty(calib.lifts(actual(), batch, false));
  const points = await gradientVsDifferences(
    cpu,
    model,
    penalty,
    [
      'mediaCoeffMaxRaw',
      'predictionScaleRaw',
      'hillHalfSatRaw',
      'adstockRaw',
      'gru.biasHh',
      'ctrlCoeffMaxRaw',
    ],
    4,
  );
  for (const { grad, fd } of points)
    expect(Math.abs(grad - fd)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(fd)));
  calib.dispose();
  model.dispose();
});

test('without lift tests the training step and its result are unchanged, bit for bit', async () => {
  const { rp } = panelAndTest(4);
  const config = updateConfig(getDefaultConfig(), { hiddenDim: 8, epochs: 30, warmStartEpochs: 5 });
  const prepared = new UnifiedDataPipeline(config).fit(rp.panel);
  const a = await new ModelTrainer(dev, config).fit(prepared);
  const b = await new ModelTrainer(dev, config).fit(prepared, { liftTests: [] });
  expect(b.training.dispatchesPerStep).toBe(a.training.dispatchesPerStep);
  expect(b.training.liftTests).toBeUndefined();
  const read = async (f: typeof a) =>
    [...(await f.model.arena.read()).values()].flatMap((v) => Array.from(v));
  expect(await read(b)).toEqual(await read(a));
  a.dispose();
  b.dispose();
});

test('a go-dark test on the demand-following channel moves its share towards the truth', async () => {
  const { rp, input } = panelAndTest(10);
  const config = updateConfig(getDefaultConfig(), { hiddenDim: 8, epochs: 600 });
  const without = await fitAndScore(dev, rp, config);
  const withTest = await fitAndScore(dev, rp, config, { liftTests: [input] });
  const err = (s: typeof without) => s.channels.find((c) => c.channel === 'search')!.shareErrorPts;
  const lt = withTest.liftTests![0];
  console.log(
    `search share error ${err(without).toFixed(1)} → ${err(withTest).toFixed(1)} pts; ` +
      `model lift z ${lt.zBefore.toFixed(2)} → ${lt.zAfter.toFixed(2)} (${dev.describe()})`,
  );
  expect(Math.abs(err(withTest))).toBeLessThanOrEqual(0.5 * Math.abs(err(without)));
  expect(Math.abs(lt.zAfter)).toBeLessThan(Math.abs(lt.zBefore));
}, 600_000);
