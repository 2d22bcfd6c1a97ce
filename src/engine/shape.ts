/** Shape arithmetic shared by the ops (row-major, contiguous strides). */
export type Shape = readonly number[];

/** Kernels carry at most this many dimensions in their uniforms. */
export const MAX_RANK = 6;

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(s: Shape): string {
  return `[${s.join(', ')}]`;
}

export function checkShape(shape: Shape, what = 'shape'): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new Error(`${what} ${formatShape(shape)} has an invalid dimension ${d}`);
  }
  if (shape.length > MAX_RANK)
    throw new Error(
      `${what} ${formatShape(shape)} has rank ${shape.length}; at most ${MAX_RANK} is supported`,
    );
}

/** NumPy broadcasting of two shapes. */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together`,
      );
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides that read a tensor of shape `from` as if it had the (broadcast) shape `to`. */
export function broadcastStrides(from: Shape, to: Shape): number[] {
  const base = stridesOf(from);
  const off = to.length - from.length;
  return to.map((d, i) => {
    const j = i - off;
    if (j < 0) return 0;
    if (from[j] === d) return base[j];
    if (from[j] === 1) return 0;
    throw new Error(`shape ${formatShape(from)} cannot be broadcast to ${formatShape(to)}`);
  });
}

/** Left-pads a shape (or strides, with `fill`) to MAX_RANK entries for the uniforms. */
export function padTo(values: readonly number[], fill: number, rank = MAX_RANK): number[] {
  return [...new Array<number>(rank - values.length).fill(fill), ...values];
}

export function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1))
    throw new Error(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}
