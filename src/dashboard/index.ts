/**
 * Dashboard API. Browser-safe exports only; the Node file writers live in ./svg.js
 * (loadVegaRuntime, renderChartSvg, writeDashboard) so fs never reaches a browser bundle.
 */
export type {
  BudgetRow,
  ChannelEffectRow,
  DashboardData,
  DashboardDims,
  DashboardWarning,
  LiftTestRow,
  MediaScaling,
  NumericArray,
  ResponseCurveData,
  SplitMetrics,
} from './data.js';
export { scaledInputName, validateDashboardData } from './data.js';
export type { ChartDef } from './charts/common.js';
export { CHANNEL_PALETTE } from './charts/common.js';
export { buildChartSpecs, compileChart } from './charts/build.js';
export { renderDashboardHtml, type DashboardHtmlOptions } from './html.js';
