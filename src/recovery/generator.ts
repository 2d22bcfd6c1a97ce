/**
 * Panels with a known causal process for the recovery benchmark. The truth is defined on absolute
 * media (impressions in each channel's own unit), with carry-over and saturation shapes that are
 * not the model's (src/recovery/process.ts), per-region media intensity that differs from region
 * size, and KPI units per region (weekly level Y_r):
 *
 *   y[r,t] = Y_r·(1 − m)·(1 + amp_r·s(t))·trend(t) + Σ_k ctrl + Σ_c effect[r,t,c] + noise
 *   effect[r,t,c] = coef_c · Y_r · sat_c(carry_c(x[r,·,c])[t] / κ_c)
 *
 * x is a channel's input per unit of region size ("intensity"); impressions = x · size_r · unit_c.
 * A media→media edge adds k·(geometric carry-over of the parent's x) to the child's x, so part of
 * the child's impressions, and of its effect, are caused by the parent. Coefficients are solved so
 * that direct effects split as the channels' weights say and media is `mediaShare` of the
 * noise-free KPI over the observed training weeks.
 */
import { correlation } from '../analysis/metrics.js';
import { DataError } from '../data/errors.js';
import type { Panel } from '../data/panel.js';
import { splitWeeks } from '../data/validate.js';
import { Rng } from '../engine/random.js';
import { carryOver, carryWeights, saturate, type CarryOver, type Saturation } from './process.js';

/** How a channel's input moves over time. */
export type InputPattern =
  /** on/off bursts, nationally planned; each region skips some bursts and varies intensity */
  | 'flighted'
  /** every week, log-normal AR(1) around its level (coefficient of variation ≈ 0.4) */
  | 'alwaysOn'
  /** follows demand: 1 + 0.8 × the seasonal swing + noise (a confounded channel) */
  | 'demand'
  /** shares a national driver with another channel (input correlation ≥ 0.9), no causal link */
  | { correlatedWith: string };

export interface ChannelPlan {
  name: string;
  pattern: InputPattern;
  /** relative size of the direct effect (0: no effect at all) */
  weight: number;
  /** a media→media edge: the parent's carried-over input adds k × its level to this channel */
  parent?: { channel: string; k: number };
}

export interface RecoveryPanelOptions {
  seed: number;
  regions: number;
  weeks: number;
  channels: ChannelPlan[];
  /** number of controls (0–2: price index, promo) */
  controls: number;
  /** media share of the noise-free KPI over the observed training weeks */
  mediaShare: number;
  /** noise sd relative to the region level Y_r */
  noise: number;
  /** relative change of the non-media baseline from the first to the last week (e.g. ±0.2) */
  trend?: number;
  /** a permanent change of the non-media baseline from week `at` (fraction of the weeks) on */
  levelShift?: { at: number; size: number };
  /** the split used to count training weeks (the pipeline's default 0.12) */
  holdoutRatio?: number;
  /** ISO date of the first week (weeks are then Mondays); default week numbers */
  startDate?: string;
  /** deal the effect weights out to the channels in a seeded order (plain scenarios) */
  shuffleWeights?: boolean;
  /** carry-over kinds, cycled by channel (default geometric, delayed, Weibull) */
  carryKinds?: CarryOver['kind'][];
}

export interface ChannelTruth {
  name: string;
  carry: CarryOver;
  saturation: Saturation;
  coef: number;
  /** money per impression */
  costPerImpression: number;
  /** impressions per unit of x and region size */
  unit: number;
  /** the carried-over x that counts as 1 in the saturation: effect = coef·Y_r·sat(carry(x)/kappa) */
  kappa: number;
}

/** The known process and what it implies, over the observed training region-weeks. */
export interface RecoveryTruth {
  channels: ChannelTruth[];
  /** KPI level Y_r and size (impressions = x · size_r · unit_c) per region */
  regionLevel: Float64Array;
  regionSize: Float64Array;
  wTrain: number;
  /** each channel's effect through its own input (its effect minus what its parents caused) */
  direct: number[];
  /** effect caused through other channels' inputs (credited to the cause) */
  mediated: number[];
  /** direct + mediated: what switching the channel off would remove (to first order) */
  total: number[];
  /** total / Σ total (Σ total = Σ of all media effects) */
  shareOfMedia: number[];
  /** total / spend over the training weeks */
  roas: number[];
  spend: number[];
  /** Σ media effects / Σ noise-free KPI */
  mediaShare: number;
  /** true media→media edges (parent → child) */
  edges: { from: string; to: string; k: number }[];
  /** pairs built to be correlated without a causal link, with their input correlation */
  correlatedPairs: { a: string; b: string; correlation: number }[];
  /** channels whose input follows demand */
  demandChannels: string[];
  /** the per-cell effects [R, W, C] and the noise-free KPI [R, W] */
  effects: Float64Array;
  signal: Float64Array;
}

export interface RecoveryPanel {
  panel: Panel;
  truth: RecoveryTruth;
  costPerImpression: Record<string, number>;
}

const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng.uniform();
const intIn = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
const PERIOD = 52;

/** Bursts: on 3–10 weeks at a level near 1, off 2–8 weeks (national calendar). */
function burstCalendar(rng: Rng, W: number): { start: number; len: number }[] {
  const bursts: { start: number; len: number }[] = [];
  let w = intIn(rng, 0, 4);
  while (w < W) {
    const len = intIn(rng, 3, 10);
    bursts.push({ start: w, len });
    w += len + intIn(rng, 2, 8);
  }
  return bursts;
}

/** A log-normal AR(1) series with mean ≈ 1 (φ = 0.7, log-sd σ). */
function lognormalAr(rng: Rng, W: number, sigma: number): Float64Array {
  const out = new Float64Array(W);
  let z = rng.normal();
  for (let t = 0; t < W; t++) {
    z = 0.7 * z + Math.sqrt(1 - 0.49) * rng.normal();
    out[t] = Math.exp(sigma * z - 0.5 * sigma * sigma);
  }
  return out;
}

/** A random carry-over kernel and saturation, cycling the kinds by channel index. */
function channelProcess(
  rng: Rng,
  c: number,
  kinds: readonly CarryOver['kind'][] = ['geometric', 'delayed', 'weibull'],
): { carry: CarryOver; saturation: Saturation } {
  const maxLag = 8;
  const kind = kinds[c % kinds.length];
  const carry: CarryOver =
    kind === 'geometric'
      ? { kind, alpha: uniform(rng, 0.2, 0.7), maxLag }
      : kind === 'delayed'
        ? { kind, alpha: uniform(rng, 0.3, 0.6), delay: intIn(rng, 1, 2), maxLag }
        : { kind, shape: uniform(rng, 1.5, 3), scale: uniform(rng, 1.5, 3.5), maxLag };
  const saturation: Saturation = {
    kind: c % 2 === 0 ? 'exponential' : 'logistic',
    lambda: uniform(rng, 0.7, 1.6),
  };
  return { carry, saturation };
}

function checkOptions(o: RecoveryPanelOptions): void {
  const bad = (m: string) => {
    throw new DataError(`recovery panel: ${m}`);
  };
  if (!Number.isInteger(o.regions) || o.regions < 1) bad(`regions = ${o.regions}`);
  if (!Number.isInteger(o.weeks) || o.weeks < 46) bad(`weeks = ${o.weeks} (at least 46)`);
  if (!(o.mediaShare > 0 && o.mediaShare < 0.9)) bad(`mediaShare = ${o.mediaShare}`);
  if (!(o.controls >= 0 && o.controls <= 2)) bad(`controls = ${o.controls} (0–2)`);
  const names = new Set(o.channels.map((c) => c.name));
  if (names.size !== o.channels.length) bad('channel names repeat');
  for (const ch of o.channels) {
    if (ch.parent && !names.has(ch.parent.channel)) bad(`unknown parent '${ch.parent.channel}'`);
    if (typeof ch.pattern === 'object' && !names.has(ch.pattern.correlatedWith))
      bad(`unknown correlated channel '${ch.pattern.correlatedWith}'`);
  }
  if (!o.channels.some((c) => c.weight > 0)) bad('no channel has an effect');
}

export function generateRecoveryPanel(o: RecoveryPanelOptions): RecoveryPanel {
  checkOptions(o);
  const rng = new Rng(o.seed);
  const R = o.regions;
  const W = o.weeks;
  const C = o.channels.length;
  const K = o.controls;
  const { wTrain } = splitWeeks(W, o.holdoutRatio ?? 0.12);
  const idx = new Map(o.channels.map((c, i) => [c.name, i]));

  // regions: KPI level, size (for impressions) and a yearly swing shared in shape
  const level = Float64Array.from({ length: R }, () => 1e4 * Math.exp(0.6 * rng.normal()));
  const size = level.map((y) => (y / 1e4) * Math.exp(0.2 * rng.normal()));
  const amp = Float64Array.from({ length: R }, () => uniform(rng, 0.08, 0.15));
  const phase = [uniform(rng, 0, 2 * Math.PI), uniform(rng, 0, 2 * Math.PI)];
  const swing = Float64Array.from(
    { length: W },
    (_, t) =>
      Math.sin((2 * Math.PI * t) / PERIOD + phase[0]) +
      0.4 * Math.cos((4 * Math.PI * t) / PERIOD + phase[1]),
  );
  const maxSwing = Math.max(...swing.map(Math.abs));
  swing.forEach((v, t) => (swing[t] = v / maxSwing));

  // inputs x[r, t, c] in units of the channel's typical level
  const x = new Float64Array(R * W * C);
  const at = (r: number, t: number, c: number) => (r * W + t) * C + c;
  const drivers = new Map<string, Float64Array>();
  const intensities = new Map<string, Float64Array>();
  const procs = o.channels.map((_, c) => channelProcess(rng, c, o.carryKinds));
  const order = [...o.channels].sort((a, b) => Number(!!a.parent) - Number(!!b.parent));
  for (const ch of order) {
    const c = idx.get(ch.name)!;
    const p = ch.pattern;
    // a correlated pair is bought together: one regional intensity for both
    const key = typeof p === 'object' ? [ch.name, p.correlatedWith].sort().join('|') : ch.name;
    if (!intensities.has(key))
      intensities.set(
        key,
        Float64Array.from({ length: R }, () => Math.exp(0.25 * rng.normal())),
      );
    const intensity = intensities.get(key)!;
    if (p === 'flighted') {
      const bursts = burstCalendar(rng, W);
      for (let r = 0; r < R; r++)
        for (const b of bursts) {
          if (R > 1 && rng.uniform() < 0.2) continue; // this region skips the burst
          const lv = intensity[r] * Math.exp(0.3 * rng.normal());
          for (let t = b.start; t < Math.min(W, b.start + b.len); t++)
            x[at(r, t, c)] = lv * Math.exp(0.1 * rng.normal());
        }
    } else if (p === 'alwaysOn') {
      const national = lognormalAr(rng, W, 0.3);
      for (let r = 0; r < R; r++) {
        const local = lognormalAr(rng, W, 0.25);
        for (let t = 0; t < W; t++) x[at(r, t, c)] = intensity[r] * national[t] * local[t];
      }
    } else if (p === 'demand') {
      for (let r = 0; r < R; r++)
        for (let t = 0; t < W; t++)
          x[at(r, t, c)] = intensity[r] * Math.max(0.05, 1 + 0.8 * swing[t] + 0.15 * rng.normal());
    } else {
      // a national driver shared with the partner; small own noise keeps the pair distinct
      if (!drivers.has(key)) drivers.set(key, lognormalAr(rng, W, 0.5));
      const d = drivers.get(key)!;
      for (let r = 0; r < R; r++)
        for (let t = 0; t < W; t++)
          x[at(r, t, c)] = intensity[r] * d[t] * Math.exp(0.08 * rng.normal());
    }
  }
  // the correlated pairs' partners defined as plain channels read their driver too
  for (const ch of o.channels) {
    if (typeof ch.pattern !== 'object') continue;
    const partner = o.channels[idx.get(ch.pattern.correlatedWith)!];
    if (typeof partner.pattern === 'object') continue;
    throw new DataError(
      `recovery panel: '${ch.name}' is correlated with '${partner.name}', which must be declared ` +
        `{ correlatedWith: '${ch.name}' } too`,
    );
  }

  // media→media edges: induced[r, t, c] = k · geometric carry-over (α 0.5) of the parent's x
  const induced = new Float64Array(R * W * C);
  const edgeCarry = carryWeights({ kind: 'geometric', alpha: 0.5, maxLag: 8 });
  for (const ch of o.channels) {
    if (!ch.parent) continue;
    const c = idx.get(ch.name)!;
    const pc = idx.get(ch.parent.channel)!;
    for (let r = 0; r < R; r++) {
      const px = Float64Array.from({ length: W }, (_, t) => x[at(r, t, pc)]);
      const carried = carryOver(px, edgeCarry);
      for (let t = 0; t < W; t++) {
        induced[at(r, t, c)] = ch.parent.k * carried[t];
        x[at(r, t, c)] += induced[at(r, t, c)];
      }
    }
  }

  // carried-over inputs and their split between own and induced parts
  const carried = new Float64Array(R * W * C);
  const inducedFrac = new Float64Array(R * W * C);
  const kappa = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const wts = carryWeights(procs[c].carry);
    let sum = 0;
    let n = 0;
    for (let r = 0; r < R; r++) {
      const xs = Float64Array.from({ length: W }, (_, t) => x[at(r, t, c)]);
      const is = Float64Array.from({ length: W }, (_, t) => induced[at(r, t, c)]);
      const cx = carryOver(xs, wts);
      const ci = carryOver(is, wts);
      for (let t = 0; t < W; t++) {
        carried[at(r, t, c)] = cx[t];
        inducedFrac[at(r, t, c)] = cx[t] > 0 ? ci[t] / cx[t] : 0;
        if (cx[t] > 0) {
          sum += cx[t];
          n++;
        }
      }
    }
    kappa[c] = n > 0 ? sum / n : 1;
  }

  // unit effects (coefficient 1) per cell, in KPI units
  const unitEffect = new Float64Array(R * W * C);
  for (let r = 0; r < R; r++)
    for (let t = 0; t < W; t++)
      for (let c = 0; c < C; c++)
        unitEffect[at(r, t, c)] =
          level[r] * saturate(procs[c].saturation, carried[at(r, t, c)] / kappa[c]);

  // non-media part: baseline × swing × trend and level shift, plus controls
  const base = new Float64Array(R * W);
  const trendAt = (t: number) =>
    (1 + (o.trend ?? 0) * (t / (W - 1) - 0.5)) *
    (o.levelShift && t >= Math.round(o.levelShift.at * W) ? 1 + o.levelShift.size : 1);
  const controlNames = ['price_index', 'promo'].slice(0, K);
  const controls = new Float64Array(R * W * K);
  const ctrlEffect = new Float64Array(R * W);
  const m = o.mediaShare;
  for (let r = 0; r < R; r++) {
    let price = 0;
    for (let t = 0; t < W; t++) {
      const cell = r * W + t;
      const nonMedia = level[r] * (1 - m);
      base[cell] = nonMedia * (1 + amp[r] * swing[t]) * trendAt(t);
      price = 0.8 * price + 0.6 * rng.normal();
      const promo = rng.uniform() < 0.12 ? 1 : 0;
      const vals = [100 + 3 * price, promo];
      const effects = [-0.012 * (vals[0] - 100), 0.06 * promo];
      for (let k = 0; k < K; k++) {
        controls[cell * K + k] = vals[k];
        ctrlEffect[cell] += nonMedia * effects[k];
      }
    }
  }

  // coefficients: direct effects ∝ weights, media = m of the noise-free KPI on training weeks
  const unitTotals = new Float64Array(C);
  let nonMediaTotal = 0;
  for (let r = 0; r < R; r++)
    for (let t = 0; t < wTrain; t++) {
      nonMediaTotal += base[r * W + t] + ctrlEffect[r * W + t];
      for (let c = 0; c < C; c++) unitTotals[c] += unitEffect[at(r, t, c)];
    }
  const mediaTotal = (m / (1 - m)) * nonMediaTotal;
  const weights = o.channels.map((ch) => ch.weight);
  if (o.shuffleWeights)
    for (let i = C - 1; i > 0; i--) {
      const j = intIn(rng, 0, i);
      [weights[i], weights[j]] = [weights[j], weights[i]];
    }
  const wsum = weights.reduce((s, w) => s + w, 0);
  const coef = weights.map((w, c) => (w > 0 ? (mediaTotal * w) / wsum / unitTotals[c] : 0));

  const effects = new Float64Array(R * W * C);
  const signal = new Float64Array(R * W);
  const target = new Float64Array(R * W);
  const media = new Float64Array(R * W * C);
  const units = o.channels.map(() => Math.pow(10, uniform(rng, 2, 5)));
  const cpi = o.channels.map(() => Math.exp(uniform(rng, Math.log(0.002), Math.log(0.05))));
  for (let r = 0; r < R; r++)
    for (let t = 0; t < W; t++) {
      const cell = r * W + t;
      let s = base[cell] + ctrlEffect[cell];
      for (let c = 0; c < C; c++) {
        effects[at(r, t, c)] = coef[c] * unitEffect[at(r, t, c)];
        s += effects[at(r, t, c)];
        media[at(r, t, c)] = x[at(r, t, c)] * size[r] * units[c];
      }
      signal[cell] = s;
      target[cell] = Math.max(0, s + o.noise * level[r] * rng.normal());
    }

  // truth over the training weeks: direct, mediated (credited to the parent), total, ROAS
  const direct = new Array<number>(C).fill(0);
  const mediated = new Array<number>(C).fill(0);
  const spend = new Array<number>(C).fill(0);
  let effectSum = 0;
  let signalSum = 0;
  for (let r = 0; r < R; r++)
    for (let t = 0; t < wTrain; t++) {
      signalSum += signal[r * W + t];
      for (let c = 0; c < C; c++) {
        const e = effects[at(r, t, c)];
        const f = inducedFrac[at(r, t, c)];
        effectSum += e;
        direct[c] += e * (1 - f);
        const parent = o.channels[c].parent;
        if (parent) mediated[idx.get(parent.channel)!] += e * f;
        spend[c] += media[at(r, t, c)] * cpi[c];
      }
    }
  const total = direct.map((d, c) => d + mediated[c]);
  const totalSum = total.reduce((a, b) => a + b, 0);

  const flat = (c: number) => Float64Array.from({ length: R * W }, (_, i) => x[i * C + c]);
  const pairs: RecoveryTruth['correlatedPairs'] = [];
  for (const ch of o.channels) {
    if (typeof ch.pattern !== 'object' || ch.name > ch.pattern.correlatedWith) continue;
    const other = ch.pattern.correlatedWith;
    const corr = correlation(flat(idx.get(ch.name)!), flat(idx.get(other)!));
    pairs.push({ a: ch.name, b: other, correlation: corr });
  }

  const weeks: (number | string)[] = o.startDate
    ? mondays(o.startDate, W)
    : Array.from({ length: W }, (_, w) => w);
  const panel: Panel = {
    regions: Array.from({ length: R }, (_, r) => `region_${String(r + 1).padStart(3, '0')}`),
    weeks,
    channels: o.channels.map((c) => c.name),
    controlNames,
    media,
    controls,
    target,
    observed: new Uint8Array(R * W).fill(1),
  };
  return {
    panel,
    costPerImpression: Object.fromEntries(o.channels.map((ch, c) => [ch.name, cpi[c]])),
    truth: {
      channels: o.channels.map((ch, c) => ({
        name: ch.name,
        carry: procs[c].carry,
        saturation: procs[c].saturation,
        coef: coef[c],
        costPerImpression: cpi[c],
        unit: units[c],
        kappa: kappa[c],
      })),
      regionLevel: level,
      regionSize: size,
      wTrain,
      direct,
      mediated,
      total,
      shareOfMedia: total.map((v) => v / totalSum),
      roas: total.map((v, c) => (spend[c] > 0 ? v / spend[c] : NaN)),
      spend,
      mediaShare: effectSum / signalSum,
      edges: o.channels
        .filter((ch) => ch.parent)
        .map((ch) => ({ from: ch.parent!.channel, to: ch.name, k: ch.parent!.k })),
      correlatedPairs: pairs,
      demandChannels: o.channels.filter((ch) => ch.pattern === 'demand').map((ch) => ch.name),
      effects,
      signal,
    },
  };
}

function mondays(iso: string, W: number): string[] {
  const t = Date.parse(`${iso}T00:00:00Z`);
  if (Number.isNaN(t)) throw new DataError(`recovery panel: startDate '${iso}' is not a date`);
  const day = 86400000;
  const monday = t - ((new Date(t).getUTCDay() + 6) % 7) * day;
  return Array.from({ length: W }, (_, w) =>
    new Date(monday + 7 * w * day).toISOString().slice(0, 10),
  );
}
