import { BufferPool, bucketSize } from './buffer-pool.js';
import { Storage, type Backend, type BackendLimits, type Command, type DType } from './backend.js';
import { packParams, UNIFORM_BYTES, type KernelDef } from './kernel.js';
import { constraintsWgsl, interfaceWgsl } from './kernel-interface.js';
import { SHADERS } from '../generated/shaders.js';

const STORAGE_USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST
const UNIFORM_USAGE = 0x40 | 0x08; // UNIFORM | COPY_DST
const STAGING_USAGE = 0x01 | 0x08; // MAP_READ | COPY_DST
const MAP_READ = 0x01;

/** Raised when the GPU device is lost or rejects work; the engine cannot continue after it. */
export class DeviceLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceLostError';
  }
}

/**
 * Executes kernels on a WebGPU device: pooled storage buffers, a pipeline cache keyed by shader and
 * entry point only (shapes are uniforms), and command lists encoded into one submit.
 */
export class WebGpuBackend implements Backend {
  readonly kind = 'webgpu' as const;
  readonly viewAlignment: number;
  readonly limits: BackendLimits;
  private readonly pool: BufferPool<GPUBuffer>;
  private readonly uniforms: BufferPool<GPUBuffer>;
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private failure: string | null = null;
  private readonly lostWaiters = new Set<(e: Error) => void>();

  constructor(
    readonly device: GPUDevice,
    readonly adapterName: string,
    readonly featureLevel: string,
    /** see Backend.loopIterationCap (set from the adapter's info by device.ts) */
    readonly loopIterationCap = Infinity,
    /** see Backend.software (set from the adapter's info by device.ts) */
    readonly software = false,
  ) {
    const l = device.limits;
    this.limits = {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    };
    this.viewAlignment = Math.max(1, l.minStorageBufferOffsetAlignment / 4);
    this.pool = new BufferPool(
      (size) => device.createBuffer({ size, usage: STORAGE_USAGE }),
      (b) => b.destroy(),
    );
    this.uniforms = new BufferPool(
      (size) => device.createBuffer({ size, usage: UNIFORM_USAGE }),
      (b) => b.destroy(),
    );
    device.lost.then((info) => {
      if (info.reason === 'destroyed' && this.failure === null) {
        this.failure = 'the GPU device was destroyed';
      } else {
        this.failure ??= `the GPU device was lost (${info.reason}): ${info.message}`;
      }
      const err = new DeviceLostError(`causalmix: ${this.failure}`);
      this.lostWaiters.forEach((w) => w(err));
      this.lostWaiters.clear();
    });
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.failure ??= `the GPU rejected work: ${e.message}`;
    });
  }

  checkHealth(): void {
    if (this.failure) throw new DeviceLostError(`causalmix: ${this.failure}`);
  }

  acquire(length: number) {
    const bytes = Math.max(length * 4, 16);
    if (bytes > this.limits.maxBufferSize) {
      throw new Error(
        `causalmix: a tensor of ${length} elements (${bytes} bytes) exceeds this adapter's maxBufferSize (${this.limits.maxBufferSize} bytes)`,
      );
    }
    const { item, size } = this.pool.acquire(bytes);
    return { pooled: item, size };
  }

  bucketOf(length: number): number {
    return bucketSize(Math.max(length * 4, 16));
  }

  releasePooled(pooled: unknown, size: number): void {
    this.pool.release(pooled as GPUBuffer, size);
  }

  storageFor(pooled: unknown, size: number, length: number): Storage {
    return new Storage(pooled as GPUBuffer, 0, length, { pooled, size });
  }

  view(parent: Storage, offset: number, length: number): Storage {
    if (offset % this.viewAlignment !== 0) {
      throw new Error(
        `causalmix: GPU views must start at a multiple of ${this.viewAlignment} elements (got ${offset})`,
      );
    }
    return new Storage(parent.gpu, parent.byteOffset + offset * 4, length, { parent });
  }

  write(s: Storage, data: ArrayLike<number>, dtype: DType): void {
    this.checkHealth();
    const arr =
      dtype === 'int32'
        ? Int32Array.from(data as ArrayLike<number>)
        : Float32Array.from(data as ArrayLike<number>);
    if (arr.length === 0) return;
    this.device.queue.writeBuffer(s.gpu, s.byteOffset, arr.buffer, arr.byteOffset, arr.byteLength);
  }

  async read(s: Storage, dtype: DType): Promise<Float64Array> {
    this.checkHealth();
    if (s.length === 0) return new Float64Array(0);
    const bytes = s.length * 4;
    const staging = this.device.createBuffer({
      size: Math.ceil(bytes / 4) * 4,
      usage: STAGING_USAGE,
    });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(s.gpu, s.byteOffset, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    await this.guard(staging.mapAsync(MAP_READ));
    const raw = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    this.checkHealth();
    return Float64Array.from(dtype === 'int32' ? new Int32Array(raw) : new Float32Array(raw));
  }

  /** Waits for `p`, but rejects with a clear error if the device is lost meanwhile (no hang). */
  private guard<T>(p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onLost = (e: Error) => reject(e);
      this.lostWaiters.add(onLost);
      p.then(
        (v) => {
          this.lostWaiters.delete(onLost);
          resolve(v);
        },
        (e: Error) => {
          this.lostWaiters.delete(onLost);
          reject(this.failure ? new DeviceLostError(`causalmix: ${this.failure}`) : e);
        },
      );
    });
  }

  private pipeline<P>(k: KernelDef<P>): GPUComputePipeline {
    const key = `${k.shader}:${k.entryPoint}`;
    let p = this.pipelines.get(key);
    if (p) return p;
    let module = this.modules.get(k.shader);
    if (!module) {
      const src = SHADERS[k.shader];
      if (src === undefined) throw new Error(`causalmix: no shader file shaders/${k.shader}.wgsl`);
      module = this.device.createShaderModule({
        label: k.shader,
        code: shaderSource(k.shader, src),
      });
      this.modules.set(k.shader, module);
    }
    p = this.device.createComputePipeline({
      label: key,
      layout: 'auto',
      compute: { module, entryPoint: k.entryPoint },
    });
    this.pipelines.set(key, p);
    return p;
  }

  dispatch<P>(
    k: KernelDef<P>,
    inputs: Storage[],
    outputs: Storage[],
    p: P,
    grid: [number, number, number],
  ): Command {
    this.checkHealth();
    const pipeline = this.pipeline(k);
    const uniform = this.uniforms.acquire(UNIFORM_BYTES).item;
    this.device.queue.writeBuffer(uniform, 0, packParams(k, p));
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: uniform, size: UNIFORM_BYTES } },
    ];
    [...inputs, ...outputs].forEach((s, i) => {
      entries.push({
        binding: i + 1,
        resource: { buffer: s.gpu, offset: s.byteOffset, size: Math.max(s.length, 4) * 4 },
      });
    });
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries,
    });
    return { kind: 'dispatch', kernel: k, grid, gpu: { pipeline, bindGroup, uniform } };
  }

  copy(src: Storage, dst: Storage, length: number): Command {
    return { kind: 'copy', src, dst, length };
  }

  execute(cmds: readonly Command[]): void {
    this.checkHealth();
    const enc = this.device.createCommandEncoder();
    let pass: GPUComputePassEncoder | null = null;
    for (const c of cmds) {
      if (c.kind === 'dispatch') {
        if (c.grid[0] * c.grid[1] * c.grid[2] === 0) continue;
        pass ??= enc.beginComputePass();
        pass.setPipeline(c.gpu!.pipeline);
        pass.setBindGroup(0, c.gpu!.bindGroup);
        pass.dispatchWorkgroups(c.grid[0], c.grid[1], c.grid[2]);
      } else {
        if (pass) pass.end();
        pass = null;
        if (c.length > 0)
          enc.copyBufferToBuffer(
            c.src.gpu,
            c.src.byteOffset,
            c.dst.gpu,
            c.dst.byteOffset,
            c.length * 4,
          );
      }
    }
    if (pass) pass.end();
    this.device.queue.submit([enc.finish()]);
  }

  async sync(): Promise<void> {
    this.checkHealth();
    await this.guard(this.device.queue.onSubmittedWorkDone());
    this.checkHealth();
  }

  retire(cmd: Command): void {
    if (cmd.kind === 'dispatch' && cmd.gpu) this.uniforms.release(cmd.gpu.uniform, UNIFORM_BYTES);
  }

  poolStats() {
    return this.pool.snapshot();
  }

  destroy(): void {
    this.pool.clear();
    this.uniforms.clear();
    this.device.destroy();
  }
}

/** A shader module's code: the common helpers, the constraints, the file's declared interface. */
export function shaderSource(shader: string, src: string): string {
  return [SHADERS.common, constraintsWgsl(), interfaceWgsl(shader), src].join('\n');
}
