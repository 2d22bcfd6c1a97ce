/**
 * Coefficient distributions: one box per channel over every region-week's time-varying
 * coefficient. The quartiles are computed here so only C rows are embedded, not R·W·C points.
 */
import type { NumericArray } from '../data.js';
import type { ChartDef, Prepared } from './common.js';
import { baseConfig, channelColor, chartTitle, round } from './common.js';

export interface BoxStats {
  n: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
  mean: number;
  /** Tukey whiskers: the extreme values within 1.5·IQR of the box */
  lower: number;
  upper: number;
}

/** Linear-interpolated quantile of sorted values (NumPy's default). */
function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function boxStats(values: NumericArray): BoxStats | null {
  const finite = Array.from(values).filter(Number.isFinite);
  if (finite.length === 0) return null;
  const s = Float64Array.from(finite).sort();
  const q1 = quantile(s, 0.25);
  const q3 = quantile(s, 0.75);
  const iqr = q3 - q1;
  let lower = q1;
  let upper = q3;
  for (const v of s) {
    if (v >= q1 - 1.5 * iqr) lower = Math.min(lower, v);
    if (v <= q3 + 1.5 * iqr) upper = Math.max(upper, v);
  }
  return {
    n: s.length,
    min: s[0],
    q1,
    median: quantile(s, 0.5),
    q3,
    max: s[s.length - 1],
    mean: finite.reduce((a, b) => a + b, 0) / finite.length,
    lower,
    upper,
  };
}

export function coefficientsChart(p: Prepared): ChartDef {
  const { R, W, C } = p.dims;
  const rows: object[] = [];
  for (let c = 0; c < C; c++) {
    const vals = new Float64Array(R * W);
    for (let i = 0; i < R * W; i++) vals[i] = p.data.mediaCoeffs[i * C + c];
    const b = boxStats(vals);
    if (b === null) continue;
    const rounded = Object.fromEntries(Object.entries(b).map(([k, v]) => [k, round(v)]));
    rows.push({ channel: p.data.channels[c], ...rounded });
  }
  const x = {
    field: 'channel',
    type: 'nominal' as const,
    sort: p.data.channels,
    title: null,
    axis: { labelAngle: -35 },
  };
  const color = {
    field: 'channel',
    type: 'nominal' as const,
    scale: channelColor(p.data.channels),
    legend: null,
  };
  const tooltip = [
    { field: 'channel', type: 'nominal' as const, title: 'Channel' },
    ...(['median', 'mean', 'q1', 'q3', 'min', 'max'] as const).map((f) => ({
      field: f,
      type: 'quantitative' as const,
      format: '.4~r',
    })),
    { field: 'n', type: 'quantitative' as const, title: 'Region-weeks' },
  ];
  const title = 'Channel effectiveness: coefficient distributions';
  return {
    id: 'coefficients',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(
        title,
        `Time-varying media coefficients over all ${R * W} region-weeks ` +
          '(box: quartiles; whiskers: 1.5×IQR; dot: mean)',
      ),
      data: { values: rows },
      width: Math.max(420, C * 44),
      height: 280,
      layer: [
        {
          mark: { type: 'rule', color: '#555' },
          encoding: {
            x,
            y: {
              field: 'lower',
              type: 'quantitative',
              title: 'Coefficient',
              scale: { zero: false },
            },
            y2: { field: 'upper' },
          },
        },
        {
          mark: { type: 'bar', width: { band: 0.55 }, stroke: '#333', strokeWidth: 0.5 },
          encoding: {
            x,
            y: { field: 'q1', type: 'quantitative' },
            y2: { field: 'q3' },
            color,
            tooltip,
          },
        },
        {
          mark: { type: 'tick', color: 'white', thickness: 2, bandSize: 20 },
          encoding: { x, y: { field: 'median', type: 'quantitative' } },
        },
        {
          mark: { type: 'point', filled: true, color: '#222', size: 20 },
          encoding: { x, y: { field: 'mean', type: 'quantitative' }, tooltip },
        },
      ],
    },
  };
}
