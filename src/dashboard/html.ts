/**
 * One self-contained dashboard page: the vega runtime inlined, the compiled vega specs embedded as
 * JSON, and a small boot script that renders each into its container as SVG. Nothing is fetched
 * from the network; tooltips come from vega's default handler (the element's title attribute).
 * Browser-safe: the caller supplies the runtime's script text (Node: loadVegaRuntime in svg.ts).
 */
import type { DashboardData } from './data.js';
import { buildChartSpecs, compileChart } from './charts/build.js';
import type { ChartDef } from './charts/common.js';
import { LIFT_TESTS_ID, liftTestLabels } from './charts/lift-tests.js';

export interface DashboardHtmlOptions {
  /** text of vega's UMD build (vega.min.js), inlined into a script tag */
  vegaRuntime: string;
  /** overrides data.title */
  title?: string;
  /** charts already built from the same data (saves building them twice) */
  charts?: ChartDef[];
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Keeps a `</script` inside inlined code from ending the script element (`<\/` means `</` in JS). */
const escapeScript = (s: string) => s.replace(/<\/(script)/gi, '<\\/$1');

/** JSON safe inside a script element: every '<' escaped. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

const fmtMetric = (v: number | undefined, digits: number) =>
  v === undefined || !Number.isFinite(v)
    ? 'n/a'
    : Math.abs(v) >= 1000
      ? Math.round(v).toLocaleString('en-US')
      : v.toFixed(digits);

function metricSummary(data: DashboardData): string {
  const kpi = data.kpiName ?? 'KPI';
  const cell = (label: string, m: DashboardData['metrics']['train']) =>
    `<div class="metric"><span class="split">${label}</span>` +
    `<span>R² <b>${fmtMetric(m.r2, 3)}</b></span>` +
    `<span>RMSE <b>${fmtMetric(m.rmse, 2)}</b> ${escapeHtml(kpi)}</span>` +
    (m.mae !== undefined ? `<span>MAE <b>${fmtMetric(m.mae, 2)}</b></span>` : '') +
    '</div>';
  return cell('Train', data.metrics.train) + cell('Holdout', data.metrics.holdout);
}

/**
 * The fit warnings as a box above the charts (nothing when there are none): they change how the
 * charts below should be read, so they come first.
 */
function warningsBox(data: DashboardData): string {
  const warnings = data.warnings ?? [];
  if (warnings.length === 0) return '';
  const items = warnings.map((w) => {
    const about = w.channels.length > 0 ? `<b>${escapeHtml(w.channels.join(', '))}</b>: ` : '';
    return `<li data-kind="${escapeHtml(w.kind)}">${about}${escapeHtml(w.message)}</li>`;
  });
  const heading = warnings.length === 1 ? 'Warning' : `${warnings.length} warnings`;
  return (
    `<section class="warnings" role="alert" aria-label="Fit warnings">` +
    `<h2>${heading}</h2><ul>${items.join('')}</ul></section>`
  );
}

/** A lift in KPI units: whole numbers with separators from 100 up, else three significant digits. */
const fmtLift = (v: number) =>
  Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : String(Number(v.toPrecision(3)));

/** z with its sign: +1.25, −0.40, 0.00 */
function fmtZ(z: number): string {
  const digits = Math.abs(z).toFixed(2);
  return digits === '0.00' ? digits : (z > 0 ? '+' : '−') + digits;
}

/**
 * The lift tests as a table under their chart (nothing without tests): measured ± se and the
 * model's lift before and after calibration with z = (model − measured) / se.
 */
function liftTestsTable(data: DashboardData): string {
  const tests = data.liftTests ?? [];
  if (tests.length === 0) return '';
  const labels = liftTestLabels(tests);
  const rows = tests.map(
    (t, i) =>
      `<tr><td>${escapeHtml(labels[i])}</td>` +
      `<td>${fmtLift(t.measured)} ± ${fmtLift(t.se)}</td>` +
      `<td>${fmtLift(t.before)} (z ${fmtZ(t.zBefore)})</td>` +
      `<td>${fmtLift(t.after)} (z ${fmtZ(t.zAfter)})</td></tr>`,
  );
  const kpi = escapeHtml(data.kpiName ?? 'KPI');
  return (
    `<table class="lift-tests"><caption>Lift in ${kpi} over each test's weeks; ` +
    'z = (model − measured) / se</caption>' +
    '<thead><tr><th>Test</th><th>Measured ± se</th><th>Model before (z)</th>' +
    '<th>Model after (z)</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

const STYLE = `
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:#f4f5f7;color:#222}
header{background:#1f2d3d;color:#fff;padding:18px 28px}
header h1{margin:0 0 6px;font-size:22px}
header .meta{font-size:13px;opacity:.85}
.metrics{display:flex;gap:16px;margin-top:12px;flex-wrap:wrap}
.metric{background:rgba(255,255,255,.1);border-radius:6px;padding:8px 12px;display:flex;gap:14px;font-size:14px}
.metric .split{font-weight:600;text-transform:uppercase;font-size:12px;letter-spacing:.05em;align-self:center}
nav{padding:10px 28px;font-size:13px;display:flex;flex-wrap:wrap;gap:6px 14px;background:#fff;border-bottom:1px solid #ddd}
nav a{color:#2b5d8f;text-decoration:none}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(720px,1fr));gap:18px;padding:18px 28px}
.chart{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:14px;overflow:auto}
.warnings{margin:18px 28px 0;padding:10px 16px;background:#fff4e5;border:1px solid #f0b45a;border-left:5px solid #e08a00;border-radius:6px;font-size:14px}
.warnings h2{margin:0 0 6px;font-size:15px;color:#8a4b00}
.warnings ul{margin:0;padding-left:20px}
.warnings li{margin:3px 0}
.lift-tests{border-collapse:collapse;margin:10px 0 0;font-size:13px;font-variant-numeric:tabular-nums}
.lift-tests caption{text-align:left;color:#555;font-size:12px;padding-bottom:4px}
.lift-tests th,.lift-tests td{padding:3px 10px;text-align:right;border-bottom:1px solid #e3e3e3}
.lift-tests th:first-child,.lift-tests td:first-child{text-align:left}
.chart .error{color:#b00020;font-family:monospace;white-space:pre-wrap}
`;

/** The boot script: render every embedded spec into its container; show errors in place. */
const BOOT = `
(function () {
  var charts = JSON.parse(document.getElementById('dashboard-specs').textContent);
  charts.forEach(function (c) {
    var el = document.getElementById('view-' + c.id);
    try {
      new vega.View(vega.parse(c.spec), { renderer: 'svg', container: el, hover: true })
        .runAsync()
        .catch(function (e) { el.innerHTML = '<div class="error"></div>'; el.firstChild.textContent = String(e); });
    } catch (e) {
      el.innerHTML = '<div class="error"></div>';
      el.firstChild.textContent = String(e);
    }
  });
})();
`;

/** The dashboard as one HTML string that works offline. */
export function renderDashboardHtml(data: DashboardData, opts: DashboardHtmlOptions): string {
  const charts = opts.charts ?? buildChartSpecs(data);
  const compiled = charts.map((c) => ({ id: c.id, title: c.title, spec: compileChart(c.spec) }));
  const title = opts.title ?? data.title ?? 'Marketing-mix model dashboard';
  const W = data.weeks.length;
  const meta = [
    data.adapterName ? `Adapter: ${escapeHtml(data.adapterName)}` : '',
    `${data.regions.length} regions × ${W} weeks (${data.wTrain} train, ${W - data.wTrain} holdout)`,
    `${data.channels.length} channels, ${data.controlNames.length} controls`,
  ]
    .filter((s) => s !== '')
    .join(' · ');
  const nav = compiled.map((c) => `<a href="#chart-${c.id}">${escapeHtml(c.title)}</a>`).join('');
  const sections = compiled
    .map(
      (c) =>
        `<section class="chart" id="chart-${c.id}" aria-label="${escapeHtml(c.title)}">` +
        `<div class="view" id="view-${c.id}"></div>` +
        (c.id === LIFT_TESTS_ID ? liftTestsTable(data) : '') +
        '</section>',
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<div class="meta">${meta}</div>
<div class="metrics">${metricSummary(data)}</div>
</header>
<nav>${nav}</nav>
${warningsBox(data)}
<main>
${sections}
</main>
<script>${escapeScript(opts.vegaRuntime)}</script>
<script type="application/json" id="dashboard-specs">${scriptJson(compiled)}</script>
<script>${BOOT}</script>
</body>
</html>
`;
}
