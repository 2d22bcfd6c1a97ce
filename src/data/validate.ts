/**
 * Panel checks (model-spec §1–2). Each failure is a DataError naming the array, region, week,
 * channel or control at fault; nothing is repaired. Only observed cells are inspected for values
 * (unobserved ones are not data). Split-dependent checks run when a holdout ratio is given.
 */
import { DataError } from './errors.js';
import type { Panel } from './panel.js';

export interface ValidateOptions {
  /** when given, also check what the temporal split needs */
  holdoutRatio?: number;
  /** fewest training weeks the shared axis must leave (default 40) */
  minTrainWeeks?: number;
}

export interface WeekSplit {
  wTrain: number;
  wHoldout: number;
}

/** Temporal split on the shared axis: the last floor(W · ratio) weeks are the holdout. */
export function splitWeeks(W: number, holdoutRatio: number): WeekSplit {
  if (!(holdoutRatio >= 0 && holdoutRatio < 1)) {
    throw new DataError(`holdoutRatio must be in [0, 1), got ${holdoutRatio}`);
  }
  const wHoldout = Math.floor(W * holdoutRatio);
  return { wTrain: W - wHoldout, wHoldout };
}

/** Throws a DataError on the first problem found; returns the split when one was asked for. */
export function validatePanel(panel: Panel, opts: ValidateOptions = {}): WeekSplit | null {
  const R = panel.regions.length;
  const W = panel.weeks.length;
  const C = panel.channels.length;
  const K = panel.controlNames.length;

  if (R === 0) throw new DataError('the panel has no regions');
  if (W === 0) throw new DataError('the panel has no weeks');
  if (C === 0) throw new DataError('the panel has no media channels');
  checkLength('target', panel.target, R * W, `R·W = ${R}·${W}`);
  checkLength('media', panel.media, R * W * C, `R·W·C = ${R}·${W}·${C}`);
  checkLength('controls', panel.controls, R * W * K, `R·W·K = ${R}·${W}·${K}`);
  checkLength('observed', panel.observed, R * W, `R·W = ${R}·${W}`);
  unique('region', panel.regions);
  unique('week', panel.weeks);
  unique('channel', panel.channels);
  unique('control', panel.controlNames);

  const at = (r: number, w: number) => `region '${panel.regions[r]}', week ${panel.weeks[w]}`;
  let anyObserved = false;
  for (let r = 0; r < R; r++) {
    for (let w = 0; w < W; w++) {
      const cell = r * W + w;
      if (!panel.observed[cell]) continue;
      anyObserved = true;
      const y = panel.target[cell];
      if (!Number.isFinite(y)) throw new DataError(`${at(r, w)}: target is ${y}`);
      for (let c = 0; c < C; c++) {
        const v = panel.media[cell * C + c];
        if (!Number.isFinite(v)) {
          throw new DataError(`${at(r, w)}: media '${panel.channels[c]}' is ${v}`);
        }
        if (v < 0) {
          throw new DataError(
            `${at(r, w)}: media '${panel.channels[c]}' is negative (${v}); media must be ≥ 0`,
          );
        }
      }
      for (let k = 0; k < K; k++) {
        const v = panel.controls[cell * K + k];
        if (!Number.isFinite(v)) {
          throw new DataError(`${at(r, w)}: control '${panel.controlNames[k]}' is ${v}`);
        }
      }
    }
  }
  if (!anyObserved) throw new DataError('the panel has no observed region-week (no target)');

  if (opts.holdoutRatio === undefined) return null;
  const split = splitWeeks(W, opts.holdoutRatio);
  const minTrain = opts.minTrainWeeks ?? 40;
  if (split.wTrain < minTrain) {
    throw new DataError(
      `only ${split.wTrain} training weeks (${W} weeks, holdout ${split.wHoldout} at ratio ` +
        `${opts.holdoutRatio}); at least minTrainWeeks = ${minTrain} are needed`,
    );
  }
  checkTraining(panel, split.wTrain);
  return split;
}

function checkTraining(panel: Panel, wTrain: number): void {
  const R = panel.regions.length;
  const W = panel.weeks.length;
  const K = panel.controlNames.length;
  const ctrlMin = new Float64Array(K).fill(Infinity);
  const ctrlMax = new Float64Array(K).fill(-Infinity);
  for (let r = 0; r < R; r++) {
    let n = 0;
    let sum = 0;
    for (let w = 0; w < wTrain; w++) {
      const cell = r * W + w;
      if (!panel.observed[cell]) continue;
      n++;
      sum += panel.target[cell];
      for (let k = 0; k < K; k++) {
        const v = panel.controls[cell * K + k];
        if (v < ctrlMin[k]) ctrlMin[k] = v;
        if (v > ctrlMax[k]) ctrlMax[k] = v;
      }
    }
    if (n === 0) {
      throw new DataError(
        `region '${panel.regions[r]}' has no observed training week (training weeks are ` +
          `${panel.weeks[0]}..${panel.weeks[wTrain - 1]})`,
      );
    }
    // ỹ = y / ȳ_r needs a positive training mean
    if (!(sum / n > 0)) {
      throw new DataError(
        `region '${panel.regions[r]}': the target's training mean is ${sum / n}; it must be > 0 ` +
          `(the target is scaled by it)`,
      );
    }
  }
  for (let k = 0; k < K; k++) {
    if (ctrlMax[k] === ctrlMin[k]) {
      throw new DataError(
        `control '${panel.controlNames[k]}' is constant (${ctrlMin[k]}) over the training weeks; ` +
          `it carries no information and cannot be scaled: drop it`,
      );
    }
  }
}

function checkLength(name: string, a: ArrayLike<number>, n: number, expr: string): void {
  if (a.length !== n) {
    throw new DataError(`${name} has ${a.length} values, expected ${expr} = ${n}`);
  }
}

function unique(what: string, xs: (string | number)[]): void {
  const seen = new Set<string | number>();
  for (const x of xs) {
    if (seen.has(x)) throw new DataError(`${what} '${x}' appears more than once`);
    seen.add(x);
  }
}
