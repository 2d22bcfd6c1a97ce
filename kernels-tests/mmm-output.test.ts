import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import type { Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import {
  MMM_OUTPUT_INPUTS,
  MMM_OUTPUT_OPTIONAL_INPUTS,
  mmmOutput,
  type MmmOutputInputs,
  type MmmOutputOptions,
  type MmmOutputResult,
} from '../src/ops/mmm-output.js';
import { mmmOutputComposed } from '../bench/mmm-output-composed.js';
import { expectClose, finiteDiff, randArray, rng, useEngines, type Tolerance } from './helpers.js';
import { TOL } from './tolerances.js';

const E = useEngines();

type Base = (typeof MMM_OUTPUT_INPUTS)[number];
/** the required inputs and the optional `offset` */
type Name = Base | (typeof MMM_OUTPUT_OPTIONAL_INPUTS)[number];
const CONSTANT: Name[] = ['z', 'seasonal', 'target', 'lossMask'];
const DIFF = MMM_OUTPUT_INPUTS.filter((k) => !CONSTANT.includes(k));
const OUTS = [
  'prediction',
  'mediaCoeffs',
  'ctrlCoeffs',
  'mediaContrib',
  'ctrlContrib',
  'baseline',
  'seasonalContrib',
] as const;
type Out = (typeof OUTS)[number] | 'offsetContrib';

interface Case {
  R: number;
  T: number;
  C: number;
  K: number;
  v: Record<Base, Float64Array> & { offset?: Float64Array };
}

/** The case's inputs: the required ones, then the offset if it has one. */
const namesOf = (c: Case): Name[] =>
  c.v.offset ? [...MMM_OUTPUT_INPUTS, ...MMM_OUTPUT_OPTIONAL_INPUTS] : [...MMM_OUTPUT_INPUTS];
const diffOf = (c: Case): Name[] => namesOf(c).filter((k) => !CONSTANT.includes(k));
/** The 'all' outputs: offsetContrib only with an offset. */
const outsOf = (hasOffset: boolean): Out[] => (hasOffset ? [...OUTS, 'offsetContrib'] : [...OUTS]);

function shapeOf(c: Case, k: Name): number[] {
  const { R, T, C, K } = c;
  const s: Record<Name, number[]> = {
    headMedia: [R, T, C],
    headCtrl: [R, T, K],
    mediaMaxRaw: [C],
    ctrlMaxRaw: [K],
    stableMedia: [C],
    stableCtrl: [K],
    xt: [R, T, C],
    z: [R, T, K],
    baselineRaw: [R],
    globalBiasRaw: [1],
    seasonalCoeffRaw: [1],
    predScaleRaw: [1],
    seasonal: [R, T],
    target: [R, T],
    lossMask: [R, T],
    offset: [R, T],
  };
  return s[k];
}

// ---- independent float64 reference, written from model-spec §6 items 5–8 and §7 -----------------

const sig = (x: number) => 1 / (1 + Math.exp(-x));
const sp = (x: number) => Math.log1p(Math.exp(x));

function burnIn(method: string, t: number, B: number): number {
  if (method === 'linear') return 1 - t / B;
  if (method === 'sigmoid') return 1 / (1 + Math.exp((t - B / 2) / (B / 4)));
  return Math.exp((-3 * t) / B);
}

interface Naive {
  loss: number;
  parts: number[];
  out: Record<(typeof OUTS)[number], Float64Array> & { offsetContrib?: Float64Array };
}

/** The whole output head in plain loops; `ratios` freezes the two stop-gradient factors. */
function naive(c: Case, o: MmmOutputOptions, ratios?: [number, number]): Naive {
  const { R, T, C, K, v } = c;
  const B = o.burnInWeeks ?? 6;
  const method = o.burnInMethod ?? 'exponential';
  const delta = o.huberDelta ?? 0.25;
  const prior = o.mediaPrior ?? 0.4;
  const out: Naive['out'] = {
    prediction: new Float64Array(R * T),
    mediaCoeffs: new Float64Array(R * T * C),
    ctrlCoeffs: new Float64Array(R * T * K),
    mediaContrib: new Float64Array(R * T * C),
    ctrlContrib: new Float64Array(R * T * K),
    baseline: new Float64Array(R * T),
    seasonalContrib: new Float64Array(R * T),
  };
  if (v.offset) out.offsetContrib = new Float64Array(R * T);
  let n = 0;
  let dataSum = 0;
  let attrSum = 0;
  for (let r = 0; r < R; r++)
    for (let t = 0; t < T; t++) {
      const i = r * T + t;
      const s = t < B ? burnIn(method, t, B) : 0;
      let media = 0;
      let raw = 0;
      for (let ch = 0; ch < C; ch++) {
        const head = sig(v.headMedia[i * C + ch]) * (sp(v.mediaMaxRaw[ch]) + 0.1);
        const beta = t < B ? s * v.stableMedia[ch] + (1 - s) * head : head;
        out.mediaCoeffs[i * C + ch] = beta;
        out.mediaContrib[i * C + ch] = v.xt[i * C + ch] * beta;
        media += v.xt[i * C + ch] * beta;
      }
      raw += media;
      for (let k = 0; k < K; k++) {
        const head = Math.tanh(v.headCtrl[i * K + k]) * (sp(v.ctrlMaxRaw[k]) + 0.1);
        const gamma = t < B ? s * v.stableCtrl[k] + (1 - s) * head : head;
        out.ctrlCoeffs[i * K + k] = gamma;
        out.ctrlContrib[i * K + k] = v.z[i * K + k] * gamma;
        raw += v.z[i * K + k] * gamma;
      }
      out.baseline[i] = Math.max(sp(v.baselineRaw[r]) + sp(v.globalBiasRaw[0]), 0);
      out.seasonalContrib[i] = sp(v.seasonalCoeffRaw[0]) * v.seasonal[i];
      raw += out.baseline[i] + out.seasonalContrib[i];
      if (v.offset) {
        // the offset is a plain additive term of raw (scaled units, before the prediction scale)
        out.offsetContrib![i] = v.offset[i];
        raw += v.offset[i];
      }
      const pred = sp(v.predScaleRaw[0]) * raw;
      out.prediction[i] = pred;
      const w = v.lossMask[i];
      const d = pred - v.target[i];
      const huber = Math.abs(d) < delta ? 0.5 * d * d : delta * (Math.abs(d) - 0.5 * delta);
      n += w;
      dataSum += w * (o.loss === 'mse' ? d * d : huber);
      attrSum += w * (media - prior * raw) ** 2;
    }
  const data = n > 0 ? dataSum / n : 0;
  const attr = n > 0 ? attrSum / n : 0;
  const seas = (sp(v.seasonalCoeffRaw[0]) - 1) ** 2;
  const [ra0, rs] = ratios ?? [data / (attr + 1e-8), data / (seas + 1e-8)];
  // a fixed attribution weight has no ratio at all
  const ra = o.attrScale === 'fixed' ? 1 : ra0;
  const loss = data + (o.attrWeight ?? 0.5) * attr * ra + (o.seasWeight ?? 0.1) * seas * rs;
  return { loss, parts: [data, attr, seas, n], out };
}

/** ∂loss/∂input by central differences of `naive` with the stop-gradient ratios frozen. */
function fdGrads(c: Case, o: MmmOutputOptions, frozen = true): Partial<Record<Name, Float64Array>> {
  const base = naive(c, o);
  const [data, attr, seas] = base.parts;
  const ratios: [number, number] | undefined = frozen
    ? [data / (attr + 1e-8), data / (seas + 1e-8)]
    : undefined;
  const g: Partial<Record<Name, Float64Array>> = {};
  for (const k of diffOf(c))
    g[k] = finiteDiff((x) => naive({ ...c, v: { ...c.v, [k]: x } }, o, ratios).loss, c.v[k]!);
  return g;
}

// ---- inputs -------------------------------------------------------------------------------------

const f32 = (a: ArrayLike<number>) => Float64Array.from(a, Math.fround);

/**
 * Random inputs; the target is the naive prediction plus U(−0.5, 0.5), so |d| straddles δ. With
 * `offset`, an offset U(−1, 1) [R, T] is drawn too (before the noise) and is part of that prediction.
 */
function randomCase(
  seed: number,
  R: number,
  T: number,
  C: number,
  K: number,
  maskP = 0.8,
  offset = false,
): Case {
  const r = rng(seed);
  const u = (n: number, lo: number, hi: number) => f32(randArray(r, n, lo, hi));
  const n = R * T;
  const v = {
    headMedia: u(n * C, -2, 2),
    headCtrl: u(n * K, -1.5, 1.5),
    mediaMaxRaw: u(C, -1, 1),
    ctrlMaxRaw: u(K, -1, 1),
    stableMedia: u(C, 0, 0.5),
    stableCtrl: u(K, -0.2, 0.2),
    xt: u(n * C, 0, 1),
    z: u(n * K, -2, 2),
    baselineRaw: u(R, -1, 0.5),
    globalBiasRaw: u(1, -1, 0),
    seasonalCoeffRaw: u(1, -0.5, 1),
    predScaleRaw: u(1, -0.5, 0.5),
    seasonal: u(n, 0, 1),
    target: new Float64Array(n),
    lossMask: Float64Array.from(randArray(r, n, 0, 1), (x) => (x < maskP ? 1 : 0)),
  };
  const c: Case = { R, T, C, K, v };
  if (offset) c.v.offset = u(n, -1, 1);
  const pred = naive(c, {}).out.prediction;
  const noise = randArray(r, n, -0.5, 0.5);
  c.v.target = f32(pred.map((p, i) => p + noise[i]));
  return c;
}

// ---- running the op -----------------------------------------------------------------------------

type OpFn = (inp: MmmOutputInputs, o: MmmOutputOptions) => MmmOutputResult;

interface Run {
  loss: number;
  parts: Float64Array;
  out: Partial<Record<Out, Float64Array>>;
  grads: Partial<Record<Name, Float64Array>>;
  nullGrads: Name[];
}

/** Both heads of a case side by side, [R, T, C + K] (media columns first). */
function headsOfCase(c: Case): Float64Array {
  const { R, T, C, K } = c;
  const n = R * T;
  const heads = new Float64Array(n * (C + K));
  for (let i = 0; i < n; i++) {
    heads.set(c.v.headMedia.subarray(i * C, (i + 1) * C), i * (C + K));
    heads.set(c.v.headCtrl.subarray(i * K, (i + 1) * K), i * (C + K) + C);
  }
  return heads;
}

/**
 * Runs the op in 'all' mode and backward from `seed`. With `heads`, the op (mmmOutput or
 * mmmOutputComposed) gets both heads in one tensor, and its gradient is split back into the two.
 */
async function run(
  e: Engine,
  c: Case,
  o: MmmOutputOptions,
  op: OpFn = mmmOutput,
  seed = 1,
  heads = false,
): Promise<Run> {
  const ts = {} as Record<Name, Tensor>;
  for (const k of namesOf(c)) {
    if (heads && (k === 'headMedia' || k === 'headCtrl')) continue;
    ts[k] = e.tensor(c.v[k]!, shapeOf(c, k)).requireGrad(!CONSTANT.includes(k));
  }
  const { R, T, C, K } = c;
  const h = heads ? e.tensor(headsOfCase(c), [R, T, C + K]).requireGrad() : undefined;
  return gradScope(e, async () => {
    // no tidy around the forward: the composed op's intermediates are read again by backward
    let res: Record<string, Tensor>;
    if (h) {
      if (op !== mmmOutput && op !== mmmOutputComposed)
        throw new Error('heads: an op of the module');
      const given = { ...(ts as Omit<MmmOutputInputs, 'headMedia' | 'headCtrl'>), heads: h };
      res = (op as typeof mmmOutput)(given, { ...o, outputs: 'all' }) as unknown as Record<
        string,
        Tensor
      >;
    } else {
      res = op(ts as MmmOutputInputs, { ...o, outputs: 'all' }) as unknown as Record<
        string,
        Tensor
      >;
    }
    const r: Run = {
      loss: (await res.loss.toArray())[0],
      parts: await res.parts.toArray(),
      out: {},
      grads: {},
      nullGrads: [],
    };
    for (const k of outsOf(c.v.offset !== undefined)) r.out[k] = await res[k].toArray();
    // no decomposition entry without an offset
    if (!c.v.offset) expect(res.offsetContrib).toBeUndefined();
    const dy = e.tensor([seed], [1]);
    backward(res.loss, dy);
    dy.dispose();
    for (const k of Object.keys(ts) as Name[]) {
      const g = ts[k].grad;
      if (g) r.grads[k] = await g.toArray();
      // (the composed op never touches the empty control inputs when K = 0)
      else if (ts[k].size === 0 && !CONSTANT.includes(k)) r.grads[k] = new Float64Array(0);
      else r.nullGrads.push(k);
    }
    if (h) {
      const n = R * T;
      const g = await h.grad!.toArray();
      const gm = new Float64Array(n * C);
      const gc = new Float64Array(n * K);
      for (let i = 0; i < n; i++) {
        gm.set(g.subarray(i * (C + K), i * (C + K) + C), i * C);
        gc.set(g.subarray(i * (C + K) + C, (i + 1) * (C + K)), i * K);
      }
      r.grads.headMedia = gm;
      r.grads.headCtrl = gc;
      h.grad!.dispose();
      h.dispose();
    }
    Object.values(res).forEach((t) => t.dispose());
    Object.values(ts).forEach((t) => {
      t.grad?.dispose();
      t.dispose();
    });
    return r;
  });
}

/** Scale-aware tolerance: atol relative to the largest reference magnitude. */
function scaled(ref: ArrayLike<number>, rel: number, rtol: number): Tolerance {
  let m = 0;
  for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ref[i]));
  return { atol: rel * m + 1e-12, rtol };
}

// Device (f32) vs the f64 kernel. Forward: sigmoid/softplus/tanh chains (TOL.transcendental)
// summed over C + K ≤ 20 terms of O(1) → rtol 1e-5, atol 1e-6 (TOL.loss); the loss and parts are
// means over R·T ≤ 1040 here, accumulated in tree order → TOL.loss as well. Gradients: each is a
// product of a per-week upstream term (which itself cancels: pred − target is O(0.5) from values
// of O(3), i.e. ~1e-6 relative error) and transcendental factors, or a sum of such products over
// R·T; mixed signs cancel in the sums, so elements are compared against 1e-5 of the gradient's
// largest magnitude plus rtol 1e-4.
const FWD: Tolerance = TOL.loss;
const gradTol = (ref: ArrayLike<number>) => scaled(ref, 1e-5, 1e-4);

function compareRuns(a: Run, b: Run, label: string, fwd: Tolerance, gradRel = 1e-5): void {
  const hasOffset = b.grads.offset !== undefined;
  expect(a.grads.offset !== undefined).toBe(hasOffset);
  expect(a.out.offsetContrib !== undefined).toBe(hasOffset);
  expectClose([a.loss], [b.loss], fwd, `${label} loss`);
  expectClose(a.parts, b.parts, fwd, `${label} parts`);
  for (const k of outsOf(hasOffset)) expectClose(a.out[k]!, b.out[k]!, fwd, `${label} ${k}`);
  for (const k of hasOffset ? [...DIFF, 'offset' as const] : DIFF)
    expectClose(a.grads[k]!, b.grads[k]!, scaled(b.grads[k]!, gradRel, 1e-4), `${label} d${k}`);
  expect(a.nullGrads.sort()).toEqual(b.nullGrads.sort());
}

/**
 * Every check of one case: naive, fd, device, composed (with `heads`, every run passes both heads
 * in one tensor).
 */
async function checkCase(c: Case, o: MmmOutputOptions, label: string, heads = false): Promise<Run> {
  const want = naive(c, o);
  const cpu = await run(E.cpu, c, o, mmmOutput, 1, heads);
  // CPU kernel vs the plain loop: both float64, only summation order differs
  expectClose([cpu.loss], [want.loss], { atol: 1e-12, rtol: 1e-10 }, `${label} cpu loss`);
  expectClose(cpu.parts, want.parts, { atol: 1e-12, rtol: 1e-10 }, `${label} cpu parts`);
  for (const k of outsOf(c.v.offset !== undefined))
    expectClose(cpu.out[k]!, want.out[k]!, { atol: 1e-12, rtol: 1e-10 }, `${label} cpu ${k}`);
  expect(cpu.nullGrads.sort()).toEqual([...CONSTANT].sort());
  const fd = fdGrads(c, o);
  for (const k of diffOf(c))
    expectClose(cpu.grads[k]!, fd[k]!, TOL.finiteDiff, `${label} cpu d${k} vs fd`);
  // the composed op on the f64 backend agrees to rounding
  const cpuComposed = await run(E.cpu, c, o, mmmOutputComposed, 1, heads);
  compareRuns(cpuComposed, cpu, `${label} cpu composed`, { atol: 1e-12, rtol: 1e-10 }, 1e-12);
  const dev = await run(E.dev, c, o, mmmOutput, 1, heads);
  compareRuns(dev, cpu, `${label} dev`, FWD);
  const devComposed = await run(E.dev, c, o, mmmOutputComposed, 1, heads);
  compareRuns(devComposed, cpu, `${label} dev composed`, FWD);
  return cpu;
}

/** Counts how many unmasked weeks fall on each side of the Huber threshold. */
function huberSides(c: Case, o: MmmOutputOptions): [number, number] {
  const pred = naive(c, o).out.prediction;
  let inside = 0;
  let outside = 0;
  pred.forEach((p, i) => {
    if (c.v.lossMask[i] === 0) return;
    if (Math.abs(p - c.v.target[i]) < (o.huberDelta ?? 0.25)) inside++;
    else outside++;
  });
  return [inside, outside];
}

describe('mmmOutput', () => {
  test('defaults: exponential burn-in, Huber on both sides of δ', async () => {
    const c = randomCase(1, 3, 10, 4, 3);
    const [inside, outside] = huberSides(c, {});
    expect(inside).toBeGreaterThan(3);
    expect(outside).toBeGreaterThan(3);
    await checkCase(c, {}, 'default');
  });
  test('linear burn-in, MSE', async () => {
    await checkCase(randomCase(2, 2, 9, 3, 2), { burnInMethod: 'linear', loss: 'mse' }, 'lin');
  });
  test('sigmoid burn-in, B = 4, other weights', async () => {
    const o: MmmOutputOptions = {
      burnInMethod: 'sigmoid',
      burnInWeeks: 4,
      huberDelta: 0.1,
      mediaPrior: 0.3,
      attrWeight: 0.7,
      seasWeight: 0.2,
    };
    await checkCase(randomCase(3, 2, 8, 3, 2), o, 'sig');
  });
  test('fixed attribution weight: attrWeight·L_attr (prior 0: an L2 pull of the media toward 0)', async () => {
    for (const [o, label] of [
      [{ attrScale: 'fixed', attrWeight: 0.3 }, 'fixed'],
      [{ attrScale: 'fixed', attrWeight: 0.05, mediaPrior: 0, loss: 'mse' }, 'fixed0'],
    ] as [MmmOutputOptions, string][])
      await checkCase(randomCase(11, 2, 9, 3, 2), o, label);
    // the fixed term differs from the adaptive one (else the test above could not tell them apart)
    const c = randomCase(11, 2, 9, 3, 2);
    const fixed = naive(c, { attrScale: 'fixed', attrWeight: 0.3 }).loss;
    const adaptive = naive(c, { attrWeight: 0.3 }).loss;
    expect(Math.abs(fixed - adaptive)).toBeGreaterThan(1e-3);
  });
  test('B = 0 (no blend)', async () => {
    await checkCase(randomCase(4, 2, 7, 2, 2), { burnInWeeks: 0 }, 'B0');
  });
  test('T ≤ B: every week blended (T = 4 < B = 6, and T = B = 5)', async () => {
    await checkCase(randomCase(5, 2, 4, 3, 2), {}, 'T<B');
    await checkCase(randomCase(6, 2, 5, 2, 1), { burnInWeeks: 5, burnInMethod: 'linear' }, 'T=B');
  });
  test('R = 1, C = 1, K = 1', async () => {
    await checkCase(randomCase(7, 1, 12, 1, 1), {}, 'R1C1K1');
  });
  test('K = 0 (no controls)', async () => {
    const cpu = await checkCase(randomCase(8, 2, 8, 3, 0), {}, 'K0');
    expect(cpu.grads.headCtrl!.length).toBe(0);
    expect(cpu.grads.ctrlMaxRaw!.length).toBe(0);
  });
  test('R·T past one workgroup: R = 9, T = 40 (6 forward partial groups), C = 13, K = 7', async () => {
    const c = randomCase(9, 9, 40, 13, 7);
    const o: MmmOutputOptions = {};
    const cpu = await run(E.cpu, c, o);
    const want = naive(c, o);
    expectClose([cpu.loss], [want.loss], { atol: 1e-12, rtol: 1e-10 }, 'big cpu loss');
    const dev = await run(E.dev, c, o);
    compareRuns(dev, cpu, 'big dev', FWD);
    const devComposed = await run(E.dev, c, o, mmmOutputComposed);
    compareRuns(devComposed, cpu, 'big dev composed', FWD);
  });

  test('all weeks masked (n = 0): loss 0, zero gradients, no NaN', async () => {
    const c = randomCase(10, 2, 8, 3, 2);
    c.v.lossMask.fill(0);
    for (const [e, op] of [
      [E.cpu, mmmOutput],
      [E.dev, mmmOutput],
      [E.dev, mmmOutputComposed],
    ] as const) {
      const r = await run(e, c, {}, op);
      expect(r.loss).toBe(0);
      const seas = (sp(c.v.seasonalCoeffRaw[0]) - 1) ** 2;
      expectClose(r.parts, [0, 0, seas, 0], TOL.transcendental, 'n=0 parts');
      for (const k of DIFF) {
        const g = r.grads[k]!;
        expect(g.every((x) => x === 0)).toBe(true);
      }
      // the decomposition is still computed
      expectClose(r.out.prediction!, naive(c, {}).out.prediction, FWD, 'n=0 prediction');
    }
  });

  test('burn-in blends exactly weeks 0..B−1 (β = stable at t = 0, β̂ from t = B)', async () => {
    const c = randomCase(11, 1, 9, 2, 1);
    const B = 6;
    const r = await run(E.dev, c, { burnInWeeks: B });
    const beta = r.out.mediaCoeffs!;
    const C = 2;
    for (let ch = 0; ch < C; ch++) {
      const head = (t: number) => sig(c.v.headMedia[t * C + ch]) * (sp(c.v.mediaMaxRaw[ch]) + 0.1);
      // s_0 = 1: week 0 is exactly the stable coefficient
      expectClose([beta[ch]], [c.v.stableMedia[ch]], TOL.transcendental, 'week 0');
      // week B − 1 is still blended with s = e^{−3(B−1)/B}
      const s = Math.exp((-3 * (B - 1)) / B);
      const want = s * c.v.stableMedia[ch] + (1 - s) * head(B - 1);
      expectClose([beta[(B - 1) * C + ch]], [want], TOL.transcendental, 'week B−1');
      expect(Math.abs(want - head(B - 1))).toBeGreaterThan(1e-3);
      // weeks ≥ B use the head alone
      for (let t = B; t < 9; t++)
        expectClose([beta[t * C + ch]], [head(t)], TOL.transcendental, `week ${t}`);
    }
  });

  test('the stop-gradient matters: gradients differ from those of the unstopped loss', async () => {
    const c = randomCase(12, 2, 8, 3, 2);
    const dev = await run(E.dev, c, {});
    const frozen = fdGrads(c, {}, true);
    const unfrozen = fdGrads(c, {}, false);
    for (const k of ['headMedia', 'xt', 'seasonalCoeffRaw'] as const) {
      expectClose(dev.grads[k]!, frozen[k]!, gradTol(frozen[k]!), `stopgrad d${k}`);
      // without the stop-gradient the ratio's own derivative changes the result well past the tolerance
      let worst = 0;
      let scale = 0;
      unfrozen[k]!.forEach((g, i) => {
        worst = Math.max(worst, Math.abs(g - frozen[k]![i]));
        scale = Math.max(scale, Math.abs(frozen[k]![i]));
      });
      expect(worst).toBeGreaterThan(0.05 * scale);
    }
  });

  // Device only: Jest's VM context runs float64 loops ~20× slower than plain Node, so a full CPU
  // run of this size would take minutes. Instead: four regions against the CPU op, and the
  // reductions against float64 sums of the device's own per-week outputs.
  (process.env.CAUSALMIX_ADAPTER === 'cpu' ? test.skip : test)(
    'large R·T = 1024×260, C = 13, K = 7 on the device',
    async () => {
      const [R, T, C, K] = [1024, 260, 13, 7];
      const n = R * T;
      const r = rng(13);
      const u = (m: number, lo: number, hi: number) => f32(randArray(r, m, lo, hi));
      const v = {
        headMedia: u(n * C, -2, 2),
        headCtrl: u(n * K, -1.5, 1.5),
        mediaMaxRaw: u(C, -1, 1),
        ctrlMaxRaw: u(K, -1, 1),
        stableMedia: u(C, 0.1, 0.5),
        stableCtrl: u(K, -0.2, 0.2),
        xt: u(n * C, 0, 0.3),
        z: u(n * K, -2, 2),
        baselineRaw: u(R, -1, 0.5),
        globalBiasRaw: u(1, -1, 0),
        seasonalCoeffRaw: u(1, -0.5, 1),
        predScaleRaw: u(1, -0.5, 0.5),
        seasonal: u(n, 0, 1),
        target: u(n, 0.5, 3.5),
        lossMask: Float64Array.from(randArray(r, n, 0, 1), (x) => (x < 0.9 ? 1 : 0)),
      };
      const o: MmmOutputOptions = {};
      const dev = await run(E.dev, { R, T, C, K, v }, o);

      // (1) parts and loss: float64 sums over the device's per-week outputs
      const pred = dev.out.prediction!;
      const mc = dev.out.mediaContrib!;
      const ps = sp(v.predScaleRaw[0]);
      let cnt = 0;
      let dsum = 0;
      let asum = 0;
      for (let i = 0; i < n; i++) {
        if (v.lossMask[i] === 0) continue;
        const d = pred[i] - v.target[i];
        const a = Math.abs(d);
        let msum = 0;
        for (let ch = 0; ch < C; ch++) msum += mc[i * C + ch];
        cnt++;
        dsum += a < 0.25 ? 0.5 * d * d : 0.25 * (a - 0.125);
        asum += (msum - 0.4 * (pred[i] / ps)) ** 2;
      }
      const seas = (sp(v.seasonalCoeffRaw[0]) - 1) ** 2;
      const [data, attr] = [dsum / cnt, asum / cnt];
      // f32 sums of 266,240 terms: ~1040 in sequence per invocation, then trees → rtol 2e-5
      const sumTol = { atol: 1e-6, rtol: 2e-5 };
      expect(dev.parts[3]).toBe(cnt);
      expectClose(dev.parts, [data, attr, seas, cnt], sumTol, 'large parts');
      const loss = data + 0.5 * attr * (data / (attr + 1e-8)) + 0.1 * seas * (data / (seas + 1e-8));
      expectClose([dev.loss], [loss], sumTol, 'large loss');

      // (2) four regions on the CPU: the same per-week values; gradients once the two global
      // factors match: dy/n (set by the seed) and attrWeight·ratio/n (set by attrWeight)
      const regions = [0, 1, 511, 1023];
      const sub = (key: Base, per: number) =>
        Float64Array.from(
          regions.flatMap((q) => Array.from(v[key].subarray(q * T * per, (q + 1) * T * per))),
        );
      const sv = { ...v };
      for (const [key, per] of [
        ['headMedia', C],
        ['headCtrl', K],
        ['xt', C],
        ['z', K],
        ['seasonal', 1],
        ['target', 1],
        ['lossMask', 1],
      ] as const)
        sv[key] = sub(key, per);
      sv.baselineRaw = Float64Array.from(regions, (q) => v.baselineRaw[q]);
      const subCase: Case = { R: regions.length, T, C, K, v: sv };
      const sp0 = naive(subCase, o).parts;
      const ratioSub = sp0[0] / (sp0[1] + 1e-8);
      const ratioFull = dev.parts[0] / (dev.parts[1] + 1e-8);
      const cpu = await run(
        E.cpu,
        subCase,
        { ...o, attrWeight: (0.5 * ratioFull) / ratioSub },
        mmmOutput,
        sp0[3] / dev.parts[3],
      );
      const rows = (a: Float64Array, per: number) =>
        Float64Array.from(
          regions.flatMap((q) => Array.from(a.subarray(q * T * per, (q + 1) * T * per))),
        );
      const per = { prediction: 1, mediaCoeffs: C, ctrlCoeffs: K, mediaContrib: C } as const;
      for (const [k, m] of Object.entries(per))
        expectClose(
          rows(dev.out[k as keyof typeof per]!, m),
          cpu.out[k as keyof typeof per]!,
          FWD,
          `large ${k}`,
        );
      for (const [k, m] of [
        ['headMedia', C],
        ['headCtrl', K],
        ['xt', C],
      ] as const)
        expectClose(rows(dev.grads[k]!, m), cpu.grads[k]!, gradTol(cpu.grads[k]!), `large d${k}`);
      const dBase = Float64Array.from(regions, (q) => dev.grads.baselineRaw![q]);
      expectClose(dBase, cpu.grads.baselineRaw!, gradTol(cpu.grads.baselineRaw!), 'large dbase');

      // (3) the parameter sums over all weeks, from the device's per-week gradients:
      // gMedia = dXt/β (β > 0 here), g_raw·z = dHeadCtrl / (keep·ctrlMax·(1 − tanh²))
      const beta = dev.out.mediaCoeffs!;
      const dxt = dev.grads.xt!;
      const dhc = dev.grads.headCtrl!;
      const wantMax = new Float64Array(C);
      const wantStable = new Float64Array(C);
      const wantCtrlMax = new Float64Array(K);
      for (let i = 0; i < n; i++) {
        const t = i % T;
        const s = t < 6 ? Math.exp((-3 * t) / 6) : 0;
        for (let ch = 0; ch < C; ch++) {
          const j = i * C + ch;
          const g = (dxt[j] / beta[j]) * v.xt[j];
          wantMax[ch] += (1 - s) * g * sig(v.headMedia[j]);
          wantStable[ch] += s * g;
        }
        for (let k = 0; k < K; k++) {
          const j = i * K + k;
          const th = Math.tanh(v.headCtrl[j]);
          // keep·g_raw·z·tanh = dHeadCtrl·tanh / (ctrlMax·(1 − tanh²)): the head share cancels
          wantCtrlMax[k] += (dhc[j] * th) / ((sp(v.ctrlMaxRaw[k]) + 0.1) * (1 - th * th));
        }
      }
      wantMax.forEach((x, ch) => (wantMax[ch] = x * sig(v.mediaMaxRaw[ch])));
      wantCtrlMax.forEach((x, k) => (wantCtrlMax[k] = x * sig(v.ctrlMaxRaw[k])));
      const rel = (a: Float64Array) => scaled(a, 1e-4, 1e-4);
      expectClose(dev.grads.mediaMaxRaw!, wantMax, rel(wantMax), 'large dmediaMax');
      expectClose(dev.grads.stableMedia!, wantStable, rel(wantStable), 'large dstable');
      expectClose(dev.grads.ctrlMaxRaw!, wantCtrlMax, rel(wantCtrlMax), 'large dctrlMax');
      // Σ_r dBaseline_r/σ(b_r) = Σ g_raw = dGlobalBias/σ(gb)
      let graw = 0;
      dev.grads.baselineRaw!.forEach((g, q) => (graw += g / sig(v.baselineRaw[q])));
      const gb = graw * sig(v.globalBiasRaw[0]);
      expectClose(dev.grads.globalBiasRaw!, [gb], scaled([gb], 1e-4, 1e-4), 'large dglobalBias');
    },
    120_000,
  );

  test('both heads side by side in one tensor (heads [R, T, C + K]) equal separate heads', async () => {
    for (const [R, T, C, K] of [
      [3, 10, 4, 3],
      [2, 70, 5, 1],
      [2, 8, 3, 0],
    ]) {
      const c = randomCase(21 + C, R, T, C, K);
      const n = R * T;
      const heads = new Float64Array(n * (C + K));
      for (let i = 0; i < n; i++) {
        heads.set(c.v.headMedia.subarray(i * C, (i + 1) * C), i * (C + K));
        heads.set(c.v.headCtrl.subarray(i * K, (i + 1) * K), i * (C + K) + C);
      }
      // the combined op, its head gradient split back into the two heads
      const combined: OpFn = (ts, o) => {
        const { headMedia, headCtrl, ...rest } = ts;
        void headCtrl;
        const h = ts.xt.engine.tensor(heads, [R, T, C + K]).requireGrad();
        combinedHeads.push(h);
        void headMedia;
        return mmmOutput({ ...rest, heads: h }, o);
      };
      let combinedHeads: Tensor[] = [];
      for (const e of [E.dev, E.cpu]) {
        const o: MmmOutputOptions = { burnInWeeks: 4 };
        const sep = await run(e, c, o);
        for (const op of [mmmOutput, mmmOutputComposed]) {
          combinedHeads = [];
          const fn: OpFn =
            op === mmmOutput
              ? combined
              : (ts, oo) => {
                  const { headMedia, headCtrl, ...rest } = ts;
                  void headMedia;
                  void headCtrl;
                  const h = ts.xt.engine.tensor(heads, [R, T, C + K]).requireGrad();
                  combinedHeads.push(h);
                  return mmmOutputComposed({ ...rest, heads: h }, oo);
                };
          const got = await run(e, c, o, fn);
          const g = await combinedHeads[0].grad!.toArray();
          const gm = new Float64Array(n * C);
          const gc = new Float64Array(n * K);
          for (let i = 0; i < n; i++) {
            gm.set(g.subarray(i * (C + K), i * (C + K) + C), i * C);
            gc.set(g.subarray(i * (C + K) + C, (i + 1) * (C + K)), i * K);
          }
          got.grads.headMedia = gm;
          got.grads.headCtrl = gc;
          got.nullGrads = got.nullGrads.filter((k) => k !== 'headMedia' && k !== 'headCtrl');
          const label = `${e.adapterName} ${op === mmmOutput ? 'fused' : 'composed'} [${R},${T},${C},${K}]`;
          compareRuns(
            got,
            sep,
            label,
            e.isGpu ? FWD : { atol: 1e-12, rtol: 1e-10 },
            e.isGpu ? 1e-5 : 1e-12,
          );
          combinedHeads.forEach((h) => h.dispose());
        }
      }
    }
  });

  test('dispatches: forward ≤ 2 (both output modes), forward + backward ≤ 4', async () => {
    for (const e of [E.dev, E.cpu]) {
      const c = randomCase(14, 2, 6, 3, 2);
      const ts = {} as Record<Name, Tensor>;
      for (const k of MMM_OUTPUT_INPUTS)
        ts[k] = e.tensor(c.v[k], shapeOf(c, k)).requireGrad(!CONSTANT.includes(k));
      for (const outputs of ['loss', 'all'] as const) {
        e.flush();
        gradScope(e, () => {
          const d0 = e.stats().dispatches;
          const res = mmmOutput(ts, { outputs });
          e.flush();
          expect(e.stats().dispatches - d0).toBeLessThanOrEqual(2);
          const seed = e.tensor([1], [1]);
          e.flush();
          const d1 = e.stats().dispatches;
          const grads = backward(res.loss, seed);
          e.flush();
          expect(e.stats().dispatches - d0).toBeLessThanOrEqual(4);
          expect(e.stats().dispatches - d1).toBeLessThanOrEqual(2);
          grads.forEach((g) => g.dispose());
          Object.values(res).forEach((t: Tensor) => t.dispose());
          seed.dispose();
        });
      }
      // a recorded training step: forward + backward in one program
      const program = e.record(() =>
        gradScope(e, () => {
          const res = mmmOutput(ts);
          return [...backward(res.loss).values()];
        }),
      );
      expect(program.dispatchCount).toBeLessThanOrEqual(4);
      expect(program.kernelCounts()).toEqual({
        mmm_forward: 1,
        mmm_loss: 1,
        mmm_backward: 1,
        mmm_reduce: 1,
      });
      program.dispose();
      Object.values(ts).forEach((t) => t.dispose());
    }
  });

  describe('offset [R, T]: additive term of raw, differentiable', () => {
    const variants: [string, MmmOutputOptions][] = [
      ['Huber', {}],
      ['Huber, no attribution prior', { attrWeight: 0 }],
      ['MSE', { loss: 'mse' }],
      ['MSE, no attribution prior', { loss: 'mse', attrWeight: 0 }],
    ];
    for (const heads of [false, true]) {
      const how = heads ? 'heads [R, T, C + K]' : 'separate heads';
      test.each(variants)(
        `%s, ${how}: forward, backward and fd vs the references`,
        async (name, o) => {
          const c = randomCase(31, 3, 10, 4, 3, 0.8, true);
          if (o.loss !== 'mse') {
            const [inside, outside] = huberSides(c, o);
            expect(inside).toBeGreaterThan(3);
            expect(outside).toBeGreaterThan(3);
          }
          const cpu = await checkCase(c, o, `offset ${name}, ${how}`, heads);
          // offsetContrib is the offset itself
          expect(Array.from(cpu.out.offsetContrib!)).toEqual(Array.from(c.v.offset!));
          // ∂loss/∂offset is g_raw, which also drives the baseline: Σ_t dOffset[r, t]·σ(b_r) =
          // dBaselineRaw[r], and σ(globalBias)·Σ dOffset = dGlobalBiasRaw
          const dOff = cpu.grads.offset!;
          const { R, T } = c;
          const fromOffset = Float64Array.from({ length: R }, (_, r) => {
            let acc = 0;
            for (let t = 0; t < T; t++) acc += dOff[r * T + t];
            return acc * sig(c.v.baselineRaw[r]);
          });
          const f64 = { atol: 1e-12, rtol: 1e-10 };
          expectClose(fromOffset, cpu.grads.baselineRaw!, f64, 'Σ dOffset vs dBaseline');
          const total = dOff.reduce((a, x) => a + x, 0) * sig(c.v.globalBiasRaw[0]);
          expectClose([total], cpu.grads.globalBiasRaw!, f64, 'Σ dOffset vs dGlobalBias');
          // masked-out weeks get no gradient
          dOff.forEach((g, i) => {
            if (c.v.lossMask[i] === 0) expect(g).toBe(0);
          });
        },
      );
    }

    test('K = 0, and R·T past one workgroup (2 × 40), both head layouts', async () => {
      for (const heads of [false, true]) {
        await checkCase(randomCase(32, 2, 8, 3, 0, 0.8, true), {}, `offset K0 ${heads}`, heads);
        const o: MmmOutputOptions = { burnInMethod: 'sigmoid', burnInWeeks: 4, mediaPrior: 0.3 };
        await checkCase(randomCase(33, 2, 40, 3, 1, 0.8, true), o, `offset 2×40 ${heads}`, heads);
      }
    });

    test('the attribution prior reaches the offset: its gradient moves with attrWeight', async () => {
      const c = randomCase(34, 2, 8, 3, 2, 0.8, true);
      const fd0 = fdGrads(c, { attrWeight: 0 }).offset!;
      const fd1 = fdGrads(c, { attrWeight: 1 }).offset!;
      const [g0, g1] = [
        (await run(E.dev, c, { attrWeight: 0 })).grads.offset!,
        (await run(E.dev, c, { attrWeight: 1 })).grads.offset!,
      ];
      expectClose(g0, fd0, gradTol(fd0), 'dOffset, attrWeight 0');
      expectClose(g1, fd1, gradTol(fd1), 'dOffset, attrWeight 1');
      let diff = 0;
      let scale = 0;
      fd1.forEach((x, i) => {
        diff = Math.max(diff, Math.abs(x - fd0[i]));
        scale = Math.max(scale, Math.abs(fd0[i]));
      });
      expect(diff).toBeGreaterThan(0.05 * scale);
    });

    test('a zero offset changes nothing: same values and gradients, bit for bit', async () => {
      const base = randomCase(35, 2, 9, 3, 2);
      const zero: Case = { ...base, v: { ...base.v, offset: new Float64Array(2 * 9) } };
      const same = (a: Float64Array | undefined, b: Float64Array | undefined, what: string) =>
        expect([what, Array.from(a!)]).toEqual([what, Array.from(b!)]);
      for (const e of [E.dev, E.cpu])
        for (const op of [mmmOutput, mmmOutputComposed])
          for (const heads of [false, true]) {
            const without = await run(e, base, {}, op, 1, heads);
            const withZero = await run(e, zero, {}, op, 1, heads);
            expect(withZero.loss).toBe(without.loss);
            same(withZero.parts, without.parts, 'parts');
            for (const k of OUTS) same(withZero.out[k], without.out[k], k);
            for (const k of DIFF) same(withZero.grads[k], without.grads[k], `d${k}`);
            expect(withZero.out.offsetContrib!.every((x) => x === 0)).toBe(true);
            expect(without.out.offsetContrib).toBeUndefined();
            expect(without.grads.offset).toBeUndefined();
          }
    });

    test('dispatches and kernels do not change with an offset (fused, both head layouts)', async () => {
      for (const e of [E.dev, E.cpu])
        for (const heads of [false, true]) {
          const counts: Record<string, unknown>[] = [];
          for (const withOffset of [false, true]) {
            const c = randomCase(14, 2, 6, 3, 2, 0.8, withOffset);
            const ts = {} as Record<Name, Tensor>;
            for (const k of namesOf(c)) {
              if (heads && (k === 'headMedia' || k === 'headCtrl')) continue;
              ts[k] = e.tensor(c.v[k]!, shapeOf(c, k)).requireGrad(!CONSTANT.includes(k));
            }
            const h = e.tensor(headsOfCase(c), [c.R, c.T, c.C + c.K]).requireGrad();
            const given = () =>
              heads
                ? { ...(ts as Omit<MmmOutputInputs, 'headMedia' | 'headCtrl'>), heads: h }
                : (ts as MmmOutputInputs);
            const got: Record<string, unknown> = {};
            for (const outputs of ['loss', 'all'] as const) {
              e.flush();
              gradScope(e, () => {
                const d0 = e.stats().dispatches;
                const res = mmmOutput(given(), { outputs });
                e.flush();
                got[`${outputs} forward`] = e.stats().dispatches - d0;
                expect(res.offsetContrib !== undefined).toBe(withOffset && outputs === 'all');
                const seed = e.tensor([1], [1]);
                e.flush();
                const d1 = e.stats().dispatches;
                const grads = backward(res.loss, seed);
                e.flush();
                got[`${outputs} backward`] = e.stats().dispatches - d1;
                expect(grads.has(ts.offset)).toBe(withOffset);
                grads.forEach((g) => g.dispose());
                Object.values(res).forEach((t: Tensor) => t.dispose());
                seed.dispose();
              });
            }
            const program = e.record(() =>
              gradScope(e, () => {
                const res = mmmOutput(given());
                return [...backward(res.loss).values()];
              }),
            );
            got.recorded = program.dispatchCount;
            got.kernels = program.kernelCounts();
            program.dispose();
            h.dispose();
            Object.values(ts).forEach((t) => t.dispose());
            counts.push(got);
          }
          expect(counts[0]).toEqual({
            'loss forward': 2,
            'loss backward': 2,
            'all forward': 2,
            'all backward': 2,
            recorded: 4,
            kernels: { mmm_forward: 1, mmm_loss: 1, mmm_backward: 1, mmm_reduce: 1 },
          });
          expect(counts[1]).toEqual(counts[0]);
        }
    });

    test('rejects a bad offset: shape, dtype, engine', () => {
      const e = E.cpu;
      const c = randomCase(36, 2, 5, 2, 1);
      const ts = {} as Record<Name, Tensor>;
      for (const k of MMM_OUTPUT_INPUTS) ts[k] = e.tensor(c.v[k], shapeOf(c, k));
      const bad = (t: Tensor, msg: RegExp) => {
        expect(() => mmmOutput({ ...ts, offset: t })).toThrow(msg);
        expect(() => mmmOutputComposed({ ...ts, offset: t })).toThrow(msg);
        t.dispose();
      };
      bad(e.zeros([2, 4]), /offset has shape \[2, 4\], expected \[2, 5\]/);
      bad(e.zeros([10]), /offset has shape \[10\], expected \[2, 5\]/);
      bad(e.tensor(new Array<number>(10).fill(0), [2, 5], 'int32'), /offset must be float32/);
      bad(E.dev.zeros([2, 5]), /offset belongs to another engine than headMedia/);
      Object.values(ts).forEach((t) => t.dispose());
    });
  });

  describe('rejects bad input', () => {
    const make = (e: Engine, c: Case) => {
      const ts = {} as Record<Name, Tensor>;
      for (const k of MMM_OUTPUT_INPUTS) ts[k] = e.tensor(c.v[k], shapeOf(c, k));
      return ts;
    };
    const c = randomCase(15, 2, 5, 2, 1);

    test.each<[string, MmmOutputOptions, RegExp]>([
      ['negative B', { burnInWeeks: -1 }, /burnInWeeks must be an integer ≥ 0, got -1/],
      ['fractional B', { burnInWeeks: 1.5 }, /burnInWeeks must be an integer ≥ 0, got 1.5/],
      [
        'method',
        { burnInMethod: 'cosine' as 'linear' },
        /burnInMethod must be 'exponential', 'linear' or 'sigmoid', got 'cosine'/,
      ],
      ['loss', { loss: 'l1' as 'mse' }, /loss must be 'huber' or 'mse', got 'l1'/],
      ['delta', { huberDelta: 0 }, /huberDelta must be a positive number, got 0/],
      ['prior', { mediaPrior: NaN }, /mediaPrior must be a finite number, got NaN/],
      ['attr weight', { attrWeight: Infinity }, /attrWeight must be a finite number/],
      ['seas weight', { seasWeight: NaN }, /seasWeight must be a finite number/],
      ['outputs', { outputs: 'some' as 'all' }, /outputs must be 'loss' or 'all', got 'some'/],
    ])('option: %s', (_, o, msg) => {
      const ts = make(E.cpu, c);
      expect(() => mmmOutput(ts, o)).toThrow(msg);
      expect(() => mmmOutputComposed(ts, o)).toThrow(msg);
      Object.values(ts).forEach((t) => t.dispose());
    });

    test('wrong shapes, missing inputs, other engine, int32', () => {
      const e = E.cpu;
      const ts = make(e, c);
      const swap = (k: Name, t: Tensor, msg: RegExp) => {
        expect(() => mmmOutput({ ...ts, [k]: t })).toThrow(msg);
        t.dispose();
      };
      swap('target', e.zeros([2, 4]), /target has shape \[2, 4\], expected \[2, 5\]/);
      swap('stableCtrl', e.zeros([2]), /stableCtrl has shape \[2\], expected \[1\]/);
      swap('xt', e.zeros([2, 5, 3]), /xt has shape \[2, 5, 3\], expected \[2, 5, 2\]/);
      swap('baselineRaw', e.zeros([1]), /baselineRaw has shape \[1\], expected \[2\]/);
      swap('headMedia', e.zeros([2, 5]), /headMedia must be \[R, T, C\] with C ≥ 1, got \[2, 5\]/);
      swap('headMedia', e.zeros([2, 5, 0]), /headMedia must be \[R, T, C\] with C ≥ 1/);
      swap('headMedia', e.zeros([0, 5, 2]), /needs at least one region and one week/);
      swap('headCtrl', e.zeros([10]), /headCtrl must be \[R, T, K\], got \[10\]/);
      swap(
        'lossMask',
        e.tensor([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [2, 5], 'int32'),
        /lossMask must be float32, got int32/,
      );
      swap('seasonal', E.dev.zeros([2, 5]), /seasonal belongs to another engine than headMedia/);
      const partial = { ...ts } as Partial<MmmOutputInputs>;
      delete partial.predScaleRaw;
      expect(() => mmmOutput(partial as MmmOutputInputs)).toThrow(/input predScaleRaw is missing/);
      Object.values(ts).forEach((t) => t.dispose());
    });
  });
});
