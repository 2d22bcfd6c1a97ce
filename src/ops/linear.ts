/**
 * Fused linear layer (shaders/linear.wgsl): y = act(x·Wᵀ + b) for x [..., I], W [O, I] (PyTorch
 * layout), b [O] or none, act ∈ {none, relu, tanh}. Every leading axis of x folds into M rows.
 *
 * Forward: one dispatch; bias and activation run in the matmul's epilogue.
 * Backward, given dy [..., O], with dZ = dy ⊙ act′ applied while the kernels load dy (never stored):
 *   dx = dZ·W (one dispatch, skipped when x needs no gradient)
 *   dW = dZᵀ·x and db = Σ_rows dZ: a split-K kernel (one or two dispatches). dW contracts over the M
 *   rows (up to ~10⁵) for a small [O, I] result, so a plain tiled product would launch only
 *   O·I/1024 workgroups that each walk all of M; instead workgroup slice s sums rows
 *   [s·rows, (s+1)·rows) into partials [S, O, I + 1] and a second pass adds the S slices. db is the
 *   extra column: x gets a virtual column of ones. With S = 1 the first pass writes dW and db itself.
 * So backward is at most 3 dispatches.
 *
 * act′ comes from the saved output y: relu′ = [y > 0], so relu′(0) = 0 as in PyTorch (and as
 * src/ops/elementwise.ts); tanh′ = 1 − y². The latter loses relative precision where |y| → 1, but
 * its absolute error stays within ~2·2⁻²⁴ there, which is all a gradient (a sum of such terms
 * times dy) can see, so y is saved instead of the pre-activation.
 */
import type { Engine } from '../engine/engine.js';
import { linearGrid, type KernelDef, type KernelParams } from '../engine/kernel.js';
import { formatShape, numel } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { registerGradient } from '../autograd/registry.js';
import { recordOp } from '../autograd/tape.js';

export type LinearActivation = 'none' | 'relu' | 'tanh';

const ACT: Record<LinearActivation, number> = { none: 0, relu: 1, tanh: 2 };

/**
 * Outputs per workgroup along each axis: 8×8 invocations, each an 8×8 block (64) when the output
 * has ≥ 64 rows and ≥ 128 columns, else each a 4×4 block (32): on narrower outputs (hidden 32:
 * O = 16, 32, 96) the 8×8 block computes too many clamped duplicates and is slower.
 */
const TILE = 64;
const TILE4 = 32;
export const linearWide = (rows: number, cols: number) => rows >= TILE && cols >= 2 * TILE;
/** Outputs per workgroup along each axis for an output of rows × cols. */
export const linearTile = (rows: number, cols: number) => (linearWide(rows, cols) ? TILE : TILE4);
const MAX_GROUPS = 65535;
/** Split-K: every slice sums at least this many rows (amortises the partial write and reduce)… */
export const LINEAR_MIN_SLICE_ROWS = 256;
/** …and slices are added until dW's pass has about this many workgroups to spread. */
export const LINEAR_TARGET_GROUPS = 1024;

// ---- float64 references -------------------------------------------------------------------------

function act64(code: number, v: number): number {
  if (code === ACT.relu) return Math.max(v, 0);
  if (code === ACT.tanh) return Math.tanh(v);
  return v;
}

/** act′ from the activation's output y. */
function dact64(code: number, y: number): number {
  if (code === ACT.relu) return y > 0 ? 1 : 0;
  if (code === ACT.tanh) return 1 - y * y;
  return 1;
}

/** x [M, I], W [O, I], bias [O] → y [M, O]. U0 M, U1 O, U2 I, U3 has bias, U4 activation. */
function forward64([x, w, b]: Float64Array[], [y]: Float64Array[], p: KernelParams): void {
  const [m, o, n, hasBias, code] = p.u;
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < o; j++) {
      let acc = hasBias === 1 ? b[j] : 0;
      for (let i = 0; i < n; i++) acc += x[r * n + i] * w[j * n + i];
      y[r * o + j] = act64(code, acc);
    }
  }
}

/** dy, W, y → dx = (dy ⊙ act′(y))·W. U0 M, U1 I, U2 O, U4 activation. */
function dx64([dy, w, y]: Float64Array[], [dx]: Float64Array[], p: KernelParams): void {
  const [m, n, o, , code] = p.u;
  dx.fill(0, 0, m * n);
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < o; j++) {
      const dz = dy[r * o + j] * (code === ACT.none ? 1 : dact64(code, y[r * o + j]));
      for (let i = 0; i < n; i++) dx[r * n + i] += dz * w[j * n + i];
    }
  }
}

/**
 * dy, x, y → per-slice dW and db. U0 O, U1 I, U2 M, U3 db wanted, U4 activation, U5 rows per
 * slice, U6 slices, U7 direct: dW, db into out, out2; else partials [S, O, I + U3] into out.
 */
function dw64([dy, x, y]: Float64Array[], [out, out2]: Float64Array[], p: KernelParams): void {
  const [o, n, m, wantDb, code, rows, slices, direct] = p.u;
  const nc = n + wantDb;
  const acc = new Float64Array(o * nc);
  for (let s = 0; s < slices; s++) {
    acc.fill(0);
    for (let r = s * rows; r < Math.min((s + 1) * rows, m); r++) {
      for (let j = 0; j < o; j++) {
        const dz = dy[r * o + j] * (code === ACT.none ? 1 : dact64(code, y[r * o + j]));
        for (let i = 0; i < n; i++) acc[j * nc + i] += dz * x[r * n + i];
        if (wantDb === 1) acc[j * nc + n] += dz;
      }
    }
    if (direct === 1) {
      for (let j = 0; j < o; j++) {
        for (let i = 0; i < n; i++) out[j * n + i] = acc[j * nc + i];
        if (wantDb === 1) out2[j] = acc[j * nc + n];
      }
    } else {
      out.set(acc, s * o * nc);
    }
  }
}

/** Partials [S, O, I + U3] → dW [O, I], db [O]. Uniforms as dw64. */
function reduce64([part]: Float64Array[], [dw, db]: Float64Array[], p: KernelParams): void {
  const [o, n, , wantDb, , , slices] = p.u;
  const nc = n + wantDb;
  for (let j = 0; j < o * nc; j++) {
    let acc = 0;
    for (let s = 0; s < slices; s++) acc += part[s * o * nc + j];
    const i = j % nc;
    if (i < n) dw[Math.floor(j / nc) * n + i] = acc;
    else db[Math.floor(j / nc)] = acc;
  }
}

export const linearForwardKernel: KernelDef = {
  name: 'linear_fwd',
  shader: 'linear',
  entryPoint: 'linear_fwd',
  cpu: forward64,
};

export const linearDxKernel: KernelDef = {
  name: 'linear_dx',
  shader: 'linear',
  entryPoint: 'linear_dx',
  cpu: dx64,
};

export const linearDwKernel: KernelDef = {
  name: 'linear_dw',
  shader: 'linear',
  entryPoint: 'linear_dw',
  cpu: dw64,
};

/** The 4×4-block variants (shaders/linear.wgsl `*4` entry points); same maths and reference. */
export const linearForwardKernel4: KernelDef = {
  ...linearForwardKernel,
  name: 'linear_fwd4',
  entryPoint: 'linear_fwd4',
};
export const linearDxKernel4: KernelDef = {
  ...linearDxKernel,
  name: 'linear_dx4',
  entryPoint: 'linear_dx4',
};
export const linearDwKernel4: KernelDef = {
  ...linearDwKernel,
  name: 'linear_dw4',
  entryPoint: 'linear_dw4',
};

export const linearDwReduceKernel: KernelDef = {
  name: 'linear_dw_reduce',
  shader: 'linear',
  entryPoint: 'linear_dw_reduce',
  cpu: reduce64,
};

// ---- split-K plan -------------------------------------------------------------------------------

export interface LinearSplit {
  /** slices S of the row axis (S = 1: no partials, no second pass) */
  slices: number;
  /** rows per slice (the last may hold fewer) */
  rows: number;
}

/**
 * How dW's pass splits M rows for an [O, cols] result: slices of ≥ LINEAR_MIN_SLICE_ROWS rows,
 * enough of them for about LINEAR_TARGET_GROUPS workgroups, and no more than lets the
 * [S, O, cols] partials fit in `maxBytes` (the adapter's binding limit).
 */
export function linearSplit(m: number, o: number, cols: number, maxBytes: number): LinearSplit {
  const tile = linearTile(o, cols);
  const tiles = Math.ceil(o / tile) * Math.ceil(cols / tile);
  let s = Math.min(
    Math.floor(m / LINEAR_MIN_SLICE_ROWS),
    Math.ceil(LINEAR_TARGET_GROUPS / tiles),
    MAX_GROUPS,
    Math.floor(maxBytes / (4 * o * cols)),
  );
  s = Math.max(s, 1);
  const rows = Math.max(Math.ceil(m / s), 1);
  return { slices: Math.max(Math.ceil(m / rows), 1), rows };
}

// ---- op -----------------------------------------------------------------------------------------

function check(x: Tensor, weight: Tensor, bias: Tensor | null, activation: string): void {
  const fail = (msg: string) => {
    throw new Error(`causalmix: linear: ${msg}`);
  };
  for (const [name, t] of [
    ['x', x],
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (!t) continue;
    t.assertAlive();
    if (t.engine !== x.engine) fail(`${name} belongs to another engine than x`);
    if (t.dtype !== 'float32') fail(`${name} must be float32, got ${t.dtype}`);
  }
  if (!(activation in ACT))
    fail(`activation must be 'none', 'relu' or 'tanh', got '${activation}'`);
  if (weight.rank !== 2) fail(`weight must be [O, I], got ${formatShape(weight.shape)}`);
  const [o, n] = weight.shape;
  if (o < 1 || n < 1) fail(`weight ${formatShape(weight.shape)} needs O ≥ 1 and I ≥ 1`);
  if (x.rank < 1 || x.shape[x.rank - 1] !== n)
    fail(`x ${formatShape(x.shape)} must end in I = ${n} (weight ${formatShape(weight.shape)})`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== o))
    fail(`bias has shape ${formatShape(bias.shape)}, expected [${o}]`);
}

/**
 * act(x·Wᵀ + b): x [..., I], weight [O, I], bias [O] or null → [..., O], in one dispatch.
 * activation: 'none' (default), 'relu' or 'tanh'.
 */
export function linear(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  activation: LinearActivation = 'none',
): Tensor {
  check(x, weight, bias, activation);
  const e = x.engine;
  const [o, n] = weight.shape;
  const m = numel(x.shape.slice(0, -1));
  const code = ACT[activation];
  const y = e.empty([...x.shape.slice(0, -1), o]);
  if (m > 0) {
    const grid: [number, number, number] = [
      Math.min(Math.ceil(o / linearTile(m, o)), MAX_GROUPS),
      Math.min(Math.ceil(m / linearTile(m, o)), MAX_GROUPS),
      1,
    ];
    // Without a bias the weight stands in for the unread binding.
    const p = { u: [m, o, n, bias ? 1 : 0, code], f: [] };
    const k = linearWide(m, o) ? linearForwardKernel : linearForwardKernel4;
    e.run(k, [x, weight, bias ?? weight], [y], p, grid);
  }
  const inputs = bias ? [x, weight, bias] : [x, weight];
  // Only act′ needs y; an alias keeps it alive even if the caller disposes the output.
  const saved = code === ACT.none ? [] : [e.alias(y, y.shape)];
  return recordOp('linear', inputs, y, { code }, saved);
}

// ---- backward rule ------------------------------------------------------------------------------

/** dx = dZ·W [M, I] in one dispatch. */
function gradX(e: Engine, x: Tensor, w: Tensor, dy: Tensor, y: Tensor, code: number): Tensor {
  const [o, n] = w.shape;
  const m = x.size / n;
  const dx = e.empty(x.shape);
  const grid: [number, number, number] = [
    Math.min(Math.ceil(n / linearTile(m, n)), MAX_GROUPS),
    Math.min(Math.ceil(m / linearTile(m, n)), MAX_GROUPS),
    1,
  ];
  const k = linearWide(m, n) ? linearDxKernel : linearDxKernel4;
  e.run(k, [dy, w, y], [dx], { u: [m, n, o, 0, code], f: [] }, grid);
  return dx;
}

/** dW [O, I] and, when `wantDb`, db [O]: one split-K pass plus a reduction when S > 1. */
function gradW(
  e: Engine,
  x: Tensor,
  w: Tensor,
  dy: Tensor,
  y: Tensor,
  code: number,
  wantDb: boolean,
): [Tensor, Tensor | null] {
  const [o, n] = w.shape;
  const m = x.size / n;
  if (m === 0) return [e.zeros([o, n]), wantDb ? e.zeros([o]) : null];
  const dw = e.empty([o, n]);
  const db = wantDb ? e.empty([o]) : null;
  const cols = n + (wantDb ? 1 : 0);
  const limits = e.backend.limits;
  const maxBytes = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const { slices, rows } = linearSplit(m, o, cols, maxBytes);
  const direct = slices === 1;
  const u = [o, n, m, wantDb ? 1 : 0, code, rows, slices, direct ? 1 : 0];
  const grid: [number, number, number] = [
    Math.min(Math.ceil(cols / linearTile(o, cols)), MAX_GROUPS),
    Math.min(Math.ceil(o / linearTile(o, cols)), MAX_GROUPS),
    slices,
  ];
  const dwKernel = linearWide(o, cols) ? linearDwKernel : linearDwKernel4;
  // Unwritten output bindings get a one-element placeholder (writable bindings cannot alias).
  const spare = e.empty([1]);
  if (direct) {
    e.run(dwKernel, [dy, x, y], [dw, db ?? spare], { u, f: [] }, grid);
  } else {
    const part = e.empty([slices, o, cols]);
    e.run(dwKernel, [dy, x, y], [part, spare], { u, f: [] }, grid);
    e.run(linearDwReduceKernel, [part], [dw, db ?? spare], { u, f: [] }, linearGrid(o * cols, 64));
    part.dispose();
  }
  spare.dispose();
  return [dw, db];
}

/**
 * For other ops' backward passes (e.g. the GRU's): dW = dZᵀ·x [O, I] and db = Σ_rows dZ [O] by
 * the split-K kernel, and dx = dZ·W [M, I], with dZ [M, O] given directly (no activation).
 */
export function linearWeightGrad(x: Tensor, dz: Tensor): [Tensor, Tensor] {
  const [n, o] = [x.shape[x.rank - 1], dz.shape[dz.rank - 1]];
  // gradW reads only the weight's shape
  const [dw, db] = gradW(
    x.engine,
    x,
    { shape: [o, n] } as unknown as Tensor,
    dz,
    dz,
    ACT.none,
    true,
  );
  return [dw, db!];
}

export function linearInputGrad(x: Tensor, w: Tensor, dz: Tensor): Tensor {
  return gradX(x.engine, x, w, dz, dz, ACT.none);
}

registerGradient({
  op: 'linear',
  saves: 'y (an alias of the output) when the activation is relu or tanh; x and W are inputs',
  grad: (dy, { inputs, saved, attrs }) => {
    const [x, w, b] = inputs;
    const e = x.engine;
    const code = attrs.code as number;
    // act = none never reads y: dy stands in for the binding.
    const y = saved[0] ?? dy;
    const m = x.size / w.shape[1];
    const dx = !x.requiresGrad ? null : m === 0 ? e.empty(x.shape) : gradX(e, x, w, dy, y, code);
    const wantDb = b !== undefined && b.requiresGrad;
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (w.requiresGrad || wantDb) {
      [dw, db] = gradW(e, x, w, dy, y, code, wantDb);
      if (!w.requiresGrad) {
        dw.dispose();
        dw = null;
      }
    }
    return b === undefined ? [dx, dw] : [dx, dw, db];
  },
});
