/**
 * The shared week axis of a long CSV: its distinct week values in order, with the weeks that no
 * region has put back as gaps (unobserved weeks), so a week missing everywhere does not shift the
 * weeks after it. Steps come from the values: whole week numbers step by 1 (YYYYWW year-weeks by
 * ISO week), ISO dates by 7 days. Values that follow no such step are kept as they are, with a
 * note saying why no gaps were filled.
 */

export interface WeekAxis {
  /** the axis, gaps included */
  weeks: (number | string)[];
  /** the weeks put in as gaps (no row in the file) */
  gaps: (number | string)[];
  /** how the step was found: 'week numbers', 'year-weeks (YYYYWW)', 'dates 7 days apart' */
  step: string | null;
  /** why no gaps were filled, when the values follow no weekly step */
  note: string | null;
}

const DAY_MS = 86_400_000;

/** The axis from the distinct week values of a file (numbers or ISO dates, any order). */
export function weekAxis(values: (number | string)[], kind: 'index' | 'date'): WeekAxis {
  return kind === 'date'
    ? dateAxis([...new Set(values as string[])].sort())
    : numberAxis([...new Set(values as number[])].sort((a, b) => a - b));
}

function numberAxis(found: number[]): WeekAxis {
  const plain: WeekAxis = { weeks: found, gaps: [], step: null, note: null };
  if (!found.every(Number.isInteger))
    return { ...plain, note: 'week numbers are not whole numbers, so no gaps were looked for' };
  if (found.every(isYearWeek)) return fill(found, nextYearWeek, 'year-weeks (YYYYWW)');
  return fill(found, (w) => w + 1, 'week numbers');
}

function dateAxis(found: string[]): WeekAxis {
  const days = found.map((d) => Date.parse(`${d}T00:00:00Z`) / DAY_MS);
  for (let i = 1; i < days.length; i++) {
    const step = days[i] - days[i - 1];
    if (step % 7 !== 0)
      return {
        weeks: found,
        gaps: [],
        step: null,
        note: `dates ${found[i - 1]} and ${found[i]} are not whole weeks apart, so no gaps were filled`,
      };
  }
  const iso = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);
  return fill(found, (d) => iso(Date.parse(`${d}T00:00:00Z`) / DAY_MS + 7), 'dates 7 days apart');
}

/** Walks from the first value to the last by `next`, marking the values that were not found. */
function fill<T extends number | string>(found: T[], next: (w: T) => T, step: string): WeekAxis {
  const have = new Set<T>(found);
  const weeks: T[] = [];
  const gaps: T[] = [];
  const last = found[found.length - 1];
  // a guard against values that only look weekly (e.g. yearly codes): at most as many gaps as weeks
  const limit = 2 * found.length;
  for (let w = found[0]; weeks.length <= limit; w = next(w)) {
    weeks.push(w);
    if (!have.has(w)) gaps.push(w);
    if (w === last) return { weeks, gaps, step, note: null };
  }
  return {
    weeks: found,
    gaps: [],
    step: null,
    note: `the ${step} leave more gaps than weeks (${found[0]} … ${last}), so no gaps were filled`,
  };
}

/** 202401 … 202453: six digits, the last two an ISO week that the year has. */
function isYearWeek(w: number): boolean {
  const year = Math.floor(w / 100);
  const week = w % 100;
  return year >= 1000 && year <= 9999 && week >= 1 && week <= isoWeeksIn(year);
}

function nextYearWeek(w: number): number {
  const year = Math.floor(w / 100);
  return w % 100 < isoWeeksIn(year) ? w + 1 : (year + 1) * 100 + 1;
}

/** 53 when 1 January is a Thursday, or a Wednesday in a leap year; otherwise 52. */
export function isoWeeksIn(year: number): number {
  const jan1 = new Date(Date.UTC(year, 0, 1)).getUTCDay();
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return jan1 === 4 || (leap && jan1 === 3) ? 53 : 52;
}
