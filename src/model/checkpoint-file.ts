/**
 * Node-only: checkpoints and model files on disk. Writes are atomic (an interruption never leaves
 * half a file) and carry a checksum; a file cut short or damaged is refused with one clear line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../data/atomic-write.js';
import type { Engine } from '../engine/engine.js';
import { parseCheckedJson, withChecksum } from './file-checksum.js';
import type { FittedMMM } from './fitted.js';
import { fromModelFile, fromModelFileMembers, toModelFile } from './model-file.js';
import type { TrainerCheckpoint } from './trainer.js';

export function writeCheckpoint(path: string, c: TrainerCheckpoint): void {
  writeFileAtomic(path, JSON.stringify(withChecksum(c)));
}

/** The checkpoint at `path`, or undefined when there is none yet. */
export function readCheckpoint(path: string): TrainerCheckpoint | undefined {
  if (!existsSync(path)) return undefined;
  const doc = readJsonDocument(path, 'checkpoint') as TrainerCheckpoint;
  if (doc?.format !== 'causalmix-checkpoint')
    throw new Error(`causalmix: checkpoint '${path}' is not a causalmix checkpoint`);
  return doc;
}

export async function saveModel(
  path: string,
  fitted: FittedMMM,
  extras: Record<string, unknown> = {},
  others: readonly FittedMMM[] = [],
) {
  writeFileAtomic(path, JSON.stringify(await toModelFile(fitted, extras, others)));
}

/** Every member of the model file at `path` (one for a single model). */
export function loadModelMembers(engine: Engine, path: string): FittedMMM[] {
  return fromModelFileMembers(engine, readJsonDocument(path, 'model file'));
}

export function loadModel(engine: Engine, path: string): FittedMMM {
  return fromModelFile(engine, readJsonDocument(path, 'model file'));
}

/** A model file or checkpoint, parsed and checked: errors name the file and what is wrong. */
export function readJsonDocument(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(
      `causalmix: cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseCheckedJson(text, `${what} '${path}'`);
}
