/**
 * Helpers for the browser end-to-end test: the example server as a child process, headless
 * Debian chromium with WebGPU on SwiftShader (flags from shared/docs/webgpu-without-a-gpu.md §3),
 * and the numbers the test compares between the page and Node.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainProgress } from '../src/model/trainer.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * WebGPU on SwiftShader in headless chromium. Without the Vulkan feature and
 * --use-vulkan=swiftshader the adapter request never resolves. Playwright adds --headless and its
 * own temporary profile (--user-data-dir), so those two are not repeated here.
 */
export const WEBGPU_SWIFTSHADER_FLAGS = [
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
];

/** Headless chromium with WebGPU off (no flags): navigator.gpu exists but gives no adapter. */
export const NO_WEBGPU_FLAGS = ['--no-sandbox', '--disable-gpu-sandbox', '--no-first-run'];

export interface ExampleServer {
  url: string;
  /** what the server printed (the build's file list and the URL) */
  output: string;
  stop(): Promise<void>;
}

/** Starts `node scripts/serve-browser.mjs` (which builds first) and waits for its URL. */
export function startExampleServer(timeoutMs = 120_000): Promise<ExampleServer> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'scripts', 'serve-browser.mjs'), '--port', '0'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );
  let output = '';
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the example server printed no URL in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = output.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[0], output, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the example server exited (code ${code}) before serving:\n${output}`));
    });
  });
}

/** Training step (warm-start and main epochs counted alike) of a progress report. */
function stepOf(p: TrainProgress, warmEpochs: number): number {
  return (p.phase === 'warm-start' ? 0 : warmEpochs) + p.epoch;
}

/**
 * Milliseconds per training epoch between the first and the last report, so engine start-up and
 * shader compilation (before the first report) are left out. Reports every epoch included.
 */
export function msPerEpoch(history: TrainProgress[]): number {
  if (history.length < 2) throw new Error('msPerEpoch needs at least two progress reports');
  const warm = history.find((p) => p.phase === 'warm-start')?.epochs ?? 0;
  const first = history[0];
  const last = history[history.length - 1];
  return (last.elapsedMs - first.elapsedMs) / (stepOf(last, warm) - stepOf(first, warm));
}

/** The losses of one phase, in order. */
export const phaseLosses = (history: TrainProgress[], phase: TrainProgress['phase']) =>
  history.filter((p) => p.phase === phase).map((p) => p.loss);

/** max |a − b| relative to max |b| (the f32 comparison of two prediction vectors). */
export function maxRelativeDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
