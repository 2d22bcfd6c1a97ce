/**
 * Lift tests (geo experiments) for calibration: parsing a CSV or JSON file into LiftTestInput rows,
 * then resolving them against a Panel into channel, region and week indices. Every problem is a
 * DataError naming the source and the row, thrown at the first one found.
 *
 * A test says: switching `channel` off in `regions` during weeks start_week … end_week changed the
 * KPI, summed over those regions and over start_week … end_week + post_weeks, by `lift` (± `se`).
 *
 * No Node imports, so the browser bundle can use it; the file reader is lift-tests-file.ts.
 */
import Papa from 'papaparse';
import { DataError } from '../data/errors.js';
import type { Panel } from '../data/panel.js';

export interface LiftTestInput {
  channel: string;
  regions: string[] | 'all';
  startWeek: number | string;
  endWeek: number | string;
  postWeeks: number;
  lift: number;
  se: number;
  /** 1-based row (CSV data row / JSON array index + 1) */
  row: number;
}

/** A test resolved against a panel; startWeek and endWeek become the data's own week values. */
export interface LiftTest extends LiftTestInput {
  /** channel index in panel.channels */
  c: number;
  /** region indices in panel.regions (all regions expanded) */
  regionIndex: number[];
  /** data-week indices (0-based into panel.weeks): test weeks [from, testTo], counted weeks [from, to] where to = testTo + postWeeks */
  from: number;
  testTo: number;
  to: number;
}

type Field = 'channel' | 'regions' | 'start_week' | 'end_week' | 'post_weeks' | 'lift' | 'se';
type Fields = Partial<Record<Field, unknown>>;

const REQUIRED: Field[] = ['channel', 'regions', 'start_week', 'end_week', 'lift', 'se'];
const ALL_FIELDS: Field[] = [...REQUIRED, 'post_weeks'];
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** 'start_week', 'startWeek', 'Start Week' → 'start_week'; other names → null (ignored). */
function fieldOf(name: string): Field | null {
  const compact = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return ALL_FIELDS.find((f) => f.replace('_', '') === compact) ?? null;
}

const where = (source?: string) => (source ? `lift tests '${source}'` : 'lift tests');
const rowAt = (source: string | undefined, row: number) => `${where(source)} row ${row}`;
const stripBom = (text: string) => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
const quoted = (xs: string[]) => xs.map((x) => `'${x}'`).join(', ');
const shown = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));
const isBlank = (v: unknown) => v === undefined || (typeof v === 'string' && v.trim() === '');

function noTests(source: string, why: string): DataError {
  return new DataError(`${where(source)}: no tests (${why})`);
}

/** CSV (comma- or tab-separated) with a header row; blank lines are skipped and not counted. */
export function parseLiftTestsCsv(text: string, source: string): LiftTestInput[] {
  // ';' is never guessed as the delimiter: it separates the regions inside a cell
  const rows = Papa.parse<string[]>(stripBom(text), {
    header: false,
    skipEmptyLines: 'greedy',
    delimitersToGuess: [',', '\t'],
  }).data;
  if (rows.length === 0) throw noTests(source, 'the file is empty');
  const header = rows[0].map((h) => h.trim());
  const fields = headerFields(header, source);
  if (rows.length === 1) throw noTests(source, 'the file has a header but no rows');
  return rows.slice(1).map((cells, i) => {
    if (cells.length !== header.length)
      throw new DataError(
        `${rowAt(source, i + 1)}: ${cells.length} fields, the header has ${header.length}`,
      );
    const record: Fields = {};
    // an empty cell is a missing value (post_weeks then defaults to 0)
    fields.forEach((f, j) => {
      if (f !== null && cells[j].trim() !== '') record[f] = cells[j].trim();
    });
    return toInput(record, i + 1, source);
  });
}

/** The field of each header column (null: not ours); every required field must be there once. */
function headerFields(header: string[], source: string): (Field | null)[] {
  const fields = header.map(fieldOf);
  const twice = fields.find((f, i) => f !== null && fields.indexOf(f) !== i);
  if (twice)
    throw new DataError(
      `${where(source)}: more than one column is '${twice}' (${header.join(', ')})`,
    );
  const missing = REQUIRED.filter((f) => !fields.includes(f));
  // a ';'-separated file reads as one column: say why rather than only what is missing
  const hint =
    header.length === 1 && header[0].includes(';')
      ? "; separate columns with commas or tabs (';' separates the regions in a cell)"
      : '';
  if (missing.length > 0)
    throw new DataError(
      `${where(source)}: missing column${missing.length > 1 ? 's' : ''} ${quoted(missing)} ` +
        `(the header has: ${header.join(', ')})${hint}`,
    );
  return fields;
}

/** A JSON array of tests, or an object { "liftTests": [...] }; snake_case or camelCase fields. */
export function parseLiftTestsJson(text: string, source: string): LiftTestInput[] {
  if (stripBom(text).trim() === '') throw noTests(source, 'the file is empty');
  let doc: unknown;
  try {
    doc = JSON.parse(stripBom(text));
  } catch (e) {
    throw new DataError(`${where(source)}: not valid JSON: ${(e as Error).message}`);
  }
  const list = testList(doc, source);
  if (list.length === 0) throw noTests(source, 'the list of tests is empty');
  return list.map((item, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      throw new DataError(`${rowAt(source, i + 1)}: not an object with the test's fields`);
    const record: Fields = {};
    for (const [key, value] of Object.entries(item)) {
      const f = fieldOf(key);
      if (f !== null && value !== null && value !== undefined) record[f] = value;
    }
    return toInput(record, i + 1, source);
  });
}

function testList(doc: unknown, source: string): unknown[] {
  if (Array.isArray(doc)) return doc;
  if (doc !== null && typeof doc === 'object') {
    const key = Object.keys(doc).find((k) => k.toLowerCase().replace(/_/g, '') === 'lifttests');
    const list = key === undefined ? undefined : (doc as Record<string, unknown>)[key];
    if (Array.isArray(list)) return list;
  }
  throw new DataError(`${where(source)}: expected an array of tests or { "liftTests": [...] }`);
}

/** One row's fields → a LiftTestInput; values are checked here with the text as written. */
function toInput(f: Fields, row: number, source: string): LiftTestInput {
  const at = rowAt(source, row);
  const missing = REQUIRED.filter((k) => isBlank(f[k]));
  if (missing.length > 0) throw new DataError(`${at}: missing ${quoted(missing)}`);
  const input: LiftTestInput = {
    channel: String(f.channel).trim(),
    regions: regionList(f.regions, at),
    startWeek: weekValue(f.start_week, 'start_week', at),
    endWeek: weekValue(f.end_week, 'end_week', at),
    postWeeks: isBlank(f.post_weeks) ? 0 : numberOf(f.post_weeks, 'post_weeks', at),
    lift: numberOf(f.lift, 'lift', at),
    se: numberOf(f.se, 'se', at),
    row,
  };
  checkValues(input, at);
  return input;
}

/** 'a;b' or ['a', 'b'] → ['a', 'b']; 'all' (alone, any case) → 'all'. */
function regionList(v: unknown, at: string): string[] | 'all' {
  const names = (Array.isArray(v) ? v.map(String) : String(v).split(';'))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const all = names.filter((s) => s.toLowerCase() === 'all');
  if (all.length > 0 && names.length === 1) return 'all';
  if (all.length > 0)
    throw new DataError(`${at}: regions '${names.join(';')}': 'all' must stand alone`);
  return names;
}

function weekValue(v: unknown, field: Field, at: string): number | string {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') return v.trim();
  throw new DataError(`${at}: ${field} ${shown(v)} is not a week number or ISO date`);
}

/** A number, or a string that reads as one; anything else is an error naming the field. */
function numberOf(v: unknown, field: Field, at: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && !isBlank(v) ? Number(v) : NaN;
  if (Number.isNaN(n)) throw new DataError(`${at}: ${field} ${shown(v)} is not a number`);
  return n;
}

/** Value checks shared by the parsers and resolveLiftTests (inputs built in code skip parsing). */
function checkValues(t: LiftTestInput, at: string): void {
  if (t.channel === '') throw new DataError(`${at}: empty channel`);
  if (t.regions !== 'all' && t.regions.length === 0)
    throw new DataError(`${at}: no regions (names separated by ';', or all)`);
  if (!Number.isFinite(t.lift)) throw new DataError(`${at}: lift ${t.lift} is not a finite number`);
  if (!(Number.isFinite(t.se) && t.se > 0))
    throw new DataError(`${at}: se ${t.se} must be a number > 0 (the lift's standard error)`);
  if (!(Number.isInteger(t.postWeeks) && t.postWeeks >= 0))
    throw new DataError(`${at}: post_weeks ${t.postWeeks} must be a whole number ≥ 0`);
}

/**
 * Tests → indices into the panel. With `wTrain` (data weeks [0, wTrain) are training), counted
 * weeks must lie in the training weeks: the calibration term is part of the training loss.
 */
export function resolveLiftTests(
  inputs: LiftTestInput[],
  panel: Panel,
  opts: { wTrain?: number } = {},
  source?: string,
): LiftTest[] {
  if (inputs.length === 0) throw new DataError(`${where(source)}: no tests`);
  const tests = inputs.map((t) => resolveOne(t, panel, opts.wTrain, source));
  checkOverlaps(tests, panel, source);
  tests.forEach((t) => checkChannelRan(t, panel, source));
  return tests;
}

/** A go-dark where the channel did not run changes nothing: most likely a wrong row. */
function checkChannelRan(t: LiftTest, panel: Panel, source: string | undefined): void {
  const W = panel.weeks.length;
  const C = panel.channels.length;
  for (const r of t.regionIndex)
    for (let w = t.from; w <= t.testTo; w++) if (panel.media[(r * W + w) * C + t.c] > 0) return;
  throw new DataError(
    `${rowAt(source, t.row)}: '${t.channel}' has no input in those regions over weeks ` +
      `${t.startWeek}–${t.endWeek}, so switching it off there changes nothing`,
  );
}

function resolveOne(
  t: LiftTestInput,
  panel: Panel,
  wTrain: number | undefined,
  source: string | undefined,
): LiftTest {
  const at = rowAt(source, t.row);
  checkValues(t, at);
  const c = panel.channels.indexOf(t.channel);
  if (c < 0)
    throw new DataError(
      `${at}: unknown channel '${t.channel}' (media channels: ${panel.channels.join(', ')})`,
    );
  const regionIndex = regionIndices(t.regions, panel, at);
  const from = weekIndex(t.startWeek, 'start_week', panel, at);
  const testTo = weekIndex(t.endWeek, 'end_week', panel, at);
  const { weeks } = panel;
  if (from > testTo)
    throw new DataError(`${at}: start_week ${weeks[from]} is after end_week ${weeks[testTo]}`);
  const to = testTo + t.postWeeks;
  checkCountedWeeks(from, to, t, panel, wTrain, at);
  return { ...t, startWeek: weeks[from], endWeek: weeks[testTo], c, regionIndex, from, testTo, to };
}

function regionIndices(regions: string[] | 'all', panel: Panel, at: string): number[] {
  if (regions === 'all') return panel.regions.map((_, r) => r);
  const index = new Map(panel.regions.map((name, r) => [name, r]));
  const unknown = regions.find((name) => !index.has(name));
  if (unknown !== undefined)
    throw new DataError(
      `${at}: unknown region '${unknown}' (regions: ${shortList(panel.regions)}, or all)`,
    );
  // a region listed twice is counted once
  return [...new Set(regions.map((name) => index.get(name)!))].sort((a, b) => a - b);
}

/** A week value → its index in panel.weeks; numbers for numeric weeks, ISO dates for dates. */
function weekIndex(value: number | string, field: string, panel: Panel, at: string): number {
  const { weeks } = panel;
  const span = `${weeks[0]} … ${weeks[weeks.length - 1]}`;
  const numeric = typeof weeks[0] === 'number';
  const key = numeric ? Number(value) : String(value);
  if (numeric && (isBlank(value) || !Number.isFinite(key)))
    throw new DataError(
      `${at}: ${field} '${value}' is not a week number (the data's weeks: ${span})`,
    );
  if (!numeric && (typeof value !== 'string' || !ISO_DATE.test(value)))
    throw new DataError(
      `${at}: ${field} '${value}' is not an ISO date YYYY-MM-DD (the data's weeks: ${span})`,
    );
  const i = weeks.indexOf(key);
  if (i >= 0) return i;
  // numbers compare with numbers and ISO dates with ISO dates, so < orders both
  const before = (a: number | string, b: number | string) => (numeric ? +a < +b : a < b);
  if (before(key, weeks[0]) || before(weeks[weeks.length - 1], key))
    throw new DataError(`${at}: ${field} ${value} is outside the data (weeks ${span})`);
  const next = weeks.findIndex((w) => before(key, w));
  throw new DataError(
    `${at}: ${field} ${value} is not a week of the data (it falls between weeks ` +
      `${weeks[next - 1]} and ${weeks[next]})`,
  );
}

/** Counted weeks end inside the data, and inside the training weeks when wTrain is given. */
function checkCountedWeeks(
  from: number,
  to: number,
  t: LiftTestInput,
  panel: Panel,
  wTrain: number | undefined,
  at: string,
): void {
  const { weeks } = panel;
  const last = weeks.length - 1;
  if (to > last) {
    const over = to - last;
    throw new DataError(
      `${at}: end_week ${weeks[to - t.postWeeks]} + post_weeks ${t.postWeeks} runs ${over} ` +
        `week${over > 1 ? 's' : ''} past the last data week ${weeks[last]}`,
    );
  }
  if (wTrain !== undefined && wTrain <= last && to >= wTrain) {
    const training = wTrain > 0 ? `${weeks[0]} … ${weeks[wTrain - 1]}` : 'none';
    throw new DataError(
      `${at}: counted weeks ${weeks[from]} … ${weeks[to]} reach into the holdout, which starts ` +
        `at week ${weeks[wTrain]}; calibration uses the training weeks only (${training})`,
    );
  }
}

/** Two tests on one channel may not count the same region-week: the lifts would double-count. */
function checkOverlaps(tests: LiftTest[], panel: Panel, source: string | undefined): void {
  for (let j = 1; j < tests.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = tests[i];
      const b = tests[j];
      if (a.c !== b.c || a.to < b.from || b.to < a.from) continue;
      const shared = b.regionIndex.filter((r) => a.regionIndex.includes(r));
      if (shared.length === 0) continue;
      const names = shared.map((r) => panel.regions[r]);
      const [first, last] = [
        panel.weeks[Math.max(a.from, b.from)],
        panel.weeks[Math.min(a.to, b.to)],
      ];
      throw new DataError(
        `${rowAt(source, b.row)}: overlaps row ${a.row}: both test channel '${b.channel}' in ` +
          `region${names.length > 1 ? 's' : ''} ${shortList(names)} with counted weeks ` +
          `${first === last ? first : `${first} … ${last}`} in common (post_weeks included)`,
      );
    }
  }
}

const shortList = (xs: string[], n = 8) =>
  xs.length <= n ? xs.join(', ') : `${xs.slice(0, n).join(', ')}, … (${xs.length} in all)`;
