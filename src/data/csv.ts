/**
 * Long-table CSV → Panel (model-spec §1). One row per region × week; columns get their roles from
 * the caller or from the layout detector (layout.ts). Nothing is dropped, filled or clipped: a bad
 * cell, a duplicate (region, week) row or a named column that is not there is a DataError that says
 * where. Region-weeks absent from the table become `observed = 0` cells of the shared week axis,
 * and weeks absent from every region stay on the axis as gaps (weeks.ts). A file without a region
 * column is one region. Text controls become one 0/1 control per value but the most common.
 *
 * This module has no Node imports so the browser bundle can use it; `loadCsvPanel` (file system)
 * lives in csv-file.ts.
 */
import Papa from 'papaparse';
import { DataError } from './errors.js';
import {
  assertLayout,
  columnFacts,
  columnNames,
  columnRoleText,
  detectLayout,
  LAYOUT_LABELS,
  libraryNames,
  type ColumnRoles,
  type DetectedLayout,
  type OptionNamer,
} from './layout.js';
import type { Panel } from './panel.js';
import { weekAxis } from './weeks.js';

export type { ColumnRoles } from './layout.js';

/** The region name of a file without a region column. */
export const SINGLE_REGION = 'all';

export interface ColumnMapping extends Omit<DetectedLayout, 'week' | 'target' | 'problems'> {
  week: string;
  /** 'index' when every week value is a number, 'date' when every one is an ISO date */
  weekKind: 'index' | 'date';
  target: string;
  /** header columns that took no role */
  ignored: string[];
  rows: number;
  regionCount: number;
  /** weeks on the axis, gaps included */
  weekCount: number;
  /** weeks no region has, kept on the axis as unobserved weeks */
  gaps: (number | string)[];
  /** how the weekly step was read ('week numbers', 'dates 7 days apart', …), or why not */
  weekStep: string | null;
  weekNote: string | null;
  /** the panel's control names (a text control becomes 'column=value' indicators) */
  controlNames: string[];
  /** channel → cost per unit of its input, when every channel's is known from the file */
  costPerImpression: Record<string, number> | null;
  /** channels without a known cost (then costPerImpression is null) */
  unpriced: string[];
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The mapping as printed by the CLI: layout, shape, then one line per column with its role. */
export function describeMapping(m: ColumnMapping, names: OptionNamer = libraryNames): string {
  const regions =
    m.region === null
      ? 'one region (no region column)'
      : m.regionCount === 1
        ? `one region (${m.region} is the same in every row)`
        : `${m.regionCount} regions`;
  const gaps =
    m.gaps.length === 0
      ? ''
      : `; ${m.gaps.length} missing week${m.gaps.length > 1 ? 's' : ''} kept as ` +
        `unobserved gap${m.gaps.length > 1 ? 's' : ''}: ${shortList(m.gaps.map(String))}`;
  const weeks = `${m.weekCount} weeks (${m.weekStep ?? (m.weekKind === 'date' ? 'ISO dates' : 'week numbers')}${gaps})`;
  const lines = [`layout: ${LAYOUT_LABELS[m.layout]}`, `rows: ${m.rows}: ${regions} × ${weeks}`];
  if (m.weekNote) lines.push(`note: ${m.weekNote}`);
  const width = Math.max(6, ...m.columns.map((c) => c.column.length)) + 2;
  lines.push(`${'column'.padEnd(width)}role`);
  for (const c of m.columns) {
    let role = columnRoleText(c, names);
    if (c.column === m.region) role = 'region';
    if (c.column === m.week) role = `week (${m.weekKind === 'date' ? 'ISO dates' : 'week numbers'})`;
    lines.push(`${c.column.padEnd(width)}${role}`);
  }
  if (m.textControls.length > 0) {
    const made = m.controlNames.filter((k) => m.textControls.some((t) => k.startsWith(`${t}=`)));
    lines.push(`text controls as 0/1 indicators: ${shortList(made)}`);
  }
  if (m.costPerImpression !== null) {
    const costs = Object.entries(m.costPerImpression).filter(([ch]) => m.spendOf[ch]);
    const each = costs.map(([ch, v]) => `${ch} ${v.toPrecision(3)}`).join(', ');
    lines.push(
      `cost per unit: from the spend columns, so curves and budgets are in money` +
        (each ? ` (per impression: ${each})` : ''),
    );
  }
  else if (Object.keys(m.spendOf).length > 0 || m.spendMedia.length > 0)
    lines.push(`cost per unit: unknown for ${m.unpriced.join(', ')} (curves in media units)`);
  return lines.join('\n');
}

const shortList = (xs: string[], n = 8) =>
  xs.length <= n ? xs.join(', ') : `${xs.slice(0, n).join(', ')}, … (${xs.length} in all)`;

/** Parses a long-format CSV text into a Panel. */
export function parseCsvPanel(
  text: string,
  roles: ColumnRoles = {},
): { panel: Panel; mapping: ColumnMapping } {
  const { header, data } = readTable(text);
  const facts = columnFacts(
    header,
    data.map((d) => d.cells),
  );
  const layout = detectLayout(header, facts, roles);
  assertLayout(layout, header);
  const owned = [
    layout.region,
    layout.week,
    layout.target,
    layout.targetTimes,
    layout.population,
    ...layout.media,
    ...Object.values(layout.spendOf),
    ...layout.controls,
  ];
  const dupHeader = header.find((h, i) => header.indexOf(h) !== i && owned.includes(h));
  if (dupHeader !== undefined)
    throw new DataError(`the CSV header has column '${dupHeader}' more than once`);
  return buildPanel(header, data, layout as DetectedLayout & { week: string; target: string });
}

interface Row {
  cells: string[];
  line: number;
}

/** Header (unnamed columns named) and the non-blank data rows with their 1-based line numbers. */
export function readTable(text: string): { header: string[]; data: Row[] } {
  // header: false so line numbers stay ours to count (row i of the result is line i + 1)
  const rows = Papa.parse<string[]>(text, { header: false, skipEmptyLines: false }).data;
  if (rows.length === 0 || rows[0].every((h) => h.trim() === '')) {
    throw new DataError('CSV has no header row');
  }
  const header = columnNames(rows[0]);
  const data: Row[] = [];
  for (let i = 1; i < rows.length; i++) {
    const cells = rows[i];
    if (cells.every((c) => c.trim() === '')) continue;
    if (cells.length !== header.length) {
      throw new DataError(
        `CSV line ${i + 1} has ${cells.length} fields, the header has ${header.length}`,
      );
    }
    data.push({ cells, line: i + 1 });
  }
  if (data.length === 0) throw new DataError('CSV has a header but no data rows');
  return { header, data };
}

function buildPanel(
  header: string[],
  data: Row[],
  layout: DetectedLayout & { week: string; target: string },
): { panel: Panel; mapping: ColumnMapping } {
  const col = (name: string) => header.indexOf(name);
  const num = (cells: string[], idx: number, line: number): number =>
    parseNumberCell(cells[idx], header[idx], line);

  // Week axis: all numbers → numeric order; all ISO dates → chronological order; gaps kept.
  const weekIdx = col(layout.week);
  const weekRaw = data.map((d) => d.cells[weekIdx].trim());
  const isNumber = (w: string) => w !== '' && Number.isFinite(Number(w));
  const isDate = (w: string) => ISO_DATE.test(w) && !Number.isNaN(Date.parse(w));
  // the first value decides the kind; the first value of another kind is the one reported
  const allNumeric = isNumber(weekRaw[0]);
  const fits = allNumeric ? isNumber : isDate;
  const odd = weekRaw.findIndex((w) => !fits(w));
  if (odd >= 0) {
    throw new DataError(
      `CSV line ${data[odd].line}, week column '${layout.week}': '${weekRaw[odd]}' is not ` +
        `${allNumeric ? "a week number like the column's first value" : 'an ISO date (YYYY-MM-DD)'}; ` +
        `the column must hold week numbers or ISO dates throughout`,
    );
  }
  const weekKind = allNumeric ? 'index' : 'date';
  const weekKey: (number | string)[] = allNumeric ? weekRaw.map(Number) : weekRaw;
  const axis = weekAxis(weekKey, weekKind);
  const weeks = axis.weeks;

  const regionIdx = layout.region === null ? -1 : col(layout.region);
  const regionRaw = data.map((d) => (regionIdx < 0 ? SINGLE_REGION : d.cells[regionIdx].trim()));
  regionRaw.forEach((r, i) => {
    if (r === '') {
      throw new DataError(`CSV line ${data[i].line}: empty region cell in '${layout.region}'`);
    }
  });
  const regions = sortRegionIds([...new Set(regionRaw)]);

  const controls = controlColumns(header, data, layout);
  const R = regions.length;
  const W = weeks.length;
  const C = layout.media.length;
  const K = controls.length;
  const regionPos = new Map(regions.map((r, i) => [r, i]));
  const weekPos = new Map(weeks.map((w, i) => [w, i]));
  const media = new Float64Array(R * W * C);
  const controlValues = new Float64Array(R * W * K);
  const target = new Float64Array(R * W);
  const observed = new Uint8Array(R * W);
  const lineOf = new Int32Array(R * W);
  const targetIdx = col(layout.target);
  const timesIdx = layout.targetTimes === null ? -1 : col(layout.targetTimes);
  const popIdx = layout.population === null ? -1 : col(layout.population);
  const mediaIdx = layout.media.map(col);
  const spendIdx = layout.media.map((m) => (layout.spendOf[m] ? col(layout.spendOf[m]) : -1));
  const spendSum = new Float64Array(C);
  const mediaSum = new Float64Array(C);

  for (let i = 0; i < data.length; i++) {
    const { cells, line } = data[i];
    const r = regionPos.get(regionRaw[i])!;
    const w = weekPos.get(weekKey[i])!;
    const cell = r * W + w;
    if (observed[cell]) {
      throw new DataError(
        `duplicate row for region '${regions[r]}', week ${weeks[w]}: CSV lines ${lineOf[cell]} and ${line}`,
      );
    }
    observed[cell] = 1;
    lineOf[cell] = line;
    let perHead = 1;
    if (popIdx >= 0) {
      const pop = num(cells, popIdx, line);
      if (!(pop > 0))
        throw new DataError(
          `CSV line ${line}, population column '${layout.population}': ${pop} (must be > 0 for per-capita values)`,
        );
      perHead = 1 / pop;
    }
    const y = num(cells, targetIdx, line);
    target[cell] = (timesIdx >= 0 ? y * num(cells, timesIdx, line) : y) * perHead;
    for (let c = 0; c < C; c++) {
      const v = num(cells, mediaIdx[c], line);
      if (v < 0) {
        throw new DataError(
          `CSV line ${line}, media column '${layout.media[c]}': negative value ${v} (media must be ≥ 0)`,
        );
      }
      media[cell * C + c] = v * perHead;
      // costs from the totals as they are in the file (money per impression, not per head)
      mediaSum[c] += v;
      if (spendIdx[c] >= 0) spendSum[c] += num(cells, spendIdx[c], line);
    }
    for (let k = 0; k < K; k++) controlValues[cell * K + k] = controls[k].value(cells, line);
  }

  const costs = costPerUnit(layout, mediaSum, spendSum);
  const owned = new Set([
    layout.region,
    layout.week,
    layout.target,
    layout.targetTimes,
    layout.population,
    ...layout.media,
    ...Object.values(layout.spendOf),
    ...layout.controls,
  ]);
  const panel: Panel = {
    regions,
    weeks,
    channels: [...layout.media],
    controlNames: controls.map((k) => k.name),
    media,
    controls: controlValues,
    target,
    observed,
  };
  const mapping: ColumnMapping = {
    layout: layout.layout,
    region: layout.region,
    week: layout.week,
    target: layout.target,
    targetTimes: layout.targetTimes,
    population: layout.population,
    media: layout.media,
    spendOf: layout.spendOf,
    spendMedia: layout.spendMedia,
    controls: layout.controls,
    textControls: layout.textControls,
    mediaPrefix: layout.mediaPrefix,
    controlPrefix: layout.controlPrefix,
    detected: layout.detected,
    columns: layout.columns,
    weekKind,
    ignored: header.filter((h) => !owned.has(h)),
    rows: data.length,
    regionCount: R,
    weekCount: W,
    gaps: axis.gaps,
    weekStep: axis.step,
    weekNote: axis.note,
    controlNames: panel.controlNames,
    costPerImpression: costs.known,
    unpriced: costs.unpriced,
  };
  return { panel, mapping };
}

interface ControlColumn {
  name: string;
  value: (cells: string[], line: number) => number;
}

/** Numeric controls as they are; a text control as 0/1 indicators of its values but the most common. */
function controlColumns(header: string[], data: Row[], layout: DetectedLayout): ControlColumn[] {
  return layout.controls.flatMap((name): ControlColumn[] => {
    const idx = header.indexOf(name);
    if (!layout.textControls.includes(name))
      return [{ name, value: (cells, line) => parseNumberCell(cells[idx], name, line) }];
    const counts = new Map<string, number>();
    for (const d of data) {
      const v = d.cells[idx].trim();
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const levels = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return levels.slice(1).map(([level]) => ({
      name: `${name}=${level === '' ? '(empty)' : level}`,
      value: (cells) => (cells[idx].trim() === level ? 1 : 0),
    }));
  });
}

/**
 * Cost per unit of each channel's input: spend columns cost 1 per unit; an impressions column
 * priced by a spend column costs total spend / total impressions over the file's rows.
 */
function costPerUnit(
  layout: DetectedLayout,
  mediaSum: Float64Array,
  spendSum: Float64Array,
): { known: Record<string, number> | null; unpriced: string[] } {
  const out: Record<string, number> = {};
  const unpriced: string[] = [];
  layout.media.forEach((m, c) => {
    if (layout.spendMedia.includes(m)) {
      out[m] = 1;
      return;
    }
    const cost = layout.spendOf[m] ? spendSum[c] / mediaSum[c] : NaN;
    if (Number.isFinite(cost) && cost > 0) out[m] = cost;
    else unpriced.push(m);
  });
  return { known: unpriced.length === 0 ? out : null, unpriced };
}

function parseNumberCell(raw: string, column: string, line: number): number {
  const s = raw.trim();
  if (s === '') throw new DataError(`CSV line ${line}, column '${column}': empty cell`);
  const v = Number(s);
  if (Number.isNaN(v) && !/^[+-]?nan$/i.test(s)) {
    throw new DataError(`CSV line ${line}, column '${column}': '${s}' is not a number`);
  }
  if (!Number.isFinite(v)) {
    throw new DataError(`CSV line ${line}, column '${column}': '${s}' is not finite`);
  }
  return v;
}

const compareStrings = (a: number | string, b: number | string) =>
  String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;

/** Numeric order when every id is a number, otherwise natural order ('Region_2' < 'Region_10'). */
export function sortRegionIds(ids: string[]): string[] {
  const numeric = ids.every((r) => r !== '' && Number.isFinite(Number(r)));
  if (numeric) return [...ids].sort((a, b) => Number(a) - Number(b));
  const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });
  return [...ids].sort((a, b) => collator.compare(a, b) || compareStrings(a, b));
}
