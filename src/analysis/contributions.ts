/**
 * Contribution tables from a model's decomposition (model-spec §6.8): per region-week media per
 * channel, controls, baseline and seasonality in original units, national weekly totals, totals
 * and shares, and a long CSV. The components add up to the unclamped prediction.
 *
 * Media effects also split into a direct and a DAG-mediated part. The model feeds its GRU the
 * blend x̃_j = (1 − m_j)·h_j + m_j·Σ_i A[i,j]·h_i of Hill outputs h, and channel j contributes
 * β_j·x̃_j, so β_j(1 − m_j)h_j is j's own (direct) effect and β_j·m_j·A[i,j]·h_i is the part of
 * j's contribution that comes through parent i (credited back to i). h is recomputed on the host
 * in float64 from the prepared share of voice and the learned parameters.
 */
import { DataError } from '../data/errors.js';
import type { PreparedData } from '../data/pipeline.js';
import type { MMMConfig } from '../model/config.js';
import type { Decomposition, FittedMMM } from '../model/fitted.js';
import { clamp, hill, hillPower, sigmoid, softplus } from '../maths/functions.js';
import {
  alphaFromRaw,
  halfSatFromRaw,
  MEDIA_CONSTRAINTS,
  slopeFromRaw,
} from '../maths/constraints.js';
import { inducedInputs, type MediaGraph } from './media-graph.js';
import { makeTable, rowsToCsv, type Table } from './table.js';

export interface ContributionNames {
  regions: string[];
  weeks: (number | string)[];
  channels: string[];
  controlNames: string[];
  /** [R, W] 1 where the region has that week; totals and the CSV count only those cells */
  observed?: ArrayLike<number>;
}

export interface ComponentShares {
  media: number;
  baseline: number;
  seasonal: number;
  control: number;
}

export interface NationalWeekly {
  /** [W, C] */
  media: Float64Array;
  /** [W, K] */
  controls: Float64Array;
  /** [W] */
  baseline: Float64Array;
  seasonal: Float64Array;
  predictionUnclamped: Float64Array;
}

export interface ContributionRow {
  region: string;
  week: number | string;
  component: string;
  value: number;
}

export interface Contributions {
  R: number;
  W: number;
  C: number;
  K: number;
  regions: string[];
  weeks: (number | string)[];
  channels: string[];
  controlNames: string[];
  /** [R, W, C], [R, W, K], [R, W] in original units (all cells, observed or not) */
  media: Float64Array;
  controls: Float64Array;
  baseline: Float64Array;
  seasonal: Float64Array;
  predictionUnclamped: Float64Array;
  /** [R, W] 1 where the cell counts in totals and the CSV */
  counted: Uint8Array;
  /** sums over regions of the counted cells, per week */
  national: NationalWeekly;
  totals: {
    /** per channel, in channel order */
    media: number[];
    controls: number[];
    baseline: number;
    seasonal: number;
    /** Σ of every component (= Σ unclamped prediction over the counted cells) */
    total: number;
  };
  /** each component group's total / the total of all components */
  shares: ComponentShares;
  /** long rows: region, week, component (media:<channel>, control:<name>, baseline, seasonal), value */
  toRows(): ContributionRow[];
  toCsv(): string;
}

/** Component names in the long format. */
export const mediaComponent = (channel: string) => `media:${channel}`;
export const controlComponent = (name: string) => `control:${name}`;

function checkLen(a: ArrayLike<number>, n: number, what: string, shape: string): void {
  if (a.length !== n)
    throw new DataError(`contributions: ${what} has ${a.length} values, expected ${shape} = ${n}`);
}

/** Builds the tables from a decomposition and its names. */
export function contributionTable(dec: Decomposition, names: ContributionNames): Contributions {
  const { R, W, C, K } = dec;
  if (names.regions.length !== R || names.weeks.length !== W)
    throw new DataError(
      `contributions: ${names.regions.length} regions × ${names.weeks.length} weeks given, ` +
        `the decomposition has ${R} × ${W}`,
    );
  if (names.channels.length !== C || names.controlNames.length !== K)
    throw new DataError(
      `contributions: ${names.channels.length} channels and ${names.controlNames.length} controls ` +
        `given, the decomposition has ${C} and ${K}`,
    );
  checkLen(dec.mediaContrib, R * W * C, 'mediaContrib', `R×W×C`);
  checkLen(dec.ctrlContrib, R * W * K, 'ctrlContrib', `R×W×K`);
  checkLen(dec.baseline, R * W, 'baseline', 'R×W');
  checkLen(dec.seasonal, R * W, 'seasonal', 'R×W');
  checkLen(dec.predictionUnclamped, R * W, 'predictionUnclamped', 'R×W');
  const counted = new Uint8Array(R * W).fill(1);
  if (names.observed) {
    checkLen(names.observed, R * W, 'observed', 'R×W');
    for (let i = 0; i < R * W; i++) counted[i] = names.observed[i] ? 1 : 0;
  }

  const national: NationalWeekly = {
    media: new Float64Array(W * C),
    controls: new Float64Array(W * K),
    baseline: new Float64Array(W),
    seasonal: new Float64Array(W),
    predictionUnclamped: new Float64Array(W),
  };
  for (let r = 0; r < R; r++)
    for (let w = 0; w < W; w++) {
      const cell = r * W + w;
      if (!counted[cell]) continue;
      for (let c = 0; c < C; c++) national.media[w * C + c] += dec.mediaContrib[cell * C + c];
      for (let k = 0; k < K; k++) national.controls[w * K + k] += dec.ctrlContrib[cell * K + k];
      national.baseline[w] += dec.baseline[cell];
      national.seasonal[w] += dec.seasonal[cell];
      national.predictionUnclamped[w] += dec.predictionUnclamped[cell];
    }
  const sumCol = (a: Float64Array, D: number, d: number) => {
    let s = 0;
    for (let w = 0; w < W; w++) s += a[w * D + d];
    return s;
  };
  const media = names.channels.map((_, c) => sumCol(national.media, C, c));
  const controls = names.controlNames.map((_, k) => sumCol(national.controls, K, k));
  const baseline = sumCol(national.baseline, 1, 0);
  const seasonal = sumCol(national.seasonal, 1, 0);
  const mediaSum = media.reduce((a, b) => a + b, 0);
  const ctrlSum = controls.reduce((a, b) => a + b, 0);
  const total = mediaSum + ctrlSum + baseline + seasonal;
  const share = (v: number) => (total !== 0 ? v / total : 0);

  const toRows = (): ContributionRow[] => {
    const rows: ContributionRow[] = [];
    for (let r = 0; r < R; r++)
      for (let w = 0; w < W; w++) {
        const cell = r * W + w;
        if (!counted[cell]) continue;
        const region = names.regions[r];
        const week = names.weeks[w];
        names.channels.forEach((ch, c) =>
          rows.push({
            region,
            week,
            component: mediaComponent(ch),
            value: dec.mediaContrib[cell * C + c],
          }),
        );
        names.controlNames.forEach((n, k) =>
          rows.push({
            region,
            week,
            component: controlComponent(n),
            value: dec.ctrlContrib[cell * K + k],
          }),
        );
        rows.push({ region, week, component: 'baseline', value: dec.baseline[cell] });
        rows.push({ region, week, component: 'seasonal', value: dec.seasonal[cell] });
      }
    return rows;
  };

  return {
    R,
    W,
    C,
    K,
    regions: [...names.regions],
    weeks: [...names.weeks],
    channels: [...names.channels],
    controlNames: [...names.controlNames],
    media: dec.mediaContrib,
    controls: dec.ctrlContrib,
    baseline: dec.baseline,
    seasonal: dec.seasonal,
    predictionUnclamped: dec.predictionUnclamped,
    counted,
    national,
    totals: { media, controls, baseline, seasonal, total },
    shares: {
      media: share(mediaSum),
      baseline: share(baseline),
      seasonal: share(seasonal),
      control: share(ctrlSum),
    },
    toRows,
    toCsv: () => rowsToCsv(toRows(), ['region', 'week', 'component', 'value']),
  };
}

/** The contribution tables of a fitted model over its data's weeks (observed cells counted). */
export async function modelContributions(
  fitted: FittedMMM,
  dec?: Decomposition,
): Promise<Contributions> {
  const p = fitted.prepared;
  return contributionTable(dec ?? (await fitted.decompose()), {
    regions: p.regions,
    weeks: p.weeks,
    channels: p.channels,
    controlNames: p.controlNames,
    observed: p.observed,
  });
}

/** National weekly totals as a wide table: week, one column per channel and control, … */
export function nationalWeeklyTable(t: Contributions): Table<Record<string, number | string>> {
  const { C, K } = t;
  const rows = t.weeks.map((week, w) => {
    const row: Record<string, number | string> = { week };
    t.channels.forEach((ch, c) => (row[mediaComponent(ch)] = t.national.media[w * C + c]));
    t.controlNames.forEach((n, k) => (row[controlComponent(n)] = t.national.controls[w * K + k]));
    row.baseline = t.national.baseline[w];
    row.seasonal = t.national.seasonal[w];
    row.predictionUnclamped = t.national.predictionUnclamped[w];
    return row;
  });
  return makeTable(rows, [
    'week',
    ...t.channels.map(mediaComponent),
    ...t.controlNames.map(controlComponent),
    'baseline',
    'seasonal',
    'predictionUnclamped',
  ]);
}

// ---- direct vs DAG-mediated media effects -------------------------------------------------------

/** The media transform's effective per-channel parameters (model-spec §4). */
export interface MediaParams {
  alpha: Float64Array;
  slope: Float64Array;
  halfSat: Float64Array;
  /** interaction mix m */
  mix: Float64Array;
  /** A[i][j], row = cause, column = effect */
  adjacency: number[][];
  /** reproduce the reference's power-form Hill (upstreamCompat) */
  upstreamCompat: boolean;
}

/** Effective media parameters from raw parameter values (as `model.arena.read()` returns them). */
export function mediaParamsFromRaw(
  raw: Map<string, ArrayLike<number>>,
  config: Pick<MMMConfig, 'dagTemperature' | 'dagMode' | 'upstreamCompat'> &
    Partial<Pick<MMMConfig, 'hillSlopeMin'>>,
  C: number,
): MediaParams {
  const get = (name: string, n: number) => {
    const v = raw.get(name);
    if (v === undefined || v.length !== n)
      throw new DataError(`media parameters: '${name}' missing or not of length ${n}`);
    return v;
  };
  const a = get('adstockRaw', C);
  const s = get('hillSlopeRaw', C);
  const g = get('hillHalfSatRaw', C);
  // dagMode 'media' has no graph inside the transform: no edges, mix 0
  const graphless = config.dagMode === 'media';
  const m = graphless ? new Float64Array(C).fill(-Infinity) : get('interactionRaw', C);
  const l = graphless ? new Float64Array(C * C).fill(-Infinity) : get('dagLogits', C * C);
  const notears = config.dagMode === 'notears';
  return {
    alpha: Float64Array.from({ length: C }, (_, c) => alphaFromRaw(a[c])),
    slope: Float64Array.from({ length: C }, (_, c) =>
      slopeFromRaw(s[c], config.hillSlopeMin ?? MEDIA_CONSTRAINTS.slopeMinReference),
    ),
    halfSat: Float64Array.from({ length: C }, (_, c) => halfSatFromRaw(g[c])),
    mix: Float64Array.from({ length: C }, (_, c) => sigmoid(m[c])),
    adjacency: Array.from({ length: C }, (_, i) =>
      Array.from({ length: C }, (_, j) =>
        (notears ? i !== j : i < j) ? sigmoid(l[i * C + j] / config.dagTemperature) : 0,
      ),
    ),
    upstreamCompat: config.upstreamCompat,
  };
}

/**
 * Adstock → Hill → DAG blend on the host, float64, over full sequences [R, T, C] (padding
 * included, as the model runs them). Returns the Hill outputs h and the blend x̃, both [R, T, C].
 */
export function hostMediaTransform(
  media: ArrayLike<number>,
  R: number,
  T: number,
  C: number,
  p: MediaParams,
): { hill: Float64Array; transformed: Float64Array } {
  checkLen(media, R * T * C, 'media', 'R×T×C');
  const hill = new Float64Array(R * T * C);
  const transformed = new Float64Array(R * T * C);
  const ads = new Float64Array(C);
  for (let r = 0; r < R; r++)
    for (let t = 0; t < T; t++) {
      const base = (r * T + t) * C;
      for (let c = 0; c < C; c++) {
        const x = media[base + c];
        ads[c] = t === 0 ? x : clamp(x + p.alpha[c] * ads[c], 0, MEDIA_CONSTRAINTS.adstockStateMax);
        hill[base + c] = hillOf(ads[c], p.slope[c], p.halfSat[c], p.upstreamCompat);
      }
      for (let j = 0; j < C; j++) {
        let parents = 0;
        for (let i = 0; i < C; i++) parents += p.adjacency[i][j] * hill[base + i];
        transformed[base + j] = (1 - p.mix[j]) * hill[base + j] + p.mix[j] * parents;
      }
    }
  return { hill, transformed };
}

function hillOf(a: number, slope: number, g: number, compat: boolean): number {
  return compat ? hillPower(a, slope, g) : hill(a, slope, g);
}

export interface MediaPathways {
  R: number;
  W: number;
  C: number;
  channels: string[];
  params: MediaParams;
  /** Hill outputs h over the W data weeks [R, W, C] */
  hill: Float64Array;
  /** host x̃ [R, W, C] */
  transformed: Float64Array;
  /** β·x̃ in original units recomputed on the host [R, W, C] (≈ the model's mediaContrib) */
  contribution: Float64Array;
  /** channel j's own effect β_j(1 − m_j)h_j, original units [R, W, C] */
  direct: Float64Array;
  /** the part of channel j's contribution that comes through its DAG parents [R, W, C] */
  mediated: Float64Array;
  /** what channel i is credited with through its children, Σ_j β_j m_j A[i,j] h_i [R, W, C] */
  creditedViaChildren: Float64Array;
  /** totals over the counted cells */
  totals: {
    direct: number[];
    mediated: number[];
    creditedViaChildren: number[];
    /** direct + creditedViaChildren: the channel's total effect, its own plus through others */
    totalEffect: number[];
    /** flow[i][j]: Σ of β_j m_j A[i,j] h_i, i's effect carried through j */
    flow: number[][];
  };
  toCsv(): string;
}

/**
 * Direct and DAG-mediated media effects of a fitted model over its data's weeks. `dec` supplies
 * the coefficients β (the model's output); totals count observed cells only.
 */
export async function mediaPathways(
  fitted: FittedMMM,
  dec?: Decomposition,
  opts: { counted?: ArrayLike<number> } = {},
): Promise<MediaPathways> {
  const d = dec ?? (await fitted.decompose());
  const p = fitted.prepared;
  const raw = await fitted.model.arena.read();
  const params = mediaParamsFromRaw(raw, fitted.config, p.C);
  const [psRaw] = raw.get('predictionScaleRaw') ?? [0];
  const graph = fitted.config.dagMode === 'media' ? fitted.mediaGraph() : undefined;
  return pathwaysFrom(p, d, params, softplus(psRaw), { graph, counted: opts.counted });
}

/**
 * Per cell [R·T] and edge, the share of the child's adstocked input that its cause put there:
 * adstock_j(induced_ij) / adstock_j(u_j) with the child's learned α (a proportional split of the
 * child's effect, as the truth of the recovery benchmark defines it); shares into one child are
 * scaled down when they sum past 1.
 */
function graphShares(
  p: Pick<PreparedData, 'R' | 'T' | 'B' | 'W' | 'C' | 'media' | 'wTrain'>,
  graph: MediaGraph,
  alpha: ArrayLike<number>,
): Map<string, Float64Array> {
  const { R, T, C } = p;
  const induced = inducedInputs({ ...p, observed: new Uint8Array(R * p.W).fill(1) }, graph);
  const shares = new Map<string, Float64Array>();
  for (const e of graph.edges) {
    const src = induced.get(`${e.from}>${e.to}`)!;
    const out = new Float64Array(R * T);
    const a = alpha[e.to];
    for (let r = 0; r < R; r++) {
      let num = 0;
      let den = 0;
      for (let t = 0; t < T; t++) {
        num = src[r * T + t] + a * num;
        den = p.media[(r * T + t) * C + e.to] + a * den;
        out[r * T + t] = den > 0 ? Math.min(Math.max(num / den, 0), 1) : 0;
      }
    }
    shares.set(`${e.from}>${e.to}`, out);
  }
  for (let j = 0; j < C; j++) {
    const into = graph.edges.filter((e) => e.to === j).map((e) => shares.get(`${e.from}>${j}`)!);
    if (into.length < 2) continue;
    for (let k = 0; k < R * T; k++) {
      const s = into.reduce((acc, a) => acc + a[k], 0);
      if (s > 1) into.forEach((a) => (a[k] /= s));
    }
  }
  return shares;
}

/** The pathway split from already-read parameters (pure; what mediaPathways runs). */
export function pathwaysFrom(
  p: Pick<
    PreparedData,
    'R' | 'T' | 'B' | 'W' | 'C' | 'media' | 'yMean' | 'channels' | 'observed' | 'wTrain'
  >,
  dec: Pick<Decomposition, 'mediaCoeffs'>,
  params: MediaParams,
  predictionScale: number,
  opts: { graph?: MediaGraph; counted?: ArrayLike<number> } = {},
): MediaPathways {
  const { R, T, B, W, C } = p;
  const counted = opts.counted ?? p.observed;
  const shares = opts.graph ? graphShares(p, opts.graph, params.alpha) : null;
  checkLen(dec.mediaCoeffs, R * W * C, 'mediaCoeffs', 'R×W×C');
  const full = hostMediaTransform(p.media, R, T, C, params);
  const n = R * W * C;
  const hill = new Float64Array(n);
  const transformed = new Float64Array(n);
  const contribution = new Float64Array(n);
  const direct = new Float64Array(n);
  const mediated = new Float64Array(n);
  const credited = new Float64Array(n);
  const flow = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  const A = params.adjacency;
  for (let r = 0; r < R; r++) {
    const k = predictionScale * p.yMean[r];
    for (let w = 0; w < W; w++) {
      const src = (r * T + B + w) * C;
      const dst = (r * W + w) * C;
      const counts = counted[r * W + w] === 1;
      for (let c = 0; c < C; c++) {
        hill[dst + c] = full.hill[src + c];
        transformed[dst + c] = full.transformed[src + c];
      }
      for (let j = 0; j < C; j++) {
        const beta = dec.mediaCoeffs[dst + j] * k;
        contribution[dst + j] = beta * transformed[dst + j];
        direct[dst + j] = beta * (1 - params.mix[j]) * hill[dst + j];
        for (let i = 0; i < C; i++) {
          const via = beta * params.mix[j] * A[i][j] * hill[dst + i];
          mediated[dst + j] += via;
          credited[dst + i] += via;
          if (counts) flow[i][j] += via;
        }
      }
      // the media graph: the part of child j's effect its causes put into its input
      for (const e of opts.graph?.edges ?? []) {
        const via = contribution[dst + e.to] * shares!.get(`${e.from}>${e.to}`)![r * T + B + w];
        direct[dst + e.to] -= via;
        mediated[dst + e.to] += via;
        credited[dst + e.from] += via;
        if (counts) flow[e.from][e.to] += via;
      }
    }
  }
  const total = (a: Float64Array) =>
    p.channels.map((_, c) => {
      let s = 0;
      for (let cell = 0; cell < R * W; cell++) if (counted[cell]) s += a[cell * C + c];
      return s;
    });
  const directT = total(direct);
  const mediatedT = total(mediated);
  const creditedT = total(credited);
  const rows = () =>
    p.channels.map((channel, c) => ({
      channel,
      direct: directT[c],
      mediated: mediatedT[c],
      creditedViaChildren: creditedT[c],
      totalEffect: directT[c] + creditedT[c],
    }));
  return {
    R,
    W,
    C,
    channels: [...p.channels],
    params,
    hill,
    transformed,
    contribution,
    direct,
    mediated,
    creditedViaChildren: credited,
    totals: {
      direct: directT,
      mediated: mediatedT,
      creditedViaChildren: creditedT,
      totalEffect: directT.map((v, c) => v + creditedT[c]),
      flow,
    },
    toCsv: () =>
      rowsToCsv(rows(), ['channel', 'direct', 'mediated', 'creditedViaChildren', 'totalEffect']),
  };
}
