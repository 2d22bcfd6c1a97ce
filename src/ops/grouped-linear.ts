/**
 * Grouped linear layer (shaders/grouped-linear.wgsl): G ≤ 4 independent layers
 * y_g = act(x_g·W_gᵀ + b_g) side by side in one dispatch forward, one for dx and one or two for the
 * weight gradients — the model's two coefficient heads run as one network of grouped layers. The
 * same kernels run the plain linear layer (src/ops/linear.ts) as one group.
 *
 *   x [..., ΣI_g]: group g reads its own block of columns (in order), or, with `sharedInput`, every
 *   group reads all of x [..., I]; then dx sums the groups' products (no separate add).
 *   y [..., ΣO_g]: group g's outputs are columns [ΣO_<g, ΣO_≤g).
 *
 * The weights and biases are copied into one packed buffer per forward (buffer copies, not
 * dispatches), so they may live anywhere (e.g. the parameter arena); their gradients come back as
 * views of one packed gradient buffer in the same layout. act′ comes from the saved y (see
 * src/ops/linear.ts for why y rather than the pre-activation).
 *
 * dW = dZᵀ·x contracts over the M rows (up to ~10⁵) for a small result, so a plain tiled product
 * would launch a few workgroups that each walk all of M; instead slice s of S sums rows
 * [s·rows, (s+1)·rows) into partials [S, P] and a second pass adds them (`linearSplit`).
 */
import type { Engine } from '../engine/engine.js';
import { defineKernel, linearGrid, type KernelDef } from '../engine/kernel.js';
import { shaderConstants, uniformLayout, type UniformValues } from '../engine/kernel-interface.js';
import { formatShape, numel } from '../engine/shape.js';
import {
  GUARANTEED_WORKGROUPS_PER_DIMENSION,
  maxWorkgroupsPerDimension,
} from '../engine/launch-planner.js';
import type { Tensor } from '../engine/tensor.js';
import { defineGradient } from '../autograd/registry.js';
import type { LinearActivation } from './linear.js';

export const GROUPED_LINEAR_MAX_GROUPS = 4;

/** The activation codes (`u.activation`), read in WGSL as ACT_NONE, ACT_RELU and ACT_TANH. */
const ACT_CODES = shaderConstants('grouped-linear', { ACT_NONE: 0, ACT_RELU: 1, ACT_TANH: 2 });
/** The kernels' code of each activation (`Plan.code`). */
export const LINEAR_ACTIVATION_CODES: Readonly<Record<LinearActivation, number>> = {
  none: ACT_CODES.ACT_NONE,
  relu: ACT_CODES.ACT_RELU,
  tanh: ACT_CODES.ACT_TANH,
};
const ACT = LINEAR_ACTIVATION_CODES;

// ---- tiles and the split-K plan -----------------------------------------------------------------

/** Outputs per workgroup (rows × columns) of the wide kernels, and of the 4×4-block ones. */
const WIDE_TILES = { fwd: [128, 96], dx: [128, 96], dw: [96, 96] } as const;
const NARROW_TILE = 32;

/**
 * The tile of a kernel for an output of rows × cols: the wide blocks (16×12 or 12×12 per
 * invocation) when both sides fill at least one wide tile's columns, else 4×4 blocks — on narrower
 * outputs (hidden 32: O = 16 or 32) a wide block computes mostly clamped duplicates.
 */
export function linearTiles(
  kind: 'fwd' | 'dx' | 'dw',
  rows: number,
  cols: number,
): { wide: boolean; rows: number; cols: number } {
  const [tr, tc] = WIDE_TILES[kind];
  const wide = rows >= tc && cols >= tc;
  return wide ? { wide, rows: tr, cols: tc } : { wide, rows: NARROW_TILE, cols: NARROW_TILE };
}

/** Split-K: every slice sums at least this many rows (amortises the partial write and reduce)… */
export const LINEAR_MIN_SLICE_ROWS = 256;
/** …and slices are added until dW's pass has about this many workgroups to spread… */
export const LINEAR_TARGET_GROUPS = 1024;
/**
 * …but never more rows than this in one slice: llvmpipe silently ends a shader's loops after
 * 65,535 iterations in all (Mesa's LP_MAX_TGSI_LOOP_ITERATIONS), and one invocation loops over
 * its slice's rows.
 */
export const LINEAR_MAX_SLICE_ROWS = 32768;

export interface LinearSplit {
  /** slices S of the row axis (S = 1: no partials, no second pass) */
  slices: number;
  /** rows per slice (the last may hold fewer) */
  rows: number;
}

/**
 * How dW's pass splits M rows for an [O, cols] result: slices of ≥ LINEAR_MIN_SLICE_ROWS rows,
 * enough of them for about LINEAR_TARGET_GROUPS workgroups, and no more than lets the
 * [S, O, cols] partials fit in `maxBytes` (the adapter's binding limit); in any case slices of at
 * most LINEAR_MAX_SLICE_ROWS rows.
 */
export function linearSplit(m: number, o: number, cols: number, maxBytes: number): LinearSplit {
  const tile = linearTiles('dw', o, cols);
  const tiles = Math.ceil(o / tile.rows) * Math.ceil(cols / tile.cols);
  let s = Math.min(
    Math.floor(m / LINEAR_MIN_SLICE_ROWS),
    Math.ceil(LINEAR_TARGET_GROUPS / tiles),
    GUARANTEED_WORKGROUPS_PER_DIMENSION,
    Math.floor(maxBytes / (4 * o * cols)),
  );
  s = Math.max(s, Math.ceil(m / LINEAR_MAX_SLICE_ROWS), 1);
  const rows = Math.max(Math.ceil(m / s), 1);
  return { slices: Math.max(Math.ceil(m / rows), 1), rows };
}

/** Workgroups over an output of rows × cols (capped: the kernels stride over the rest). */
function tileGrid(e: Engine, kind: 'fwd' | 'dx' | 'dw', rows: number, cols: number, z: number) {
  const most = maxWorkgroupsPerDimension(e);
  const t = linearTiles(kind, rows, cols);
  const grid: [number, number, number] = [
    Math.min(Math.ceil(cols / t.cols), most),
    Math.min(Math.ceil(rows / t.rows), most),
    Math.min(z, most),
  ];
  return { wide: t.wide, grid };
}

/** A per-group uniform: one entry per group. */
const PER_GROUP = `u32[${GROUPED_LINEAR_MAX_GROUPS}]` as const;

/** The uniforms of shaders/grouped-linear.wgsl (every entry point reads the ones it needs). */
const uniforms = uniformLayout('grouped-linear', 'GroupedLinearUniforms', {
  /** rows M (every leading axis of x) */
  m: 'u32',
  /** row stride of x and dx */
  ldx: 'u32',
  /** row stride of y and dy (ΣO_g) */
  ldy: 'u32',
  /** groups G */
  groupCount: 'u32',
  /** 1 when the layers have biases, else 0 (dW: the extra column of ones for db) */
  hasBias: 'u32',
  /** the activation: ACT_NONE, ACT_RELU or ACT_TANH */
  activation: 'u32',
  /** 1 when every group reads all of x (dx sums the groups), else 0 */
  sharedInput: 'u32',
  /** dW: rows per slice */
  sliceRows: 'u32',
  /** dW and the reduction: slices S of the rows */
  slices: 'u32',
  /** size P of the packed weights and biases (alignment gaps included) */
  packed: 'u32',
  /** per group g: inputs I_g */
  ni: PER_GROUP,
  /** per group g: outputs O_g */
  no: PER_GROUP,
  /** per group g: its first column of x */
  xoff: PER_GROUP,
  /** per group g: its first column of y */
  yoff: PER_GROUP,
  /** per group g: where W_g starts in its binding (and dW_g in the packed gradient) */
  woff: PER_GROUP,
  /** per group g: where b_g starts in its binding (and db_g in the packed gradient) */
  boff: PER_GROUP,
});
type GroupedLinearParams = UniformValues<typeof uniforms.fields>;

interface GroupLayout {
  ni: number;
  no: number;
  xoff: number;
  yoff: number;
  woff: number;
  boff: number;
}

function groupsOf(p: GroupedLinearParams): GroupLayout[] {
  return Array.from({ length: p.groupCount }, (_, g) => ({
    ni: p.ni[g],
    no: p.no[g],
    xoff: p.xoff[g],
    yoff: p.yoff[g],
    woff: p.woff[g],
    boff: p.boff[g],
  }));
}

// ---- float64 references -------------------------------------------------------------------------

const act64 = (code: number, v: number) =>
  code === ACT.relu ? Math.max(v, 0) : code === ACT.tanh ? Math.tanh(v) : v;
const dact64 = (code: number, y: number) =>
  code === ACT.relu ? (y > 0 ? 1 : 0) : code === ACT.tanh ? 1 - y * y : 1;

/** x, W (at wOff_g), b (at bOff_g; the packed buffer twice for the grouped layers) → y. */
function forward64([x, w, b]: Float64Array[], [y]: Float64Array[], p: GroupedLinearParams): void {
  const { m, ldx, ldy, hasBias: bias, activation: code } = p;
  for (const g of groupsOf(p))
    for (let r = 0; r < m; r++)
      for (let o = 0; o < g.no; o++) {
        let acc = bias === 1 ? b[g.boff + o] : 0;
        for (let i = 0; i < g.ni; i++) acc += x[r * ldx + g.xoff + i] * w[g.woff + o * g.ni + i];
        y[r * ldy + g.yoff + o] = act64(code, acc);
      }
}

function dx64([dy, wb, y]: Float64Array[], [dx]: Float64Array[], p: GroupedLinearParams): void {
  const { m, ldx, ldy, activation: code, sharedInput: shared } = p;
  const gs = groupsOf(p);
  for (const g of gs)
    for (let r = 0; r < m; r++) dx.fill(0, r * ldx + g.xoff, r * ldx + g.xoff + g.ni);
  for (const g of gs)
    for (let r = 0; r < m; r++)
      for (let o = 0; o < g.no; o++) {
        const j = r * ldy + g.yoff + o;
        const dz = dy[j] * (code === ACT.none ? 1 : dact64(code, y[j]));
        // a shared input's columns start at 0 for every group
        const at = r * ldx + (shared === 1 ? 0 : g.xoff);
        for (let i = 0; i < g.ni; i++) dx[at + i] += dz * wb[g.woff + o * g.ni + i];
      }
}

function dw64([dy, x, y]: Float64Array[], [out]: Float64Array[], p: GroupedLinearParams): void {
  const { m, ldx, ldy, hasBias: bias, activation: code } = p;
  const { sliceRows: rows, slices, packed } = p;
  for (const g of groupsOf(p))
    for (let s = 0; s < slices; s++) {
      const base = s * packed;
      for (let o = 0; o < g.no; o++) {
        for (let i = 0; i < g.ni; i++) out[base + g.woff + o * g.ni + i] = 0;
        if (bias === 1) out[base + g.boff + o] = 0;
      }
      for (let r = s * rows; r < Math.min((s + 1) * rows, m); r++)
        for (let o = 0; o < g.no; o++) {
          const j = r * ldy + g.yoff + o;
          const dz = dy[j] * (code === ACT.none ? 1 : dact64(code, y[j]));
          for (let i = 0; i < g.ni; i++)
            out[base + g.woff + o * g.ni + i] += dz * x[r * ldx + g.xoff + i];
          if (bias === 1) out[base + g.boff + o] += dz;
        }
    }
}

function reduce64([part]: Float64Array[], [out]: Float64Array[], p: GroupedLinearParams): void {
  const { slices, packed } = p;
  for (let j = 0; j < packed; j++) {
    let acc = 0;
    for (let s = 0; s < slices; s++) acc += part[s * packed + j];
    out[j] = acc;
  }
}

export const groupedLinearForwardKernel = defineKernel({
  name: 'grouped_linear_fwd',
  shader: 'grouped-linear',
  entryPoint: 'grouped_linear_fwd',
  uniforms,
  inputs: ['x', 'weights', 'biases'],
  outputs: ['y'],
  workgroupSize: [8, 8],
  cpu: forward64,
});
export const groupedLinearDxKernel = defineKernel({
  name: 'grouped_linear_dx',
  shader: 'grouped-linear',
  entryPoint: 'grouped_linear_dx',
  uniforms,
  inputs: ['dy', 'weights', 'y'],
  outputs: ['dx'],
  workgroupSize: [8, 8],
  cpu: dx64,
});
export const groupedLinearDwKernel = defineKernel({
  name: 'grouped_linear_dw',
  shader: 'grouped-linear',
  entryPoint: 'grouped_linear_dw',
  uniforms,
  inputs: ['dy', 'x', 'y'],
  outputs: ['grad'],
  workgroupSize: [8, 8],
  cpu: dw64,
});
type GroupedLinearKernel = KernelDef<GroupedLinearParams>;
/** The wide backward kernels specialised for relu and tanh (act′ in the loads); same reference. */
const withAct = (k: GroupedLinearKernel): GroupedLinearKernel => ({
  ...k,
  name: `${k.name}_act`,
  entryPoint: `${k.entryPoint}_act`,
});
export const groupedLinearDxActKernel = withAct(groupedLinearDxKernel);
export const groupedLinearDwActKernel = withAct(groupedLinearDwKernel);
/** The 4×4-block variants (the `*4` entry points); same maths, bindings and reference. */
const narrow = (k: GroupedLinearKernel): GroupedLinearKernel => ({
  ...k,
  name: `${k.name}4`,
  entryPoint: `${k.entryPoint}4`,
});
export const groupedLinearForwardKernel4 = narrow(groupedLinearForwardKernel);
export const groupedLinearDxKernel4 = narrow(groupedLinearDxKernel);
export const groupedLinearDwKernel4 = narrow(groupedLinearDwKernel);

export const groupedLinearReduceKernel = defineKernel({
  name: 'grouped_linear_reduce',
  shader: 'grouped-linear',
  entryPoint: 'grouped_linear_reduce',
  uniforms,
  inputs: ['partials'],
  outputs: ['grad'],
  workgroupSize: [64],
  cpu: reduce64,
});

// ---- op -----------------------------------------------------------------------------------------

export interface Plan {
  m: number;
  ldx: number;
  ldy: number;
  groups: GroupLayout[];
  /** packed weights-and-biases size (alignment gaps included) */
  packed: number;
  hasBias: boolean;
  code: number;
  shared: boolean;
}

/** The uniforms of a dispatch for `pl` (the dW pass and its reduction give the split). */
function params(
  pl: Plan,
  split: { sliceRows: number; slices: number } = { sliceRows: 0, slices: 1 },
): GroupedLinearParams {
  const per = (f: keyof GroupLayout) => pl.groups.map((g) => g[f]);
  return {
    m: pl.m,
    ldx: pl.ldx,
    ldy: pl.ldy,
    groupCount: pl.groups.length,
    hasBias: pl.hasBias ? 1 : 0,
    activation: pl.code,
    sharedInput: pl.shared ? 1 : 0,
    ...split,
    packed: pl.packed,
    ni: per('ni'),
    no: per('no'),
    xoff: per('xoff'),
    yoff: per('yoff'),
    woff: per('woff'),
    boff: per('boff'),
  };
}

export interface GroupedLinearOptions {
  activation?: LinearActivation;
  /** every group reads all of x (its last axis is each group's I) instead of its own block */
  sharedInput?: boolean;
}

function plan(
  x: Tensor,
  weights: readonly Tensor[],
  biases: readonly Tensor[] | null,
  opts: GroupedLinearOptions,
): Plan {
  const fail = (msg: string): never => {
    throw new Error(`causalmix: groupedLinear: ${msg}`);
  };
  const G = weights.length;
  if (G < 1 || G > GROUPED_LINEAR_MAX_GROUPS)
    fail(`needs 1 to ${GROUPED_LINEAR_MAX_GROUPS} weight matrices, got ${G}`);
  if (biases && biases.length !== G) fail(`${biases.length} biases for ${G} weight matrices`);
  const activation = opts.activation ?? 'none';
  if (!(activation in ACT))
    fail(`activation must be 'none', 'relu' or 'tanh', got '${activation}'`);
  for (const t of [x, ...weights, ...(biases ?? [])]) {
    t.assertAlive();
    if (t.engine !== x.engine) fail('tensors belong to different engines');
    if (t.dtype !== 'float32') fail(`tensors must be float32, got ${t.dtype}`);
  }
  if (x.rank < 1) fail('x needs at least one axis');
  const shared = opts.sharedInput === true;
  const align = x.engine.backend.viewAlignment;
  const up = (n: number) => Math.ceil(n / align) * align;
  let xoff = 0;
  let yoff = 0;
  let packed = 0;
  const groups = weights.map((w, g) => {
    if (w.rank !== 2 || w.shape[0] < 1 || w.shape[1] < 1)
      fail(`weight ${g} must be [O, I] with O, I ≥ 1, got ${formatShape(w.shape)}`);
    const [no, ni] = w.shape;
    const b = biases?.[g];
    if (b && (b.rank !== 1 || b.shape[0] !== no))
      fail(`bias ${g} has shape ${formatShape(b.shape)}, expected [${no}]`);
    const layout = { ni, no, xoff: shared ? 0 : xoff, yoff, woff: packed, boff: 0 };
    packed = up(packed + no * ni);
    layout.boff = packed;
    if (b) packed = up(packed + no);
    xoff += ni;
    yoff += no;
    return layout;
  });
  const ldx = x.shape[x.rank - 1];
  if (shared && groups.some((g) => g.ni !== ldx))
    fail(`with a shared input every weight must be [O, ${ldx}] (x ${formatShape(x.shape)})`);
  if (!shared && xoff !== ldx)
    fail(`x ${formatShape(x.shape)} must end in ΣI = ${xoff} (the groups' input blocks)`);
  return {
    m: numel(x.shape.slice(0, -1)),
    ldx,
    ldy: yoff,
    groups,
    packed: Math.max(packed, 1),
    hasBias: biases !== null,
    code: ACT[activation],
    shared,
  };
}

/** One view per packed segment of `buf`, in the layout of `pl`. */
function views(e: Engine, buf: Tensor, pl: Plan, which: 'w' | 'b'): Tensor[] {
  return pl.groups.map((g) =>
    which === 'w' ? e.sliceView(buf, g.woff, [g.no, g.ni]) : e.sliceView(buf, g.boff, [g.no]),
  );
}

/**
 * act(x_g·W_gᵀ + b_g) for each group g, outputs side by side: x [..., ΣI_g] (or [..., I] with
 * `sharedInput`), weights [O_g, I_g], biases [O_g] (all or none) → [..., ΣO_g].
 */
export function groupedLinear(
  x: Tensor,
  weights: readonly Tensor[],
  biases: readonly Tensor[] | null = null,
  opts: GroupedLinearOptions = {},
): Tensor {
  const pl = plan(x, weights, biases, opts);
  const e = x.engine;
  const y = e.empty([...x.shape.slice(0, -1), pl.ldy]);
  const wb = e.empty([pl.packed]);
  const pack = (ts: readonly Tensor[], dst: Tensor[]) =>
    ts.forEach((t, g) => {
      e.copy(t, dst[g]);
      dst[g].dispose();
    });
  pack(weights, views(e, wb, pl, 'w'));
  if (biases) pack(biases, views(e, wb, pl, 'b'));
  forwardInto(e, pl, x, wb, wb, y);
  const inputs = [x, ...weights, ...(biases ?? [])];
  // the packed weights serve the backward pass; y only when act′ needs it
  const saved = [wb, ...(pl.code === ACT.none ? [] : [e.alias(y, y.shape)])];
  return recordGroupedLinear(inputs, y, { pl }, saved);
}

/**
 * y = act(x·W_gᵀ + b_g) for the groups of `pl` into y: one dispatch. Bindings: W (at wOff_g) and b
 * (at bOff_g; any buffer without a bias) — the grouped layers bind their packed buffer twice.
 */
export function forwardInto(e: Engine, pl: Plan, x: Tensor, w: Tensor, b: Tensor, y: Tensor): void {
  if (pl.m === 0) return;
  const maxO = Math.max(...pl.groups.map((g) => g.no));
  const { wide, grid } = tileGrid(e, 'fwd', pl.m, maxO, pl.groups.length);
  const k = wide ? groupedLinearForwardKernel : groupedLinearForwardKernel4;
  e.run(k, [x, w, b], [y], params(pl), grid);
}

/** dx = Σ dZ_g·W_g (each group into its input columns, or summed for a shared input). */
export function dxInto(e: Engine, pl: Plan, dy: Tensor, w: Tensor, y: Tensor, dx: Tensor): void {
  if (pl.m === 0) return;
  const maxI = Math.max(...pl.groups.map((g) => g.ni));
  const { wide, grid } = tileGrid(e, 'dx', pl.m, maxI, pl.shared ? 1 : pl.groups.length);
  const act = pl.code !== ACT.none;
  const k = !wide ? groupedLinearDxKernel4 : act ? groupedLinearDxActKernel : groupedLinearDxKernel;
  e.run(k, [dy, w, y], [dx], params(pl), grid);
}

/**
 * One layer x [M, I] → [M, O] as a plan: W at 0 of its own buffer, and in the packed gradient dW
 * at 0 and db after it (aligned for a view).
 */
export function singleLayerPlan(
  e: Engine,
  m: number,
  [o, n]: readonly number[],
  hasBias: boolean,
  code: number,
): Plan {
  const align = e.backend.viewAlignment;
  const boff = Math.ceil((o * n) / align) * align;
  const groups = [{ ni: n, no: o, xoff: 0, yoff: 0, woff: 0, boff }];
  return { m, ldx: n, ldy: o, groups, packed: boff + o, hasBias, code, shared: false };
}

const recordGroupedLinear = defineGradient<{ pl: Plan }>({
  op: 'grouped_linear',
  saves: ['packed weights and biases', 'y?'],
  why: 'the packed weights and biases; y (an alias of the output) when act is relu or tanh',
  grad: (dy, { inputs, saved, attrs }) => {
    const pl = attrs.pl;
    const G = pl.groups.length;
    const x = inputs[0];
    const ws = inputs.slice(1, 1 + G);
    const bs = pl.hasBias ? inputs.slice(1 + G) : [];
    const e = x.engine;
    const [wb] = saved;
    const y = saved[1] ?? dy; // act = none never reads y
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      dx = e.empty(x.shape);
      dxInto(e, pl, dy, wb, y, dx);
    }
    const wantW = [...ws, ...bs].some((t) => t.requiresGrad);
    if (!wantW) return [dx, ...ws.map(() => null), ...bs.map(() => null)];
    const grad = gradWeights(e, x, dy, y, pl);
    const dws = views(e, grad, pl, 'w').map((v, g) => (ws[g].requiresGrad ? v : drop(v)));
    const dbs = pl.hasBias
      ? views(e, grad, pl, 'b').map((v, g) => (bs[g].requiresGrad ? v : drop(v)))
      : [];
    grad.dispose(); // the views keep the memory
    return [dx, ...dws, ...dbs];
  },
});

function drop(t: Tensor): null {
  t.dispose();
  return null;
}

/** The packed dW/db of every group: one split-K pass, plus a reduction when it splits. */
export function gradWeights(e: Engine, x: Tensor, dy: Tensor, y: Tensor, pl: Plan): Tensor {
  if (pl.m === 0) return e.zeros([pl.packed]);
  const grad = e.empty([pl.packed]);
  const limits = e.backend.limits;
  const maxBytes = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const maxO = Math.max(...pl.groups.map((g) => g.no));
  const maxCols = Math.max(...pl.groups.map((g) => g.ni)) + (pl.hasBias ? 1 : 0);
  // the split of the largest group, with the partials [S, P] held to the binding limit
  const split = linearSplit(pl.m, maxO, maxCols, maxBytes);
  const slices = Math.max(1, Math.min(split.slices, Math.floor(maxBytes / (4 * pl.packed))));
  const rows = Math.max(Math.ceil(pl.m / slices), 1);
  const S = Math.max(Math.ceil(pl.m / rows), 1);
  const { wide, grid } = tileGrid(e, 'dw', maxO, maxCols, pl.groups.length * S);
  const p = params(pl, { sliceRows: rows, slices: S });
  const act = pl.code !== ACT.none;
  const dwKernel = !wide
    ? groupedLinearDwKernel4
    : act
      ? groupedLinearDwActKernel
      : groupedLinearDwKernel;
  if (S === 1) {
    e.run(dwKernel, [dy, x, y], [grad], p, grid);
  } else {
    const part = e.empty([S, pl.packed]);
    e.run(dwKernel, [dy, x, y], [part], p, grid);
    e.run(groupedLinearReduceKernel, [part], [grad], p, linearGrid(pl.packed, 64));
    part.dispose();
  }
  return grad;
}
