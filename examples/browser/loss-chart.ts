/**
 * The live loss chart on a canvas: total loss per report on a log scale, warm start in grey, the
 * x axis in epochs over the whole run (warm start first, then training: the count the status line
 * gives as "overall"), a line where training starts, and y labels that differ.
 */
import { overallStep } from '../../src/cli/eta.js';
import type { TrainProgress } from '../../src/browser.js';
import { distinctLabels } from './format.js';

export function drawLoss(
  canvas: HTMLCanvasElement,
  history: TrainProgress[],
  warmEpochs: number,
): void {
  const g = canvas.getContext('2d');
  if (!g) return;
  const { width: W, height: H } = canvas;
  const pad = { l: 64, r: 14, t: 16, b: 34 };
  g.clearRect(0, 0, W, H);
  g.font = '12px system-ui, sans-serif';
  g.fillStyle = '#5f6b7a';
  const h = history.filter((p) => p.loss > 0 && Number.isFinite(p.loss));
  if (h.length === 0) {
    g.fillText('The training loss appears here.', pad.l, H / 2);
    return;
  }
  const step = (p: TrainProgress) => overallStep(p, warmEpochs);
  const xMax = Math.max(step(h[h.length - 1]), 1);
  const logs = h.map((p) => Math.log10(p.loss));
  let lo = Math.min(...logs);
  let hi = Math.max(...logs);
  if (hi - lo < 1e-9) [lo, hi] = [lo - 0.05, hi + 0.05];
  const x = (s: number) => pad.l + ((W - pad.l - pad.r) * s) / xMax;
  const y = (l: number) => pad.t + ((H - pad.t - pad.b) * (hi - l)) / (hi - lo);

  g.strokeStyle = '#d5dbe3';
  g.beginPath();
  g.moveTo(pad.l, pad.t);
  g.lineTo(pad.l, H - pad.b);
  g.lineTo(W - pad.r, H - pad.b);
  g.stroke();
  // y: top, middle and bottom of the log scale, labelled so that they differ
  const ticks = [hi, (hi + lo) / 2, lo];
  const labels = distinctLabels(ticks.map((l) => 10 ** l));
  g.textAlign = 'right';
  ticks.forEach((l, i) => g.fillText(labels[i], pad.l - 6, y(l) + 4));
  // x: 0, the start of training, the last epoch
  g.textAlign = 'center';
  const xs = [0, xMax];
  if (warmEpochs > 0 && warmEpochs < xMax) {
    xs.splice(1, 0, warmEpochs);
    g.strokeStyle = '#9aa5b1';
    g.setLineDash([3, 3]);
    g.beginPath();
    g.moveTo(x(warmEpochs), pad.t);
    g.lineTo(x(warmEpochs), H - pad.b);
    g.stroke();
    g.setLineDash([]);
  }
  xs.forEach((s) => g.fillText(String(s), x(s), H - pad.b + 14));
  g.fillText('epoch (warm start, then training)', pad.l + (W - pad.l - pad.r) / 2, H - 4);
  g.textAlign = 'left';
  g.fillText('loss (log scale)', pad.l + 6, pad.t - 4);

  g.lineWidth = 2;
  for (const phase of ['warm-start', 'train'] as const) {
    const pts = h.filter((p) => p.phase === phase);
    if (pts.length === 0) continue;
    g.strokeStyle = phase === 'warm-start' ? '#9aa5b1' : '#4e79a7';
    g.beginPath();
    pts.forEach((p, i) => {
      const px = x(step(p));
      const py = y(Math.log10(p.loss));
      if (i === 0) g.moveTo(px, py);
      else g.lineTo(px, py);
    });
    g.stroke();
  }
  g.lineWidth = 1;
}
