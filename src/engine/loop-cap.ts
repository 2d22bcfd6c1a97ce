/**
 * Loop budgets for adapters that cap shader loops. Mesa's llvmpipe (the GL adapter) and lavapipe
 * silently end every loop of an invocation once it has run 65,535 loop iterations in total: the
 * kernel finishes "successfully" with wrong numbers. Ops whose per-invocation loop count grows with
 * the input check it here before dispatching, so such inputs fail loudly instead.
 */
import type { Engine } from './engine.js';

/** Iterations an op may plan for on a capped adapter: below 65,535, leaving room for small loops. */
export const LOOP_BUDGET = 60000;

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
