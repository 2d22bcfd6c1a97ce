import type { Tensor } from '../engine/tensor.js';
import { formatShape, sameShape } from '../engine/shape.js';
import { gradientRule } from './registry.js';
import { noGrad, tapeOf } from './tape.js';
import { add } from '../ops/elementwise.js';

/**
 * Reverse-mode sweep from a scalar, inside a gradient scope (`gradScope`): walks the tape once, newest entry first, accumulating
 * gradients (all on the device). Sets `.grad` on every leaf that requires a gradient and returns
 * them keyed by leaf. The tape is cleared afterwards. Intermediate gradients are freed as soon
 * as their op has been processed.
 */
export function backward(loss: Tensor, seed?: Tensor): Map<Tensor, Tensor> {
  const engine = loss.engine;
  if (loss.size !== 1 && !seed) {
    throw new Error(
      `causalmix: backward() needs a scalar loss, got shape ${formatShape(loss.shape)}`,
    );
  }
  const tape = tapeOf(engine);
  if (tape.scopes === 0)
    throw new Error(
      'causalmix: backward() outside a gradient scope: run the forward pass and backward() inside ' +
        'gradScope(engine, () => …); nothing is recorded outside one',
    );
  const entries = tape.entries;
  tape.entries = [];
  const produced = new Set(entries.map((e) => e.output));
  const grads = new Map<Tensor, Tensor>();
  try {
    noGrad(engine, () => {
      grads.set(loss, seed ?? engine.full(loss.shape, 1));
      for (let i = entries.length - 1; i >= 0; i--) {
        const e = entries[i];
        const dy = grads.get(e.output);
        if (!dy) continue;
        const rule = gradientRule(e.op);
        const dxs = rule.grad(dy, {
          inputs: e.inputs,
          output: e.output,
          saved: e.saved,
          attrs: e.attrs,
        });
        grads.delete(e.output);
        if (dy !== seed) dy.dispose();
        e.inputs.forEach((x, j) => {
          const g = dxs[j];
          if (!g) return;
          // Rules return fresh tensors (an alias at most), so each can be disposed on its own.
          if (!x.requiresGrad) {
            g.dispose();
            return;
          }
          if (!sameShape(g.shape, x.shape)) {
            throw new Error(
              `causalmix: gradient rule '${e.op}' returned ${formatShape(g.shape)} for an input of ${formatShape(x.shape)}`,
            );
          }
          const prev = grads.get(x);
          if (prev) {
            grads.set(x, add(prev, g));
            prev.dispose();
            g.dispose();
          } else {
            grads.set(x, g);
          }
        });
      }
    });
  } finally {
    for (const e of entries) e.saved.forEach((t) => t.dispose());
  }
  const leaves = new Map<Tensor, Tensor>();
  for (const [t, g] of grads) {
    if (produced.has(t) || t === loss) {
      g.dispose();
      continue;
    }
    t.grad = g;
    leaves.set(t, g);
  }
  return leaves;
}
