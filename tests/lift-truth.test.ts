/**
 * The true lift of a go-dark geo experiment on a recovery panel and the benchmark's design of one
 * (issue 15; src/recovery/lift-truth.ts), on CI-sized panels (6 regions × 80 weeks).
 */
import { generateRecoveryPanel, type RecoveryPanel } from '../src/recovery/generator.js';
import {
  designGoDarkTest,
  trueEffects,
  trueGoDarkLift,
  type GoDarkTest,
} from '../src/recovery/lift-truth.js';
import { scenarioById } from '../src/recovery/scenarios.js';

const panelOf = (id: string, seed = 1): RecoveryPanel =>
  generateRecoveryPanel({ ...scenarioById(id).panel(0.3, seed), regions: 6, weeks: 80 });

const cache = new Map<string, RecoveryPanel>();
const panel = (id: string) => {
  if (!cache.has(id)) cache.set(id, panelOf(id));
  return cache.get(id)!;
};

/** Σ over the test's regions and counted weeks of (effects − counterfactual effects), per channel. */
function dropPerChannel(rp: RecoveryPanel, t: GoDarkTest): number[] {
  const { regions, weeks, channels } = rp.panel;
  const W = weeks.length;
  const C = channels.length;
  const base = trueEffects(rp);
  const cf = trueEffects(rp, t);
  const drop = new Array<number>(C).fill(0);
  for (const name of t.regions) {
    const r = regions.indexOf(name);
    for (let w = t.from; w <= t.testTo + t.postWeeks; w++)
      for (let c = 0; c < C; c++) drop[c] += base[(r * W + w) * C + c] - cf[(r * W + w) * C + c];
  }
  return drop;
}

/** Equal to 1e-9 of the largest effect, cell by cell. */
function expectSameEffects(e: Float64Array, ref: Float64Array): void {
  expect(e.length).toBe(ref.length);
  let scale = 0;
  for (const v of ref) scale = Math.max(scale, Math.abs(v));
  expect(scale).toBeGreaterThan(0);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(e[i] - ref[i]) / scale);
  expect(worst).toBeLessThanOrEqual(1e-9);
}

describe('the recomputed true process', () => {
  test.each(['a', 'd', 'i', 'j'])(
    'scenario %s: with nothing off, the effects equal the generator’s',
    (id) => {
      const rp = panel(id);
      expectSameEffects(trueEffects(rp), rp.truth.effects);
    },
  );

  test('a plain generated panel (6 × 80, no scenario) too', () => {
    const rp = generateRecoveryPanel({
      seed: 3,
      regions: 6,
      weeks: 80,
      controls: 1,
      mediaShare: 0.4,
      noise: 0.05,
      channels: [
        { name: 'a', pattern: 'alwaysOn', weight: 0.5 },
        { name: 'b', pattern: 'flighted', weight: 0.3, parent: { channel: 'a', k: 0.5 } },
        { name: 'c', pattern: 'demand', weight: 0.2 },
      ],
    });
    expectSameEffects(trueEffects(rp), rp.truth.effects);
  });
});

describe('the true lift of a go-dark test', () => {
  test('positive for a channel with an effect, 0 for a channel with none (scenario i)', () => {
    const rp = panel('i');
    for (const [c, ch] of rp.panel.channels.entries()) {
      const { test } = designGoDarkTest(rp, ch, 1);
      const lift = trueGoDarkLift(rp, test);
      if (rp.truth.channels[c].coef > 0) expect(lift).toBeGreaterThan(0);
      else {
        expect(ch).toBe('display');
        expect(lift).toBe(0);
      }
    }
  });

  test('without an edge, the lift is the channel’s own effect drop, the others unchanged', () => {
    const rp = panel('a');
    const t: GoDarkTest = {
      channel: 'search',
      regions: ['region_002', 'region_005'],
      from: 20,
      testTo: 23,
      postWeeks: 6,
    };
    const drop = dropPerChannel(rp, t);
    const c = rp.panel.channels.indexOf('search');
    const lift = trueGoDarkLift(rp, t);
    expect(lift).toBeCloseTo(drop[c], 6);
    drop.forEach((d, k) => k !== c && expect(d).toBe(0));
    // regions outside the test keep every effect
    const base = trueEffects(rp);
    const cf = trueEffects(rp, t);
    const { weeks, channels } = rp.panel;
    const r = rp.panel.regions.indexOf('region_001');
    for (let w = 0; w < weeks.length; w++)
      for (let k = 0; k < channels.length; k++) {
        const i = (r * weeks.length + w) * channels.length + k;
        expect(cf[i]).toBe(base[i]);
      }
    // the lift grows with the counted weeks while carry-over lasts, and never falls
    const longer = trueGoDarkLift(rp, { ...t, postWeeks: 8 });
    const none = trueGoDarkLift(rp, { ...t, postWeeks: 0 });
    expect(longer).toBeGreaterThanOrEqual(lift);
    expect(lift).toBeGreaterThanOrEqual(none);
  });

  test('with an edge (scenario d), switching the parent off lowers the child’s effect too', () => {
    const rp = panel('d');
    expect(rp.truth.edges).toEqual([{ from: 'tv', to: 'search', k: 0.75 }]);
    const { test } = designGoDarkTest(rp, 'tv', 2);
    const drop = dropPerChannel(rp, test);
    const [tv, search] = ['tv', 'search'].map((c) => rp.panel.channels.indexOf(c));
    const lift = trueGoDarkLift(rp, test);
    expect(drop[search]).toBeGreaterThan(0);
    expect(lift).toBeGreaterThan(drop[tv]);
    expect(lift).toBeCloseTo(
      drop.reduce((a, b) => a + b, 0),
      6,
    );
    // the child switched off leaves its parent alone
    const child = dropPerChannel(rp, { ...test, channel: 'search' });
    expect(child[tv]).toBe(0);
  });

  test('validation', () => {
    const rp = panel('a');
    const ok: GoDarkTest = {
      channel: 'tv',
      regions: ['region_001'],
      from: 10,
      testTo: 13,
      postWeeks: 4,
    };
    expect(() => trueGoDarkLift(rp, { ...ok, channel: 'radio' })).toThrow(/unknown channel/);
    expect(() => trueGoDarkLift(rp, { ...ok, regions: ['nowhere'] })).toThrow(/unknown region/);
    expect(() => trueGoDarkLift(rp, { ...ok, regions: [] })).toThrow(/no regions/);
    expect(() => trueGoDarkLift(rp, { ...ok, regions: ['region_001', 'region_001'] })).toThrow(
      /repeats/,
    );
    expect(() => trueGoDarkLift(rp, { ...ok, from: 14 })).toThrow(/not a range/);
    expect(() => trueGoDarkLift(rp, { ...ok, postWeeks: -1 })).toThrow(/postWeeks/);
    expect(() => trueGoDarkLift(rp, { ...ok, testTo: 76 })).toThrow(/after the data/);
    expect(() => designGoDarkTest(rp, 'radio', 1)).toThrow(/unknown channel/);
  });
});

describe('the benchmark design', () => {
  test.each(['a', 'd', 'j'])(
    'scenario %s: 10 %% of the regions, 4 on-weeks inside training',
    (id) => {
      const rp = panel(id);
      const { regions, weeks, channels } = rp.panel;
      const W = weeks.length;
      const C = channels.length;
      for (const [c, ch] of channels.entries()) {
        const d = designGoDarkTest(rp, ch, 5);
        const t = d.test;
        expect(t.channel).toBe(ch);
        expect(t.regions).toHaveLength(Math.max(1, Math.round(0.1 * regions.length)));
        expect(t.testTo - t.from).toBe(3);
        expect(t.postWeeks).toBeGreaterThanOrEqual(4);
        expect(t.postWeeks).toBeLessThanOrEqual(8);
        expect(t.from).toBeGreaterThanOrEqual(0);
        expect(t.testTo + t.postWeeks).toBeLessThan(rp.truth.wTrain);
        // the channel runs in those regions over the test weeks
        let input = 0;
        for (const name of t.regions) {
          const r = regions.indexOf(name);
          for (let w = t.from; w <= t.testTo; w++) input += rp.panel.media[(r * W + w) * C + c];
        }
        expect(input).toBeGreaterThan(0);
        expect(d.trueLift).toBe(trueGoDarkLift(rp, t));
        expect(d.trueLift).toBeGreaterThan(0);
        expect(d.se).toBeCloseTo(0.2 * d.trueLift, 9);
        expect(Math.abs(d.measuredLift - d.trueLift)).toBeLessThan(5 * d.se);
        // seeded: the same seed gives the same design and measurement
        expect(designGoDarkTest(rp, ch, 5)).toEqual(d);
      }
    },
  );

  test('a channel with no effect: true lift 0, measured 0', () => {
    const d = designGoDarkTest(panel('i'), 'display', 1);
    expect(d.trueLift).toBe(0);
    expect(d.measuredLift).toBe(0);
    expect(d.se).toBe(0);
  });

  test('the measurement noise has sd 20 % of the true lift over seeds', () => {
    const rp = panel('a');
    const z: number[] = [];
    for (let s = 0; s < 200; s++) {
      const d = designGoDarkTest(rp, 'tv', s);
      z.push((d.measuredLift - d.trueLift) / d.se);
    }
    const mean = z.reduce((a, b) => a + b, 0) / z.length;
    const sd = Math.sqrt(z.reduce((a, b) => a + (b - mean) ** 2, 0) / (z.length - 1));
    expect(Math.abs(mean)).toBeLessThan(0.3);
    expect(sd).toBeGreaterThan(0.8);
    expect(sd).toBeLessThan(1.2);
  });
});
