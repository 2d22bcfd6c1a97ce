/**
 * Ctrl-C (SIGINT) and SIGTERM for `fit`. While training, the first signal asks the trainer to stop
 * after the current epoch (it then writes a checkpoint and the command says how to resume); a
 * second one exits at once. Outside training there is nothing to save: a signal exits at once.
 * The exit codes are the shell's: 130 for SIGINT, 143 for SIGTERM.
 */

export type StopSignal = 'SIGINT' | 'SIGTERM';

export const SIGNAL_EXIT: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

export class Interruption {
  private readonly controller = new AbortController();
  /** the first signal received, if any */
  received?: StopSignal;
  private training = false;
  /** what to say when a signal ends the process outside training (set by the caller) */
  exitNote?: () => string | undefined;
  private readonly handlers = new Map<StopSignal, () => void>();

  constructor(
    private readonly say: (line: string) => void = (l) => process.stderr.write(l + '\n'),
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get exitCode(): number {
    return this.received ? SIGNAL_EXIT[this.received] : 0;
  }

  install(): this {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      const h = () => this.onSignal(sig);
      this.handlers.set(sig, h);
      process.on(sig, h);
    }
    return this;
  }

  uninstall(): void {
    for (const [sig, h] of this.handlers) process.off(sig, h);
    this.handlers.clear();
  }

  /** Runs `fn` as the interruptible part: a first signal then stops it instead of the process. */
  async whileTraining<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.training = true;
    try {
      return await fn(this.signal);
    } finally {
      this.training = false;
    }
  }

  private onSignal(sig: StopSignal): void {
    if (this.received || !this.training) {
      const note = this.received ? undefined : this.exitNote?.();
      if (note) this.say(note);
      process.exit(SIGNAL_EXIT[sig]);
    }
    this.received = sig;
    this.say(
      `causalmix: ${sig === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'}: stopping after this epoch to save a checkpoint (Ctrl-C again quits at once)`,
    );
    this.controller.abort();
  }
}
