/**
 * The true lift of a go-dark geo experiment on a recovery panel (issue 15), and the benchmark's
 * design of such an experiment.
 *
 * A test switches `channel` off in `regions` over the data weeks [from, testTo] and counts the KPI
 * over [from, testTo + postWeeks]: its lift is Σ (noise-free KPI with the channel as it ran −
 * noise-free KPI with the channel's own input at 0 in those regions and weeks, every other
 * channel's own input unchanged). Only the media effects differ between the two, so the lift is a
 * difference of recomputed true effects. As in src/recovery/budget-truth.ts, each channel's input
 * is split into its own part and the part a media→media edge induces (k × the geometric carry-over
 * of the parent's input); the induced part is recomputed from the parent's counterfactual input,
 * parents before children, so switching a parent off lowers its children's inputs too.
 */
import { DataError } from '../data/errors.js';
import { Rng } from '../engine/random.js';
import type { RecoveryPanel } from './generator.js';
import { carryLength, carryOver, carryWeights, saturate } from './process.js';

/** The generator's media→media edge carry-over. */
const EDGE_CARRY = { kind: 'geometric', alpha: 0.5, maxLag: 8 } as const;

export interface GoDarkTest {
  channel: string;
  regions: string[];
  /** first and last test week (data-week indices, inclusive) */
  from: number;
  testTo: number;
  /** weeks after `testTo` whose KPI the test also counts */
  postWeeks: number;
}

interface TrueProcess {
  R: number;
  W: number;
  C: number;
  /** [R, W, C] own input (intensity units, the edges' induced part removed) */
  own: Float64Array;
  parents: { child: number; parent: number; k: number }[];
  /** channels, parents before children */
  order: number[];
  weights: Float64Array[];
  edgeWeights: Float64Array;
}

const cache = new WeakMap<RecoveryPanel, TrueProcess>();

function processOf(rp: RecoveryPanel): TrueProcess {
  const hit = cache.get(rp);
  if (hit) return hit;
  const { panel, truth } = rp;
  const R = panel.regions.length;
  const W = panel.weeks.length;
  const C = panel.channels.length;
  const idx = new Map(panel.channels.map((c, i) => [c, i]));
  const parents = truth.edges.map((e) => ({
    child: idx.get(e.to)!,
    parent: idx.get(e.from)!,
    k: e.k,
  }));
  const depth = (c: number, seen = 0): number =>
    seen > C
      ? 0
      : Math.max(
          0,
          ...parents.filter((p) => p.child === c).map((p) => 1 + depth(p.parent, seen + 1)),
        );
  const order = Array.from({ length: C }, (_, c) => c).sort((a, b) => depth(a) - depth(b));
  const edgeWeights = carryWeights(EDGE_CARRY);
  // x = impressions / (size_r · unit_c); own = x − k·carry(parent's x)
  const x = new Float64Array(R * W * C);
  for (let r = 0; r < R; r++)
    for (let t = 0; t < W; t++)
      for (let c = 0; c < C; c++)
        x[(r * W + t) * C + c] =
          panel.media[(r * W + t) * C + c] / (truth.regionSize[r] * truth.channels[c].unit);
  const own = Float64Array.from(x);
  for (const e of parents)
    for (let r = 0; r < R; r++) {
      const px = Float64Array.from({ length: W }, (_, t) => x[(r * W + t) * C + e.parent]);
      const ind = carryOver(px, edgeWeights);
      for (let t = 0; t < W; t++) {
        const i = (r * W + t) * C + e.child;
        own[i] = Math.max(0, own[i] - e.k * ind[t]);
      }
    }
  const p: TrueProcess = {
    R,
    W,
    C,
    own,
    parents,
    order,
    weights: truth.channels.map((ch) => carryWeights(ch.carry)),
    edgeWeights,
  };
  cache.set(rp, p);
  return p;
}

/**
 * One region's true effects per channel over weeks [0, T), with channel `off`'s own input at 0
 * over the weeks [from, to] when given.
 */
function regionEffects(
  rp: RecoveryPanel,
  p: TrueProcess,
  r: number,
  T: number,
  off?: { c: number; from: number; to: number },
): Float64Array[] {
  const { W, C } = p;
  const xs: Float64Array[] = new Array(C);
  for (const c of p.order) {
    const x = new Float64Array(T);
    for (let t = 0; t < T; t++)
      x[t] = off && c === off.c && t >= off.from && t <= off.to ? 0 : p.own[(r * W + t) * C + c];
    for (const e of p.parents)
      if (e.child === c) {
        const ind = carryOver(xs[e.parent], p.edgeWeights);
        for (let t = 0; t < T; t++) x[t] += e.k * ind[t];
      }
    xs[c] = x;
  }
  const { truth } = rp;
  return xs.map((x, c) => {
    const ch = truth.channels[c];
    const out = new Float64Array(T);
    if (ch.coef === 0) return out;
    const carried = carryOver(x, p.weights[c]);
    for (let t = 0; t < T; t++)
      out[t] = ch.coef * truth.regionLevel[r] * saturate(ch.saturation, carried[t] / ch.kappa);
    return out;
  });
}

interface Resolved {
  c: number;
  regions: number[];
}

function resolve(rp: RecoveryPanel, t: GoDarkTest): Resolved {
  const { panel } = rp;
  const W = panel.weeks.length;
  const bad = (m: string): never => {
    throw new DataError(`go-dark test on '${t.channel}': ${m}`);
  };
  const c = panel.channels.indexOf(t.channel);
  if (c < 0) bad(`unknown channel (known: ${panel.channels.join(', ')})`);
  if (t.regions.length === 0) bad('no regions');
  const regions = t.regions.map((name) => {
    const r = panel.regions.indexOf(name);
    if (r < 0) bad(`unknown region '${name}'`);
    return r;
  });
  if (new Set(regions).size !== regions.length) bad('a region repeats');
  const int = (v: number) => Number.isInteger(v);
  if (!int(t.from) || !int(t.testTo) || !int(t.postWeeks)) bad('weeks must be integers');
  if (!(t.from >= 0 && t.from <= t.testTo)) bad(`weeks [${t.from}, ${t.testTo}] are not a range`);
  if (t.postWeeks < 0) bad(`postWeeks = ${t.postWeeks}`);
  if (t.testTo + t.postWeeks >= W)
    bad(`counted weeks end at ${t.testTo + t.postWeeks}, after the data's last week ${W - 1}`);
  return { c, regions };
}

/**
 * The true effects [R, W, C] (KPI units per region, week and channel) over the data weeks, with
 * `off`'s channel switched off in its regions over its test weeks when given. Without `off` they
 * equal the generator's `truth.effects`.
 */
export function trueEffects(rp: RecoveryPanel, off?: GoDarkTest): Float64Array {
  const p = processOf(rp);
  const { R, W, C } = p;
  const o = off ? resolve(rp, off) : undefined;
  const inTest = new Set(o?.regions ?? []);
  const out = new Float64Array(R * W * C);
  for (let r = 0; r < R; r++) {
    const eff = regionEffects(
      rp,
      p,
      r,
      W,
      o && off && inTest.has(r) ? { c: o.c, from: off.from, to: off.testTo } : undefined,
    );
    for (let c = 0; c < C; c++) for (let t = 0; t < W; t++) out[(r * W + t) * C + c] = eff[c][t];
  }
  return out;
}

/** True lift (KPI units) of switching `channel` off in `regions` over [from, testTo], counted over [from, testTo + postWeeks]. */
export function trueGoDarkLift(rp: RecoveryPanel, t: GoDarkTest): number {
  const { c, regions } = resolve(rp, t);
  const p = processOf(rp);
  const T = t.testTo + t.postWeeks + 1;
  let lift = 0;
  for (const r of regions) {
    const base = regionEffects(rp, p, r, T);
    const cf = regionEffects(rp, p, r, T, { c, from: t.from, to: t.testTo });
    for (let k = 0; k < p.C; k++) for (let w = t.from; w < T; w++) lift += base[k][w] - cf[k][w];
  }
  return lift;
}

/** Weeks of test, the benchmark's design. */
const TEST_WEEKS = 4;

function convolve(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length + b.length - 1);
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) out[i + j] += a[i] * b[j];
  return out;
}

/**
 * Weeks after the test for the carry-over to run out (99 % of the kernel's mass), through the
 * channel's own kernel and through its children's (edge carry-over then the child's kernel),
 * between 4 and 8.
 */
function postWeeksOf(p: TrueProcess, c: number): number {
  const reach = (k: number, kernel: Float64Array, seen: number): number => {
    let l = carryLength(convolve(kernel, p.weights[k])) - 1;
    if (seen <= p.C)
      for (const e of p.parents)
        if (e.parent === k)
          l = Math.max(l, reach(e.child, convolve(kernel, p.edgeWeights), seen + 1));
    return l;
  };
  return Math.min(8, Math.max(4, reach(c, Float64Array.of(1), 0)));
}

/**
 * The benchmark's design: a 4-week go-dark of `channel` in 10 % of the regions (at least one;
 * seeded choice among the regions that ran the channel in training), in training weeks where the
 * channel is on (the windows with the most region-weeks of own input > 0, all of them when there
 * are such; among those, a seeded draw from the quarter whose spend is nearest the median
 * window's), postWeeks = enough for the carry-over to run out (99 % of the kernel, through an
 * edge's children too; 4–8), all counted weeks inside the training weeks (rp.truth.wTrain);
 * measured lift = true lift + N(0, (0.2·true)²) with se = 0.2·|true| (0 for a channel with no
 * effect). Seeded by `seed` and the channel's name.
 */
export function designGoDarkTest(
  rp: RecoveryPanel,
  channel: string,
  seed: number,
): { test: GoDarkTest; trueLift: number; measuredLift: number; se: number } {
  const { panel, truth } = rp;
  const p = processOf(rp);
  const { R, W, C } = p;
  const c = panel.channels.indexOf(channel);
  if (c < 0)
    throw new DataError(
      `go-dark design: unknown channel '${channel}' (known: ${panel.channels.join(', ')})`,
    );
  // the channel's name mixed into the seed: one seed, independent draws per channel
  let h = 0x811c9dc5;
  for (const ch of channel) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  const rng = new Rng((seed ^ h) >>> 0);
  const wTrain = truth.wTrain;
  const postWeeks = postWeeksOf(p, c);
  const lastFrom = wTrain - TEST_WEEKS - postWeeks;
  if (lastFrom < 0)
    throw new DataError(
      `go-dark design: ${wTrain} training weeks are fewer than ${TEST_WEEKS} test + ${postWeeks} post weeks`,
    );
  const ownAt = (r: number, t: number) => p.own[(r * W + t) * C + c];

  // regions: a seeded order; the first 10 % (at least one) that ran the channel in training
  const n = Math.max(1, Math.round(0.1 * R));
  const shuffled = Array.from({ length: R }, (_, r) => r);
  for (let i = R - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const ran = (r: number) => {
    for (let t = 0; t <= lastFrom + TEST_WEEKS - 1; t++) if (ownAt(r, t) > 0) return true;
    return false;
  };
  const regions = shuffled
    .filter(ran)
    .slice(0, n)
    .sort((a, b) => a - b);
  if (regions.length === 0)
    throw new DataError(`go-dark design: '${channel}' never runs in the training weeks`);

  // weeks: the windows with the most region-weeks on (all, when there are such), then among them
  // those whose spend is nearest the median window's (a quarter of them), one drawn
  const windows = Array.from({ length: lastFrom + 1 }, (_, from) => {
    let on = 0;
    let spend = 0;
    for (const r of regions)
      for (let t = from; t < from + TEST_WEEKS; t++) {
        const v = ownAt(r, t);
        if (v > 0) on++;
        spend += v * truth.regionSize[r];
      }
    return { from, on, spend };
  }).filter((w) => w.spend > 0);
  const mostOn = Math.max(...windows.map((w) => w.on));
  const full = windows.filter((w) => w.on === mostOn);
  const spends = full.map((w) => w.spend).sort((a, b) => a - b);
  const mid = spends.length >> 1;
  const median = spends.length % 2 ? spends[mid] : 0.5 * (spends[mid - 1] + spends[mid]);
  const near = full
    .map((w) => ({ ...w, gap: Math.abs(Math.log(w.spend / median)) }))
    .sort((a, b) => a.gap - b.gap || a.from - b.from)
    .slice(0, Math.max(1, Math.ceil(full.length / 4)));
  const from = near[Math.floor(rng.uniform() * near.length)].from;

  const test: GoDarkTest = {
    channel,
    regions: regions.map((r) => panel.regions[r]),
    from,
    testTo: from + TEST_WEEKS - 1,
    postWeeks,
  };
  const trueLift = trueGoDarkLift(rp, test);
  const se = 0.2 * Math.abs(trueLift);
  return { test, trueLift, measuredLift: trueLift + se * rng.normal(), se };
}
