/**
 * `npm run bench`: every core op on the current adapter and on the float64 CPU reference, side by
 * side in one run, with dispatch counts. Sizes follow the model: R×T×C = 190×102×13 (the paper's
 * panel), H = 280. Options: --adapter NAME (default auto), --quick (small sizes), --json FILE.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import * as ops from '../src/ops/index.js';
import { printTable, runCases, type BenchCase } from './harness.js';

const { values } = parseArgs({
  options: {
    adapter: { type: 'string', default: 'auto' },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const [R, T, C] = values.quick ? [10, 52, 5] : [190, 102, 13];
const H = values.quick ? 64 : 280;
const fmt = (s: number[]) => `[${s.join(', ')}]`;

/** Records `fn` over fresh random inputs; the inputs are freed with the case. */
function recorded(e: Engine, shapes: number[][], fn: (...xs: Tensor[]) => unknown, grad = false) {
  const xs = shapes.map((s) => e.keep(e.rand(s, 0.1, 1)).requireGrad(grad));
  const program = e.record(() =>
    gradScope(e, () => {
      const out = fn(...xs) as Tensor;
      if (grad) {
        const g = backward(out.size === 1 ? out : ops.sum(out));
        return [...g.values()];
      }
      return out;
    }),
  );
  return { program, dispose: () => xs.forEach((x) => x.dispose()) };
}

const rtc = [R, T, C];
const cases: BenchCase[] = [
  { name: 'exp', size: fmt(rtc), build: (e) => recorded(e, [rtc], (x) => ops.exp(x)) },
  {
    name: 'sigmoid fwd+bwd',
    size: fmt(rtc),
    build: (e) => recorded(e, [rtc], (x) => ops.sigmoid(x), true),
  },
  {
    name: 'mul (broadcast [C])',
    size: fmt(rtc),
    build: (e) => recorded(e, [rtc, [C]], (x, w) => ops.mul(x, w)),
  },
  {
    name: 'mul fwd+bwd (broadcast)',
    size: fmt(rtc),
    build: (e) => recorded(e, [rtc, [C]], (x, w) => ops.mul(x, w), true),
  },
  { name: 'sum over T', size: fmt(rtc), build: (e) => recorded(e, [rtc], (x) => ops.sum(x, 1)) },
  { name: 'mean (all)', size: fmt(rtc), build: (e) => recorded(e, [rtc], (x) => ops.mean(x)) },
  {
    name: 'matmul',
    size: `${R * T}×${H} · ${H}×${H}`,
    build: (e) =>
      recorded(
        e,
        [
          [R * T, H],
          [H, H],
        ],
        (a, b) => ops.matmul(a, b),
      ),
  },
  {
    name: 'matmul fwd+bwd',
    size: `${R * T}×${H} · ${H}×${H}`,
    build: (e) =>
      recorded(
        e,
        [
          [R * T, H],
          [H, H],
        ],
        (a, b) => ops.matmul(a, b),
        true,
      ),
  },
  {
    name: 'transpose',
    size: fmt(rtc),
    build: (e) => recorded(e, [rtc], (x) => ops.transpose(x, [0, 2, 1])),
  },
  {
    name: 'slice (last 13 weeks)',
    size: fmt(rtc),
    build: (e) => recorded(e, [rtc], (x) => ops.slice(x, [0, T - 13, 0], [R, 13, C])),
  },
  {
    name: 'concat (media ‖ features)',
    size: `${fmt(rtc)} ‖ ${fmt([R, T, H / 2])}`,
    build: (e) => recorded(e, [rtc, [R, T, H / 2]], (a, b) => ops.concat([a, b], 2)),
  },
  {
    name: 'indexSelect (regions)',
    size: fmt(rtc),
    build: (e) =>
      recorded(e, [rtc], (x) =>
        ops.indexSelect(
          x,
          0,
          Array.from({ length: R }, (_, i) => (i * 7) % R),
        ),
      ),
  },
  {
    name: 'huber loss fwd+bwd',
    size: fmt([R, T]),
    build: (e) =>
      recorded(
        e,
        [
          [R, T],
          [R, T],
        ],
        (p, y) => ops.huberLoss(p, y, 0.25),
        true,
      ),
  },
  {
    name: 'clip + AdamW (2 groups)',
    size: `${(3 * H * (C + H / 2 + H) + 2 * H * H).toLocaleString('en')} params`,
    build: (e) => {
      const n = 3 * H * (C + H / 2 + H);
      const arena = new ops.ParameterArena(e, [
        { name: 'gru', shape: [n], init: e.rng.normalArray(n), group: 1 },
        { name: 'heads', shape: [2 * H * H], init: e.rng.normalArray(2 * H * H), group: 0 },
      ]);
      arena.setHyper({ lr: 1e-3, weightDecay: 1e-4, clipNorms: [1, 2] });
      return { program: e.record(() => arena.queueStep()), dispose: () => arena.dispose() };
    },
  },
];

const dev = await createEngine({ adapter: values.adapter as 'auto' });
const cpu = await createEngine({ adapter: 'cpu' });
console.log(
  `benchmarking ${cases.length} ops on ${dev.describe()} and the CPU reference${values.quick ? ' (quick sizes)' : ''}`,
);
const rows = await runCases(dev, cpu, cases);
printTable(`causalmix core ops, R=${R} T=${T} C=${C} H=${H}`, dev, rows);
if (values.json) {
  mkdirSync(dirname(values.json), { recursive: true });
  writeFileSync(values.json, JSON.stringify({ adapter: dev.adapterName, rows }, null, 2));
}
dev.destroy();
cpu.destroy();
