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
import { choleskySolve } from '../data/init.js';
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

/** Start values of the path's parameters and the level it starts from, per region. */
export interface PathStart {
  trendNational: Float64Array;
  trendRegional: Float64Array;
  seasonNational: Float64Array;
  seasonRegional: Float64Array;
  /** ỹ at the first training week without the path's seasonality: the region's start level */
  level: Float64Array;
}

/** Ridge weights of the start fit: level changes are kept small, harmonics barely. */
export const START_RIDGE = { trend: 10, season: 1 };

/**
 * Where the path starts: per region, a ridge fit of the scaled KPI on [1, ramps, harmonics] over
 * the observed training weeks; national = the mean over regions, regional = the difference. The
 * KPI's own trend and seasonality are thereby in place before the media are learned, so swings
 * that media and demand share start as demand: the media must earn them from the data (a channel
 * bought into the season gets the season only where the data tell the two apart).
 */
export function pathStart(
  p: {
    R: number;
    T: number;
    B: number;
    W: number;
    wTrain: number;
    target: ArrayLike<number>;
    observed: ArrayLike<number>;
  },
  layout: PathLayout,
  ridge: { trend: number; season: number } = START_RIDGE,
): PathStart {
  const { R, T, B, W, wTrain } = p;
  const { M, F } = pathRows(layout);
  const P = 1 + M + F;
  const S = pathBasis(layout, T);
  const coef: Float64Array[] = Array.from({ length: R }, () => new Float64Array(P));
  for (let r = 0; r < R; r++) {
    const A = new Float64Array(P * P);
    const b = new Float64Array(P);
    for (let w = 0; w < wTrain; w++) {
      if (!p.observed[r * W + w]) continue;
      const t = B + w;
      const x = [1, ...Array.from({ length: M + F }, (_, k) => S[k * T + t])];
      const y = p.target[r * T + t];
      for (let i = 0; i < P; i++) {
        b[i] += x[i] * y;
        for (let j = 0; j < P; j++) A[i * P + j] += x[i] * x[j];
      }
    }
    for (let k = 0; k < M + F; k++) A[(1 + k) * P + 1 + k] += k < M ? ridge.trend : ridge.season;
    A[0] += 1e-6;
    try {
      coef[r] = choleskySolve(A, b, P);
    } catch {
      coef[r][0] = 1; // a region without training weeks: flat at the scaled mean
    }
  }
  const mean = (k: number) => coef.reduce((s, c) => s + c[k], 0) / R;
  const nat = Float64Array.from({ length: M + F }, (_, k) => mean(1 + k));
  const reg = (from: number, n: number) => {
    const out = new Float64Array(R * n);
    for (let r = 0; r < R; r++)
      for (let k = 0; k < n; k++) out[r * n + k] = coef[r][1 + from + k] - nat[from + k];
    return out;
  };
  return {
    trendNational: nat.slice(0, M),
    trendRegional: reg(0, M),
    seasonNational: nat.slice(M),
    seasonRegional: reg(M, F),
    level: Float64Array.from(coef, (c) => c[0]),
  };
}
