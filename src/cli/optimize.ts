/**
 * `causalmix optimize model.json --budget N`: budget allocation from the response curves saved in
 * a model file. When the file has the current weekly media, the current mix scaled to the same
 * budget is shown against the optimal one. When its curves were simulated by the model
 * (model-response.ts), the recommended plan is run through the model itself (the what-if path:
 * every channel at once), and the curve-based and model-based media responses are printed side
 * by side, with a warning above a 2 % gap; `--method model` goes on from the curves' optimum by
 * gradient ascent through the model. `--no-check` (or a file without simulated curves) needs no
 * engine.
 */
import type { Command } from 'commander';
import {
  BudgetOptimizer,
  formatOptimizationReport,
  type ChannelConstraint,
  type OptimizationResult,
  type OptimizerMethod,
} from '../analysis/budget-optimizer.js';
import {
  formatPlanCheck,
  optimizeWithModel,
  ScenarioRunner,
  type ModelMethodResult,
  type PlanCheck,
} from '../analysis/model-response.js';
import { reviveHillCurve, type HillCurve } from '../analysis/response-curves.js';
import type { AdapterChoice } from '../engine/device.js';
import { createEngine } from '../engine/engine.js';
import { fromModelFileMembers } from '../model/model-file.js';
import {
  allocationSpread,
  checkPlanWithMembers,
  formatAllocationSpread,
  type AllocationSpread,
} from '../analysis/ensemble-curves.js';
import { readJsonDocument } from '../model/checkpoint-file.js';
import { writeFileAtomic } from '../data/atomic-write.js';
import {
  adapterName,
  CliError,
  positiveInt,
  positiveNumber,
  readJsonObject,
  toJson,
} from './common.js';

interface OptimizeOptions {
  budget: number;
  constraints?: string;
  weeks: number;
  method: string;
  out?: string;
  /** false with --no-check */
  check: boolean;
  adapter: AdapterChoice;
}

const METHODS = ['global', 'local', 'de', 'model'];

/** A model file, parsed: a missing, cut-short or damaged file is one clear error. */
function readModelFile(path: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = readJsonDocument(path, 'model file');
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new CliError(`'${path}' is not a causalmix model file`);
  return doc as Record<string, unknown>;
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

/**
 * An ensemble's model file also holds each member's curves: the same budget, horizon and
 * constraints optimised on each give the spread of the recommendation (undefined otherwise).
 */
function memberSpread(
  extras: Record<string, unknown>,
  result: OptimizationResult,
  o: OptimizeOptions,
): AllocationSpread[] | undefined {
  const raw = extras.memberResponseCurves;
  if (!result.success || !Array.isArray(raw) || raw.length < 2) return undefined;
  const curves = raw.map((m) => (m as unknown[]).map((c) => reviveHillCurve(c)));
  return allocationSpread(curves, o.budget, o.weeks, {
    constraints: o.constraints ? readConstraints(o.constraints) : undefined,
    method: (o.method === 'model' ? 'global' : o.method) as OptimizerMethod,
  });
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
    .option(
      '--method <name>',
      'global, local, de, or model (global, then gradient ascent through the trained model)',
      'global',
    )
    .option('--out <file.json>', 'also write the result as JSON')
    .option('--no-check', 'do not run the recommended plan through the model')
    .option(
      '--adapter <name>',
      'for the model check: auto, gpu, software, cpu, gl, swiftshader or vulkan',
      adapterName,
      'auto',
    )
    .action(async (modelPath: string, o: OptimizeOptions) => {
      if (!METHODS.includes(o.method))
        throw new CliError(`--method must be global, local or de (or model), got '${o.method}'`);
      const file = readModelFile(modelPath);
      const curves = curvesFromModelFile(file, modelPath);
      const simulated = curves.every((c) => c.source === 'simulated' && c.samples);
      if (o.method === 'model' && !simulated)
        throw new CliError(
          `--method model needs curves simulated by the model; '${modelPath}' has older curves (fit again)`,
        );
      if (o.method === 'model' && !o.check)
        throw new CliError('--method model runs through the model: it cannot go with --no-check');
      const optimizer = new BudgetOptimizer(
        o.budget,
        curves.map((c) => c.channel),
        curves,
        { numWeeks: o.weeks, method: o.method === 'model' ? 'global' : o.method },
      );
      if (o.constraints) optimizer.setConstraints(readConstraints(o.constraints));
      let result: OptimizationResult = optimizer.optimize();
      let check: PlanCheck | undefined;
      let modelMethod: ModelMethodResult | undefined;
      let checkNote: string | undefined;
      if (o.check && simulated && result.success) {
        const engine = await createEngine({ adapter: o.adapter });
        try {
          // every member of an ensemble: the check takes their mean response
          const members = fromModelFileMembers(engine, file);
          const extras = (file.extras ?? {}) as Record<string, unknown>;
          const costs = (extras.costPerImpression ?? null) as Record<string, number> | null;
          const mc = (extras.modelCurves ?? {}) as { rawWindowMedia?: number[] | null };
          const runners: ScenarioRunner[] = [];
          for (const m of members)
            runners.push(
              await ScenarioRunner.create(m, {
                costPerImpression: costs,
                rawWindowMedia: mc.rawWindowMedia ?? undefined,
              }),
            );
          if (o.method === 'model') {
            // gradient ascent runs through the first member
            modelMethod = await optimizeWithModel(runners[0], optimizer);
            result = modelMethod.result;
          }
          check = await checkPlanWithMembers(
            runners,
            result.allocation,
            result.numWeeks,
            result.predictedResponse,
          );
          members.forEach((m) => m.dispose());
        } catch (e) {
          if (o.method === 'model') throw e;
          checkNote = `the plan was not run through the model: ${(e as Error).message}`;
        } finally {
          engine.destroy();
        }
      }

      const extras = (file.extras ?? {}) as Record<string, unknown>;
      const spread = memberSpread(extras, result, o);
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
      if (comparison) {
        const weeks = (cur as { weeks?: number }).weeks;
        console.log(
          `(current = the media mix of the ${weeks ? `last ${weeks} weeks` : 'recent weeks'} of the data, scaled to this budget)`,
        );
      }
      if (modelMethod)
        console.log(
          `Model method: the model's media response of the plan ${Math.round(modelMethod.ascent.startResponse).toLocaleString('en-US')} → ` +
            `${Math.round(modelMethod.ascent.response).toLocaleString('en-US')} over the planning window ` +
            `(global optimum of the curves → gradient ascent through the model)`,
        );
      if (spread) for (const line of formatAllocationSpread(spread, result.unit)) console.log(line);
      if (check) for (const line of formatPlanCheck(check)) console.log(line);
      else if (checkNote) console.log(`Note: ${checkNote}`);
      else if (!simulated)
        console.log(
          'Note: these curves were fitted to the weekly scatter (an older model file); fit again for curves simulated by the model',
        );
      if (o.out) {
        writeFileAtomic(
          o.out,
          toJson({
            result,
            comparison: comparison && { rows: comparison.rows, totals: comparison.totals },
            modelCheck: check && {
              curveResponse: check.curveResponse,
              modelResponse: check.modelResponse,
              gapPct: check.gapPct,
              multipliers: check.multipliers,
              warning: check.warning ?? null,
            },
            memberSpread: spread?.map((x) => ({
              channel: x.channel,
              mean: x.interval.mean,
              lo: x.interval.lo,
              hi: x.interval.hi,
              perMember: x.perMember,
            })),
            modelMethod: modelMethod && {
              start: modelMethod.start.allocation,
              startResponse: modelMethod.ascent.startResponse,
              response: modelMethod.ascent.response,
              iterations: modelMethod.ascent.iterations,
            },
          }) + '\n',
        );
        console.log(`wrote ${o.out}`);
      }
      if (!result.success) throw new CliError(`optimisation failed: ${result.message}`);
    });
}
