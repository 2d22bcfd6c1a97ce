/**
 * Where training starts for absolute media (mediaScaling 'regionMean'). The reference's start —
 * every coefficient at half its maximum of sp(1) + 0.1 — was made for shares of voice, whose Hill
 * outputs are small and sum to about one share; absolute inputs give each channel a Hill output
 * near ½, so 13 channels started the media at ~4.5 times the mean KPI (a loss of 27 on
 * MMM_Data.csv that the warm start could not undo). Here the media head's last bias is set so that
 * media start at START_MEDIA_SHARE of the mean scaled KPI, spread evenly over the channels, and
 * the region baselines start at the rest.
 */
import { hostMediaTransform } from '../analysis/contributions.js';
import type { PreparedData } from '../data/pipeline.js';
import { inverseSoftplus, logit } from '../maths/functions.js';
import {
  alphaFromRaw,
  coefficientMax,
  halfSatFromRaw,
  slopeFromRaw,
} from '../maths/constraints.js';

export const START_MEDIA_SHARE = 0.2;
/** The parameters' initial raw values (model-spec §4). */
const ADSTOCK_RAW = 0.8;
const SLOPE_RAW = 2.5;
const MAX_RAW = 1.0;

export function mediaStartInit(
  p: PreparedData,
  halfSatRaw: ArrayLike<number>,
  slopeMin: number,
  /** each region's start level (the path's fit); default its mean scaled KPI */
  level?: ArrayLike<number>,
  /** media centring: the level holds the media's mean, so it starts at the region's whole level */
  centered = false,
): { mediaHeadBias: Float64Array; baselineRaw: Float64Array } {
  const { R, T, B, W, C, wTrain } = p;
  const params = {
    alpha: new Float64Array(C).fill(alphaFromRaw(ADSTOCK_RAW)),
    slope: new Float64Array(C).fill(slopeFromRaw(SLOPE_RAW, slopeMin)),
    halfSat: Float64Array.from(halfSatRaw, halfSatFromRaw),
    mix: new Float64Array(C),
    adjacency: Array.from({ length: C }, () => new Array<number>(C).fill(0)),
    upstreamCompat: false,
  };
  const { hill } = hostMediaTransform(p.media, R, T, C, params);
  const mean = new Float64Array(C);
  let n = 0;
  for (let r = 0; r < R; r++)
    for (let w = 0; w < wTrain; w++) {
      if (!p.observed[r * W + w]) continue;
      n++;
      for (let c = 0; c < C; c++) mean[c] += hill[(r * T + B + w) * C + c];
    }
  const max = coefficientMax(MAX_RAW);
  const mediaHeadBias = Float64Array.from(mean, (m) => {
    const h = n > 0 ? m / n : 0;
    // σ(bias)·max·h̄ = START_MEDIA_SHARE / C; a channel without input keeps σ = ½
    const q = h > 0 ? START_MEDIA_SHARE / (C * max * h) : 0.5;
    return logit(Math.min(Math.max(q, 0.005), 0.5));
  });
  const baselineRaw = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let s = 0;
    let k = 0;
    for (let w = 0; w < wTrain; w++) {
      if (!p.observed[r * W + w]) continue;
      s += p.target[r * T + B + w];
      k++;
    }
    const start = level ? level[r] : k > 0 ? s / k : 1;
    baselineRaw[r] = inverseSoftplus(Math.max(start - (centered ? 0 : START_MEDIA_SHARE), 0.1));
  }
  return { mediaHeadBias, baselineRaw };
}
