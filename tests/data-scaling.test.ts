import {
  shareOfVoice,
  lowerMedian,
  quantileLinear,
  stdDev,
  fitControlScaler,
  scaleControl,
  controlClipForBlock,
  fitTargetScaler,
  scaleTarget,
  inverseTarget,
  fitMediaScaler,
  scaleMedia,
  neutralMedia,
  MEDIA_MEAN_LEVEL,
} from '../src/data/scaling.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('share of voice', () => {
  test('x / (Σx + 1e-8)', () => {
    const out = new Float64Array(3);
    shareOfVoice([1, 3, 6], 0, 3, out, 0);
    expect(out[0]).toBeCloseTo(1 / (10 + 1e-8), 15);
    expect(out[2]).toBeCloseTo(6 / (10 + 1e-8), 15);
  });

  test('a week with total ≤ 1e-8 gets 1/C for every channel', () => {
    const out = new Float64Array(8);
    shareOfVoice([9, 9, 0, 0, 0, 0, 9], 2, 4, out, 4);
    expect(Array.from(out.subarray(4))).toEqual([0.25, 0.25, 0.25, 0.25]);
    shareOfVoice([5e-9, 5e-9], 0, 2, out, 0);
    expect([out[0], out[1]]).toEqual([0.5, 0.5]);
  });
});

describe('robust statistics', () => {
  test('lower median and linearly interpolated quartiles', () => {
    expect(lowerMedian([1, 2, 3, 4])).toBe(2); // not 2.5
    expect(lowerMedian([1, 2, 3, 4, 5])).toBe(3);
    // position q·(n−1): 0.75 → between 1 and 2; 2.25 → between 3 and 4
    expect(quantileLinear([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 15);
    expect(quantileLinear([1, 2, 3, 4], 0.75)).toBeCloseTo(3.25, 15);
    expect(quantileLinear([10], 0.6)).toBe(10);
    expect(stdDev([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 14);
  });

  test('control scaler: median, IQR/1.349 (upstreamCompat ×1.349), z and clip ±5', () => {
    // one control, values 8, 7, …, 1 in cells 0..7 (order must not matter)
    const x = [8, 7, 6, 5, 4, 3, 2, 1];
    const s = fitControlScaler(x, 1, range(8), false);
    expect(s.median).toEqual([4]);
    // q25 at 1.75 → 2.75, q75 at 5.25 → 6.25; IQR 3.5
    expect(s.scale[0]).toBeCloseTo(3.5 / 1.349, 14);
    const c = fitControlScaler(x, 1, range(8), true);
    expect(c.scale[0]).toBeCloseTo(3.5 * 1.349, 14);
    // ratio std(z)/std(x) = 1/(scale + 1e-8) < 2 → ±5
    expect(s.stdRatio).toBeCloseTo(1 / (s.scale[0] + 1e-8), 12);
    expect(s.clip).toBe(5);
    expect(scaleControl(s, 0, 6)).toBeCloseTo(2 / (3.5 / 1.349 + 1e-8), 12);
    expect(scaleControl(s, 0, 1000)).toBe(5);
    expect(scaleControl(s, 0, -1000)).toBe(-5);
  });

  test('only the listed cells are used', () => {
    const x = [1, 2, 3, 1000, 4];
    const s = fitControlScaler(x, 1, [0, 1, 2, 4], false);
    expect(s.median).toEqual([2]);
  });

  test('std(z)/std(x) > 2 switches to ±3.5', () => {
    // spread ~0.1: scale ≈ 0.074, ratio ≈ 13.5
    const x = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 5];
    const s = fitControlScaler(x, 1, range(8), false);
    expect(s.stdRatio).toBeGreaterThan(2);
    expect(s.clip).toBe(3.5);
    expect(scaleControl(s, 0, 5)).toBe(3.5);
  });

  test('the ratio pools every control (one number for the block, not one per control)', () => {
    // control 0 in the hundreds, control 1 with a tiny spread: per control, 1 would ask for ±3.5
    const K = 2;
    const n = 40;
    const x = new Float64Array(n * K);
    for (let i = 0; i < n; i++) {
      x[i * K] = 100 * i;
      x[i * K + 1] = 0.01 * i;
    }
    const s = fitControlScaler(x, K, range(n), false);
    const own = fitControlScaler(
      Float64Array.from(range(n), (i) => 0.01 * i),
      1,
      range(n),
      false,
    );
    expect(own.clip).toBe(3.5);
    const z: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < K; k++) z.push((x[i * K + k] - s.median[k]) / (s.scale[k] + 1e-8));
    }
    expect(s.stdRatio).toBeCloseTo(stdDev(z) / stdDev(x), 12);
    expect(s.stdRatio).toBeLessThan(2);
    expect(s.clip).toBe(5);
    // a block of new weeks is judged the same way
    expect(controlClipForBlock(s, x, K, range(n))).toEqual({ clip: 5, stdRatio: s.stdRatio });
  });
});

describe('target scaler', () => {
  test('ȳ_r over observed training weeks; ỹ = y/ȳ; inverse clamps at 0', () => {
    // 2 regions × 4 weeks, training = first 3; region 1 misses week 0
    const y = [10, 20, 30, 1000, 0, 4, 8, 99];
    const obs = [1, 1, 1, 1, 0, 1, 1, 1];
    const s = fitTargetScaler(y, obs, 2, 4, 3, false);
    expect(s.yMean).toEqual([20, 6]);
    expect(scaleTarget(s, 0, 30)).toBe(1.5);
    expect(scaleTarget(s, 1, 3)).toBe(0.5);
    expect(inverseTarget(s, 1, 0.5)).toBe(3);
    expect(inverseTarget(s, 0, -0.2)).toBe(0);
    const c = fitTargetScaler(y, obs, 2, 4, 3, true);
    expect(scaleTarget(c, 0, 30)).toBe(30 / (20 + 1e-8));
  });

  test('scalers are plain JSON', () => {
    const s = fitControlScaler([3, 1, 2, 5], 1, range(4), false);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});

describe('media scaled per region and channel (the default)', () => {
  // 2 regions × 3 weeks × 2 channels; week 2 is a holdout week (not in the training cells)
  const media = Float64Array.from([
    // region 0: channel a 2, 4, 100; channel b 0 throughout
    2, 0, 4, 0, 100, 0,
    // region 1: channel a 10, 30, 0; channel b 1, 3, 0
    10, 1, 30, 3, 0, 0,
  ]);
  const train = [0, 1, 3, 4]; // cells r·W + w of the training weeks
  const s = fitMediaScaler(media, 2, 3, 2, train);

  test('divisor = the region’s training mean / MEDIA_MEAN_LEVEL; training inputs average 1/4', () => {
    expect(MEDIA_MEAN_LEVEL).toBe(0.25);
    expect(s.divisor![0][0]).toBeCloseTo(3 / 0.25, 12);
    expect(s.divisor![1][0]).toBeCloseTo(20 / 0.25, 12);
    expect(s.divisor![1][1]).toBeCloseTo(2 / 0.25, 12);
    const out = new Float64Array(2);
    scaleMedia(s, 1, media, (1 * 3 + 0) * 2, 2, out, 0); // region 1, week 0
    expect(Array.from(out)).toEqual([10 / 80, 1 / 8]);
  });

  test('a region that never ran a channel in training takes the channel’s mean divisor', () => {
    // region 0 has no channel b: it gets region 1's (the only one that ran it)
    expect(s.divisor![0][1]).toBeCloseTo(s.divisor![1][1], 12);
  });

  test('channels in different units are each scaled on their own; weeks keep their scale', () => {
    const out = new Float64Array(2);
    scaleMedia(s, 0, media, (0 * 3 + 2) * 2, 2, out, 0); // region 0, week 2 (a holdout surge)
    expect(out[0]).toBeCloseTo(100 / 12, 12);
    expect(neutralMedia(s, 2)).toBe(0);
    expect(neutralMedia({ scaling: 'shareOfVoice' }, 4)).toBe(0.25);
  });

  test('share of voice when asked for (and as the reference does)', () => {
    const out = new Float64Array(2);
    scaleMedia({ scaling: 'shareOfVoice' }, 1, media, (1 * 3 + 0) * 2, 2, out, 0);
    expect(out[0]).toBeCloseTo(10 / 11, 6);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});
