import type { KernelDef } from './kernel.js';
import type { PoolStats } from './buffer-pool.js';

export type DType = 'float32' | 'int32';
export type BackendKind = 'webgpu' | 'cpu';

/**
 * Memory behind a tensor: a GPU buffer region or a Float64Array. Storages are reference counted
 * because views (reshape, parameter slots in an arena) share them.
 */
export class Storage {
  private static nextId = 1;
  readonly id = Storage.nextId++;
  refs = 1;

  constructor(
    /** the GPUBuffer, or the Float64Array holding exactly this storage's elements */
    readonly handle: GPUBuffer | Float64Array,
    /** byte offset of the region inside a GPU buffer (0 on the CPU) */
    readonly byteOffset: number,
    /** elements in this region */
    readonly length: number,
    /** pool bucket this storage owns, or the storage it is a view of */
    readonly origin: { pooled: unknown; size: number } | { parent: Storage } | null,
  ) {}

  get gpu(): GPUBuffer {
    return this.handle as GPUBuffer;
  }

  get cpu(): Float64Array {
    return this.handle as Float64Array;
  }
}

/** One recorded unit of work: a kernel dispatch or a buffer copy, ready to be re-executed. */
export type Command =
  | {
      kind: 'dispatch';
      kernel: Pick<KernelDef, 'name' | 'shader' | 'entryPoint'>;
      grid: [number, number, number];
      /** GPU: pipeline, bind group and uniform buffer; CPU: the closure */
      gpu?: { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; uniform: GPUBuffer };
      run?: () => void;
    }
  | { kind: 'copy'; src: Storage; dst: Storage; length: number; run?: () => void };

export interface Backend {
  readonly kind: BackendKind;
  /** human-readable adapter name, e.g. "OpenGL ES 3.2 Mesa 22.3.6" or "CPU (float64 reference)" */
  readonly adapterName: string;
  /** 'core' | 'compatibility' for WebGPU, 'reference' for the CPU */
  readonly featureLevel: string;
  readonly limits: BackendLimits;
  /**
   * Most loop iterations one shader invocation may run in total before the driver silently ends
   * every loop (Mesa's llvmpipe/lavapipe: 65,535); Infinity where there is no such cap. Ops check
   * their budget against it (see launch-planner.ts).
   */
  readonly loopIterationCap: number;
  /** the adapter runs on the CPU (llvmpipe, lavapipe, SwiftShader, the float64 reference) */
  readonly software: boolean;

  /** A fresh pooled buffer of at least `length` elements (returned through `releasePooled`). */
  acquire(length: number): { pooled: unknown; size: number };
  releasePooled(pooled: unknown, size: number): void;
  /** The pool bucket a tensor of `length` elements is served from. */
  bucketOf(length: number): number;
  storageFor(pooled: unknown, size: number, length: number): Storage;
  view(parent: Storage, offset: number, length: number): Storage;
  /** Element alignment of views (GPU binding offsets must be 256-byte aligned). */
  readonly viewAlignment: number;

  write(s: Storage, data: ArrayLike<number>, dtype: DType): void;
  read(s: Storage, dtype: DType): Promise<Float64Array>;

  dispatch<P>(
    k: KernelDef<P>,
    inputs: Storage[],
    outputs: Storage[],
    p: P,
    grid: [number, number, number],
  ): Command;
  copy(src: Storage, dst: Storage, length: number): Command;
  /** GPU: encodes every command into one encoder and submits once. CPU: runs them now. */
  execute(cmds: readonly Command[]): void;
  /** Frees what a command holds (its uniform buffer) once it will not run again. */
  retire(cmd: Command): void;
  /** Resolves when all submitted work has finished. */
  sync(): Promise<void>;
  /** Throws if the device was lost or a validation error was reported. */
  checkHealth(): void;

  poolStats(): PoolStats;
  destroy(): void;
}

export interface BackendLimits {
  maxStorageBufferBindingSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupStorageSize: number;
  maxStorageBuffersPerShaderStage: number;
  maxBufferSize: number;
  maxComputeWorkgroupsPerDimension: number;
}
