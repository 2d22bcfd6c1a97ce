/** Numbers for people: compact with K, M, B (not SI's G), and no "0k"-style zeros. */

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumSignificantDigits: 3 });
const plain = new Intl.NumberFormat('en', { maximumSignificantDigits: 4 });

/** 1.19B, 532K, 12.5, 0.0123; '–' for a missing value. */
export function num(v: number | undefined | null): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  return Math.abs(v) >= 10_000 ? compact.format(v) : plain.format(v);
}

/**
 * Labels for an axis from lo to hi, with as many significant digits as it takes for them to differ
 * (a loss that moved from 11.83 to 11.78 reads "11.83" and "11.78", not "11.8" twice).
 */
export function distinctLabels(values: number[]): string[] {
  for (let digits = 3; digits <= 8; digits++) {
    const labels = values.map((v) => Number(v.toPrecision(digits)).toString());
    if (new Set(labels).size === new Set(values).size) return labels;
  }
  return values.map((v) => v.toString());
}
