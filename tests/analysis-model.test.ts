/**
 * Model-based analysis on a tiny trained model: response curves from the decomposition, what-if
 * scenarios through predictFuture, and the dashboard input.
 */
import { createEngine, type Engine } from '../src/engine/engine.js';
import { UnifiedDataPipeline } from '../src/data/pipeline.js';
import type { Panel } from '../src/data/panel.js';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import { DataError } from '../src/data/errors.js';
import { getDefaultConfig, updateConfig } from '../src/model/config.js';
import type { Decomposition, FittedMMM } from '../src/model/fitted.js';
import { ModelTrainer } from '../src/model/trainer.js';
import {
  checkCostPerImpression,
  curvePoints,
  modelResponseCurves,
} from '../src/analysis/model-curves.js';
import {
  checkWhatIfBase,
  compareWhatIf,
  formatWhatIf,
  futureWeekLabels,
  planMedia,
  predictScenario,
  whatIfBaseFromPanel,
  type WhatIfBase,
} from '../src/analysis/what-if.js';
import { buildDashboardData } from '../src/analysis/dashboard-data.js';
import { validateDashboardData } from '../src/dashboard/data.js';
import { BudgetOptimizer } from '../src/analysis/budget-optimizer.js';

let engine: Engine;
let panel: Panel;
let fitted: FittedMMM;
let dec: Decomposition;

beforeAll(async () => {
  engine = await createEngine();
  panel = generateSyntheticPanel({
    regions: 3,
    weeks: 56,
    channels: 3,
    seed: 5,
    raggedRegions: 1,
  }).panel;
  const config = updateConfig(getDefaultConfig(), {
    hiddenDim: 8,
    epochs: 30,
    warmStartEpochs: 5,
    logEvery: 10,
  });
  const prepared = new UnifiedDataPipeline(config).fit(panel);
  fitted = await new ModelTrainer(engine, config).fit(prepared);
  dec = await fitted.decompose();
});

afterAll(() => {
  fitted.dispose();
  engine.destroy();
});

describe('model response curves', () => {
  test('points: national weekly impressions and contributions over observed training weeks', () => {
    const p = fitted.prepared;
    const { R, W, C, wTrain } = p;
    const pts = curvePoints(p, dec, panel.media);
    expect(pts.map((q) => q.channel)).toEqual(p.channels);
    expect(pts[0].x.length).toBe(wTrain);
    for (const w of [0, 7, wTrain - 1])
      for (let c = 0; c < C; c++) {
        let x = 0;
        let y = 0;
        for (let r = 0; r < R; r++) {
          if (!p.observed[r * W + w]) continue;
          x += panel.media[(r * W + w) * C + c];
          y += dec.mediaContrib[(r * W + w) * C + c];
        }
        expect(pts[c].x[w]).toBeCloseTo(x, 6);
        expect(pts[c].y[w]).toBeCloseTo(y, 8);
      }
    // with costs, x is spend
    const costs = Object.fromEntries(p.channels.map((ch, c) => [ch, 0.01 * (c + 1)]));
    const spend = curvePoints(p, dec, panel.media, { costPerImpression: costs });
    expect(spend[2].x[3]).toBeCloseTo(pts[2].x[3] * 0.03, 6);
    expect(spend[2].y[3]).toBe(pts[2].y[3]);
  });

  test('curves fitted to those points, unit says impressions or spend; per-region mode', () => {
    const p = fitted.prepared;
    const res = modelResponseCurves(p, dec, panel.media, { perRegion: true });
    expect(res.unit).toBe('impressions');
    expect(res.curves.length + res.table.skipped.length).toBe(p.C);
    for (const c of res.curves) {
      expect(c.unit).toBe('impressions');
      expect(c.saturation).toBeGreaterThan(0);
      const pts = res.points.find((q) => q.channel === c.channel)!;
      // the saved R² is the fit's R² on these points
      const pred = Array.from(
        pts.x,
        (x) =>
          res.table.rows.find((r) => r.channel === c.channel)!.top *
          (x > 0 ? 1 / (1 + (c.saturation / x) ** c.slope) : 0),
      );
      const mean = pts.y.reduce((a, b) => a + b, 0) / pts.y.length;
      let sse = 0;
      let sst = 0;
      pts.y.forEach((y, i) => ((sse += (y - pred[i]) ** 2), (sst += (y - mean) ** 2)));
      expect(c.r2).toBeCloseTo(1 - sse / sst, 6);
    }
    expect(Object.keys(res.regions!)).toEqual(p.regions);
    const r0 = res.regions![p.regions[0]];
    const own = curvePoints(p, dec, panel.media, { regionsIn: [0] });
    expect(Array.from(r0.points[1].x)).toEqual(Array.from(own[1].x));
    const costs = Object.fromEntries(p.channels.map((ch) => [ch, 2]));
    const spend = modelResponseCurves(p, dec, panel.media, { costPerImpression: costs });
    expect(spend.unit).toBe('spend');
    expect(spend.curves.every((c) => c.unit === 'spend')).toBe(true);
  });

  test('bad cost maps and raw media shapes are DataErrors naming the channel', () => {
    const ch = fitted.prepared.channels;
    const ok = Object.fromEntries(ch.map((c) => [c, 1]));
    expect(checkCostPerImpression(ok, ch)).toEqual(ok);
    expect(() => checkCostPerImpression({ ...ok, radio: 1 }, ch)).toThrow(
      /unknown channel\(s\) 'radio'/,
    );
    const { [ch[1]]: _drop, ...missing } = ok;
    void _drop;
    expect(() => checkCostPerImpression(missing, ch)).toThrow(
      new RegExp(`lacks channel\\(s\\) '${ch[1]}'`),
    );
    expect(() => checkCostPerImpression({ ...ok, [ch[0]]: 0 }, ch)).toThrow(
      new RegExp(`channel '${ch[0]}' must be a finite number > 0, got 0`),
    );
    expect(() => checkCostPerImpression({ ...ok, [ch[0]]: '3' }, ch)).toThrow(DataError);
    expect(() => curvePoints(fitted.prepared, dec, new Float64Array(10))).toThrow(
      /raw media has 10 values, expected R×W×C = 3×56×3/,
    );
  });
});

describe('what-if scenarios', () => {
  let base: WhatIfBase;
  beforeAll(() => {
    base = whatIfBaseFromPanel(panel, fitted.prepared);
  });

  test('base: region shares over the last 13 observed training weeks; last observed controls', () => {
    const { W, C, K, R, wTrain } = { ...fitted.prepared };
    for (let c = 0; c < C; c++) {
      expect(base.shares[c].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      const sums = Array.from({ length: R }, (_, r) => {
        const ws = [];
        for (let w = wTrain - 1; w >= 0 && ws.length < 13; w--)
          if (panel.observed[r * W + w]) ws.push(w);
        return ws.reduce((s, w) => s + panel.media[(r * W + w) * C + c], 0);
      });
      const tot = sums.reduce((a, b) => a + b, 0);
      sums.forEach((s, r) => expect(base.shares[c][r]).toBeCloseTo(s / tot, 12));
    }
    for (let r = 0; r < R; r++) {
      let last = W - 1;
      while (!panel.observed[r * W + last]) last--;
      for (let k = 0; k < K; k++)
        expect(base.lastControls[r][k]).toBe(panel.controls[(r * W + last) * K + k]);
    }
    expect(checkWhatIfBase(JSON.parse(JSON.stringify(base)), fitted.prepared)).toEqual(base);
    expect(() => checkWhatIfBase({ ...base, channels: ['x'] }, fitted.prepared)).toThrow(
      /does not match the model/,
    );
    expect(() => checkWhatIfBase({ ...base, shares: [[1]] }, fitted.prepared)).toThrow(
      /shares must be \[C\]\[R\]/,
    );
  });

  test('plans: national totals split by region share; full arrays pass through', () => {
    const ch = fitted.prepared.channels;
    const R = 3;
    const C = 3;
    const plan = { weeks: 4, national: { [ch[0]]: 1000, [ch[1]]: [1, 2, 3, 4] } };
    const m = planMedia(plan, base);
    for (let f = 0; f < 4; f++) {
      let s0 = 0;
      let s1 = 0;
      for (let r = 0; r < R; r++) {
        s0 += m[(r * 4 + f) * C];
        s1 += m[(r * 4 + f) * C + 1];
        expect(m[(r * 4 + f) * C]).toBeCloseTo(1000 * base.shares[0][r], 9);
        expect(m[(r * 4 + f) * C + 2]).toBe(0); // not in the plan: 0
      }
      expect(s0).toBeCloseTo(1000, 9);
      expect(s1).toBeCloseTo(f + 1, 9);
    }
    expect(Array.from(planMedia({ weeks: 4, media: m }, base))).toEqual(Array.from(m));
    expect(() => planMedia({ weeks: 4 }, base)).toThrow(/either national weekly totals/);
    expect(() => planMedia({ weeks: 4, national: { radio: 1 } }, base)).toThrow(
      /unknown channel\(s\) 'radio'/,
    );
    expect(() => planMedia({ weeks: 4, national: { [ch[0]]: [1, 2] } }, base)).toThrow(
      new RegExp(`channel '${ch[0]}' has 2 weekly values, expected 4`),
    );
    expect(() => planMedia({ weeks: 4, national: { [ch[0]]: -5 } }, base)).toThrow(
      /-5 must be a finite number ≥ 0/,
    );
    expect(() => planMedia({ weeks: 0, national: {} }, base)).toThrow(
      /weeks must be a positive integer/,
    );
    expect(() => planMedia({ weeks: 2, media: [1, 2] }, base)).toThrow(
      /media has 2 values, expected R×F×C = 3×2×3/,
    );
  });

  test('predicted KPI and contributions come from predictFuture; two scenarios compare', async () => {
    const ch = fitted.prepared.channels;
    const nat = Object.fromEntries(ch.map((c, i) => [c, 1e5 * (i + 1)]));
    const a = await predictScenario(fitted, { weeks: 6, national: nat }, base, 'plan');
    const more = { ...nat, [ch[0]]: nat[ch[0]] * 3 };
    const b = await predictScenario(fitted, { weeks: 6, national: more }, base, 'more tv');
    expect(a.weeks).toEqual(futureWeekLabels(panel.weeks[panel.weeks.length - 1], 6));
    // the same plan given as a full array predicts the same
    const same = await predictScenario(fitted, { weeks: 6, media: a.media }, base);
    expect(Array.from(same.prediction)).toEqual(Array.from(a.prediction));
    // and it is predictFuture's answer with controls held at the last observed values
    const controls = new Float64Array(3 * 6 * 3);
    for (let r = 0; r < 3; r++)
      for (let f = 0; f < 6; f++)
        for (let k = 0; k < 3; k++) controls[(r * 6 + f) * 3 + k] = base.lastControls[r][k];
    const direct = await fitted.predictFuture({
      regions: fitted.prepared.regions,
      weeks: a.weeks,
      channels: ch,
      controlNames: fitted.prepared.controlNames,
      media: a.media,
      controls,
    });
    expect(Array.from(a.prediction)).toEqual(Array.from(direct.prediction));
    expect(a.totalKpi).toBeCloseTo(
      direct.prediction.reduce((s, v) => s + v, 0),
      6,
    );
    let c1 = 0;
    for (let i = 0; i < 18; i++) c1 += direct.mediaContrib[i * 3 + 1];
    expect(a.channelContribution[ch[1]]).toBeCloseTo(c1, 6);
    expect(a.channelMedia[ch[0]]).toBeCloseTo(6e5, 3);

    const cmp = compareWhatIf(a, b);
    expect(cmp.kpiDelta).toBeCloseTo(b.totalKpi - a.totalKpi, 9);
    expect(cmp.rows[0].mediaB).toBeCloseTo(3 * cmp.rows[0].mediaA, 3);
    expect(cmp.rows[1].contributionDelta).toBeCloseTo(
      b.channelContribution[ch[1]] - a.channelContribution[ch[1]],
      9,
    );
    expect(cmp.toCsv().split('\n')[0]).toBe(
      'channel,mediaA,mediaB,contributionA,contributionB,contributionDelta',
    );
    expect(formatWhatIf(cmp)).toContain('What-if: more tv vs plan');
    await expect(
      predictScenario(fitted, { weeks: 2, national: nat, controls: [1] }, base),
    ).rejects.toThrow(/controls have 1 values, expected R×F×K = 3×2×3/);
  });

  test('future week labels continue numbers and ISO dates', () => {
    expect(futureWeekLabels(55, 2)).toEqual([56, 57]);
    expect(futureWeekLabels('2024-12-30', 2)).toEqual(['2025-01-06', '2025-01-13']);
  });
});

describe('buildDashboardData', () => {
  test('a valid DashboardData from the model, its curves and a budget comparison', async () => {
    const p = fitted.prepared;
    const report = await fitted.evaluate(dec);
    const curves = modelResponseCurves(p, dec, panel.media);
    const opt = new BudgetOptimizer(
      1e6,
      curves.curves.map((c) => c.channel),
      curves.curves,
    );
    const current = Object.fromEntries(
      curves.curves.map((c) => [c.channel, 1e6 / curves.curves.length]),
    );
    const budget = opt.compareWithCurrent(current, opt.optimize());
    const d = await buildDashboardData(fitted, {
      decomposition: dec,
      report,
      curves,
      budget,
      rawMedia: panel.media,
    });
    expect(validateDashboardData(d)).toEqual({ R: 3, W: 56, C: 3, K: 3 });
    expect(d.wTrain).toBe(p.wTrain);
    expect(d.mediaInputs).toBe(panel.media);
    expect(d.predicted).toBe(dec.prediction);
    expect(d.metrics.train.r2).toBe(report.train.r2);
    expect(d.metrics.holdout.rmse).toBe(report.holdout.rmse);
    expect(d.dag.adjacency).toEqual(await fitted.dagAdjacency());
    expect(d.spendUnit).toBe('impressions');
    // shares of voice cut from the padded sequences: week w is position B + w
    const w = 10;
    expect(d.mediaShares![(1 * p.W + w) * p.C + 2]).toBe(p.media[(1 * p.T + p.B + w) * p.C + 2]);
    expect(d.responseCurves!.map((c) => c.channel)).toEqual(curves.curves.map((c) => c.channel));
    expect(d.responseCurves![0].points).toHaveLength(p.wTrain);
    expect(d.budget!.map((b) => b.channel).sort()).toEqual(
      curves.curves.map((c) => c.channel).sort(),
    );
    // without raw media the inputs shown are the model's scaled inputs (region-mean scaling)
    const bare = await buildDashboardData(fitted, { decomposition: dec, report });
    expect(bare.mediaUnit).toBe('scaled input (x / 4·region mean)');
    expect(bare.mediaInputs).toBe(bare.mediaShares);
    expect(() => validateDashboardData(bare)).not.toThrow();
  });
});
