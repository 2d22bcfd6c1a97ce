/**
 * A synthetic region × week panel with a known generating process, to check that a fitted model
 * recovers contributions. Everything is additive, in original units:
 *
 *   y[r,w] = baseline_r + seasonal[r,w] + Σ_k control[r,w,k] + Σ_c media[r,w,c] + noise[r,w]
 *   media[r,w,c] = coef_c · Y_r · Hill(adstock(s[r,·,c]))
 *
 * Y_r is the region's typical weekly level (log-normal, ~1e3..1e5 visits), s the share of voice
 * computed exactly as the model computes it (model-spec §2), adstock the model's recursion
 * a_t = s_t + α·a_{t−1} and Hill σ(slope·(ln a − ln g)) (§6) — so the media effect is something
 * the model can represent, and per-channel shares of contribution are recoverable. Baseline,
 * seasonality and control effects scale with the non-media level (1 − mediaShare)·Y_r, which
 * keeps y > 0 for any mediaShare ≤ 0.9. Coefficients are solved so that media is exactly
 * `mediaShare` of the noise-free target summed over observed cells, with clearly different
 * channel shares (log-spaced from 40 % down to 5 % before normalising, in a seeded order).
 */
import { DataError } from './errors.js';
import type { Panel } from './panel.js';
import { Rng } from '../engine/random.js';

export interface SyntheticPanelOptions {
  regions?: number;
  weeks?: number;
  channels?: number;
  controls?: number;
  seed?: number;
  /** noise sd relative to the region level Y_r (default 0.05) */
  noise?: number;
  /** media contribution as a fraction of the noise-free target, pooled (default 0.4) */
  mediaShare?: number;
  /** this many regions lose a leading or trailing block of weeks (observed = 0 there) */
  raggedRegions?: number;
  /** ISO date; weeks become the Monday dates from this date's week on (default: 0..W−1) */
  startDate?: string;
  /**
   * Channels that run every week (default search and social); the others run in bursts. A steady
   * channel's effect is nearly constant, which no MMM can tell apart from the baseline: pass []
   * when the panel must make every channel's effect identifiable (ground-truth recovery tests).
   */
  alwaysOn?: string[];
  /**
   * 'national' (default): a flighted channel is on in the same weeks in every region; 'regional':
   * each region has its own calendar (regional media plans), so the cross-section separates a
   * channel's effect from what happens nationally in those weeks (seasonality, other channels).
   */
  flighting?: 'national' | 'regional';
}

/** The generating process. Arrays are flat row-major; unobserved cells hold 0. */
export interface SyntheticTruth {
  /** typical weekly level Y_r of each region [R] */
  regionLevel: Float64Array;
  /** share of voice per region-week as the model computes it [R, W, C] */
  shareOfVoice: Float64Array;
  /** geometric adstock α per channel, in [0.1, 0.7] */
  adstock: number[];
  /** Hill slope per channel, in [2, 3.5] (the model's slope is clamped to [2, 5], model-spec §4) */
  slope: number[];
  /** Hill half-saturation per channel, on the adstocked share-of-voice scale */
  halfSat: number[];
  /** media coefficient per channel: effect = coef · Y_r · Hill(adstock(s)) */
  coef: number[];
  /** media contributions [R, W, C] */
  contributions: Float64Array;
  /** Σ over regions and weeks of each channel's contribution */
  channelTotals: number[];
  /** channelTotals / Σ channelTotals (sums to 1) */
  channelShares: number[];
  /** effect per raw control unit: contribution = controlCoef_k · base_r · (x − controlCenter_k) */
  controlCoef: number[];
  controlCenter: number[];
  /** control contributions [R, W, K] */
  controlContributions: Float64Array;
  /** constant weekly baseline per region [R] (counts on observed weeks only) */
  baseline: Float64Array;
  /** yearly seasonal component [R, W] */
  seasonal: Float64Array;
  /** the noise draws [R, W]; y − noise is exactly the sum of the components */
  noise: Float64Array;
  /** noise sd per region [R] */
  noiseSd: Float64Array;
  /** realised media fraction of Σ(y − noise) over observed cells (= the mediaShare option) */
  mediaShare: number;
}

const CHANNEL_NAMES = ['tv', 'search', 'social', 'display', 'radio', 'video', 'print', 'ooh'];
/** Channels with a steady presence; the others run in bursts (flighting). */
const ALWAYS_ON = new Set(['search', 'social']);
const CONTROL_NAMES = ['price_index', 'temperature', 'promo'];
/** Effect per raw unit (× base_r) around a centre: price −2 % per index point, +0.4 % per °C, promo +8 %. */
const KNOWN_CONTROL_EFFECTS: Record<string, { coef: number; center: number }> = {
  price_index: { coef: -0.02, center: 100 },
  temperature: { coef: 0.004, center: 12 },
  promo: { coef: 0.08, center: 0 },
};
const PERIOD = 52;

const pad2 = (i: number) => String(i).padStart(2, '0');
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng.uniform();
const intIn = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min)
    throw new DataError(`synthetic panel: ${name} = ${v} must be an integer ≥ ${min}`);
}

/** Monday on or before `iso`, then one ISO date per week. */
function mondayWeeks(iso: string, W: number): string[] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  const t = m ? Date.UTC(+m[1], +m[2] - 1, +m[3]) : NaN;
  if (!m || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== iso)
    throw new DataError(`synthetic panel: startDate '${iso}' is not a valid YYYY-MM-DD date`);
  const day = 86400000;
  const monday = t - ((new Date(t).getUTCDay() + 6) % 7) * day;
  return Array.from({ length: W }, (_, w) =>
    new Date(monday + 7 * w * day).toISOString().slice(0, 10),
  );
}

/**
 * On/off bursts: on for 3–10 weeks, off for 2–8. The middle third always has an on-week, so the
 * channel runs in every region however the ragged blocks (at most W/3 at either end) fall.
 */
function flightCalendar(rng: Rng, W: number): Float64Array {
  const cal = new Float64Array(W);
  let on = rng.uniform() < 0.5;
  for (let w = 0; w < W;) {
    const len = on ? intIn(rng, 3, 10) : intIn(rng, 2, 8);
    const level = Math.exp(0.2 * rng.normal());
    for (let k = 0; k < len && w < W; k++, w++) cal[w] = on ? level : 0;
    on = !on;
  }
  const third = Math.floor(W / 3);
  if (!cal.subarray(third, W - third).some((x) => x > 0)) cal[Math.floor(W / 2)] = 1;
  return cal;
}

/** Fractions log-spaced from 0.40 to 0.05, normalised, in a seeded order. */
function targetShares(rng: Rng, C: number): number[] {
  if (C === 1) return [1];
  const raw = Array.from({ length: C }, (_, i) => 0.4 * Math.pow(0.05 / 0.4, i / (C - 1)));
  const sum = raw.reduce((s, x) => s + x, 0);
  const shares = raw.map((x) => x / sum);
  for (let i = C - 1; i > 0; i--) {
    const j = intIn(rng, 0, i);
    [shares[i], shares[j]] = [shares[j], shares[i]];
  }
  return shares;
}

/** The panel's shape and which region-weeks exist: what every step below works over. */
interface Grid {
  R: number;
  W: number;
  C: number;
  K: number;
  /** [R, W], 1 where the region has the week */
  observed: Uint8Array;
}

const isObserved = (g: Grid, r: number, w: number) => g.observed[r * g.W + w] === 1;

/** The options with their defaults, checked; the names of regions, weeks, channels and controls. */
function syntheticSpec(opts: SyntheticPanelOptions) {
  const R = opts.regions ?? 20;
  const W = opts.weeks ?? 104;
  const C = opts.channels ?? 5;
  const K = opts.controls ?? 3;
  const seed = opts.seed ?? 42;
  const noise = opts.noise ?? 0.05;
  const m = opts.mediaShare ?? 0.4;
  const nRagged = opts.raggedRegions ?? 0;
  checkInt('regions', R, 1);
  checkInt('weeks', W, 2);
  checkInt('channels', C, 1);
  checkInt('controls', K, 0);
  checkInt('raggedRegions', nRagged, 0);
  if (!Number.isFinite(seed)) throw new DataError(`synthetic panel: seed = ${seed} is not finite`);
  if (!(noise >= 0 && noise <= 1))
    throw new DataError(`synthetic panel: noise = ${noise} must lie in [0, 1]`);
  if (!(m > 0 && m <= 0.9))
    throw new DataError(`synthetic panel: mediaShare = ${m} must lie in (0, 0.9]`);
  if (nRagged > R)
    throw new DataError(`synthetic panel: raggedRegions = ${nRagged} exceeds regions = ${R}`);
  if (nRagged > 0 && W < 6)
    throw new DataError(`synthetic panel: raggedRegions needs weeks ≥ 6 (got ${W})`);
  const weeks: (number | string)[] =
    opts.startDate !== undefined
      ? mondayWeeks(opts.startDate, W)
      : Array.from({ length: W }, (_, w) => w);
  const flighting = opts.flighting ?? 'national';
  if (flighting !== 'national' && flighting !== 'regional')
    throw new DataError(
      `synthetic panel: flighting must be 'national' or 'regional', got '${String(flighting)}'`,
    );
  return {
    R,
    W,
    C,
    K,
    seed,
    noise,
    m,
    nRagged,
    weeks,
    flighting,
    regions: Array.from({ length: R }, (_, r) => `region_${pad2(r + 1)}`),
    channels: Array.from({ length: C }, (_, c) => CHANNEL_NAMES[c] ?? `channel_${pad2(c + 1)}`),
    alwaysOn: new Set(opts.alwaysOn ?? ALWAYS_ON),
    controlNames: Array.from({ length: K }, (_, k) => CONTROL_NAMES[k] ?? `control_${pad2(k + 1)}`),
  };
}
type SyntheticSpec = ReturnType<typeof syntheticSpec>;

/**
 * Every random draw happens in the steps below, called in a fixed order from one Rng: the same
 * seed gives the same panel only while that order (and each step's order inside) is kept.
 */
export function generateSyntheticPanel(opts: SyntheticPanelOptions = {}): {
  panel: Panel;
  truth: SyntheticTruth;
} {
  const spec = syntheticSpec(opts);
  const { R, W, C, K, m, regions, weeks, channels, controlNames } = spec;
  const rng = new Rng(spec.seed);

  const level = regionLevels(rng, R);
  const grid: Grid = { R, W, C, K, observed: raggedObserved(rng, R, W, spec.nRagged) };
  const media = mediaImpressions(rng, spec, grid, level);
  const share = shareOfVoice(grid, media);
  const adstock = channels.map(() => uniform(rng, 0.1, 0.7));
  const slope = channels.map(() => uniform(rng, 2, 3.5));
  const ad = adstockedShares(grid, share, adstock);
  const halfSat = halfSaturations(rng, grid, share, ad);
  const hill = hillOfAdstock(grid, ad, slope, halfSat);

  // Non-media part, relative to base_r = (1 − m)·Y_r: baseline, yearly seasonality, controls.
  const base = Float64Array.from(level, (y) => (1 - m) * y);
  const baseline = Float64Array.from(base);
  const seasonal = seasonalComponent(rng, grid, base);
  const ctl = controlSeries(rng, grid, controlNames);
  const { controlContributions, nonMedia } = nonMediaParts(grid, base, baseline, seasonal, ctl);

  const med = mediaContributions(rng, grid, level, hill, (m / (1 - m)) * nonMedia);
  const mediaSum = med.channelTotals.reduce((s, x) => s + x, 0);
  const noisy = noisyTarget(rng, grid, level, spec.noise, {
    baseline,
    seasonal,
    controlContributions,
    contributions: med.contributions,
  });

  return {
    panel: {
      regions,
      weeks,
      channels,
      controlNames,
      media,
      controls: ctl.controls,
      target: noisy.target,
      observed: grid.observed,
    },
    truth: {
      regionLevel: level,
      shareOfVoice: share,
      adstock,
      slope,
      halfSat,
      coef: med.coef,
      contributions: med.contributions,
      channelTotals: med.channelTotals,
      channelShares: med.channelTotals.map((t) => t / mediaSum),
      controlCoef: ctl.controlCoef,
      controlCenter: ctl.controlCenter,
      controlContributions,
      baseline,
      seasonal,
      noise: noisy.noise,
      noiseSd: noisy.noiseSd,
      mediaShare: mediaSum / (mediaSum + nonMedia),
    },
  };
}

/** Region sizes Y_r: log-normal around 1e4, clipped to [1e3, 1e5]. */
function regionLevels(rng: Rng, R: number): Float64Array {
  const level = new Float64Array(R);
  for (let r = 0; r < R; r++)
    level[r] = Math.min(1e5, Math.max(1e3, Math.exp(Math.log(1e4) + 0.9 * rng.normal())));
  return level;
}

/** Which weeks each region has: `nRagged` random regions lose a leading or trailing block. */
function raggedObserved(rng: Rng, R: number, W: number, nRagged: number): Uint8Array {
  const observed = new Uint8Array(R * W).fill(1);
  const order = Array.from({ length: R }, (_, r) => r);
  for (let i = 0; i < nRagged; i++) {
    const j = intIn(rng, i, R - 1);
    [order[i], order[j]] = [order[j], order[i]];
    const r = order[i];
    const len = intIn(rng, Math.max(1, Math.floor(W / 8)), Math.floor(W / 3));
    const leading = rng.uniform() < 0.5;
    for (let k = 0; k < len; k++) observed[r * W + (leading ? k : W - 1 - k)] = 0;
  }
  return observed;
}

/** Media impressions: region size × reach × channel trend × flighting × regional mix × noise. */
function mediaImpressions(
  rng: Rng,
  spec: SyntheticSpec,
  g: Grid,
  level: Float64Array,
): Float64Array {
  const { R, W, C } = g;
  const media = new Float64Array(R * W * C);
  for (let c = 0; c < C; c++) {
    const reach = Math.exp(uniform(rng, Math.log(2), Math.log(20)));
    const trend = uniform(rng, -0.25, 0.25);
    const steady = spec.alwaysOn.has(spec.channels[c]);
    const national = steady ? new Float64Array(W).fill(1) : flightCalendar(rng, W);
    for (let r = 0; r < R; r++) {
      const cal = !steady && spec.flighting === 'regional' ? flightCalendar(rng, W) : national;
      const mix = Math.exp(0.4 * rng.normal());
      for (let w = 0; w < W; w++) {
        const x = level[r] * reach * mix * Math.exp((trend * w) / PERIOD + 0.2 * rng.normal());
        if (isObserved(g, r, w)) media[(r * W + w) * C + c] = x * cal[w];
      }
    }
  }
  return media;
}

/** Share of voice exactly as the model computes it (model-spec §2). */
function shareOfVoice(g: Grid, media: Float64Array): Float64Array {
  const { R, W, C } = g;
  const share = new Float64Array(R * W * C);
  for (let i = 0; i < R * W; i++) {
    if (!g.observed[i]) continue;
    let tot = 0;
    for (let c = 0; c < C; c++) tot += media[i * C + c];
    for (let c = 0; c < C; c++)
      share[i * C + c] = tot <= 1e-8 ? 1 / C : media[i * C + c] / (tot + 1e-8);
  }
  return share;
}

/** The model's adstock recursion a_t = s_t + α·a_{t−1} over each region's observed span. */
function adstockedShares(g: Grid, share: Float64Array, adstock: number[]): Float64Array {
  const { R, W, C } = g;
  const ad = new Float64Array(R * W * C);
  for (let r = 0; r < R; r++)
    for (let c = 0; c < C; c++) {
      let prev = 0;
      for (let w = 0; w < W; w++) {
        const i = (r * W + w) * C + c;
        // Blocks are leading/trailing, so the span is contiguous; a region's adstock starts at
        // its first observed week (the model instead runs through neutral equal-share weeks).
        if (!isObserved(g, r, w)) continue;
        ad[i] = share[i] + adstock[c] * prev;
        prev = ad[i];
      }
    }
  return ad;
}

/** Half-saturation around the channel's typical adstocked share (its median where present). */
function halfSaturations(rng: Rng, g: Grid, share: Float64Array, ad: Float64Array): number[] {
  const { R, W, C } = g;
  return Array.from({ length: C }, (_, c) => {
    const v: number[] = [];
    for (let i = 0; i < R * W; i++)
      if (g.observed[i] && share[i * C + c] > 1e-4) v.push(ad[i * C + c]);
    v.sort((a, b) => a - b);
    const med = v.length ? v[Math.floor(v.length / 2)] : 1 / C;
    return Math.min(1, Math.max(0.01, uniform(rng, 0.7, 1.3) * med));
  });
}

/** The model's Hill σ(slope·(ln a − ln g)) of the adstocked share; 0 where a = 0. */
function hillOfAdstock(
  g: Grid,
  ad: Float64Array,
  slope: number[],
  halfSat: number[],
): Float64Array {
  const C = g.C;
  const hill = new Float64Array(ad.length);
  for (let i = 0; i < ad.length; i++) {
    const c = i % C;
    hill[i] = ad[i] > 0 ? sigmoid(slope[c] * (Math.log(ad[i]) - Math.log(halfSat[c]))) : 0;
  }
  return hill;
}

/** Yearly seasonality: two harmonics with shared phases, each region's own amplitude and shift. */
function seasonalComponent(rng: Rng, g: Grid, base: Float64Array): Float64Array {
  const { R, W } = g;
  const seasonal = new Float64Array(R * W);
  const phase1 = uniform(rng, 0, 2 * Math.PI);
  const phase2 = uniform(rng, 0, 2 * Math.PI);
  for (let r = 0; r < R; r++) {
    const amp = 0.12 * uniform(rng, 0.7, 1.3);
    const jitter = 0.15 * rng.normal();
    for (let w = 0; w < W; w++) {
      const t = (2 * Math.PI * w) / PERIOD + jitter;
      const pattern = Math.sin(t + phase1) + 0.4 * Math.sin(2 * t + phase2);
      if (isObserved(g, r, w)) seasonal[r * W + w] = base[r] * amp * pattern;
    }
  }
  return seasonal;
}

interface ControlSeries {
  /** raw control values [R, W, K] */
  controls: Float64Array;
  controlCoef: number[];
  controlCenter: number[];
}

/** Raw control series (known names get their own process) and each one's effect per unit. */
function controlSeries(rng: Rng, g: Grid, controlNames: string[]): ControlSeries {
  const { R, W, K } = g;
  const controls = new Float64Array(R * W * K);
  const controlCoef: number[] = [];
  const controlCenter: number[] = [];
  for (let k = 0; k < K; k++) {
    const name = controlNames[k];
    for (let r = 0; r < R; r++) {
      const offset = rng.normal();
      let ar = 0;
      for (let w = 0; w < W; w++) {
        let x: number;
        if (name === 'price_index') {
          ar = 0.85 * ar + 0.012 * rng.normal();
          x = 100 * (1 + 0.02 * offset) * (1 + ar);
        } else if (name === 'temperature') {
          x = 12 + 3 * offset + 9 * Math.sin((2 * Math.PI * (w - 16)) / PERIOD) + 2 * rng.normal();
        } else if (name === 'promo') {
          x = rng.uniform() < 0.1 ? 1 : 0;
        } else {
          ar = 0.8 * ar + 0.6 * rng.normal();
          x = ar + 0.3 * offset;
        }
        if (isObserved(g, r, w)) controls[(r * W + w) * K + k] = x;
      }
    }
    const known = KNOWN_CONTROL_EFFECTS[name];
    const sign = rng.uniform() < 0.5 ? -1 : 1;
    controlCoef.push(known ? known.coef : sign * uniform(rng, 0.01, 0.04));
    controlCenter.push(known ? known.center : 0);
  }
  return { controls, controlCoef, controlCenter };
}

/** Control contributions [R, W, K] and the non-media total over observed cells (no draws). */
function nonMediaParts(
  g: Grid,
  base: Float64Array,
  baseline: Float64Array,
  seasonal: Float64Array,
  ctl: ControlSeries,
): { controlContributions: Float64Array; nonMedia: number } {
  const { R, W, K } = g;
  const controlContributions = new Float64Array(R * W * K);
  let nonMedia = 0;
  for (let r = 0; r < R; r++)
    for (let w = 0; w < W; w++) {
      const i = r * W + w;
      if (!isObserved(g, r, w)) continue;
      nonMedia += baseline[r] + seasonal[i];
      for (let k = 0; k < K; k++) {
        const v = ctl.controlCoef[k] * base[r] * (ctl.controls[i * K + k] - ctl.controlCenter[k]);
        controlContributions[i * K + k] = v;
        nonMedia += v;
      }
    }
  return { controlContributions, nonMedia };
}

/** Media coefficients solved so total media is `mediaTotal`, split by the target shares. */
function mediaContributions(
  rng: Rng,
  g: Grid,
  level: Float64Array,
  hill: Float64Array,
  mediaTotal: number,
): { coef: number[]; contributions: Float64Array; channelTotals: number[] } {
  const { R, W, C } = g;
  const shares = targetShares(rng, C);
  const coef = Array.from({ length: C }, (_, c) => {
    let s = 0;
    for (let i = 0; i < R * W; i++) s += level[Math.floor(i / W)] * hill[i * C + c];
    return (shares[c] * mediaTotal) / s;
  });
  const contributions = new Float64Array(R * W * C);
  const channelTotals = new Array<number>(C).fill(0);
  for (let i = 0; i < R * W * C; i++) {
    const c = i % C;
    contributions[i] = coef[c] * level[Math.floor(i / (W * C))] * hill[i];
    channelTotals[c] += contributions[i];
  }
  return { coef, contributions, channelTotals };
}

/** Target: the components plus Gaussian noise, redrawn where it would push y near or below 0. */
function noisyTarget(
  rng: Rng,
  g: Grid,
  level: Float64Array,
  noise: number,
  parts: {
    baseline: Float64Array;
    seasonal: Float64Array;
    controlContributions: Float64Array;
    contributions: Float64Array;
  },
): { target: Float64Array; noise: Float64Array; noiseSd: Float64Array } {
  const { R, W, C, K } = g;
  const target = new Float64Array(R * W);
  const noiseDraws = new Float64Array(R * W);
  const noiseSd = Float64Array.from(level, (y) => noise * y);
  for (let r = 0; r < R; r++)
    for (let w = 0; w < W; w++) {
      const i = r * W + w;
      if (!isObserved(g, r, w)) continue;
      let det = parts.baseline[r] + parts.seasonal[i];
      for (let k = 0; k < K; k++) det += parts.controlContributions[i * K + k];
      for (let c = 0; c < C; c++) det += parts.contributions[i * C + c];
      let e = 0;
      for (let tries = 0; tries < 50; tries++) {
        const d = noiseSd[r] * rng.normal();
        if (Math.abs(d) <= 3 * noiseSd[r] && det + d > 0.05 * det) {
          e = d;
          break;
        }
      }
      noiseDraws[i] = e;
      target[i] = det + e;
    }
  return { target, noise: noiseDraws, noiseSd };
}
