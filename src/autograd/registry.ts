import type { Tensor } from '../engine/tensor.js';
import { recordOp } from './tape.js';

/** What a recorded op hands its gradient rule. */
export interface GradContext<A> {
  inputs: readonly Tensor[];
  output: Tensor;
  /** the tensors the forward pass kept, in the order the rule's `saves` names them */
  saved: readonly Tensor[];
  attrs: Readonly<A>;
}

/**
 * A backward rule, kept apart from the kernels (TensorFlow.js style). `saves` names the tensors
 * the forward pass keeps alive for it, in order (a name ending in `?` may be absent, one ending in
 * `*` stands for any number of tensors and comes last); `why` says
 * what it recomputes instead of saving. `grad` returns one gradient (or null) per input.
 */
export interface GradientRule<A> {
  op: string;
  saves: readonly string[];
  why?: string;
  grad: (dy: Tensor, ctx: GradContext<A>) => (Tensor | null)[];
}

/** Records one op for backward: its inputs, output, typed attributes and declared saved tensors. */
export type Recorder<A> = (inputs: Tensor[], output: Tensor, attrs: A, saved?: Tensor[]) => Tensor;

const rules = new Map<string, GradientRule<never>>();

/**
 * Registers `rule` and returns the op's recorder, which refuses saved tensors other than the
 * declared ones (too many, or a required one missing).
 */
export function defineGradient<A extends object>(rule: GradientRule<A>): Recorder<A> {
  if (rules.has(rule.op)) throw new Error(`causalmix: gradient for '${rule.op}' registered twice`);
  rules.set(rule.op, rule as unknown as GradientRule<never>);
  const variadic = rule.saves.some((s) => s.endsWith('*'));
  const most = variadic ? Infinity : rule.saves.length;
  const least = rule.saves.filter((s) => !s.endsWith('?') && !s.endsWith('*')).length;
  return (inputs, output, attrs, saved = []) => {
    if (saved.length < least || saved.length > most)
      throw new Error(
        `causalmix: op '${rule.op}' saves [${rule.saves.join(', ')}] for backward, given ${saved.length} tensors`,
      );
    return recordOp(rule.op, inputs, output, attrs, saved);
  };
}

export function gradientRule(op: string): GradientRule<unknown> {
  const r = rules.get(op);
  if (!r) throw new Error(`causalmix: no gradient rule registered for op '${op}'`);
  return r as unknown as GradientRule<unknown>;
}
