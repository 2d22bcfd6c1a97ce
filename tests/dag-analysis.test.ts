/** DAG analysis on hand-made matrices: thresholding, edge lists, CSV/JSON, acyclicity. */
import {
  adjacencyToCsv,
  adjacencyToJson,
  dagEdges,
  isAcyclic,
  thresholdDag,
  topologicalOrder,
} from '../src/analysis/dag-analysis.js';
import { DataError } from '../src/data/errors.js';

const channels = ['tv', 'search', 'social'];
// triangular (upper) matrix: acyclic by construction
const tri = [
  [0, 0.8, 0.2],
  [0, 0, 0.45],
  [0, 0, 0],
];
// a NOTEARS-style full matrix with a cycle search → social → tv → search above 0.3
const cyclic = [
  [0, 0.7, 0.1],
  [0.05, 0, 0.9],
  [0.35, 0.2, 0],
];

describe('thresholdDag', () => {
  test('zeroes entries with |w| below eps (default 0.3), keeps the rest, copies', () => {
    expect(thresholdDag(tri)).toEqual([
      [0, 0.8, 0],
      [0, 0, 0.45],
      [0, 0, 0],
    ]);
    expect(thresholdDag(cyclic, 0.5)).toEqual([
      [0, 0.7, 0],
      [0, 0, 0.9],
      [0, 0, 0],
    ]);
    // exactly eps is kept (|w| < eps is the rule); negative weights by magnitude
    expect(
      thresholdDag(
        [
          [0, -0.3],
          [0.29, 0],
        ],
        0.3,
      ),
    ).toEqual([
      [0, -0.3],
      [0, 0],
    ]);
    const copy = thresholdDag(tri, 0);
    copy[0][1] = 5;
    expect(tri[0][1]).toBe(0.8);
  });

  test('bad matrices and eps are DataErrors naming the fault', () => {
    expect(() => thresholdDag([[0, 1], [1]])).toThrow(/row 1 has 1 entries, expected 2/);
    expect(() =>
      thresholdDag([
        [0, NaN],
        [0, 0],
      ]),
    ).toThrow(/adjacency\[0\]\[1\] is NaN/);
    expect(() => thresholdDag(tri, -1)).toThrow(DataError);
    expect(() => thresholdDag(tri, NaN)).toThrow(/eps must be a finite number/);
  });
});

describe('dagEdges', () => {
  test('non-zero off-diagonal edges, strongest first, with names and indices', () => {
    expect(dagEdges(tri, channels)).toEqual([
      { from: 'tv', to: 'search', i: 0, j: 1, weight: 0.8 },
      { from: 'search', to: 'social', i: 1, j: 2, weight: 0.45 },
      { from: 'tv', to: 'social', i: 0, j: 2, weight: 0.2 },
    ]);
    expect(dagEdges(cyclic, channels, 0.3).map((e) => `${e.from}>${e.to}`)).toEqual([
      'search>social',
      'tv>search',
      'social>tv',
    ]);
    // ties by source then target index; the diagonal never is an edge
    expect(
      dagEdges(
        [
          [9, 0.5],
          [0.5, 0],
        ],
        ['a', 'b'],
      ).map((e) => [e.i, e.j]),
    ).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  test('channel names must match the matrix size', () => {
    expect(() => dagEdges(tri, ['a', 'b'])).toThrow(/2 channel names given for a 3×3/);
  });
});

describe('export', () => {
  test('CSV: header of target channels, one row per cause', () => {
    expect(adjacencyToCsv(tri, channels)).toBe(
      'from,to:tv,to:search,to:social\ntv,0,0.8,0.2\nsearch,0,0,0.45\nsocial,0,0,0\n',
    );
  });

  test('JSON: matrix, edges, acyclicity; threshold applied when given', () => {
    const j = adjacencyToJson(cyclic, channels);
    expect(j.acyclic).toBe(false);
    expect(j.edges).toHaveLength(6);
    expect(j.threshold).toBeUndefined();
    const t = adjacencyToJson(cyclic, channels, 0.5);
    expect(t).toEqual({
      channels,
      adjacency: thresholdDag(cyclic, 0.5),
      edges: [
        { from: 'search', to: 'social', weight: 0.9 },
        { from: 'tv', to: 'search', weight: 0.7 },
      ],
      acyclic: true,
      threshold: 0.5,
    });
    expect(JSON.parse(JSON.stringify(t))).toEqual(t);
  });
});

describe('isAcyclic', () => {
  test('triangular matrices are acyclic; their order follows the channels', () => {
    expect(isAcyclic(tri)).toBe(true);
    expect(topologicalOrder(tri)).toEqual([0, 1, 2]);
    // a lower-triangular graph is acyclic too, in reverse order
    const lower = tri.map((_, i) => tri.map((row) => row[i]));
    expect(topologicalOrder(lower)).toEqual([2, 1, 0]);
  });

  test('a NOTEARS graph with a cycle is not, until the threshold breaks the cycle', () => {
    expect(isAcyclic(cyclic)).toBe(false);
    expect(isAcyclic(thresholdDag(cyclic, 0.3))).toBe(false); // 0.7, 0.9, 0.35 form a loop
    expect(isAcyclic(thresholdDag(cyclic, 0.4))).toBe(true);
    expect(topologicalOrder(thresholdDag(cyclic, 0.4))).toEqual([0, 1, 2]);
  });

  test('two-node cycle and self-loop are cycles; empty graph is acyclic', () => {
    expect(
      isAcyclic([
        [0, 1],
        [1, 0],
      ]),
    ).toBe(false);
    expect(
      isAcyclic([
        [0.5, 0],
        [0, 0],
      ]),
    ).toBe(false);
    expect(
      isAcyclic([
        [0, 0],
        [0, 0],
      ]),
    ).toBe(true);
    expect(isAcyclic([])).toBe(true);
  });
});
