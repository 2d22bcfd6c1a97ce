/**
 * Time left in a training, from the pace between progress reports. The trainer's own estimate
 * divides all the time so far by the epochs done, so it counts start-up (device, shader
 * compilation) as if every epoch took that long: early in a run, during the warm start, it came
 * out several times too high. Here the pace is measured from the first report on. No Node imports.
 */
import type { TrainProgress } from '../model/trainer.js';

/** Epochs done over the whole run (warm start, then training) at a report. */
export function overallStep(p: Pick<TrainProgress, 'phase' | 'epoch'>, warmEpochs: number): number {
  return (p.phase === 'warm-start' ? 0 : warmEpochs) + p.epoch;
}

export class EtaClock {
  private first: { step: number; ms: number } | null = null;

  /** `total` is warm-start + training epochs; reports arrive in order. */
  constructor(
    private readonly warmEpochs: number,
    private readonly total: number,
  ) {}

  /** Milliseconds left after this report, or NaN until two reports have set a pace. */
  update(p: Pick<TrainProgress, 'phase' | 'epoch' | 'elapsedMs'>): number {
    const step = overallStep(p, this.warmEpochs);
    if (this.first === null) {
      this.first = { step, ms: p.elapsedMs };
      return NaN;
    }
    const steps = step - this.first.step;
    if (steps <= 0) return NaN;
    const perStep = (p.elapsedMs - this.first.ms) / steps;
    return Math.max(0, this.total - step) * perStep;
  }
}
