/**
 * `npm run bench:soak`: a long training run (default 10,000 steps of the small panel, 10 regions ×
 * 52 weeks × 5 channels × 3 controls, hidden 32, no warm start) through the library's
 * `ModelTrainer.fit`, so the real recorded training step is what runs. Every `--every` steps
 * (the trainer's `logEvery` and `checkpointEvery`) it records the step, the wall time so far, the
 * loss, whether the loss and every parameter and AdamW moment are finite (the checkpoint's arenas,
 * read back from the device), the engine's live and pooled buffers and bytes, the buffers the pool
 * ever created, the backend's uniform-buffer pool where it has one, and the process RSS and heap.
 * It prints the samples and a verdict, and exits 1 if a NaN/Inf appears or the live buffers or
 * bytes grow between the first sample and the last.
 *
 *   npm run bench:soak -- --adapter gl --steps 10000 --every 500 --json bench-results/soak.json
 *
 * Options: --adapter NAME, --steps N, --every N, --hidden N, --warm N (warm-start epochs, default
 * 0), --json FILE, --quiet (no progress lines on stderr while it runs).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UnifiedDataPipeline } from '../src/data/pipeline.js';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import type { PoolStats } from '../src/engine/buffer-pool.js';
import type { AdapterChoice } from '../src/engine/device.js';
import { createEngine, type Engine, type EngineStats } from '../src/engine/engine.js';
import { decodeF32, decodeF64 } from '../src/model/codec.js';
import { getDefaultConfig, updateConfig } from '../src/model/config.js';
import { ModelTrainer, type TrainerCheckpoint } from '../src/model/trainer.js';

const { values: a } = parseArgs({
  options: {
    adapter: { type: 'string', default: 'auto' },
    steps: { type: 'string', default: '10000' },
    every: { type: 'string', default: '500' },
    hidden: { type: 'string', default: '32' },
    warm: { type: 'string', default: '0' },
    json: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});
const STEPS = Number(a.steps);
const EVERY = Number(a.every);
const H = Number(a.hidden);
const WARM = Number(a.warm);
for (const [name, v] of [
  ['--steps', STEPS],
  ['--every', EVERY],
  ['--hidden', H],
] as const)
  if (!Number.isInteger(v) || v < 1) throw new Error(`soak: ${name} must be a positive integer`);
if (!Number.isInteger(WARM) || WARM < 0) throw new Error('soak: --warm must be an integer ≥ 0');
const SIZE = { regions: 10, weeks: 52, channels: 5, controls: 3 };

interface Sample {
  step: number;
  wallMs: number;
  loss: number;
  lossFinite: boolean;
  /** parameters, first and second AdamW moments all finite */
  paramsFinite: boolean;
  nonFinite: number;
  liveBuffers: number;
  liveBytes: number;
  pooledBuffers: number;
  createdBuffers: number;
  /** the WebGPU backend's per-dispatch uniform buffers (not in EngineStats); null elsewhere */
  uniformsLive: number | null;
  uniformsCreated: number | null;
  rssMiB: number;
  heapMiB: number;
}

/**
 * The uniform-buffer pool of the WebGPU backend is private and not part of `Engine.stats()`; the
 * soak reads it where it exists, as a second allocation path to watch.
 */
function uniformStats(e: Engine): PoolStats | null {
  const pool = (e.backend as unknown as { uniforms?: { snapshot?: () => PoolStats } }).uniforms;
  return typeof pool?.snapshot === 'function' ? pool.snapshot() : null;
}

const countNonFinite = (xs: ArrayLike<number>): number => {
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i])) n++;
  return n;
};
const mib = (bytes: number) => bytes / 2 ** 20;

async function main(): Promise<number> {
  const engine = await createEngine({ adapter: a.adapter as AdapterChoice });
  console.log(`adapter: ${engine.describe()}`);
  const { panel } = generateSyntheticPanel({ ...SIZE, seed: 1 });
  const config = updateConfig(getDefaultConfig(), {
    hiddenDim: H,
    minTrainWeeks: 40,
    epochs: STEPS,
    warmStartEpochs: WARM,
    logEvery: EVERY,
  });
  const prepared = new UnifiedDataPipeline(config).fit(panel);
  const trainer = new ModelTrainer(engine, config);
  const size = `${SIZE.regions}×${prepared.B + prepared.wTrain}×${SIZE.channels}×${SIZE.controls}`;
  console.log(
    `soak: small panel ${size}, hidden ${H}, ${STEPS} steps${WARM ? ` after ${WARM} warm-start epochs` : ', no warm start'}, sample every ${EVERY}`,
  );

  const before: EngineStats = engine.stats();
  const samples: Sample[] = [];
  const t0 = performance.now();
  const onCheckpoint = (c: TrainerCheckpoint) => {
    // fit() calls this once more after its loop: the same epoch when STEPS is a multiple of EVERY
    if (samples.at(-1)?.step === c.epoch) return;
    const last = c.history.at(-1);
    const loss = last?.loss ?? NaN;
    // the CPU backend's checkpoints hold float64 arenas
    const decode = c.dtype === 'f64' ? decodeF64 : decodeF32;
    const nonFinite =
      countNonFinite(decode(c.params)) + countNonFinite(decode(c.m)) + countNonFinite(decode(c.v));
    const st = engine.stats();
    const u = uniformStats(engine);
    const mem = process.memoryUsage();
    const s: Sample = {
      step: c.epoch,
      wallMs: performance.now() - t0,
      loss,
      lossFinite: last !== undefined && [last.loss, last.dataLoss, last.r2].every(Number.isFinite),
      paramsFinite: nonFinite === 0,
      nonFinite,
      liveBuffers: st.liveBuffers,
      liveBytes: st.liveBytes,
      pooledBuffers: st.pooledBuffers,
      createdBuffers: st.createdBuffers,
      uniformsLive: u?.live ?? null,
      uniformsCreated: u?.created ?? null,
      rssMiB: mib(mem.rss),
      heapMiB: mib(mem.heapUsed),
    };
    samples.push(s);
    if (!a.quiet)
      process.stderr.write(
        `  step ${s.step}/${STEPS}  ${(s.wallMs / 1000).toFixed(1)} s  loss ${s.loss.toPrecision(5)}  ` +
          `live ${s.liveBuffers} bufs ${s.liveBytes} B  rss ${s.rssMiB.toFixed(0)} MiB\n`,
      );
  };
  const fitted = await trainer.fit(prepared, { onCheckpoint, checkpointEvery: EVERY });
  const wallMs = performance.now() - t0;
  const dispatches = fitted.training.dispatchesPerStep;
  fitted.dispose();
  const after = engine.stats();

  // ---- table -------------------------------------------------------------------------------
  const r = (x: string | number, n: number) => String(x).padStart(n);
  console.log(
    `\n${r('step', 6)} ${r('wall s', 8)} ${r('ms/step', 8)} ${r('loss', 11)} ${r('finite', 7)} ` +
      `${r('live bufs', 9)} ${r('live bytes', 11)} ${r('pooled', 6)} ${r('created', 7)} ` +
      `${r('unif live', 9)} ${r('unif made', 9)} ${r('RSS MiB', 8)} ${r('heap MiB', 8)}`,
  );
  samples.forEach((s, i) => {
    const prev = i > 0 ? samples[i - 1] : { step: 0, wallMs: 0 };
    const interval = (s.wallMs - prev.wallMs) / Math.max(1, s.step - prev.step);
    console.log(
      `${r(s.step, 6)} ${r((s.wallMs / 1000).toFixed(1), 8)} ${r(interval.toFixed(1), 8)} ` +
        `${r(s.loss.toPrecision(5), 11)} ${r(s.lossFinite && s.paramsFinite ? 'yes' : 'NO', 7)} ` +
        `${r(s.liveBuffers, 9)} ${r(s.liveBytes, 11)} ${r(s.pooledBuffers, 6)} ` +
        `${r(s.createdBuffers, 7)} ${r(s.uniformsLive ?? '–', 9)} ${r(s.uniformsCreated ?? '–', 9)} ` +
        `${r(s.rssMiB.toFixed(0), 8)} ${r(s.heapMiB.toFixed(1), 8)}`,
    );
  });

  // ---- verdict -----------------------------------------------------------------------------
  const first = samples[0];
  const last = samples.at(-1);
  const bad = samples.filter((s) => !s.lossFinite || !s.paramsFinite);
  const nanFree = samples.length > 0 && bad.length === 0;
  const buffersFlat = !!first && !!last && last.liveBuffers <= first.liveBuffers;
  const bytesFlat = !!first && !!last && last.liveBytes <= first.liveBytes;
  const createdFlat = !!first && !!last && last.createdBuffers === first.createdBuffers;
  const uniformsFlat = !first || !last || last.uniformsCreated === first.uniformsCreated;
  const steady =
    first && last && last.step > first.step
      ? (last.wallMs - first.wallMs) / (last.step - first.step)
      : NaN;
  const lines = [
    `adapter: ${engine.describe()}`,
    `steps: ${last?.step ?? 0} of ${STEPS} (${dispatches} dispatches per step), ${samples.length} samples`,
    `NaN/Inf: ${nanFree ? 'none' : `SEEN at step(s) ${bad.map((s) => s.step).join(', ') || '– (no samples)'}`}`,
    `live buffers: ${first?.liveBuffers} → ${last?.liveBuffers} (${buffersFlat ? 'flat' : 'GROWING'})`,
    `live bytes: ${first?.liveBytes} → ${last?.liveBytes} (${bytesFlat ? 'flat' : 'GROWING'})`,
    `pool buffers ever created: ${first?.createdBuffers} → ${last?.createdBuffers} (${createdFlat ? 'flat' : 'growing'})` +
      (first?.uniformsCreated != null
        ? `; uniform buffers created: ${first.uniformsCreated} → ${last?.uniformsCreated} (${uniformsFlat ? 'flat' : 'growing'})`
        : ''),
    `live buffers before fit ${before.liveBuffers} (${before.liveBytes} B), after fitted.dispose() ${after.liveBuffers} (${after.liveBytes} B)`,
    `RSS: ${first?.rssMiB.toFixed(0)} → ${last?.rssMiB.toFixed(0)} MiB, heap ${first?.heapMiB.toFixed(1)} → ${last?.heapMiB.toFixed(1)} MiB (secondary)`,
    `wall: ${(wallMs / 1000).toFixed(1)} s total (setup included), ${(wallMs / STEPS).toFixed(1)} ms/step overall, ${steady.toFixed(1)} ms/step from step ${first?.step} to ${last?.step}`,
  ];
  const ok = nanFree && buffersFlat && bytesFlat;
  console.log(`\nverdict: ${ok ? 'PASS' : 'FAIL'}\n${lines.map((l) => `  ${l}`).join('\n')}`);

  if (a.json)
    writeFileSync(
      a.json,
      JSON.stringify(
        {
          date: new Date().toISOString(),
          device: engine.describe(),
          size,
          hidden: H,
          steps: STEPS,
          every: EVERY,
          warmStartEpochs: WARM,
          dispatchesPerStep: dispatches,
          wallMs,
          msPerStep: wallMs / STEPS,
          steadyMsPerStep: steady,
          ok,
          nanFree,
          buffersFlat,
          bytesFlat,
          before,
          after,
          samples,
        },
        null,
        2,
      ),
    );
  engine.destroy();
  return ok ? 0 : 1;
}

process.exitCode = await main();
