/**
 * Deep ensembles (issue 14): K models of one configuration, member k seeded `seed + k`, so member 0
 * of a one-member ensemble is exactly the single model. With K ≥ 2 each member also trains on a
 * Bayesian bootstrap of the training data: every (region, block of weeks) gets a weight drawn from
 * Exp(1) in its loss, so the members' spread reflects how much the answers depend on which regions
 * and weeks were seen, not only on the initialisation (a spread from seeds alone is far narrower
 * than the error it should cover). Weighting the loss keeps every sequence whole, which resampling
 * rows would not (the GRU and adstock run over contiguous weeks; a region's baseline needs its
 * own rows). The members train one after another here.
 */
import type { PreparedData } from '../data/pipeline.js';
import type { Engine } from '../engine/engine.js';
import { Rng } from '../engine/random.js';
import type { MMMConfig } from './config.js';
import type { FittedMMM } from './fitted.js';
import { ModelTrainer, type FitOptions } from './trainer.js';

/** Weeks per bootstrap block: a quarter, long enough to keep a season's run of weeks together. */
export const BOOTSTRAP_BLOCK_WEEKS = 13;

export type MemberResampling = 'blocks' | 'none';

export interface EnsembleOptions extends Omit<
  FitOptions,
  'resume' | 'onCheckpoint' | 'lossWeights'
> {
  /** number of members K ≥ 1 */
  members: number;
  /** 'blocks' (default): Bayesian bootstrap weights per region × 13-week block; 'none': seeds only */
  resampling?: MemberResampling;
  /** called before member k (0-based) starts training */
  onMember?: (k: number, K: number) => void;
}

/**
 * Bayesian-bootstrap loss weights over the training sequence [R, B + wTrain]: one Exp(1) draw per
 * region and block of `blockWeeks` training weeks (the padding weeks share the first block),
 * scaled to mean 1 over the region-blocks. Deterministic in `seed`.
 */
export function bootstrapWeights(
  prepared: Pick<PreparedData, 'R' | 'B' | 'wTrain'>,
  seed: number,
  blockWeeks = BOOTSTRAP_BLOCK_WEEKS,
): Float32Array {
  const { R, B, wTrain } = prepared;
  const T = B + wTrain;
  const blocks = Math.max(1, Math.ceil(wTrain / blockWeeks));
  const rng = new Rng(seed);
  const draws = Array.from({ length: R * blocks }, () => -Math.log(1 - rng.uniform()));
  const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
  const out = new Float32Array(R * T);
  for (let r = 0; r < R; r++)
    for (let t = 0; t < T; t++) {
      const block = Math.min(blocks - 1, Math.floor(Math.max(0, t - B) / blockWeeks));
      out[r * T + t] = draws[r * blocks + block] / mean;
    }
  return out;
}

/** The seed of member k's bootstrap draw (apart from its model seed, so the two do not align). */
const resampleSeed = (seed: number, k: number) => (seed + 7919 * (k + 1)) >>> 0;

/** Trains the K members one after another; an abort keeps the members trained so far. */
export async function fitEnsemble(
  engine: Engine,
  config: MMMConfig,
  prepared: PreparedData,
  opts: EnsembleOptions,
): Promise<FittedMMM[]> {
  const { members: K, resampling = 'blocks', onMember, ...fitOpts } = opts;
  if (!Number.isInteger(K) || K < 1)
    throw new Error(`causalmix: members must be a whole number ≥ 1 (got ${K})`);
  const out: FittedMMM[] = [];
  for (let k = 0; k < K; k++) {
    if (fitOpts.signal?.aborted && out.length > 0) break;
    onMember?.(k, K);
    const cfg = { ...config, seed: config.seed + k };
    const lossWeights =
      K > 1 && resampling === 'blocks'
        ? bootstrapWeights(prepared, resampleSeed(config.seed, k))
        : undefined;
    const fitted = await new ModelTrainer(engine, cfg).fit(prepared, { ...fitOpts, lossWeights });
    out.push(fitted);
    if (fitted.training.cancelled) break;
  }
  return out;
}
