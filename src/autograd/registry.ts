import type { Tensor } from '../engine/tensor.js';

/** What a recorded op hands its gradient rule. */
export interface GradContext {
  inputs: readonly Tensor[];
  output: Tensor;
  /** extra tensors the forward pass kept for the backward pass (see the rule's `saves`) */
  saved: readonly Tensor[];
  attrs: Readonly<Record<string, unknown>>;
}

/**
 * A backward rule, kept apart from the kernels (TensorFlow.js style). `saves` documents what the
 * forward pass keeps alive for it; `grad` returns one gradient (or null) per input.
 */
export interface GradientRule {
  op: string;
  saves: string;
  grad: (dy: Tensor, ctx: GradContext) => (Tensor | null)[];
}

const rules = new Map<string, GradientRule>();

export function registerGradient(rule: GradientRule): void {
  if (rules.has(rule.op)) throw new Error(`causalmix: gradient for '${rule.op}' registered twice`);
  rules.set(rule.op, rule);
}

export function gradientRule(op: string): GradientRule {
  const r = rules.get(op);
  if (!r) throw new Error(`causalmix: no gradient rule registered for op '${op}'`);
  return r;
}

export function registeredGradients(): string[] {
  return [...rules.keys()].sort();
}
