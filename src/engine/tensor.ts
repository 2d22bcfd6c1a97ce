import type { DType, Storage } from './backend.js';
import type { Engine } from './engine.js';
import { formatShape, numel, type Shape } from './shape.js';

/**
 * A shape-carrying view of device memory. Tensors are immutable once computed (ops create new
 * ones), except inputs refreshed with `write` and parameters updated in place by the optimizer.
 */
export class Tensor {
  private static nextId = 1;
  readonly id = Tensor.nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  /** leaves that want gradients; set on op outputs recorded on the tape */
  requiresGrad = false;
  /** gradient of the last `backward` (for leaves) */
  grad: Tensor | null = null;
  private disposed = false;

  constructor(
    readonly engine: Engine,
    shape: Shape,
    readonly storage: Storage,
    readonly dtype: DType = 'float32',
  ) {
    this.shape = [...shape];
    this.size = numel(shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Reads the values back (flushes pending GPU work first). */
  async toArray(): Promise<Float64Array> {
    this.assertAlive();
    return this.engine.read(this);
  }

  /** Reads a scalar (or the first element). */
  async item(): Promise<number> {
    return (await this.toArray())[0];
  }

  /** Overwrites the values in place (inputs of a recorded program are refreshed this way). */
  write(data: ArrayLike<number>): void {
    this.assertAlive();
    if (data.length !== this.size) {
      throw new Error(
        `causalmix: write of ${data.length} values into a tensor of shape ${formatShape(this.shape)} (${this.size} values)`,
      );
    }
    this.engine.write(this, data);
  }

  /** Marks this tensor as a leaf whose gradient `backward` computes. */
  requireGrad(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.engine.releaseStorage(this.storage);
  }

  assertAlive(): void {
    if (this.disposed)
      throw new Error(
        `causalmix: tensor #${this.id} ${formatShape(this.shape)} was used after dispose()`,
      );
  }

  toString(): string {
    return `Tensor#${this.id}${formatShape(this.shape)}`;
  }
}
