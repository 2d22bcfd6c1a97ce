/**
 * Contribution tables and the direct / DAG-mediated split, on values a real (tiny) trained model
 * produced: the components add up to the unclamped prediction, and the host recomputation of the
 * media transform reproduces the model's media contributions.
 */
import { createEngine, type Engine } from '../src/engine/engine.js';
import { UnifiedDataPipeline } from '../src/data/pipeline.js';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import { DataError } from '../src/data/errors.js';
import { getDefaultConfig, updateConfig, type DagMode } from '../src/model/config.js';
import type { Decomposition, FittedMMM } from '../src/model/fitted.js';
import { ModelTrainer } from '../src/model/trainer.js';
import {
  contributionTable,
  hostMediaTransform,
  mediaParamsFromRaw,
  mediaPathways,
  modelContributions,
  nationalWeeklyTable,
  type MediaParams,
} from '../src/analysis/contributions.js';

let engine: Engine;
const models: Record<DagMode, { fitted: FittedMMM; dec: Decomposition }> = {} as never;

async function train(dagMode: DagMode) {
  const { panel } = generateSyntheticPanel({
    regions: 3,
    weeks: 56,
    channels: 3,
    seed: 11,
    raggedRegions: 1,
  });
  const config = updateConfig(getDefaultConfig(), {
    hiddenDim: 8,
    epochs: 30,
    warmStartEpochs: 5,
    logEvery: 10,
    dagMode,
    notears: { warmup: 10, every: 10 },
  });
  const prepared = new UnifiedDataPipeline(config).fit(panel);
  const fitted = await new ModelTrainer(engine, config).fit(prepared);
  return { fitted, dec: await fitted.decompose() };
}

beforeAll(async () => {
  engine = await createEngine();
  models.triangular = await train('triangular');
  models.notears = await train('notears');
});

afterAll(() => {
  Object.values(models).forEach((m) => m.fitted.dispose());
  engine.destroy();
});

describe('contributionTable', () => {
  test('components add up to the unclamped prediction in every region-week', async () => {
    for (const { fitted, dec } of Object.values(models)) {
      const t = await modelContributions(fitted, dec);
      const { R, W, C, K } = t;
      expect([R, W, C, K]).toEqual([3, 56, 3, 3]);
      for (let cell = 0; cell < R * W; cell++) {
        let sum = t.baseline[cell] + t.seasonal[cell];
        let abs = Math.abs(t.baseline[cell]) + Math.abs(t.seasonal[cell]);
        for (let c = 0; c < C; c++) {
          sum += t.media[cell * C + c];
          abs += Math.abs(t.media[cell * C + c]);
        }
        for (let k = 0; k < K; k++) {
          sum += t.controls[cell * K + k];
          abs += Math.abs(t.controls[cell * K + k]);
        }
        expect(abs).toBeGreaterThan(0);
        expect(Math.abs(sum - dec.predictionUnclamped[cell])).toBeLessThanOrEqual(1e-5 * abs);
      }
    }
  });

  test('national weekly totals, totals and shares are sums over observed cells', async () => {
    const { fitted, dec } = models.triangular;
    const t = await modelContributions(fitted, dec);
    const p = fitted.prepared;
    const { R, W, C } = t;
    expect(Array.from(t.counted)).toEqual(Array.from(p.observed));
    expect(p.observed.includes(0)).toBe(true); // the ragged region has unobserved weeks
    for (let w = 0; w < W; w++) {
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let r = 0; r < R; r++)
          if (p.observed[r * W + w]) s += dec.mediaContrib[(r * W + w) * C + c];
        expect(t.national.media[w * C + c]).toBeCloseTo(s, 8);
      }
      let b = 0;
      for (let r = 0; r < R; r++) if (p.observed[r * W + w]) b += dec.baseline[r * W + w];
      expect(t.national.baseline[w]).toBeCloseTo(b, 8);
    }
    let pred = 0;
    for (let i = 0; i < R * W; i++) if (p.observed[i]) pred += dec.predictionUnclamped[i];
    expect(Math.abs(t.totals.total - pred)).toBeLessThan(1e-5 * Math.abs(pred));
    const s = t.shares;
    expect(s.media + s.baseline + s.seasonal + s.control).toBeCloseTo(1, 10);
    const mediaTotal = t.totals.media.reduce((a, b) => a + b, 0);
    expect(s.media).toBeCloseTo(mediaTotal / t.totals.total, 12);
    expect(s.baseline).toBeCloseTo(t.totals.baseline / t.totals.total, 12);
  });

  test('long CSV: region, week, component, value for every observed cell', async () => {
    const { fitted, dec } = models.triangular;
    const t = await modelContributions(fitted, dec);
    const lines = t.toCsv().trimEnd().split('\n');
    expect(lines[0]).toBe('region,week,component,value');
    const observed = Array.from(fitted.prepared.observed).filter((v) => v === 1).length;
    expect(lines.length - 1).toBe(observed * (t.C + t.K + 2));
    const first = fitted.prepared.observed.indexOf(1);
    const r = Math.floor(first / t.W);
    const w = first % t.W;
    const [region, week, component, value] = lines[1].split(',');
    expect(region).toBe(t.regions[r]);
    expect(week).toBe(String(t.weeks[w]));
    expect(component).toBe(`media:${t.channels[0]}`);
    expect(Number(value)).toBe(dec.mediaContrib[first * t.C]);
    const comps = new Set(lines.slice(1).map((l) => l.split(',')[2]));
    expect([...comps]).toEqual([
      ...t.channels.map((c) => `media:${c}`),
      ...t.controlNames.map((k) => `control:${k}`),
      'baseline',
      'seasonal',
    ]);
    const wide = nationalWeeklyTable(t);
    expect(wide.rows).toHaveLength(t.W);
    expect(wide.rows[3]['baseline']).toBe(t.national.baseline[3]);
    expect(wide.toCsv().split('\n')[0]).toBe(
      [
        'week',
        ...t.channels.map((c) => `media:${c}`),
        ...t.controlNames.map((k) => `control:${k}`),
        'baseline',
        'seasonal',
        'predictionUnclamped',
      ].join(','),
    );
  });

  test('shape and name mismatches are DataErrors naming the part', () => {
    const { fitted, dec } = models.triangular;
    const p = fitted.prepared;
    const names = {
      regions: p.regions,
      weeks: p.weeks,
      channels: p.channels,
      controlNames: p.controlNames,
    };
    expect(() => contributionTable(dec, { ...names, regions: p.regions.slice(1) })).toThrow(
      /2 regions × 56 weeks given, the decomposition has 3 × 56/,
    );
    expect(() => contributionTable(dec, { ...names, channels: ['a'] })).toThrow(DataError);
    expect(() => contributionTable(dec, { ...names, observed: new Uint8Array(5) })).toThrow(
      /observed has 5 values, expected R×W = 168/,
    );
    expect(() => contributionTable({ ...dec, baseline: dec.baseline.subarray(1) }, names)).toThrow(
      /baseline has 167 values/,
    );
  });
});

describe('direct vs DAG-mediated media effects', () => {
  test('the host media transform reproduces the model media contributions (1e-4 relative)', async () => {
    for (const [mode, { fitted, dec }] of Object.entries(models)) {
      const pw = await mediaPathways(fitted, dec);
      let maxRef = 0;
      let maxErr = 0;
      for (let i = 0; i < dec.mediaContrib.length; i++) {
        maxRef = Math.max(maxRef, Math.abs(dec.mediaContrib[i]));
        maxErr = Math.max(maxErr, Math.abs(pw.contribution[i] - dec.mediaContrib[i]));
      }
      expect(maxRef).toBeGreaterThan(0);
      expect([mode, maxErr / maxRef <= 1e-4]).toEqual([mode, true]);
      // the adjacency the host uses is the model's
      const A = await fitted.dagAdjacency();
      A.forEach((row, i) =>
        row.forEach((v, j) => expect(pw.params.adjacency[i][j]).toBeCloseTo(v, 12)),
      );
    }
  });

  test('direct + mediated = contribution; credits to parents add up to the mediated total', async () => {
    const { fitted, dec } = models.triangular;
    const pw = await mediaPathways(fitted, dec);
    const { C } = pw;
    for (let i = 0; i < pw.contribution.length; i++)
      expect(pw.direct[i] + pw.mediated[i]).toBeCloseTo(pw.contribution[i], 9);
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    expect(sum(pw.totals.creditedViaChildren)).toBeCloseTo(sum(pw.totals.mediated), 6);
    const t = await modelContributions(fitted, dec);
    const rel =
      Math.abs(sum(pw.totals.totalEffect) - sum(t.totals.media)) / Math.abs(sum(t.totals.media));
    expect(rel).toBeLessThan(1e-4);
    // triangular graph: the first channel has no parents, the last no children
    expect(pw.totals.mediated[0]).toBe(0);
    expect(pw.totals.creditedViaChildren[C - 1]).toBe(0);
    expect(pw.totals.flow[1][0]).toBe(0);
    expect(pw.totals.flow[0][1]).toBeGreaterThan(0);
    // flow[i][j] summed over j is what i is credited with
    for (let i = 0; i < C; i++)
      expect(sum(pw.totals.flow[i])).toBeCloseTo(pw.totals.creditedViaChildren[i], 6);
    const csv = pw.toCsv().split('\n');
    expect(csv[0]).toBe('channel,direct,mediated,creditedViaChildren,totalEffect');
    expect(csv[1].split(',')[0]).toBe(pw.channels[0]);
  });

  test('hostMediaTransform by hand: adstock clamp, Hill at 0, DAG blend', () => {
    const params: MediaParams = {
      alpha: Float64Array.from([0.5, 0.8]),
      slope: Float64Array.from([2, 3]),
      halfSat: Float64Array.from([0.5, 1]),
      mix: Float64Array.from([0.25, 0.5]),
      adjacency: [
        [0, 0.6],
        [0, 0],
      ],
      upstreamCompat: false,
    };
    // R = 1, T = 3, C = 2: channel 0 takes 0.4, 0.2, 0; channel 1 starts at 0 then jumps to 9, 9
    const media = [0.4, 0, 0.2, 9, 0, 9];
    const { hill, transformed } = hostMediaTransform(media, 1, 3, 2, params);
    const hillOf = (a: number, s: number, g: number) => (a > 0 ? a ** s / (a ** s + g ** s) : 0);
    const a0 = [0.4, 0.2 + 0.5 * 0.4, 0 + 0.5 * 0.4];
    const a1 = [0, 9, 10]; // 9 + 0.8·9 = 16.2 clamped to 10
    for (let t = 0; t < 3; t++) {
      const h0 = hillOf(a0[t], 2, 0.5);
      const h1 = hillOf(a1[t], 3, 1);
      expect(hill[t * 2]).toBeCloseTo(h0, 12);
      expect(hill[t * 2 + 1]).toBeCloseTo(h1, 12);
      expect(transformed[t * 2]).toBeCloseTo(0.75 * h0, 12);
      expect(transformed[t * 2 + 1]).toBeCloseTo(0.5 * h1 + 0.5 * 0.6 * h0, 12);
    }
    expect(hill[1]).toBe(0);
    expect(() => hostMediaTransform([1, 2], 1, 3, 2, params)).toThrow(/media has 2 values/);
  });

  test('mediaParamsFromRaw: constraints and the DAG mask; a missing parameter is an error', () => {
    const raw = new Map<string, number[]>([
      ['adstockRaw', [5, -1]],
      ['hillSlopeRaw', [0, 10]],
      ['hillHalfSatRaw', [-10, 3]],
      ['interactionRaw', [0, 1]],
      ['dagLogits', [1, 2, 3, 4]],
    ]);
    const cfg = { dagTemperature: 0.5, dagMode: 'triangular' as const, upstreamCompat: false };
    const p = mediaParamsFromRaw(raw, cfg, 2);
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    expect(p.alpha[0]).toBe(0.8); // σ(5) > 0.8
    expect(p.alpha[1]).toBeCloseTo(sig(-1), 12);
    expect(p.slope[0]).toBe(2); // softplus(0) = 0.69 → 2
    expect(p.slope[1]).toBe(5);
    expect(p.halfSat[0]).toBe(0.01);
    expect(p.halfSat[1]).toBe(1);
    expect(p.mix[1]).toBeCloseTo(sig(1), 12);
    expect(p.adjacency[0][1]).toBeCloseTo(sig(2 / 0.5), 12);
    expect(p.adjacency[1][0]).toBe(0);
    const nt = mediaParamsFromRaw(raw, { ...cfg, dagMode: 'notears' }, 2);
    expect(nt.adjacency[1][0]).toBeCloseTo(sig(3 / 0.5), 12);
    expect(nt.adjacency[0][0]).toBe(0);
    raw.delete('interactionRaw');
    expect(() => mediaParamsFromRaw(raw, cfg, 2)).toThrow(/'interactionRaw' missing/);
  });
});
