/**
 * Fused vs unfused (issue 3): each fused op of a training step (bench/fused.cases.ts) timed on the
 * current adapter, the same computation composed from generic ops timed on the same adapter, and
 * the fused op on the float64 CPU reference, with dispatch counts, in ONE table. Options:
 * --adapter NAME (default auto), --size small|paper|both (default both), --quick (small only,
 * short timing), --json FILE, --skip-cpu (no CPU column; the paper-size GRU takes minutes there),
 * --op NAME (only the ops whose name contains NAME, e.g. linear).
 *
 * Timing follows bench/harness.ts: a case is recorded once as a program and a timed cycle replays
 * it and waits for the device. A probe run comes first: it warms the program up and decides the
 * runs per cycle; a case whose run outlasts the cycle budget is timed directly over 1–3 runs, and
 * one whose probe exceeds CAP_MS is reported as "> 60 s" and not repeated (a synchronous CPU run
 * cannot be interrupted, so the cap bounds the repeats, not the probe itself).
 */
import Benchmark from 'benchmark';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine, type Engine } from '../src/engine/engine.js';
import type { BenchCase } from './harness.js';
import { fusedCases, type FusedPair, type FusedSize } from './fused.cases.js';

const CAP_MS = 60_000;

const { values } = parseArgs({
  options: {
    adapter: { type: 'string', default: 'auto' },
    size: { type: 'string', default: 'both' },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    'skip-cpu': { type: 'boolean', default: false },
    op: { type: 'string' },
  },
});
const sizeArg = values.quick ? 'small' : values.size;
if (!['small', 'paper', 'both'].includes(sizeArg)) {
  console.error(`--size must be small, paper or both, got ${sizeArg}`);
  process.exit(2);
}
const sizes: FusedSize[] = sizeArg === 'both' ? ['small', 'paper'] : [sizeArg as FusedSize];
/** benchmark.js's time budget per case, seconds */
const maxTime = values.quick ? 0.3 : 1;

interface Timing {
  /** mean per repetition; null when one run exceeded CAP_MS */
  ms: number | null;
  dispatches: number;
  /** runs per benchmark.js cycle, or runs timed directly */
  reps: number;
  /** timed directly after the warm-up, not by benchmark.js (one run outlasts the cycle budget) */
  direct: boolean;
}

interface FusedRow {
  op: string;
  size: string;
  fused: Timing;
  unfused: Timing;
  cpu: Timing | null;
}

/** Wall time of one run of `fn` up to the device finishing. */
async function once(e: Engine, fn: () => void): Promise<number> {
  const t0 = performance.now();
  fn();
  await e.sync();
  return performance.now() - t0;
}

/** Mean time of `reps` back-to-back runs per cycle, by benchmark.js (as bench/harness.ts). */
function benchmarkJs(e: Engine, run: () => void, reps: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const bench = new Benchmark('case', {
      defer: true,
      maxTime,
      minSamples: 2,
      initCount: 1,
      fn: (deferred: { resolve: () => void }) => {
        for (let i = 0; i < reps; i++) run();
        e.sync().then(() => deferred.resolve(), reject);
      },
      onComplete: () => resolve((bench.stats.mean * 1000) / reps),
      onError: (ev: { target: { error: Error } }) => reject(ev.target.error),
    });
    bench.run({ async: true });
  });
}

async function timeCase(e: Engine, c: BenchCase): Promise<Timing> {
  const { program, dispose } = c.build(e);
  const dispatches = program.dispatchCount;
  try {
    const run = () => void program.run();
    // warm-up and probe: first-run costs (pipelines, allocation, JIT) stay out of the timings
    const probe = await once(e, run);
    if (probe > CAP_MS) return { ms: null, dispatches, reps: 1, direct: true };
    // long runs: 1–3 runs timed directly (benchmark.js would repeat them for minutes)
    if (probe > 500 * maxTime) {
      let total = 0;
      let n = 0;
      do {
        total += await once(e, run);
        n++;
      } while (total < 1000 * maxTime && n < 3);
      return { ms: total / n, dispatches, reps: n, direct: true };
    }
    // up to 5 runs per cycle (the harness's count), fewer when one run is already long
    const reps = Math.max(1, Math.min(5, Math.floor((100 * maxTime) / Math.max(probe, 1e-3))));
    return { ms: await benchmarkJs(e, run, reps), dispatches, reps, direct: false };
  } finally {
    program.dispose();
    dispose();
  }
}

// ---- table --------------------------------------------------------------------------------------

/** "*" marks a case timed directly over 1–3 runs (see timeCase). */
const msText = (t: Timing | null) =>
  t === null ? 'skipped' : t.ms === null ? '> 60 s' : t.ms.toFixed(3) + (t.direct ? '*' : '');

function ratioText(num: Timing | null, den: Timing): string {
  if (num === null) return '–';
  if (num.ms === null) return den.ms === null ? '?' : `> ${(CAP_MS / den.ms).toFixed(0)}x`;
  if (den.ms === null) return '?';
  return `${(num.ms / den.ms).toFixed(2)}x`;
}

/** Did the fused op need fewer dispatches AND less time than the unfused one? */
function fusedWins(r: FusedRow): boolean {
  const faster =
    r.unfused.ms === null ? r.fused.ms !== null : (r.fused.ms ?? Infinity) < r.unfused.ms;
  return r.fused.dispatches < r.unfused.dispatches && faster;
}

function printFusedTable(dev: Engine, rows: FusedRow[]): void {
  console.log(`\nfused vs unfused ops on ${dev.describe()}`);
  console.log(
    'fused and unfused: this adapter; CPU: the fused op on the float64 reference (same run); ' +
      'times are ms per forward+backward step\n',
  );
  const header = [
    'op',
    'size',
    'dispatches fused / unfused',
    'fused ms',
    'unfused ms',
    'CPU ms',
    'unfused/fused',
    'CPU/fused',
  ];
  const body = rows.map((r) => [
    r.op,
    r.size,
    `${r.fused.dispatches} / ${r.unfused.dispatches}`,
    msText(r.fused),
    msText(r.unfused),
    msText(r.cpu),
    ratioText(r.unfused, r.fused),
    ratioText(r.cpu, r.fused),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  body.forEach((b) => console.log(line(b)));
  if (rows.some((r) => [r.fused, r.unfused, r.cpu].some((t) => t?.direct && t.ms !== null)))
    console.log(
      '* timed directly: mean of 1–3 runs after a warm-up run (one run outlasts the budget)',
    );
  const losers = rows.filter((r) => !fusedWins(r));
  console.log(
    losers.length === 0
      ? `\nevery fused case (${rows.length}) beat its unfused counterpart in both dispatches and time`
      : `\nNOT every fused case beat its unfused counterpart in dispatches and time: ` +
          losers.map((r) => `${r.op} @ ${r.size}`).join('; '),
  );
}

// ---- run ----------------------------------------------------------------------------------------

const dev = await createEngine({ adapter: values.adapter as 'auto' });
const cpu = values['skip-cpu'] ? null : await createEngine({ adapter: 'cpu' });
const pairs: FusedPair[] = sizes
  .flatMap((s) => fusedCases(s))
  .filter((p) => !values.op || p.op.includes(values.op));
console.log(
  `benchmarking ${pairs.length} fused ops against their unfused compositions on ${dev.describe()}` +
    (cpu ? ' and the fused ops on the CPU reference' : ' (CPU reference skipped)') +
    ` — sizes: ${sizes.join(', ')}`,
);
const rows: FusedRow[] = [];
for (const p of pairs) {
  const fused = await timeCase(dev, p.fused);
  const unfused = await timeCase(dev, p.unfused);
  const ref = cpu ? await timeCase(cpu, p.fused) : null;
  rows.push({ op: p.op, size: p.size, fused, unfused, cpu: ref });
  process.stdout.write('.');
}
process.stdout.write('\n');
printFusedTable(dev, rows);
if (values.json) {
  mkdirSync(dirname(values.json), { recursive: true });
  const out = { adapter: dev.describe(), capMs: CAP_MS, rows, allFusedWin: rows.every(fusedWins) };
  writeFileSync(values.json, JSON.stringify(out, null, 2));
}
dev.destroy();
cpu?.destroy();
