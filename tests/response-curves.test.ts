import { DataError } from '../src/data/errors.js';
import { Rng } from '../src/engine/random.js';
import {
  ResponseCurveFit,
  fitResponseCurves,
  hillFraction,
  hillInflection,
  hillMarginal,
  hillResponse,
  reviveHillCurve,
  rSquared,
} from '../src/analysis/response-curves.js';

/** Plain power form of the Hill curve, for checking the stable form against. */
const hillPlain = (x: number, top: number, bottom: number, sat: number, s: number) =>
  bottom + ((top - bottom) * x ** s) / (sat ** s + x ** s);

/** n weekly points from 0.05·sat to span·sat, in shuffled order. */
function synth(
  n: number,
  top: number,
  bottom: number,
  sat: number,
  s: number,
  span: number,
  noise = 0,
  seed = 7,
) {
  const rng = new Rng(seed);
  const x = Array.from({ length: n }, (_, i) => sat * (0.05 + ((span - 0.05) * i) / (n - 1)));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [x[i], x[j]] = [x[j], x[i]];
  }
  const y = x.map((v) => hillPlain(v, top, bottom, sat, s) + noise * top * rng.normal());
  return { x, y };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('Hill maths', () => {
  it('the stable fraction equals x^s/(sat^s + x^s) and is 0 at x = 0', () => {
    for (const s of [0.3, 1, 2.5, 7]) {
      for (const x of [1e-3, 0.7, 3, 40]) {
        expect(hillFraction(x, 2, s)).toBeCloseTo(x ** s / (2 ** s + x ** s), 12);
      }
    }
    expect(hillFraction(0, 2, 3)).toBe(0);
    // no overflow where the power form gives NaN
    expect(hillFraction(1e200, 1e150, 50)).toBe(1);
    expect(Number.isNaN(1e200 ** 50 / (1e150 ** 50 + 1e200 ** 50))).toBe(true);
  });

  it('marginal matches a central difference and its limits at 0', () => {
    const c = { top: 5, bottom: 1, saturation: 3, slope: 2.2 };
    for (const x of [0.4, 2, 3, 9]) {
      const h = 1e-6 * x;
      const fd = (hillResponse(c, x + h) - hillResponse(c, x - h)) / (2 * h);
      expect(rel(hillMarginal(c, x), fd)).toBeLessThan(1e-6);
    }
    expect(hillMarginal(c, 0)).toBe(0);
    expect(hillMarginal({ ...c, slope: 1 }, 0)).toBeCloseTo(4 / 3, 12);
    expect(hillMarginal({ ...c, slope: 0.5 }, 0)).toBe(Infinity);
  });

  it('inflection is where the marginal peaks', () => {
    const c = { top: 1, bottom: 0, saturation: 2, slope: 3 };
    const xi = hillInflection(c);
    expect(hillMarginal(c, xi)).toBeGreaterThan(hillMarginal(c, xi * 0.99));
    expect(hillMarginal(c, xi)).toBeGreaterThan(hillMarginal(c, xi * 1.01));
    expect(hillInflection({ ...c, slope: 0.8 })).toBe(0);
  });

  it('rSquared: 1 − SSE/SST, and scikit-learn`s rule for constant y', () => {
    expect(rSquared([1, 2, 3], [1, 2, 4])).toBeCloseTo(1 - 1 / 2, 12);
    expect(rSquared([2, 2], [2, 2])).toBe(1);
    expect(rSquared([2, 2], [2, 3])).toBe(0);
  });
});

describe('ResponseCurveFit', () => {
  const top = 1.23e5;
  const sat = 4.5e6;

  it.each([0.8, 2, 4])('recovers noiseless parameters (slope %p)', (s) => {
    const { x, y } = synth(104, top, 0, sat, s, s < 1 ? 6 : 3);
    const f = new ResponseCurveFit({ x, y, channel: 'TV' }).fit();
    expect(rel(f.top, top)).toBeLessThan(1e-4);
    expect(rel(f.saturation, sat)).toBeLessThan(1e-4);
    expect(rel(f.slope, s)).toBeLessThan(1e-4);
    expect(f.bottom).toBe(0);
    expect(f.r2).toBeGreaterThan(1 - 1e-9);
  });

  it.each([0.8, 2, 4])('recovers noisy parameters within a few percent (slope %p)', (s) => {
    const { x, y } = synth(200, top, 0, sat, s, s < 1 ? 6 : 3, 0.01, 11);
    const f = new ResponseCurveFit({ x, y, channel: 'TV' }).fit();
    expect(rel(f.top, top)).toBeLessThan(0.05);
    expect(rel(f.saturation, sat)).toBeLessThan(0.05);
    expect(rel(f.slope, s)).toBeLessThan(0.05);
    // R² computed independently from the fitted parameters
    const yHat = x.map((v) => hillPlain(v, f.top, 0, f.saturation, f.slope));
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    const sse = y.reduce((a, v, i) => a + (v - yHat[i]) ** 2, 0);
    const sst = y.reduce((a, v) => a + (v - mean) ** 2, 0);
    expect(f.r2).toBeCloseTo(1 - sse / sst, 10);
    expect(f.r2).toBeGreaterThan(0.99);
  });

  it('fits a free bottom', () => {
    const { x, y } = synth(120, 5e4, 8e3, 2e3, 2.5, 3);
    const f = new ResponseCurveFit({ x, y, channel: 'Search', bottom: 'free' }).fit();
    expect(rel(f.top, 5e4)).toBeLessThan(1e-3);
    expect(rel(f.bottom, 8e3)).toBeLessThan(1e-3);
    expect(rel(f.saturation, 2e3)).toBeLessThan(1e-3);
    expect(rel(f.slope, 2.5)).toBeLessThan(1e-3);
    expect(f.equation).toBe('y = 8000 + (5.00e4 − 8000) · x^2.5 / (2000^2.5 + x^2.5)');
  });

  it('respects the bounds when the data ask for more', () => {
    // data only on the convex foot of a steep curve: the true top (1e6) is far above max y
    const x = Array.from({ length: 40 }, (_, i) => 10 + i);
    const y = x.map((v) => hillPlain(v, 1e6, 0, 500, 3));
    const f = new ResponseCurveFit({ x, y, channel: 'Radio' }).fit();
    const yMax = Math.max(...y);
    const h = yMax - Math.min(...y);
    expect(f.top).toBeLessThanOrEqual(yMax + h / 2 + 1e-9 * yMax);
    expect(f.top).toBeGreaterThanOrEqual(yMax - h / 2 - 1e-9 * yMax);
    expect(f.saturation).toBeLessThanOrEqual(10 * 49 * (1 + 1e-12));
    expect(f.saturation).toBeGreaterThanOrEqual(0.1 * 10 * (1 - 1e-12));
    expect(f.slope).toBeGreaterThanOrEqual(0.01);
    expect(f.slope).toBeLessThanOrEqual(100 * (1 + 1e-12));
  });

  it('predict, marginal, equation, summary and JSON round trip', () => {
    const { x, y } = synth(60, top, 0, sat, 2, 3);
    const f = new ResponseCurveFit({ x, y, channel: 'TV', unit: 'impressions' }).fit();
    expect(f.predict(sat)).toBeCloseTo(hillPlain(sat, f.top, 0, f.saturation, f.slope), 6);
    expect(f.predict([0, sat])).toEqual([0, f.predict(sat)]);
    expect(f.marginal(sat)).toBeCloseTo(hillMarginal(f, sat), 12);
    expect(f.equation).toBe('y = 1.23e5 · x^2 / (4.50e6^2 + x^2)');
    expect(f.summary()).toContain('impressions');
    expect(f.summary()).toContain('R²');
    const json = JSON.parse(JSON.stringify(f.toJSON()));
    const revived = reviveHillCurve(json);
    expect(revived).toEqual(f.toJSON());
    expect(revived.unit).toBe('impressions');
    expect(hillResponse(revived, 3e6)).toBeCloseTo(f.predict(3e6), 8);
  });

  it('x = 0 weeks are allowed (they pin the curve at 0)', () => {
    const { x, y } = synth(50, top, 0, sat, 2, 3);
    x.push(0, 0);
    y.push(0, 0);
    const f = new ResponseCurveFit({ x, y, channel: 'TV' }).fit();
    expect(rel(f.slope, 2)).toBeLessThan(1e-4);
  });

  it('constant y: flat fit at 0 or with a free bottom; error with bottom 0 at a non-zero constant', () => {
    const x = [1, 2, 3, 4, 5];
    const flat0 = new ResponseCurveFit({ x, y: [0, 0, 0, 0, 0], channel: 'Dead' }).fit();
    expect(flat0.flat).toBe(true);
    expect(flat0.top).toBe(0);
    expect(flat0.predict(3)).toBe(0);
    expect(flat0.r2).toBe(1);
    const flatB = new ResponseCurveFit({
      x,
      y: [7, 7, 7, 7, 7],
      channel: 'Dead',
      bottom: 'free',
    }).fit();
    expect(flatB.flat).toBe(true);
    expect(flatB.predict(0)).toBe(7);
    expect(flatB.predict(100)).toBe(7);
    expect(() => new ResponseCurveFit({ x, y: [7, 7, 7, 7, 7], channel: 'Dead' }).fit()).toThrow(
      /"Dead".*constant/,
    );
  });

  it('rejects bad input with DataError naming the channel', () => {
    const ok = [1, 2, 3, 4];
    const make = (x: number[], y: number[], bottom?: 'zero' | 'free') => () =>
      new ResponseCurveFit({ x, y, channel: 'Social', bottom }).fit();
    expect(make([1, NaN, 3, 4], ok)).toThrow(DataError);
    expect(make([1, NaN, 3, 4], ok)).toThrow(/"Social".*x\[1\] is NaN/);
    expect(make(ok, [1, 2, Infinity, 4])).toThrow(/"Social".*y\[2\] is Infinity/);
    expect(make([1, -2, 3, 4], ok)).toThrow(/"Social".*negative/);
    expect(make([1, 2, 3], ok)).toThrow(/"Social".*3 values but y has 4/);
    expect(make([0, 0, 0, 0], ok)).toThrow(/"Social".*every x is 0/);
    expect(make([1, 2], [1, 2])).toThrow(/"Social".*at least 3 points/);
    expect(make([1, 2, 3], [1, 2, 3], 'free')).toThrow(/"Social".*at least 4 points/);
    expect(() => new ResponseCurveFit({ x: ok, y: ok, channel: 'Social' }).predict(1)).toThrow(
      /fit\(\) first/,
    );
  });
});

describe('reviveHillCurve', () => {
  it('fills defaults and rejects bad fields by name', () => {
    const c = reviveHillCurve({ channel: 'TV', top: 10, saturation: 2, slope: 1.5 });
    expect(c).toEqual({
      channel: 'TV',
      top: 10,
      bottom: 0,
      saturation: 2,
      slope: 1.5,
      r2: 0,
      unit: 'spend',
    });
    expect(() => reviveHillCurve(null)).toThrow(DataError);
    expect(() => reviveHillCurve({ top: 1 })).toThrow(/"channel"/);
    expect(() => reviveHillCurve({ channel: 'TV', top: '1', saturation: 2, slope: 1 })).toThrow(
      /"TV".*"top"/,
    );
    expect(() => reviveHillCurve({ channel: 'TV', top: 1, saturation: 0, slope: 1 })).toThrow(
      /"TV".*saturation/,
    );
    expect(() => reviveHillCurve({ channel: 'TV', top: 1, saturation: 1, slope: -1 })).toThrow(
      /"TV".*slope/,
    );
    expect(() =>
      reviveHillCurve({ channel: 'TV', top: 1, saturation: 1, slope: 1, unit: 'euros' }),
    ).toThrow(/"TV".*unit/);
  });
});

describe('fitResponseCurves', () => {
  it('fits every channel into a table with CSV', () => {
    const a = synth(80, 1e5, 0, 1e6, 2, 3);
    const b = synth(80, 3e4, 0, 2e5, 1.2, 4);
    const t = fitResponseCurves([
      { channel: 'TV', ...a },
      { channel: 'Search, paid', ...b },
    ]);
    expect(t.rows.map((r) => r.channel)).toEqual(['TV', 'Search, paid']);
    expect(rel(t.curves.TV.slope, 2)).toBeLessThan(1e-4);
    expect(rel(t.curves['Search, paid'].saturation, 2e5)).toBeLessThan(1e-4);
    const csv = t.toCsv().trim().split('\n');
    expect(csv[0]).toBe('channel,top,bottom,saturation,slope,r2,unit,points,flat,equation');
    expect(csv).toHaveLength(3);
    expect(csv[2].startsWith('"Search, paid",')).toBe(true);
    expect(Number(csv[1].split(',')[4])).toBe(t.curves.TV.slope);
  });

  it('throws on a bad channel by default, skips it with onError: skip', () => {
    const a = synth(40, 1e5, 0, 1e6, 2, 3);
    const data = [
      { channel: 'TV', ...a },
      { channel: 'Bad', x: [0, 0, 0], y: [1, 2, 3] },
    ];
    expect(() => fitResponseCurves(data)).toThrow(/"Bad"/);
    const t = fitResponseCurves(data, { onError: 'skip' });
    expect(t.rows.map((r) => r.channel)).toEqual(['TV']);
    expect(t.skipped[0].channel).toBe('Bad');
    expect(() => fitResponseCurves([data[0], data[0]])).toThrow(/"TV".*more than once/);
  });
});
