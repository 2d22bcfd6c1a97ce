import {
  seasonalDecompose,
  fitSeasonality,
  seasonalAt,
  minMaxScale,
} from '../src/data/seasonality.js';

const closeArray = (a: ArrayLike<number>, b: number[], digits = 12) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(a[i]).toBeCloseTo(b[i], digits);
};

describe('additive decomposition (statsmodels seasonal_decompose, two-sided)', () => {
  test('even period 2: the ½,1,½ / 2 moving average, edges excluded', () => {
    // trend t1..t4 = 2.25, 3.25, 4.25, 4.25; x − trend = 0.75, −1.25, 1.75, −1.25
    // phase 0 (t = 2, 4) → −1.25, phase 1 (t = 1, 3) → 1.25, mean 0
    const s = seasonalDecompose([1, 3, 2, 6, 3, 5], 2);
    closeArray(s, [-1.25, 1.25, -1.25, 1.25, -1.25, 1.25]);
  });

  test('odd period 3: the plain 3-week average; phase means re-centred', () => {
    // phase means −1, 5/3, −5/6 (mean −1/18) → −17/18, 31/18, −14/18
    const s = seasonalDecompose([1, 4, 2, 2, 6, 3, 3, 5, 4], 3);
    closeArray(s, [
      -17 / 18,
      31 / 18,
      -14 / 18,
      -17 / 18,
      31 / 18,
      -14 / 18,
      -17 / 18,
      31 / 18,
      -14 / 18,
    ]);
    // min–max of that: phase 0 → 0, phase 1 → 1, phase 2 → 3/48
    closeArray(minMaxScale(s).subarray(0, 3), [0, 1, 1 / 16]);
  });

  test('a missing week drops every average that touches it', () => {
    // valid t = 1, 5, 6 only: d = 0.75, 0.75, −1.25 → phases [−1.25, 0.75] → centred [−1, 1]
    const s = seasonalDecompose([1, 3, 2, NaN, 3, 5, 4, 8], 2);
    closeArray(s.subarray(0, 2), [-1, 1]);
  });

  test('needs two full periods', () => {
    expect(() => seasonalDecompose([1, 2, 3], 2)).toThrow(RangeError);
  });
});

describe('fitSeasonality', () => {
  test('pure sinusoid + linear trend: the seasonal curve is the sinusoid, min–max scaled', () => {
    const n = 104; // p = min(52, 52) = 52
    const y = Array.from(
      { length: n },
      (_, t) => 1000 + 3 * t + 50 * Math.sin((2 * Math.PI * t) / 52),
    );
    const fit = fitSeasonality(y, new Array(n).fill(1), n);
    expect(fit.period).toBe(52);
    expect(fit.origin).toBe(0);
    // the 2×52 average removes the sine exactly and keeps the line, so S = (sin + 1) / 2
    const expected = Array.from(
      { length: 52 },
      (_, i) => (Math.sin((2 * Math.PI * i) / 52) + 1) / 2,
    );
    closeArray(fit.pattern, expected, 9);
    // holdout / future week t continues with phase t mod p, padding backwards
    expect(seasonalAt(fit, 110)).toBeCloseTo(expected[110 % 52], 9);
    expect(seasonalAt(fit, -3)).toBeCloseTo(expected[49], 9);
  });

  test('period from the observed training weeks, only training weeks used', () => {
    // 60 weeks, training 40: p = 20; a huge holdout value must not change anything
    const base = Array.from({ length: 60 }, (_, t) => 10 + Math.cos((2 * Math.PI * t) / 20));
    const a = fitSeasonality(base, new Array(60).fill(1), 40);
    const spiked = [...base];
    spiked[50] = 1e9;
    const b = fitSeasonality(spiked, new Array(60).fill(1), 40);
    expect(a.period).toBe(20);
    expect(b.pattern).toEqual(a.pattern);
  });

  test('ragged region: span from its first observed training week, phases from there', () => {
    const W = 50;
    const obs = Array.from({ length: W }, (_, t) => (t >= 10 ? 1 : 0));
    const y = Array.from({ length: W }, (_, t) =>
      t >= 10 ? 5 + Math.sin((2 * Math.PI * (t - 10)) / 15) : 0,
    );
    const fit = fitSeasonality(y, obs, 40); // 30 observed training weeks → p = 15
    expect([fit.period, fit.origin, fit.length]).toEqual([15, 10, 30]);
    expect(seasonalAt(fit, 10)).toBe(fit.pattern[0]);
    expect(seasonalAt(fit, 27)).toBe(fit.pattern[2]);
    expect(seasonalAt(fit, -3)).toBe(fit.pattern[2]); // (−13) mod 15
  });

  test('a gap inside the span is left out, not filled', () => {
    const W = 60;
    const obs = Array.from({ length: W }, (_, t) => (t === 30 ? 0 : 1));
    const y = Array.from({ length: W }, (_, t) => (t === 30 ? 0 : 7 + (t % 4)));
    const fit = fitSeasonality(y, obs, W);
    // 59 observed → p = 29, span 60 (weeks 0..59); the zero at week 30 was never read
    expect([fit.period, fit.length]).toEqual([29, 60]);
    const y2 = [...y];
    y2[30] = 1e6;
    expect(fitSeasonality(y2, obs, W).pattern).toEqual(fit.pattern);
  });

  test('fewer than 8 observed training weeks, or a constant series → 0.5', () => {
    const obs = [0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0];
    const fit = fitSeasonality(
      Array.from({ length: 12 }, (_, t) => t * t),
      obs,
      12,
    );
    expect(fit.period).toBe(0);
    expect(seasonalAt(fit, 5)).toBe(0.5);
    const flat = fitSeasonality(new Array(20).fill(3), new Array(20).fill(1), 20);
    expect(flat.period).toBe(10);
    expect(flat.pattern).toEqual(new Array(10).fill(0.5));
  });
});
