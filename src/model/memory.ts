/**
 * How much device memory a training run needs, estimated before anything is allocated, so a
 * panel too large for the adapter fails with a message that says what to change instead of a
 * device error halfway through. The GRU splits its per-step buffers into region chunks by itself;
 * the other [R·T, width] activations must each fit in one storage binding.
 */
import type { BackendLimits } from '../engine/backend.js';

export interface MemoryEstimate {
  /** the largest single buffer one training step binds (bytes) */
  largestBinding: number;
  /** which tensor that is */
  largestName: string;
  /** rough total of what a step keeps alive at its peak (bytes) */
  totalBytes: number;
}

export function estimateTrainingMemory(
  R: number,
  T: number,
  C: number,
  K: number,
  H: number,
): MemoryEstimate {
  const rows = R * T;
  const f = 4;
  // per-row widths of what a step allocates: inputs, transformed media, control features, GRU
  // input, hidden states, head activations (the GRU's [R·T, 3H] and [R·T, 4H] work is chunked)
  const tensors: [string, number][] = [
    ['media', C],
    ['controls', K],
    ['control features [R·T, H/2]', H / 2],
    ['GRU input [R·T, C + H/2]', C + H / 2],
    ['hidden states [R·T, H]', H],
    ['coefficient head layer [R·T, H]', H],
  ];
  const largest = tensors.reduce((a, b) => (b[1] > a[1] ? b : a));
  // forward activations + their gradients, GRU saved gates and BPTT work (≈ 12H per row), heads ×2
  const perRow = 2 * (3 * C + 2 * K + 2 * (C + H / 2) + 12 * H + 2 * (H + H / 2 + C + K));
  return {
    largestBinding: rows * largest[1] * f,
    largestName: largest[0],
    totalBytes: rows * perRow * f,
  };
}

/** Throws when one buffer of the run would exceed what the adapter can bind. */
export function checkTrainingMemory(
  limits: BackendLimits,
  R: number,
  T: number,
  C: number,
  K: number,
  H: number,
): MemoryEstimate {
  const m = estimateTrainingMemory(R, T, C, K, H);
  const cap = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (m.largestBinding > cap) {
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    throw new Error(
      `causalmix: this panel (${R} regions × ${T} weeks) with hiddenDim ${H} needs a ${mb(m.largestBinding)} ` +
        `buffer (${m.largestName}), more than this adapter can bind (${mb(cap)}); ` +
        `use a smaller hiddenDim or fewer regions per model (≈ ${mb(m.totalBytes)} in all)`,
    );
  }
  return m;
}
