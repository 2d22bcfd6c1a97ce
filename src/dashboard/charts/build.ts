/**
 * The dashboard's chart list, in upstream's order plus ROAS, lift tests, budget allocation and
 * per-region R², and the vega-lite → vega compile step. Browser-safe: no Node imports here.
 */
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import type { Spec as VegaSpec } from 'vega';
import type { DashboardData } from '../data.js';
import type { ChartDef, Prepared } from './common.js';
import { prepare } from './common.js';
import {
  actualVsPredictedChart,
  holdoutScatterChart,
  performanceChart,
  regionR2Chart,
} from './fit.js';
import {
  contributionDonutChart,
  stackedContributionsChart,
  waterfallChart,
} from './contributions.js';
import { coefficientsChart } from './coefficients.js';
import { dagHeatmapChart, dagNetworkChart } from './dag.js';
import { channelDetailChart, controlsChart, mediaSharesChart } from './channels.js';
import { budgetChart, responseCurvesChart } from './response.js';
import { channelShareChart, roasChart } from './effects.js';
import { liftTestsChart } from './lift-tests.js';

const BUILDERS: ((p: Prepared) => ChartDef | null)[] = [
  performanceChart,
  actualVsPredictedChart,
  holdoutScatterChart,
  channelShareChart,
  roasChart,
  liftTestsChart,
  contributionDonutChart,
  waterfallChart,
  coefficientsChart,
  dagNetworkChart,
  dagHeatmapChart,
  stackedContributionsChart,
  channelDetailChart,
  mediaSharesChart,
  controlsChart,
  responseCurvesChart,
  budgetChart,
  regionR2Chart,
];

/** Every chart the data supports (charts whose optional data is missing are left out). */
export function buildChartSpecs(data: DashboardData): ChartDef[] {
  const p = prepare(data);
  return BUILDERS.map((build) => build(p)).filter((c): c is ChartDef => c !== null);
}

/** vega-lite → vega. The `$schema` URL is dropped so the embedded specs reference no network. */
export function compileChart(spec: TopLevelSpec): VegaSpec {
  const out = vl.compile(spec).spec as VegaSpec & { $schema?: string };
  delete out.$schema;
  return out;
}
