/** Model-fit charts: train vs holdout metrics, national actual vs predicted, holdout scatter, per-region R². */
import type { ChartDef, Prepared } from './common.js';
import {
  ACTUAL_COLOR,
  PREDICTED_COLOR,
  SPLIT_COLORS,
  baseConfig,
  cellCounts,
  chartTitle,
  round,
  weekTooltip,
  weekX,
} from './common.js';

const SPLITS = ['Train', 'Holdout'] as const;
const splitColor = { domain: [...SPLITS], range: [SPLIT_COLORS.Train, SPLIT_COLORS.Holdout] };

export function performanceChart(p: Prepared): ChartDef {
  const { train, holdout } = p.data.metrics;
  const metrics: { name: string; train: number; holdout: number }[] = [
    { name: 'R²', train: train.r2, holdout: holdout.r2 },
    { name: `RMSE (${p.kpi})`, train: train.rmse, holdout: holdout.rmse },
  ];
  if (train.mae !== undefined && holdout.mae !== undefined)
    metrics.push({ name: `MAE (${p.kpi})`, train: train.mae, holdout: holdout.mae });
  const rows = metrics.flatMap((m) => [
    { metric: m.name, split: 'Train', value: round(m.train) },
    { metric: m.name, split: 'Holdout', value: round(m.holdout) },
  ]);
  const title = 'Performance: train vs holdout';
  const encoding = {
    x: {
      field: 'split',
      type: 'nominal' as const,
      sort: [...SPLITS],
      title: null,
      axis: { labelAngle: 0 },
    },
    y: { field: 'value', type: 'quantitative' as const, title: null },
  };
  return {
    id: 'performance',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(title, `R² (higher is better); RMSE and MAE in ${p.kpi} (lower is better)`),
      data: { values: rows },
      facet: {
        column: {
          field: 'metric',
          type: 'nominal',
          sort: metrics.map((m) => m.name),
          title: null,
          header: { labelFontSize: 13 },
        },
      },
      spec: {
        width: 170,
        height: 220,
        layer: [
          {
            mark: { type: 'bar', width: 48 },
            encoding: {
              ...encoding,
              color: { field: 'split', type: 'nominal', scale: splitColor, legend: null },
              tooltip: [
                { field: 'metric', type: 'nominal', title: 'Metric' },
                { field: 'split', type: 'nominal', title: 'Split' },
                { field: 'value', type: 'quantitative', title: 'Value', format: ',.4~r' },
              ],
            },
          },
          {
            mark: { type: 'text', dy: -7, fontSize: 11 },
            encoding: { ...encoding, text: { field: 'value', format: ',.4~r' } },
          },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    },
  };
}

/** National sums over the region-weeks that count, so actual and predicted cover the same cells. */
export function nationalFit(p: Prepared): { actual: number[]; predicted: number[]; n: number[] } {
  const { R, W } = p.dims;
  const actual = new Array<number>(W).fill(0);
  const predicted = new Array<number>(W).fill(0);
  const n = new Array<number>(W).fill(0);
  for (let r = 0; r < R; r++) {
    for (let w = 0; w < W; w++) {
      const i = r * W + w;
      if (!cellCounts(p, i)) continue;
      actual[w] += p.data.actual[i];
      predicted[w] += p.data.predicted[i];
      n[w]++;
    }
  }
  return { actual, predicted, n };
}

export function actualVsPredictedChart(p: Prepared): ChartDef {
  const { R, W } = p.dims;
  const fit = nationalFit(p);
  const rows: object[] = [];
  for (let w = 0; w < W; w++) {
    if (fit.n[w] === 0) continue;
    const base = { week: p.week.values[w], weekLabel: p.week.labels[w], regions: fit.n[w] };
    rows.push({ ...base, series: 'Actual', value: round(fit.actual[w]) });
    rows.push({ ...base, series: 'Predicted', value: round(fit.predicted[w]) });
  }
  const x = weekX(p.week);
  const title = 'Actual vs predicted over time';
  const layers: object[] = [
    {
      data: { values: rows },
      mark: { type: 'line', strokeWidth: 2, point: { size: 14 } },
      encoding: {
        x,
        y: {
          field: 'value',
          type: 'quantitative',
          title: `Total ${p.kpi} (all regions)`,
          scale: { zero: false },
        },
        color: {
          field: 'series',
          type: 'nominal',
          title: null,
          scale: { domain: ['Actual', 'Predicted'], range: [ACTUAL_COLOR, PREDICTED_COLOR] },
          legend: { orient: 'top' },
        },
        tooltip: [
          weekTooltip,
          { field: 'series', type: 'nominal', title: 'Series' },
          { field: 'value', type: 'quantitative', title: p.kpi, format: ',.0f' },
          { field: 'regions', type: 'quantitative', title: 'Regions observed' },
        ],
      },
    },
  ];
  if (p.data.wTrain < W) {
    const split = [{ week: p.week.values[p.data.wTrain], label: 'holdout →' }];
    layers.push({
      data: { values: split },
      mark: { type: 'rule', strokeDash: [6, 4], color: '#888' },
      encoding: { x },
    });
    layers.push({
      data: { values: split },
      mark: { type: 'text', align: 'left', dx: 4, dy: 8, color: '#666' },
      encoding: { x, y: { value: 0 }, text: { field: 'label' } },
    });
  }
  return {
    id: 'actual-vs-predicted',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(
        title,
        `National weekly ${p.kpi}: sum over ${R} regions (observed region-weeks); ` +
          `${p.data.wTrain} train / ${W - p.data.wTrain} holdout weeks`,
      ),
      width: 640,
      height: 280,
      layer: layers,
    } as ChartDef['spec'],
  };
}

/** Holdout region-weeks as points against the y = x line; skipped when there is no holdout. */
export function holdoutScatterChart(p: Prepared): ChartDef | null {
  const { R, W } = p.dims;
  const rows: object[] = [];
  let lo = Infinity;
  let hi = -Infinity;
  for (let r = 0; r < R; r++) {
    for (let w = p.data.wTrain; w < W; w++) {
      const i = r * W + w;
      if (!cellCounts(p, i)) continue;
      const a = p.data.actual[i];
      const f = p.data.predicted[i];
      lo = Math.min(lo, a, f);
      hi = Math.max(hi, a, f);
      rows.push({
        region: p.data.regions[r],
        weekLabel: p.week.labels[w],
        actual: round(a),
        predicted: round(f),
      });
    }
  }
  if (rows.length === 0) return null;
  const title = 'Holdout: actual vs predicted';
  // one domain for both axes, so the y = x line is the diagonal
  const pad = (hi - lo) * 0.03 || Math.abs(hi) * 0.03 || 1;
  const scale = { domain: [round(lo - pad), round(hi + pad)], nice: false, zero: false };
  const x = { field: 'actual', type: 'quantitative' as const, title: `Actual ${p.kpi}`, scale };
  const y = {
    field: 'predicted',
    type: 'quantitative' as const,
    title: `Predicted ${p.kpi}`,
    scale,
  };
  return {
    id: 'holdout-scatter',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(
        title,
        `${rows.length} holdout region-weeks; R² = ${p.data.metrics.holdout.r2.toFixed(3)}; ` +
          'dashed line: y = x',
      ),
      width: 420,
      height: 420,
      layer: [
        {
          data: { values: [{ v: round(lo) }, { v: round(hi) }] },
          mark: { type: 'line', strokeDash: [6, 4], color: '#888' },
          encoding: {
            x: { ...x, field: 'v' },
            y: { ...y, field: 'v' },
          },
        },
        {
          data: { values: rows },
          mark: {
            type: 'point',
            filled: true,
            opacity: 0.55,
            size: 22,
            color: SPLIT_COLORS.Holdout,
          },
          encoding: {
            x,
            y,
            tooltip: [
              { field: 'region', type: 'nominal', title: 'Region' },
              weekTooltip,
              { field: 'actual', type: 'quantitative', title: x.title, format: ',.0f' },
              { field: 'predicted', type: 'quantitative', title: y.title, format: ',.0f' },
            ],
          },
        },
      ],
    },
  };
}

/** 1 − SS_res/SS_tot over the given cells; NaN with fewer than two cells or no variance. */
export function r2Of(actual: number[], predicted: number[]): number {
  const n = actual.length;
  if (n < 2) return NaN;
  const mean = actual.reduce((a, b) => a + b, 0) / n;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < n; i++) {
    ssRes += (actual[i] - predicted[i]) ** 2;
    ssTot += (actual[i] - mean) ** 2;
  }
  return ssTot > 0 ? 1 - ssRes / ssTot : NaN;
}

/** Histogram of per-region R², train and holdout; values below −1 are shown at −1. */
export function regionR2Chart(p: Prepared): ChartDef | null {
  const { R, W } = p.dims;
  const rows: object[] = [];
  for (let r = 0; r < R; r++) {
    for (const split of SPLITS) {
      const [w0, w1] = split === 'Train' ? [0, p.data.wTrain] : [p.data.wTrain, W];
      const a: number[] = [];
      const f: number[] = [];
      for (let w = w0; w < w1; w++) {
        const i = r * W + w;
        if (!cellCounts(p, i)) continue;
        a.push(p.data.actual[i]);
        f.push(p.data.predicted[i]);
      }
      const r2 = r2Of(a, f);
      if (Number.isFinite(r2))
        rows.push({ region: p.data.regions[r], split, r2: round(r2), shown: Math.max(r2, -1) });
    }
  }
  if (rows.length === 0) return null;
  const title = 'Per-region R²';
  return {
    id: 'region-r2',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(title, `Distribution over ${R} regions (R² below −1 shown at −1)`),
      data: { values: rows },
      width: 520,
      height: 240,
      mark: { type: 'bar', opacity: 0.6, binSpacing: 1 },
      encoding: {
        x: {
          field: 'shown',
          type: 'quantitative',
          bin: { extent: [-1, 1], step: 0.1 },
          title: 'R² of the region',
        },
        y: { aggregate: 'count', type: 'quantitative', stack: null, title: 'Regions' },
        color: { field: 'split', type: 'nominal', scale: splitColor, title: null },
        tooltip: [
          { field: 'split', type: 'nominal', title: 'Split' },
          {
            field: 'shown',
            type: 'quantitative',
            bin: { extent: [-1, 1], step: 0.1 },
            title: 'R²',
          },
          { aggregate: 'count', type: 'quantitative', title: 'Regions' },
        ],
      },
    },
  };
}
