/**
 * The channel graph learned from the media series themselves (dagMode 'media'): channel i drives
 * channel j when, region against region within the same week, i's carried-over past input
 * explains j's present input — TV that keeps sending people to search for weeks after it aired —
 * while i's future does not. Comparing regions within a week removes everything national (shared
 * flighting calendars, seasonal buying, one plan driving two channels), so channels that merely
 * move together get no edge; the past-vs-future asymmetry gives the direction. Per ordered pair
 * (i, j), over the observed training region-weeks of the scaled inputs u, with every variable
 * demeaned within its week:
 *
 *   u_j(t) = b_now·u_i(t) + b_lag·L_i(t) + b_lead·F_i(t)
 *   L_c(t) = Σ_{l=1..8} ρ^{l−1} u_c(t − l),  F_c(t) = Σ_{l=1..8} ρ^{l−1} u_c(t + l)
 *
 * for ρ ∈ {0.3, 0.5, 0.7}, standard errors clustered by region. An edge needs all of: t(b_lag) ≥ 3
 * and t(b_now) ≥ 3 (carried-over input arrives from the week the cause runs on); b_lead below a
 * quarter of b_lag; the carried-over part at least a quarter of what i adds to j
 * (b_lag·L̄_i ≥ ¼(b_now⁺·ū_i + b_lag·L̄_i), means of the raw series); and i's part at least 10 % of
 * j's input. Of two opposite edges the one with the larger t stays, and cycles lose their weakest
 * edge. A panel with fewer than 8 regions has no within-week contrast: no graph is learned. The
 * fit is symmetric in the channels, so the graph does not depend on their order.
 */
import { choleskySolve } from '../data/init.js';

export const GRAPH_LAGS = 8;
export const GRAPH_RHOS = [0.3, 0.5, 0.7] as const;
export const GRAPH_MIN_T = 3;
export const GRAPH_MIN_LAG_SHARE = 0.25;
export const GRAPH_MIN_STRENGTH = 0.1;
export const GRAPH_MAX_LEAD_RATIO = 0.25;
export const GRAPH_MIN_REGIONS = 8;

export interface MediaEdge {
  from: number;
  to: number;
  rho: number;
  bNow: number;
  bLag: number;
  /** t statistic of b_lag */
  t: number;
  /** i's part of j's input, Σ(b_now⁺·u_i + b_lag·L_i) / Σ u_j over the fitted cells */
  strength: number;
}

export interface MediaGraph {
  C: number;
  edges: MediaEdge[];
  /** adjacency[i][j] = strength of the edge i → j (0 without one) */
  adjacency: number[][];
}

/** Inputs the graph needs: scaled media [R, T, C] with T = B + W, and the training cells. */
export interface GraphData {
  R: number;
  T: number;
  B: number;
  W: number;
  C: number;
  wTrain: number;
  media: ArrayLike<number>;
  observed: ArrayLike<number>;
}

/**
 * L_c(t) (dir −1: the past) or F_c(t) (dir +1: the future) for one region and channel over its
 * T positions; weeks outside the sequence count as 0.
 */
function carrySeries(d: GraphData, r: number, c: number, rho: number, dir = -1): Float64Array {
  const out = new Float64Array(d.T);
  for (let t = 0; t < d.T; t++) {
    let s = 0;
    let w = 1;
    for (let l = 1; l <= GRAPH_LAGS; l++, w *= rho) {
      const u = t + dir * l;
      if (u < 0 || u >= d.T) break;
      s += w * d.media[(r * d.T + u) * d.C + c];
    }
    out[t] = s;
  }
  return out;
}

/**
 * Positions r·T + t of training weeks whose GRAPH_LAGS weeks before and after are observed
 * training weeks of the region.
 */
function fittedCells(d: GraphData): number[] {
  const cells: number[] = [];
  for (let r = 0; r < d.R; r++)
    for (let w = GRAPH_LAGS; w + GRAPH_LAGS < d.wTrain; w++) {
      let ok = true;
      for (let l = -GRAPH_LAGS; l <= GRAPH_LAGS && ok; l++) ok = d.observed[r * d.W + w + l] === 1;
      if (ok) cells.push(r * d.T + d.B + w);
    }
  return cells;
}

/** Subtracts from each value the mean of its week (over the cells of that week). */
function demeanByWeek(v: Float64Array, cells: number[], T: number): Float64Array {
  const sum = new Map<number, [number, number]>();
  cells.forEach((pos, q) => {
    const t = pos % T;
    const s = sum.get(t) ?? [0, 0];
    s[0] += v[q];
    s[1]++;
    sum.set(t, s);
  });
  return v.map((x, q) => {
    const [s, n] = sum.get(cells[q] % T)!;
    return x - s / n;
  });
}

/**
 * OLS of y on the columns of X [n, p] with standard errors clustered by `cluster` (the sandwich
 * (XᵀX)⁻¹ Σ_g (X_gᵀe_g)(X_gᵀe_g)ᵀ (XᵀX)⁻¹): coefficients and t statistics.
 */
function ols(X: Float64Array, y: Float64Array, n: number, p: number, cluster: Int32Array) {
  const A = new Float64Array(p * p);
  const b = new Float64Array(p);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < p; a++) {
      const xa = X[i * p + a];
      b[a] += xa * y[i];
      for (let c = 0; c < p; c++) A[a * p + c] += xa * X[i * p + c];
    }
  // a tiny ridge keeps a constant column (a channel that never ran) solvable
  for (let a = 0; a < p; a++) A[a * p + a] += 1e-9 * (A[a * p + a] + 1);
  let beta: Float64Array;
  let inv: Float64Array[];
  try {
    beta = choleskySolve(A, b, p);
    inv = Array.from({ length: p }, (_, k) => {
      const e = new Float64Array(p);
      e[k] = 1;
      return choleskySolve(A, e, p);
    });
  } catch {
    return null;
  }
  const scores = new Map<number, Float64Array>();
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let a = 0; a < p; a++) f += X[i * p + a] * beta[a];
    const e = y[i] - f;
    const g = scores.get(cluster[i]) ?? new Float64Array(p);
    for (let a = 0; a < p; a++) g[a] += X[i * p + a] * e;
    scores.set(cluster[i], g);
  }
  const t = new Float64Array(p);
  for (let k = 0; k < p; k++) {
    // var_k = Σ_g (inv_k · s_g)²
    let v = 0;
    for (const g of scores.values()) {
      let dot = 0;
      for (let a = 0; a < p; a++) dot += inv[k][a] * g[a];
      v += dot * dot;
    }
    t[k] = v > 0 ? beta[k] / Math.sqrt(v) : 0;
  }
  return { beta, t };
}

/** Learns the graph (see the module comment). */
export function learnMediaGraph(d: GraphData): MediaGraph {
  const { C, T } = d;
  const cells = fittedCells(d);
  const n = cells.length;
  const candidates: MediaEdge[] = [];
  if (C >= 2 && d.R >= GRAPH_MIN_REGIONS && n > 20) {
    const cluster = Int32Array.from(cells, (pos) => Math.floor(pos / T));
    const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
    const gather = (series: (r: number) => Float64Array) => {
      const byRegion = new Map<number, Float64Array>();
      return Float64Array.from(cells, (pos) => {
        const r = Math.floor(pos / T);
        if (!byRegion.has(r)) byRegion.set(r, series(r));
        return byRegion.get(r)![pos - r * T];
      });
    };
    const now = Array.from({ length: C }, (_, c) =>
      Float64Array.from(cells, (pos) => d.media[pos * C + c]),
    );
    const nowW = now.map((v) => demeanByWeek(v, cells, T));
    for (const rho of GRAPH_RHOS) {
      const past = Array.from({ length: C }, (_, c) => gather((r) => carrySeries(d, r, c, rho)));
      const pastW = past.map((v) => demeanByWeek(v, cells, T));
      const futW = Array.from({ length: C }, (_, c) =>
        demeanByWeek(
          gather((r) => carrySeries(d, r, c, rho, 1)),
          cells,
          T,
        ),
      );
      for (let i = 0; i < C; i++)
        for (let j = 0; j < C; j++) {
          if (i === j) continue;
          const X = new Float64Array(n * 3);
          for (let q = 0; q < n; q++) {
            X[q * 3] = nowW[i][q];
            X[q * 3 + 1] = pastW[i][q];
            X[q * 3 + 2] = futW[i][q];
          }
          const fit = ols(X, nowW[j], n, 3, cluster);
          if (!fit) continue;
          const [bNow, bLag, bLead] = fit.beta;
          const nowPart = Math.max(bNow, 0) * mean(now[i]);
          const lagPart = bLag * mean(past[i]);
          const target = mean(now[j]);
          const strength = target > 0 ? (nowPart + lagPart) / target : 0;
          const t = fit.t[1];
          if (
            t >= GRAPH_MIN_T &&
            fit.t[0] >= GRAPH_MIN_T &&
            bLag > 0 &&
            bLead < GRAPH_MAX_LEAD_RATIO * bLag &&
            lagPart >= GRAPH_MIN_LAG_SHARE * (nowPart + lagPart) &&
            strength >= GRAPH_MIN_STRENGTH
          ) {
            const prev = candidates.find((e) => e.from === i && e.to === j);
            const edge = { from: i, to: j, rho, bNow: Math.max(bNow, 0), bLag, t, strength };
            if (!prev) candidates.push(edge);
            else if (t > prev.t) Object.assign(prev, edge);
          }
        }
    }
  }
  // of two opposite edges keep the better supported one, then break cycles at the weakest edge
  let edges = candidates.filter((e) => {
    const back = candidates.find((o) => o.from === e.to && o.to === e.from);
    return !back || e.t > back.t || (e.t === back.t && e.from < e.to);
  });
  for (;;) {
    const cycle = findCycle(C, edges);
    if (!cycle) break;
    const weakest = cycle.reduce((w, e) => (e.t < w.t ? e : w));
    edges = edges.filter((e) => e !== weakest);
  }
  edges.sort((a, b) => a.from - b.from || a.to - b.to);
  const adjacency = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  for (const e of edges) adjacency[e.from][e.to] = e.strength;
  return { C, edges, adjacency };
}

/** The edges of one directed cycle, or null. */
function findCycle(C: number, edges: MediaEdge[]): MediaEdge[] | null {
  const out = Array.from({ length: C }, () => [] as MediaEdge[]);
  for (const e of edges) out[e.from].push(e);
  const state = new Uint8Array(C); // 0 new, 1 on the stack, 2 done
  const stack: MediaEdge[] = [];
  const visit = (v: number): MediaEdge[] | null => {
    state[v] = 1;
    for (const e of out[v]) {
      stack.push(e);
      if (state[e.to] === 1) {
        const start = stack.findIndex((s) => s.from === e.to);
        return stack.slice(start);
      }
      if (state[e.to] === 0) {
        const found = visit(e.to);
        if (found) return found;
      }
      stack.pop();
    }
    state[v] = 2;
    return null;
  };
  for (let v = 0; v < C; v++)
    if (state[v] === 0) {
      const found = visit(v);
      if (found) return found;
    }
  return null;
}

/**
 * What each edge's cause adds to its child's input per region-week: induced[i][j] is [R·T] with
 * b_now·u_i(t) + b_lag·L_i(t) for the edge i → j (absent edges: no entry).
 */
export function inducedInputs(d: GraphData, g: MediaGraph): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const e of g.edges) {
    const a = new Float64Array(d.R * d.T);
    for (let r = 0; r < d.R; r++) {
      const L = carrySeries(d, r, e.from, e.rho);
      for (let t = 0; t < d.T; t++)
        a[r * d.T + t] = e.bNow * d.media[(r * d.T + t) * d.C + e.from] + e.bLag * L[t];
    }
    out.set(`${e.from}>${e.to}`, a);
  }
  return out;
}
