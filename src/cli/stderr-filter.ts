/**
 * Where fd 2 cannot be swapped for the engine's start-up (a socket, as Node's child_process gives
 * its children, or a system without /proc; see src/engine/native-stderr.ts), the CLI runs itself
 * once more as a child whose stderr it reads, and drops Dawn's notes from it line by line: a line
 * starting "Warning: " and the indented or empty lines under it. Everything else passes unchanged;
 * the exit code and signals are passed on. `--verbose` skips all of this.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { constants } from 'node:os';
import { canCaptureNativeStderr, dawnLineFilter, type FsLike } from '../engine/native-stderr.js';

const CHILD_MARK = 'CAUSALMIX_STDERR_FILTERED';

/** Commands that may start the engine (the others never load Dawn). */
const ENGINE_COMMANDS = ['fit', 'demo', 'optimize'];

/** True when this process should hand its work to a child with filtered stderr. */
export function needsStderrFilter(argv: string[]): boolean {
  const args = argv.slice(2);
  if (!ENGINE_COMMANDS.includes(args[0])) return false;
  if (args.some((a) => ['--verbose', '--dry-run', '--help', '-h'].includes(a))) return false;
  if (process.env[CHILD_MARK] === '1') return false;
  return !canCaptureNativeStderr(fs as unknown as FsLike);
}

/** Runs this CLI again as a child with Dawn's lines removed from its stderr; resolves its code. */
export function runWithFilteredStderr(): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...process.env, [CHILD_MARK]: '1' },
    // its own process group: a terminal's Ctrl-C reaches the child once, passed on from here,
    // not twice (which would mean "quit at once" to `fit`)
    detached: true,
  });
  const filter = dawnLineFilter((s) => process.stderr.write(s));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', filter.push);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      filter.end();
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
