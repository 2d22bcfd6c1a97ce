/**
 * Node-only dashboard output: server-side SVG per chart (vega's headless renderer) and the
 * dashboard folder (dashboard.html + charts/<id>.svg). Keep this module out of browser bundles.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../data/atomic-write.js';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import type { DashboardData } from './data.js';
import { buildChartSpecs, compileChart } from './charts/build.js';
import { renderDashboardHtml } from './html.js';

/** The text of vega's self-contained UMD build, for inlining into the HTML page. */
export async function loadVegaRuntime(): Promise<string> {
  // the package's exports hide build/, so locate it next to the resolved entry point
  const entry = createRequire(import.meta.url).resolve('vega');
  return readFile(join(dirname(entry), 'vega.min.js'), 'utf8');
}

/** Compiles a vega-lite spec and renders it to an SVG string without a browser. */
export async function renderChartSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compileChart(spec)), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface WrittenDashboard {
  htmlPath: string;
  svgPaths: string[];
}

/** Writes `<outDir>/dashboard.html` and `<outDir>/charts/<id>.svg` for every chart. */
export async function writeDashboard(
  data: DashboardData,
  outDir: string,
  opts: { title?: string } = {},
): Promise<WrittenDashboard> {
  const charts = buildChartSpecs(data);
  const chartDir = join(outDir, 'charts');
  await mkdir(chartDir, { recursive: true });
  const svgPaths: string[] = [];
  for (const c of charts) {
    const path = join(chartDir, `${c.id}.svg`);
    writeFileAtomic(path, await renderChartSvg(c.spec));
    svgPaths.push(path);
  }
  const html = renderDashboardHtml(data, {
    vegaRuntime: await loadVegaRuntime(),
    title: opts.title,
    charts,
  });
  const htmlPath = join(outDir, 'dashboard.html');
  writeFileAtomic(htmlPath, html);
  return { htmlPath, svgPaths };
}
