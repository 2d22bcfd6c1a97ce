import { readFileSync } from 'node:fs';
import { loadCsvPanel } from '../src/data/csv-file.js';
import { panelFromArrays } from '../src/data/arrays.js';
import {
  UnifiedDataPipeline,
  prepareFutureWeeks,
  type PreparedData,
} from '../src/data/pipeline.js';
import { dataDrivenInit, inverseSoftplus } from '../src/data/init.js';
import { DataError } from '../src/data/errors.js';
import type { Panel } from '../src/data/panel.js';

const DATA = 'data';

/** Reads a tensor from a float32 blob + manifest (data/README.md format). */
function loadTensors(base: string): (name: string) => { data: Float32Array; shape: number[] } {
  const manifest = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as {
    tensors: { name: string; shape: number[]; offset_floats: number; count: number }[];
  };
  const all = new Float32Array(Uint8Array.from(readFileSync(`${base}.f32`)).buffer);
  return (name) => {
    const t = manifest.tensors.find((x) => x.name === name);
    if (!t) throw new Error(`no tensor ${name}`);
    return { data: all.subarray(t.offset_floats, t.offset_floats + t.count), shape: t.shape };
  };
}

describe('pipeline parity with the reference (parity-small, upstreamCompat)', () => {
  const { panel, mapping } = loadCsvPanel(`${DATA}/parity-small/panel_long.csv`);
  const prep = new UnifiedDataPipeline({ upstreamCompat: true }).fit(panel);
  const ref = loadTensors(`${DATA}/parity-small/scaled_tensors`);

  test('layout: 10 regions, 46 + 6 weeks, 6 padding weeks, columns as in the reference', () => {
    expect(mapping.region).toBe('region');
    expect(mapping.week).toBe('week');
    expect(mapping.target).toBe('visits');
    expect(mapping.ignored).toEqual(['region_idx', 'week_monday']);
    expect(prep.regions).toEqual(Array.from({ length: 10 }, (_, i) => `Region_${i + 1}`));
    expect([prep.R, prep.W, prep.wTrain, prep.wHoldout, prep.B, prep.T, prep.C, prep.K]).toEqual([
      10, 52, 46, 6, 6, 58, 5, 3,
    ]);
  });

  test('training media, controls and target equal train.X_media / X_control / y', () => {
    const B = prep.B;
    const Ttr = B + prep.wTrain; // the reference's training sequence: padding + training weeks
    for (const [name, ours, D] of [
      ['train.X_media', prep.media, prep.C],
      ['train.X_control', prep.controls, prep.K],
      ['train.y', prep.target, 1],
    ] as const) {
      const r = ref(name);
      expect(r.shape.slice(0, 2)).toEqual([prep.R, Ttr]);
      let maxErr = 0;
      let maxRef = 0;
      for (let reg = 0; reg < prep.R; reg++) {
        for (let t = 0; t < Ttr; t++) {
          for (let d = 0; d < D; d++) {
            const a = ours[(reg * prep.T + t) * D + d];
            const b = r.data[(reg * Ttr + t) * D + d];
            maxErr = Math.max(maxErr, Math.abs(a - b));
            maxRef = Math.max(maxRef, Math.abs(b));
          }
        }
      }
      expect(maxErr).toBeLessThanOrEqual(2e-6 * maxRef);
    }
  });

  test('holdout weeks equal holdout.* after its padding', () => {
    const B = prep.B;
    const H = prep.wHoldout;
    for (const [name, ours, D] of [
      ['holdout.X_media', prep.media, prep.C],
      ['holdout.X_control', prep.controls, prep.K],
      ['holdout.y', prep.target, 1],
    ] as const) {
      const r = ref(name);
      expect(r.shape.slice(0, 2)).toEqual([prep.R, B + H]);
      let maxErr = 0;
      for (let reg = 0; reg < prep.R; reg++) {
        for (let j = 0; j < H; j++) {
          for (let d = 0; d < D; d++) {
            const a = ours[(reg * prep.T + B + prep.wTrain + j) * D + d];
            const b = r.data[(reg * (B + H) + B + j) * D + d];
            maxErr = Math.max(maxErr, Math.abs(a - b));
          }
        }
      }
      expect(maxErr).toBeLessThan(1e-5);
    }
  });

  test('control medians, scales and region means equal the reference statistics', () => {
    const s = prep.scalers;
    const med = ref('control_center_median').data;
    const scale = ref('control_scale_iqr_x1.349').data;
    const ym = ref('y_mean_per_region').data;
    for (let k = 0; k < 3; k++) {
      expect(Math.abs(s.controls.median[k] - med[k])).toBeLessThanOrEqual(1e-6 * Math.abs(med[k]));
      expect(Math.abs(s.controls.scale[k] - scale[k])).toBeLessThanOrEqual(1e-6 * scale[k]);
    }
    for (let r = 0; r < 10; r++) {
      expect(Math.abs(prep.yMean[r] - ym[r])).toBeLessThanOrEqual(1e-6 * ym[r]);
    }
    // no value large enough to be clipped here: the reference's ±5 applied and changed nothing
    expect(s.controls.clip).toBe(5);
  });

  test('seasonal curve equals seasonal_components(non-param) over the training weeks', () => {
    const S = loadTensors(`${DATA}/parity-small/final_state`)('seasonal_components(non-param)');
    expect(S.shape).toEqual([10, 46]);
    let maxErr = 0;
    for (let r = 0; r < 10; r++) {
      for (let w = 0; w < 46; w++) {
        maxErr = Math.max(
          maxErr,
          Math.abs(prep.seasonal[r * prep.T + prep.B + w] - S.data[r * 46 + w]),
        );
      }
      // reference layout: padding weeks repeat S[0]; holdout weeks reuse the curve's tail
      for (let b = 0; b < prep.B; b++) {
        expect(prep.seasonal[r * prep.T + b]).toBe(prep.seasonal[r * prep.T + prep.B]);
      }
      for (let j = 0; j < prep.wHoldout; j++) {
        expect(prep.seasonal[r * prep.T + prep.B + 46 + j]).toBeCloseTo(
          S.data[r * 46 + 46 - prep.wHoldout + j],
          5,
        );
      }
    }
    expect(maxErr).toBeLessThan(2e-6);
  });

  test("training sequence layout matches the reference forward's seasonal output", () => {
    // final_eval 'seasonal' = softplus(seasonal_coeff) · S laid out over padding + training weeks
    const state = loadTensors(`${DATA}/parity-small/final_state`);
    const coeff = Math.log1p(Math.exp(state('seasonal_coeff').data[0]));
    const out = loadTensors(`${DATA}/parity-small/final_eval_outputs_train`)('seasonal');
    const Ttr = prep.B + prep.wTrain;
    expect(out.shape).toEqual([10, Ttr]);
    let maxErr = 0;
    for (let r = 0; r < 10; r++) {
      for (let t = 0; t < Ttr; t++) {
        maxErr = Math.max(
          maxErr,
          Math.abs(coeff * prep.seasonal[r * prep.T + t] - out.data[r * Ttr + t]),
        );
      }
    }
    expect(maxErr).toBeLessThan(2e-6);
  });

  test('data-driven init (upstreamCompat) writes the reference raw values', () => {
    const init = dataDrivenInit(prep, { upstreamCompat: true });
    // region baseline: the mean ỹ itself, ≈ 1 because ȳ is that same mean
    for (let r = 0; r < prep.R; r++) expect(init.baselineRaw[r]).toBeCloseTo(1, 6);
    const plain = dataDrivenInit(prep);
    for (let r = 0; r < prep.R; r++) {
      expect(plain.baselineRaw[r]).toBeCloseTo(inverseSoftplus(init.baselineRaw[r]), 6);
    }
    // Hill g from shares of ~0.2: upstream writes a logit there
    for (let c = 0; c < prep.C; c++) {
      expect(init.halfSatFromData[c]).toBe(1);
      const gCompat = 1 / (1 + Math.exp(-init.halfSatRaw[c])); // inverse of the logit (g ≤ 0.5)
      const gPlain = Math.log1p(Math.exp(plain.halfSatRaw[c]));
      expect(gCompat).toBeCloseTo(gPlain, 6);
    }
  });
});

describe('pipeline on MMM_Data.csv (ragged, 190 regions)', () => {
  const text = readFileSync(`${DATA}/mmm-data-real/MMM_Data.csv`, 'utf8');
  const { panel } = loadCsvPanel(`${DATA}/mmm-data-real/MMM_Data.csv`);
  // media as shares of voice (the spec's scaling, the reference's default): the default
  // x / (4 · region mean) is covered in tests/data-scaling.test.ts
  const prep = new UnifiedDataPipeline({ mediaScaling: 'shareOfVoice' }).fit(panel);
  // the same counts straight from the text
  const lines = text.trim().split('\n').slice(1);
  const weekCol = text.split('\n')[0].split(',').indexOf('weekid');
  const weekOf = lines.map((l) => Number(l.split(',')[weekCol]));

  test('split 96 + 13, B = 6, T = 115, 13 channels, 7 controls', () => {
    expect([prep.R, prep.W, prep.wTrain, prep.wHoldout, prep.B, prep.T, prep.C, prep.K]).toEqual([
      190, 109, 96, 13, 6, 115, 13, 7,
    ]);
  });

  test('masks count exactly the observed training / holdout rows', () => {
    const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    expect(sum(prep.trainMask)).toBe(weekOf.filter((w) => w < 96).length);
    expect(sum(prep.holdoutMask)).toBe(weekOf.filter((w) => w >= 96).length);
    expect(sum(prep.trainMask) + sum(prep.holdoutMask)).toBe(lines.length);
    // no mask on padding weeks
    for (let r = 0; r < prep.R; r++) {
      for (let b = 0; b < prep.B; b++) {
        expect(prep.trainMask[r * prep.T + b] + prep.holdoutMask[r * prep.T + b]).toBe(0);
      }
    }
  });

  test('the two ragged regions of the spec: weeks 0–13 only, and 80–108 only', () => {
    const count = (mask: Float32Array, r: number) =>
      mask.subarray(r * prep.T, (r + 1) * prep.T).reduce((s, v) => s + v, 0);
    const early = prep.regions.indexOf('509');
    const late = prep.regions.indexOf('801');
    expect(count(prep.trainMask, early)).toBe(14);
    expect(count(prep.holdoutMask, early)).toBe(0);
    expect(count(prep.trainMask, late)).toBe(16);
    expect(count(prep.holdoutMask, late)).toBe(13);
    // unobserved weeks: equal shares, controls at the centre, target 0
    const pos = late * prep.T + prep.B + 10;
    expect(Array.from(prep.media.subarray(pos * 13, pos * 13 + 13))).toEqual(
      new Array(13).fill(Math.fround(1 / 13)),
    );
    expect(Array.from(prep.controls.subarray(pos * 7, pos * 7 + 7))).toEqual(new Array(7).fill(0));
    expect(prep.target[pos]).toBe(0);
    // seasonal: period ⌊16/2⌋ = 8 from week 80, continuing by phase into the holdout
    const fit = prep.scalers.seasonal[late];
    expect([fit.period, fit.origin, fit.length]).toEqual([8, 80, 16]);
    const at = (w: number) => prep.seasonal[late * prep.T + prep.B + w];
    expect(at(100)).toBe(at(92));
    expect(at(3)).toBe(at(83));
  });

  test('scaled target has mean 1 per region over its training weeks; shares sum to 1', () => {
    let worstMean = 0;
    for (let r = 0; r < prep.R; r++) {
      let s = 0;
      let n = 0;
      for (let t = 0; t < prep.T; t++) {
        if (prep.trainMask[r * prep.T + t]) {
          s += prep.target[r * prep.T + t];
          n++;
        }
      }
      worstMean = Math.max(worstMean, Math.abs(s / n - 1));
    }
    expect(worstMean).toBeLessThan(1e-5);
    let worstShare = 0;
    let checked = 0;
    for (let p = 0; p < prep.R * prep.T; p++) {
      if (!prep.trainMask[p] && !prep.holdoutMask[p]) continue;
      let s = 0;
      for (let c = 0; c < 13; c++) s += prep.media[p * 13 + c];
      worstShare = Math.max(worstShare, Math.abs(s - 1));
      checked++;
    }
    expect(checked).toBe(lines.length);
    expect(worstShare).toBeLessThan(1e-5);
  });

  test('rawTarget holds the CSV value at observed cells and the scalers survive JSON', () => {
    const r = prep.regions.indexOf('642');
    const w = prep.weeks.indexOf(75);
    expect(prep.rawTarget[r * prep.W + w]).toBe(142717); // first data line of the file
    const round = JSON.parse(JSON.stringify(prep.scalers));
    expect(round).toEqual(prep.scalers);
  });

  test('init: finite values, one per region / channel / control', () => {
    const init = dataDrivenInit(prep);
    expect(init.baselineRaw.length).toBe(190);
    expect(init.stableMedia.length).toBe(13);
    expect(init.stableCtrl.length).toBe(7);
    for (const a of [init.baselineRaw, init.stableMedia, init.stableCtrl, init.halfSatRaw]) {
      for (const v of a) expect(Number.isFinite(v)).toBe(true);
    }
    for (const v of init.stableMedia) expect(v).toBeGreaterThan(0);
  });
});

/** A small hand-built panel: 2 regions × 50 weeks × 2 channels × 1 control. */
function smallPanel(): Panel {
  const R = 2;
  const W = 50;
  return panelFromArrays({
    media: Array.from({ length: R }, (_, r) =>
      Array.from({ length: W }, (_, w) => [w + 1 + r, w % 5 === 0 ? 0 : 10]),
    ),
    controls: Array.from({ length: R }, (_, r) => Array.from({ length: W }, (_, w) => [w + 2 * r])),
    target: Array.from({ length: R }, (_, r) =>
      Array.from({ length: W }, (_, w) => 100 * (r + 1) + Math.sin(w)),
    ),
    regions: ['a', 'b'],
    channels: ['tv', 'radio'],
    controlNames: ['price'],
  });
}

describe('pipeline on a hand-built panel', () => {
  test('sequence layout, padding values and masks', () => {
    const prep: PreparedData = new UnifiedDataPipeline({
      minTrainWeeks: 40,
      mediaScaling: 'shareOfVoice',
    }).fit(smallPanel());
    expect([prep.W, prep.wTrain, prep.wHoldout, prep.T]).toEqual([50, 44, 6, 56]);
    // padding: media 0, controls 0, target 0, no mask
    for (let b = 0; b < 6; b++) {
      expect(prep.media[b * 2]).toBe(0);
      expect(prep.controls[b]).toBe(0);
      expect(prep.target[b]).toBe(0);
      expect(prep.trainMask[b]).toBe(0);
    }
    // week 0 of region a: media [1, 0] → shares [1, 0]; week 1: [2, 10] → [1/6, 5/6]
    expect(prep.media[6 * 2]).toBeCloseTo(1, 6);
    expect(prep.media[7 * 2]).toBeCloseTo(2 / 12, 6);
    expect(prep.media[7 * 2 + 1]).toBeCloseTo(10 / 12, 6);
    expect(prep.trainMask[6]).toBe(1);
    expect(prep.trainMask[6 + 43]).toBe(1);
    expect(prep.holdoutMask[6 + 44]).toBe(1);
    expect(prep.trainMask[6 + 44]).toBe(0);
    // the control: 88 training values {0..43} ∪ {2..45}; lower median of the sorted list, IQR/1.349
    const vals = [...Array(44).keys(), ...Array.from({ length: 44 }, (_, w) => w + 2)].sort(
      (a, b) => a - b,
    );
    const med = vals[Math.floor((vals.length - 1) / 2)];
    const q = (p: number) => {
      const pos = p * (vals.length - 1);
      const lo = Math.floor(pos);
      return vals[lo] + (vals[lo + 1] - vals[lo]) * (pos - lo);
    };
    const scale = (q(0.75) - q(0.25)) / 1.349;
    expect(prep.scalers.controls.median[0]).toBe(med);
    expect(prep.scalers.controls.scale[0]).toBeCloseTo(scale, 12);
    expect(prep.controls[6 + 10]).toBeCloseTo((10 - med) / (scale + 1e-8), 5);
  });

  test('upstreamCompat multiplies the IQR by 1.349 instead', () => {
    const a = new UnifiedDataPipeline().fit(smallPanel()).scalers.controls.scale[0];
    const b = new UnifiedDataPipeline({ upstreamCompat: true }).fit(smallPanel()).scalers.controls
      .scale[0];
    expect(b).toBeCloseTo(a * 1.349 * 1.349, 10);
  });

  test('prepareFuture matches the fitted transform and keys columns by name', () => {
    const panel = smallPanel();
    const pipe = new UnifiedDataPipeline();
    const prep = pipe.fit(panel);
    // the last 3 holdout weeks again, as "future", with channels and regions reordered
    const F = 3;
    const media = new Float64Array(2 * F * 2);
    const controls = new Float64Array(2 * F);
    const regionsF = ['b', 'a'];
    for (let i = 0; i < 2; i++) {
      const r = prep.regions.indexOf(regionsF[i]);
      for (let f = 0; f < F; f++) {
        const w = 47 + f;
        media[(i * F + f) * 2] = panel.media[(r * 50 + w) * 2 + 1]; // radio first
        media[(i * F + f) * 2 + 1] = panel.media[(r * 50 + w) * 2];
        controls[i * F + f] = panel.controls[r * 50 + w];
      }
    }
    const fut = pipe.prepareFuture(
      {
        regions: regionsF,
        weeks: [50, 51, 52],
        channels: ['radio', 'tv'],
        controlNames: ['price'],
        media,
        controls,
      },
      prep,
    );
    for (let r = 0; r < 2; r++) {
      for (let f = 0; f < F; f++) {
        const pos = r * prep.T + prep.B + 47 + f;
        expect(fut.media[(r * F + f) * 2]).toBeCloseTo(prep.media[pos * 2], 7);
        expect(fut.media[(r * F + f) * 2 + 1]).toBeCloseTo(prep.media[pos * 2 + 1], 7);
        expect(fut.controls[r * F + f]).toBeCloseTo(prep.controls[pos], 6);
        // future weeks 50.. continue the seasonal phase
        const fit = prep.scalers.seasonal[r];
        expect(fut.seasonal[r * F + f]).toBeCloseTo(
          fit.pattern[(50 + f - fit.origin) % fit.period],
          7,
        );
      }
    }
    expect(() =>
      prepareFutureWeeks(
        {
          regions: ['a', 'b'],
          weeks: [50],
          channels: ['tv', 'print'],
          controlNames: ['price'],
          media: new Float64Array(4),
          controls: new Float64Array(2),
        },
        prep.scalers,
      ),
    ).toThrow(/lack channel 'radio'/);
    expect(() =>
      prepareFutureWeeks(
        {
          regions: ['a', 'b', 'c'],
          weeks: [50],
          channels: ['tv', 'radio'],
          controlNames: ['price'],
          media: new Float64Array(6),
          controls: new Float64Array(3),
        },
        prep.scalers,
      ),
    ).toThrow(/unknown region 'c'/);
  });

  test('config errors', () => {
    expect(() => new UnifiedDataPipeline({ burnInWeeks: -1 })).toThrow(DataError);
    expect(() => new UnifiedDataPipeline({ holdoutRatio: 1.5 })).toThrow(/holdoutRatio/);
    expect(() => new UnifiedDataPipeline({ minTrainWeeks: 45 }).fit(smallPanel())).toThrow(
      /only 44 training weeks/,
    );
  });
});

describe('dataDrivenInit on a hand-made prepared block', () => {
  // 1 region, B = 1, 12 training + 2 holdout weeks, 2 channels, 1 control
  const B = 1;
  const wTrain = 12;
  const W = 14;
  const T = B + W;
  const share0 = [0.9, 0.8, 0.7, 0.6, 0.5, 0.65, 0.75, 0.85, 0.55, 0.95, 0.6, 0.7];
  const ctrl = [-1, -0.5, 0, 0.5, 1, 1.5, -1.5, 0.2, -0.2, 0.8, -0.8, 0.1];
  const ytil = share0.map((s, i) => 0.5 + 0.6 * s + 0.1 * ctrl[i] + 0.01 * ((i * 7) % 5));
  const media = new Float32Array(T * 2);
  const controls = new Float32Array(T);
  const target = new Float32Array(T);
  const trainMask = new Float32Array(T);
  for (let w = 0; w < W; w++) {
    const pos = B + w;
    // channel 1 is mostly 0 in training: only 3 shares > 1e-4 → default g
    const s0 = w < wTrain ? share0[w] : 0.5;
    const s1 = w < wTrain && w % 4 !== 0 ? 0 : 1 - s0;
    media[pos * 2] = s0;
    media[pos * 2 + 1] = s1;
    controls[pos] = w < wTrain ? ctrl[w] : 99;
    target[pos] = w < wTrain ? ytil[w] : 50;
    if (w < wTrain) trainMask[pos] = 1;
  }
  const prepared = {
    R: 1,
    W,
    wTrain,
    wHoldout: 2,
    B,
    T,
    C: 2,
    K: 1,
    media,
    controls,
    target,
    trainMask,
  } as unknown as PreparedData;
  const f32 = (xs: number[]) => xs.map(Math.fround);
  const X0 = f32(share0);
  const X1 = Array.from({ length: wTrain }, (_, w) => media[(B + w) * 2 + 1]);
  const Xc = f32(ctrl);
  const y = f32(ytil);
  const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
  const sd = (a: number[]) => {
    const m = a.reduce((s, v) => s + v, 0) / a.length;
    return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - 1));
  };

  test('media ridge (2×2 closed form), pooled std ratio, σ(|β|)', () => {
    const a = dot(X0, X0) + 0.01;
    const b = dot(X0, X1);
    const d = dot(X1, X1) + 0.01;
    const det = a * d - b * b;
    const beta0 = (d * dot(X0, y) - b * dot(X1, y)) / det;
    const beta1 = (a * dot(X1, y) - b * dot(X0, y)) / det;
    const ratio = sd(y) / sd([...X0, ...X1]);
    const init = dataDrivenInit(prepared);
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    expect(init.stableMedia[0]).toBeCloseTo(sig(Math.abs(beta0)) * ratio, 10);
    expect(init.stableMedia[1]).toBeCloseTo(sig(Math.abs(beta1)) * ratio, 10);
  });

  test('control ridge on its own, times std(ỹ)/std(X_ctrl)·e^−2.3', () => {
    const beta = dot(Xc, y) / (dot(Xc, Xc) + 0.01);
    const init = dataDrivenInit(prepared);
    expect(init.stableCtrl[0]).toBeCloseTo(((beta * sd(y)) / sd(Xc)) * Math.exp(-2.3), 10);
  });

  test('Hill g: 0.6-quantile of non-zero shares, clamped; default when ≤ 10 exist', () => {
    const sorted = [...X0].sort((p, q) => p - q);
    const pos = 0.6 * 11;
    const q = sorted[6] + (sorted[7] - sorted[6]) * (pos - 6);
    const g = Math.min(Math.max(q, 0.05), 0.9);
    const init = dataDrivenInit(prepared);
    expect(init.halfSatFromData[0]).toBe(1);
    expect(Math.log1p(Math.exp(init.halfSatRaw[0]))).toBeCloseTo(g, 12);
    expect(init.halfSatFromData[1]).toBe(0);
    expect(init.halfSatRaw[1]).toBe(0.2);
    // upstreamCompat: g > 0.5 here, so upstream's ln(e^g − 1) — the same as inverse softplus
    const compat = dataDrivenInit(prepared, { upstreamCompat: true });
    expect(g).toBeGreaterThan(0.5);
    expect(compat.halfSatRaw[0]).toBeCloseTo(Math.log(Math.expm1(g)), 12);
  });

  test('region baseline: inverse softplus of the mean training ỹ (compat: the mean)', () => {
    const mean = y.reduce((s, v) => s + v, 0) / y.length;
    const init = dataDrivenInit(prepared);
    expect(Math.log1p(Math.exp(init.baselineRaw[0]))).toBeCloseTo(mean, 12);
    expect(dataDrivenInit(prepared, { upstreamCompat: true }).baselineRaw[0]).toBeCloseTo(mean, 12);
  });
});
