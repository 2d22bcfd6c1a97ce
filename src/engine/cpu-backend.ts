import { BufferPool, bucketSize } from './buffer-pool.js';
import { Storage, type Backend, type Command, type DType } from './backend.js';
import type { KernelDef } from './kernel.js';

/**
 * The float64 reference backend: every kernel's `cpu` function over Float64Arrays. Selected with
 * `adapter: 'cpu'`; it runs any model without WebGPU and is what the GPU results are compared with.
 */
export class CpuBackend implements Backend {
  readonly kind = 'cpu' as const;
  readonly adapterName = 'CPU (float64 reference)';
  readonly software = true;
  readonly featureLevel = 'reference';
  readonly viewAlignment = 1;
  readonly loopIterationCap = Infinity;
  readonly limits = {
    maxStorageBufferBindingSize: Number.MAX_SAFE_INTEGER,
    maxComputeInvocationsPerWorkgroup: 1024,
    maxComputeWorkgroupStorageSize: Number.MAX_SAFE_INTEGER,
    maxStorageBuffersPerShaderStage: 1024,
    maxBufferSize: Number.MAX_SAFE_INTEGER,
    maxComputeWorkgroupsPerDimension: 65535,
  };
  private readonly pool = new BufferPool<Float64Array>(
    (n) => new Float64Array(n),
    () => undefined,
  );

  acquire(length: number) {
    const { item, size } = this.pool.acquire(Math.max(length, 1));
    return { pooled: item, size };
  }

  bucketOf(length: number): number {
    return bucketSize(Math.max(length, 1));
  }

  releasePooled(pooled: unknown, size: number): void {
    this.pool.release(pooled as Float64Array, size);
  }

  storageFor(pooled: unknown, size: number, length: number): Storage {
    return new Storage((pooled as Float64Array).subarray(0, length), 0, length, { pooled, size });
  }

  view(parent: Storage, offset: number, length: number): Storage {
    return new Storage(parent.cpu.subarray(offset, offset + length), 0, length, { parent });
  }

  write(s: Storage, data: ArrayLike<number>, dtype: DType): void {
    const dst = s.cpu;
    for (let i = 0; i < s.length; i++) dst[i] = dtype === 'int32' ? Math.trunc(data[i]) : data[i];
  }

  async read(s: Storage): Promise<Float64Array> {
    return Float64Array.from(s.cpu);
  }

  dispatch<P>(
    k: KernelDef<P>,
    inputs: Storage[],
    outputs: Storage[],
    p: P,
    grid: [number, number, number],
  ): Command {
    const ins = inputs.map((s) => s.cpu);
    const outs = outputs.map((s) => s.cpu);
    return { kind: 'dispatch', kernel: k, grid, run: () => k.cpu(ins, outs, p) };
  }

  copy(src: Storage, dst: Storage, length: number): Command {
    return { kind: 'copy', src, dst, length, run: () => dst.cpu.set(src.cpu.subarray(0, length)) };
  }

  execute(cmds: readonly Command[]): void {
    for (const c of cmds) c.run!();
  }

  retire(): void {}

  async sync(): Promise<void> {}

  checkHealth(): void {}

  /** Sizes in bytes, as on the GPU (8 per float64 element). */
  poolStats() {
    const s = this.pool.snapshot();
    return { ...s, liveSize: s.liveSize * 8, freeSize: s.freeSize * 8 };
  }

  destroy(): void {
    this.pool.clear();
  }
}
