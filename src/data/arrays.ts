/**
 * In-memory arrays → Panel (model-spec §1 data contract). Accepts nested arrays (media [R][W][C],
 * controls [R][W][K], target [R][W]) or flat typed arrays with `dims`; every shape is checked and a
 * mismatch names the array and the index at fault. Values are copied as given; only cells marked
 * unobserved are set to 0 (the Panel contract), since they are not data.
 */
import { DataError } from './errors.js';
import type { Panel } from './panel.js';

type Flat = Float64Array | Float32Array | number[];
type Nested3 = ArrayLike<ArrayLike<ArrayLike<number>>>;
type Nested2 = ArrayLike<ArrayLike<number>>;

export interface ArrayPanelInput {
  /** [R][W][C] nested, or flat row-major with `dims` */
  media: Nested3 | Flat;
  /** [R][W][K] nested, or flat with `dims`; omit for no controls */
  controls?: Nested3 | Flat;
  /** [R][W] nested, or flat with `dims` */
  target: Nested2 | Flat;
  /** required when any array is flat */
  dims?: { R: number; W: number; C: number; K?: number };
  regions?: (string | number)[];
  weeks?: (number | string)[];
  channels?: string[];
  controlNames?: string[];
  /** [R][W] or flat [R*W]: 1/true where the region has that week (default: all observed) */
  observed?: ArrayLike<ArrayLike<number | boolean>> | Uint8Array | (number | boolean)[];
}

const isFlat = (a: unknown): a is Flat =>
  a instanceof Float64Array ||
  a instanceof Float32Array ||
  (Array.isArray(a) && (a.length === 0 || typeof a[0] === 'number'));

/** Builds a Panel from arrays, checking every shape. */
export function panelFromArrays(input: ArrayPanelInput): Panel {
  const { R, W, C, K } = inferDims(input);
  const media = toFlat3('media', input.media, R, W, C);
  const controls =
    input.controls === undefined
      ? new Float64Array(0)
      : toFlat3('controls', input.controls, R, W, K);
  const target = toFlat2('target', input.target, R, W);
  const observed = toObserved(input.observed, R, W);

  const regions = names('regions', input.regions?.map(String), R, (i) => String(i));
  const weeks = input.weeks ?? Array.from({ length: W }, (_, i) => i);
  if (weeks.length !== W) {
    throw new DataError(`weeks has ${weeks.length} entries, the arrays have ${W} weeks`);
  }
  const channels = names('channels', input.channels, C, (i) => `channel_${i + 1}`);
  const controlNames = names('controlNames', input.controlNames, K, (i) => `control_${i + 1}`);

  for (let cell = 0; cell < R * W; cell++) {
    if (observed[cell]) continue;
    target[cell] = 0;
    media.fill(0, cell * C, (cell + 1) * C);
    controls.fill(0, cell * K, (cell + 1) * K);
  }
  return { regions, weeks: [...weeks], channels, controlNames, media, controls, target, observed };
}

function inferDims(input: ArrayPanelInput): { R: number; W: number; C: number; K: number } {
  if (input.dims !== undefined) {
    const { R, W, C } = input.dims;
    const K = input.dims.K ?? 0;
    for (const [n, v] of [
      ['R', R],
      ['W', W],
      ['C', C],
      ['K', K],
    ] as const) {
      if (!Number.isInteger(v) || v < 0)
        throw new DataError(`dims.${n} must be an integer ≥ 0, got ${v}`);
    }
    if (input.controls !== undefined && input.dims.K === undefined && !isFlat(input.controls)) {
      return { R, W, C, K: nestedInner(input.controls) };
    }
    return { R, W, C, K };
  }
  if (isFlat(input.media) || isFlat(input.target) || (input.controls && isFlat(input.controls))) {
    throw new DataError('flat arrays need dims: { R, W, C, K }');
  }
  const media = input.media as Nested3;
  const R = media.length;
  const W = R > 0 ? media[0].length : 0;
  const C = R > 0 && W > 0 ? media[0][0].length : 0;
  const K = input.controls === undefined ? 0 : nestedInner(input.controls as Nested3);
  return { R, W, C, K };
}

const nestedInner = (a: Nested3): number => (a.length > 0 && a[0].length > 0 ? a[0][0].length : 0);

function toFlat3(name: string, a: Nested3 | Flat, R: number, W: number, X: number): Float64Array {
  const what = name === 'media' ? 'channels' : 'controls';
  if (isFlat(a)) {
    if (a.length !== R * W * X) {
      throw new DataError(
        `${name} has ${a.length} values, expected R·W·${name === 'media' ? 'C' : 'K'} = ` +
          `${R}·${W}·${X} = ${R * W * X}`,
      );
    }
    return Float64Array.from(a);
  }
  if (a.length !== R) throw new DataError(`${name} has ${a.length} regions, expected ${R}`);
  const out = new Float64Array(R * W * X);
  for (let r = 0; r < R; r++) {
    const rows = a[r];
    if (rows.length !== W) {
      throw new DataError(`${name}[${r}] has ${rows.length} weeks, expected ${W}`);
    }
    for (let w = 0; w < W; w++) {
      const v = rows[w];
      if (v.length !== X) {
        throw new DataError(`${name}[${r}][${w}] has ${v.length} ${what}, expected ${X}`);
      }
      for (let x = 0; x < X; x++) out[(r * W + w) * X + x] = v[x];
    }
  }
  return out;
}

function toFlat2(name: string, a: Nested2 | Flat, R: number, W: number): Float64Array {
  if (isFlat(a)) {
    if (a.length !== R * W) {
      throw new DataError(`${name} has ${a.length} values, expected R·W = ${R}·${W} = ${R * W}`);
    }
    return Float64Array.from(a);
  }
  if (a.length !== R) throw new DataError(`${name} has ${a.length} regions, expected ${R}`);
  const out = new Float64Array(R * W);
  for (let r = 0; r < R; r++) {
    if (a[r].length !== W) {
      throw new DataError(`${name}[${r}] has ${a[r].length} weeks, expected ${W}`);
    }
    for (let w = 0; w < W; w++) out[r * W + w] = a[r][w];
  }
  return out;
}

function toObserved(o: ArrayPanelInput['observed'], R: number, W: number): Uint8Array {
  const out = new Uint8Array(R * W);
  if (o === undefined) return out.fill(1);
  const flat = o instanceof Uint8Array || (o.length > 0 && typeof o[0] !== 'object');
  if (flat) {
    if (o.length !== R * W) {
      throw new DataError(`observed has ${o.length} values, expected R·W = ${R * W}`);
    }
    for (let i = 0; i < R * W; i++) out[i] = (o as ArrayLike<number | boolean>)[i] ? 1 : 0;
    return out;
  }
  const nested = o as ArrayLike<ArrayLike<number | boolean>>;
  if (nested.length !== R)
    throw new DataError(`observed has ${nested.length} regions, expected ${R}`);
  for (let r = 0; r < R; r++) {
    if (nested[r].length !== W) {
      throw new DataError(`observed[${r}] has ${nested[r].length} weeks, expected ${W}`);
    }
    for (let w = 0; w < W; w++) out[r * W + w] = nested[r][w] ? 1 : 0;
  }
  return out;
}

function names(
  what: string,
  given: string[] | undefined,
  n: number,
  fallback: (i: number) => string,
): string[] {
  const out = given ?? Array.from({ length: n }, (_, i) => fallback(i));
  if (out.length !== n)
    throw new DataError(`${what} has ${out.length} names, the arrays have ${n}`);
  const dup = out.find((s, i) => out.indexOf(s) !== i);
  if (dup !== undefined) throw new DataError(`${what}: name '${dup}' appears more than once`);
  return [...out];
}
