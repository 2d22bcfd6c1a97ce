/**
 * Model-implied response curves (issue 13): the trained model itself, run forward on
 * counterfactual media, instead of a curve fitted to the scatter of weekly inputs and
 * contributions (which adstock and time-varying coefficients make a cloud, not a function).
 *
 * Planning window: the last N observed weeks of the data (default 13). For each channel and each
 * multiplier m of a fixed grid (0, 0.2, …, 3.0) the channel's input is multiplied by m in every
 * region over the window, other channels unchanged, and the model runs forward over the whole
 * sequence (the GRU and adstock continue from the data; weeks past the data's end get no media,
 * each region's last controls and the seasonal curve continued). The incremental response of m
 * (KPI units, summed over regions) is the predicted KPI of m minus that of m = 0, over the window
 * plus the weeks after it until the channel's adstock carry-over α^k falls below 1 %. The curve's
 * x is the channel's input (or spend) over the window. This is how Meridian and Robyn define a
 * response curve.
 *
 * With the media graph (dagMode 'media', src/analysis/media-graph.ts) a cause's scenarios also
 * scale what the graph says it puts into its children's inputs (b_now·u_i + b_lag·L_i, L the
 * carried-over past), and a child's multiplier scales only its own part of its input, so curves
 * measure total effects, as channels.csv does.
 *
 * Scenarios run batched: every scenario is a copy of the regions stacked along the region axis of
 * one forward pass (a model whose per-region parameters are tiled), all recorded into one program:
 * one submit for all channels × multipliers, one read-back. When the stacked batch would exceed
 * the memory budget or the adapter's buffer limits, the scenarios are split into equal chunks,
 * each one more forward pass inside the same program (still one submit).
 *
 * Weekly units: a curve over the N-week window is saved as weekly input → weekly response (both
 * divided by N), the form the budget optimizer's curves take.
 */
import { gradScope, noGrad } from '../autograd/tape.js';
import { backward } from '../autograd/backward.js';
import { DataError } from '../data/errors.js';
import { seasonalFor, type PreparedData } from '../data/pipeline.js';
import type { Tensor } from '../engine/tensor.js';
import { disposeBatch, toDevice, type HostBatch } from '../model/batch.js';
import type { FittedMMM } from '../model/fitted.js';
import { DeepCausalMMM } from '../model/model.js';
import { alphaFromRaw } from '../maths/constraints.js';
import type { BudgetOptimizer, OptimizationResult } from './budget-optimizer.js';
import { checkCostPerImpression } from './model-curves.js';
import { monotoneCurve } from './monotone-curve.js';
import { projectOntoBudget } from './optimizer-problem.js';
import {
  MIN_CURVE_R2,
  ResponseCurveFit,
  type CurveUnit,
  type HillCurve,
} from './response-curves.js';
import { rowsToCsv } from './table.js';

/** The multiplier grid: 0, 0.2, …, 3.0 (16 values). */
export const CURVE_MULTIPLIERS: readonly number[] = Array.from({ length: 16 }, (_, k) => k / 5);
/** Weeks of the planning window. */
export const PLANNING_WEEKS = 13;
/** Carry-over below this fraction of its start no longer counts. */
export const CARRY_CUTOFF = 0.01;
/** Budget of one batched forward pass (bytes, estimated) unless an option says otherwise. */
export const DEFAULT_SCENARIO_BYTES = 2 ** 31;

export interface PlanningWindow {
  /** first and one-past-last data week (0 … W) */
  from: number;
  to: number;
  /** observed weeks in it (weeks some region has) */
  observedWeeks: number;
}

/** The last `weeks` observed weeks of the data (a week counts when some region has it). */
export function planningWindow(
  p: Pick<PreparedData, 'R' | 'W' | 'observed'>,
  weeks = PLANNING_WEEKS,
): PlanningWindow {
  if (!Number.isInteger(weeks) || weeks < 1)
    throw new DataError(`planning window: weeks must be a positive integer, got ${weeks}`);
  const seen = (w: number) => {
    for (let r = 0; r < p.R; r++) if (p.observed[r * p.W + w]) return true;
    return false;
  };
  let to = p.W;
  while (to > 0 && !seen(to - 1)) to--;
  if (to === 0) throw new DataError('planning window: the data has no observed week');
  let from = to;
  let n = 0;
  while (from > 0 && n < weeks) {
    from--;
    if (seen(from)) n++;
  }
  return { from, to, observedWeeks: n };
}

/** Weeks after the window until α^k < 1 % (0 for no carry-over). */
export function carryTailWeeks(alpha: number, cutoff = CARRY_CUTOFF): number {
  if (!(alpha > cutoff)) return alpha > 0 ? 1 : 0;
  return Math.ceil(Math.log(cutoff) / Math.log(alpha) - 1e-9);
}

/** The model's adstock α per channel: min(σ(adstockRaw), 0.8) (model-spec §6). */
export async function adstockAlpha(fitted: FittedMMM): Promise<Float64Array> {
  const raw = await fitted.model.param('adstockRaw').toArray();
  return Float64Array.from(raw, alphaFromRaw);
}

/** A graph edge as the media graph gives it (src/analysis/media-graph.ts). */
interface GraphEdge {
  from: number;
  to: number;
  rho: number;
  bNow: number;
  bLag: number;
}
const GRAPH_LAGS = 8;

/** The media scaler as the pipeline stores it (absent: share of voice). */
interface MediaScalerLike {
  scaling: string;
  divisor?: number[][];
}

export interface ScenarioOptions {
  /** planning window length (default 13) */
  windowWeeks?: number;
  /** the panel's raw media [R, W, C]; needed under share-of-voice scaling */
  rawMedia?: ArrayLike<number>;
  /** or only its planning window [R, window weeks, C] (as `ScenarioRunner.rawWindowMedia` gives) */
  rawWindowMedia?: ArrayLike<number>;
  costPerImpression?: Record<string, number> | null;
  /** follow the learned media graph (dagMode 'media'; default true) */
  graph?: boolean;
  /** estimated bytes one batched forward may use (default 2 GiB) */
  maxBytes?: number;
}

/** Per scenario and channel: the multiplier of the channel's window input, or null (the data). */
export type Multipliers = readonly (number | null)[];

export interface ScenarioRunStats {
  scenarios: number;
  /** forward passes (scenario chunks) in the program */
  forwards: number;
  scenariosPerForward: number;
  submits: number;
  dispatches: number;
  /** dispatches of one forward pass */
  dispatchesPerForward: number;
  seconds: number;
}

export interface ScenarioRun {
  /** per scenario: the national predicted KPI per week from the window's first week on */
  weekly: Float64Array[];
  stats: ScenarioRunStats;
}

/**
 * Runs counterfactual media scenarios through a fitted model (see the module comment): the
 * window, each channel's input pattern there, the graph's induced inputs and the carry-over tails
 * are computed once; `run` takes any number of scenarios.
 */
export class ScenarioRunner {
  readonly window: PlanningWindow;
  /** weeks in the window (to − from) */
  readonly windowWeeks: number;
  readonly channels: string[];
  readonly unit: CurveUnit;
  /** each channel's input (impressions or spend) over the window at multiplier 1 */
  readonly windowInput: number[];
  /** 'data': the window's own input; 'flat': dark in the window, its average level instead */
  readonly pattern: ('data' | 'flat' | 'none')[];
  readonly tailWeeks: number[];
  /** graph edges followed (empty without a graph) */
  readonly edges: GraphEdge[];
  /** positions in the padded sequence: window start, window end, extended length */
  private readonly t0: number;
  private readonly t1: number;
  private readonly T2: number;
  private readonly linear: boolean;
  /** [R, L, C] own scaled input from t0 on (the data minus what window causes induced) */
  private readonly own: Float64Array;
  /** [R, Lw, C] the flat pattern of dark channels over the window */
  private readonly flat: Float64Array;
  /** per edge [R, L]: what the cause's window input adds to the child from t0 on */
  private readonly induced: Float64Array[];
  /** [R, Lw, C] raw window media (share-of-voice path) */
  private readonly rawWindow: Float64Array | null;

  private constructor(
    readonly fitted: FittedMMM,
    alpha: Float64Array,
    opts: ScenarioOptions,
  ) {
    const p = fitted.prepared;
    const { R, W, B, T, C } = p;
    this.channels = [...p.channels];
    const costs = opts.costPerImpression
      ? checkCostPerImpression(opts.costPerImpression, p.channels)
      : null;
    this.unit = costs ? 'spend' : 'impressions';
    const win = planningWindow(p, opts.windowWeeks ?? PLANNING_WEEKS);
    this.window = win;
    this.windowWeeks = win.to - win.from;
    this.tailWeeks = Array.from(alpha, (a) => carryTailWeeks(a));
    this.t0 = B + win.from;
    this.t1 = B + win.to;
    this.T2 = Math.max(T, this.t1 + Math.max(0, ...this.tailWeeks));
    const scaler = (p.scalers as { media?: MediaScalerLike }).media ?? {
      scaling: 'shareOfVoice',
    };
    this.linear = scaler.scaling !== 'shareOfVoice' && p.scalers.upstreamCompat !== true;
    if (opts.rawMedia !== undefined && opts.rawMedia.length !== R * W * C)
      throw new DataError(
        `model response: raw media has ${opts.rawMedia.length} values, expected R×W×C = ${R}×${W}×${C}`,
      );
    if (!this.linear && opts.rawMedia === undefined && opts.rawWindowMedia === undefined)
      throw new DataError(
        'model response: media scaled as share of voice needs the raw media (rawMedia) to scale a channel',
      );
    const Lw0 = win.to - win.from;
    if (opts.rawWindowMedia !== undefined && opts.rawWindowMedia.length !== R * Lw0 * C)
      throw new DataError(
        `model response: raw window media has ${opts.rawWindowMedia.length} values, expected ${R}×${Lw0}×${C}`,
      );
    const divisor = (r: number, c: number) => scaler.divisor?.[r]?.[c] ?? 1;
    const L = this.T2 - this.t0;
    const Lw = this.t1 - this.t0;
    const at = (r: number, t: number, c: number) => (r * T + t) * C + c;
    const obs = (r: number, t: number) => p.observed[r * W + (t - B)] === 1;

    // the graph's edges (only under absolute scaling, where inputs add)
    const fm = fitted as unknown as { mediaGraph?: () => { edges: GraphEdge[] } };
    const graphOn =
      opts.graph !== false &&
      this.linear &&
      (fitted.config.dagMode as string) === 'media' &&
      typeof fm.mediaGraph === 'function';
    this.edges = graphOn ? fm.mediaGraph!().edges.map((e) => ({ ...e })) : [];

    // own input from t0 on, and each edge's induced part
    const u = (r: number, t: number, c: number) => (t < T ? p.media[at(r, t, c)] : 0);
    this.induced = this.edges.map((e) => {
      const a = new Float64Array(R * L);
      for (let r = 0; r < R; r++)
        for (let k = 0; k < L; k++) {
          const t = this.t0 + k;
          let v = t < this.t1 ? e.bNow * u(r, t, e.from) : 0;
          let w = 1;
          for (let l = 1; l <= GRAPH_LAGS; l++, w *= e.rho) {
            const s = t - l;
            if (s >= this.t0 && s < this.t1) v += e.bLag * w * u(r, s, e.from);
          }
          a[r * L + k] = Math.max(0, v);
        }
      return a;
    });
    this.own = new Float64Array(R * L * C);
    for (let r = 0; r < R; r++)
      for (let k = 0; k < L; k++)
        for (let c = 0; c < C; c++) {
          let v = u(r, this.t0 + k, c);
          this.edges.forEach((e, i) => {
            if (e.to === c) v -= this.induced[i][r * L + k];
          });
          this.own[(r * L + k) * C + c] = Math.max(0, v);
        }

    // raw window media (for spend totals and the share-of-voice path)
    const raw = new Float64Array(R * Lw * C);
    for (let r = 0; r < R; r++)
      for (let k = 0; k < Lw; k++) {
        const w = win.from + k;
        for (let c = 0; c < C; c++)
          raw[(r * Lw + k) * C + c] = opts.rawMedia
            ? opts.rawMedia[(r * W + w) * C + c]
            : opts.rawWindowMedia
              ? opts.rawWindowMedia[(r * Lw + k) * C + c]
              : p.observed[r * W + w]
                ? p.media[at(r, B + w, c)] * divisor(r, c)
                : 0;
      }
    this.rawWindow = this.linear ? null : raw;

    // patterns: the data, or for a channel dark in the window its average level (scaled units)
    this.flat = new Float64Array(R * Lw * C);
    this.pattern = [];
    this.windowInput = [];
    for (let c = 0; c < C; c++) {
      const cost = costs ? costs[p.channels[c]] : 1;
      let total = 0;
      for (let r = 0; r < R; r++) for (let k = 0; k < Lw; k++) total += raw[(r * Lw + k) * C + c];
      if (total > 0) {
        this.pattern.push('data');
        this.windowInput.push(total * cost);
        continue;
      }
      let flatTotal = 0;
      if (this.linear)
        for (let r = 0; r < R; r++) {
          let s = 0;
          let n = 0;
          for (let w = 0; w < p.wTrain; w++)
            if (p.observed[r * W + w]) {
              s += p.media[at(r, B + w, c)];
              n++;
            }
          const level = n > 0 ? s / n : 0;
          for (let k = 0; k < Lw; k++)
            if (obs(r, this.t0 + k)) {
              this.flat[(r * Lw + k) * C + c] = level;
              flatTotal += level * divisor(r, c);
            }
        }
      this.pattern.push(flatTotal > 0 ? 'flat' : 'none');
      this.windowInput.push(flatTotal * cost);
    }
  }

  /** Whether the media scaling is not proportional (share of voice): raw media are then needed. */
  get needsRawMedia(): boolean {
    return !this.linear;
  }

  /** The raw media of the planning window [R, window weeks, C] (share-of-voice scaling only). */
  rawWindowMedia(): number[] | null {
    return this.rawWindow ? Array.from(this.rawWindow) : null;
  }

  /** Builds the runner (reads the adstock parameters). */
  static async create(fitted: FittedMMM, opts: ScenarioOptions = {}): Promise<ScenarioRunner> {
    return new ScenarioRunner(fitted, await adstockAlpha(fitted), opts);
  }

  /** Weeks (from the window's start) a channel's response counts: the window and its tail. */
  countedWeeks(c: number | 'all'): number {
    const tail = c === 'all' ? Math.max(0, ...this.tailWeeks) : this.tailWeeks[c];
    return Math.min(this.T2 - this.t0, this.windowWeeks + tail);
  }

  /** Fills [L, C] scaled inputs from the window's start on for one region and scenario. */
  private scenarioMedia(r: number, m: Multipliers, out: Float32Array, outOff: number): void {
    const p = this.fitted.prepared;
    const C = p.C;
    const L = this.T2 - this.t0;
    const Lw = this.t1 - this.t0;
    if (!this.linear) {
      // share of voice: scale the raw window row, then take shares (no graph)
      const row = new Float64Array(C);
      for (let k = 0; k < L; k++) {
        const t = this.t0 + k;
        if (k < Lw && p.observed[r * p.W + (t - p.B)]) {
          let sum = 0;
          for (let c = 0; c < C; c++) {
            row[c] = this.rawWindow![(r * Lw + k) * C + c] * (m[c] ?? 1);
            sum += row[c];
          }
          for (let c = 0; c < C; c++)
            out[outOff + k * C + c] = sum <= 1e-8 ? 1 / C : row[c] / (sum + 1e-8);
        } else
          for (let c = 0; c < C; c++)
            out[outOff + k * C + c] = t < p.T ? p.media[(r * p.T + t) * C + c] : 0;
      }
      return;
    }
    for (let k = 0; k < L; k++)
      for (let c = 0; c < C; c++) {
        const mc = m[c];
        let v: number;
        if (k < Lw && mc !== null && this.pattern[c] === 'flat')
          v = mc * this.flat[(r * Lw + k) * C + c];
        else v = (k < Lw && mc !== null ? mc : 1) * this.own[(r * L + k) * C + c];
        out[outOff + k * C + c] = v;
      }
    this.edges.forEach((e, i) => {
      const me = m[e.from] ?? 1;
      if (this.pattern[e.from] !== 'data') return;
      const ind = this.induced[i];
      for (let k = 0; k < L; k++) out[outOff + k * C + e.to] += me * ind[r * L + k];
    });
  }

  /** Host batch of `count` scenarios stacked along the region axis. */
  private hostBatch(scenarios: readonly Multipliers[]): HostBatch {
    const p = this.fitted.prepared;
    const { R, T, B, W, C, K } = p;
    const T2 = this.T2;
    const S = scenarios.length;
    const RS = R * S;
    const media = new Float32Array(RS * T2 * C);
    const controls = new Float32Array(RS * T2 * K);
    const seasonal = new Float32Array(RS * T2);
    // one region's controls and seasonal curve, extended past the data's end
    const regionCtrl: Float32Array[] = [];
    const regionSeas: Float32Array[] = [];
    for (let r = 0; r < R; r++) {
      const cs = new Float32Array(T2 * K);
      cs.set(p.controls.subarray(r * T * K, (r + 1) * T * K));
      let last = W - 1;
      while (last > 0 && !p.observed[r * W + last]) last--;
      const lastRow = p.controls.subarray((r * T + B + last) * K, (r * T + B + last + 1) * K);
      for (let t = T; t < T2; t++) cs.set(lastRow, t * K);
      regionCtrl.push(cs);
      const ss = new Float32Array(T2);
      ss.set(p.seasonal.subarray(r * T, (r + 1) * T));
      for (let t = T; t < T2; t++) ss[t] = seasonalFor(p.scalers, r, t - B);
      regionSeas.push(ss);
    }
    scenarios.forEach((m, s) => {
      if (m.length !== C)
        throw new DataError(
          `model response: a scenario has ${m.length} multipliers, expected ${C}`,
        );
      for (let r = 0; r < R; r++) {
        const rr = s * R + r;
        media.set(p.media.subarray(r * T * C, (r * T + this.t0) * C), rr * T2 * C);
        this.scenarioMedia(r, m, media, (rr * T2 + this.t0) * C);
        controls.set(regionCtrl[r], rr * T2 * K);
        seasonal.set(regionSeas[r], rr * T2);
      }
    });
    return {
      R: RS,
      T: T2,
      media,
      controls,
      target: new Float32Array(RS * T2),
      lossMask: new Float32Array(RS * T2),
      seasonal,
    };
  }

  /** Scenarios one forward pass can hold within the memory budget and the adapter's limits. */
  scenariosPerForward(count: number, maxBytes = DEFAULT_SCENARIO_BYTES): number {
    const p = this.fitted.prepared;
    const e = this.fitted.engine;
    const H = this.fitted.model.dims.H;
    const { C, K, R } = p;
    const word = e.isGpu ? 4 : 8;
    const perCell = word * (8 * H + 6 * C + 4 * K + 16);
    const widest = word * (3 * H + C + K);
    const lim = e.backend.limits;
    const cap = Math.min(lim.maxBufferSize, lim.maxStorageBufferBindingSize);
    const cells = R * this.T2;
    const byMem = Math.floor(maxBytes / (cells * perCell));
    const byCap = Math.floor((0.9 * cap) / (cells * widest));
    const per = Math.max(1, Math.min(count, byMem, byCap));
    // equal chunks
    const chunks = Math.ceil(count / per);
    return Math.ceil(count / chunks);
  }

  /** A copy of the model whose per-region parameters are tiled for `copies` stacked panels. */
  private stackedModel(copies: number): Promise<DeepCausalMMM> {
    const f = this.fitted;
    if (copies === 1) return Promise.resolve(f.model);
    return (async () => {
      const dims = { ...f.model.dims, R: f.model.dims.R * copies };
      const model = new DeepCausalMMM(f.engine, dims, f.config);
      const values = await f.model.arena.read();
      const tiled = new Map<string, ArrayLike<number>>();
      const probe = await model.arena.read();
      for (const name of model.arena.names) {
        const v = values.get(name);
        const n1 = probe.get(name)!.length;
        if (v === undefined) throw new Error(`causalmix: model response: no weights for '${name}'`);
        if (n1 === v.length) tiled.set(name, v);
        else if (n1 === v.length * copies) {
          const out = new Float32Array(n1);
          for (let k = 0; k < copies; k++) out.set(v, k * v.length);
          tiled.set(name, out);
        } else
          throw new Error(
            `causalmix: model response: parameter '${name}' has ${v.length} values, stacked ${n1}`,
          );
      }
      model.arena.write(tiled);
      const center = await f.model.mediaCenter();
      if (center) {
        const out = new Float64Array(center.length * copies);
        for (let k = 0; k < copies; k++) out.set(center, k * center.length);
        model.setMediaCenter(out);
      }
      return model;
    })();
  }

  /**
   * Runs the scenarios (one program: every chunk's forward pass, one submit) and returns each
   * scenario's national predicted KPI per week from the window's start to the extended end.
   */
  async run(
    scenarios: readonly Multipliers[],
    opts: { maxBytes?: number } = {},
  ): Promise<ScenarioRun> {
    const f = this.fitted;
    const e = f.engine;
    const p = f.prepared;
    const { R, C, K } = p;
    const S = scenarios.length;
    if (S === 0) throw new DataError('model response: no scenarios');
    const start = performance.now();
    const before = e.stats();
    const per = this.scenariosPerForward(S, opts.maxBytes);
    const chunks: Multipliers[][] = [];
    for (let s = 0; s < S; s += per) {
      const chunk = scenarios.slice(s, s + per);
      // pad the last chunk to the same size, so every forward has the same shapes
      while (chunk.length < per) chunk.push(scenarios[S - 1]);
      chunks.push(chunk);
    }
    const model = await this.stackedModel(per);
    const batches = chunks.map((c) => toDevice(e, this.hostBatch(c), C, K, f.model.dims.path));
    let dispatchesPerForward = 0;
    try {
      const program = e.record(() =>
        batches.map((b) =>
          e.tidy(() => noGrad(e, () => model.forward(b, { outputs: 'all' }).prediction!)),
        ),
      );
      dispatchesPerForward = program.dispatchCount / batches.length;
      program.run();
      const preds = await Promise.all(program.outputs.map((t: Tensor) => t.toArray()));
      program.dispose();
      const T2 = this.T2;
      const L = T2 - this.t0;
      const weekly: Float64Array[] = [];
      preds.forEach((pred, ci) => {
        const n = ci === chunks.length - 1 ? S - ci * per : per;
        for (let s = 0; s < n; s++) {
          const out = new Float64Array(L);
          for (let r = 0; r < R; r++) {
            const y = p.yMean[r];
            const base = (s * R + r) * T2 + this.t0;
            for (let k = 0; k < L; k++) out[k] += pred[base + k] * y;
          }
          weekly.push(out);
        }
      });
      const after = e.stats();
      return {
        weekly,
        stats: {
          scenarios: S,
          forwards: chunks.length,
          scenariosPerForward: per,
          submits: after.submits - before.submits,
          dispatches: after.dispatches - before.dispatches,
          dispatchesPerForward,
          seconds: (performance.now() - start) / 1000,
        },
      };
    } finally {
      batches.forEach(disposeBatch);
      if (model !== f.model) model.dispose();
    }
  }

  /** Σ of a weekly series over the first `weeks` weeks. */
  static total(weekly: Float64Array, weeks: number): number {
    let s = 0;
    for (let k = 0; k < Math.min(weeks, weekly.length); k++) s += weekly[k];
    return s;
  }

  /**
   * The incremental response (KPI, window + the longest tail) of multipliers against every
   * channel at 0 over the window: what the model says a plan's media bring.
   */
  async planResponse(m: Multipliers): Promise<{ response: number; stats: ScenarioRunStats }> {
    const zero = m.map(() => 0);
    const run = await this.run([m, zero]);
    const n = this.countedWeeks('all');
    return {
      response: ScenarioRunner.total(run.weekly[0], n) - ScenarioRunner.total(run.weekly[1], n),
      stats: run.stats,
    };
  }

  /** Multipliers of a plan given as total input per channel over the window. */
  multipliersFor(windowTotals: readonly number[]): number[] {
    return windowTotals.map((x, c) => (this.windowInput[c] > 0 ? x / this.windowInput[c] : 0));
  }

  /**
   * The plan's predicted KPI over the window + the longest tail, and its gradient with respect to
   * each channel's multiplier, through the trained model with the engine's autograd (one forward
   * and one backward over the whole sequence). The gradient comes from an MSE loss against a
   * target far below every prediction, whose derivative is then proportional to the weighted sum
   * of predictions (relative error ~1e-4).
   */
  async valueAndGradient(m: readonly number[]): Promise<{ value: number; gradient: number[] }> {
    const f = this.fitted;
    const e = f.engine;
    const p = f.prepared;
    const { R, C, K } = p;
    const host = this.hostBatch([m]);
    const T2 = this.T2;
    const n = this.countedWeeks('all');
    const ybar = p.yMean.reduce((a, b) => a + b, 0) / R;
    const BIG = 1e4;
    for (let r = 0; r < R; r++)
      for (let k = 0; k < n; k++) {
        host.lossMask[r * T2 + this.t0 + k] = p.yMean[r] / ybar;
        host.target[r * T2 + this.t0 + k] = -BIG;
      }
    let maskSum = 0;
    host.lossMask.forEach((v) => (maskSum += v));
    const batch = toDevice(e, host, C, K, f.model.dims.path);
    batch.media.requiresGrad = true;
    let pred: Float64Array;
    let grad: Float64Array;
    try {
      // the loss's priors scale with the data term (stop-gradient ratios): off here, so only
      // the data term's gradient, proportional to the weighted predictions, remains
      const model = Object.create(f.model, {
        config: { value: { ...f.model.config, mediaPriorWeight: 0, seasonalPriorWeight: 0 } },
      }) as DeepCausalMMM;
      const kept = e.tidy(() =>
        gradScope(e, () => {
          const out = model.forward(batch, { outputs: 'all', loss: 'mse' });
          const leaves = backward(out.total);
          const g = leaves.get(batch.media);
          for (const t of leaves.keys()) t.grad = null;
          if (!g) throw new Error('causalmix: model response: no gradient reached the media input');
          return { pred: out.prediction!, g };
        }),
      );
      try {
        [pred, grad] = await Promise.all([kept.pred.toArray(), kept.g.toArray()]);
      } finally {
        kept.pred.dispose();
        kept.g.dispose();
      }
    } finally {
      disposeBatch(batch);
    }
    let value = 0;
    for (let r = 0; r < R; r++)
      for (let k = 0; k < n; k++) value += pred[r * T2 + this.t0 + k] * p.yMean[r];
    // dF/du = dL/du · n·ȳ/(2·BIG), F in KPI units
    const scale = (maskSum * ybar) / (2 * BIG);
    const L = T2 - this.t0;
    const Lw = this.t1 - this.t0;
    const gradient = new Array<number>(C).fill(0);
    if (!this.linear) {
      // share of voice over the window: u_c = raw_c·m_c / s, s = Σ raw·m, so
      // du_c/dm_j = (raw_j / s)(δ_cj − u_c)
      const raw = this.rawWindow!;
      for (let r = 0; r < R; r++)
        for (let k = 0; k < Lw; k++) {
          if (!p.observed[r * p.W + (this.t0 + k - p.B)]) continue;
          const base = (r * T2 + this.t0 + k) * C;
          const row = (r * Lw + k) * C;
          let sum = 0;
          for (let c = 0; c < C; c++) sum += raw[row + c] * m[c];
          if (sum <= 1e-8) continue;
          let gu = 0;
          for (let c = 0; c < C; c++) gu += grad[base + c] * ((raw[row + c] * m[c]) / (sum + 1e-8));
          for (let j = 0; j < C; j++)
            gradient[j] += (raw[row + j] / (sum + 1e-8)) * (grad[base + j] - gu) * scale;
        }
      return { value, gradient };
    }
    for (let r = 0; r < R; r++)
      for (let k = 0; k < L; k++) {
        const base = (r * T2 + this.t0 + k) * C;
        for (let c = 0; c < C; c++) {
          if (k >= Lw) continue;
          const patt =
            this.pattern[c] === 'flat'
              ? this.flat[(r * Lw + k) * C + c]
              : this.own[(r * L + k) * C + c];
          gradient[c] += grad[base + c] * patt * scale;
        }
        this.edges.forEach((ed, i) => {
          if (this.pattern[ed.from] !== 'data') return;
          gradient[ed.from] += grad[base + ed.to] * this.induced[i][r * L + k] * scale;
        });
      }
    return { value, gradient };
  }
}

// ---- curves -------------------------------------------------------------------------------------

export interface SimulatedCurve {
  channel: string;
  multipliers: number[];
  /** the channel's input (impressions or spend) over the window at each multiplier */
  input: number[];
  /** incremental predicted KPI against multiplier 0, over the window and the tail */
  response: number[];
  /** weeks counted after the window (adstock carry-over ≥ 1 %) */
  tailWeeks: number;
  pattern: 'data' | 'flat';
  /** the curve for the optimizer, in weekly units (input and response ÷ window weeks) */
  curve: HillCurve;
  /** the Hill fit's equation (weekly units) */
  equation: string;
  /** the simulated response fell somewhere with more input (the interpolation levels it) */
  nonMonotone: boolean;
  /** an ensemble's 90 % interval of `response` at each multiplier (src/analysis/ensemble-curves.ts) */
  responseLo?: number[];
  responseHi?: number[];
}

export interface ModelCurves {
  unit: CurveUnit;
  window: PlanningWindow;
  windowWeeks: number;
  multipliers: number[];
  channels: SimulatedCurve[];
  /** the optimizer's curves (one per channel in `channels`) */
  curves: HillCurve[];
  /** channels without a curve, with the reason */
  skipped: { channel: string; reason: string }[];
  /** graph edges the scenarios followed, as "cause → child" */
  graphEdges: string[];
  /** false under share-of-voice scaling, where a channel's input × m is not the model's × m */
  absoluteScaling: boolean;
  run: ScenarioRunStats;
  toCsv(): string;
}

export interface ModelCurveOptions extends ScenarioOptions {
  multipliers?: readonly number[];
}

const CSV_COLUMNS = [
  'channel',
  'source',
  'curve',
  'r2',
  'multiplier',
  'input',
  'unit',
  'response',
  'weekly_input',
  'weekly_response',
  'window_weeks',
  'tail_weeks',
  'pattern',
  'top',
  'saturation',
  'slope',
  'equation',
  'response_lo',
  'response_hi',
] as const;

/**
 * Model-implied response curves for every channel (see the module comment): all channels ×
 * multipliers in one batched run, a Hill fit of each channel's points with its R², and the
 * monotone interpolation of the points where R² < 0.99.
 */
export async function modelImpliedCurves(
  fitted: FittedMMM,
  opts: ModelCurveOptions = {},
  runner?: ScenarioRunner,
): Promise<ModelCurves> {
  const rn = runner ?? (await ScenarioRunner.create(fitted, opts));
  const mults = [...(opts.multipliers ?? CURVE_MULTIPLIERS)];
  if (mults.length < 4 || mults[0] !== 0 || mults.some((v, i) => i > 0 && !(v > mults[i - 1])))
    throw new DataError('model response: multipliers must start at 0 and rise (at least 4)');
  const C = rn.channels.length;
  const skipped: ModelCurves['skipped'] = [];
  const active: number[] = [];
  for (let c = 0; c < C; c++) {
    if (rn.pattern[c] === 'none')
      skipped.push({
        channel: rn.channels[c],
        reason: `'${rn.channels[c]}' has no input in the planning window nor in training: no curve`,
      });
    else active.push(c);
  }
  const scenarios: Multipliers[] = [];
  for (const c of active)
    for (const m of mults) scenarios.push(rn.channels.map((_, j) => (j === c ? m : null)));
  const run =
    scenarios.length > 0
      ? await rn.run(scenarios, { maxBytes: opts.maxBytes })
      : { weekly: [], stats: emptyStats() };
  const Nw = rn.windowWeeks;
  const channels = active.map((c, a) => {
    const weeks = rn.countedWeeks(c);
    const totals = mults.map((_, k) =>
      ScenarioRunner.total(run.weekly[a * mults.length + k], weeks),
    );
    return simulatedCurve({
      channel: rn.channels[c],
      multipliers: mults,
      input: mults.map((m) => m * rn.windowInput[c]),
      response: totals.map((v) => v - totals[0]),
      windowWeeks: Nw,
      unit: rn.unit,
      tailWeeks: rn.tailWeeks[c],
      pattern: rn.pattern[c] as 'data' | 'flat',
    });
  });
  return curvesResult(channels, {
    unit: rn.unit,
    window: rn.window,
    windowWeeks: Nw,
    multipliers: mults,
    skipped,
    graphEdges: rn.edges.map((e) => `${rn.channels[e.from]} → ${rn.channels[e.to]}`),
    absoluteScaling: !rn.needsRawMedia,
    run: run.stats,
  });
}

/** What a channel's curve is made from: its input and incremental response at each multiplier. */
export interface CurvePointsInput {
  channel: string;
  multipliers: number[];
  input: number[];
  response: number[];
  windowWeeks: number;
  unit: CurveUnit;
  tailWeeks: number;
  pattern: 'data' | 'flat';
}

/**
 * One channel's curve from its simulated points: a Hill fit in weekly units with its R², used by
 * the optimizer where R² ≥ 0.99, else the monotone interpolation of the points.
 */
export function simulatedCurve(pts: CurvePointsInput): SimulatedCurve {
  const { channel, unit, windowWeeks: Nw } = pts;
  const x = pts.input.map((v) => v / Nw);
  const y = pts.response.map((v) => v / Nw);
  const samples = { x, y };
  let fit: ResponseCurveFit | null = null;
  try {
    fit = new ResponseCurveFit({ x, y, channel, unit, bottom: 'zero' }).fit();
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
  }
  const r2 = fit && Number.isFinite(fit.r2) ? fit.r2 : 0;
  const curve: HillCurve = {
    channel,
    top: fit ? fit.top : Math.max(...y, 0),
    bottom: 0,
    saturation: fit ? fit.saturation : Math.max(...x) / 2,
    slope: fit ? fit.slope : 1,
    r2,
    unit,
    source: 'simulated',
    use: r2 >= MIN_CURVE_R2 ? 'hill' : 'interpolation',
    samples,
  };
  return {
    channel,
    multipliers: pts.multipliers,
    input: pts.input,
    response: pts.response,
    tailWeeks: pts.tailWeeks,
    pattern: pts.pattern,
    curve,
    equation: fit ? fit.equation : '(no Hill fit)',
    nonMonotone: monotoneCurve(samples).adjusted,
  };
}

/** ModelCurves from its simulated channels: the optimizer's curves and the CSV table. */
export function curvesResult(
  channels: SimulatedCurve[],
  rest: Omit<ModelCurves, 'channels' | 'curves' | 'toCsv'>,
): ModelCurves {
  const num = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : '');
  const rows = channels.flatMap((s) =>
    s.multipliers.map((m, k) => ({
      channel: s.channel,
      source: s.curve.source,
      curve: s.curve.use,
      r2: s.curve.r2,
      multiplier: m,
      input: s.input[k],
      response: s.response[k],
      weekly_input: s.curve.samples!.x[k],
      weekly_response: s.curve.samples!.y[k],
      window_weeks: rest.windowWeeks,
      tail_weeks: s.tailWeeks,
      pattern: s.pattern,
      unit: rest.unit,
      top: s.curve.top,
      saturation: s.curve.saturation,
      slope: s.curve.slope,
      equation: s.equation,
      response_lo: num(s.responseLo?.[k]),
      response_hi: num(s.responseHi?.[k]),
    })),
  );
  return {
    ...rest,
    channels,
    curves: channels.map((s) => s.curve),
    toCsv: () => rowsToCsv(rows, CSV_COLUMNS),
  };
}

function emptyStats(): ScenarioRunStats {
  return {
    scenarios: 0,
    forwards: 0,
    scenariosPerForward: 0,
    submits: 0,
    dispatches: 0,
    dispatchesPerForward: 0,
    seconds: 0,
  };
}

/** One line per curve: source, fit quality and what the optimizer uses. */
export function formatCurveSummary(mc: ModelCurves): string[] {
  const lines = mc.channels.map((s) => {
    const use =
      s.curve.use === 'hill'
        ? 'Hill equation'
        : 'monotone interpolation of the points (Hill R² < 0.99)';
    const extra = [
      s.pattern === 'flat' ? 'dark in the window: its average level scaled' : '',
      s.nonMonotone ? 'the simulated response falls in places (levelled)' : '',
    ].filter(Boolean);
    return `  ${s.channel.padEnd(20)} simulated, Hill R² ${s.curve.r2.toFixed(4)} → ${use}${extra.length ? `; ${extra.join('; ')}` : ''}`;
  });
  for (const s of mc.skipped) lines.push(`  ${s.channel.padEnd(20)} ${s.reason}`);
  if (!mc.absoluteScaling)
    lines.push(
      '  WARNING: media are scaled as share of voice, so more of one channel lowers the others’ ' +
        'inputs and no media at all reads as equal shares: these curves and the plan check do not ' +
        "measure incremental response (use mediaScaling 'regionMean')",
    );
  return lines;
}

// ---- checking a plan with the model -----------------------------------------------------------

export interface PlanCheck {
  /** the optimizer's curve-based media response over the horizon */
  curveResponse: number;
  /** the model's incremental response of the plan (every channel at once) over the horizon */
  modelResponse: number;
  /** (curve − model) / |model|, in % */
  gapPct: number;
  /** the plan's multiplier of each channel's window input */
  multipliers: Record<string, number>;
  warning?: string;
  stats: ScenarioRunStats;
}

/** The gap above which the check warns. */
export const MAX_PLAN_GAP_PCT = 2;

/**
 * Runs a plan (total input per channel over an N-week horizon) through the model: each channel's
 * window input × (its weekly plan ÷ its weekly window input), every channel at once, against all
 * at 0; the response is scaled from the window to the horizon (× N / window weeks).
 */
export async function checkPlanWithModel(
  runner: ScenarioRunner,
  allocation: Record<string, number>,
  numWeeks: number,
  curveResponse: number,
): Promise<PlanCheck> {
  const Nw = runner.windowWeeks;
  const m = planMultipliers(runner, allocation, numWeeks);
  const { response, stats } = await runner.planResponse(m);
  return planCheckOf(runner, m, (response * numWeeks) / Nw, curveResponse, stats);
}

/** The plan's multiplier of each channel's window input (its weekly plan ÷ weekly window input). */
export function planMultipliers(
  runner: ScenarioRunner,
  allocation: Record<string, number>,
  numWeeks: number,
): number[] {
  const Nw = runner.windowWeeks;
  return runner.channels.map((ch, c) =>
    runner.windowInput[c] > 0
      ? ((allocation[ch] ?? 0) / numWeeks) * (Nw / runner.windowInput[c])
      : 0,
  );
}

/** The check's figures and, past MAX_PLAN_GAP_PCT, its warning (the model's response given). */
export function planCheckOf(
  runner: ScenarioRunner,
  m: number[],
  modelResponse: number,
  curveResponse: number,
  stats: ScenarioRunStats,
): PlanCheck {
  const gapPct =
    modelResponse !== 0 ? ((curveResponse - modelResponse) / Math.abs(modelResponse)) * 100 : 0;
  const out: PlanCheck = {
    curveResponse,
    modelResponse,
    gapPct,
    multipliers: Object.fromEntries(runner.channels.map((ch, c) => [ch, m[c]])),
    stats,
  };
  if (Math.abs(gapPct) > MAX_PLAN_GAP_PCT) {
    const edges = runner.edges.map((e) => `${runner.channels[e.from]} → ${runner.channels[e.to]}`);
    out.warning =
      `the model's media response to the whole plan (${fmtInt(modelResponse)}) is ` +
      `${((100 * modelResponse) / curveResponse).toFixed(0)} % of the sum of the channels' curves ` +
      `(${fmtInt(curveResponse)}): in the model the channels do not add up (` +
      (edges.length > 0
        ? `along the channel graph (${edges.join(', ')}) a cause and its child share the ` +
          `child's saturating input, and the model's time-varying coefficients respond to every ` +
          `channel's input`
        : `its time-varying coefficients respond to every channel's input`) +
      `, so switching all media on or off at once moves more, or less, than each channel alone ` +
      `with the others at their current input); the allocation follows the curves' relative ` +
      `returns, the totals are the model's`;
  }
  return out;
}

const fmtInt = (v: number) => Math.round(v).toLocaleString('en-US');

export function formatPlanCheck(c: PlanCheck): string[] {
  const lines = [
    `Media response of the plan: curves ${fmtInt(c.curveResponse)}, model ${fmtInt(c.modelResponse)} (gap ${c.gapPct >= 0 ? '+' : ''}${c.gapPct.toFixed(2)} %)`,
  ];
  if (c.warning) lines.push(`WARNING: ${c.warning}`);
  return lines;
}

// ---- projected gradient ascent through the model -------------------------------------------------

export interface ModelAscentResult {
  /** total input per channel over the window */
  windowPlan: number[];
  /** incremental response over the window + tail at the start and the end (KPI) */
  startResponse: number;
  response: number;
  iterations: number;
  evaluations: number;
  seconds: number;
}

/**
 * Projected gradient ascent on a window plan (total input per channel over the window, Σ =
 * budget, lower ≤ x ≤ upper) through the trained model: each step one forward and one backward
 * pass, a step that lowers the response is taken back and halved.
 */
export async function modelGradientAscent(
  runner: ScenarioRunner,
  start: readonly number[],
  bounds: { budget: number; lower: readonly number[]; upper: readonly number[] },
  opts: { iterations?: number; step?: number } = {},
): Promise<ModelAscentResult> {
  const t0 = performance.now();
  const C = runner.channels.length;
  const problem = {
    budget: bounds.budget,
    numWeeks: 1,
    curves: [],
    lower: bounds.lower,
    upper: bounds.upper,
  };
  const X = runner.windowInput;
  const mOf = (x: readonly number[]) => x.map((v, c) => (X[c] > 0 ? v / X[c] : 0));
  let x = projectOntoBudget(problem, start);
  let cur = await runner.valueAndGradient(mOf(x));
  let evaluations = 1;
  const base = await runner.run([new Array<number>(C).fill(0)]);
  const baseValue = ScenarioRunner.total(base.weekly[0], runner.countedWeeks('all'));
  const startValue = cur.value;
  let step = opts.step ?? 0.1;
  const maxIt = opts.iterations ?? 25;
  let it = 0;
  for (; it < maxIt && step > 1e-4; it++) {
    // gradient per unit of input: dF/dx_c = dF/dm_c / X_c
    const g = cur.gradient.map((v, c) => (X[c] > 0 ? v / X[c] : 0));
    const free = g.filter((_, c) => X[c] > 0);
    const mean = free.reduce((a, b) => a + b, 0) / Math.max(1, free.length);
    const spread = Math.max(...free.map((v) => Math.abs(v - mean)), 1e-300);
    const eta = (step * bounds.budget) / spread;
    const y = x.map((v, c) => v + eta * (g[c] - mean));
    const nx = projectOntoBudget(problem, y);
    if (nx.every((v, c) => Math.abs(v - x[c]) <= 1e-9 * bounds.budget)) {
      step /= 2;
      continue;
    }
    const next = await runner.valueAndGradient(mOf(nx));
    evaluations++;
    if (next.value > cur.value) {
      x = nx;
      cur = next;
      step = Math.min(step * 1.5, 0.5);
    } else step /= 2;
  }
  return {
    windowPlan: x,
    startResponse: startValue - baseValue,
    response: cur.value - baseValue,
    iterations: it,
    evaluations,
    seconds: (performance.now() - t0) / 1000,
  };
}

export interface ModelMethodResult {
  /** the curve-based global optimum the ascent started from */
  start: OptimizationResult;
  /** the ascent's plan (method 'model'), its per-channel detail read off the curves */
  result: OptimizationResult;
  ascent: ModelAscentResult;
}

/**
 * Method 'model': the curve-based global optimum, then projected gradient ascent on the plan
 * through the trained model (the curves' ranges and the optimizer's bounds hold). The plan over
 * the horizon maps onto the planning window in proportion (× window weeks / horizon weeks).
 */
export async function optimizeWithModel(
  runner: ScenarioRunner,
  optimizer: BudgetOptimizer,
  opts: { iterations?: number } = {},
): Promise<ModelMethodResult> {
  const start = optimizer.optimize();
  if (!start.success) return { start, result: start, ascent: emptyAscent() };
  const f = runner.windowWeeks / optimizer.numWeeks;
  const names = runner.channels;
  const b = optimizer.bounds;
  for (const ch of optimizer.channels)
    if (!names.includes(ch))
      throw new DataError(`optimize with the model: channel '${ch}' is not in the model`);
  const inPlan = (ch: string) => optimizer.channels.includes(ch);
  const ascent = await modelGradientAscent(
    runner,
    names.map((ch) => (start.allocation[ch] ?? 0) * f),
    {
      budget: optimizer.budget * f,
      lower: names.map((ch) => (inPlan(ch) ? b[ch].lower * f : 0)),
      upper: names.map((ch) => (inPlan(ch) ? b[ch].upper * f : 0)),
    },
    opts,
  );
  const allocation = Object.fromEntries(
    optimizer.channels.map((ch) => [ch, ascent.windowPlan[names.indexOf(ch)] / f]),
  );
  const gain =
    ascent.startResponse !== 0
      ? ((ascent.response - ascent.startResponse) / Math.abs(ascent.startResponse)) * 100
      : 0;
  const result = optimizer.resultFor(
    allocation,
    'model',
    `projected gradient ascent through the trained model from the global optimum of the curves: ` +
      `${ascent.iterations} steps, ${ascent.evaluations} forward+backward passes, the model's ` +
      `response ${gain >= 0 ? '+' : ''}${gain.toFixed(2)} % over the start`,
  );
  return { start, result, ascent };
}

function emptyAscent(): ModelAscentResult {
  return {
    windowPlan: [],
    startResponse: 0,
    response: 0,
    iterations: 0,
    evaluations: 0,
    seconds: 0,
  };
}
