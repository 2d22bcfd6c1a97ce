import { panelFromArrays } from '../src/data/arrays.js';
import { validatePanel, splitWeeks } from '../src/data/validate.js';
import { DataError } from '../src/data/errors.js';
import type { Panel } from '../src/data/panel.js';

/** R regions × W weeks × 2 channels × 1 control, all valid, target > 0, control varying. */
function good(R = 2, W = 10): Panel {
  return panelFromArrays({
    media: Array.from({ length: R }, () => Array.from({ length: W }, (_, w) => [w, 1])),
    controls: Array.from({ length: R }, () => Array.from({ length: W }, (_, w) => [w * 0.5])),
    target: Array.from({ length: R }, (_, r) => Array.from({ length: W }, (_, w) => 10 + r + w)),
    channels: ['tv', 'radio'],
    controlNames: ['price'],
    regions: Array.from({ length: R }, (_, r) => `r${r}`),
  });
}

const split = { holdoutRatio: 0.2, minTrainWeeks: 5 };

describe('panelFromArrays', () => {
  test('nested arrays become flat row-major arrays; names default', () => {
    const p = panelFromArrays({
      media: [
        [
          [1, 2],
          [3, 4],
        ],
      ],
      target: [[5, 6]],
    });
    expect(Array.from(p.media)).toEqual([1, 2, 3, 4]);
    expect(Array.from(p.target)).toEqual([5, 6]);
    expect(p.controls.length).toBe(0);
    expect(p.regions).toEqual(['0']);
    expect(p.weeks).toEqual([0, 1]);
    expect(p.channels).toEqual(['channel_1', 'channel_2']);
    expect(Array.from(p.observed)).toEqual([1, 1]);
  });

  test('flat typed arrays with dims; unobserved cells are zeroed', () => {
    const p = panelFromArrays({
      media: new Float32Array([1, 2, 3, 4]),
      controls: new Float64Array([7, 8]),
      target: [5, 6],
      dims: { R: 1, W: 2, C: 2, K: 1 },
      observed: [[1, 0]],
    });
    expect(Array.from(p.media)).toEqual([1, 2, 0, 0]);
    expect(Array.from(p.controls)).toEqual([7, 0]);
    expect(Array.from(p.target)).toEqual([5, 0]);
    expect(Array.from(p.observed)).toEqual([1, 0]);
  });

  test('shape mismatches name the array and index', () => {
    const media = [
      [
        [1, 2],
        [3, 4],
      ],
      [[1, 2]],
    ];
    expect(() =>
      panelFromArrays({
        media,
        target: [
          [1, 2],
          [3, 4],
        ],
      }),
    ).toThrow(/media\[1\] has 1 weeks, expected 2/);
    expect(() => panelFromArrays({ media: [[[1, 2], [3]]], target: [[1, 2]] })).toThrow(
      /media\[0\]\[1\] has 1 channels, expected 2/,
    );
    expect(() =>
      panelFromArrays({ media: [[[1], [2]]], controls: [[[1], [2, 3]]], target: [[1, 2]] }),
    ).toThrow(/controls\[0\]\[1\] has 2 controls, expected 1/);
    expect(() => panelFromArrays({ media: [[[1], [2]]], target: [[1, 2, 3]] })).toThrow(
      /target\[0\] has 3 weeks, expected 2/,
    );
    expect(() =>
      panelFromArrays({
        media: [[[1], [2]]],
        target: [
          [1, 2],
          [3, 4],
        ],
      }),
    ).toThrow(/target has 2 regions, expected 1/);
    expect(() =>
      panelFromArrays({ media: new Float64Array(3), target: [1, 2], dims: { R: 1, W: 2, C: 2 } }),
    ).toThrow(/media has 3 values, expected R·W·C = 1·2·2 = 4/);
    expect(() => panelFromArrays({ media: new Float64Array(4), target: [1, 2] })).toThrow(
      /flat arrays need dims/,
    );
    expect(() =>
      panelFromArrays({ media: [[[1], [2]]], target: [[1, 2]], observed: [1, 1, 1] }),
    ).toThrow(/observed has 3 values, expected R·W = 2/);
    expect(() =>
      panelFromArrays({ media: [[[1], [2]]], target: [[1, 2]], channels: ['a', 'b'] }),
    ).toThrow(/channels has 2 names, the arrays have 1/);
    expect(() => panelFromArrays({ media: [[[1], [2]]], target: [[1, 2]], weeks: [0] })).toThrow(
      /weeks has 1 entries, the arrays have 2 weeks/,
    );
    expect(() =>
      panelFromArrays({
        media: [
          [
            [1, 1],
            [2, 2],
          ],
        ],
        target: [[1, 2]],
        channels: ['a', 'a'],
      }),
    ).toThrow(/channels: name 'a' appears more than once/);
    expect(() =>
      panelFromArrays({ media: new Float64Array(2), target: [1, 2], dims: { R: 1, W: 2, C: 1.5 } }),
    ).toThrow(/dims.C must be an integer/);
  });
});

describe('validatePanel', () => {
  test('a good panel passes and returns the split', () => {
    expect(validatePanel(good())).toBeNull();
    expect(validatePanel(good(), split)).toEqual({ wTrain: 8, wHoldout: 2 });
    expect(splitWeeks(109, 0.12)).toEqual({ wTrain: 96, wHoldout: 13 });
    expect(splitWeeks(52, 0.12)).toEqual({ wTrain: 46, wHoldout: 6 });
  });

  test('empty dimensions', () => {
    expect(() => validatePanel({ ...good(), regions: [], target: new Float64Array(0) })).toThrow(
      /no regions/,
    );
    expect(() => validatePanel({ ...good(), weeks: [] })).toThrow(/no weeks/);
    expect(() => validatePanel({ ...good(), channels: [], media: new Float64Array(0) })).toThrow(
      /no media channels/,
    );
  });

  test('mismatched shapes', () => {
    const p = good();
    expect(() => validatePanel({ ...p, target: p.target.subarray(1) })).toThrow(
      /target has 19 values, expected R·W = 2·10 = 20/,
    );
    expect(() => validatePanel({ ...p, media: p.media.subarray(2) })).toThrow(
      /media has 38 values, expected R·W·C = 2·10·2 = 40/,
    );
    expect(() => validatePanel({ ...p, controlNames: ['a', 'b'] })).toThrow(
      /controls has 20 values, expected R·W·K = 2·10·2 = 40/,
    );
    expect(() => validatePanel({ ...p, observed: p.observed.subarray(1) })).toThrow(
      /observed has 19 values/,
    );
  });

  test('duplicate names', () => {
    expect(() => validatePanel({ ...good(), regions: ['x', 'x'] })).toThrow(
      /region 'x' appears more than once/,
    );
    const weeks = [...good().weeks];
    weeks[3] = 2;
    expect(() => validatePanel({ ...good(), weeks })).toThrow(/week '2' appears more than once/);
    expect(() => validatePanel({ ...good(), channels: ['tv', 'tv'] })).toThrow(/channel 'tv'/);
  });

  test('NaN / Inf cells name region, week and column', () => {
    const p = good();
    p.target[13] = NaN;
    expect(() => validatePanel(p)).toThrow(/region 'r1', week 3: target is NaN/);
    const q = good();
    q.media[(0 * 10 + 4) * 2 + 1] = Infinity;
    expect(() => validatePanel(q)).toThrow(/region 'r0', week 4: media 'radio' is Infinity/);
    const c = good();
    c.controls[5] = -Infinity;
    expect(() => validatePanel(c)).toThrow(/region 'r0', week 5: control 'price' is -Infinity/);
  });

  test('unobserved cells are not inspected', () => {
    const p = good();
    p.target[13] = NaN;
    p.observed[13] = 0;
    expect(() => validatePanel(p)).not.toThrow();
  });

  test('negative media', () => {
    const p = good();
    p.media[(1 * 10 + 2) * 2] = -1;
    expect(() => validatePanel(p)).toThrow(/region 'r1', week 2: media 'tv' is negative \(-1\)/);
  });

  test('no observed cell at all', () => {
    const p = good();
    p.observed.fill(0);
    expect(() => validatePanel(p)).toThrow(/no observed region-week/);
  });

  test('split: holdout ratio range and minTrainWeeks', () => {
    expect(() => validatePanel(good(), { holdoutRatio: 1 })).toThrow(
      /holdoutRatio must be in \[0, 1\)/,
    );
    expect(() => validatePanel(good(), { holdoutRatio: 0.2, minTrainWeeks: 9 })).toThrow(
      /only 8 training weeks \(10 weeks, holdout 2 at ratio 0.2\); at least minTrainWeeks = 9/,
    );
  });

  test('a region with no observed training week is named', () => {
    const p = good();
    for (let w = 0; w < 8; w++) p.observed[10 + w] = 0;
    expect(() => validatePanel(p, split)).toThrow(/region 'r1' has no observed training week/);
  });

  test('a region whose training target mean is not positive is named', () => {
    const p = good();
    for (let w = 0; w < 10; w++) p.target[w] = 0;
    expect(() => validatePanel(p, split)).toThrow(/region 'r0': the target's training mean is 0/);
  });

  test('a control constant over the training weeks is named', () => {
    const p = good();
    for (let i = 0; i < 20; i++) p.controls[i] = i % 10 < 8 ? 3 : i; // varies only in the holdout
    expect(() => validatePanel(p, split)).toThrow(
      /control 'price' is constant \(3\) over the training weeks/,
    );
  });

  test('errors are DataErrors with the causalmix prefix', () => {
    const p = good();
    p.media[0] = -5;
    try {
      validatePanel(p);
      throw new Error('not thrown');
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      expect((e as Error).message.startsWith('causalmix: ')).toBe(true);
    }
  });
});
