/**
 * Which column of a long marketing CSV plays which role, from the field's usual names: upstream
 * DeepCausalMMM files (`dmacode`, `weekid`, `impressions_*`, `control_*`, `target_visits`),
 * Meridian-style files (`geo`, `time`, `*_impression` with `*_spend`, `*_control`, `Promo`,
 * `Organic_*`, `conversions`, `revenue_per_conversion`, `population`), Robyn-style files (`DATE`,
 * `revenue`, `*_S` spend, `*_I` impressions, `*_B` context, `*_P` left out) and plain ones
 * (`date`/`week`, `y`/`sales`/`kpi`/`revenue`, `media_*`/`spend_*`). Names match case-insensitively
 * by whole name, prefix or suffix. Roles given by the caller win; what cannot be told is reported
 * as problems, each naming the option that settles it, so one message can list them all.
 *
 * Shared by the CLI and the browser page: no Node imports.
 */
import { DataError } from './errors.js';

/** The caller's column roles (all optional: what is left out is detected). */
export interface ColumnRoles {
  /** the region column; null: none, the file is one region (default: detected) */
  region?: string | null;
  week?: string;
  target?: string;
  /** media columns by name, in this order */
  media?: string[];
  /** media columns by prefix (used when `media` is not given) */
  mediaPrefix?: string;
  controls?: string[];
  controlPrefix?: string;
  /** 'revenue': the KPI times the `revenue_per_conversion` column (Meridian-style files) */
  kpi?: 'conversions' | 'revenue';
  /** divide the KPI and the media by the population column, row by row */
  perCapita?: boolean;
  /** the population column for `perCapita` (default: a column named `population`) */
  population?: string;
}

export type RoleField = keyof ColumnRoles;

/** One option that settles a problem: its field, and the value to give when it is known. */
export interface OptionHint {
  field: RoleField;
  value?: string;
}

/** Writes an option the way the reader passes it: CLI flags, library fields or page controls. */
export type OptionNamer = (hint: OptionHint) => string;

export const PLACEHOLDER: Record<RoleField, string> = {
  region: '<column>',
  week: '<column>',
  target: '<column>',
  media: '<col1,col2,…>',
  mediaPrefix: '<prefix>',
  controls: '<col1,col2,…>',
  controlPrefix: '<prefix>',
  kpi: 'revenue',
  perCapita: '',
  population: '<column>',
};

/** Library wording: `week: '<column>'`, `media: ['x1', 'x2']`, `perCapita: true`. */
export const libraryNames: OptionNamer = ({ field, value }) => {
  if (field === 'perCapita') return 'perCapita: true';
  const v = value ?? PLACEHOLDER[field];
  if (field === 'media' || field === 'controls')
    return value === undefined
      ? `${field}: [${v}]`
      : `${field}: [${value
          .split(',')
          .map((s) => `'${s}'`)
          .join(', ')}]`;
  return `${field}: '${v}'`;
};

/** Bad or missing roles; `render` rewrites the message for another reader (e.g. CLI flags). */
export class LayoutError extends DataError {
  constructor(readonly render: (names: OptionNamer) => string) {
    super(render(libraryNames));
    this.name = 'LayoutError';
  }
}

export type LayoutName = 'upstream' | 'meridian' | 'robyn' | 'plain' | 'custom';

export const LAYOUT_LABELS: Record<LayoutName, string> = {
  upstream: 'upstream DeepCausalMMM (dmacode, weekid, impressions_*, control_*, target_visits)',
  meridian: 'Meridian-style (geo, time, *_impression, *_spend, *_control, conversions)',
  robyn: 'Robyn-style (DATE, revenue, *_S spend, *_I impressions, *_B context)',
  plain: 'plain (week or date, KPI, media_*/spend_*/impressions_*, control_*)',
  custom: 'columns as given',
};

/** One header column and what became of it, for the printed table. */
export interface ColumnRole {
  column: string;
  role: string;
  /** for a column left out: the option that would use it */
  use?: OptionHint;
}

export interface LayoutProblem {
  /** what is missing or unclear, e.g. "no week column" */
  what: string;
  /** the options that settle it (any one of them when `oneOf`) */
  pass: OptionHint[];
  oneOf?: boolean;
}

export interface DetectedLayout {
  layout: LayoutName;
  /** null: no region column, the file is one region */
  region: string | null;
  week: string | null;
  target: string | null;
  /** with kpi 'revenue': the column the KPI is multiplied by */
  targetTimes: string | null;
  /** with perCapita: the column the KPI and media are divided by */
  population: string | null;
  media: string[];
  /** media column → the spend column that prices it (cost per impression = spend / impressions) */
  spendOf: Record<string, string>;
  /** media columns that are spend themselves (cost per unit 1) */
  spendMedia: string[];
  controls: string[];
  /** controls that hold text: each becomes one 0/1 control per value but the most common */
  textControls: string[];
  mediaPrefix: string | null;
  controlPrefix: string | null;
  /** roles that were detected rather than given */
  detected: string[];
  /** every header column in order, with its role */
  columns: ColumnRole[];
  problems: LayoutProblem[];
}

// ---- names ----------------------------------------------------------------------------------------

const REGION_NAMES = ['dmacode', 'geo', 'region', 'dma', 'market'];
const WEEK_NAMES = ['weekid', 'week', 'date', 'time', 'ds', 'date_week', 'week_start', 'week_monday'];
const TARGET_NAMES = [
  'target_visits',
  'target',
  'conversions',
  'revenue',
  'sales',
  'kpi',
  'y',
  'visits',
];
const REVENUE_PER_CONVERSION = 'revenue_per_conversion';
const POPULATION = 'population';

type Unit = 'impressions' | 'spend' | 'media';
interface Affix {
  prefix?: string;
  suffix?: string;
  unit: Unit;
  layout: LayoutName;
}
/** Media name patterns; a channel's key is its name without the affix (lower case). */
const MEDIA_AFFIXES: Affix[] = [
  { prefix: 'impressions_', unit: 'impressions', layout: 'upstream' },
  { suffix: '_impressions', unit: 'impressions', layout: 'meridian' },
  { suffix: '_impression', unit: 'impressions', layout: 'meridian' },
  { suffix: '_spend', unit: 'spend', layout: 'meridian' },
  { suffix: '_i', unit: 'impressions', layout: 'robyn' },
  { suffix: '_s', unit: 'spend', layout: 'robyn' },
  { prefix: 'spend_', unit: 'spend', layout: 'plain' },
  { prefix: 'media_', unit: 'media', layout: 'plain' },
];
const CONTROL_PREFIXES = ['control_', 'organic_'];
const CONTROL_SUFFIXES = ['_control', '_b'];
const CONTROL_NAMES = ['promo'];
/** Robyn's other paid-media metrics (clicks, …): left out, named as usable media. */
const PAID_METRIC_SUFFIX = '_p';

const lc = (s: string) => s.toLowerCase();

function mediaAffix(name: string): { affix: Affix; key: string } | null {
  const n = lc(name);
  for (const affix of MEDIA_AFFIXES) {
    if (affix.prefix && n.startsWith(affix.prefix) && n.length > affix.prefix.length)
      return { affix, key: n.slice(affix.prefix.length) };
    if (affix.suffix && n.endsWith(affix.suffix) && n.length > affix.suffix.length)
      return { affix, key: n.slice(0, -affix.suffix.length) };
  }
  return null;
}

const isControlName = (name: string) => {
  const n = lc(name);
  return (
    CONTROL_NAMES.includes(n) ||
    CONTROL_PREFIXES.some((p) => n.startsWith(p) && n.length > p.length) ||
    CONTROL_SUFFIXES.some((s) => n.endsWith(s) && n.length > s.length)
  );
};

/** The header's names, an empty one called "(unnamed column N)" (N counts from 1). */
export function columnNames(rawHeader: string[]): string[] {
  return rawHeader.map((h, i) => (h.trim() === '' ? `(unnamed column ${i + 1})` : h.trim()));
}

// ---- detection ------------------------------------------------------------------------------------

/** What the detector may look at besides the names: which columns hold text, repeated weeks. */
export interface ColumnFacts {
  /** columns most of whose filled cells are not numbers */
  text: Set<string>;
  /** number of distinct values per column */
  distinct: Map<string, number>;
  rows: number;
}

/** Facts about the columns from the data rows (cells as strings, rows as in the header). */
export function columnFacts(header: string[], rows: string[][]): ColumnFacts {
  const text = new Set<string>();
  const distinct = new Map<string, number>();
  header.forEach((name, j) => {
    const seen = new Set<string>();
    let words = 0;
    let filled = 0;
    for (const row of rows) {
      const v = (row[j] ?? '').trim();
      seen.add(v);
      if (v === '') continue;
      filled++;
      if (!Number.isFinite(Number(v)) && !/^[+-]?(nan|inf(inity)?)$/i.test(v)) words++;
    }
    if (words * 2 > filled) text.add(name);
    distinct.set(name, seen.size);
  });
  return { text, distinct, rows: rows.length };
}

/** Detects the layout of a header; every problem found is in `problems` (nothing throws). */
export function detectLayout(
  header: string[],
  facts: ColumnFacts,
  roles: ColumnRoles = {},
): DetectedLayout {
  const lower = header.map(lc);
  const detected: string[] = [];
  const problems: LayoutProblem[] = [];
  const owner = new Map<string, string>();
  const note = new Map<string, ColumnRole>();
  const has = (name: string) => header.includes(name);
  const findName = (names: string[]) =>
    names.flatMap((n) => (lower.includes(n) ? [header[lower.indexOf(n)]] : []));

  // region, week, target: a given name wins, else the first known name
  const given = (field: 'region' | 'week' | 'target'): string | null => {
    const name = roles[field];
    if (name === undefined || name === null) return null;
    if (!has(name)) throw missingColumn(field, name, header);
    return name;
  };

  let region = given('region');
  if (region === null && roles.region === undefined) {
    region = findName(REGION_NAMES)[0] ?? null;
    if (region !== null) detected.push('region');
  }

  let week = given('week');
  if (week === null) {
    week = findName(WEEK_NAMES)[0] ?? null;
    if (week !== null) detected.push('week');
    else problems.push({ what: 'no week column', pass: [{ field: 'week' }] });
  }

  let target = given('target');
  if (target === null) {
    const found = findName(TARGET_NAMES).sort((a, b) => header.indexOf(a) - header.indexOf(b));
    if (found.length === 1) {
      target = found[0];
      detected.push('target');
    } else if (found.length === 0) {
      problems.push({ what: 'no KPI column', pass: [{ field: 'target' }] });
    } else {
      problems.push({
        what: `${found.length} KPI columns (${found.map((f) => `'${f}'`).join(', ')})`,
        pass: found.map((f) => ({ field: 'target', value: f })),
        oneOf: true,
      });
    }
  }

  // one region: no region column (the weeks must not repeat) or one region column value
  if (region === null && week !== null && (facts.distinct.get(week) ?? 0) < facts.rows) {
    problems.push({
      what: `no region column, and the week values repeat`,
      pass: [{ field: 'region' }],
    });
  }

  for (const [role, name] of [
    ['region', region],
    ['week', week],
    ['target', target],
  ] as const)
    if (name !== null) claim(owner, role, name);

  // the KPI's multiplier and the per-capita population
  let targetTimes: string | null = null;
  if (roles.kpi === 'revenue') {
    targetTimes = findName([REVENUE_PER_CONVERSION])[0] ?? null;
    if (targetTimes === null)
      problems.push({
        what: `kpi 'revenue' needs a '${REVENUE_PER_CONVERSION}' column`,
        pass: [{ field: 'target' }],
      });
    else claim(owner, 'target multiplier', targetTimes);
  }
  let population: string | null = null;
  if (roles.perCapita || roles.population !== undefined) {
    if (roles.population !== undefined && !has(roles.population))
      throw missingColumn('population', roles.population, header);
    population = roles.population ?? findName([POPULATION])[0] ?? null;
    if (population === null)
      problems.push({ what: `per capita needs a population column`, pass: [{ field: 'population' }] });
    else if (roles.perCapita) claim(owner, 'population', population);
    else population = null;
  }

  // explicit controls are kept out of media detection (a given role wins over a detected one)
  const givenControls = new Set(roles.controls ?? []);
  const free = (name: string) => !owner.has(name) && !givenControls.has(name);
  const media = chooseMedia(header, roles, free, detected, problems);
  for (const m of media.columns) claim(owner, 'media', m);
  for (const s of Object.values(media.spendOf)) claim(owner, 'spend', s);

  // controls: given by name, by prefix, or by the known patterns
  let controls: string[];
  let controlPrefix: string | null = null;
  if (roles.controls !== undefined) {
    controls = roles.controls.map((c) => {
      if (!has(c)) throw missingColumn('controls', c, header);
      return c;
    });
  } else if (roles.controlPrefix !== undefined) {
    controlPrefix = roles.controlPrefix;
    const p = lc(controlPrefix);
    controls = header.filter((h) => lc(h).startsWith(p) && !owner.has(h));
    if (controls.length === 0)
      throw new LayoutError(
        (n) =>
          `no control column starts with '${controlPrefix}' (${n({ field: 'controlPrefix', value: controlPrefix! })}); columns: ${quoteList(header)}`,
      );
  } else {
    // a text column is a control only when named (then one 0/1 control per value)
    controls = header.filter((h) => free(h) && isControlName(h) && !facts.text.has(h));
    detected.push('controls');
  }
  for (const c of controls) claim(owner, 'control', c);
  const textControls = roles.controls === undefined ? [] : controls.filter((c) => facts.text.has(c));

  // the table: every column, with the option that would use a column left out
  for (const h of header) {
    const role = owner.get(h);
    if (role !== undefined) note.set(h, { column: h, role: roleText(h, role, media, roles) });
    else note.set(h, leftOut(h, facts, { week, target }));
  }

  return {
    layout: media.layout,
    region,
    week,
    target,
    targetTimes,
    population,
    media: media.columns,
    spendOf: media.spendOf,
    spendMedia: media.spendMedia,
    controls,
    textControls,
    mediaPrefix: media.prefix,
    controlPrefix,
    detected,
    columns: header.map((h) => note.get(h)!),
    problems,
  };
}

/** Throws one LayoutError that names every problem and every option that settles it. */
export function assertLayout(layout: DetectedLayout, header: string[]): void {
  if (layout.problems.length === 0) return;
  const problems = layout.problems;
  throw new LayoutError((n) => {
    const what = problems.map((p) => p.what).join('; ');
    const pass = problems
      .map((p) => p.pass.map(n).join(p.oneOf ? ' or ' : ' '))
      .filter((s) => s !== '')
      .join(' ');
    return `cannot tell this file's layout: ${what}; pass ${pass}; columns: ${quoteList(header)}`;
  });
}

interface MediaChoice {
  columns: string[];
  spendOf: Record<string, string>;
  spendMedia: string[];
  prefix: string | null;
  layout: LayoutName;
}

/**
 * Media columns and the spend that prices them. A spend column whose channel key matches a chosen
 * impressions column prices it instead of being a channel of its own, so `Channel0_impression`
 * with `Channel0_spend` is one channel in money, and a prefix that takes both takes them as such.
 */
function chooseMedia(
  header: string[],
  roles: ColumnRoles,
  free: (name: string) => boolean,
  detected: string[],
  problems: LayoutProblem[],
): MediaChoice {
  let candidates: string[];
  let prefix: string | null = null;
  let listed = false;
  if (roles.media !== undefined) {
    candidates = roles.media.map((m) => {
      if (!header.includes(m)) throw missingColumn('media', m, header);
      return m;
    });
    listed = true;
  } else if (roles.mediaPrefix !== undefined) {
    prefix = roles.mediaPrefix;
    const p = lc(prefix);
    candidates = header.filter((h) => lc(h).startsWith(p) && free(h));
    if (candidates.length === 0)
      throw new LayoutError(
        (n) =>
          `no media column starts with '${prefix}' (${n({ field: 'mediaPrefix', value: prefix! })}); columns: ${quoteList(header)}`,
      );
  } else {
    candidates = header.filter((h) => free(h) && !isControlName(h) && mediaAffix(h) !== null);
    if (candidates.length === 0) {
      problems.push({
        what: 'no media columns (none named impressions_*, *_impression, *_spend, *_S, *_I, spend_* or media_*)',
        pass: [{ field: 'media' }, { field: 'mediaPrefix' }],
        oneOf: true,
      });
      return { columns: [], spendOf: {}, spendMedia: [], prefix: null, layout: 'custom' };
    }
    detected.push('media');
  }

  // pair spend columns with the impressions (or plain media) columns of the same channel
  const info = new Map(candidates.map((c) => [c, mediaAffix(c)]));
  const keyOf = (c: string) => info.get(c)?.key ?? lc(c);
  const spendCols = (listed ? header.filter((h) => free(h) && !candidates.includes(h)) : candidates)
    .map((c) => ({ c, m: mediaAffix(c) }))
    .filter((x) => x.m?.affix.unit === 'spend');
  const spendOf: Record<string, string> = {};
  for (const c of candidates) {
    if (info.get(c)?.affix.unit === 'spend') continue;
    const match = spendCols.find((s) => s.m!.key === keyOf(c) && s.c !== c);
    if (match) spendOf[c] = match.c;
  }
  const paired = new Set(Object.values(spendOf));
  const columns = candidates.filter((c) => !paired.has(c));
  const spendMedia = columns.filter((c) => info.get(c)?.affix.unit === 'spend');
  const layouts = columns.map((c) => info.get(c)?.affix.layout ?? 'custom');
  const layout: LayoutName =
    roles.media !== undefined || roles.mediaPrefix !== undefined
      ? 'custom'
      : (['robyn', 'meridian', 'upstream', 'plain'] as const).find((l) => layouts.includes(l))!;
  return { columns, spendOf, spendMedia, prefix, layout };
}

function roleText(column: string, role: string, media: MediaChoice, roles: ColumnRoles): string {
  switch (role) {
    case 'media': {
      const spend = media.spendOf[column];
      if (spend) return `media (impressions, priced by ${spend})`;
      return media.spendMedia.includes(column) ? 'media (spend)' : 'media';
    }
    case 'spend': {
      const of = Object.keys(media.spendOf).filter((m) => media.spendOf[m] === column);
      return `spend of ${of.join(' and ')}`;
    }
    case 'target':
      return roles.kpi === 'revenue' ? 'KPI (× revenue_per_conversion)' : 'KPI (target)';
    case 'target multiplier':
      return 'multiplies the KPI (revenue = conversions × revenue per conversion)';
    case 'population':
      return 'population (KPI and media per head)';
    default:
      return role;
  }
}

/** A column with no role: why, and which option would use it. */
function leftOut(
  column: string,
  facts: ColumnFacts,
  picked: { week: string | null; target: string | null },
): ColumnRole {
  const n = lc(column);
  if (column.startsWith('(unnamed column')) return { column, role: 'ignored (no name: an index?)' };
  if (n === REVENUE_PER_CONVERSION)
    return {
      column,
      role: 'ignored (revenue = KPI × this column with',
      use: { field: 'kpi', value: 'revenue' },
    };
  if (n === POPULATION)
    return { column, role: 'ignored (KPI and media per head with', use: { field: 'perCapita' } };
  if (WEEK_NAMES.includes(n) && picked.week !== null)
    return { column, role: `ignored (another week column; the week is ${picked.week})` };
  if (facts.text.has(column))
    return {
      column,
      role: 'ignored (text; one 0/1 control per value with',
      use: { field: 'controls', value: column },
    };
  if (n.endsWith(PAID_METRIC_SUFFIX))
    return {
      column,
      role: 'ignored (a paid-media metric; a channel with',
      use: { field: 'media', value: column },
    };
  return { column, role: 'ignored (use it with', use: { field: 'controls', value: column } };
}

/** The role text of a table row, with its option written for the reader. */
export function columnRoleText(c: ColumnRole, names: OptionNamer = libraryNames): string {
  return c.use ? `${c.role} ${names(c.use)})` : c.role;
}

function claim(owner: Map<string, string>, role: string, name: string): void {
  const prev = owner.get(name);
  // a spend column may price two media columns of one channel; any other repeat is a mistake
  if (prev !== undefined && !(prev === 'spend' && role === 'spend'))
    throw new DataError(
      prev === role
        ? `column '${name}' is listed twice as ${role}`
        : `column '${name}' is given two roles: ${prev} and ${role}`,
    );
  owner.set(name, role);
}

function missingColumn(field: RoleField, name: string, header: string[]): LayoutError {
  return new LayoutError(
    (n) =>
      `column '${name}' is not in the CSV header (given as ${n({ field, value: name })}); ` +
      `columns: ${quoteList(header)}`,
  );
}

export const quoteList = (names: string[]) => names.map((h) => `'${h}'`).join(', ');
