/**
 * The launch planner: how much work one dispatch may take on this adapter.
 *
 * Loop budgets. Mesa's llvmpipe (the GL adapter) and lavapipe silently end every loop of an
 * invocation once it has run 65,535 loop iterations in total: the kernel finishes "successfully"
 * with wrong numbers. Each op states its kernels' cost (loop iterations per invocation, counted as
 * the shader runs them) beside its kernel definitions; ops that can split the work over dispatches
 * ask `stepsPerDispatch` how many steps fit, the others `checkLoopBudget` so that inputs that do
 * not fit fail loudly. Adapters without the cap get Infinity: one dispatch.
 *
 * Workgroup limits. A grid dimension may hold at most the device's
 * maxComputeWorkgroupsPerDimension workgroups (WebGPU guarantees 65,535); `linearGrid` spreads a
 * 1-D launch over y beyond it.
 */
import type { Engine } from './engine.js';

/** Iterations an op may plan for on a capped adapter: below 65,535, leaving room for small loops. */
export const LOOP_BUDGET = 60000;

/**
 * Loop iterations a split kernel keeps in reserve for loops its cost formula leaves out (index
 * arithmetic loops, the bookkeeping before and after its main loop).
 */
export const LOOP_MARGIN = 1000;

/** Workgroups per grid dimension every WebGPU device supports. */
export const GUARANTEED_WORKGROUPS_PER_DIMENSION = 65535;

/** The engine facts the check needs (an Engine, or a stand-in in tests). */
export type LoopCapped = Pick<Engine, 'loopIterationCap' | 'adapterName'>;

/** Raised when an op would run more loop iterations per invocation than the adapter allows. */
export class LoopBudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoopBudgetError';
  }
}

/** Loop iterations one invocation may safely run on `engine` (Infinity when uncapped). */
export function loopBudget(engine: LoopCapped): number {
  const cap = engine.loopIterationCap;
  return Number.isFinite(cap) ? Math.min(LOOP_BUDGET, cap) : Infinity;
}

/**
 * Throws a LoopBudgetError when `iterations` (the most loop iterations one invocation of the op's
 * kernel runs, counted as the shader does) exceed the engine's budget. `what` names the op and
 * the size at fault, e.g. "index_select_grad over 70000 indices".
 */
export function checkLoopBudget(engine: LoopCapped, iterations: number, what: string): void {
  const budget = loopBudget(engine);
  if (iterations <= budget) return;
  throw new LoopBudgetError(
    `causalmix: ${what} needs about ${iterations} loop iterations per shader invocation, but ` +
      `this adapter (${engine.adapterName}) silently ends every loop after ` +
      `${engine.loopIterationCap} iterations in total (ops keep under ${budget}), so the result ` +
      `would be wrong. Split the input into smaller pieces, or use another adapter ` +
      `(adapter: 'swiftshader', a hardware GPU, or 'cpu').`,
  );
}

/**
 * Steps one dispatch may run when each costs `perStep` loop iterations after `fixed` iterations of
 * set-up: Infinity under no cap, else as many as fit the budget less LOOP_MARGIN (at least 1).
 */
export function stepsPerDispatch(budget: number, perStep: number, fixed = 0): number {
  if (!Number.isFinite(budget)) return Infinity;
  return Math.max(1, Math.floor((budget - LOOP_MARGIN - fixed) / perStep));
}

/** Workgroups the engine's device allows per grid dimension. */
export function maxWorkgroupsPerDimension(engine: Pick<Engine, 'backend'>): number {
  return engine.backend.limits.maxComputeWorkgroupsPerDimension;
}

/** Workgroups for a 1-D launch of `threads` invocations, spread over y beyond `perDimension`. */
export function linearGrid(
  threads: number,
  workgroupSize: number,
  perDimension = GUARANTEED_WORKGROUPS_PER_DIMENSION,
): [number, number, number] {
  const groups = Math.ceil(threads / workgroupSize);
  if (groups <= perDimension) return [groups, 1, 1];
  return [perDimension, Math.ceil(groups / perDimension), 1];
}
