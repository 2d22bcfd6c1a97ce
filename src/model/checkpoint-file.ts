/** Node-only: checkpoints and model files on disk (atomic writes: a crash never leaves half a file). */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Engine } from '../engine/engine.js';
import type { FittedMMM } from './fitted.js';
import { fromModelFile, toModelFile } from './model-file.js';
import type { TrainerCheckpoint } from './trainer.js';

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

export function writeCheckpoint(path: string, c: TrainerCheckpoint): void {
  writeAtomic(path, JSON.stringify(c));
}

/** The checkpoint at `path`, or undefined when there is none yet. */
export function readCheckpoint(path: string): TrainerCheckpoint | undefined {
  return existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as TrainerCheckpoint)
    : undefined;
}

export async function saveModel(
  path: string,
  fitted: FittedMMM,
  extras: Record<string, unknown> = {},
) {
  writeAtomic(path, JSON.stringify(await toModelFile(fitted, extras)));
}

export function loadModel(engine: Engine, path: string): FittedMMM {
  return fromModelFile(engine, JSON.parse(readFileSync(path, 'utf8')));
}
