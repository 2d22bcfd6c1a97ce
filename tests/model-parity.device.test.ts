/**
 * Forward parity with the reference implementation (issue 4's acceptance): its trained weights
 * (parity-small/final_state) on its own scaled inputs reproduce its eval-mode outputs, per tensor
 * max |ours − ref| ≤ 1e-4 · max |ref|, on the device under test and the CPU backend.
 */
import { readFileSync } from 'node:fs';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { getDefaultConfig, updateConfig } from '../src/model/config.js';
import { DeepCausalMMM } from '../src/model/model.js';
import { loadUpstreamState, readF32Bundle, type F32Manifest } from '../src/model/upstream.js';

const DIR = 'data/parity-small';
const bundle = (name: string) =>
  readF32Bundle(
    JSON.parse(readFileSync(`${DIR}/${name}.json`, 'utf8')) as F32Manifest,
    readFileSync(`${DIR}/${name}.f32`),
  );

const state = bundle('final_state');
const inputs = bundle('scaled_tensors');
const ref = bundle('final_eval_outputs_train');
const [R, T, C, K, H] = [10, 52, 5, 3, 280];

/** The reference meets its seasonal curve (length 46) with a longer sequence by left-padding. */
function seasonalFor(T: number): Float32Array {
  const s = state.get('seasonal_components(non-param)')!;
  const n = s.length / R;
  const out = new Float32Array(R * T);
  for (let r = 0; r < R; r++)
    for (let t = 0; t < T; t++) out[r * T + t] = s[r * n + Math.max(0, t - (T - n))];
  return out;
}

async function runParity(engine: Engine) {
  const config = updateConfig(getDefaultConfig(), { hiddenDim: H, upstreamCompat: true });
  const model = new DeepCausalMMM(engine, { R, C, K, H }, config);
  loadUpstreamState(model, state);
  const out = model.forward(
    {
      media: engine.tensor(inputs.get('train.X_media')!, [R, T, C]),
      controls: engine.tensor(inputs.get('train.X_control')!, [R, T, K]),
      target: engine.tensor(inputs.get('train.y')!, [R, T]),
      lossMask: engine.ones([R, T]),
      seasonal: engine.tensor(seasonalFor(T), [R, T]),
    },
    { training: false, outputs: 'all' },
  );
  const pairs: [string, typeof out.prediction][] = [
    ['pred_scaled', out.prediction],
    ['media_coeffs', out.mediaCoeffs],
    ['media_contrib', out.mediaContrib],
    ['ctrl_contrib', out.ctrlContrib],
    ['baseline', out.baseline],
    ['seasonal', out.seasonalContrib],
  ];
  const errors: Record<string, number> = {};
  for (const [name, t] of pairs) {
    const ours = await t!.toArray();
    const theirs = ref.get(name)!;
    expect(ours.length).toBe(theirs.length);
    let maxRef = 0;
    let maxDiff = 0;
    for (let i = 0; i < ours.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(theirs[i]));
      maxDiff = Math.max(maxDiff, Math.abs(ours[i] - theirs[i]));
    }
    errors[name] = maxDiff / maxRef;
  }
  model.dispose();
  return errors;
}

describe('forward parity with DeepCausalMMM 1.0.21 (upstreamCompat)', () => {
  let dev: Engine;
  let cpu: Engine;
  beforeAll(async () => {
    dev = await createEngine({ adapter: 'auto' });
    cpu = await createEngine({ adapter: 'cpu' });
  });
  afterAll(() => {
    dev?.destroy();
    cpu?.destroy();
  });

  test.each(['device', 'cpu'])('%s: every output within 1e-4 · max|ref|', async (which) => {
    const errors = await runParity(which === 'cpu' ? cpu : dev);
    console.log(`parity (${(which === 'cpu' ? cpu : dev).adapterName}): ${JSON.stringify(errors)}`);
    for (const [name, rel] of Object.entries(errors)) {
      expect([name, rel <= 1e-4]).toEqual([name, true]);
    }
  });
});
