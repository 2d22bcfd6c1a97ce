import { DataError } from '../src/data/errors.js';
import { panelDims } from '../src/data/panel.js';
import { generateSyntheticPanel, type SyntheticPanelOptions } from '../src/data/synthetic.js';

const sum = (v: ArrayLike<number>) => Array.from(v).reduce((s, x) => s + x, 0);

describe('generateSyntheticPanel', () => {
  const { panel, truth } = generateSyntheticPanel();
  const { R, W, C, K } = panelDims(panel);

  test('default shapes', () => {
    expect([R, W, C, K]).toEqual([20, 104, 5, 3]);
    expect(panel.weeks).toEqual(Array.from({ length: 104 }, (_, w) => w));
    expect(panel.media.length).toBe(R * W * C);
    expect(panel.controls.length).toBe(R * W * K);
    expect(panel.target.length).toBe(R * W);
    expect(panel.observed.length).toBe(R * W);
    expect(panel.observed.every((o) => o === 1)).toBe(true);
    expect(new Set(panel.regions).size).toBe(R);
    expect(new Set(panel.channels).size).toBe(C);
    expect(truth.contributions.length).toBe(R * W * C);
    expect(truth.shareOfVoice.length).toBe(R * W * C);
    expect(truth.controlContributions.length).toBe(R * W * K);
    expect(truth.seasonal.length).toBe(R * W);
    expect(truth.noise.length).toBe(R * W);
    expect(truth.baseline.length).toBe(R);
    expect(truth.regionLevel.length).toBe(R);
    for (const a of [truth.adstock, truth.slope, truth.halfSat, truth.coef, truth.channelShares])
      expect(a.length).toBe(C);
    expect(truth.controlCoef.length).toBe(K);
  });

  test('same seed → identical panel and truth; another seed differs', () => {
    const again = generateSyntheticPanel({ seed: 42 });
    expect(again.panel).toEqual(panel);
    expect(again.truth).toEqual(truth);
    const other = generateSyntheticPanel({ seed: 43 });
    expect(other.panel.target).not.toEqual(panel.target);
  });

  test('y > 0 everywhere and every value finite', () => {
    expect(panel.target.every((y) => y > 0)).toBe(true);
    for (const a of [panel.media, panel.controls, truth.contributions])
      expect(a.every((x) => Number.isFinite(x))).toBe(true);
    expect(panel.media.every((x) => x >= 0)).toBe(true);
  });

  test('y − noise is exactly the sum of the components', () => {
    let worst = 0;
    for (let r = 0; r < R; r++)
      for (let w = 0; w < W; w++) {
        const i = r * W + w;
        let parts = truth.baseline[r] + truth.seasonal[i];
        for (let k = 0; k < K; k++) parts += truth.controlContributions[i * K + k];
        for (let c = 0; c < C; c++) parts += truth.contributions[i * C + c];
        worst = Math.max(
          worst,
          Math.abs(panel.target[i] - truth.noise[i] - parts) / panel.target[i],
        );
      }
    expect(worst).toBeLessThanOrEqual(1e-12);
  });

  test('seasonality repeats yearly (52 weeks)', () => {
    let worst = 0;
    let amp = 0;
    for (let i = 0; i < R * W; i++) {
      amp = Math.max(amp, Math.abs(truth.seasonal[i]));
      if (i % W < W - 52)
        worst = Math.max(worst, Math.abs(truth.seasonal[i] - truth.seasonal[i + 52]));
    }
    expect(amp).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(1e-9 * amp);
  });

  test('contributions follow coef · Y_r · Hill(adstock(share of voice)) as the model computes it', () => {
    let worst = 0;
    let worstShare = 0;
    for (let r = 0; r < R; r++)
      for (let c = 0; c < C; c++) {
        let a = 0;
        for (let w = 0; w < W; w++) {
          const i = (r * W + w) * C + c;
          let tot = 0;
          for (let j = 0; j < C; j++) tot += panel.media[(r * W + w) * C + j];
          const s = tot <= 1e-8 ? 1 / C : panel.media[i] / (tot + 1e-8);
          a = w === 0 ? s : s + truth.adstock[c] * a;
          const g = truth.halfSat[c];
          const hill =
            a > 0 ? a ** truth.slope[c] / (a ** truth.slope[c] + g ** truth.slope[c]) : 0;
          const expected = truth.coef[c] * truth.regionLevel[r] * hill;
          worst = Math.max(
            worst,
            Math.abs(truth.contributions[i] - expected) / truth.regionLevel[r],
          );
          worstShare = Math.max(worstShare, Math.abs(truth.shareOfVoice[i] - s));
        }
      }
    expect(worst).toBeLessThanOrEqual(1e-12);
    expect(worstShare).toBeLessThanOrEqual(1e-15);
  });

  test('channel totals and shares: sum to 1 and clearly different', () => {
    for (let c = 0; c < C; c++) {
      let t = 0;
      for (let i = c; i < truth.contributions.length; i += C) t += truth.contributions[i];
      expect(truth.channelTotals[c]).toBeCloseTo(t, 6);
    }
    expect(sum(truth.channelShares)).toBeCloseTo(1, 12);
    expect(Math.max(...truth.channelShares)).toBeGreaterThan(0.35);
    expect(Math.min(...truth.channelShares)).toBeLessThan(0.08);
  });

  test.each([0.4, 0.15, 0.7, 0.9])('media is ≈ mediaShare %p of y', (mediaShare) => {
    const { panel: p, truth: t } = generateSyntheticPanel({ mediaShare, seed: 3 });
    expect(p.target.every((y) => y > 0)).toBe(true);
    expect(t.mediaShare).toBeCloseTo(mediaShare, 10);
    expect(Math.abs(sum(t.channelTotals) / sum(p.target) - mediaShare)).toBeLessThan(0.1);
  });

  test('media share of the default panel is close to 0.4', () => {
    expect(Math.abs(sum(truth.channelTotals) / sum(panel.target) - 0.4)).toBeLessThan(0.1);
  });

  test('truth parameters lie in their documented ranges', () => {
    for (let c = 0; c < C; c++) {
      expect(truth.adstock[c]).toBeGreaterThanOrEqual(0.1);
      expect(truth.adstock[c]).toBeLessThanOrEqual(0.7);
      expect(truth.slope[c]).toBeGreaterThanOrEqual(2);
      expect(truth.slope[c]).toBeLessThanOrEqual(3.5);
      expect(truth.halfSat[c]).toBeGreaterThanOrEqual(0.01);
      expect(truth.halfSat[c]).toBeLessThanOrEqual(1);
      expect(truth.coef[c]).toBeGreaterThan(0);
    }
  });

  test('regions differ in size (levels within 1e3..1e5)', () => {
    const lv = Array.from(truth.regionLevel);
    expect(Math.min(...lv)).toBeGreaterThanOrEqual(1e3);
    expect(Math.max(...lv)).toBeLessThanOrEqual(1e5);
    expect(Math.max(...lv) / Math.min(...lv)).toBeGreaterThan(5);
    // the region mean of y tracks its level
    for (let r = 0; r < R; r++) {
      const ym = sum(panel.target.subarray(r * W, (r + 1) * W)) / W;
      expect(ym / truth.regionLevel[r]).toBeGreaterThan(0.8);
      expect(ym / truth.regionLevel[r]).toBeLessThan(1.2);
    }
  });

  test('flighting: burst channels have off weeks, always-on channels none', () => {
    const offWeeks = (c: number) => {
      let n = 0;
      for (let w = 0; w < W; w++) {
        let tot = 0;
        for (let r = 0; r < R; r++) tot += panel.media[(r * W + w) * C + c];
        if (tot === 0) n++;
      }
      return n;
    };
    expect(offWeeks(panel.channels.indexOf('tv'))).toBeGreaterThan(10);
    expect(offWeeks(panel.channels.indexOf('tv'))).toBeLessThan(W);
    expect(offWeeks(panel.channels.indexOf('search'))).toBe(0);
  });

  test('controls: price index near 100, promo flags 0/1, temperature seasonal', () => {
    expect(panel.controlNames).toEqual(['price_index', 'temperature', 'promo']);
    const col = (k: number) => Array.from({ length: R * W }, (_, i) => panel.controls[i * K + k]);
    const price = col(0);
    expect(Math.min(...price)).toBeGreaterThan(80);
    expect(Math.max(...price)).toBeLessThan(120);
    const promo = col(2);
    expect(promo.every((x) => x === 0 || x === 1)).toBe(true);
    expect(sum(promo) / promo.length).toBeGreaterThan(0.05);
    expect(sum(promo) / promo.length).toBeLessThan(0.2);
    // each control contribution = coef · base_r · (x − centre), base_r = baseline_r
    const temp = col(1);
    const atWeek = (w: number) => sum(Array.from({ length: R }, (_, r) => temp[r * W + w])) / R;
    expect(atWeek(29) - atWeek(3)).toBeGreaterThan(10); // summer peak vs winter trough
    let worst = 0;
    for (let i = 0; i < R * W; i++)
      for (let k = 0; k < K; k++) {
        const r = Math.floor(i / W);
        const v =
          truth.controlCoef[k] *
          truth.baseline[r] *
          (panel.controls[i * K + k] - truth.controlCenter[k]);
        worst = Math.max(worst, Math.abs(truth.controlContributions[i * K + k] - v));
      }
    expect(worst).toBeLessThanOrEqual(1e-9);
  });

  test('noise: sd relative to the region level; noise 0 → no noise', () => {
    let z2 = 0;
    for (let i = 0; i < R * W; i++) z2 += (truth.noise[i] / truth.noiseSd[Math.floor(i / W)]) ** 2;
    const sd = Math.sqrt(z2 / (R * W));
    expect(sd).toBeGreaterThan(0.9);
    expect(sd).toBeLessThan(1.1);
    expect(truth.noiseSd[0]).toBeCloseTo(0.05 * truth.regionLevel[0], 10);
    const quiet = generateSyntheticPanel({ noise: 0 });
    expect(quiet.truth.noise.every((e) => e === 0)).toBe(true);
    expect(quiet.panel.target.every((y) => y > 0)).toBe(true);
  });

  test('other sizes: many channels and controls, names extend', () => {
    const { panel: p, truth: t } = generateSyntheticPanel({
      channels: 10,
      controls: 5,
      regions: 4,
      weeks: 30,
    });
    expect(p.channels.slice(8)).toEqual(['channel_09', 'channel_10']);
    expect(p.controlNames.slice(3)).toEqual(['control_04', 'control_05']);
    expect(sum(t.channelShares)).toBeCloseTo(1, 12);
    expect(t.channelTotals.every((x) => x > 0)).toBe(true);
    const one = generateSyntheticPanel({ channels: 1, controls: 0, regions: 2, weeks: 10 });
    expect(one.truth.channelShares).toEqual([1]);
    expect(one.panel.controls.length).toBe(0);
    expect(one.panel.target.every((y) => y > 0)).toBe(true);
  });
});

describe('ragged regions', () => {
  const n = 6;
  const { panel, truth } = generateSyntheticPanel({ raggedRegions: n, seed: 11 });
  const { R, W, C, K } = panelDims(panel);

  test('n regions lose one leading or trailing block; the rest are complete', () => {
    let ragged = 0;
    for (let r = 0; r < R; r++) {
      const o = Array.from(panel.observed.subarray(r * W, (r + 1) * W));
      const missing = o.filter((x) => x === 0).length;
      if (missing === 0) continue;
      ragged++;
      expect(missing).toBeLessThanOrEqual(Math.floor(W / 3));
      const first = o.indexOf(1);
      const last = o.lastIndexOf(1);
      // one contiguous observed span touching one end of the axis
      expect(last - first + 1).toBe(W - missing);
      expect(first === 0 || last === W - 1).toBe(true);
    }
    expect(ragged).toBe(n);
  });

  test('unobserved cells hold 0 in every array; observed y > 0; components still add up', () => {
    for (let r = 0; r < R; r++)
      for (let w = 0; w < W; w++) {
        const i = r * W + w;
        if (panel.observed[i]) {
          expect(panel.target[i]).toBeGreaterThan(0);
          let parts = truth.baseline[r] + truth.seasonal[i] + truth.noise[i];
          for (let k = 0; k < K; k++) parts += truth.controlContributions[i * K + k];
          for (let c = 0; c < C; c++) parts += truth.contributions[i * C + c];
          expect(Math.abs(panel.target[i] - parts)).toBeLessThanOrEqual(1e-9 * panel.target[i]);
          continue;
        }
        expect([panel.target[i], truth.seasonal[i], truth.noise[i]]).toEqual([0, 0, 0]);
        for (let c = 0; c < C; c++) {
          expect(panel.media[i * C + c]).toBe(0);
          expect(truth.contributions[i * C + c]).toBe(0);
        }
        for (let k = 0; k < K; k++) expect(panel.controls[i * K + k]).toBe(0);
      }
  });

  test('media share and channel shares still hold on the observed cells', () => {
    expect(sum(truth.channelShares)).toBeCloseTo(1, 12);
    let y = 0;
    for (let i = 0; i < R * W; i++) if (panel.observed[i]) y += panel.target[i];
    expect(Math.abs(sum(truth.channelTotals) / y - 0.4)).toBeLessThan(0.1);
  });
});

describe('startDate', () => {
  test('weeks become ISO Monday dates from the week of startDate', () => {
    const { panel } = generateSyntheticPanel({ weeks: 3, regions: 1, startDate: '2024-01-03' });
    expect(panel.weeks).toEqual(['2024-01-01', '2024-01-08', '2024-01-15']);
    const monday = generateSyntheticPanel({ weeks: 2, regions: 1, startDate: '2023-12-25' });
    expect(monday.panel.weeks).toEqual(['2023-12-25', '2024-01-01']);
  });
});

describe('flighting', () => {
  // on/off pattern of channel c over the weeks of region r
  const onWeeks = (media: Float64Array, r: number, c: number, W: number, C: number) =>
    Array.from({ length: W }, (_, w) => (media[(r * W + w) * C + c] > 0 ? 1 : 0)).join('');
  test('national: a flighted channel runs in the same weeks everywhere; regional: each region its own', () => {
    const opts = { regions: 4, weeks: 60, channels: 3, alwaysOn: [], seed: 5 };
    const W = 60;
    const C = 3;
    const nat = generateSyntheticPanel(opts).panel.media;
    const reg = generateSyntheticPanel({ ...opts, flighting: 'regional' }).panel.media;
    for (let c = 0; c < C; c++) {
      const national = [0, 1, 2, 3].map((r) => onWeeks(nat, r, c, W, C));
      expect(new Set(national).size).toBe(1);
      expect(national[0]).toContain('0'); // flighted: some dark weeks
      const regional = [0, 1, 2, 3].map((r) => onWeeks(reg, r, c, W, C));
      expect(new Set(regional).size).toBeGreaterThan(1);
    }
  });
});

describe('bad options', () => {
  const cases: [SyntheticPanelOptions, RegExp][] = [
    [{ regions: 0 }, /regions = 0 must be an integer ≥ 1/],
    [{ weeks: 1 }, /weeks = 1 must be an integer ≥ 2/],
    [{ channels: 2.5 }, /channels = 2.5 must be an integer/],
    [{ controls: -1 }, /controls = -1 must be an integer ≥ 0/],
    [{ raggedRegions: -2 }, /raggedRegions = -2/],
    [{ seed: NaN }, /seed = NaN is not finite/],
    [{ noise: -0.1 }, /noise = -0.1 must lie in \[0, 1\]/],
    [{ noise: 2 }, /noise = 2 must lie in \[0, 1\]/],
    [{ mediaShare: 0 }, /mediaShare = 0 must lie in \(0, 0.9\]/],
    [{ mediaShare: 0.95 }, /mediaShare = 0.95/],
    [{ regions: 3, raggedRegions: 4 }, /raggedRegions = 4 exceeds regions = 3/],
    [{ weeks: 5, raggedRegions: 1 }, /raggedRegions needs weeks ≥ 6 \(got 5\)/],
    [{ startDate: '2024-02-30' }, /startDate '2024-02-30' is not a valid YYYY-MM-DD date/],
    [{ startDate: 'January' }, /startDate 'January'/],
    [
      { flighting: 'local' as unknown as 'national' },
      /flighting must be 'national' or 'regional', got 'local'/,
    ],
  ];
  test.each(cases)('%p is rejected', (opts, message) => {
    expect(() => generateSyntheticPanel(opts)).toThrow(DataError);
    expect(() => generateSyntheticPanel(opts)).toThrow(message);
  });
});
