/**
 * The learned baseline path (causalmix defaults; the reference has a constant baseline per region
 * and a seasonal curve fixed from a decomposition of the KPI): a piecewise-linear trend and yearly
 * Fourier seasonality per region, added to the prediction in scaled units (the model output's
 * offset),
 *
 *   path[r, t] = Σ_m (δN_m + δR_{r,m}) · S_m(t) + Σ_k (φN_k + φR_{r,k}) · F_k(t)
 *
 * S_m is the ramp from knot m − 1 to knot m (0 before, 1 after), knots every `trendKnotWeeks`
 * training weeks, so δ_m is the level change over segment m, national plus regional: the trend is
 * 0 up to the first training week and holds its last level after the last one, so a forecast
 * continues the level the data ended on. F_k are sin/cos(2π·j·w/52.18) for j = 1..fourierOrder at
 * data week w. L1 penalties on the level changes keep the trend flat unless the data ask for a
 * change. The reference's seasonal curve, estimated from the raw KPI, also soaks up whatever media
 * ran in the same weeks of the one or two years it sees; a smooth curve fitted jointly with media
 * does not (docs/defaults.md).
 */
import type { MMMConfig } from './config.js';

/** Weeks per year. */
export const YEAR_WEEKS = 365.25 / 7;

/** The path's layout, kept in the model's dims (and its file). */
export interface PathLayout {
  /** knot positions in the padded sequence (none: no trend) */
  knots: number[];
  /** yearly harmonics (0: no Fourier seasonality) */
  fourier: number;
  /** padding weeks B (data week w sits at position B + w) */
  B: number;
}

/** Positions (in the padded sequence) of the knots over the training weeks B .. B + wTrain − 1. */
export function trendKnots(B: number, wTrain: number, knotWeeks: number): number[] {
  const segments = Math.max(1, Math.round((wTrain - 1) / knotWeeks));
  return Array.from({ length: segments + 1 }, (_, m) =>
    Math.round(B + (m * (wTrain - 1)) / segments),
  );
}

/** Rows of the basis: M = knots − 1 ramps, then 2·fourier harmonics. */
export function pathRows(l: PathLayout): { M: number; F: number } {
  return { M: Math.max(l.knots.length - 1, 0), F: 2 * l.fourier };
}

/** The basis [M + 2F, T] over a sequence of T positions. */
export function pathBasis(l: PathLayout, T: number): Float32Array {
  const { M, F } = pathRows(l);
  const S = new Float32Array((M + F) * T);
  for (let m = 0; m < M; m++) {
    const a = l.knots[m];
    const b = l.knots[m + 1];
    for (let t = 0; t < T; t++) S[m * T + t] = t <= a ? 0 : t >= b ? 1 : (t - a) / (b - a);
  }
  for (let j = 1; j <= l.fourier; j++) {
    const row = M + 2 * (j - 1);
    for (let t = 0; t < T; t++) {
      const phase = (2 * Math.PI * j * (t - l.B)) / YEAR_WEEKS;
      S[row * T + t] = Math.sin(phase);
      S[(row + 1) * T + t] = Math.cos(phase);
    }
  }
  return S;
}

/** The path layout of a prepared panel, or undefined when the configuration has none. */
export function pathLayoutFor(
  config: Pick<MMMConfig, 'trend' | 'trendKnotWeeks' | 'seasonality' | 'fourierOrder'>,
  B: number,
  wTrain: number,
): PathLayout | undefined {
  if (config.trend !== 'local' && config.seasonality !== 'fourier') return undefined;
  return {
    knots: config.trend === 'local' ? trendKnots(B, wTrain, config.trendKnotWeeks) : [],
    fourier: config.seasonality === 'fourier' ? config.fourierOrder : 0,
    B,
  };
}
