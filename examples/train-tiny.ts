/**
 * The smallest end-to-end run of the engine: fit y = softplus(X·w + b) by AdamW with one recorded
 * training step (forward, backward, clipping, update = one submit per step), then print the
 * adapter used, the loss curve, the recovered weights and the time per step.
 *
 *   npm run demo                      # best adapter found (GPU, else software WebGPU)
 *   npm run demo -- --adapter cpu     # the float64 reference backend
 */
import { parseArgs } from 'node:util';
import { createEngine, backward, gradScope, ops, Rng, type AdapterChoice } from '../src/index.js';

const { values } = parseArgs({
  options: {
    adapter: { type: 'string', default: 'auto' },
    steps: { type: 'string', default: '500' },
  },
});
const steps = Number(values.steps);
const engine = await createEngine({ adapter: values.adapter as AdapterChoice, seed: 1 });
console.log(`adapter: ${engine.describe()}`);

// Data: 2,000 rows, 8 features, known weights, a little noise.
const rows = 2000;
const features = 8;
const rng = new Rng(7);
const wTrue = Array.from({ length: features }, (_, j) => (j % 2 === 0 ? 1 : -0.5) * (1 + j / 4));
const X = rng.uniformArray(rows * features, -1, 1);
const y = Array.from({ length: rows }, (_, i) => {
  const z = wTrue.reduce((s, w, j) => s + w * X[i * features + j], 0.5);
  return Math.log1p(Math.exp(z)) + 0.01 * rng.normal();
});

const arena = new ops.ParameterArena(engine, [
  { name: 'w', shape: [features], init: new Float64Array(features) },
  { name: 'b', shape: [1], init: [0] },
]);
const Xt = engine.tensor(X, [rows, features]);
const yt = engine.tensor(y, [rows]);

// Record the whole training step once; each run() replays it as one submit.
// The gradient scope inside the recording makes the tape record the forward pass for backward().
const program = engine.record(() =>
  gradScope(engine, () => {
    const pred = ops.softplus(ops.add(ops.sum(ops.mul(Xt, arena.param('w')), 1), arena.param('b')));
    const loss = ops.mean(ops.square(ops.sub(pred, yt)));
    arena.setGrads(backward(loss));
    arena.queueStep();
    return loss;
  }),
);
console.log(`training step: ${program.dispatchCount} dispatches, 1 submit`);

const t0 = performance.now();
for (let step = 1; step <= steps; step++) {
  arena.setHyper({ lr: 0.05, weightDecay: 0, clipNorms: [5] });
  program.run();
  if (step === 1 || step % 100 === 0)
    console.log(
      `step ${String(step).padStart(4)}  mse ${(await program.outputs.item()).toExponential(3)}`,
    );
}
await engine.sync();
const ms = (performance.now() - t0) / steps;

const w = (await arena.read()).get('w')!;
console.log(`true w:    ${wTrue.map((v) => v.toFixed(3)).join(' ')}`);
console.log(`fitted w:  ${Array.from(w, (v) => v.toFixed(3)).join(' ')}`);
console.log(`${ms.toFixed(3)} ms per training step on ${engine.adapterName}`);
program.dispose();
engine.destroy();
