import { DataError } from '../src/data/errors.js';
import type { HillCurve, HillParams } from '../src/analysis/response-curves.js';
import {
  BudgetOptimizer,
  allocationToCsv,
  formatOptimizationReport,
  optimizeBudgetFromCurves,
} from '../src/analysis/budget-optimizer.js';
import { fitResponseCurves } from '../src/analysis/response-curves.js';
import { projectOntoBudget } from '../src/analysis/optimizer-problem.js';
import { Rng } from '../src/engine/random.js';

const N = 52;

/** Total response of one channel over the horizon, written out in the plain power form. */
const resp = (c: HillParams, total: number) => {
  const w = total / N;
  return (
    N * (c.bottom + ((c.top - c.bottom) * w ** c.slope) / (c.saturation ** c.slope + w ** c.slope))
  );
};

/**
 * Brute force over the simplex {Σx = B} on a grid of G steps per channel, honouring bounds;
 * returns the best total response found.
 */
function bruteForce(
  curves: HillParams[],
  budget: number,
  G: number,
  lower: number[] = curves.map(() => 0),
  upper: number[] = curves.map(() => budget),
): number {
  const n = curves.length;
  const step = budget / G;
  let best = -Infinity;
  const rec = (i: number, left: number, acc: number) => {
    if (i === n - 1) {
      const x = left * step;
      if (x < lower[i] - 1e-9 || x > upper[i] + 1e-9) return;
      best = Math.max(best, acc + resp(curves[i], x));
      return;
    }
    for (let k = 0; k <= left; k++) {
      const x = k * step;
      if (x < lower[i] - 1e-9 || x > upper[i] + 1e-9) continue;
      rec(i + 1, left - k, acc + resp(curves[i], x));
    }
  };
  rec(0, G, 0);
  return best;
}

// S-shaped weekly curves (slope > 1): the response at low spend is convex, so an equal split
// followed by gradient steps can settle on a poor corner.
const S: Record<string, HillParams> = {
  TV: { top: 1e6, bottom: 0, saturation: 5e4, slope: 3 },
  Search: { top: 8e5, bottom: 0, saturation: 3e4, slope: 2.5 },
  Social: { top: 6e5, bottom: 0, saturation: 2e4, slope: 4 },
  Radio: { top: 3e5, bottom: 0, saturation: 8e3, slope: 2 },
};

const cases: { name: string; channels: string[]; budgets: number[]; G: number }[] = [
  { name: '2 channels', channels: ['TV', 'Social'], budgets: [6e5, 1.5e6, 4e6, 9e6], G: 20000 },
  { name: '3 channels', channels: ['TV', 'Search', 'Social'], budgets: [1e6, 2.5e6, 5e6], G: 800 },
  {
    name: '4 channels',
    channels: ['TV', 'Search', 'Social', 'Radio'],
    budgets: [1.2e6, 4e6, 8e6],
    G: 150,
  },
];

const pick = (names: string[]) => Object.fromEntries(names.map((n) => [n, S[n]]));

describe('BudgetOptimizer: global optimum on S-shaped curves', () => {
  let localGap = 0;
  for (const c of cases) {
    it.each(c.budgets)(
      `${c.name}, budget %p: within 0.1 % of brute force; local, de ≤ global`,
      (budget) => {
        const curves = c.channels.map((n) => S[n]);
        const brute = bruteForce(curves, budget, c.G);
        const g = new BudgetOptimizer(budget, c.channels, pick(c.channels)).optimize();
        expect(g.success).toBe(true);
        expect(g.method).toBe('global');
        // the optimiser's own total agrees with the plain formula at its allocation
        const check = c.channels.reduce((a, n, i) => a + resp(curves[i], g.allocation[n]), 0);
        expect(g.predictedResponse).toBeCloseTo(check, 4);
        expect(Math.abs(g.predictedResponse - brute) / brute).toBeLessThan(1e-3);
        // the grid is a subset of the feasible set, so the continuous optimum is at least as good
        expect(g.predictedResponse).toBeGreaterThanOrEqual(brute * (1 - 1e-9));
        const sum = Object.values(g.allocation).reduce((a, b) => a + b, 0);
        expect(Math.abs(sum - budget)).toBeLessThan(1e-6 * budget);
        for (const v of Object.values(g.allocation)) expect(v).toBeGreaterThanOrEqual(0);

        const l = new BudgetOptimizer(budget, c.channels, pick(c.channels), {
          method: 'local',
        }).optimize();
        expect(l.predictedResponse).toBeLessThanOrEqual(g.predictedResponse * (1 + 1e-9));
        localGap = Math.max(localGap, 1 - l.predictedResponse / g.predictedResponse);
        const d = new BudgetOptimizer(budget, c.channels, pick(c.channels), {
          method: 'de',
        }).optimize();
        expect(d.predictedResponse).toBeLessThanOrEqual(g.predictedResponse * (1 + 1e-9));
      },
    );
  }
  it('the local method does get trapped on at least one of these problems', () => {
    expect(localGap).toBeGreaterThan(0.05);
  });

  it('matches brute force on concave curves (slope ≤ 1) too', () => {
    const curves = [
      { top: 5e5, bottom: 0, saturation: 1e4, slope: 0.8 },
      { top: 3e5, bottom: 0, saturation: 4e3, slope: 1 },
    ];
    const brute = bruteForce(curves, 2e6, 50000);
    const r = optimizeBudgetFromCurves(2e6, { A: curves[0], B: curves[1] });
    expect(Math.abs(r.predictedResponse - brute) / brute).toBeLessThan(1e-3);
    expect(r.predictedResponse).toBeGreaterThanOrEqual(brute * (1 - 1e-9));
  });
});

describe('BudgetOptimizer: KKT and per-channel detail', () => {
  const channels = ['TV', 'Search', 'Social', 'Radio'];
  const budget = 8e6;
  const r = new BudgetOptimizer(budget, channels, pick(channels)).optimize();

  it('channels off their bounds share one marginal response (within 1 %)', () => {
    const free = r.byChannel.filter((row) => !row.bindsLower && !row.bindsUpper);
    expect(free.length).toBeGreaterThanOrEqual(2);
    const m = free.map((row) => row.marginalRoi);
    // marginal computed independently by a central difference of the plain formula
    for (const row of free) {
      const h = 1e-4 * row.totalSpend;
      const fd =
        (resp(S[row.channel], row.totalSpend + h) - resp(S[row.channel], row.totalSpend - h)) /
        (2 * h);
      expect(Math.abs(row.marginalRoi - fd) / fd).toBeLessThan(1e-5);
    }
    expect((Math.max(...m) - Math.min(...m)) / Math.max(...m)).toBeLessThan(0.01);
    // a channel at its lower bound (0) gains no more per unit than the free ones
    for (const row of r.byChannel.filter((x) => x.bindsLower)) {
      expect(row.totalSpend).toBe(0);
      expect(row.marginalRoi).toBeLessThanOrEqual(Math.max(...m));
    }
  });

  it('per-channel rows are consistent', () => {
    expect(r.byChannel.map((row) => row.channel).sort()).toEqual([...channels].sort());
    const spends = r.byChannel.map((row) => row.totalSpend);
    expect(spends).toEqual([...spends].sort((a, b) => b - a));
    let shareS = 0;
    let shareR = 0;
    let total = 0;
    for (const row of r.byChannel) {
      const c = S[row.channel];
      expect(row.totalSpend).toBe(r.allocation[row.channel]);
      expect(row.weeklySpend).toBeCloseTo(row.totalSpend / N, 6);
      expect(row.totalResponse).toBeCloseTo(resp(c, row.totalSpend), 4);
      expect(row.weeklyResponse).toBeCloseTo(row.totalResponse / N, 6);
      expect(row.roi).toBeCloseTo(row.totalSpend > 0 ? row.totalResponse / row.totalSpend : 0, 10);
      expect(row.saturationPoint).toBe(c.saturation);
      expect(row.pctOfSaturation).toBeCloseTo((100 * row.totalSpend) / N / c.saturation, 8);
      expect(row.slope).toBe(c.slope);
      expect(row.lower).toBe(0);
      expect(row.upper).toBe(budget);
      shareS += row.spendShare;
      shareR += row.responseShare;
      total += row.totalResponse;
    }
    expect(shareS).toBeCloseTo(1, 9);
    expect(shareR).toBeCloseTo(1, 9);
    expect(r.predictedResponse).toBeCloseTo(total, 4);
    const csv = allocationToCsv(r).trim().split('\n');
    expect(csv[0].split(',')).toContain('marginalRoi');
    expect(csv).toHaveLength(5);
  });
});

describe('BudgetOptimizer: constraints', () => {
  const channels = ['TV', 'Search', 'Social'];
  const budget = 2.5e6;

  it('constraints given in any order land on the named channels, are respected and flagged', () => {
    const o = new BudgetOptimizer(budget, channels, pick(channels));
    o.setConstraints({
      Social: { upper: 1e6 },
      TV: { lower: 2e5, upper: 2e6 },
    });
    expect(o.bounds).toEqual({
      TV: { lower: 2e5, upper: 2e6 },
      Search: { lower: 0, upper: budget },
      Social: { lower: 0, upper: 1e6 },
    });
    const r = o.optimize();
    expect(r.success).toBe(true);
    const row = (ch: string) => r.byChannel.find((x) => x.channel === ch)!;
    expect(r.allocation.TV).toBeGreaterThanOrEqual(2e5 - 1e-6);
    expect(r.allocation.Social).toBeLessThanOrEqual(1e6 + 1e-6);
    expect(row('TV').lower).toBe(2e5);
    expect(row('Social').upper).toBe(1e6);
    // unconstrained, this budget goes to Search and Social only (Social above 1e6); the bounds
    // push TV up to its floor and hold Social at its cap
    const free = new BudgetOptimizer(budget, channels, pick(channels)).optimize();
    expect(free.allocation.TV).toBeLessThan(2e5);
    expect(free.allocation.Social).toBeGreaterThan(1e6);
    expect(row('TV').bindsLower).toBe(true);
    expect(r.allocation.TV).toBeCloseTo(2e5, 0);
    expect(row('Social').bindsUpper).toBe(true);
    expect(r.allocation.Social).toBeCloseTo(1e6, 0);
    expect(row('Search').bindsLower || row('Search').bindsUpper).toBe(false);
    // and the result is the best allocation under those bounds
    const brute = bruteForce(
      channels.map((n) => S[n]),
      budget,
      1000,
      [2e5, 0, 0],
      [2e6, budget, 1e6],
    );
    expect(Math.abs(r.predictedResponse - brute) / brute).toBeLessThan(1e-3);
    expect(r.predictedResponse).toBeGreaterThanOrEqual(brute * (1 - 1e-9));
  });

  it('upper above the budget is capped at the budget; later calls replace earlier ones', () => {
    const o = new BudgetOptimizer(budget, channels, pick(channels));
    o.setConstraints({ TV: { lower: 1e5 } });
    o.setConstraints({ Search: { upper: 10 * budget } });
    expect(o.bounds.Search).toEqual({ lower: 0, upper: budget });
    expect(o.bounds.TV).toEqual({ lower: 0, upper: budget });
  });

  it('lower > upper: lower reset to 0 with a warning naming the channel', () => {
    const o = new BudgetOptimizer(budget, channels, pick(channels));
    o.setConstraints({ Search: { lower: 6e5, upper: 5e5 } });
    expect(o.bounds.Search).toEqual({ lower: 0, upper: 5e5 });
    const r = o.optimize();
    expect(r.warnings.some((w) => /"Search".*600000.*500000.*reset to 0/.test(w))).toBe(true);
    expect(r.allocation.Search).toBeLessThanOrEqual(5e5 + 1e-6);
    // lower above the budget is compared with the capped upper bound
    o.setConstraints({ TV: { lower: 2 * budget } });
    expect(o.bounds.TV).toEqual({ lower: 0, upper: budget });
  });

  it('upper 0, negative or non-finite bounds and unknown channels are DataErrors naming the channel', () => {
    const o = new BudgetOptimizer(budget, channels, pick(channels));
    expect(() => o.setConstraints({ Social: { upper: 0 } })).toThrow(DataError);
    expect(() => o.setConstraints({ Social: { upper: 0 } })).toThrow(/cannot be 0.*Social/);
    expect(() => o.setConstraints({ Socail: { upper: 5 } })).toThrow(/unknown channel "Socail"/);
    expect(() => o.setConstraints({ TV: { lower: -1 } })).toThrow(/"TV" is negative/);
    expect(() => o.setConstraints({ TV: { upper: NaN } })).toThrow(/upper bound of channel "TV"/);
    // a failed call leaves the old bounds alone
    expect(o.bounds.Social).toEqual({ lower: 0, upper: budget });
  });

  it('infeasible bounds give success: false with a message, not a throw', () => {
    const o = new BudgetOptimizer(budget, channels, pick(channels));
    o.setConstraints({ TV: { lower: 1.5e6 }, Search: { lower: 1.5e6 } });
    const r = o.optimize();
    expect(r.success).toBe(false);
    expect(r.message).toMatch(/lower bounds sum to 3000000.*budget 2500000/);
    expect(r.byChannel).toEqual([]);
    expect(r.allocation).toEqual({ TV: 0, Search: 0, Social: 0 });
    o.setConstraints({ TV: { upper: 5e5 }, Search: { upper: 5e5 }, Social: { upper: 5e5 } });
    const r2 = o.optimize();
    expect(r2.success).toBe(false);
    expect(r2.message).toMatch(/upper bounds sum to 1500000/);
    expect(formatOptimizationReport(r2)).toContain('FAILED');
  });

  it('bounds that pin the allocation exactly are honoured', () => {
    const o = new BudgetOptimizer(budget, channels, pick(channels));
    o.setConstraints({ TV: { lower: 1e6, upper: 1e6 }, Search: { lower: 1e6, upper: 1e6 } });
    for (const method of ['global', 'local', 'de']) {
      const m = new BudgetOptimizer(budget, channels, pick(channels), { method });
      m.setConstraints({ TV: { lower: 1e6, upper: 1e6 }, Search: { lower: 1e6, upper: 1e6 } });
      const r = m.optimize();
      expect(r.allocation.TV).toBeCloseTo(1e6, 3);
      expect(r.allocation.Search).toBeCloseTo(1e6, 3);
      expect(r.allocation.Social).toBeCloseTo(5e5, 3);
    }
  });
});

describe('BudgetOptimizer: methods', () => {
  const channels = ['TV', 'Search', 'Social', 'Radio'];

  it('DE with the same seed gives the same result; the seed is used', () => {
    const run = (seed: number) =>
      new BudgetOptimizer(4e6, channels, pick(channels), { method: 'de', seed }).optimize();
    const a = run(3);
    const b = run(3);
    expect(b.allocation).toEqual(a.allocation);
    expect(b.predictedResponse).toBe(a.predictedResponse);
    expect(a.message).toMatch(/seed 3/);
  });

  it('upstream method names are accepted as aliases; unknown names are rejected', () => {
    const mk = (method: string) => new BudgetOptimizer(1e6, channels, pick(channels), { method });
    expect(mk('SLSQP').method).toBe('local');
    expect(mk('trust-constr').method).toBe('local');
    expect(mk('differential_evolution').method).toBe('de');
    expect(mk('hybrid').method).toBe('global');
    expect(() => mk('newton')).toThrow(/unknown method "newton"/);
  });

  it('bad construction input is a DataError', () => {
    expect(() => new BudgetOptimizer(0, ['TV'], pick(['TV']))).toThrow(/budget must be > 0/);
    expect(() => new BudgetOptimizer(NaN, ['TV'], pick(['TV']))).toThrow(/budget/);
    expect(() => new BudgetOptimizer(1e6, ['TV', 'Print'], pick(['TV']))).toThrow(
      /no response curve for channel "Print"/,
    );
    expect(() => new BudgetOptimizer(1e6, ['TV', 'TV'], pick(['TV']))).toThrow(
      /"TV" is listed twice/,
    );
    expect(() => new BudgetOptimizer(1e6, [], {})).toThrow(/no channels/);
    expect(() => new BudgetOptimizer(1e6, ['TV'], { TV: { ...S.TV, saturation: 0 } })).toThrow(
      /"TV" needs saturation > 0/,
    );
    expect(() => new BudgetOptimizer(1e6, ['TV'], { TV: { ...S.TV, top: NaN } })).toThrow(
      /"top" of channel "TV"/,
    );
    expect(() => new BudgetOptimizer(1e6, ['TV'], pick(['TV']), { numWeeks: 0 })).toThrow(
      /numWeeks/,
    );
  });

  it('numWeeks scales the horizon: the objective is N·f(x/N)', () => {
    const r13 = new BudgetOptimizer(1e6, ['TV'], pick(['TV']), { numWeeks: 13 }).optimize();
    const w = 1e6 / 13;
    expect(r13.predictedResponse).toBeCloseTo((13 * 1e6 * w ** 3) / (5e4 ** 3 + w ** 3), 3);
    expect(r13.allocation.TV).toBeCloseTo(1e6, 6);
  });
});

describe('scenarios, current vs optimal, report, one-call helper', () => {
  const channels = ['TV', 'Search', 'Social'];
  const budget = 2.5e6;
  const o = new BudgetOptimizer(budget, channels, pick(channels));

  it('compareScenarios computes response and ROI per scenario', () => {
    const t = o.compareScenarios({
      Current: { TV: 1e6, Search: 1e6, Social: 5e5 },
      'Heavy TV': { TV: 2e6, Search: 5e5 },
    });
    expect(t.rows.map((r) => r.scenario)).toEqual(['Current', 'Heavy TV']);
    const cur = resp(S.TV, 1e6) + resp(S.Search, 1e6) + resp(S.Social, 5e5);
    expect(t.rows[0].totalResponse).toBeCloseTo(cur, 4);
    expect(t.rows[0].roi).toBeCloseTo(cur / 2.5e6, 10);
    expect(t.rows[1].allocation).toEqual({ TV: 2e6, Search: 5e5, Social: 0 });
    const csv = t.toCsv().trim().split('\n');
    expect(csv[0]).toBe('scenario,totalSpend,totalResponse,roi,TV,Search,Social');
    expect(csv[2].split(',').slice(-3)).toEqual(['2000000', '500000', '0']);
    expect(() => o.compareScenarios({ Bad: { Print: 1 } })).toThrow(/scenario "Bad".*"Print"/);
    expect(() => o.compareScenarios({ Bad: { TV: -1 } })).toThrow(/scenario "Bad".*"TV"/);
  });

  it('compareWithCurrent: the optimum beats a current split of the same budget', () => {
    const current = { TV: 1e6, Search: 1e6, Social: 5e5 };
    const r = o.optimize();
    const cmp = o.compareWithCurrent(current);
    expect(cmp.totals.optimalResponse).toBeCloseTo(r.predictedResponse, 4);
    expect(cmp.totals.currentResponse).toBeCloseTo(
      resp(S.TV, 1e6) + resp(S.Search, 1e6) + resp(S.Social, 5e5),
      4,
    );
    expect(cmp.totals.responseLift).toBeGreaterThan(0);
    const tv = cmp.rows.find((x) => x.channel === 'TV')!;
    expect(tv.spendDelta).toBeCloseTo(r.allocation.TV - 1e6, 6);
    expect(tv.spendDeltaPct).toBeCloseTo(((r.allocation.TV - 1e6) / 1e6) * 100, 8);
    expect(cmp.toCsv().split('\n')[0]).toContain('spendDeltaPct');

    const report = formatOptimizationReport(r, { comparison: cmp });
    expect(report).toContain('SUCCESS');
    expect(report).toContain('CURRENT vs OPTIMAL');
    for (const ch of channels) expect(report).toContain(ch);
  });

  it('optimizeBudgetFromCurves takes fitted HillCurve[] and says when the unit is impressions', () => {
    const curves: HillCurve[] = channels.map((ch) => ({
      channel: ch,
      ...S[ch],
      r2: 0.97,
      unit: 'impressions',
    }));
    const r = optimizeBudgetFromCurves(budget, curves, { constraints: { Social: { upper: 4e5 } } });
    expect(r.success).toBe(true);
    expect(r.unit).toBe('impressions');
    expect(r.allocation.Social).toBeLessThanOrEqual(4e5 + 1e-6);
    expect(r.warnings.some((w) => /impressions/.test(w))).toBe(true);
    const direct = new BudgetOptimizer(budget, channels, curves);
    direct.setConstraints({ Social: { upper: 4e5 } });
    expect(direct.optimize().allocation).toEqual(r.allocation);
    const report = formatOptimizationReport(r, { curves });
    expect(report).toMatch(/in impressions/);
    expect(report).toContain('R² 0.970');
    // a subset of channels
    const sub = optimizeBudgetFromCurves(budget, curves, { channels: ['TV', 'Search'] });
    expect(Object.keys(sub.allocation)).toEqual(['TV', 'Search']);
  });

  it('a flat curve gets nothing and is warned about', () => {
    const r = optimizeBudgetFromCurves(1e6, {
      TV: S.TV,
      Dead: { top: 0, bottom: 0, saturation: 1, slope: 1 },
    });
    expect(r.allocation.Dead).toBeCloseTo(0, 6);
    expect(r.warnings.some((w) => /"Dead".*does not rise/.test(w))).toBe(true);
  });
});

describe('projectOntoBudget', () => {
  it('is the nearest point with Σx = B inside the bounds', () => {
    const rng = new Rng(5);
    const lower = [0, 1, 0, 2, 0];
    const upper = [3, 4, 10, 2.5, 6];
    const p = { budget: 9, numWeeks: 1, curves: [], lower, upper };
    for (let trial = 0; trial < 50; trial++) {
      const y = Array.from({ length: 5 }, () => -5 + 15 * rng.uniform());
      const x = projectOntoBudget(p, y);
      expect(x.reduce((a, b) => a + b, 0)).toBeCloseTo(9, 10);
      x.forEach((v, i) => {
        expect(v).toBeGreaterThanOrEqual(lower[i] - 1e-12);
        expect(v).toBeLessThanOrEqual(upper[i] + 1e-12);
      });
      // optimality: every coordinate strictly inside its bounds moved by the same amount τ, and
      // coordinates at a bound lie on the side that τ pushes them to
      const inner = x.map((v, i) => (v > lower[i] + 1e-9 && v < upper[i] - 1e-9 ? y[i] - v : NaN));
      const taus = inner.filter((t) => !Number.isNaN(t));
      for (const t of taus) expect(t).toBeCloseTo(taus[0], 9);
      if (taus.length > 0) {
        x.forEach((v, i) => {
          if (Math.abs(v - lower[i]) < 1e-9)
            expect(y[i] - taus[0]).toBeLessThanOrEqual(lower[i] + 1e-9);
          if (Math.abs(v - upper[i]) < 1e-9)
            expect(y[i] - taus[0]).toBeGreaterThanOrEqual(upper[i] - 1e-9);
        });
      }
    }
  });
});

describe('fit, then optimise', () => {
  it('curves fitted from weekly data give the same plan as the true curves', () => {
    const names = ['TV', 'Search', 'Social'];
    const data = names.map((channel) => {
      const c = S[channel];
      const x = Array.from({ length: 104 }, (_, i) => c.saturation * (0.1 + (2.9 * i) / 103));
      return { channel, x, y: x.map((v) => resp(c, v * N) / N) };
    });
    const table = fitResponseCurves(data);
    const fitted = optimizeBudgetFromCurves(5e6, table.rows);
    const truth = optimizeBudgetFromCurves(5e6, pick(names));
    for (const ch of names) {
      expect(Math.abs(fitted.allocation[ch] - truth.allocation[ch])).toBeLessThan(1e-3 * 5e6);
    }
    expect(fitted.predictedResponse / truth.predictedResponse).toBeCloseTo(1, 6);
  });
});
