/**
 * Model-implied response curves (issue 13): the monotone interpolation, the optimizer on
 * simulated curves, and — on a tiny trained model — the batched counterfactual runs: one submit
 * for all channels × 16 multipliers, dispatches that do not grow with the multipliers, stacked
 * scenarios equal to single runs, the base scenario equal to the model's own prediction, the
 * gradient through the model against finite differences, and the plan check.
 */
import { createEngine, type Engine } from '../src/engine/engine.js';
import { UnifiedDataPipeline } from '../src/data/pipeline.js';
import type { Panel } from '../src/data/panel.js';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import { getDefaultConfig, updateConfig } from '../src/model/config.js';
import type { FittedMMM } from '../src/model/fitted.js';
import { ModelTrainer } from '../src/model/trainer.js';
import { isotonic, MonotoneCurve } from '../src/analysis/monotone-curve.js';
import {
  curveMarginal,
  curveResponse,
  hillResponse,
  reviveHillCurve,
  type HillCurve,
} from '../src/analysis/response-curves.js';
import { BudgetOptimizer } from '../src/analysis/budget-optimizer.js';
import {
  carryTailWeeks,
  checkPlanWithModel,
  CURVE_MULTIPLIERS,
  modelImpliedCurves,
  optimizeWithModel,
  planningWindow,
  ScenarioRunner,
} from '../src/analysis/model-response.js';
import { buildDashboardData } from '../src/analysis/dashboard-data.js';
import { validateDashboardData } from '../src/dashboard/data.js';
import { buildChartSpecs } from '../src/dashboard/charts/build.js';

describe('monotone interpolation', () => {
  test('isotonic regression pools violators', () => {
    expect(isotonic([1, 3, 2, 4])).toEqual([1, 2.5, 2.5, 4]);
    expect(isotonic([5, 4, 3])).toEqual([4, 4, 4]);
    expect(isotonic([0, 1, 2])).toEqual([0, 1, 2]);
  });

  test('passes through the points, never falls, extends with the last slope', () => {
    const x = [0, 1, 2, 3, 4, 6];
    const y = [0, 3, 5, 5.5, 7, 7.2];
    const m = new MonotoneCurve({ x, y });
    expect(m.adjusted).toBe(false);
    x.forEach((xi, i) => expect(m.value(xi)).toBeCloseTo(y[i], 12));
    let prev = -Infinity;
    for (let v = 0; v <= 6; v += 0.01) {
      const f = m.value(v);
      expect(f).toBeGreaterThanOrEqual(prev - 1e-12);
      prev = f;
      expect(m.slope(v)).toBeGreaterThanOrEqual(-1e-12);
      // the slope is the value's derivative
      const h = 1e-6;
      if (v > 0.01 && !x.some((xi) => Math.abs(xi - v) < 2e-6))
        expect(m.slope(v)).toBeCloseTo((m.value(v + h) - m.value(v - h)) / (2 * h), 4);
    }
    expect(m.value(8)).toBeCloseTo(7.2 + 2 * m.slope(6), 12);
    expect(new MonotoneCurve({ x: [0, 1, 2], y: [0, 2, 1] }).adjusted).toBe(true);
  });
});

/** A weekly curve given only by points (a Hill shape, sampled at 16 multipliers). */
function sampled(channel: string, top: number, sat: number, slope: number, current: number) {
  const x = CURVE_MULTIPLIERS.map((m) => m * current);
  const h = { top, bottom: 0, saturation: sat, slope };
  return {
    channel,
    ...h,
    r2: 0.9,
    unit: 'spend' as const,
    source: 'simulated' as const,
    use: 'interpolation' as const,
    samples: { x, y: x.map((v) => hillResponse(h, v)) },
  } satisfies HillCurve;
}

describe('the optimizer on simulated curves', () => {
  const curves = [
    sampled('tv', 1e5, 3e4, 2.5, 2e4),
    sampled('search', 6e4, 5e3, 1.2, 8e3),
    sampled('social', 4e4, 1e4, 3, 5e3),
  ];

  test('interpolated curves evaluate the points; the JSON round trip keeps them', () => {
    const c = curves[0];
    c.samples.x.forEach((x, i) => expect(curveResponse(c, x)).toBeCloseTo(c.samples.y[i], 6));
    expect(curveMarginal(c, 2e4)).toBeGreaterThan(0);
    const back = reviveHillCurve(JSON.parse(JSON.stringify(c)));
    expect(back.use).toBe('interpolation');
    expect(back.source).toBe('simulated');
    expect(back.samples).toEqual(c.samples);
    expect(() => reviveHillCurve({ ...c, samples: undefined })).toThrow(/needs "samples"/);
    expect(() => reviveHillCurve({ ...c, samples: { x: [1], y: [2] } })).toThrow(/samples/);
  });

  test('global optimum on the points matches a brute force; bounds = the simulated range', () => {
    const N = 13;
    const budget = N * (2e4 + 8e3 + 5e3);
    const opt = new BudgetOptimizer(budget, ['tv', 'search', 'social'], curves, { numWeeks: N });
    const r = opt.optimize();
    expect(r.success).toBe(true);
    expect(r.notes.join(' ')).toMatch(/tv, search, social: the Hill fit .* R² below 0\.99/);
    expect(r.byChannel.every((c) => c.curve === 'interpolation')).toBe(true);
    // default upper bound: 3× the current weekly input over the horizon (or the budget)
    expect(opt.bounds.search.upper).toBeCloseTo(3 * 8e3 * N, 6);
    expect(opt.bounds.tv.upper).toBe(budget);
    let best = -Infinity;
    const G = 300;
    for (let i = 0; i <= G; i++)
      for (let j = 0; i + j <= G; j++) {
        const x = [i, j, G - i - j].map((k) => (k / G) * budget);
        if (x.some((v, c) => v > opt.bounds[['tv', 'search', 'social'][c]].upper)) continue;
        const f = x.reduce((a, v, c) => a + N * curveResponse(curves[c], v / N), 0);
        best = Math.max(best, f);
      }
    expect(r.predictedResponse).toBeGreaterThanOrEqual(best * (1 - 1e-6));
    // a budget past every range: bounds relax to the budget, with a warning
    const big = new BudgetOptimizer(budget * 10, ['tv', 'search', 'social'], curves, {
      numWeeks: N,
    }).optimize();
    expect(big.warnings.join(' ')).toMatch(/extrapolated/);
  });

  test("method 'model' is not the curves' optimizer's", () => {
    expect(() => new BudgetOptimizer(1, ['tv'], [curves[0]], { method: 'model' })).toThrow(
      /optimizeWithModel/,
    );
  });
});

describe('planning window and carry-over tail', () => {
  test('the last N observed weeks; unobserved trailing weeks are skipped', () => {
    const observed = new Uint8Array(2 * 20).fill(1);
    for (const w of [18, 19]) observed[w] = observed[20 + w] = 0;
    observed[15] = observed[35] = 0; // week 15 missing everywhere
    expect(planningWindow({ R: 2, W: 20, observed }, 4)).toEqual({
      from: 13,
      to: 18,
      observedWeeks: 4,
    });
    expect(planningWindow({ R: 2, W: 20, observed }, 100).from).toBe(0);
  });

  test('tail: weeks until α^k < 1 %', () => {
    expect(carryTailWeeks(0.8)).toBe(21);
    expect(carryTailWeeks(0.5)).toBe(7);
    expect(carryTailWeeks(0)).toBe(0);
    expect(0.8 ** 21).toBeLessThan(0.01);
    expect(0.8 ** 20).toBeGreaterThan(0.01);
  });
});

describe('model-implied curves on a trained model', () => {
  let engine: Engine;
  let panel: Panel;
  let fitted: FittedMMM;
  let runner: ScenarioRunner;
  const costs = { tv: 0.02, search: 0.01, social: 0.005 };

  beforeAll(async () => {
    engine = await createEngine();
    panel = generateSyntheticPanel({ regions: 3, weeks: 60, channels: 3, seed: 5 }).panel;
    const config = updateConfig(getDefaultConfig(), {
      hiddenDim: 8,
      epochs: 30,
      warmStartEpochs: 5,
      logEvery: 10,
    });
    const prepared = new UnifiedDataPipeline(config).fit(panel);
    fitted = await new ModelTrainer(engine, config).fit(prepared);
    runner = await ScenarioRunner.create(fitted, {
      rawMedia: panel.media,
      costPerImpression: costs,
    });
  });
  afterAll(() => {
    fitted?.dispose();
    engine?.destroy();
  });

  test('the base scenario continues the data: its window weeks are the model prediction', async () => {
    const dec = await fitted.decompose();
    const p = fitted.prepared;
    const run = await runner.run([p.channels.map(() => null)]);
    for (let k = 0; k < runner.windowWeeks; k++) {
      let s = 0;
      for (let r = 0; r < p.R; r++) s += dec.predictionUnclamped[r * p.W + runner.window.from + k];
      expect(Math.abs(run.weekly[0][k] - s)).toBeLessThan(1e-5 * Math.abs(s) + 1e-6);
    }
    // the window input in spend: Σ raw × cost over the window
    const W = p.W;
    let tv = 0;
    for (let r = 0; r < p.R; r++)
      for (let w = runner.window.from; w < runner.window.to; w++)
        tv += panel.media[(r * W + w) * 3];
    expect(runner.windowInput[0]).toBeCloseTo(tv * costs.tv, 6);
  });

  test('stacked scenarios equal single runs; chunks keep one submit', async () => {
    const sc = [
      [2, null, null],
      [0, 0, 0],
      [null, 0.4, 1.5],
    ];
    const all = await runner.run(sc);
    expect(all.stats.submits).toBe(1);
    expect(all.stats.forwards).toBe(1);
    const alone = await runner.run([sc[2]]);
    alone.weekly[0].forEach((v, k) =>
      expect(Math.abs(v - all.weekly[2][k])).toBeLessThan(1e-5 * Math.abs(v) + 1e-6),
    );
    const chunked = await runner.run(sc, { maxBytes: 1 });
    expect(chunked.stats.forwards).toBe(3);
    expect(chunked.stats.submits).toBe(1);
    chunked.weekly.forEach((w, s) =>
      w.forEach((v, k) =>
        expect(Math.abs(v - all.weekly[s][k])).toBeLessThan(1e-5 * Math.abs(v) + 1e-6),
      ),
    );
  });

  test('all channels × 16 multipliers: one submit, dispatches independent of the multipliers', async () => {
    const mc = await modelImpliedCurves(fitted, {}, runner);
    expect(mc.run.scenarios).toBe(3 * 16);
    expect(mc.run.submits).toBe(1);
    expect(mc.run.forwards).toBe(1);
    const few = await modelImpliedCurves(fitted, { multipliers: [0, 1, 2, 3] }, runner);
    expect(few.run.dispatches).toBe(mc.run.dispatches);
    for (const s of mc.channels) {
      expect(s.multipliers).toEqual([...CURVE_MULTIPLIERS]);
      expect(s.response[0]).toBe(0);
      s.input.forEach((x, k) =>
        expect(x).toBeCloseTo(s.multipliers[k] * runner.windowInput[mc.channels.indexOf(s)], 6),
      );
      expect(s.curve.source).toBe('simulated');
      expect(s.curve.unit).toBe('spend');
      expect(s.curve.use).toBe(s.curve.r2 >= 0.99 ? 'hill' : 'interpolation');
      // weekly samples: window totals ÷ window weeks
      expect(s.curve.samples!.x[15]).toBeCloseTo(s.input[15] / mc.windowWeeks, 6);
      // a curve's multiplier-1 point is what the channel's input of the window brings
      const direct = await runner.run([
        runner.channels.map((_, j) => (j === mc.channels.indexOf(s) ? 1 : null)),
        runner.channels.map((_, j) => (j === mc.channels.indexOf(s) ? 0 : null)),
      ]);
      const n = runner.countedWeeks(mc.channels.indexOf(s));
      const d =
        ScenarioRunner.total(direct.weekly[0], n) - ScenarioRunner.total(direct.weekly[1], n);
      expect(Math.abs(d - s.response[5])).toBeLessThan(1e-5 * Math.abs(d) + 1e-3);
    }
    const csv = mc.toCsv().trimEnd().split('\n');
    expect(csv[0]).toBe(
      'channel,source,curve,r2,multiplier,input,unit,response,weekly_input,weekly_response,window_weeks,tail_weeks,pattern,top,saturation,slope,equation,response_lo,response_hi',
    );
    // one model: no bounds
    expect(csv[1].endsWith(',,')).toBe(true);
    expect(csv).toHaveLength(1 + 3 * 16);
    expect(csv[1].split(',').slice(0, 2)).toEqual(['tv', 'simulated']);

    // the dashboard shows the simulated points and the source
    const dec = await fitted.decompose();
    const data = await buildDashboardData(fitted, {
      decomposition: dec,
      report: await fitted.evaluate(dec),
      curves: mc,
      rawMedia: panel.media,
    });
    validateDashboardData(data);
    expect(data.responseCurves![0].source).toBe('simulated');
    expect(data.responseCurves![0].points).toHaveLength(16);
    const chart = buildChartSpecs(data).find((c) => c.id === 'response-curves')!;
    expect(JSON.stringify(chart.spec)).toMatch(/tv \(simulated, Hill R² \d\.\d{3}/);
  });

  test('the gradient through the model matches finite differences', async () => {
    const m = [1, 0.8, 1.3];
    const g = await runner.valueAndGradient(m);
    const n = runner.countedWeeks('all');
    const base = await runner.run([m]);
    expect(g.value).toBeCloseTo(ScenarioRunner.total(base.weekly[0], n), -1);
    const h = 0.05;
    for (let c = 0; c < 3; c++) {
      const up = m.map((v, j) => (j === c ? v + h : v));
      const dn = m.map((v, j) => (j === c ? v - h : v));
      const r = await runner.run([up, dn]);
      const fd =
        (ScenarioRunner.total(r.weekly[0], n) - ScenarioRunner.total(r.weekly[1], n)) / (2 * h);
      expect(Math.abs(g.gradient[c] - fd)).toBeLessThan(0.02 * Math.abs(fd) + 1e-6);
    }
  });

  test('the recommended plan runs through the model; method model climbs from it', async () => {
    const mc = await modelImpliedCurves(fitted, {}, runner);
    const budget = runner.windowInput.reduce((a, b) => a + b, 0);
    const Nw = runner.windowWeeks;
    const opt = new BudgetOptimizer(budget, runner.channels, mc.curves, { numWeeks: Nw });
    const r = opt.optimize();
    const check = await checkPlanWithModel(runner, r.allocation, Nw, r.predictedResponse);
    expect(Number.isFinite(check.modelResponse)).toBe(true);
    expect(check.curveResponse).toBe(r.predictedResponse);
    expect(check.stats.submits).toBe(1);
    if (Math.abs(check.gapPct) > 2) expect(check.warning).toMatch(/do not add up/);
    else expect(check.warning).toBeUndefined();
    // twice the horizon: the model's response doubles with the plan
    const twice = await checkPlanWithModel(
      runner,
      Object.fromEntries(Object.entries(r.allocation).map(([k, v]) => [k, 2 * v])),
      2 * Nw,
      2 * r.predictedResponse,
    );
    expect(twice.modelResponse).toBeCloseTo(2 * check.modelResponse, 3);

    const withModel = await optimizeWithModel(runner, opt, { iterations: 4 });
    expect(withModel.result.method).toBe('model');
    expect(withModel.ascent.response).toBeGreaterThanOrEqual(withModel.ascent.startResponse);
    const spent = Object.values(withModel.result.allocation).reduce((a, b) => a + b, 0);
    expect(spent).toBeCloseTo(budget, 3);
  });
});
