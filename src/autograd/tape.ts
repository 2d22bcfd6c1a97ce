import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';

/** One recorded op: enough to call its gradient rule later. */
export interface TapeEntry {
  op: string;
  inputs: Tensor[];
  output: Tensor;
  saved: Tensor[];
  attrs: object;
}

/** The flat tape of one engine: ops in execution order (which is a topological order). */
export class Tape {
  entries: TapeEntry[] = [];
  /** open gradient scopes (`gradScope`): the tape records only inside one */
  scopes = 0;
  /** open `noGrad` blocks: they pause recording inside a scope */
  gradDepth = 0;

  get enabled(): boolean {
    return this.scopes > 0 && this.gradDepth === 0;
  }

  /** Drops every entry and the tensors saved for them. */
  clear(): void {
    for (const e of this.entries) e.saved.forEach((t) => t.dispose());
    this.entries = [];
  }
}

const tapes = new WeakMap<Engine, Tape>();

export function tapeOf(engine: Engine): Tape {
  let t = tapes.get(engine);
  if (!t) tapes.set(engine, (t = new Tape()));
  return t;
}

/**
 * Runs `fn` with the tape recording: ops on tensors that require a gradient are kept for
 * `backward`, which must be called inside the scope. Outside every scope nothing is recorded (a
 * prediction keeps nothing alive). `fn` may be async: the scope closes when its promise settles.
 * When the outermost scope closes, entries `backward` did not consume are dropped.
 */
export function gradScope<T>(engine: Engine, fn: () => T): T {
  const tape = tapeOf(engine);
  tape.scopes++;
  const close = () => {
    tape.scopes--;
    if (tape.scopes === 0) tape.clear();
  };
  let result: T;
  try {
    result = fn();
  } catch (err) {
    close();
    throw err;
  }
  if (result instanceof Promise) return result.finally(close) as T;
  close();
  return result;
}

/** Runs `fn` without recording anything on the tape (inside a gradient scope). */
export function noGrad<T>(engine: Engine, fn: () => T): T {
  const tape = tapeOf(engine);
  tape.gradDepth++;
  try {
    return fn();
  } finally {
    tape.gradDepth--;
  }
}

/**
 * Called through an op's recorder (`defineGradient`) after its forward dispatch: records the op if
 * gradients are enabled and some input requires one. `saved` tensors are kept alive until the tape
 * is cleared.
 */
export function recordOp(
  op: string,
  inputs: Tensor[],
  output: Tensor,
  attrs: object,
  saved: Tensor[],
): Tensor {
  const engine = output.engine;
  const tape = tapeOf(engine);
  if (!tape.enabled || !inputs.some((t) => t.requiresGrad)) {
    saved.forEach((t) => t.dispose());
    return output;
  }
  output.requiresGrad = true;
  saved.forEach((t) => engine.keep(t));
  tape.entries.push({ op, inputs, output, saved, attrs });
  return output;
}
