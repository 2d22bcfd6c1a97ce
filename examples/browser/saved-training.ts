/**
 * The interrupted training, kept in IndexedDB so a reloaded or crashed tab can resume it: the data
 * the worker trained on, the train request and the trainer's latest checkpoint. One training is
 * kept at a time; a new one replaces it. The worker writes (start, checkpoints, clear on a normal
 * finish); the page reads it for the resume offer and clears it on Discard.
 */
import type { Panel } from '../../src/data/panel.js';
import type { TrainerCheckpoint } from '../../src/model/trainer.js';
import type { TrainRequest } from './worker.js';

/** What a training needs to start again without the user picking the file again. */
export interface SavedRun {
  panel: Panel;
  request: TrainRequest;
  /** the data's name on the page: a file name, or the demo data */
  source: string;
  /** when the training was first started (ms since 1970); ties checkpoints to their run */
  startedAt: number;
}

export interface SavedTraining {
  run: SavedRun;
  checkpoint: TrainerCheckpoint;
  /** when the checkpoint was written (ms since 1970) */
  savedAt: number;
}

interface CheckpointRecord {
  startedAt: number;
  checkpoint: TrainerCheckpoint;
  savedAt: number;
}

const DB_NAME = 'causalmix-example';
const STORE = 'training';
// Two records: the run is written once (the panel may be megabytes), the checkpoint every few seconds.
const RUN = 'run';
const CHECKPOINT = 'checkpoint';

let db: Promise<IDBDatabase> | null = null;

function openDb(): Promise<IDBDatabase> {
  db ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return db;
}

/** Runs `work` in one transaction; resolves once it is committed (with what `work` returned). */
async function inStore<T>(
  mode: IDBTransactionMode,
  work: (store: IDBObjectStore) => T,
): Promise<T> {
  const tx = (await openDb()).transaction(STORE, mode);
  const out = work(tx.objectStore(STORE));
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(out);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** A new training: replaces whatever was kept, with no checkpoint yet. */
export function saveRun(run: SavedRun): Promise<void> {
  return inStore('readwrite', (s) => {
    s.put(run, RUN);
    s.delete(CHECKPOINT);
  });
}

export function saveCheckpoint(startedAt: number, checkpoint: TrainerCheckpoint): Promise<void> {
  const record: CheckpointRecord = { startedAt, checkpoint, savedAt: Date.now() };
  return inStore('readwrite', (s) => void s.put(record, CHECKPOINT));
}

/** The kept training, or null when there is none or it has no checkpoint of its own yet. */
export async function loadSaved(): Promise<SavedTraining | null> {
  const [run, cp] = await inStore('readonly', (s) => [s.get(RUN), s.get(CHECKPOINT)] as const);
  const r = run.result as SavedRun | undefined;
  const c = cp.result as CheckpointRecord | undefined;
  if (!r || !c || c.startedAt !== r.startedAt) return null;
  return { run: r, checkpoint: c.checkpoint, savedAt: c.savedAt };
}

export function clearSaved(): Promise<void> {
  return inStore('readwrite', (s) => void s.clear());
}
