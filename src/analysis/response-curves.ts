/**
 * Response curves (model-spec §10): a Hill curve per channel fitted to weekly totals of spend (or
 * impressions) against the model's predicted contribution,
 *
 *   y = bottom + (top − bottom) · x^s / (sat^s + x^s),
 *
 * by bounded Levenberg–Marquardt from several starting points (LM is local; the best SSE wins).
 * Bounds follow upstream: top within ± half the data range of max y, sat in [0.1·min positive x,
 * 10·max x], slope in [0.01, 100]; a free bottom lies within ± half the range of min y.
 *
 * Degenerate input (documented behaviour): no positive x → DataError; y constant → a flat fit
 * (`flat: true`, top = bottom = that constant) when the bottom is free or the constant is 0, and a
 * DataError when the bottom is pinned at 0 and the constant is not 0 (no curve through the origin
 * is flat). NaN/±Infinity, negative x and length mismatches → DataError naming the channel.
 */
import { levenbergMarquardt } from 'ml-levenberg-marquardt';
import { DataError } from '../data/errors.js';
import { hill, sigmoid } from '../maths/functions.js';
import { monotoneCurve, type CurvePoints } from './monotone-curve.js';
import { rowsToCsv, type Table } from './table.js';

export type { CurvePoints } from './monotone-curve.js';

export type CurveUnit = 'spend' | 'impressions';

/**
 * The four Hill parameters; enough to evaluate a curve. With `use: 'interpolation'` and `samples`
 * the curve is instead the monotone interpolation of those points (curveResponse, curveMarginal),
 * and the Hill parameters only describe the (poor) fit.
 */
export interface HillParams {
  top: number;
  bottom: number;
  saturation: number;
  slope: number;
  /** 'hill' (default): the equation; 'interpolation': the monotone curve through `samples` */
  use?: 'hill' | 'interpolation';
  /** weekly (input, response) samples the curve describes (simulated by the model) */
  samples?: CurvePoints;
}

/** Where a curve's points come from. */
export type CurveSource =
  /** the trained model run on the planning window with the channel's input × 0…3 */
  | 'simulated'
  /** a fit to the weekly scatter of (input, predicted contribution) */
  | 'scatter';

/** Plain-JSON form of a fitted curve, as saved in a model file. */
export interface HillCurve extends HillParams {
  channel: string;
  r2: number;
  unit: CurveUnit;
  source?: CurveSource;
}

/** The fit quality below which the optimizer follows a curve's points instead of its equation. */
export const MIN_CURVE_R2 = 0.99;

/** Whether the curve is evaluated as the interpolation of its points. */
export function isInterpolated(c: HillParams): boolean {
  return c.use === 'interpolation' && c.samples !== undefined;
}

/** Weekly response at weekly input x: the Hill equation or the points' monotone interpolation. */
export function curveResponse(c: HillParams, x: number): number {
  return isInterpolated(c) ? monotoneCurve(c.samples!).value(x) : hillResponse(c, x);
}

/** dy/dx of curveResponse. */
export function curveMarginal(c: HillParams, x: number): number {
  return isInterpolated(c) ? monotoneCurve(c.samples!).slope(x) : hillMarginal(c, x);
}

/** Whether more input gives more response somewhere on the curve. */
export function curveRises(c: HillParams): boolean {
  if (!isInterpolated(c)) return c.top > c.bottom;
  const m = monotoneCurve(c.samples!);
  return m.y[m.n - 1] > m.y[0] || m.d[m.n - 1] > 0;
}

/** Where the marginal response peaks (the start of the curve's concave part; 0 if none). */
export function curveInflection(c: HillParams): number {
  if (!isInterpolated(c)) return hillInflection(c);
  const m = monotoneCurve(c.samples!);
  const xMax = m.x[m.n - 1];
  let best = 0;
  let bestSlope = -Infinity;
  for (let k = 0; k <= 400; k++) {
    const v = (xMax * k) / 400;
    const s = m.slope(v);
    if (s > bestSlope + 1e-15 * Math.abs(s)) {
      bestSlope = s;
      best = v;
    }
  }
  return best;
}

// ---- Hill maths (float64) -----------------------------------------------------------------------

/** x^s/(sat^s + x^s) computed as σ(s·(ln x − ln sat)) so large powers never overflow; 0 at x ≤ 0. */
export function hillFraction(x: number, saturation: number, slope: number): number {
  return hill(x, slope, saturation);
}

/** Response at x (per week, in the curve's unit). */
export function hillResponse(c: HillParams, x: number): number {
  return c.bottom + (c.top - c.bottom) * hillFraction(x, c.saturation, c.slope);
}

/**
 * dy/dx = (top − bottom)·s·h(1 − h)/x. At x = 0 the limit is 0 for s > 1, (top − bottom)/sat for
 * s = 1 and ±Infinity for s < 1.
 */
export function hillMarginal(c: HillParams, x: number): number {
  const amp = c.top - c.bottom;
  if (!(x > 0)) {
    if (c.slope > 1 || amp === 0) return 0;
    if (c.slope === 1) return amp / c.saturation;
    return amp > 0 ? Infinity : -Infinity;
  }
  const h = hillFraction(x, c.saturation, c.slope);
  return (amp * c.slope * h * (1 - h)) / x;
}

/** Where the marginal response peaks: sat·((s − 1)/(s + 1))^(1/s) for s > 1, else 0. */
export function hillInflection(c: HillParams): number {
  if (c.slope <= 1) return 0;
  return c.saturation * Math.pow((c.slope - 1) / (c.slope + 1), 1 / c.slope);
}

// ---- JSON form ----------------------------------------------------------------------------------

/** Checks a parsed JSON object and returns it as a HillCurve; DataError names the bad field. */
export function reviveHillCurve(json: unknown): HillCurve {
  if (typeof json !== 'object' || json === null) {
    throw new DataError(
      'response curve: expected an object with channel, top, bottom, saturation, slope',
    );
  }
  const o = json as Record<string, unknown>;
  const channel = o.channel;
  if (typeof channel !== 'string' || channel === '') {
    throw new DataError('response curve: "channel" must be a non-empty string');
  }
  const num = (key: string, fallback?: number): number => {
    const v = o[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new DataError(
        `response curve for channel "${channel}": "${key}" must be a finite number`,
      );
    }
    return v;
  };
  const curve: HillCurve = {
    channel,
    top: num('top'),
    bottom: num('bottom', 0),
    saturation: num('saturation'),
    slope: num('slope'),
    // curves written by hand may lack r2; 0 then says "no fit quality known"
    r2: o.r2 === undefined ? 0 : num('r2'),
    unit: 'spend',
  };
  if (!(curve.saturation > 0)) {
    throw new DataError(`response curve for channel "${channel}": saturation must be > 0`);
  }
  if (!(curve.slope > 0)) {
    throw new DataError(`response curve for channel "${channel}": slope must be > 0`);
  }
  if (o.unit !== undefined) {
    if (o.unit !== 'spend' && o.unit !== 'impressions') {
      throw new DataError(
        `response curve for channel "${channel}": unit must be "spend" or "impressions"`,
      );
    }
    curve.unit = o.unit;
  }
  if (o.source !== undefined) {
    if (o.source !== 'simulated' && o.source !== 'scatter')
      throw new DataError(
        `response curve for channel "${channel}": source must be "simulated" or "scatter"`,
      );
    curve.source = o.source;
  }
  if (o.samples !== undefined) {
    const pts = o.samples as Record<string, unknown>;
    const ok = (a: unknown): a is number[] =>
      Array.isArray(a) && a.every((v) => typeof v === 'number' && Number.isFinite(v));
    if (
      typeof pts !== 'object' ||
      pts === null ||
      !ok(pts.x) ||
      !ok(pts.y) ||
      pts.x.length !== pts.y.length ||
      pts.x.length < 2 ||
      pts.x.some((v) => v < 0)
    )
      throw new DataError(
        `response curve for channel "${channel}": "samples" must be {x, y}: equally long arrays of ≥ 2 finite numbers, x ≥ 0`,
      );
    curve.samples = { x: [...pts.x], y: [...pts.y] };
  }
  if (o.use !== undefined) {
    if (o.use !== 'hill' && o.use !== 'interpolation')
      throw new DataError(
        `response curve for channel "${channel}": use must be "hill" or "interpolation"`,
      );
    if (o.use === 'interpolation' && curve.samples === undefined)
      throw new DataError(
        `response curve for channel "${channel}": use "interpolation" needs "samples"`,
      );
    curve.use = o.use;
  }
  return curve;
}

// ---- fitting ------------------------------------------------------------------------------------

export interface ResponseCurveFitOptions {
  /** weekly spend or impressions */
  x: ArrayLike<number>;
  /** weekly contribution */
  y: ArrayLike<number>;
  channel: string;
  /** 'zero' pins bottom at 0 (default); 'free' fits it */
  bottom?: 'zero' | 'free';
  /** what x measures; without costs per impression it is impressions (spec §10) */
  unit?: CurveUnit;
}

/** Number formatting for the equation text: 3 significant digits, `1.23e5` style. */
function fmtNum(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-2 && a < 1e4) return Number(v.toPrecision(3)).toString();
  return v.toExponential(2).replace('e+', 'e');
}

/** The data's extent: what the degenerate cases, the scaling and the bounds depend on. */
interface DataRange {
  xMax: number;
  /** smallest positive x (Infinity when there is none) */
  xMinPos: number;
  yMin: number;
  yMax: number;
}

/** Extent of x (sorted ascending) and y. */
function dataRange(x: Float64Array, y: Float64Array): DataRange {
  const n = x.length;
  let xMinPos = Infinity;
  for (let i = 0; i < n; i++) if (x[i] > 0) xMinPos = Math.min(xMinPos, x[i]);
  let yMin = Infinity;
  let yMax = -Infinity;
  for (let i = 0; i < n; i++) {
    yMin = Math.min(yMin, y[i]);
    yMax = Math.max(yMax, y[i]);
  }
  return { xMax: x[n - 1], xMinPos, yMin, yMax };
}

/**
 * The least-squares problem LM solves, in scaled units (x/xMax, y/yScale) with ln sat and ln
 * slope, so every parameter is O(1): p = [top, ln sat, ln slope, bottom?] within upstream's bounds.
 */
interface ScaledHillProblem {
  u: number[];
  v: number[];
  xMax: number;
  yScale: number;
  free: boolean;
  /** bounds of p, in p's order */
  minValues: number[];
  maxValues: number[];
  model: (p: number[]) => (uu: number) => number;
  jacobian: (p: number[]) => (uu: number) => number[];
}

function scaledHillProblem(
  x: Float64Array,
  y: Float64Array,
  range: DataRange,
  free: boolean,
): ScaledHillProblem {
  const { xMax, xMinPos, yMin, yMax } = range;
  const h = yMax - yMin;
  const yScale = Math.max(Math.abs(yMax), Math.abs(yMin));
  const u = Array.from(x, (v) => v / xMax);
  const v = Array.from(y, (w) => w / yScale);
  const tLo = (yMax - h / 2) / yScale;
  const tHi = (yMax + h / 2) / yScale;
  const bLo = (yMin - h / 2) / yScale;
  const bHi = (yMin + h / 2) / yScale;
  const lsLo = Math.log((0.1 * xMinPos) / xMax);
  const lsHi = Math.log(10);
  const lqLo = Math.log(0.01);
  const lqHi = Math.log(100);
  const minValues = [tLo, lsLo, lqLo];
  const maxValues = [tHi, lsHi, lqHi];
  if (free) {
    minValues.push(bLo);
    maxValues.push(bHi);
  }
  const model = (p: number[]) => {
    const t = p[0];
    const b = free ? p[3] : 0;
    const ls = p[1];
    const s = Math.exp(p[2]);
    return (uu: number) => (uu > 0 ? b + (t - b) * sigmoid(s * (Math.log(uu) - ls)) : b);
  };
  const jacobian = (p: number[]) => {
    const t = p[0];
    const b = free ? p[3] : 0;
    const ls = p[1];
    const s = Math.exp(p[2]);
    return (uu: number): number[] => {
      if (!(uu > 0)) return free ? [0, 0, 0, 1] : [0, 0, 0];
      const lx = Math.log(uu) - ls;
      const hh = sigmoid(s * lx);
      const dz = (t - b) * hh * (1 - hh);
      const row = [hh, -dz * s, dz * s * lx];
      if (free) row.push(1 - hh);
      return row;
    };
  };
  return { u, v, xMax, yScale, free, minValues, maxValues, model, jacobian };
}

/** Sum of squared errors of p (scaled units). */
function scaledSse(problem: ScaledHillProblem, p: number[]): number {
  const { u, v } = problem;
  const f = problem.model(p);
  let e = 0;
  for (let i = 0; i < u.length; i++) e += (v[i] - f(u[i])) ** 2;
  return e;
}

/** One bounded LM run from `init`; null when a step was singular (other starts remain). */
function runLm(problem: ScaledHillProblem, init: number[], maxIterations: number): number[] | null {
  const { u, v, model, minValues, maxValues, jacobian } = problem;
  try {
    return levenbergMarquardt({ x: u, y: v }, model, {
      initialValues: init,
      minValues,
      maxValues,
      jacobianFunction: jacobian,
      maxIterations,
      errorTolerance: 1e-30,
    }).parameterValues;
  } catch {
    return null;
  }
}

interface LmFit {
  p: number[];
  /** SSE in scaled units */
  e: number;
}

/**
 * LM is local, so it starts from a grid: sat at several fractions of max x, a few slopes, top at
 * max y. A short run from each; the finite results sorted by SSE, best first.
 */
function scoutStarts(problem: ScaledHillProblem, range: DataRange): LmFit[] {
  const clamp = (a: number, lo: number, hi: number) => Math.min(Math.max(a, lo), hi);
  const { yScale, free, minValues, maxValues } = problem;
  const [tLo, lsLo] = minValues;
  const [tHi, lsHi] = maxValues;
  const satStarts = [0.05, 0.2, 0.5, 1, 2, 5].map((q) => clamp(Math.log(q), lsLo, lsHi));
  const slopeStarts = [0.7, 1.5, 3, 6].map(Math.log);
  const scouts: LmFit[] = [];
  for (const ls0 of satStarts) {
    for (const lq0 of slopeStarts) {
      const init = [clamp(range.yMax / yScale, tLo, tHi), ls0, lq0];
      if (free) init.push(range.yMin / yScale);
      const p = runLm(problem, init, 25);
      if (p === null) continue;
      const e = scaledSse(problem, p);
      if (Number.isFinite(e)) scouts.push({ p, e });
    }
  }
  scouts.sort((a, b) => a.e - b.e);
  return scouts;
}

/**
 * Longer runs from the three best scouts, in chunks until the SSE stops falling (the library
 * itself only stops at its iteration limit or at SSE ≈ 0); the lowest SSE wins.
 */
function refineBestStarts(problem: ScaledHillProblem, scouts: LmFit[]): LmFit | null {
  let best: LmFit | null = null;
  let bestSse = Infinity;
  for (const s0 of scouts.slice(0, 3)) {
    let { p, e } = s0;
    for (let chunk = 0; chunk < 10; chunk++) {
      const q = runLm(problem, p, 40);
      if (q === null) break;
      const eq = scaledSse(problem, q);
      if (!(eq < e)) break;
      const done = e - eq <= 1e-9 * e;
      p = q;
      e = eq;
      if (done) break;
    }
    if (e < bestSse) {
      bestSse = e;
      best = { p, e };
    }
  }
  return best;
}

export class ResponseCurveFit {
  readonly channel: string;
  readonly unit: CurveUnit;
  readonly bottomMode: 'zero' | 'free';
  /** data sorted by x */
  readonly x: Float64Array;
  readonly y: Float64Array;

  private fitted = false;
  top = Number.NaN;
  bottom = Number.NaN;
  saturation = Number.NaN;
  slope = Number.NaN;
  r2 = Number.NaN;
  /** true when y was constant and the curve is a flat line */
  flat = false;
  /** LM sum of squared errors of the kept start (data units) */
  sse = Number.NaN;

  constructor(opts: ResponseCurveFitOptions) {
    const { channel } = opts;
    if (typeof channel !== 'string' || channel === '') {
      throw new DataError('ResponseCurveFit: channel must be a non-empty string');
    }
    this.channel = channel;
    this.unit = opts.unit ?? 'spend';
    this.bottomMode = opts.bottom ?? 'zero';
    if (this.unit !== 'spend' && this.unit !== 'impressions') {
      throw new DataError(
        `ResponseCurveFit (channel "${channel}"): unit must be spend or impressions`,
      );
    }
    if (this.bottomMode !== 'zero' && this.bottomMode !== 'free') {
      throw new DataError(
        `ResponseCurveFit (channel "${channel}"): bottom must be 'zero' or 'free'`,
      );
    }
    const n = opts.x.length;
    if (n !== opts.y.length) {
      throw new DataError(
        `ResponseCurveFit (channel "${channel}"): x has ${n} values but y has ${opts.y.length}`,
      );
    }
    const need = this.bottomMode === 'free' ? 4 : 3;
    if (n < need) {
      throw new DataError(
        `ResponseCurveFit (channel "${channel}"): needs at least ${need} points, got ${n}`,
      );
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(opts.x[i])) {
        throw new DataError(`ResponseCurveFit (channel "${channel}"): x[${i}] is ${opts.x[i]}`);
      }
      if (!Number.isFinite(opts.y[i])) {
        throw new DataError(`ResponseCurveFit (channel "${channel}"): y[${i}] is ${opts.y[i]}`);
      }
      if (opts.x[i] < 0) {
        throw new DataError(
          `ResponseCurveFit (channel "${channel}"): x[${i}] = ${opts.x[i]} is negative`,
        );
      }
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => opts.x[a] - opts.x[b]);
    this.x = Float64Array.from(order, (i) => opts.x[i]);
    this.y = Float64Array.from(order, (i) => opts.y[i]);
  }

  /** Fits the curve; returns this. */
  fit(): this {
    const { x, y, channel } = this;
    const range = dataRange(x, y);
    if (!(range.xMax > 0)) {
      throw new DataError(
        `ResponseCurveFit (channel "${channel}"): every x is 0, so no curve can be fitted`,
      );
    }
    if (range.yMax - range.yMin === 0) return this.fitFlat(range.yMax, range.xMax);
    const problem = scaledHillProblem(x, y, range, this.bottomMode === 'free');
    const best = refineBestStarts(problem, scoutStarts(problem, range));
    if (best === null) {
      throw new DataError(`ResponseCurveFit (channel "${channel}"): the fit did not converge`);
    }
    this.keepScaledFit(problem, best.p, best.e);
    return this;
  }

  /**
   * Constant y (documented behaviour): a flat line at that value when the bottom is free or the
   * value is 0; no curve through the origin is flat at any other value.
   */
  private fitFlat(level: number, xMax: number): this {
    const free = this.bottomMode === 'free';
    if (!free && level !== 0) {
      throw new DataError(
        `ResponseCurveFit (channel "${this.channel}"): y is constant (${level}); a curve with bottom 0 ` +
          `cannot be flat at a non-zero value (use bottom: 'free')`,
      );
    }
    this.setParams(level, free ? level : 0, xMax, 1);
    this.flat = true;
    this.sse = 0;
    this.r2 = 1;
    this.fitted = true;
    return this;
  }

  /** Takes LM's parameters back from the scaled problem's units to the data's. */
  private keepScaledFit(problem: ScaledHillProblem, p: number[], sse: number): void {
    const { xMax, yScale, free } = problem;
    this.setParams(p[0] * yScale, free ? p[3] * yScale : 0, Math.exp(p[1]) * xMax, Math.exp(p[2]));
    this.sse = sse * yScale * yScale;
    this.r2 = rSquared(
      this.y,
      Array.from(this.x, (xx) => this.predictOne(xx)),
    );
    this.fitted = true;
  }

  private setParams(top: number, bottom: number, saturation: number, slope: number) {
    this.top = top;
    this.bottom = bottom;
    this.saturation = saturation;
    this.slope = slope;
  }

  private ensureFitted() {
    if (!this.fitted) {
      throw new Error(
        `causalmix: ResponseCurveFit for channel "${this.channel}": call fit() first`,
      );
    }
  }

  private predictOne(xx: number): number {
    return hillResponse(this, xx);
  }

  /** Predicted weekly response at x (a number or an array). */
  predict(x: number): number;
  predict(x: ArrayLike<number>): number[];
  predict(x: number | ArrayLike<number>): number | number[] {
    this.ensureFitted();
    if (typeof x === 'number') return this.predictOne(x);
    return Array.from(x, (xx) => this.predictOne(xx));
  }

  /** dy/dx at x (a number or an array). */
  marginal(x: number): number;
  marginal(x: ArrayLike<number>): number[];
  marginal(x: number | ArrayLike<number>): number | number[] {
    this.ensureFitted();
    if (typeof x === 'number') return hillMarginal(this, x);
    return Array.from(x, (xx) => hillMarginal(this, xx));
  }

  /** The fitted equation as text, e.g. `y = 1.23e5 · x^2.1 / (4.50e6^2.1 + x^2.1)`. */
  get equation(): string {
    this.ensureFitted();
    const s = fmtNum(this.slope);
    const frac = `x^${s} / (${fmtNum(this.saturation)}^${s} + x^${s})`;
    if (this.bottomMode === 'zero') return `y = ${fmtNum(this.top)} · ${frac}`;
    return `y = ${fmtNum(this.bottom)} + (${fmtNum(this.top)} − ${fmtNum(this.bottom)}) · ${frac}`;
  }

  toJSON(): HillCurve {
    this.ensureFitted();
    const { channel, top, bottom, saturation, slope, r2, unit } = this;
    return { channel, top, bottom, saturation, slope, r2, unit };
  }

  summary(): string {
    this.ensureFitted();
    const unitNote =
      this.unit === 'impressions'
        ? 'impressions (no cost per impression given, so x is impressions, not spend)'
        : 'spend';
    return [
      `Response curve: ${this.channel}`,
      `  x unit:      ${unitNote}`,
      `  points:      ${this.x.length}`,
      `  top:         ${fmtNum(this.top)}`,
      `  bottom:      ${fmtNum(this.bottom)}${this.bottomMode === 'zero' ? ' (fixed)' : ''}`,
      `  saturation:  ${fmtNum(this.saturation)}`,
      `  slope:       ${this.slope.toFixed(3)}`,
      `  R²:          ${this.r2.toFixed(4)}${this.flat ? ' (constant y: flat fit)' : ''}`,
      `  equation:    ${this.equation}`,
    ].join('\n');
  }
}

/** 1 − SSE/SST; with SST = 0 it is 1 for an exact fit and 0 otherwise (scikit-learn's rule). */
export function rSquared(y: ArrayLike<number>, yHat: ArrayLike<number>): number {
  const n = y.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i];
  mean /= n;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < n; i++) {
    sse += (y[i] - yHat[i]) ** 2;
    sst += (y[i] - mean) ** 2;
  }
  if (sst === 0) return sse === 0 ? 1 : 0;
  return 1 - sse / sst;
}

export interface ResponseCurveRow extends HillCurve {
  equation: string;
  points: number;
  flat: boolean;
}

export interface ResponseCurveTable extends Table<ResponseCurveRow> {
  /** fitted curves by channel, ready for BudgetOptimizer */
  curves: Record<string, HillCurve>;
  /** channels whose fit failed when onError is 'skip', with the reason */
  skipped: { channel: string; reason: string }[];
}

export interface FitResponseCurvesOptions {
  bottom?: 'zero' | 'free';
  unit?: CurveUnit;
  /** 'throw' (default) stops at the first bad channel; 'skip' records it and goes on (upstream) */
  onError?: 'throw' | 'skip';
}

const CURVE_COLUMNS = [
  'channel',
  'top',
  'bottom',
  'saturation',
  'slope',
  'r2',
  'unit',
  'points',
  'flat',
  'equation',
] as const;

/** Fits one curve per channel and returns them as a table. */
export function fitResponseCurves(
  data: readonly { channel: string; x: ArrayLike<number>; y: ArrayLike<number> }[],
  opts: FitResponseCurvesOptions = {},
): ResponseCurveTable {
  const rows: ResponseCurveRow[] = [];
  const curves: Record<string, HillCurve> = {};
  const skipped: { channel: string; reason: string }[] = [];
  const seen = new Set<string>();
  for (const d of data) {
    if (seen.has(d.channel)) {
      throw new DataError(`fitResponseCurves: channel "${d.channel}" appears more than once`);
    }
    seen.add(d.channel);
    try {
      const f = new ResponseCurveFit({
        x: d.x,
        y: d.y,
        channel: d.channel,
        bottom: opts.bottom,
        unit: opts.unit,
      }).fit();
      const curve = f.toJSON();
      curves[d.channel] = curve;
      rows.push({ ...curve, equation: f.equation, points: f.x.length, flat: f.flat });
    } catch (e) {
      if (opts.onError !== 'skip' || !(e instanceof DataError)) throw e;
      skipped.push({ channel: d.channel, reason: e.message });
    }
  }
  return { rows, curves, skipped, toCsv: () => rowsToCsv(rows, CURVE_COLUMNS) };
}
