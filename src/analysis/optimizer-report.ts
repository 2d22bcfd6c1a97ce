/** Plain-text report of a budget optimisation (upstream's generate_optimization_report). */
import type { CurrentComparison, OptimizationResult } from './budget-optimizer.js';
import type { HillCurve } from './response-curves.js';

export interface OptimizationReportOptions {
  /** fitted curves, for the R² column */
  curves?: readonly HillCurve[] | Record<string, HillCurve>;
  /** from BudgetOptimizer.compareWithCurrent */
  comparison?: CurrentComparison;
}

const int = (v: number) => Math.round(v).toLocaleString('en-US');
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const pad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));
const lpad = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s);

export function formatOptimizationReport(
  result: OptimizationResult,
  opts: OptimizationReportOptions = {},
): string {
  const rule = '='.repeat(96);
  const thin = '-'.repeat(96);
  const unit = result.unit === 'impressions' ? 'impressions' : 'spend';
  const spent = Object.values(result.allocation).reduce((a, b) => a + b, 0);
  const lines: string[] = [rule, 'BUDGET OPTIMIZATION REPORT', rule, '', 'SUMMARY', thin];
  lines.push(`Status:             ${result.success ? 'SUCCESS' : 'FAILED'}`);
  lines.push(`Method:             ${result.method}`);
  lines.push(`Message:            ${result.message}`);
  lines.push(
    `Budget (${unit}):${' '.repeat(Math.max(1, 10 - unit.length))}${int(result.budget)} over ${result.numWeeks} weeks`,
  );
  if (result.unit === 'impressions') {
    lines.push(
      'Units:              no cost per impression given; budget, spend and ROI are in impressions',
    );
  }
  lines.push(`Predicted response: ${int(result.predictedResponse)}`);
  if (spent > 0) lines.push(`Overall ROI:        ${(result.predictedResponse / spent).toFixed(4)}`);
  for (const w of result.warnings) lines.push(`Warning:            ${w}`);
  for (const n of result.notes ?? []) lines.push(`Note:               ${n}`);
  lines.push('');
  if (!result.success) {
    lines.push(rule);
    return lines.join('\n');
  }

  lines.push('OPTIMAL ALLOCATION', thin);
  const money = result.unit === 'spend';
  lines.push(
    `${pad('channel', 20)} | ${lpad('total ' + unit, 16)} | ${lpad('share', 6)} | ${lpad('response', 14)} | ${lpad('share', 6)} | ${lpad(money ? 'ROAS' : 'ROI', 8)} | ${lpad(money ? 'mROAS' : 'mROI', 8)} | bound`,
  );
  for (const r of result.byChannel) {
    const bound = r.bindsLower ? 'lower (binding)' : r.bindsUpper ? 'upper (binding)' : '';
    lines.push(
      `${pad(r.channel, 20)} | ${lpad(int(r.totalSpend), 16)} | ${lpad(pct(r.spendShare), 6)} | ${lpad(int(r.totalResponse), 14)} | ${lpad(pct(r.responseShare), 6)} | ${lpad(r.roi.toFixed(4), 8)} | ${lpad(r.marginalRoi.toPrecision(3), 8)} | ${bound}`,
    );
  }
  lines.push('');

  const curveOf = (ch: string): HillCurve | undefined => {
    const c = opts.curves;
    if (c === undefined) return undefined;
    return Array.isArray(c)
      ? (c as readonly HillCurve[]).find((k) => k.channel === ch)
      : (c as Record<string, HillCurve>)[ch];
  };
  lines.push('RESPONSE CURVES', thin);
  for (const r of result.byChannel) {
    const c = curveOf(r.channel);
    lines.push(
      `${pad(r.channel, 20)} | saturation (weekly): ${lpad(int(r.saturationPoint), 14)} | weekly ${unit} at ${lpad(r.pctOfSaturation.toFixed(1), 6)}% of it | slope ${r.slope.toFixed(3)}` +
        (c ? ` | ${c.source === 'simulated' ? 'simulated, ' : ''}R² ${c.r2.toFixed(3)}` : '') +
        (r.curve === 'interpolation' ? ' | used: interpolation of the points' : ''),
    );
  }
  lines.push('');

  if (opts.comparison) {
    const cmp = opts.comparison;
    lines.push('CURRENT vs OPTIMAL', thin);
    for (const r of cmp.rows) {
      const delta = `${r.spendDelta >= 0 ? '+' : ''}${int(r.spendDelta)} (${r.spendDeltaPct >= 0 ? '+' : ''}${r.spendDeltaPct.toFixed(1)}%)`;
      lines.push(
        `${pad(r.channel, 20)} | current ${lpad(int(r.currentSpend), 14)} | optimal ${lpad(int(r.optimalSpend), 14)} | change ${lpad(delta, 24)}`,
      );
    }
    const t = cmp.totals;
    lines.push(
      `Response: current ${int(t.currentResponse)} → optimal ${int(t.optimalResponse)} (${t.responseLift >= 0 ? '+' : ''}${t.responseLiftPct.toFixed(2)}%)`,
    );
    lines.push('');
  }
  lines.push(rule);
  return lines.join('\n');
}
