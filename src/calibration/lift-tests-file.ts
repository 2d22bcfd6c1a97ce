/** File-system entry to the lift-test parsers; kept apart from lift-tests.ts so browser bundles avoid node:fs. */
import { readFileSync } from 'node:fs';
import { DataError } from '../data/errors.js';
import { parseLiftTestsCsv, parseLiftTestsJson, type LiftTestInput } from './lift-tests.js';

/** Reads a lift-test file: JSON when it ends in .json or its text starts with [ or {, CSV otherwise. */
export function readLiftTestsFile(path: string): LiftTestInput[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`cannot read lift tests file '${path}': ${(e as Error).message}`);
  }
  const json = /\.json$/i.test(path) || /^\uFEFF?\s*[[{]/.test(text);
  return json ? parseLiftTestsJson(text, path) : parseLiftTestsCsv(text, path);
}
