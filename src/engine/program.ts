import type { Command } from './backend.js';
import type { Engine } from './engine.js';

/**
 * A recorded list of commands (pipelines, bind groups, workgroup counts and buffers all fixed),
 * re-encoded into one command encoder and submitted once per `run()`.
 */
export class Program<T> {
  private disposed = false;

  constructor(
    private readonly engine: Engine,
    private readonly commands: readonly Command[],
    /** the recorded function's result; its tensors hold the latest run's values */
    readonly outputs: T,
    private readonly onDispose: () => void,
  ) {}

  get dispatchCount(): number {
    return this.commands.filter((c) => c.kind === 'dispatch').length;
  }

  /** Dispatch counts per kernel name (for benchmarks and tests). */
  kernelCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.commands)
      if (c.kind === 'dispatch') out[c.kernel.name] = (out[c.kernel.name] ?? 0) + 1;
    return out;
  }

  /**
   * Runs the program once command by command, one submit and wait each, and returns the time
   * spent per kernel name (ms, summed over its dispatches; copies under "copy"). For benchmarks:
   * a profiled run is slower than `run()` and its total is not a step time.
   */
  async profile(): Promise<Record<string, number>> {
    if (this.disposed) throw new Error('causalmix: program used after dispose()');
    const out: Record<string, number> = {};
    await this.engine.sync();
    for (const c of this.commands) {
      const t0 = performance.now();
      this.engine.submitProgram([c]);
      await this.engine.sync();
      const name = c.kind === 'dispatch' ? c.kernel.name : c.kind;
      out[name] = (out[name] ?? 0) + performance.now() - t0;
    }
    return out;
  }

  run(): T {
    if (this.disposed) throw new Error('causalmix: program used after dispose()');
    this.engine.submitProgram(this.commands);
    return this.outputs;
  }

  /** Frees the program's memory and its outputs. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose();
  }
}
