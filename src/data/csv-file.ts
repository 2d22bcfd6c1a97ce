/** File-system entry to the CSV loader; kept apart from csv.ts so browser bundles avoid node:fs. */
import { readFileSync } from 'node:fs';
import { DataError } from './errors.js';
import type { Panel } from './panel.js';
import { parseCsvPanel, type ColumnMapping, type ColumnRoles } from './csv.js';

/** Reads a long-format CSV file into a Panel (see parseCsvPanel). */
export function loadCsvPanel(
  path: string,
  roles: ColumnRoles = {},
): { panel: Panel; mapping: ColumnMapping } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`cannot read CSV file '${path}': ${(e as Error).message}`);
  }
  return parseCsvPanel(text, roles);
}
