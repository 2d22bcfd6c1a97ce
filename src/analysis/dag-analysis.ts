/**
 * The learned channel graph as data: thresholding (upstream's threshold_dag: entries with
 * |w| < eps become 0), a sorted edge list, CSV/JSON export and an acyclicity check. adjacency[i][j]
 * is the edge i → j (row = cause, column = effect), as FittedMMM.dagAdjacency() returns it.
 * The triangular mode is acyclic by construction; a NOTEARS graph is only pushed towards it.
 */
import { DataError } from '../data/errors.js';
import { rowsToCsv } from './table.js';

export interface DagEdge {
  from: string;
  to: string;
  /** indices into the channel list */
  i: number;
  j: number;
  weight: number;
}

/** Checks that `a` is a square matrix of finite numbers; returns its size. */
export function checkAdjacency(a: readonly (readonly number[])[], what = 'adjacency'): number {
  if (!Array.isArray(a)) throw new DataError(`${what} must be a square matrix (array of rows)`);
  const C = a.length;
  a.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== C)
      throw new DataError(`${what} row ${i} has ${row?.length} entries, expected ${C} (square)`);
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new DataError(`${what}[${i}][${j}] is ${String(v)}, not a finite number`);
    });
  });
  return C;
}

/** A copy with every entry of magnitude below `eps` set to 0 (default 0.3, as upstream). */
export function thresholdDag(adjacency: readonly (readonly number[])[], eps = 0.3): number[][] {
  checkAdjacency(adjacency);
  if (!(eps >= 0) || !Number.isFinite(eps))
    throw new DataError(`thresholdDag: eps must be a finite number ≥ 0, got ${eps}`);
  return adjacency.map((row) => row.map((v) => (Math.abs(v) < eps ? 0 : v)));
}

function checkNames(C: number, channels: readonly string[]): void {
  if (channels.length !== C)
    throw new DataError(
      `DAG: ${channels.length} channel names given for a ${C}×${C} adjacency matrix`,
    );
}

/**
 * Edges i → j (i ≠ j) with |weight| ≥ minWeight (default: every non-zero edge), strongest first;
 * ties by source, then target index.
 */
export function dagEdges(
  adjacency: readonly (readonly number[])[],
  channels: readonly string[],
  minWeight = 0,
): DagEdge[] {
  const C = checkAdjacency(adjacency);
  checkNames(C, channels);
  const edges: DagEdge[] = [];
  for (let i = 0; i < C; i++)
    for (let j = 0; j < C; j++) {
      const w = adjacency[i][j];
      if (i !== j && w !== 0 && Math.abs(w) >= minWeight)
        edges.push({ from: channels[i], to: channels[j], i, j, weight: w });
    }
  return edges.sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || a.i - b.i || a.j - b.j);
}

/** The matrix as CSV: a header row of channels, then one row per cause channel. */
export function adjacencyToCsv(
  adjacency: readonly (readonly number[])[],
  channels: readonly string[],
): string {
  const C = checkAdjacency(adjacency);
  checkNames(C, channels);
  const rows = adjacency.map((row, i) => ({
    from: channels[i],
    ...Object.fromEntries(channels.map((ch, j) => [`to:${ch}`, row[j]])),
  }));
  return rowsToCsv(rows, ['from', ...channels.map((ch) => `to:${ch}`)]);
}

export interface AdjacencyJson {
  channels: string[];
  /** adjacency[i][j]: edge i → j */
  adjacency: number[][];
  edges: { from: string; to: string; weight: number }[];
  acyclic: boolean;
  threshold?: number;
}

/** The graph as plain JSON (matrix, edge list, acyclicity); `threshold` is applied first if given. */
export function adjacencyToJson(
  adjacency: readonly (readonly number[])[],
  channels: readonly string[],
  threshold?: number,
): AdjacencyJson {
  const a =
    threshold === undefined ? adjacency.map((r) => [...r]) : thresholdDag(adjacency, threshold);
  return {
    channels: [...channels],
    adjacency: a,
    edges: dagEdges(a, channels).map(({ from, to, weight }) => ({ from, to, weight })),
    acyclic: isAcyclic(a),
    ...(threshold === undefined ? {} : { threshold }),
  };
}

/**
 * A topological order of the graph whose edges are the non-zero entries (self-loops count as
 * cycles), or null when it has a cycle (Kahn's algorithm).
 */
export function topologicalOrder(adjacency: readonly (readonly number[])[]): number[] | null {
  const C = checkAdjacency(adjacency);
  const indegree = new Array<number>(C).fill(0);
  for (let i = 0; i < C; i++) for (let j = 0; j < C; j++) if (adjacency[i][j] !== 0) indegree[j]++;
  const queue: number[] = [];
  for (let j = 0; j < C; j++) if (indegree[j] === 0) queue.push(j);
  const order: number[] = [];
  while (queue.length > 0) {
    const i = queue.shift()!;
    order.push(i);
    for (let j = 0; j < C; j++) if (adjacency[i][j] !== 0 && --indegree[j] === 0) queue.push(j);
  }
  return order.length === C ? order : null;
}

/** True when the non-zero entries form a directed acyclic graph. */
export function isAcyclic(adjacency: readonly (readonly number[])[]): boolean {
  return topologicalOrder(adjacency) !== null;
}
