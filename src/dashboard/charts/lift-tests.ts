/**
 * Lift-test calibration (DashboardData.liftTests): per geo experiment, the measured lift with its
 * 90 % interval next to the model's own lift over the same regions and weeks, before the
 * calibration term acted and at the end of training. Skipped when the fit had no lift tests.
 */
import type { LiftTestRow } from '../data.js';
import type { ChartDef, Prepared } from './common.js';
import { ACTUAL_COLOR, PREDICTED_COLOR, baseConfig, chartTitle, round } from './common.js';

export const LIFT_TESTS_ID = 'lift-tests';
export const MEASURED_LABEL = 'measured ± 90 %';
export const BEFORE_LABEL = 'model before calibration';
export const AFTER_LABEL = 'model after calibration';
/** the two-sided 90 % normal quantile: measured ± Z90·se */
export const Z90 = 1.645;

/** legend order; within a test's row the marks sit before, measured, after from top to bottom */
const SERIES = [MEASURED_LABEL, BEFORE_LABEL, AFTER_LABEL];
const ROW_ORDER = [BEFORE_LABEL, MEASURED_LABEL, AFTER_LABEL];
const SERIES_COLORS = [ACTUAL_COLOR, '#8a96a3', PREDICTED_COLOR];
const SERIES_SHAPES = ['square', 'circle', 'diamond'];

/** 'all regions', '1 region', '3 regions' */
export function regionCount(regions: string[]): string {
  if (regions.length === 1 && regions[0] === 'all') return 'all regions';
  return `${regions.length} region${regions.length === 1 ? '' : 's'}`;
}

/**
 * One label per test, channel + weeks + region count: 'TV · weeks 10–13 (+2 post) · 3 regions'.
 * Tests that would share a label are told apart by a trailing ' #2', ' #3' …
 */
export function liftTestLabels(tests: LiftTestRow[]): string[] {
  const base = tests.map((t) => {
    const post = t.postWeeks > 0 ? ` (+${t.postWeeks} post)` : '';
    const weeks =
      String(t.startWeek) === String(t.endWeek)
        ? `week ${t.startWeek}`
        : `weeks ${t.startWeek}–${t.endWeek}`;
    return `${t.channel} · ${weeks}${post} · ${regionCount(t.regions)}`;
  });
  const seen = new Map<string, number>();
  return base.map((label) => {
    const n = (seen.get(label) ?? 0) + 1;
    seen.set(label, n);
    return n === 1 ? label : `${label} #${n}`;
  });
}

/** At most 8 region names for a tooltip. */
function regionList(regions: string[]): string {
  if (regions.length <= 8) return regions.join(', ');
  return `${regions.slice(0, 8).join(', ')} … (${regions.length})`;
}

export interface LiftPointRow {
  test: string;
  series: string;
  /** the lift this mark shows (KPI units) */
  value: number | null;
  measured: number | null;
  se: number | null;
  /** the measured 90 % interval */
  lo: number | null;
  hi: number | null;
  /** (value − measured) / se for the model's marks, null for the measured one */
  z: number | null;
  regions: string;
}

/** Three rows per test: measured, model before and model after calibration. */
export function liftTestRows(tests: LiftTestRow[]): LiftPointRow[] {
  const labels = liftTestLabels(tests);
  return tests.flatMap((t, i) => {
    const common = {
      test: labels[i],
      measured: round(t.measured),
      se: round(t.se),
      lo: round(t.measured - Z90 * t.se),
      hi: round(t.measured + Z90 * t.se),
      regions: regionList(t.regions),
    };
    return [
      { ...common, series: MEASURED_LABEL, value: round(t.measured), z: null },
      { ...common, series: BEFORE_LABEL, value: round(t.before), z: round(t.zBefore) },
      { ...common, series: AFTER_LABEL, value: round(t.after), z: round(t.zAfter) },
    ];
  });
}

export function liftTestsChart(p: Prepared): ChartDef | null {
  const tests = p.data.liftTests;
  if (tests === undefined || tests.length === 0) return null;
  const rows = liftTestRows(tests);
  const labels = liftTestLabels(tests);
  const y = {
    field: 'test',
    type: 'nominal' as const,
    sort: labels,
    title: null,
    axis: { labelLimit: 480 },
    scale: { paddingInner: 0.25 },
  };
  const yOffset = { field: 'series', type: 'nominal' as const, sort: ROW_ORDER };
  // color and shape share one legend
  const legend = { orient: 'top' as const, labelLimit: 240, symbolOpacity: 1 };
  const seriesScale = { domain: SERIES, range: SERIES_COLORS };
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: null,
    scale: seriesScale,
    legend,
  };
  const shape = {
    field: 'series',
    type: 'nominal' as const,
    title: null,
    scale: { domain: SERIES, range: SERIES_SHAPES },
    legend,
  };
  const x = {
    field: 'value',
    type: 'quantitative' as const,
    title: `Lift (${p.kpi} over the test's weeks)`,
    axis: { grid: true, tickCount: 8 },
  };
  const isMeasured = { filter: `datum.series === '${MEASURED_LABEL}'` };
  const isModel = { filter: `datum.series !== '${MEASURED_LABEL}'` };
  const fmt = ',.4~r';
  const testTooltip = [
    { field: 'test', type: 'nominal' as const, title: 'Test' },
    { field: 'regions', type: 'nominal' as const, title: 'Regions' },
  ];
  const interval = { ...x, field: 'lo' };
  const title = 'Lift tests: measured vs model';
  return {
    id: LIFT_TESTS_ID,
    title,
    spec: {
      ...baseConfig,
      title: {
        ...chartTitle(title),
        subtitle: [
          `Each geo experiment's measured lift in ${p.kpi} with its 90 % interval (± ${Z90}·se), ` +
            "and the model's lift over the same regions and weeks",
          'Before: after the warm start, before the calibration term acted; after: at the end ' +
            'of training; z = (model − measured) / se',
        ],
      },
      width: 560,
      height: Math.max(120, tests.length * 48),
      data: { values: rows },
      layer: [
        // no lift at all, for reference
        {
          data: { values: [{}] },
          mark: { type: 'rule', color: '#999999', strokeDash: [3, 3] },
          encoding: { x: { datum: 0, type: 'quantitative' } },
        },
        {
          transform: [isMeasured],
          mark: { type: 'rule', strokeWidth: 2 },
          encoding: {
            x: interval,
            x2: { field: 'hi' },
            y,
            yOffset,
            color,
            tooltip: [
              ...testTooltip,
              { field: 'lo', type: 'quantitative', title: '90 % interval from', format: fmt },
              { field: 'hi', type: 'quantitative', title: '90 % interval to', format: fmt },
            ],
          },
        },
        ...(['lo', 'hi'] as const).map((end) => ({
          transform: [isMeasured],
          mark: { type: 'tick' as const, thickness: 2, size: 10 },
          encoding: { x: { ...interval, field: end }, y, yOffset, color },
        })),
        {
          transform: [isMeasured],
          mark: { type: 'point', filled: true, size: 70, opacity: 1 },
          encoding: {
            x,
            y,
            yOffset,
            color,
            shape,
            tooltip: [
              ...testTooltip,
              { field: 'measured', type: 'quantitative', title: 'Measured lift', format: fmt },
              { field: 'se', type: 'quantitative', title: 'SE', format: fmt },
              { field: 'lo', type: 'quantitative', title: '90 % interval from', format: fmt },
              { field: 'hi', type: 'quantitative', title: '90 % interval to', format: fmt },
            ],
          },
        },
        {
          transform: [isModel],
          mark: { type: 'point', filled: true, size: 90, opacity: 1 },
          encoding: {
            x,
            y,
            yOffset,
            color,
            shape,
            tooltip: [
              ...testTooltip,
              { field: 'series', type: 'nominal', title: 'Model' },
              { field: 'value', type: 'quantitative', title: 'Model lift', format: fmt },
              { field: 'measured', type: 'quantitative', title: 'Measured lift', format: fmt },
              { field: 'se', type: 'quantitative', title: 'SE', format: fmt },
              { field: 'z', type: 'quantitative', title: 'z', format: '+.2f' },
            ],
          },
        },
      ],
    },
  };
}
