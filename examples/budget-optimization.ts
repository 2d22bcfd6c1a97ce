/**
 * Budget optimisation end to end: train a model (or load one), fit response curves to its
 * contributions, allocate a budget equal to the last 52 training weeks' media total, compare the
 * current mix with the optimal one, print the report, then check both plans through the model
 * itself (what-if over the next 52 weeks).
 *
 *   node --import tsx examples/budget-optimization.ts                          # synthetic data
 *   node --import tsx examples/budget-optimization.ts --data data/mmm-data-real/MMM_Data.csv
 *   node --import tsx examples/budget-optimization.ts causalmix-out/model.json  # from `causalmix fit`
 *   node --import tsx examples/budget-optimization.ts model.json --data data.csv # older model file
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BudgetOptimizer, formatOptimizationReport } from '../src/analysis/budget-optimizer.js';
import { formatEvaluationReport } from '../src/analysis/metrics.js';
import { modelResponseCurves } from '../src/analysis/model-curves.js';
import { reviveHillCurve, type HillCurve } from '../src/analysis/response-curves.js';
import {
  checkWhatIfBase,
  compareWhatIf,
  formatWhatIf,
  predictScenario,
  whatIfBaseFromPanel,
  type WhatIfBase,
} from '../src/analysis/what-if.js';
import { currentWeeklyMedia } from '../src/cli/fit-run.js';
import { loadCsvPanel } from '../src/data/csv-file.js';
import type { Panel } from '../src/data/panel.js';
import { UnifiedDataPipeline } from '../src/data/pipeline.js';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import type { AdapterChoice } from '../src/engine/device.js';
import { createEngine } from '../src/engine/engine.js';
import { fromModelFile } from '../src/model/model-file.js';
import { getDefaultConfig, updateConfig } from '../src/model/config.js';
import type { FittedMMM } from '../src/model/fitted.js';
import { ModelTrainer } from '../src/model/trainer.js';

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    data: { type: 'string' },
    adapter: { type: 'string', default: 'auto' },
    hidden: { type: 'string', default: '32' },
    epochs: { type: 'string', default: '200' },
    weeks: { type: 'string', default: '52' },
  },
});
const WEEKS = Number(a.weeks);
const engine = await createEngine({ adapter: a.adapter as AdapterChoice });
console.log(`adapter: ${engine.describe()}`);

const panel: Panel | undefined = a.data
  ? loadCsvPanel(a.data).panel
  : positionals[0]
    ? undefined
    : generateSyntheticPanel({ regions: 10, weeks: 104, channels: 4 }).panel;

let fitted: FittedMMM;
let extras: Record<string, unknown> = {};
if (positionals[0]) {
  const file = JSON.parse(readFileSync(positionals[0], 'utf8')) as { extras?: typeof extras };
  fitted = fromModelFile(engine, file);
  extras = file.extras ?? {};
  console.log(`model loaded from ${positionals[0]}`);
} else {
  const config = updateConfig(getDefaultConfig(), {
    hiddenDim: Number(a.hidden),
    epochs: Number(a.epochs),
    logEvery: 50,
  });
  const prepared = new UnifiedDataPipeline(config).fit(panel!);
  console.log(
    `training: ${prepared.R} regions × ${prepared.W} weeks × ${prepared.C} channels, ` +
      `hidden ${config.hiddenDim}, ${config.epochs} epochs`,
  );
  fitted = await new ModelTrainer(engine, config).fit(prepared, {
    onProgress: (p) =>
      console.log(`  ${p.phase} ${p.epoch}/${p.epochs}  loss ${p.loss.toFixed(4)}`),
  });
}
const p = fitted.prepared;
const dec = await fitted.decompose();
console.log(formatEvaluationReport(await fitted.evaluate(dec)));

// Curves and the current weekly media: saved by `causalmix fit`, or computed from the data.
let curves: HillCurve[];
let weekly: Record<string, number>;
let base: WhatIfBase | undefined;
const saved = extras.currentWeekly as { perChannel?: Record<string, number> } | undefined;
if (!panel && Array.isArray(extras.responseCurves) && saved?.perChannel) {
  curves = extras.responseCurves.map((c) => reviveHillCurve(c));
  weekly = saved.perChannel;
  base = extras.whatIf ? checkWhatIfBase(extras.whatIf, p) : undefined;
} else if (panel) {
  const fit = modelResponseCurves(p, dec, panel.media);
  for (const s of fit.table.skipped) console.log(`curve skipped: ${s.reason}`);
  console.log(
    fit.table.rows.map((r) => `  ${r.channel}: ${r.equation}  (R² ${r.r2.toFixed(3)})`).join('\n'),
  );
  curves = fit.curves;
  weekly = currentWeeklyMedia(panel, p);
  base = whatIfBaseFromPanel(panel, p);
} else {
  throw new Error(
    'causalmix: this model file has no saved response curves; pass the data it was fitted on with --data',
  );
}

const channels = curves.map((c) => c.channel);
const current = Object.fromEntries(channels.map((ch) => [ch, weekly[ch] * WEEKS]));
const budget = Object.values(current).reduce((s, v) => s + v, 0);
console.log(
  `\nbudget = the last ${WEEKS} weeks' media total: ${Math.round(budget).toLocaleString('en-US')}`,
);
const optimizer = new BudgetOptimizer(budget, channels, curves, { numWeeks: WEEKS });
const result = optimizer.optimize();
const comparison = optimizer.compareWithCurrent(current, result);
console.log(formatOptimizationReport(result, { curves, comparison }));

// The curves summarise the model; the model itself judges the two plans over the next weeks.
if (base) {
  const perWeek = (alloc: Record<string, number>) =>
    Object.fromEntries(
      p.channels.map((ch) => [ch, alloc[ch] !== undefined ? alloc[ch] / WEEKS : weekly[ch]]),
    );
  const cur = await predictScenario(
    fitted,
    { weeks: WEEKS, national: perWeek(current) },
    base,
    'current',
  );
  const opt = await predictScenario(
    fitted,
    { weeks: WEEKS, national: perWeek(result.allocation) },
    base,
    'optimal',
  );
  console.log('\n' + formatWhatIf(compareWhatIf(cur, opt)));
}
fitted.dispose();
engine.destroy();
