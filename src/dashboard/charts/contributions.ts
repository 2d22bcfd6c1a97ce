/** Contribution charts: per-channel totals, the component donut, the waterfall and the stacked weekly area. */
import type { ChartDef, Prepared } from './common.js';
import {
  baseConfig,
  channelColor,
  chartTitle,
  compactNumberExpr,
  componentColor,
  round,
  sumOverRegions,
  totalsPerSeries,
  weekTooltip,
  weekX,
} from './common.js';

export interface ComponentTotals {
  baseline: number;
  seasonal: number;
  /** per control, in controlNames order */
  controls: number[];
  /** per channel, in channels order */
  media: number[];
}

/** Every component summed over all regions and weeks, in KPI units. */
export function componentTotals(p: Prepared): ComponentTotals {
  const { R, W, C, K } = p.dims;
  return {
    baseline: totalsPerSeries(p.data.baseline, R, W, 1)[0],
    seasonal: totalsPerSeries(p.data.seasonal, R, W, 1)[0],
    controls: totalsPerSeries(p.data.controlContrib, R, W, K),
    media: totalsPerSeries(p.data.mediaContrib, R, W, C),
  };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function channelContributionsChart(p: Prepared): ChartDef {
  const t = componentTotals(p);
  const mediaTotal = sum(t.media);
  const rows = p.data.channels.map((channel, c) => ({
    channel,
    total: round(t.media[c]),
    share: round(mediaTotal !== 0 ? t.media[c] / mediaTotal : NaN),
  }));
  const title = 'Contributions per channel';
  return {
    id: 'channel-contributions',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(
        title,
        `Total ${p.kpi} attributed to each channel over all regions and weeks ` +
          `(media total ${Math.round(mediaTotal).toLocaleString('en-US')})`,
      ),
      data: { values: rows },
      width: 560,
      height: 280,
      mark: { type: 'bar' },
      encoding: {
        x: {
          field: 'channel',
          type: 'nominal',
          sort: '-y',
          title: null,
          axis: { labelAngle: -35 },
        },
        y: { field: 'total', type: 'quantitative', title: `Total contribution (${p.kpi})` },
        color: {
          field: 'channel',
          type: 'nominal',
          scale: channelColor(p.data.channels),
          legend: null,
        },
        tooltip: [
          { field: 'channel', type: 'nominal', title: 'Channel' },
          { field: 'total', type: 'quantitative', title: `Total ${p.kpi}`, format: ',.0f' },
          { field: 'share', type: 'quantitative', title: 'Share of media', format: '.1%' },
        ],
      },
    },
  };
}

export interface DonutRow {
  component: string;
  value: number;
  share: number;
  order: number;
}

/**
 * Donut slices: each channel, baseline, seasonality and the controls together. A pie cannot show a
 * negative slice, so shares are of the absolute totals; tooltips keep the sign.
 */
export function donutRows(p: Prepared): DonutRow[] {
  const t = componentTotals(p);
  const parts: [string, number][] = p.data.channels.map((ch, c) => [ch, t.media[c]]);
  parts.push(['Baseline', t.baseline], ['Seasonality', t.seasonal]);
  if (p.dims.K > 0) parts.push(['Controls', sum(t.controls)]);
  const absTotal = sum(parts.map(([, v]) => Math.abs(v)));
  return parts.map(([component, value], order) => ({
    component,
    value,
    share: absTotal > 0 ? Math.abs(value) / absTotal : 0,
    order,
  }));
}

export function contributionDonutChart(p: Prepared): ChartDef {
  const rows = donutRows(p).map((r) => ({
    ...r,
    value: round(r.value),
    // labels only where the slice is wide enough to hold one
    label: r.share >= 0.03 ? `${(r.share * 100).toFixed(1)}%` : '',
  }));
  const total = sum(donutRows(p).map((r) => r.value));
  const extra =
    p.dims.K > 0 ? ['Baseline', 'Seasonality', 'Controls'] : ['Baseline', 'Seasonality'];
  const theta = { field: 'share', type: 'quantitative' as const, stack: true as const };
  const order = { field: 'order', type: 'quantitative' as const };
  const title = 'Contribution breakdown';
  return {
    id: 'contribution-donut',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(
        title,
        `Share of |total contribution| per component; total ${Math.round(total).toLocaleString('en-US')} ${p.kpi}`,
      ),
      data: { values: rows },
      width: 340,
      height: 340,
      layer: [
        {
          mark: { type: 'arc', innerRadius: 80, outerRadius: 140, stroke: 'white' },
          encoding: {
            theta,
            order,
            color: {
              field: 'component',
              type: 'nominal',
              title: 'Component',
              scale: componentColor(p.data.channels, extra),
              sort: null,
            },
            tooltip: [
              { field: 'component', type: 'nominal', title: 'Component' },
              { field: 'value', type: 'quantitative', title: `Total ${p.kpi}`, format: ',.0f' },
              { field: 'share', type: 'quantitative', title: 'Share', format: '.1%' },
            ],
          },
        },
        {
          mark: { type: 'text', radius: 160, fontSize: 11 },
          encoding: { theta, order, text: { field: 'label', type: 'nominal' } },
        },
      ],
    },
  };
}

export interface WaterfallRow {
  label: string;
  kind: 'Baseline' | 'Increase' | 'Decrease' | 'Total';
  value: number;
  start: number;
  end: number;
  order: number;
}

/** Baseline → seasonality → each control → each channel → total (the sum of all of them). */
export function waterfallRows(p: Prepared): WaterfallRow[] {
  const t = componentTotals(p);
  const steps: [string, number][] = [['Seasonality', t.seasonal]];
  p.data.controlNames.forEach((name, k) => steps.push([name, t.controls[k]]));
  p.data.channels.forEach((name, c) => steps.push([name, t.media[c]]));
  const rows: WaterfallRow[] = [
    { label: 'Baseline', kind: 'Baseline', value: t.baseline, start: 0, end: t.baseline, order: 0 },
  ];
  let running = t.baseline;
  for (const [label, value] of steps) {
    rows.push({
      label,
      kind: value >= 0 ? 'Increase' : 'Decrease',
      value,
      start: running,
      end: running + value,
      order: rows.length,
    });
    running += value;
  }
  rows.push({
    label: 'Total',
    kind: 'Total',
    value: running,
    start: 0,
    end: running,
    order: rows.length,
  });
  return rows;
}

export function waterfallChart(p: Prepared): ChartDef {
  const rows = waterfallRows(p).map((r) => ({
    ...r,
    value: round(r.value),
    start: round(r.start),
    end: round(r.end),
    top: round(Math.max(r.start, r.end)),
  }));
  const x = {
    field: 'label',
    type: 'nominal' as const,
    sort: rows.map((r) => r.label),
    title: null,
    axis: { labelAngle: -35 },
  };
  const title = 'Waterfall: baseline to total';
  return {
    id: 'waterfall',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(
        title,
        `Total ${p.kpi} over all regions and weeks: baseline, seasonality, controls, channels`,
      ),
      data: { values: rows },
      width: Math.max(480, rows.length * 42),
      height: 300,
      layer: [
        {
          mark: { type: 'bar', width: { band: 0.7 } },
          encoding: {
            x,
            y: { field: 'start', type: 'quantitative', title: `Cumulative ${p.kpi}` },
            y2: { field: 'end' },
            color: {
              field: 'kind',
              type: 'nominal',
              title: null,
              scale: {
                domain: ['Baseline', 'Increase', 'Decrease', 'Total'],
                range: ['#6b7b8c', '#59a14f', '#e15759', '#4e79a7'],
              },
              legend: { orient: 'top' },
            },
            tooltip: [
              { field: 'label', type: 'nominal', title: 'Component' },
              { field: 'value', type: 'quantitative', title: p.kpi, format: ',.0f' },
              { field: 'end', type: 'quantitative', title: 'Running total', format: ',.0f' },
            ],
          },
        },
        {
          mark: { type: 'text', dy: -6, fontSize: 10 },
          transform: [{ calculate: compactNumberExpr('datum.value'), as: 'valueLabel' }],
          encoding: {
            x,
            y: { field: 'top', type: 'quantitative' },
            text: { field: 'valueLabel', type: 'nominal' },
          },
        },
      ],
    },
  };
}

export function stackedContributionsChart(p: Prepared): ChartDef {
  const { R, W, C } = p.dims;
  const weekly = sumOverRegions(p.data.mediaContrib, R, W, C);
  const rows: object[] = [];
  for (let w = 0; w < W; w++) {
    for (let c = 0; c < C; c++) {
      rows.push({
        week: p.week.values[w],
        weekLabel: p.week.labels[w],
        channel: p.data.channels[c],
        ci: c,
        value: round(weekly[w * C + c]),
      });
    }
  }
  const title = 'Media contributions over time';
  return {
    id: 'stacked-contributions',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(title, `National weekly contribution (${p.kpi}), stacked by channel`),
      data: { values: rows },
      width: 640,
      height: 300,
      mark: { type: 'area', opacity: 0.85 },
      encoding: {
        x: weekX(p.week),
        y: {
          field: 'value',
          type: 'quantitative',
          stack: 'zero',
          title: `Contribution (${p.kpi})`,
        },
        color: {
          field: 'channel',
          type: 'nominal',
          title: 'Channel',
          scale: channelColor(p.data.channels),
          sort: p.data.channels,
        },
        order: { field: 'ci', type: 'quantitative', sort: 'ascending' },
        tooltip: [
          weekTooltip,
          { field: 'channel', type: 'nominal', title: 'Channel' },
          { field: 'value', type: 'quantitative', title: p.kpi, format: ',.0f' },
        ],
      },
    },
  };
}
