/**
 * The page's column form: filled from the layout detector the CLI uses (src/data/layout.ts), with
 * every role it found kept even when another is missing, so the reader fixes only what is missing;
 * read back as column roles when the reader applies it.
 */
import type {
  ColumnRoles,
  DetectedLayout,
  LayoutProblem,
  OptionNamer,
} from '../../src/data/layout.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing #${id}`);
  return el as T;
};

/** The region picker's value for "no region column: one region". */
export const ONE_REGION = '';
/** A picker's value while nothing is chosen. */
const UNCHOSEN = '';

/** The form's controls by role field, in the words the page uses. */
const LABELS: Record<string, string> = {
  region: 'Region',
  week: 'Week',
  target: 'Target (KPI)',
  media: 'Media columns (tick them)',
  mediaPrefix: 'the media Prefix',
  controls: 'Control columns (tick them)',
  controlPrefix: 'the control Prefix',
  kpi: 'Target (KPI)',
  perCapita: 'Target (KPI)',
  population: 'Target (KPI)',
};

/** Options in the printed mapping, as this page offers them (the rest: the CLI's flags). */
export const pageNames: OptionNamer = ({ field, value }) => {
  if (field === 'media' || field === 'controls')
    return `${field === 'media' ? 'Media' : 'Control'} columns: ${value ?? '…'}`;
  if (field === 'kpi') return `causalmix fit --kpi ${value ?? 'revenue'}`;
  if (field === 'perCapita') return 'causalmix fit --per-capita';
  return `${LABELS[field]}${value ? `: ${value}` : ''}`;
};

/** What the reader is to choose for each problem, e.g. "Week" or "Target (KPI): sales or revenue". */
export function problemText(problems: LayoutProblem[]): string {
  const what = problems.map((p) => p.what).join('; ');
  const choose = problems
    .map((p) => {
      const named = p.pass.filter((h) => h.value !== undefined);
      if (named.length > 0 && named.length === p.pass.length)
        return `${LABELS[p.pass[0].field]}: ${named.map((h) => h.value).join(' or ')}`;
      return p.pass.map((h) => LABELS[h.field]).join(p.oneOf ? ' or ' : ', ');
    })
    .join('; ');
  return `Some columns were not recognised (${what}). Choose ${choose} below, then Apply columns.`;
}

function fillSelect(id: string, header: string[], value: string | null, empty: string): void {
  const sel = $<HTMLSelectElement>(id);
  const options = [
    new Option(empty, UNCHOSEN, false, value === null),
    ...header.map((h) => new Option(h, h, false, h === value)),
  ];
  sel.replaceChildren(...options);
}

function fillChecks(id: string, header: string[], ticked: string[]): void {
  $(id).replaceChildren(
    ...header.map((h) => {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.value = h;
      input.checked = ticked.includes(h);
      label.append(input, h);
      return label;
    }),
  );
}

/** The roles of a detection as the form holds them (to tell whether the reader changed any). */
export function formRolesOf(layout: DetectedLayout): ColumnRoles {
  return {
    region: layout.region,
    week: layout.week ?? undefined,
    target: layout.target ?? undefined,
    media: layout.media,
    controls: layout.controls,
  };
}

/** Fills the form from a detection: every role found is kept, what is missing stays unchosen. */
export function fillForm(header: string[], layout: DetectedLayout): void {
  fillSelect('map-region', header, layout.region, '(none: the file is one region)');
  fillSelect('map-week', header, layout.week, '— choose the week column —');
  fillSelect('map-target', header, layout.target, '— choose the KPI column —');
  $<HTMLInputElement>('map-media-prefix').value = layout.mediaPrefix ?? '';
  $<HTMLInputElement>('map-control-prefix').value = layout.controlPrefix ?? '';
  fillChecks('map-media', header, layout.media);
  fillChecks('map-controls', header, layout.controls);
}

/** Empties the form (a new file, or none). */
export function clearForm(): void {
  for (const id of ['map-region', 'map-week', 'map-target', 'map-media', 'map-controls'])
    $(id).replaceChildren();
  $<HTMLInputElement>('map-media-prefix').value = '';
  $<HTMLInputElement>('map-control-prefix').value = '';
}

const ticked = (id: string) =>
  Array.from($(id).querySelectorAll<HTMLInputElement>('input:checked'), (i) => i.value);

/** Ticks the columns whose names start with the prefix (a new prefix replaces the choice). */
export function tickByPrefix(listId: string, prefix: string): void {
  const p = prefix.trim().toLowerCase();
  $(listId)
    .querySelectorAll<HTMLInputElement>('input')
    .forEach((input) => (input.checked = p !== '' && input.value.toLowerCase().startsWith(p)));
}

/** The roles the form holds, or an error in the page's words naming what is still missing. */
export function rolesFromForm(): ColumnRoles {
  const week = $<HTMLSelectElement>('map-week').value;
  const target = $<HTMLSelectElement>('map-target').value;
  const media = ticked('map-media');
  const missing = [
    week === UNCHOSEN ? 'the Week column' : null,
    target === UNCHOSEN ? 'the Target (KPI) column' : null,
    media.length === 0 ? 'at least one media column (tick it, or type its prefix)' : null,
  ].filter((m) => m !== null);
  if (missing.length > 0) throw new Error(`Choose ${missing.join(', ')}.`);
  const region = $<HTMLSelectElement>('map-region').value;
  return {
    region: region === ONE_REGION ? null : region,
    week,
    target,
    media,
    controls: ticked('map-controls'),
  };
}
