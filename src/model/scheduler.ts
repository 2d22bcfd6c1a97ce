/**
 * ReduceLROnPlateau and early stopping as PyTorch defines them (mode min, relative threshold
 * 1e-4), fed with a loss every `n` epochs; patience is counted in epochs.
 */
export interface PlateauState {
  lr: number;
  best: number;
  badEpochs: number;
}

export class PlateauScheduler {
  state: PlateauState;

  constructor(
    lr: number,
    private readonly patience: number,
    private readonly factor: number,
    private readonly minLr: number,
  ) {
    this.state = { lr, best: Infinity, badEpochs: 0 };
  }

  /** Reports `loss` measured after `epochs` more epochs; returns true when the lr was cut. */
  observe(loss: number, epochs: number): boolean {
    const s = this.state;
    if (loss < s.best * (1 - 1e-4)) {
      s.best = loss;
      s.badEpochs = 0;
      return false;
    }
    s.badEpochs += epochs;
    if (s.badEpochs > this.patience) {
      const next = Math.max(s.lr * this.factor, this.minLr);
      s.badEpochs = 0;
      if (s.lr - next > 1e-12) {
        s.lr = next;
        return true;
      }
    }
    return false;
  }
}

export interface EarlyStoppingState {
  best: number;
  bestEpoch: number;
  since: number;
}

/** Early stopping on a validation loss: stop after `patience` epochs without improvement. */
export class EarlyStopping {
  best = Infinity;
  bestEpoch = -1;
  private since = 0;

  constructor(private readonly patience: number) {}

  /** What a checkpoint keeps (JSON: an infinite best is written as null and read back as such). */
  get state(): EarlyStoppingState {
    return { best: this.best, bestEpoch: this.bestEpoch, since: this.since };
  }

  set state(s: EarlyStoppingState) {
    this.best = s.best ?? Infinity;
    this.bestEpoch = s.bestEpoch;
    this.since = s.since;
  }

  /** Returns 'improved', 'wait' or 'stop'. */
  observe(loss: number, epoch: number, epochs: number): 'improved' | 'wait' | 'stop' {
    if (loss < this.best * (1 - 1e-4)) {
      this.best = loss;
      this.bestEpoch = epoch;
      this.since = 0;
      return 'improved';
    }
    this.since += epochs;
    return this.since >= this.patience ? 'stop' : 'wait';
  }
}
