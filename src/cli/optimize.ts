/**
 * `causalmix optimize model.json --budget N`: budget allocation from the response curves saved in
 * a model file (no engine, no data). When the file has the current weekly media, the current mix
 * scaled to the same budget is shown against the optimal one.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  BudgetOptimizer,
  formatOptimizationReport,
  type ChannelConstraint,
} from '../analysis/budget-optimizer.js';
import { reviveHillCurve, type HillCurve } from '../analysis/response-curves.js';
import { CliError, positiveInt, positiveNumber, readJsonObject, toJson } from './common.js';

interface OptimizeOptions {
  budget: number;
  constraints?: string;
  weeks: number;
  method: string;
  out?: string;
}

/** The saved curves of a model file (extras.responseCurves). */
export function curvesFromModelFile(file: Record<string, unknown>, path: string): HillCurve[] {
  if (file.format !== 'causalmix-model')
    throw new CliError(`'${path}' is not a causalmix model file`);
  const extras = (file.extras ?? {}) as Record<string, unknown>;
  const raw = extras.responseCurves;
  if (!Array.isArray(raw) || raw.length === 0)
    throw new CliError(
      `model file '${path}' has no saved response curves (extras.responseCurves); write it with 'causalmix fit'`,
    );
  return raw.map((c) => reviveHillCurve(c));
}

function readConstraints(path: string): Record<string, ChannelConstraint> {
  const raw = readJsonObject(path, 'constraints file');
  const out: Record<string, ChannelConstraint> = {};
  for (const [ch, v] of Object.entries(raw)) {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new CliError(
        `constraints file '${path}': channel '${ch}' needs an object {lower?, upper?}`,
      );
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (k !== 'lower' && k !== 'upper')
        throw new CliError(
          `constraints file '${path}': channel '${ch}' has unknown key '${k}' (lower, upper)`,
        );
    out[ch] = o as ChannelConstraint;
  }
  return out;
}

export function registerOptimize(program: Command): void {
  program
    .command('optimize')
    .description('allocate a budget across channels from the response curves saved in a model file')
    .argument('<model.json>', "a model file written by 'causalmix fit'")
    .requiredOption(
      '--budget <n>',
      'total budget over the horizon (spend, or impressions without costs)',
      positiveNumber,
    )
    .option(
      '--constraints <file.json>',
      'JSON object channel → {lower, upper} (totals over the horizon)',
    )
    .option('--weeks <n>', 'planning horizon in weeks', positiveInt, 52)
    .option('--method <name>', 'global, local or de', 'global')
    .option('--out <file.json>', 'also write the result as JSON')
    .action((modelPath: string, o: OptimizeOptions) => {
      if (!['global', 'local', 'de'].includes(o.method))
        throw new CliError(`--method must be global, local or de, got '${o.method}'`);
      const file = readJsonObject(modelPath, 'model file');
      const curves = curvesFromModelFile(file, modelPath);
      const optimizer = new BudgetOptimizer(
        o.budget,
        curves.map((c) => c.channel),
        curves,
        { numWeeks: o.weeks, method: o.method },
      );
      if (o.constraints) optimizer.setConstraints(readConstraints(o.constraints));
      const result = optimizer.optimize();

      const extras = (file.extras ?? {}) as Record<string, unknown>;
      const cur = extras.currentWeekly as { perChannel?: Record<string, number> } | undefined;
      let comparison;
      const weekly = cur?.perChannel;
      if (result.success && weekly && curves.every((c) => Number.isFinite(weekly[c.channel]))) {
        const sum = curves.reduce((a, c) => a + weekly[c.channel], 0);
        if (sum > 0) {
          const current = Object.fromEntries(
            curves.map((c) => [c.channel, (weekly[c.channel] / sum) * o.budget]),
          );
          comparison = optimizer.compareWithCurrent(current, result);
        }
      }
      console.log(formatOptimizationReport(result, { curves, comparison }));
      if (comparison)
        console.log('(current = the recent media mix of the training data, scaled to this budget)');
      if (o.out) {
        writeFileSync(
          o.out,
          toJson({
            result,
            comparison: comparison && { rows: comparison.rows, totals: comparison.totals },
          }) + '\n',
        );
        console.log(`wrote ${o.out}`);
      }
      if (!result.success) throw new CliError(`optimisation failed: ${result.message}`);
    });
}
