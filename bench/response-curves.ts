/**
 * Model-implied response curves and budgets against the truth (`npm run bench:curves`, issue 13).
 *
 * Truth check: per recovery scenario (src/recovery/scenarios.ts) it fits the default
 * configuration (autoConfig for the adapter), simulates every channel's curve with the trained
 * model (the last 13 weeks' input × 0…3), lets the global optimizer allocate the last 13 weeks'
 * spend (bounds: 0–3× each channel's current spend, the curves' range), runs that plan through
 * the model (curve-based vs model-based response) and evaluates on the generator's true process
 * (baseline excluded): (i) the true optimum for the same budget and bounds, (ii) the model's plan,
 * (iii) the current mix. Prints (ii)/(i) and (iii)/(i); JSON in bench-results/.
 *
 *   npm run bench:curves -- --scenarios a,d --shares 0.3 --seeds 1 --first-seed 2
 *   npm run bench:curves -- --ascent            # also the model method (gradient through the model)
 *   npm run bench:curves -- --timing paper      # time of all channels × 16 multipliers vs one forward
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BudgetOptimizer } from '../src/analysis/budget-optimizer.js';
import {
  checkPlanWithModel,
  modelGradientAscent,
  modelImpliedCurves,
  ScenarioRunner,
} from '../src/analysis/model-response.js';
import { noGrad } from '../src/autograd/tape.js';
import { UnifiedDataPipeline } from '../src/data/pipeline.js';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import type { AdapterChoice } from '../src/engine/device.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { autoConfig } from '../src/model/auto-config.js';
import { disposeBatch, fullBatch, toDevice } from '../src/model/batch.js';
import type { ConfigOverrides } from '../src/model/config.js';
import { ModelTrainer } from '../src/model/trainer.js';
import { TrueBudgetProcess, budgetTruthCheck } from '../src/recovery/budget-truth.js';
import { generateRecoveryPanel } from '../src/recovery/generator.js';
import { SCENARIOS, scenarioById } from '../src/recovery/scenarios.js';

const { values: args } = parseArgs({
  options: {
    scenarios: { type: 'string', default: SCENARIOS.map((s) => s.id).join(',') },
    seeds: { type: 'string', default: '1' },
    /** the first seed (seeds run first-seed … first-seed + seeds − 1) */
    'first-seed': { type: 'string', default: '1' },
    shares: { type: 'string' },
    config: { type: 'string' },
    adapter: { type: 'string', default: 'auto' },
    ascent: { type: 'boolean', default: false },
    timing: { type: 'string' },
    json: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

interface TruthRun {
  scenario: string;
  mediaShare: number;
  seed: number;
  fitSeconds: number;
  epochs: number;
  minR2: number;
  interpolated: string[];
  curveRun: { seconds: number; submits: number; dispatches: number; forwards: number };
  curveResponse: number;
  modelResponse: number;
  gapPct: number;
  modelRatio: number;
  currentRatio: number;
  ascentRatio?: number;
  optimum: number[];
  plan: number[];
  ascentPlan?: number[];
}

async function truthRun(engine: Engine, id: string, share: number, seed: number) {
  const overrides = (args.config ? JSON.parse(args.config) : {}) as ConfigOverrides;
  const sc = scenarioById(id);
  const rp = generateRecoveryPanel(sc.panel(share, seed));
  const { panel } = rp;
  const config = autoConfig(
    engine,
    { R: panel.regions.length, T: panel.weeks.length, C: panel.channels.length },
    overrides,
  ).config;
  const prepared = new UnifiedDataPipeline(config).fit(panel);
  const fitted = await new ModelTrainer(engine, config).fit(prepared, {
    onProgress: args.quiet
      ? undefined
      : (p) => {
          if (p.epoch % 500 === 0)
            process.stderr.write(`  ${p.phase} ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)}\n`);
        },
  });
  try {
    const runner = await ScenarioRunner.create(fitted, {
      rawMedia: panel.media,
      costPerImpression: rp.costPerImpression,
    });
    const mc = await modelImpliedCurves(fitted, {}, runner);
    const budget = runner.windowInput.reduce((a, b) => a + b, 0);
    const Nw = runner.windowWeeks;
    const opt = new BudgetOptimizer(budget, panel.channels, mc.curves, { numWeeks: Nw });
    const result = opt.optimize();
    const check = await checkPlanWithModel(runner, result.allocation, Nw, result.predictedResponse);
    const truth = new TrueBudgetProcess(rp, Nw);
    const plan = panel.channels.map((c) => result.allocation[c]);
    const t = budgetTruthCheck(truth, plan, budget);
    let ascent;
    if (args.ascent) {
      const a = await modelGradientAscent(runner, plan, {
        budget,
        lower: plan.map(() => 0),
        upper: runner.windowInput.map((x) => 3 * x),
      });
      ascent = {
        plan: a.windowPlan,
        ratio: truth.response(truth.multipliersOf(a.windowPlan)) / t.optimum.response,
        a,
      };
    }
    const run: TruthRun = {
      scenario: id,
      mediaShare: share,
      seed,
      fitSeconds: fitted.training.seconds,
      epochs: fitted.training.epochs,
      minR2: Math.min(...mc.curves.map((c) => c.r2)),
      interpolated: mc.curves.filter((c) => c.use === 'interpolation').map((c) => c.channel),
      curveRun: mc.run,
      curveResponse: check.curveResponse,
      modelResponse: check.modelResponse,
      gapPct: check.gapPct,
      modelRatio: t.modelRatio,
      currentRatio: t.currentRatio,
      ascentRatio: ascent?.ratio,
      optimum: t.optimum.multipliers,
      plan: truth.multipliersOf(plan),
      ascentPlan: ascent ? truth.multipliersOf(ascent.plan) : undefined,
    };
    const ms = (m: number[]) => m.map((v) => v.toFixed(2)).join(' ');
    console.log(
      `${id} share ${share} seed ${seed}: (ii)/(i) ${pct(t.modelRatio)}, (iii)/(i) ${pct(t.currentRatio)}` +
        (ascent ? `, model method ${pct(ascent.ratio)}` : '') +
        `; curves min R² ${run.minR2.toFixed(4)}${run.interpolated.length ? ` (interpolated: ${run.interpolated.join(', ')})` : ''}; ` +
        `curve vs model response gap ${check.gapPct.toFixed(2)} %; fit ${fitted.training.epochs} epochs ${fitted.training.seconds.toFixed(0)} s; ` +
        `curves ${mc.run.seconds.toFixed(1)} s (${mc.run.submits} submit, ${mc.run.dispatches} dispatches)\n` +
        `    multipliers (${panel.channels.join(' ')}): optimum ${ms(t.optimum.multipliers)} | model ${ms(run.plan)}` +
        (run.ascentPlan ? ` | model method ${ms(run.ascentPlan)}` : ''),
    );
    return run;
  } finally {
    fitted.dispose();
  }
}

/** Time of all channels × 16 multipliers beside one forward pass, at the paper size. */
async function timing(engine: Engine, size: string) {
  const dims =
    size === 'paper'
      ? { regions: 190, weeks: 109, channels: 13, controls: 7 }
      : { regions: 20, weeks: 104, channels: 4, controls: 2 };
  const overrides = (args.config ? JSON.parse(args.config) : {}) as ConfigOverrides;
  const { panel } = generateSyntheticPanel({ ...dims, seed: 3 });
  const config = autoConfig(
    engine,
    { R: dims.regions, T: dims.weeks, C: dims.channels },
    { ...overrides, epochs: 1, warmStartEpochs: 0 },
  ).config;
  const prepared = new UnifiedDataPipeline(config).fit(panel);
  const fitted = await new ModelTrainer(engine, config).fit(prepared);
  const forward = async () => {
    const b = toDevice(engine, fullBatch(prepared), prepared.C, prepared.K, fitted.model.dims.path);
    const s0 = engine.stats();
    const t0 = performance.now();
    const out = noGrad(engine, () => fitted.model.forward(b, { outputs: 'all' }));
    await out.prediction!.toArray();
    const ms = performance.now() - t0;
    const s1 = engine.stats();
    engine.tidy(() =>
      Object.values(out).forEach((t) => (t as { dispose?: () => void })?.dispose?.()),
    );
    disposeBatch(b);
    return { ms, dispatches: s1.dispatches - s0.dispatches, submits: s1.submits - s0.submits };
  };
  await forward(); // compile the pipelines
  const f = await forward();
  const runner = await ScenarioRunner.create(fitted, { rawMedia: panel.media });
  const warm = await modelImpliedCurves(fitted, { multipliers: [0, 1, 2, 3] }, runner);
  void warm;
  const mc = await modelImpliedCurves(fitted, {}, runner);
  console.log(
    `timing ${size} (${dims.regions} regions × ${dims.weeks} weeks × ${dims.channels} channels × ${dims.controls} controls, hidden ${config.hiddenDim}) on ${engine.describe()}:\n` +
      `  one forward pass (all outputs, read back): ${f.ms.toFixed(0)} ms, ${f.dispatches} dispatches, ${f.submits} submits\n` +
      `  all ${dims.channels} channels × 16 multipliers (${mc.run.scenarios} scenarios + ${prepared.T} → ${prepared.T + Math.max(...runner.tailWeeks)} weeks): ` +
      `${(mc.run.seconds * 1000).toFixed(0)} ms, ${mc.run.submits} submit(s), ${mc.run.dispatches} dispatches ` +
      `(${mc.run.forwards} forward pass(es) of ${mc.run.scenariosPerForward} scenarios, ${mc.run.dispatchesPerForward} dispatches each)`,
  );
  fitted.dispose();
  return { size, dims, hidden: config.hiddenDim, forward: f, curves: mc.run };
}

async function main() {
  const engine = await createEngine({ adapter: args.adapter as AdapterChoice });
  console.log(`adapter: ${engine.describe()}`);
  const out: Record<string, unknown> = { adapter: engine.describe(), config: args.config ?? null };
  const t0 = performance.now();
  if (args.timing) out.timing = await timing(engine, args.timing);
  else {
    const runs: TruthRun[] = [];
    const seeds = Array.from(
      { length: Number(args.seeds) },
      (_, i) => Number(args['first-seed']) + i,
    );
    for (const id of args.scenarios!.split(',')) {
      const sc = scenarioById(id);
      const shares = args.shares?.split(',').map(Number) ?? sc.mediaShares;
      for (const share of shares)
        for (const seed of seeds) runs.push(await truthRun(engine, id, share, seed));
    }
    out.runs = runs;
    console.log(
      `\nsummary (${engine.describe()}; ${((performance.now() - t0) / 60000).toFixed(1)} min)`,
    );
    console.log(
      '| scenario | runs | (ii)/(i) min | (ii)/(i) mean | (iii)/(i) mean | runs (ii) < (iii) | min curve R² | interpolated curves | max curve–model gap |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const id of [...new Set(runs.map((r) => r.scenario))]) {
      const rs = runs.filter((r) => r.scenario === id);
      const mean = (f: (r: TruthRun) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
      console.log(
        `| ${id} ${scenarioById(id).name} | ${rs.length} | ${pct(Math.min(...rs.map((r) => r.modelRatio)))} | ` +
          `${pct(mean((r) => r.modelRatio))} | ${pct(mean((r) => r.currentRatio))} | ` +
          `${rs.filter((r) => r.modelRatio < r.currentRatio).length} | ` +
          `${Math.min(...rs.map((r) => r.minR2)).toFixed(4)} | ${rs.reduce((a, r) => a + r.interpolated.length, 0)} | ` +
          `${Math.max(...rs.map((r) => Math.abs(r.gapPct))).toFixed(1)} % |`,
      );
    }
  }
  const file =
    args.json ?? `bench-results/curves-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
  console.log(`JSON: ${file}`);
  engine.destroy();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
