/** Response-curve and budget-allocation charts; each is skipped when its optional data is absent. */
import { monotoneCurve } from '../../analysis/monotone-curve.js';
import type { BudgetRow, ResponseCurveData } from '../data.js';
import type { ChartDef, Prepared } from './common.js';
import { baseConfig, channelColor, chartTitle, round } from './common.js';

/** The fitted Hill curve `bottom + (top − bottom)·x^s / (sat^s + x^s)`. */
export function hillCurve(c: ResponseCurveData, x: number): number {
  if (x <= 0) return c.bottom;
  const xs = Math.pow(x, c.slope);
  return c.bottom + ((c.top - c.bottom) * xs) / (Math.pow(c.saturation, c.slope) + xs);
}

const CURVE_STEPS = 60;

/** The curve as the optimizer uses it: the Hill equation or the points' monotone interpolation. */
export function curveValue(c: ResponseCurveData, x: number): number {
  if (c.use === 'interpolation' && c.points.length >= 2)
    return monotoneCurve({ x: c.points.map((q) => q.x), y: c.points.map((q) => q.y) }).value(x);
  return hillCurve(c, x);
}

/** The facet label: channel, where the points come from and the fit's quality. */
export function curvePanelLabel(c: ResponseCurveData): string {
  const how =
    c.source === 'simulated'
      ? c.use === 'interpolation'
        ? `simulated, Hill R² ${c.r2.toFixed(3)}: interpolated`
        : `simulated, Hill R² ${c.r2.toFixed(3)}`
      : `R² ${c.r2.toFixed(2)}`;
  return `${c.channel} (${how})`;
}

export function responseCurvesChart(p: Prepared): ChartDef | null {
  const curves = p.data.responseCurves;
  if (curves === undefined || curves.length === 0) return null;
  const order = new Map(p.data.channels.map((c, i) => [c, i]));
  const sorted = [...curves].sort((a, b) => order.get(a.channel)! - order.get(b.channel)!);
  const rows: object[] = [];
  for (const c of sorted) {
    const panel = curvePanelLabel(c);
    const simulated = c.source === 'simulated';
    const xMax = simulated
      ? Math.max(...c.points.map((q) => q.x), 0)
      : Math.max(...c.points.map((q) => q.x), c.saturation) * 1.1;
    for (let s = 0; s <= CURVE_STEPS; s++) {
      const x = (xMax * s) / CURVE_STEPS;
      rows.push({
        panel,
        channel: c.channel,
        kind: 'curve',
        x: round(x),
        y: round(curveValue(c, x)),
      });
    }
    for (const b of c.band ?? [])
      rows.push({
        panel,
        channel: c.channel,
        kind: 'band',
        x: round(b.x),
        lo: round(b.lo),
        hi: round(b.hi),
      });
    for (const q of c.points)
      rows.push({
        panel,
        channel: c.channel,
        kind: 'observed',
        x: round(q.x),
        y: round(q.y),
        source: simulated ? 'simulated' : 'observed week',
      });
    rows.push({
      panel,
      channel: c.channel,
      kind: 'half',
      x: round(c.saturation),
      y: round(hillCurve(c, c.saturation)),
      slope: round(c.slope),
    });
  }
  const sim = sorted.some((c) => c.source === 'simulated');
  const banded = sorted.some((c) => (c.band?.length ?? 0) > 0);
  const xTitle = sim
    ? `Weekly ${p.spendUnit} (planning window)`
    : `Weekly ${p.spendUnit} (national)`;
  const yTitle = sim ? `Weekly incremental ${p.kpi}` : `Weekly contribution (${p.kpi})`;
  const x = { field: 'x', type: 'quantitative' as const, title: xTitle, axis: { format: '~s' } };
  const y = { field: 'y', type: 'quantitative' as const, title: yTitle, axis: { format: '~s' } };
  const color = {
    field: 'channel',
    type: 'nominal' as const,
    scale: channelColor(p.data.channels),
    legend: null,
  };
  const tooltip = [
    { field: 'channel', type: 'nominal' as const, title: 'Channel' },
    { field: 'x', type: 'quantitative' as const, title: xTitle, format: ',.0f' },
    { field: 'y', type: 'quantitative' as const, title: yTitle, format: ',.0f' },
  ];
  const title = 'Response curves';
  return {
    id: 'response-curves',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(
        title,
        sim
          ? `The model run with each channel's last-weeks input × 0–3 (dots), the curve the optimizer uses (line: Hill fit, or the points' interpolation where R² < 0.99), half-saturation (diamond)` +
              (banded ? `; shaded: 90 % intervals across the ensemble's members` : '')
          : `Fitted Hill curves (lines), observed weeks (dots), half-saturation point (diamond); ${p.spendUnit} vs ${p.kpi}`,
      ),
      data: { values: rows },
      facet: {
        field: 'panel',
        type: 'nominal',
        sort: [...new Set(sorted.map(curvePanelLabel))],
        title: null,
      },
      columns: 3,
      spec: {
        width: 220,
        height: 160,
        layer: [
          ...(banded
            ? [
                {
                  // an ensemble's 90 % interval of the simulated response
                  transform: [{ filter: "datum.kind === 'band'" }],
                  mark: { type: 'area' as const, opacity: 0.2 },
                  encoding: {
                    x,
                    y: { field: 'lo', type: 'quantitative' as const },
                    y2: { field: 'hi' },
                    color,
                    tooltip: [
                      { field: 'channel', type: 'nominal' as const, title: 'Channel' },
                      {
                        field: 'lo',
                        type: 'quantitative' as const,
                        title: '90 % low',
                        format: ',.0f',
                      },
                      {
                        field: 'hi',
                        type: 'quantitative' as const,
                        title: '90 % high',
                        format: ',.0f',
                      },
                    ],
                  },
                },
              ]
            : []),
          {
            transform: [{ filter: "datum.kind === 'observed'" }],
            mark: { type: 'point', filled: true, opacity: sim ? 0.85 : 0.35, size: sim ? 30 : 16 },
            encoding: { x, y, color, tooltip },
          },
          {
            transform: [{ filter: "datum.kind === 'curve'" }],
            mark: { type: 'line', strokeWidth: 2.5 },
            encoding: { x, y, color, tooltip },
          },
          {
            transform: [{ filter: "datum.kind === 'half'" }],
            mark: { type: 'point', shape: 'diamond', filled: true, size: 70, color: '#222' },
            encoding: {
              x,
              y,
              tooltip: [
                { field: 'channel', type: 'nominal', title: 'Channel' },
                {
                  field: 'x',
                  type: 'quantitative',
                  title: `Half-saturation (${p.spendUnit})`,
                  format: ',.0f',
                },
                { field: 'slope', type: 'quantitative', title: 'Slope', format: '.3~r' },
              ],
            },
          },
        ],
      },
      resolve: { scale: { x: 'independent', y: 'independent' } },
    },
  };
}

export function budgetChart(p: Prepared): ChartDef | null {
  const budget = p.data.budget;
  if (budget === undefined || budget.length === 0) return null;
  const spendLabel = `Spend (${p.spendUnit})`;
  const responseLabel = `Response (${p.kpi})`;
  const rows: object[] = [];
  for (const b of budget) {
    const change = b.current !== 0 ? (b.optimal - b.current) / Math.abs(b.current) : NaN;
    rows.push({
      channel: b.channel,
      scenario: 'Current',
      measure: spendLabel,
      value: round(b.current),
      change: null,
    });
    rows.push({
      channel: b.channel,
      scenario: 'Optimal',
      measure: spendLabel,
      value: round(b.optimal),
      change: round(change),
    });
    if (b.currentResponse !== undefined && b.optimalResponse !== undefined) {
      const rc =
        b.currentResponse !== 0
          ? (b.optimalResponse - b.currentResponse) / Math.abs(b.currentResponse)
          : NaN;
      rows.push({
        channel: b.channel,
        scenario: 'Current',
        measure: responseLabel,
        value: round(b.currentResponse),
        change: null,
      });
      rows.push({
        channel: b.channel,
        scenario: 'Optimal',
        measure: responseLabel,
        value: round(b.optimalResponse),
        change: round(rc),
      });
    }
  }
  const hasResponse = budget.some(
    (b) => b.currentResponse !== undefined && b.optimalResponse !== undefined,
  );
  const total = (f: (b: BudgetRow) => number | undefined) =>
    budget.reduce((a, b) => a + (f(b) ?? 0), 0);
  const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
  let subtitle = `Total ${p.spendUnit}: current ${fmt(total((b) => b.current))}, optimal ${fmt(total((b) => b.optimal))}`;
  if (hasResponse)
    subtitle += `; response ${fmt(total((b) => b.currentResponse))} → ${fmt(total((b) => b.optimalResponse))} ${p.kpi}`;
  const channels = p.data.channels.filter((c) => budget.some((b) => b.channel === c));
  const title = 'Budget allocation: current vs optimal';
  return {
    id: 'budget-allocation',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(title, subtitle),
      data: { values: rows },
      facet: {
        column: {
          field: 'measure',
          type: 'nominal',
          sort: [spendLabel, responseLabel],
          title: null,
          header: { labelFontSize: 13 },
        },
      },
      spec: {
        width: Math.max(260, channels.length * 40),
        height: 260,
        mark: { type: 'bar' },
        encoding: {
          x: {
            field: 'channel',
            type: 'nominal',
            sort: channels,
            title: null,
            axis: { labelAngle: -35 },
          },
          xOffset: { field: 'scenario', type: 'nominal', sort: ['Current', 'Optimal'] },
          y: { field: 'value', type: 'quantitative', title: null, axis: { format: '~s' } },
          color: {
            field: 'channel',
            type: 'nominal',
            scale: channelColor(p.data.channels),
            legend: null,
          },
          opacity: {
            field: 'scenario',
            type: 'ordinal',
            sort: ['Current', 'Optimal'],
            title: 'Scenario',
            scale: { domain: ['Current', 'Optimal'], range: [0.4, 1] },
            legend: { orient: 'top' },
          },
          tooltip: [
            { field: 'channel', type: 'nominal', title: 'Channel' },
            { field: 'scenario', type: 'nominal', title: 'Scenario' },
            { field: 'measure', type: 'nominal', title: 'Measure' },
            { field: 'value', type: 'quantitative', title: 'Value', format: ',.0f' },
            { field: 'change', type: 'quantitative', title: 'Change vs current', format: '+.1%' },
          ],
        },
      },
      resolve: { scale: { y: 'independent' } },
    },
  };
}
