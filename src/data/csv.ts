/**
 * Long-table CSV → Panel (model-spec §1). One row per region × week; columns are given roles by
 * name or prefix, or detected from common names. Nothing is dropped, filled or clipped: a bad cell,
 * a duplicate (region, week) row or a named column that is not there is a DataError that says
 * where. Region-weeks absent from the table become `observed = 0` cells of the shared week axis.
 *
 * This module has no Node imports so the browser bundle can use it; `loadCsvPanel` (file system)
 * lives in csv-file.ts.
 */
import Papa from 'papaparse';
import { DataError } from './errors.js';
import type { Panel } from './panel.js';

export interface ColumnRoles {
  region?: string;
  week?: string;
  target?: string;
  /** media columns by name, in this order */
  media?: string[];
  /** media columns by prefix (used when `media` is not given) */
  mediaPrefix?: string;
  controls?: string[];
  controlPrefix?: string;
}

export interface ColumnMapping {
  region: string;
  week: string;
  /** 'index' when every week value is a number, 'date' when every one is an ISO date */
  weekKind: 'index' | 'date';
  target: string;
  media: string[];
  controls: string[];
  /** how media / controls were chosen: the prefix used, or null when listed by name */
  mediaPrefix: string | null;
  controlPrefix: string | null;
  /** roles that were detected rather than given */
  detected: string[];
  /** header columns that took no role */
  ignored: string[];
  rows: number;
}

const REGION_NAMES = ['dmacode', 'region', 'geo', 'dma', 'market'];
const WEEK_NAMES = ['weekid', 'week', 'date', 'week_monday', 'date_week'];
const TARGET_NAMES = ['target_visits', 'target', 'y', 'kpi', 'sales', 'visits', 'revenue'];
const MEDIA_PREFIXES = ['impressions_', 'media_', 'spend_'];
const CONTROL_PREFIX = 'control_';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Short multi-line description of a mapping, for the CLI. */
export function describeMapping(m: ColumnMapping): string {
  const how = (role: string) => (m.detected.includes(role) ? ' (detected)' : '');
  const list = (cols: string[]) => (cols.length === 0 ? '(none)' : cols.join(', '));
  const lines = [
    `rows: ${m.rows}`,
    `region: ${m.region}${how('region')}`,
    `week: ${m.week} (${m.weekKind === 'date' ? 'ISO dates' : 'week indices'})${how('week')}`,
    `target: ${m.target}${how('target')}`,
    `media (${m.media.length}${m.mediaPrefix !== null ? `, prefix '${m.mediaPrefix}'` : ''}): ${list(m.media)}`,
    `controls (${m.controls.length}${m.controlPrefix !== null ? `, prefix '${m.controlPrefix}'` : ''}): ${list(m.controls)}`,
  ];
  if (m.ignored.length > 0) lines.push(`ignored: ${list(m.ignored)}`);
  return lines.join('\n');
}

/** Parses a long-format CSV text into a Panel. */
export function parseCsvPanel(
  text: string,
  roles: ColumnRoles = {},
): { panel: Panel; mapping: ColumnMapping } {
  // header: false so line numbers stay ours to count (row i of the result is line i + 1)
  const parsed = Papa.parse<string[]>(text, { header: false, skipEmptyLines: false });
  const rows = parsed.data;
  if (rows.length === 0 || rows[0].every((h) => h.trim() === '')) {
    throw new DataError('CSV has no header row');
  }
  const header = rows[0].map((h) => h.trim());
  const mapping = resolveColumns(header, roles);
  const col = (name: string) => header.indexOf(name);
  const regionIdx = col(mapping.region);
  const weekIdx = col(mapping.week);
  const targetIdx = col(mapping.target);
  const mediaIdx = mapping.media.map(col);
  const controlIdx = mapping.controls.map(col);

  // Data rows with their 1-based line numbers; wholly blank lines (e.g. a trailing newline) skipped.
  const data: { cells: string[]; line: number }[] = [];
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
  mapping.rows = data.length;

  const num = (cells: string[], idx: number, line: number): number =>
    parseNumberCell(cells[idx], header[idx], line);

  // Week axis: all numbers → numeric order; all ISO dates → chronological (= lexicographic) order.
  const weekRaw = data.map((d) => d.cells[weekIdx].trim());
  const isNumber = (w: string) => w !== '' && Number.isFinite(Number(w));
  const isDate = (w: string) => ISO_DATE.test(w) && !Number.isNaN(Date.parse(w));
  // the first value decides the kind; the first value of another kind is the one reported
  const allNumeric = isNumber(weekRaw[0]);
  const fits = allNumeric ? isNumber : isDate;
  const odd = weekRaw.findIndex((w) => !fits(w));
  if (odd >= 0) {
    throw new DataError(
      `CSV line ${data[odd].line}, week column '${mapping.week}': '${weekRaw[odd]}' is not ` +
        `${allNumeric ? "a week number like the column's first value" : 'an ISO date (YYYY-MM-DD)'}; ` +
        `the column must hold week numbers or ISO dates throughout`,
    );
  }
  mapping.weekKind = allNumeric ? 'index' : 'date';
  const weekKey: (number | string)[] = allNumeric ? weekRaw.map(Number) : weekRaw;
  const weeks = [...new Set(weekKey)].sort(allNumeric ? (a, b) => +a - +b : compareStrings);

  const regionRaw = data.map((d) => d.cells[regionIdx].trim());
  regionRaw.forEach((r, i) => {
    if (r === '') {
      throw new DataError(`CSV line ${data[i].line}: empty region cell in '${mapping.region}'`);
    }
  });
  const regions = sortRegionIds([...new Set(regionRaw)]);

  const R = regions.length;
  const W = weeks.length;
  const C = mapping.media.length;
  const K = mapping.controls.length;
  const regionPos = new Map(regions.map((r, i) => [r, i]));
  const weekPos = new Map(weeks.map((w, i) => [w, i]));
  const media = new Float64Array(R * W * C);
  const controls = new Float64Array(R * W * K);
  const target = new Float64Array(R * W);
  const observed = new Uint8Array(R * W);
  const lineOf = new Int32Array(R * W);

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
    target[cell] = num(cells, targetIdx, line);
    for (let c = 0; c < C; c++) {
      const v = num(cells, mediaIdx[c], line);
      if (v < 0) {
        throw new DataError(
          `CSV line ${line}, media column '${mapping.media[c]}': negative value ${v} (media must be ≥ 0)`,
        );
      }
      media[cell * C + c] = v;
    }
    for (let k = 0; k < K; k++) controls[cell * K + k] = num(cells, controlIdx[k], line);
  }

  const panel: Panel = {
    regions,
    weeks,
    channels: [...mapping.media],
    controlNames: [...mapping.controls],
    media,
    controls,
    target,
    observed,
  };
  return { panel, mapping };
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

function resolveColumns(header: string[], roles: ColumnRoles): ColumnMapping {
  const lower = header.map((h) => h.toLowerCase());
  const available = () => header.map((h) => `'${h}'`).join(', ');
  const detected: string[] = [];

  const need = (role: string, name: string): string => {
    if (!header.includes(name)) {
      throw new DataError(
        `${role} column '${name}' is not in the CSV header; columns: ${available()}`,
      );
    }
    return name;
  };
  const pick = (role: string, given: string | undefined, candidates: string[]): string => {
    if (given !== undefined) return need(role, given);
    for (const cand of candidates) {
      const i = lower.indexOf(cand);
      if (i >= 0) {
        detected.push(role);
        return header[i];
      }
    }
    throw new DataError(
      `no ${role} column: none of ${candidates.map((c) => `'${c}'`).join(', ')} is in the CSV ` +
        `header (name it in the column roles); columns: ${available()}`,
    );
  };

  const region = pick('region', roles.region, REGION_NAMES);
  const week = pick('week', roles.week, WEEK_NAMES);
  const target = pick('target', roles.target, TARGET_NAMES);

  const byPrefix = (prefix: string) =>
    header.filter((h) => h.toLowerCase().startsWith(prefix.toLowerCase()));

  let media: string[];
  let mediaPrefix: string | null = null;
  if (roles.media !== undefined) {
    media = roles.media.map((m) => need('media', m));
  } else if (roles.mediaPrefix !== undefined) {
    mediaPrefix = roles.mediaPrefix;
    media = byPrefix(mediaPrefix);
    if (media.length === 0) {
      throw new DataError(`no media column starts with '${mediaPrefix}'; columns: ${available()}`);
    }
  } else {
    const found = MEDIA_PREFIXES.find((p) => byPrefix(p).length > 0);
    if (found === undefined) {
      throw new DataError(
        `no media columns: none starts with ${MEDIA_PREFIXES.map((p) => `'${p}'`).join(', ')} ` +
          `(name them or give a prefix); columns: ${available()}`,
      );
    }
    mediaPrefix = found;
    media = byPrefix(found);
    detected.push('media');
  }

  let controls: string[];
  let controlPrefix: string | null = null;
  if (roles.controls !== undefined) {
    controls = roles.controls.map((c) => need('control', c));
  } else {
    controlPrefix = roles.controlPrefix ?? CONTROL_PREFIX;
    controls = byPrefix(controlPrefix);
    if (roles.controlPrefix !== undefined && controls.length === 0) {
      throw new DataError(
        `no control column starts with '${controlPrefix}'; columns: ${available()}`,
      );
    }
    if (roles.controlPrefix === undefined) detected.push('controls');
  }

  // One role per column: a clash is almost always a wrong prefix or name.
  const owner = new Map<string, string>();
  const claim = (role: string, name: string) => {
    const prev = owner.get(name);
    if (prev !== undefined) {
      throw new DataError(`column '${name}' is given two roles: ${prev} and ${role}`);
    }
    owner.set(name, role);
  };
  claim('region', region);
  claim('week', week);
  claim('target', target);
  media.forEach((m) => claim('media', m));
  controls.forEach((c) => claim('control', c));
  const dupHeader = header.find((h, i) => header.indexOf(h) !== i);
  if (dupHeader !== undefined && owner.has(dupHeader)) {
    throw new DataError(`the CSV header has column '${dupHeader}' more than once`);
  }

  return {
    region,
    week,
    weekKind: 'index',
    target,
    media,
    controls,
    mediaPrefix,
    controlPrefix,
    detected,
    ignored: header.filter((h) => !owner.has(h)),
    rows: 0,
  };
}
