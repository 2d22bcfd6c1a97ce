/**
 * A monotone interpolation of response-curve points: isotonic (non-decreasing) values by pool
 * adjacent violators, then a piecewise cubic Hermite curve with Fritsch–Carlson tangents, which
 * stays monotone between the points and never overshoots them. Past the last point the curve goes
 * on as a straight line with the last tangent (below the first point: its value). Used where a
 * Hill curve does not describe the points well enough (R² < 0.99); no dependencies, so the
 * dashboard and the browser bundle can draw it too.
 */

export interface CurvePoints {
  /** input, ascending (duplicates are merged) */
  x: number[];
  /** response at x */
  y: number[];
}

export class MonotoneCurve {
  readonly x: Float64Array;
  readonly y: Float64Array;
  /** tangents dy/dx at the points */
  readonly d: Float64Array;
  /** true when the points had to be made non-decreasing (the raw response fell somewhere) */
  readonly adjusted: boolean;

  constructor(points: CurvePoints) {
    const n0 = Math.min(points.x.length, points.y.length);
    if (n0 < 2) throw new Error('causalmix: a monotone curve needs at least 2 points');
    const order = Array.from({ length: n0 }, (_, i) => i).sort((a, b) => points.x[a] - points.x[b]);
    // merge equal x (mean y)
    const xs: number[] = [];
    const ys: number[] = [];
    const ns: number[] = [];
    for (const i of order) {
      const xi = points.x[i];
      const yi = points.y[i];
      if (!Number.isFinite(xi) || !Number.isFinite(yi))
        throw new Error(`causalmix: monotone curve point (${xi}, ${yi}) is not finite`);
      const k = xs.length - 1;
      if (k >= 0 && xi === xs[k]) {
        ys[k] = (ys[k] * ns[k] + yi) / (ns[k] + 1);
        ns[k]++;
      } else {
        xs.push(xi);
        ys.push(yi);
        ns.push(1);
      }
    }
    const iso = isotonic(ys, ns);
    const range = Math.max(...ys) - Math.min(...ys);
    this.adjusted = iso.some((v, i) => Math.abs(v - ys[i]) > 1e-6 * range);
    this.x = Float64Array.from(xs);
    this.y = Float64Array.from(iso);
    this.d = fritschCarlson(this.x, this.y);
  }

  get n(): number {
    return this.x.length;
  }

  /** The segment index k with x[k] ≤ v < x[k+1] (clamped to the valid range). */
  private segment(v: number): number {
    const { x } = this;
    let lo = 0;
    let hi = x.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (x[mid] <= v) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  value(v: number): number {
    const { x, y, d } = this;
    const n = x.length;
    if (v <= x[0]) return y[0];
    if (v >= x[n - 1]) return y[n - 1] + d[n - 1] * (v - x[n - 1]);
    const k = this.segment(v);
    const h = x[k + 1] - x[k];
    const t = (v - x[k]) / h;
    const t2 = t * t;
    const t3 = t2 * t;
    return (
      (2 * t3 - 3 * t2 + 1) * y[k] +
      (t3 - 2 * t2 + t) * h * d[k] +
      (-2 * t3 + 3 * t2) * y[k + 1] +
      (t3 - t2) * h * d[k + 1]
    );
  }

  /** dy/dx (right-hand at the points; 0 below the first point). */
  slope(v: number): number {
    const { x, y, d } = this;
    const n = x.length;
    if (v < x[0]) return 0;
    if (v >= x[n - 1]) return d[n - 1];
    const k = this.segment(v);
    const h = x[k + 1] - x[k];
    const t = (v - x[k]) / h;
    const t2 = t * t;
    return (
      ((6 * t2 - 6 * t) * y[k] +
        (3 * t2 - 4 * t + 1) * h * d[k] +
        (-6 * t2 + 6 * t) * y[k + 1] +
        (3 * t2 - 2 * t) * h * d[k + 1]) /
      h
    );
  }
}

/** Weighted pool-adjacent-violators: the closest non-decreasing sequence (least squares). */
export function isotonic(y: readonly number[], w: readonly number[] = y.map(() => 1)): number[] {
  const blocks: { v: number; w: number; n: number }[] = [];
  y.forEach((v, i) => {
    blocks.push({ v, w: w[i], n: 1 });
    while (blocks.length > 1 && blocks[blocks.length - 2].v > blocks[blocks.length - 1].v) {
      const b = blocks.pop()!;
      const a = blocks[blocks.length - 1];
      a.v = (a.v * a.w + b.v * b.w) / (a.w + b.w);
      a.w += b.w;
      a.n += b.n;
    }
  });
  return blocks.flatMap((b) => new Array<number>(b.n).fill(b.v));
}

/** Fritsch–Carlson tangents of monotone data (three-point end formulas, limited). */
function fritschCarlson(x: Float64Array, y: Float64Array): Float64Array {
  const n = x.length;
  const d = new Float64Array(n);
  const delta = new Float64Array(n - 1);
  for (let k = 0; k < n - 1; k++) delta[k] = (y[k + 1] - y[k]) / (x[k + 1] - x[k]);
  if (n === 2) {
    d[0] = d[1] = delta[0];
    return d;
  }
  for (let k = 1; k < n - 1; k++) {
    if (delta[k - 1] * delta[k] <= 0) {
      d[k] = 0;
      continue;
    }
    // weighted harmonic mean (Fritsch–Butland), which keeps the curve monotone
    const h0 = x[k] - x[k - 1];
    const h1 = x[k + 1] - x[k];
    const w1 = 2 * h1 + h0;
    const w2 = h1 + 2 * h0;
    d[k] = (w1 + w2) / (w1 / delta[k - 1] + w2 / delta[k]);
  }
  const end = (h0: number, h1: number, m0: number, m1: number) => {
    let t = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
    if (Math.sign(t) !== Math.sign(m0)) t = 0;
    else if (Math.sign(m0) !== Math.sign(m1) && Math.abs(t) > Math.abs(3 * m0)) t = 3 * m0;
    return t;
  };
  d[0] = end(x[1] - x[0], x[2] - x[1], delta[0], delta[1]);
  d[n - 1] = end(x[n - 1] - x[n - 2], x[n - 2] - x[n - 3], delta[n - 2], delta[n - 3]);
  return d;
}

const cache = new WeakMap<CurvePoints, MonotoneCurve>();

/** The (cached) monotone curve through a points object. */
export function monotoneCurve(points: CurvePoints): MonotoneCurve {
  let c = cache.get(points);
  if (!c) cache.set(points, (c = new MonotoneCurve(points)));
  return c;
}
