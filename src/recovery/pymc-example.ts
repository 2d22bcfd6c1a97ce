/**
 * PyMC-Marketing's national example (data/pymc-example/mmm_example.csv, Apache-2.0) as a recovery
 * case: one region, 179 weeks, spends x1 and x2 (cost 1), events as controls, and the documented
 * process — normalised geometric adstock over 8 lags (α 0.4, 0.2), logistic saturation (λ 4, 3),
 * coefficients 3 and 2, all × 1000 — from which the true contributions follow.
 */
import Papa from 'papaparse';
import type { Panel } from '../data/panel.js';
import type { RecoveryPanel, RecoveryTruth } from './generator.js';
import { carryOver, carryWeights, saturate } from './process.js';
import { splitWeeks } from '../data/validate.js';

const PROCESS = [
  { name: 'x1', alpha: 0.4, lambda: 4, coef: 3 },
  { name: 'x2', alpha: 0.2, lambda: 3, coef: 2 },
] as const;
const AMPLITUDE = 1000;

export function pymcExamplePanel(csvText: string, holdoutRatio = 0.12): RecoveryPanel {
  const rows = Papa.parse<Record<string, string>>(csvText.trim(), { header: true }).data;
  const col = (name: string) => {
    if (!(name in rows[0])) throw new Error(`causalmix: the PyMC example lacks column '${name}'`);
    return rows.map((row) => Number(row[name]));
  };
  const W = rows.length;
  const weeks = rows.map((row) => row.date_week);
  const C = PROCESS.length;
  const inputs = PROCESS.map((p) => col(p.name));
  const media = new Float64Array(W * C);
  inputs.forEach((x, c) => x.forEach((v, w) => (media[w * C + c] = v)));
  const events = [col('event_1'), col('event_2')];
  const controls = new Float64Array(W * 2);
  events.forEach((e, k) => e.forEach((v, w) => (controls[w * 2 + k] = v)));
  const target = Float64Array.from(col('y'));
  const panel: Panel = {
    regions: ['national'],
    weeks,
    channels: PROCESS.map((p) => p.name),
    controlNames: ['event_1', 'event_2'],
    media,
    controls,
    target,
    observed: new Uint8Array(W).fill(1),
  };

  const { wTrain } = splitWeeks(W, holdoutRatio);
  const effects = new Float64Array(W * C);
  const total = PROCESS.map((p, c) => {
    const carried = carryOver(
      inputs[c],
      carryWeights({ kind: 'geometric', alpha: p.alpha, maxLag: 7 }),
    );
    let s = 0;
    carried.forEach((v, w) => {
      effects[w * C + c] = AMPLITUDE * p.coef * saturate({ kind: 'logistic', lambda: p.lambda }, v);
      if (w < wTrain) s += effects[w * C + c];
    });
    return s;
  });
  const spend = inputs.map((x) => x.slice(0, wTrain).reduce((a, b) => a + b, 0));
  const sum = total.reduce((a, b) => a + b, 0);
  const kpi = target.slice(0, wTrain).reduce((a, b) => a + b, 0);
  const truth: RecoveryTruth = {
    channels: PROCESS.map((p) => ({
      name: p.name,
      carry: { kind: 'geometric', alpha: p.alpha, maxLag: 7 },
      saturation: { kind: 'logistic', lambda: p.lambda },
      coef: p.coef * AMPLITUDE,
      costPerImpression: 1,
      unit: 1,
      kappa: 1,
    })),
    // x enters the saturation as it is: level and size 1, coef in KPI units
    regionLevel: Float64Array.of(1),
    regionSize: Float64Array.of(1),
    wTrain,
    direct: total,
    mediated: [0, 0],
    total,
    shareOfMedia: total.map((t) => t / sum),
    roas: total.map((t, c) => t / spend[c]),
    spend,
    // the noise-free KPI is not published: the observed KPI stands in (noise averages out)
    mediaShare: sum / kpi,
    edges: [],
    correlatedPairs: [],
    demandChannels: [],
    effects,
    signal: target,
  };
  return { panel, truth, costPerImpression: { x1: 1, x2: 1 } };
}
