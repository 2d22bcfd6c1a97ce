/**
 * The model file: one versioned, self-describing JSON document (config, names, scalers, seasonal
 * curves, the prepared sequences the model continues from, weights as base64 float32, training
 * summary, and optional analysis results such as fitted response curves). Pure data: it is
 * written in Node and read in a browser alike.
 */
import type { PreparedData } from '../data/pipeline.js';
import type { Engine } from '../engine/engine.js';
import { decodeF32, decodeF64, encodeF32, encodeF64 } from './codec.js';
import { verifyChecksum, withChecksum } from './file-checksum.js';
import { getDefaultConfig, REFERENCE_VALUES, updateConfig, type MMMConfig } from './config.js';
import { FittedMMM, type TrainingSummary } from './fitted.js';
import { DeepCausalMMM } from './model.js';
import { disposeBatch, toDevice, trainingBatch } from './batch.js';
import type { ModelDims } from './parameters.js';

export const MODEL_FORMAT = 'causalmix-model';
export const MODEL_VERSION = 1;

const F32_FIELDS = ['media', 'controls', 'target', 'trainMask', 'holdoutMask', 'seasonal'] as const;

export interface ModelFile {
  format: typeof MODEL_FORMAT;
  version: number;
  library: string;
  savedAt: string;
  config: MMMConfig;
  dims: ModelDims;
  prepared: Omit<PreparedData, (typeof F32_FIELDS)[number] | 'yMean' | 'rawTarget' | 'observed'> &
    Record<(typeof F32_FIELDS)[number], string> & {
      yMean: number[];
      rawTarget: number[];
      observed: number[];
    };
  /** parameter name → base64 float32 (row-major, shapes as the model declares them) */
  weights: Record<string, string>;
  /** 'f64' when the weights are float64 (a model trained on the float64 CPU backend) */
  weightsDtype?: 'f32' | 'f64';
  training: Omit<TrainingSummary, 'history'> & { history?: TrainingSummary['history'] };
  /** analysis results saved with the model (e.g. `responseCurves`), free-form JSON */
  extras: Record<string, unknown>;
  /**
   * An ensemble's other members (src/model/ensemble.ts), member k + 1 seeded `config.seed + k + 1`
   * with the same data and configuration; the weights above are member 0's. Absent: one model.
   */
  members?: { weights: Record<string, string>; training: ModelFile['training'] }[];
  /** over the rest of the document (file-checksum.ts); absent in files from before it existed */
  checksum?: string;
}

/** The arena's weights as base64 (float64 on the CPU backend, so a reload is exact). */
async function encodedWeights(fitted: FittedMMM): Promise<Record<string, string>> {
  const weights = await fitted.model.arena.read();
  const enc = fitted.engine.isGpu ? encodeF32 : encodeF64;
  return Object.fromEntries([...weights].map(([k, v]) => [k, enc(v)]));
}

/** The model file of `fitted`, and of an ensemble's `others` members (trained on the same data). */
export async function toModelFile(
  fitted: FittedMMM,
  extras: Record<string, unknown> = {},
  others: readonly FittedMMM[] = [],
): Promise<ModelFile> {
  const p = fitted.prepared;
  const prepared = {
    ...p,
    ...Object.fromEntries(F32_FIELDS.map((f) => [f, encodeF32(p[f])])),
    yMean: Array.from(p.yMean),
    rawTarget: Array.from(p.rawTarget),
    observed: Array.from(p.observed),
  } as unknown as ModelFile['prepared'];
  return withChecksum({
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    library: 'causalmix 0.1.0',
    savedAt: new Date().toISOString(),
    config: fitted.config,
    dims: fitted.model.dims,
    prepared,
    weights: await encodedWeights(fitted),
    weightsDtype: fitted.engine.isGpu ? 'f32' : 'f64',
    training: fitted.training,
    extras,
    ...(others.length > 0
      ? {
          members: await Promise.all(
            others.map(async (m) => ({ weights: await encodedWeights(m), training: m.training })),
          ),
        }
      : {}),
  });
}

/** Rebuilds a fitted model from a model file (parsed JSON) on `engine` (an ensemble's member 0). */
export function fromModelFile(engine: Engine, file: unknown): FittedMMM {
  return fromModelFileMembers(engine, file, 'first')[0];
}

/** Every member a model file holds (one for a single model; 'first': member 0 only), on `engine`. */
export function fromModelFileMembers(engine: Engine, file: unknown, only?: 'first'): FittedMMM[] {
  const f = file as ModelFile;
  if (!f || typeof f !== 'object' || f.format !== MODEL_FORMAT)
    throw new Error(`causalmix: not a causalmix model file (format '${String(f?.format)}')`);
  if (f.version !== MODEL_VERSION)
    throw new Error(
      `causalmix: model file version ${f.version} is not supported (this library reads ${MODEL_VERSION})`,
    );
  verifyChecksum(f, 'model file');
  // a file from before a setting existed ran the reference's choice for it
  const before = Object.fromEntries(
    Object.entries(REFERENCE_VALUES).filter(([k]) => !(k in (f.config ?? {}))),
  );
  const config = updateConfig({ ...getDefaultConfig(), ...before }, f.config);
  const fp = f.prepared;
  const prepared: PreparedData = {
    ...fp,
    ...(Object.fromEntries(F32_FIELDS.map((k) => [k, decodeF32(fp[k])])) as Record<
      (typeof F32_FIELDS)[number],
      Float32Array
    >),
    yMean: Float64Array.from(fp.yMean),
    rawTarget: Float64Array.from(fp.rawTarget),
    observed: Uint8Array.from(fp.observed),
  };
  const all = [{ weights: f.weights, training: f.training }, ...(only ? [] : (f.members ?? []))];
  const built: FittedMMM[] = [];
  try {
    all.forEach((m, k) =>
      built.push(memberFromFile(engine, f, { ...config, seed: config.seed + k }, prepared, m, k)),
    );
  } catch (e) {
    built.forEach((b) => b.dispose());
    throw e;
  }
  return built;
}

function memberFromFile(
  engine: Engine,
  f: ModelFile,
  config: MMMConfig,
  prepared: PreparedData,
  m: { weights: Record<string, string>; training: ModelFile['training'] },
  k: number,
): FittedMMM {
  const model = new DeepCausalMMM(engine, f.dims, config);
  const values = new Map<string, Float32Array | Float64Array>();
  for (const name of model.arena.names) {
    const w = m.weights?.[name];
    if (w === undefined) {
      model.dispose();
      const who = k === 0 ? '' : ` (ensemble member ${k})`;
      throw new Error(`causalmix: model file lacks weights for '${name}'${who}`);
    }
    values.set(name, f.weightsDtype === 'f64' ? decodeF64(w) : decodeF32(w));
  }
  model.arena.write(values);
  // the media centre is a function of the weights and the training data: taken again here
  if (config.mediaCentering) {
    const host = trainingBatch(prepared, config.validationWeeks, config.upstreamCompat);
    const batch = toDevice(engine, host, prepared.C, prepared.K, model.dims.path);
    model.freezeMediaCenter(batch);
    disposeBatch(batch);
  }
  return new FittedMMM(engine, model, prepared, config, { history: [], ...m.training });
}
