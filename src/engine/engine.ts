import { acquireBackend, type DeviceOptions } from './device.js';
import type { Backend, Command, DType, Storage } from './backend.js';
import { Rng } from './random.js';
import { checkShape, formatShape, numel, type Shape } from './shape.js';
import { Tensor } from './tensor.js';
import type { KernelDef } from './kernel.js';
import { Program } from './program.js';

export interface EngineOptions extends DeviceOptions {
  /** seed of the engine's random generator (default 42) */
  seed?: number;
  /** eager mode submits after this many queued dispatches (default 64) */
  flushEvery?: number;
}

export interface EngineStats {
  adapter: string;
  /** buffers held by tensors, programs and pending work */
  liveBuffers: number;
  liveBytes: number;
  /** buffers parked in the pool for reuse */
  pooledBuffers: number;
  pooledBytes: number;
  /** buffers ever created by the pool */
  createdBuffers: number;
  submits: number;
  dispatches: number;
}

type TensorTree =
  | Tensor
  | null
  | undefined
  | void
  | number
  | string
  | boolean
  | TensorTree[]
  | { [k: string]: TensorTree };

/** What `record` is collecting: the commands and the memory the program will own. */
interface Recording {
  commands: Command[];
  /** buffers freed during recording that later recorded work may reuse */
  free: Map<number, unknown[]>;
  /** buffers freed during recording that replays still read; kept until the program is disposed */
  held: { pooled: unknown; size: number }[];
  /** storages created during recording */
  created: Set<number>;
  /** storages whose contents were written by the host (never reused by the recording) */
  pinned: Set<number>;
}

/**
 * The engine: one backend (a WebGPU device or the CPU reference), tensor creation, memory scopes,
 * command batching and recorded programs. Ops (src/ops) build on `run`.
 */
export class Engine {
  readonly rng: Rng;
  private pending: Command[] = [];
  private deferred: Storage[] = [];
  private recording: Recording | null = null;
  private scopes: Set<Tensor>[] = [];
  private counters = { submits: 0, dispatches: 0 };
  private readonly flushEvery: number;

  constructor(
    readonly backend: Backend,
    options: EngineOptions = {},
  ) {
    this.rng = new Rng(options.seed ?? 42);
    this.flushEvery = options.flushEvery ?? 64;
  }

  get adapterName(): string {
    return this.backend.adapterName;
  }

  /** the adapter runs on the CPU (a software rasteriser or the float64 reference) */
  get software(): boolean {
    return this.backend.software;
  }

  get featureLevel(): string {
    return this.backend.featureLevel;
  }

  /** Loop iterations one shader invocation may run (Infinity unless the driver caps them). */
  get loopIterationCap(): number {
    return this.backend.loopIterationCap;
  }

  get isGpu(): boolean {
    return this.backend.kind === 'webgpu';
  }

  /** "OpenGL ES 3.2 Mesa 22.3.6 (webgpu, compatibility)" */
  describe(): string {
    return `${this.adapterName} (${this.backend.kind}, ${this.featureLevel})`;
  }

  // ---- tensors -------------------------------------------------------------------------------

  /** An uninitialised tensor (kernels that produce it write every element). */
  empty(shape: Shape, dtype: DType = 'float32'): Tensor {
    checkShape(shape);
    return this.track(new Tensor(this, shape, this.allocStorage(numel(shape)), dtype));
  }

  /** A tensor holding `data` (row-major). */
  tensor(data: ArrayLike<number>, shape?: Shape, dtype: DType = 'float32'): Tensor {
    const s = shape ?? [data.length];
    checkShape(s);
    if (numel(s) !== data.length) {
      throw new Error(`causalmix: ${data.length} values do not fill shape ${formatShape(s)}`);
    }
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]))
        throw new Error(`causalmix: value ${data[i]} at index ${i} is not a finite number`);
    }
    const t = this.empty(s, dtype);
    this.backend.write(t.storage, data, dtype);
    this.recording?.pinned.add(t.storage.id);
    return t;
  }

  scalar(v: number): Tensor {
    return this.tensor([v], []);
  }

  zeros(shape: Shape): Tensor {
    return this.tensor(new Float64Array(numel(shape)), shape);
  }

  ones(shape: Shape): Tensor {
    return this.full(shape, 1);
  }

  full(shape: Shape, value: number): Tensor {
    return this.tensor(new Float64Array(numel(shape)).fill(value), shape);
  }

  /** Normal(mean, std) values from the engine's seeded generator. */
  randn(shape: Shape, std = 1, mean = 0): Tensor {
    return this.tensor(this.rng.normalArray(numel(shape), mean, std), shape);
  }

  /** Uniform [lo, hi) values from the engine's seeded generator. */
  rand(shape: Shape, lo = 0, hi = 1): Tensor {
    return this.tensor(this.rng.uniformArray(numel(shape), lo, hi), shape);
  }

  /** A tensor sharing `t`'s memory with another shape of the same size (reshape). */
  alias(t: Tensor, shape: Shape): Tensor {
    t.assertAlive();
    checkShape(shape);
    t.storage.refs++;
    return this.track(new Tensor(this, shape, t.storage, t.dtype));
  }

  /** A tensor over elements [offset, offset+numel(shape)) of `t` (offset aligned for the GPU). */
  sliceView(t: Tensor, offset: number, shape: Shape): Tensor {
    t.assertAlive();
    t.storage.refs++;
    const s = this.backend.view(t.storage, offset, numel(shape));
    return this.track(new Tensor(this, shape, s, t.dtype));
  }

  // ---- execution -----------------------------------------------------------------------------

  /** Queues one kernel dispatch (recorded into a program while `record` runs). */
  run<P>(
    k: KernelDef<P>,
    inputs: Tensor[],
    outputs: Tensor[],
    p: P,
    grid: [number, number, number],
  ): void {
    checkBindings(k, inputs.length, outputs.length);
    for (const t of inputs) t.assertAlive();
    for (const t of outputs) t.assertAlive();
    this.exec(
      this.backend.dispatch(
        k,
        inputs.map((t) => t.storage),
        outputs.map((t) => t.storage),
        p,
        grid,
      ),
    );
  }

  /** Queues a copy of `src` into `dst` (same number of elements). */
  copy(src: Tensor, dst: Tensor): void {
    if (src.size !== dst.size)
      throw new Error(`causalmix: copy of ${src.size} values into ${dst.size}`);
    this.exec(this.backend.copy(src.storage, dst.storage, src.size));
  }

  private exec(cmd: Command): void {
    if (this.recording) {
      this.recording.commands.push(cmd);
      return;
    }
    this.pending.push(cmd);
    if (!this.isGpu || this.pending.length >= this.flushEvery) this.flush();
  }

  /** Submits queued work (one submit) and returns buffers freed meanwhile to the pool. */
  flush(): void {
    if (this.pending.length > 0) {
      const cmds = this.pending;
      this.pending = [];
      this.backend.execute(cmds);
      this.counters.submits++;
      this.counters.dispatches += cmds.filter((c) => c.kind === 'dispatch').length;
      cmds.forEach((c) => this.backend.retire(c));
    }
    const freed = this.deferred;
    this.deferred = [];
    freed.forEach((s) => this.returnToPool(s));
  }

  /** Runs a recorded program: one submit on the GPU. */
  submitProgram(cmds: readonly Command[]): void {
    this.flush();
    this.backend.execute(cmds);
    this.counters.submits++;
    this.counters.dispatches += cmds.filter((c) => c.kind === 'dispatch').length;
  }

  /** Submits queued work and waits until the device has finished everything (for timing). */
  async sync(): Promise<void> {
    this.flush();
    await this.backend.sync();
  }

  async read(t: Tensor): Promise<Float64Array> {
    if (this.recording)
      throw new Error('causalmix: tensors cannot be read while a program is being recorded');
    this.flush();
    return this.backend.read(t.storage, t.dtype);
  }

  write(t: Tensor, data: ArrayLike<number>): void {
    this.flush();
    this.backend.write(t.storage, data, t.dtype);
    this.recording?.pinned.add(t.storage.id);
  }

  // ---- memory --------------------------------------------------------------------------------

  private allocStorage(length: number): Storage {
    const rec = this.recording;
    let acquired: { pooled: unknown; size: number } | undefined;
    // Reuse memory freed earlier in the same recording: replays run in order, so it is safe.
    if (rec) {
      const bucket = this.backend.bucketOf(length);
      const reused = rec.free.get(bucket)?.pop();
      if (reused !== undefined) acquired = { pooled: reused, size: bucket };
    }
    acquired ??= this.backend.acquire(length);
    const s = this.backend.storageFor(acquired.pooled, acquired.size, length);
    rec?.created.add(s.id);
    return s;
  }

  /** Called by Tensor.dispose: drops one reference, frees the memory after its last use. */
  releaseStorage(s: Storage): void {
    if (--s.refs > 0) return;
    const origin = s.origin;
    if (origin && 'parent' in origin) {
      this.releaseStorage(origin.parent);
      return;
    }
    const rec = this.recording;
    if (rec && origin) {
      if (rec.created.has(s.id) && !rec.pinned.has(s.id)) {
        let list = rec.free.get(origin.size);
        if (!list) rec.free.set(origin.size, (list = []));
        list.push(origin.pooled);
      } else {
        // Host-written or older memory may be read again by every replay: the program keeps it.
        rec.held.push(origin);
      }
      return;
    }
    if (this.pending.length > 0) this.deferred.push(s);
    else this.returnToPool(s);
  }

  private returnToPool(s: Storage): void {
    const origin = s.origin;
    if (origin && 'pooled' in origin) this.backend.releasePooled(origin.pooled, origin.size);
  }

  private track(t: Tensor): Tensor {
    this.scopes[this.scopes.length - 1]?.add(t);
    return t;
  }

  /**
   * Runs `fn` and disposes every tensor it created except those it returns (or `keep`s).
   * Synchronous functions only.
   */
  tidy<T extends TensorTree>(fn: () => T): T {
    const scope = new Set<Tensor>();
    this.scopes.push(scope);
    let result: T;
    try {
      result = fn();
    } finally {
      this.scopes.pop();
    }
    const keepers = new Set<Tensor>();
    collectTensors(result, keepers);
    const parent = this.scopes[this.scopes.length - 1];
    for (const t of scope) {
      if (keepers.has(t)) parent?.add(t);
      else t.dispose();
    }
    return result;
  }

  /** Keeps `t` alive past the enclosing `tidy`. */
  keep<T extends Tensor>(t: T): T {
    for (const s of this.scopes) s.delete(t);
    return t;
  }

  /**
   * Records the work `fn` queues (once) into a program that `run()` re-executes as one submit,
   * with no allocation, pipeline or bind-group creation. The tensors `fn` returns are the
   * program's outputs; they refresh at each run.
   */
  record<T extends TensorTree>(fn: () => T): Program<T> {
    if (this.recording) throw new Error('causalmix: programs cannot be recorded inside each other');
    this.flush();
    const rec: Recording = {
      commands: [],
      free: new Map(),
      held: [],
      created: new Set(),
      pinned: new Set(),
    };
    this.recording = rec;
    let outputs: T;
    try {
      outputs = this.tidy(fn);
    } catch (e) {
      this.recording = null;
      rec.commands.forEach((c) => this.backend.retire(c));
      throw e;
    } finally {
      this.recording = null;
    }
    const outs = new Set<Tensor>();
    collectTensors(outputs, outs);
    outs.forEach((t) => this.keep(t));
    return new Program(this, rec.commands, outputs, () => {
      rec.commands.forEach((c) => this.backend.retire(c));
      outs.forEach((t) => t.dispose());
      rec.free.forEach((list, size) =>
        list.forEach((pooled) => this.backend.releasePooled(pooled, size)),
      );
      rec.held.forEach((o) => this.backend.releasePooled(o.pooled, o.size));
    });
  }

  get isRecording(): boolean {
    return this.recording !== null;
  }

  stats(): EngineStats {
    const p = this.backend.poolStats();
    return {
      adapter: this.adapterName,
      liveBuffers: p.live,
      liveBytes: p.liveSize,
      pooledBuffers: p.free,
      pooledBytes: p.freeSize,
      createdBuffers: p.created,
      submits: this.counters.submits,
      dispatches: this.counters.dispatches,
    };
  }

  /** Releases the device (and every buffer). The engine cannot be used afterwards. */
  destroy(): void {
    this.pending = [];
    this.backend.destroy();
  }
}

function collectTensors(x: TensorTree, into: Set<Tensor>): void {
  if (x instanceof Tensor) into.add(x);
  else if (Array.isArray(x)) x.forEach((v) => collectTensors(v, into));
  else if (x && typeof x === 'object')
    Object.values(x).forEach((v) => collectTensors(v as TensorTree, into));
}

/** Finds an adapter (see `AdapterChoice`) and returns an engine on it. */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  return new Engine(await acquireBackend(options), options);
}

/** A kernel gets exactly the storage buffers it declares. */
function checkBindings<P>(k: KernelDef<P>, inputs: number, outputs: number): void {
  if (k.inputs.length !== inputs)
    throw new Error(`causalmix: kernel ${k.name} takes ${k.inputs.length} inputs, got ${inputs}`);
  if (k.outputs.length !== outputs)
    throw new Error(
      `causalmix: kernel ${k.name} writes ${k.outputs.length} outputs, got ${outputs}`,
    );
}
