/**
 * Budgets against the truth (issue 13): the recovery generator's true process evaluates plans
 * (src/recovery/budget-truth.ts), and on a CI-sized panel (scenario a, 10 regions, the default
 * configuration for the adapter) the plan the optimizer recommends from the model-implied curves
 * reaches ≥ 97 % of the true optimum's incremental media response and beats the current mix. The
 * full benchmark is `npm run bench:curves`.
 */
import { BudgetOptimizer } from '../src/analysis/budget-optimizer.js';
import {
  checkPlanWithModel,
  modelImpliedCurves,
  ScenarioRunner,
} from '../src/analysis/model-response.js';
import { UnifiedDataPipeline } from '../src/data/pipeline.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { Rng } from '../src/engine/random.js';
import { autoConfig } from '../src/model/auto-config.js';
import { ModelTrainer } from '../src/model/trainer.js';
import { budgetTruthCheck, TrueBudgetProcess } from '../src/recovery/budget-truth.js';
import { generateRecoveryPanel } from '../src/recovery/generator.js';
import { scenarioById } from '../src/recovery/scenarios.js';

const panelOf = (id: string, regions = 10) =>
  generateRecoveryPanel({ ...scenarioById(id).panel(0.3, 1), regions });

describe('the true process evaluates plans', () => {
  test.each(['a', 'd'])('scenario %s: the optimum beats random plans and the current mix', (id) => {
    const rp = panelOf(id);
    const truth = new TrueBudgetProcess(rp, 13);
    const C = truth.channels.length;
    expect(truth.response(new Array(C).fill(0))).toBe(0);
    const now = truth.response(new Array(C).fill(1));
    expect(now).toBeGreaterThan(0);
    // more of one channel, more response
    for (let c = 0; c < C; c++) {
      const m = new Array(C).fill(1);
      m[c] = 2;
      expect(truth.response(m)).toBeGreaterThanOrEqual(now);
    }
    const budget = truth.windowSpend.reduce((a, b) => a + b, 0);
    const check = budgetTruthCheck(truth, truth.windowSpend, budget);
    const opt = check.optimum;
    expect(opt.spend.reduce((a, b) => a + b, 0)).toBeCloseTo(budget, 6);
    expect(opt.multipliers.every((m) => m >= -1e-12 && m <= 3 + 1e-9)).toBe(true);
    expect(check.currentRatio).toBeLessThanOrEqual(1);
    expect(check.modelRatio).toBeCloseTo(check.currentRatio, 12); // the plan given was the current one
    const rng = new Rng(7);
    for (let k = 0; k < 150; k++) {
      const w = Array.from({ length: C }, () => rng.uniform());
      const sw = w.reduce((a, b) => a + b, 0);
      const m = truth.multipliersOf(w.map((v) => (v / sw) * budget));
      if (m.some((v) => v > 3)) continue;
      expect(truth.response(m)).toBeLessThanOrEqual(opt.response * (1 + 1e-9));
    }
    // the optimum as the plan: ratio 1
    expect(budgetTruthCheck(truth, opt.spend, budget).modelRatio).toBeCloseTo(1, 9);
  });
});

describe('the recommended plan on the true process', () => {
  let e: Engine;
  beforeAll(async () => {
    e = await createEngine({ adapter: 'auto' });
  });
  afterAll(() => e?.destroy());

  test('scenario a: ≥ 97 % of the true optimum, above the current mix', async () => {
    const rp = panelOf('a');
    const { panel } = rp;
    const config = autoConfig(
      e,
      { R: panel.regions.length, T: panel.weeks.length, C: panel.channels.length },
      { logEvery: 100 },
    ).config;
    const prepared = new UnifiedDataPipeline(config).fit(panel);
    const fitted = await new ModelTrainer(e, config).fit(prepared);
    try {
      const runner = await ScenarioRunner.create(fitted, {
        rawMedia: panel.media,
        costPerImpression: rp.costPerImpression,
      });
      const mc = await modelImpliedCurves(fitted, {}, runner);
      expect(mc.run.submits).toBe(1);
      // every curve fits with R² ≥ 0.99 or says it is interpolated
      for (const c of mc.curves) expect(c.r2 >= 0.99 || c.use === 'interpolation').toBe(true);
      const budget = runner.windowInput.reduce((a, b) => a + b, 0);
      const Nw = runner.windowWeeks;
      const result = new BudgetOptimizer(budget, panel.channels, mc.curves, {
        numWeeks: Nw,
      }).optimize();
      const check = await checkPlanWithModel(
        runner,
        result.allocation,
        Nw,
        result.predictedResponse,
      );
      const truth = new TrueBudgetProcess(rp, Nw);
      const t = budgetTruthCheck(
        truth,
        panel.channels.map((c) => result.allocation[c]),
        budget,
      );
      console.log(
        `budget truth, scenario a (10 regions) on ${e.adapterName}: (ii)/(i) ${(100 * t.modelRatio).toFixed(1)} %, ` +
          `(iii)/(i) ${(100 * t.currentRatio).toFixed(1)} %, curve vs model gap ${check.gapPct.toFixed(2)} %, ` +
          `min R² ${Math.min(...mc.curves.map((c) => c.r2)).toFixed(4)}`,
      );
      expect(t.modelRatio).toBeGreaterThanOrEqual(0.97);
      expect(t.modelRatio).toBeGreaterThanOrEqual(t.currentRatio);
      if (Math.abs(check.gapPct) > 2) expect(check.warning).toBeDefined();
    } finally {
      fitted.dispose();
    }
  }, 1_800_000);
});
