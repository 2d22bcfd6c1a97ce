import { readFileSync } from 'node:fs';
import { DataError } from '../src/data/errors.js';
import {
  evaluationReport,
  type EvaluationInput,
  formatEvaluationReport,
  formatQuantity,
  quantileSorted,
  regressionMetrics,
} from '../src/analysis/metrics.js';

const f64 = (v: number[]) => Float64Array.from(v);

describe('regressionMetrics', () => {
  test('perfect prediction: R² 1, every error 0', () => {
    const y = f64([3, 1, 4, 1, 5]);
    const m = regressionMetrics(y, y);
    expect(m).toEqual({ n: 5, r2: 1, rmse: 0, mae: 0, medianAe: 0, trimmedRmse: 0 });
  });

  test('predicting the mean gives R² 0', () => {
    const y = f64([2, 4, 6, 8]);
    expect(regressionMetrics(y, f64([5, 5, 5, 5])).r2).toBe(0);
  });

  test('hand-computed values on four cells', () => {
    // errors 0, 0, 0, 2; mean 2.5, SST 5, SSE 4
    const m = regressionMetrics(f64([1, 2, 3, 4]), f64([1, 2, 3, 6]));
    expect(m.n).toBe(4);
    expect(m.r2).toBeCloseTo(1 - 4 / 5, 14);
    expect(m.rmse).toBeCloseTo(1, 14);
    expect(m.mae).toBeCloseTo(0.5, 14);
    expect(m.medianAe).toBe(0); // even count: mean of the two middle |errors| (0, 0)
  });

  test('median AE on odd and even counts', () => {
    expect(regressionMetrics(f64([0, 0, 0]), f64([3, -1, 2])).medianAe).toBe(2);
    expect(regressionMetrics(f64([0, 0, 0, 0]), f64([3, -1, 2, 10])).medianAe).toBe(2.5);
  });

  test('trimmed RMSE drops errors above the 95th percentile of |error|', () => {
    // |errors| 1..20: 95th percentile = 19 + 0.05 · (20 − 19) = 19.05 → keeps 1..19
    const n = 20;
    const actual = new Float64Array(n);
    const predicted = Float64Array.from({ length: n }, (_, i) => (i % 2 ? i + 1 : -(i + 1)));
    const m = regressionMetrics(actual, predicted);
    const sumSq19 = (19 * 20 * 39) / 6;
    expect(m.trimmedRmse).toBeCloseTo(Math.sqrt(sumSq19 / 19), 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt((sumSq19 + 400) / 20), 12);
    expect(m.trimmedRmse).toBeLessThan(m.rmse);
  });

  test('mask selects cells; masked-out values (even NaN) are ignored', () => {
    const m = regressionMetrics(
      f64([1, NaN, 3, 100]),
      f64([1, 5, 3, -7]),
      Uint8Array.from([1, 0, 1, 0]),
    );
    expect(m.n).toBe(2);
    expect(m.rmse).toBe(0);
    expect(m.r2).toBe(1);
  });

  test('empty selection → n 0 and NaN; constant actuals → R² NaN', () => {
    const e = regressionMetrics(f64([1, 2]), f64([1, 2]), Uint8Array.from([0, 0]));
    expect(e.n).toBe(0);
    expect(e.r2).toBeNaN();
    expect(e.rmse).toBeNaN();
    expect(e.medianAe).toBeNaN();
    expect(regressionMetrics(f64([2, 2]), f64([1, 3])).r2).toBeNaN();
  });

  test('bad input: lengths and non-finite values', () => {
    expect(() => regressionMetrics(f64([1, 2]), f64([1]))).toThrow(DataError);
    expect(() => regressionMetrics(f64([1, 2]), f64([1]))).toThrow(/predicted has 1 values/);
    expect(() => regressionMetrics(f64([1, 2]), f64([1, 2]), Uint8Array.from([1]))).toThrow(
      /mask has 1 values; expected 2/,
    );
    expect(() => regressionMetrics(f64([1, 2]), f64([1, Infinity]))).toThrow(
      /predicted\[1\] = Infinity is not finite/,
    );
    expect(() => regressionMetrics(f64([NaN, 2]), f64([1, 2]))).toThrow(
      /actual\[0\] = NaN is not finite/,
    );
  });

  test('quantileSorted interpolates linearly', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([10, 20], 0.95)).toBeCloseTo(19.5, 12);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });
});

// Two regions × 4 weeks, 2 training weeks; region b misses week 3.
function smallInput(): EvaluationInput {
  return {
    regions: ['a', 'b'],
    actual: f64([10, 20, 30, 40, 100, 200, 300, 0]),
    predicted: f64([10, 20, 25, 45, 110, 190, 290, 999]),
    observed: Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 0]),
    wTrain: 2,
    yMean: f64([15, 150]),
    burnInWeeks: 1,
    recentWeeks: 1,
  };
}

describe('evaluationReport', () => {
  test('hand-computed train and holdout blocks', () => {
    const rep = evaluationReport(smallInput());
    expect(rep.weeksTrain).toBe(2);
    expect(rep.weeksHoldout).toBe(2);
    // train cells (10,10) (20,20) (100,110) (200,190): SSE 200, mean 82.5, SST 23275
    expect(rep.train.n).toBe(4);
    expect(rep.train.rmse).toBeCloseTo(Math.sqrt(50), 12);
    expect(rep.train.r2).toBeCloseTo(1 - 200 / 23275, 12);
    // holdout cells (30,25) (40,45) (300,290); region b's week 3 is unobserved
    const h = rep.holdout;
    expect(h.n).toBe(3);
    expect(h.rmse).toBeCloseTo(Math.sqrt(150 / 3), 12);
    expect(h.mae).toBeCloseTo(20 / 3, 12);
    expect(h.medianAe).toBe(5);
    const mean = 370 / 3;
    const sst = (30 - mean) ** 2 + (40 - mean) ** 2 + (300 - mean) ** 2;
    expect(h.r2).toBeCloseTo(1 - 150 / sst, 12);
    // scaled: a by 15, b by 150
    const as = [2, 40 / 15, 2];
    const ps = [25 / 15, 3, 290 / 150];
    const ms = (as[0] + as[1] + as[2]) / 3;
    const sseS = as.reduce((s, a, i) => s + (a - ps[i]) ** 2, 0);
    const sstS = as.reduce((s, a) => s + (a - ms) ** 2, 0);
    expect(h.r2Scaled).toBeCloseTo(1 - sseS / sstS, 12);
    // per region: a has SST 50, SSE 50 → 0; b has one cell → undefined
    expect(h.perRegionR2[0]).toBeCloseTo(0, 12);
    expect(h.perRegionR2[1]).toBeNaN();
    expect(h.perRegionR2Median).toBeCloseTo(0, 12);
  });

  test('paper-style R² counts B zero-target padding weeks per region', () => {
    // holdout + 2 padding cells: actual [30, 40, 300, 0, 0], mean 74, SST 65120
    const rep = evaluationReport(smallInput());
    expect(rep.paddingPredictions).toEqual({ train: 'zero', holdout: 'zero' });
    expect(rep.holdout.paperStyleR2).toBeCloseTo(1 - 150 / 65120, 12);
    expect(rep.holdout.paperStyleRmse).toBeCloseTo(Math.sqrt(150 / 5), 12);
    const withPad = evaluationReport({
      ...smallInput(),
      paddingPredicted: { holdout: f64([3, 4]) },
    });
    expect(withPad.paddingPredictions.holdout).toBe('model');
    expect(withPad.holdout.paperStyleR2).toBeCloseTo(1 - (150 + 9 + 16) / 65120, 12);
    // without padding (B = 0) it is the pooled R²
    const noPad = evaluationReport({ ...smallInput(), burnInWeeks: 0 });
    expect(noPad.holdout.paperStyleR2).toBeCloseTo(noPad.holdout.r2, 14);
  });

  test('naive forecasts: training mean and recent mean', () => {
    const rep = evaluationReport(smallInput());
    // training mean: a 15, b 150 → errors 15, 25, 150
    expect(rep.naive.trainingMean.rmse).toBeCloseTo(Math.sqrt((225 + 625 + 22500) / 3), 12);
    // last 1 training week: a 20, b 200 → errors 10, 20, 100
    expect(rep.naive.recentMean.rmse).toBeCloseTo(Math.sqrt((100 + 400 + 10000) / 3), 12);
    expect(rep.naive.recentWeeks).toBe(1);
    // the naive blocks count padding with prediction 0 even when the model's are given
    const withPad = evaluationReport({
      ...smallInput(),
      paddingPredicted: { holdout: f64([3, 4]) },
    });
    expect(withPad.naive.recentMean.paperStyleR2).toBe(rep.naive.recentMean.paperStyleR2);
  });

  test('a model that predicts the training mean scores exactly like naive (a)', () => {
    const inp = smallInput();
    const predicted = f64([15, 15, 15, 15, 150, 150, 150, 150]);
    const rep = evaluationReport({ ...inp, predicted });
    const { perRegionR2: p1, ...model } = rep.holdout;
    const { perRegionR2: p2, ...naive } = rep.naive.trainingMean;
    expect(model).toEqual(naive);
    expect(Array.from(p1)).toEqual(Array.from(p2));
  });

  test('bad input names the array, shape or region at fault', () => {
    const bad = (patch: Partial<EvaluationInput>) => () =>
      evaluationReport({ ...smallInput(), ...patch });
    expect(bad({ regions: [] })).toThrow(/regions is empty/);
    expect(bad({ actual: f64([1, 2, 3]) })).toThrow(/not a multiple of the 2 regions/);
    expect(bad({ predicted: f64([1]) })).toThrow(
      /predicted has 1 values; expected 8 \(shape \[2, 4\]\)/,
    );
    expect(bad({ observed: new Uint8Array(7) })).toThrow(/observed has 7 values/);
    expect(bad({ yMean: f64([1]) })).toThrow(/yMean has 1 values; expected 2/);
    expect(bad({ wTrain: 0 })).toThrow(/wTrain = 0 must be an integer in \[1, 4\]/);
    expect(bad({ wTrain: 5 })).toThrow(/wTrain = 5/);
    expect(bad({ burnInWeeks: -1 })).toThrow(/burnInWeeks = -1/);
    expect(bad({ recentWeeks: 0 })).toThrow(/recentWeeks = 0/);
    expect(bad({ paddingPredicted: { train: f64([1]) } })).toThrow(
      /paddingPredicted.train has 1 values; expected 2/,
    );
    expect(bad({ paddingPredicted: { holdout: f64([1, 2, 3]) } })).toThrow(
      /paddingPredicted.holdout has 3 values/,
    );
    expect(bad({ yMean: f64([15, 0]) })).toThrow(/yMean of region 'b' is 0/);
    expect(bad({ observed: Uint8Array.from([1, 1, 1, 1, 0, 0, 1, 1]) })).toThrow(
      /region 'b' has no observed training week/,
    );
    expect(bad({ actual: f64([10, 20, NaN, 40, 100, 200, 300, 0]) })).toThrow(
      /actual is not finite at region 'a', week 2/,
    );
    expect(bad({ predicted: f64([10, 20, 25, 45, 110, NaN, 290, 0]) })).toThrow(
      /prediction is not finite at region 'b', week 1/,
    );
    expect(bad({ wTrain: 0 })).toThrow(DataError);
  });
});

// The real benchmark, read with a minimal CSV split (numeric, no quoting).
function loadRealPanel(): EvaluationInput {
  const text = readFileSync('data/mmm-data-real/MMM_Data.csv', 'utf8');
  const lines = text.trim().split(/\r?\n/);
  const header = lines[0].split(',');
  const iRegion = header.indexOf('dmacode');
  const iWeek = header.indexOf('weekid');
  const iY = header.indexOf('target_visits');
  const W = 109;
  const index = new Map<string, number>();
  const rows = lines.slice(1).map((l) => l.split(','));
  for (const c of rows) if (!index.has(c[iRegion])) index.set(c[iRegion], index.size);
  const R = index.size;
  const actual = new Float64Array(R * W);
  const observed = new Uint8Array(R * W);
  for (const c of rows) {
    const i = index.get(c[iRegion])! * W + Number(c[iWeek]);
    actual[i] = Number(c[iY]);
    observed[i] = 1;
  }
  const wTrain = 96;
  const yMean = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let s = 0;
    let n = 0;
    for (let w = 0; w < wTrain; w++)
      if (observed[r * W + w]) {
        s += actual[r * W + w];
        n++;
      }
    yMean[r] = s / n;
  }
  return { regions: [...index.keys()], actual, predicted: actual, observed, wTrain, yMean };
}

describe('naive baselines on MMM_Data.csv (data/README.md figures)', () => {
  const inp = loadRealPanel();
  const rep = evaluationReport(inp);

  test('panel shape: 190 regions, 2431 observed holdout region-weeks', () => {
    expect(inp.regions.length).toBe(190);
    expect(rep.weeksHoldout).toBe(13);
    expect(rep.holdout.n).toBe(2431);
  });

  test("naive (b): each region's last 13 training weeks → 155 k, 0.990, −0.08", () => {
    const m = rep.naive.recentMean;
    expect(formatQuantity(m.rmse)).toBe('155 k');
    expect(m.r2.toFixed(3)).toBe('0.990');
    expect(m.r2Scaled.toFixed(2)).toBe('-0.08');
  });

  test("naive (a): each region's training mean → 237 k, 0.977, −1.29", () => {
    const m = rep.naive.trainingMean;
    expect(formatQuantity(m.rmse)).toBe('237 k');
    expect(m.r2.toFixed(3)).toBe('0.977');
    expect(m.r2Scaled.toFixed(2)).toBe('-1.29');
  });

  test('the text report prints model and naive rows side by side', () => {
    const text = formatEvaluationReport(rep);
    const row = (name: string) => text.split('\n').find((l) => l.startsWith(name))!;
    expect(row('naive: last 13 training weeks')).toMatch(/155 k\s+0\.990\s+-0\.077\s+0\.9\d\d/);
    expect(row('naive: training mean')).toMatch(/237 k\s+0\.977\s+-1\.287/);
    expect(row('model')).toMatch(/0\s+1\.000\s+1\.000\s+1\.000/);
    expect(text).toMatch(/^train\s+17939\s+1\.000/m);
    expect(text).toContain('6 zero-target padding weeks per region counted');
  });
});

describe('formatQuantity', () => {
  test('k and M suffixes', () => {
    expect(formatQuantity(155338.1)).toBe('155 k');
    expect(formatQuantity(5.1e6)).toBe('5.10 M');
    expect(formatQuantity(-2345)).toBe('-2.3 k');
    expect(formatQuantity(12.34)).toBe('12.3');
    expect(formatQuantity(0.01234)).toBe('0.0123');
    expect(formatQuantity(NaN)).toBe('—');
  });
});
