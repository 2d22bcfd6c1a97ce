/** The learned baseline path's layout, basis and start fit (src/model/trend.ts). */
import {
  pathBasis,
  pathLayoutFor,
  pathRows,
  pathStart,
  trendKnots,
  YEAR_WEEKS,
} from '../src/model/trend.js';
import { getDefaultConfig, getReferenceConfig } from '../src/model/config.js';

describe('trend knots and basis', () => {
  test('knots span the training weeks, about every 13 weeks', () => {
    const k = trendKnots(6, 92, 13);
    expect(k[0]).toBe(6);
    expect(k.at(-1)).toBe(6 + 91);
    expect(k).toHaveLength(8);
    for (let m = 1; m < k.length; m++) expect(k[m] - k[m - 1]).toBeGreaterThanOrEqual(12);
  });

  test('ramps go 0 → 1 between their knots and hold after; harmonics are sin/cos of the week', () => {
    const layout = { knots: [6, 19, 32], fourier: 1, B: 6 };
    const T = 50;
    const S = pathBasis(layout, T);
    const { M, F } = pathRows(layout);
    expect([M, F]).toEqual([2, 2]);
    const at = (row: number, t: number) => S[row * T + t];
    expect(at(0, 6)).toBe(0);
    expect(at(0, 19)).toBe(1);
    expect(at(0, 49)).toBe(1); // held after the last training week
    expect(at(0, 12)).toBeCloseTo(6 / 13, 6);
    expect(at(1, 19)).toBe(0);
    expect(at(1, 25)).toBeCloseTo(6 / 13, 6);
    const w = 20; // data week 20 sits at position B + 20
    expect(at(2, 6 + w)).toBeCloseTo(Math.sin((2 * Math.PI * w) / YEAR_WEEKS), 6);
    expect(at(3, 6 + w)).toBeCloseTo(Math.cos((2 * Math.PI * w) / YEAR_WEEKS), 6);
  });

  test('the default configuration has a trend and Fourier seasonality; the reference none', () => {
    expect(pathLayoutFor(getDefaultConfig(), 6, 92)).toMatchObject({ fourier: 2, B: 6 });
    expect(pathLayoutFor(getReferenceConfig(), 6, 92)).toBeUndefined();
  });
});

describe('pathStart', () => {
  test('recovers a national trend and season shared by regions, and each region’s level', () => {
    const R = 3;
    const B = 6;
    const W = 104;
    const T = B + W;
    const wTrain = 92;
    const layout = { knots: trendKnots(B, wTrain, 13), fourier: 1, B };
    const S = pathBasis(layout, T);
    const { M } = pathRows(layout);
    const target = new Float64Array(R * T);
    const levels = [0.9, 1.0, 1.1];
    for (let r = 0; r < R; r++)
      for (let t = B; t < T; t++)
        // a level shift of +0.1 over the 4th segment, a swing of amplitude 0.08
        target[r * T + t] = levels[r] + 0.1 * S[3 * T + t] + 0.08 * S[M * T + t];
    const data = { R, T, B, W, wTrain, target, observed: new Uint8Array(R * W).fill(1) };
    // without the ridge the fit is exact: the shift, the swing, each region's level
    const exact = pathStart(data, layout, { trend: 0, season: 0 });
    expect(exact.trendNational[3]).toBeCloseTo(0.1, 4);
    expect(exact.trendNational.reduce((a, b) => a + b, 0)).toBeCloseTo(0.1, 4);
    expect(exact.seasonNational[0]).toBeCloseTo(0.08, 4);
    for (const v of [...exact.trendRegional, ...exact.seasonRegional])
      expect(Math.abs(v)).toBeLessThan(1e-4);
    exact.level.forEach((l, r) => expect(l).toBeCloseTo(levels[r], 4));
    // the default ridge keeps level changes smaller than the data alone would make them
    const start = pathStart(data, layout);
    expect(Math.abs(start.trendNational[3])).toBeLessThan(0.1);
    expect(start.trendNational[3]).toBeGreaterThan(0);
  });
});
