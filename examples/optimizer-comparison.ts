/**
 * The three budget optimisers side by side on a fitted model's response curves (a model file
 * written by `causalmix fit`, which keeps the curves and the current weekly mix in its extras).
 * The budget is the current mix over the horizon (the last 52 training weeks' national totals);
 * each method runs once unconstrained and once with every channel capped at 2× its current spend.
 *
 *   node --import tsx examples/optimizer-comparison.ts causalmix-out/model.json [--weeks 52] [--top 5]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  BudgetOptimizer,
  type ChannelConstraint,
  type OptimizationResult,
  type OptimizerMethod,
} from '../src/analysis/budget-optimizer.js';
import { reviveHillCurve, type HillCurve } from '../src/analysis/response-curves.js';

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    weeks: { type: 'string', default: '52' },
    top: { type: 'string', default: '5' },
    seed: { type: 'string', default: '42' },
  },
});
if (positionals.length !== 1) {
  console.error(
    'usage: node --import tsx examples/optimizer-comparison.ts model.json [--weeks 52]',
  );
  process.exit(2);
}
const WEEKS = Number(a.weeks);
const TOP = Number(a.top);
const SEED = Number(a.seed);

interface Extras {
  responseCurves?: unknown[];
  currentWeekly?: { weeks: number; unit: string; perChannel: Record<string, number> };
}
const file = JSON.parse(readFileSync(positionals[0], 'utf8')) as { extras?: Extras };
const ex = file.extras ?? {};
if (!Array.isArray(ex.responseCurves) || ex.currentWeekly === undefined) {
  console.error(
    `${positionals[0]}: no extras.responseCurves / extras.currentWeekly (not written by causalmix fit?)`,
  );
  process.exit(1);
}
const curves: HillCurve[] = ex.responseCurves.map(reviveHillCurve);
const channels = curves.map((c) => c.channel);
const weekly = ex.currentWeekly.perChannel;
// current total spend per channel over the horizon; the budget is their sum
const current = Object.fromEntries(channels.map((ch) => [ch, (weekly[ch] ?? 0) * WEEKS]));
const budget = Object.values(current).reduce((s, v) => s + v, 0);

// "impressions_Channel_07_delayed_lag_2_…" → "Channel_07" keeps the tables narrow
const short = (ch: string) => /Channel_\d+/.exec(ch)?.[0] ?? ch;
const fmt = (v: number) =>
  Math.abs(v) >= 1e9
    ? `${(v / 1e9).toFixed(3)} G`
    : Math.abs(v) >= 1e6
      ? `${(v / 1e6).toFixed(2)} M`
      : Math.abs(v) >= 1e3
        ? `${(v / 1e3).toFixed(1)} k`
        : v.toFixed(1);
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

console.log(`model: ${positionals[0]}`);
console.log(`curves: ${curves.length} channels, unit ${curves[0]?.unit ?? '?'}`);
console.log(
  `budget: ${fmt(budget)} ${curves[0]?.unit ?? ''} over ${WEEKS} weeks ` +
    `(current mix, ${ex.currentWeekly.weeks}-week weekly average × ${WEEKS})`,
);
const lowR2 = curves.filter((c) => c.r2 < 0.3);
if (lowR2.length > 0) {
  console.log(
    `curves with R² < 0.3: ${lowR2.map((c) => `${short(c.channel)} (${c.r2.toFixed(2)})`).join(', ')}`,
  );
}

interface Run {
  method: OptimizerMethod;
  result: OptimizationResult;
  ms: number;
}

function runAll(constraints?: Record<string, ChannelConstraint>): {
  currentResponse: number;
  runs: Run[];
} {
  const runs: Run[] = [];
  let currentResponse = 0;
  for (const method of ['global', 'local', 'de'] as const) {
    const opt = new BudgetOptimizer(budget, channels, curves, {
      numWeeks: WEEKS,
      method,
      seed: SEED,
    });
    if (constraints) opt.setConstraints(constraints);
    currentResponse = opt.predictResponse(current);
    const t0 = performance.now();
    const result = opt.optimize();
    runs.push({ method, result, ms: performance.now() - t0 });
  }
  return { currentResponse, runs };
}

function report(title: string, constraints?: Record<string, ChannelConstraint>): void {
  const { currentResponse, runs } = runAll(constraints);
  console.log(`\n## ${title}\n`);
  console.log(`current mix: predicted response ${fmt(currentResponse)}\n`);
  console.log('| method | predicted response | lift vs current | time | success | message |');
  console.log('|---|---|---|---|---|---|');
  for (const { method, result, ms } of runs) {
    const lift = (result.predictedResponse - currentResponse) / Math.abs(currentResponse);
    console.log(
      `| ${method} | ${fmt(result.predictedResponse)} (${result.predictedResponse.toFixed(0)}) | ` +
        `${(lift * 100).toFixed(2)}% | ${ms.toFixed(0)} ms | ${result.success} | ${result.message} |`,
    );
  }
  const best = Math.max(...runs.map((r) => r.result.predictedResponse));
  console.log(
    `\nshortfall from the best: ` +
      runs
        .map(
          (r) => `${r.method} ${(((best - r.result.predictedResponse) / best) * 100).toFixed(4)}%`,
        )
        .join(', '),
  );
  for (const { method, result } of runs) {
    console.log(`\n${method}: top ${TOP} channels by spend`);
    console.log(
      '| channel | total spend | share | current share | weekly vs saturation | response share | binds |',
    );
    console.log('|---|---|---|---|---|---|---|');
    for (const r of result.byChannel.slice(0, TOP)) {
      const binds = r.bindsUpper ? 'upper' : r.bindsLower ? 'lower' : '';
      console.log(
        `| ${short(r.channel)} | ${fmt(r.totalSpend)} | ${pct(r.spendShare)} | ` +
          `${pct(current[r.channel] / budget)} | ${r.pctOfSaturation.toFixed(0)}% | ` +
          `${pct(r.responseShare)} | ${binds} |`,
      );
    }
    const zero = result.byChannel
      .filter((r) => r.totalSpend < 1e-6 * budget)
      .map((r) => short(r.channel));
    if (zero.length > 0) console.log(`channels at ~0: ${zero.join(', ')}`);
  }
  // how far apart the allocations are: largest gap in budget share between two methods
  let gap = 0;
  let gapAt = '';
  for (const ch of channels) {
    const shares = runs.map((r) => r.result.allocation[ch] / budget);
    const d = Math.max(...shares) - Math.min(...shares);
    if (d > gap) {
      gap = d;
      gapAt = short(ch);
    }
  }
  console.log(`\nlargest share gap between methods: ${pct(gap)} (${gapAt})`);
  const warnings = new Set(runs.flatMap((r) => r.result.warnings));
  if (warnings.size > 0) console.log(`warnings: ${[...warnings].join('; ')}`);
}

report('Unconstrained (each channel in [0, budget])');
report(
  'Capped: each channel ≤ 2 × its current spend',
  Object.fromEntries(channels.map((ch) => [ch, { upper: 2 * current[ch] }])),
);
