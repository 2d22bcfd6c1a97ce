/**
 * `fit`'s checkpoint file (checkpoint.json in the output folder): the trainer's resumable state
 * plus what identifies the run (a fingerprint of the data, the options given, the configuration
 * chosen, the costs), so `fit --resume DIR` continues only the same run and otherwise names what
 * differs. A finished fit removes the file.
 */
import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Panel } from '../data/panel.js';
import type { ConfigOverrides, MMMConfig } from '../model/config.js';
import { readCheckpoint, writeCheckpoint } from '../model/checkpoint-file.js';
import type { TrainerCheckpoint } from '../model/trainer.js';
import type { LiftTestInput } from '../calibration/lift-tests.js';
import { CliError } from './common.js';

export const CHECKPOINT_FILE = 'checkpoint.json';

/** What a resumed run must share with the one that wrote the checkpoint. */
export interface RunIdentity {
  /** sha256 over the panel's names and values */
  data: string;
  /** the configuration options given (flags and --config), before the adapter's defaults */
  overrides: ConfigOverrides;
  costPerImpression: Record<string, number> | null;
  /** the lift tests' rows as read (--lift-tests) */
  liftTests?: LiftTestInput[] | null;
  /** the configuration trained with (the adapter's defaults filled in) */
  config: MMMConfig;
  adapter: string;
  /** the command line, for the resume hint */
  argv: string[];
}

export interface RunCheckpoint extends TrainerCheckpoint {
  run: RunIdentity;
}

export function checkpointPath(dir: string): string {
  return join(dir, CHECKPOINT_FILE);
}

/** A fingerprint of the data as loaded: any changed name, week or value changes it. */
export function panelFingerprint(p: Panel): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([p.regions, p.weeks, p.channels, p.controlNames]));
  for (const a of [p.media, p.controls, p.target, p.observed])
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex');
}

export function writeRunCheckpoint(dir: string, c: TrainerCheckpoint, run: RunIdentity): void {
  writeCheckpoint(checkpointPath(dir), { ...c, run } as RunCheckpoint);
}

export function removeRunCheckpoint(dir: string): void {
  rmSync(checkpointPath(dir), { force: true });
}

/** The checkpoint in `dir`; a clear error when there is none or it cannot be used. */
export function readRunCheckpoint(dir: string): RunCheckpoint {
  const path = checkpointPath(dir);
  if (!existsSync(path)) {
    const finished = existsSync(join(dir, 'model.json'));
    throw new CliError(
      `--resume ${dir}: no ${CHECKPOINT_FILE} there` +
        (finished ? ' (the fit there finished: its results are in that folder)' : ''),
    );
  }
  let c: TrainerCheckpoint | undefined;
  try {
    c = readCheckpoint(path);
  } catch (e) {
    throw new CliError(`--resume: ${(e as Error).message.replace(/^causalmix: /, '')}`);
  }
  if (!c || !('run' in c))
    throw new CliError(`--resume: '${path}' was not written by 'causalmix fit'`);
  return c as RunCheckpoint;
}

const show = (v: unknown) => (v === undefined ? 'not given' : JSON.stringify(v));

/** Throws naming each difference between the checkpoint's run and this one. */
export function checkSameRun(
  saved: RunIdentity,
  now: Pick<RunIdentity, 'data' | 'overrides' | 'costPerImpression' | 'liftTests'>,
  path: string,
): void {
  const diffs: string[] = [];
  if (saved.data !== now.data)
    diffs.push('the data differ (a column, week or value changed since the checkpoint)');
  const keys = new Set([...Object.keys(saved.overrides), ...Object.keys(now.overrides)]);
  for (const k of [...keys].sort()) {
    const a = (saved.overrides as Record<string, unknown>)[k];
    const b = (now.overrides as Record<string, unknown>)[k];
    if (JSON.stringify(a) !== JSON.stringify(b))
      diffs.push(`${k} is ${show(b)} here, ${show(a)} in the checkpoint`);
  }
  if (JSON.stringify(saved.costPerImpression) !== JSON.stringify(now.costPerImpression))
    diffs.push('the costs per impression differ');
  if (JSON.stringify(saved.liftTests ?? null) !== JSON.stringify(now.liftTests ?? null))
    diffs.push('the lift tests differ');
  if (diffs.length)
    throw new CliError(
      `cannot resume from ${path}: ${diffs.join('; ')} (resume with the same data and options)`,
    );
}

/** The command that resumes this run: the same arguments, with `--resume DIR`. */
export function resumeCommand(argv: string[], dir: string): string {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--resume') i++;
    else if (!argv[i].startsWith('--resume=')) args.push(argv[i]);
  }
  return ['causalmix', ...args, '--resume', dir].map(shellQuote).join(' ');
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
