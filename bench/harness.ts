/**
 * Benchmark plumbing: each case is recorded once as a program and timed with benchmark.js on the
 * device under test and on the float64 CPU reference in the same run, so the ratio compares like
 * with like. A timed cycle replays the program `reps` times and waits for the device to finish.
 */
import Benchmark from 'benchmark';
import type { Engine } from '../src/engine/engine.js';
import type { Program } from '../src/engine/program.js';

export interface BenchCase {
  name: string;
  /** what is measured, e.g. "[190, 102, 13]" */
  size: string;
  /** records the work on `e` and returns the program (the case owns its tensors) */
  build: (e: Engine) => { program: Program<unknown>; dispose: () => void };
}

export interface BenchRow {
  name: string;
  size: string;
  dispatches: number;
  deviceMs: number;
  cpuMs: number;
}

function timeOne(
  e: Engine,
  c: BenchCase,
  maxTime: number,
): Promise<{ ms: number; dispatches: number }> {
  const { program, dispose } = c.build(e);
  const reps = 5;
  return new Promise((resolve, reject) => {
    const bench = new Benchmark(c.name, {
      defer: true,
      maxTime,
      minSamples: 2,
      initCount: 1,
      fn: (deferred: { resolve: () => void }) => {
        for (let i = 0; i < reps; i++) program.run();
        e.sync().then(() => deferred.resolve(), reject);
      },
      onComplete: () => {
        const ms = (bench.stats.mean * 1000) / reps;
        const dispatches = program.dispatchCount;
        program.dispose();
        dispose();
        resolve({ ms, dispatches });
      },
      onError: (ev: { target: { error: Error } }) => reject(ev.target.error),
    });
    bench.run({ async: true });
  });
}

export async function runCases(
  dev: Engine,
  cpu: Engine,
  cases: BenchCase[],
  maxTime = 1,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of cases) {
    const d = await timeOne(dev, c, maxTime);
    const r = await timeOne(cpu, c, maxTime);
    rows.push({
      name: c.name,
      size: c.size,
      dispatches: d.dispatches,
      deviceMs: d.ms,
      cpuMs: r.ms,
    });
    process.stdout.write('.');
  }
  process.stdout.write('\n');
  return rows;
}

export function printTable(title: string, dev: Engine, rows: BenchRow[]): void {
  console.log(`\n${title}`);
  console.log(`device: ${dev.describe()}   reference: CPU float64 (same process, same run)\n`);
  const header = ['op', 'size', 'dispatches', 'device ms', 'cpu ms', 'cpu/device'];
  const body = rows.map((r) => [
    r.name,
    r.size,
    String(r.dispatches),
    r.deviceMs.toFixed(3),
    r.cpuMs.toFixed(3),
    (r.cpuMs / r.deviceMs).toFixed(2) + 'x',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  body.forEach((b) => console.log(line(b)));
}
