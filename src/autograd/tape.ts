import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';

/** One recorded op: enough to call its gradient rule later. */
export interface TapeEntry {
  op: string;
  inputs: Tensor[];
  output: Tensor;
  saved: Tensor[];
  attrs: Record<string, unknown>;
}

/** The flat tape of one engine: ops in execution order (which is a topological order). */
export class Tape {
  entries: TapeEntry[] = [];
  gradDepth = 0;

  get enabled(): boolean {
    return this.gradDepth === 0;
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

/** Runs `fn` without recording anything on the tape. */
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
 * Called by every differentiable op after its forward dispatch: records the op if gradients are
 * enabled and some input requires one. `saved` tensors are kept alive until the tape is cleared.
 */
export function recordOp(
  op: string,
  inputs: Tensor[],
  output: Tensor,
  attrs: Record<string, unknown> = {},
  saved: Tensor[] = [],
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
