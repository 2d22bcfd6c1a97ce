/**
 * Tables: rows plus their CSV, what the analysis functions return instead of a data frame
 * (response curves, allocations, contributions, what-if comparisons, the DAG's adjacency).
 */

/** Rows plus CSV; what the analysis functions return instead of a data frame. */
export interface Table<R> {
  rows: R[];
  toCsv(): string;
}

const csvCell = (v: unknown): string => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** CSV with the given columns (in order); values are written with full precision. */
export function rowsToCsv<R extends object>(
  rows: readonly R[],
  columns: readonly string[],
): string {
  const lines = [columns.map(csvCell).join(',')];
  for (const r of rows) {
    const rec = r as Record<string, unknown>;
    lines.push(columns.map((c) => csvCell(rec[c])).join(','));
  }
  return lines.join('\n') + '\n';
}

export function makeTable<R extends object>(rows: R[], columns: readonly string[]): Table<R> {
  return { rows, toCsv: () => rowsToCsv(rows, columns) };
}
