/**
 * Response curves from a fitted model (model-spec §10): per channel, national weekly input
 * (impressions summed over regions, or spend = impressions × cost per impression) against that
 * channel's predicted contribution summed over the same regions, over observed training weeks,
 * fitted with fitResponseCurves. Optionally one set of curves per region.
 *
 * The raw media is not part of the fitted model (it keeps share of voice only), so the caller
 * passes it: the panel's media [R, W, C] in the model's region and channel order.
 */
import { DataError } from '../data/errors.js';
import type { PreparedData } from '../data/pipeline.js';
import type { Decomposition } from '../model/fitted.js';
import {
  fitResponseCurves,
  type CurveUnit,
  type HillCurve,
  type ResponseCurveTable,
} from './response-curves.js';

export interface CurvePoints {
  channel: string;
  /** weekly input (impressions or spend) */
  x: Float64Array;
  /** weekly predicted contribution */
  y: Float64Array;
}

export interface ModelCurveOptions {
  /** cost per impression per channel; given, x is spend and the curves speak in spend */
  costPerImpression?: Record<string, number>;
  /** also fit one set of curves per region */
  perRegion?: boolean;
  bottom?: 'zero' | 'free';
  /** 'skip' (default here) records channels whose fit fails and goes on; 'throw' stops */
  onError?: 'throw' | 'skip';
}

export interface ModelResponseCurves {
  unit: CurveUnit;
  /** national curves */
  table: ResponseCurveTable;
  curves: HillCurve[];
  /** the points each national curve was fitted to */
  points: CurvePoints[];
  /** region name → that region's curves (perRegion only) */
  regions?: Record<string, { table: ResponseCurveTable; points: CurvePoints[] }>;
}

type CurveData = Pick<
  PreparedData,
  'R' | 'W' | 'C' | 'wTrain' | 'channels' | 'regions' | 'observed'
>;

/** Checks a cost map: one finite positive cost per model channel, no unknown names. */
export function checkCostPerImpression(
  costs: Record<string, unknown>,
  channels: readonly string[],
): Record<string, number> {
  if (typeof costs !== 'object' || costs === null || Array.isArray(costs))
    throw new DataError('cost per impression must be an object mapping channel name → cost');
  const unknown = Object.keys(costs).filter((k) => !channels.includes(k));
  if (unknown.length > 0)
    throw new DataError(
      `cost per impression names unknown channel(s) ${unknown.map((u) => `'${u}'`).join(', ')}; ` +
        `channels: ${channels.join(', ')}`,
    );
  const missing = channels.filter((c) => !(c in costs));
  if (missing.length > 0)
    throw new DataError(
      `cost per impression lacks channel(s) ${missing.map((m) => `'${m}'`).join(', ')}`,
    );
  const out: Record<string, number> = {};
  for (const ch of channels) {
    const v = costs[ch];
    if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0))
      throw new DataError(
        `cost per impression of channel '${ch}' must be a finite number > 0, got ${JSON.stringify(v)}`,
      );
    out[ch] = v;
  }
  return out;
}

/**
 * Weekly (x, y) points per channel over the observed training weeks of `regionsIn` (default all
 * regions): x = Σ_r media[r,w,c]·cost_c, y = Σ_r mediaContrib[r,w,c]. A week counts when at least
 * one of the regions is observed in it.
 */
export function curvePoints(
  p: CurveData,
  dec: Pick<Decomposition, 'mediaContrib'>,
  rawMedia: ArrayLike<number>,
  opts: { costPerImpression?: Record<string, number>; regionsIn?: number[] } = {},
): CurvePoints[] {
  const { R, W, C, wTrain } = p;
  if (rawMedia.length !== R * W * C)
    throw new DataError(
      `response curves: raw media has ${rawMedia.length} values, expected R×W×C = ${R}×${W}×${C}`,
    );
  if (dec.mediaContrib.length !== R * W * C)
    throw new DataError(
      `response curves: mediaContrib has ${dec.mediaContrib.length} values, expected ${R * W * C}`,
    );
  const costs = opts.costPerImpression
    ? checkCostPerImpression(opts.costPerImpression, p.channels)
    : null;
  const regions = opts.regionsIn ?? Array.from({ length: R }, (_, r) => r);
  const weeks: number[] = [];
  for (let w = 0; w < wTrain; w++) if (regions.some((r) => p.observed[r * W + w])) weeks.push(w);
  return p.channels.map((channel, c) => {
    const x = new Float64Array(weeks.length);
    const y = new Float64Array(weeks.length);
    const cost = costs ? costs[channel] : 1;
    weeks.forEach((w, n) => {
      for (const r of regions) {
        const cell = r * W + w;
        if (!p.observed[cell]) continue;
        x[n] += rawMedia[cell * C + c] * cost;
        y[n] += dec.mediaContrib[cell * C + c];
      }
    });
    return { channel, x, y };
  });
}

/** Fits national (and optionally per-region) response curves from a model's decomposition. */
export function modelResponseCurves(
  p: CurveData,
  dec: Pick<Decomposition, 'mediaContrib'>,
  rawMedia: ArrayLike<number>,
  opts: ModelCurveOptions = {},
): ModelResponseCurves {
  const unit: CurveUnit = opts.costPerImpression ? 'spend' : 'impressions';
  const fitOpts = { unit, bottom: opts.bottom, onError: opts.onError ?? 'skip' } as const;
  const points = curvePoints(p, dec, rawMedia, { costPerImpression: opts.costPerImpression });
  const table = fitResponseCurves(points, fitOpts);
  const out: ModelResponseCurves = {
    unit,
    table,
    curves: table.rows.map((r) => table.curves[r.channel]),
    points,
  };
  if (opts.perRegion) {
    out.regions = {};
    p.regions.forEach((region, r) => {
      const pts = curvePoints(p, dec, rawMedia, {
        costPerImpression: opts.costPerImpression,
        regionsIn: [r],
      });
      out.regions![region] = { table: fitResponseCurves(pts, fitOpts), points: pts };
    });
  }
  return out;
}
