// Linear layers y_g = act(x_g·W_gᵀ + b_g) and their backward pass (src/ops/grouped-linear.ts): up
// to 4 independent layers in one dispatch (the model's two coefficient heads side by side), or one
// (src/ops/linear.ts runs here with G = 1). x is [M, ldx] and group g reads its columns
// [xOff_g, xOff_g + I_g) (all groups read columns [0, I) when the input is shared); y is [M, ldy]
// and group g writes columns [yOff_g, yOff_g + O_g). Weights W_g [O_g, I_g] start at wOff_g of their
// binding and biases b_g at bOff_g of theirs (the grouped layers pack all of them in one buffer);
// the weight gradients come back in that packed layout.
//
// Register blocking. llvmpipe runs 8 invocations per SIMD instruction and every buffer load is a
// per-lane gather, so what counts is multiply-adds per load: each invocation of an 8×8 workgroup
// accumulates a block of outputs in mat4x4 registers (column q of a matrix = one output row, its
// components four output columns), rows and columns 8 apart so that neighbouring invocations
// touch neighbouring elements. Forward and dx: 16 rows × 12 columns per invocation (28 loads per
// 192 multiply-adds; a 128 × 96 tile); dW: 12 × 12 (a 96 × 96 tile). On llvmpipe this runs
// ~2× faster than 8×8 blocks of vec4 registers (measured: 11–13 vs 5–7 GFLOP/s at 19,380 × 280 →
// 840); mat4x4 values keep the blocks short to write, and unlike a private array they stay in
// registers. Rows and columns past an edge read a clamped (valid) element and are not stored, so
// the inner loops have no branches.
// Uniforms: `GroupedLinearUniforms` in src/ops/grouped-linear.ts (the activation codes ACT_* come
// from there too).

@group(0) @binding(1) var<storage, read> gl_a: array<f32>;
@group(0) @binding(2) var<storage, read> gl_b: array<f32>;
@group(0) @binding(3) var<storage, read> gl_c: array<f32>;
@group(0) @binding(4) var<storage, read_write> gl_out: array<f32>;

// Tile sizes (outputs per workgroup): forward and dx rows × columns, dW rows and columns.
const GL_ROWS = 128u;
const GL_COLS = 96u;
const GL_DW = 96u;
const GL_STEP = vec4<u32>(0u, 8u, 16u, 24u);

struct Group {
  ni: u32,
  no: u32,
  xoff: u32,
  yoff: u32,
  woff: u32,
  boff: u32,
}

fn group(g: u32) -> Group {
  return Group(u_ni(g), u_no(g), u_xoff(g), u_yoff(g),
               u_woff(g), u_boff(g));
}

fn gl_act(code: u32, v: f32) -> f32 {
  if (code == ACT_RELU) { return max(v, 0.0); }
  if (code == ACT_TANH) { return tanh_safe(v); }
  return v;
}

fn gl_act4(code: u32, v: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(gl_act(code, v.x), gl_act(code, v.y), gl_act(code, v.z), gl_act(code, v.w));
}

// act′ from the activation's output y (relu′(0) = 0, as PyTorch).
fn gl_dact(code: u32, y: f32) -> f32 {
  if (code == ACT_RELU) { return select(0.0, 1.0, y > 0.0); }
  if (code == ACT_TANH) { return 1.0 - y * y; }
  return 1.0;
}

// dZ = dy ⊙ act′(y) at flat index j of the [M, ldy] output (dy in gl_a, y in gl_c): the backward
// kernels apply act′ as they load dy, so dZ is never stored.
fn gl_dz(code: u32, j: u32) -> f32 {
  let g = gl_a[j];
  if (code == ACT_NONE) { return g; }
  return g * gl_dact(code, gl_c[j]);
}

fn gl_a4(j: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(gl_a[j.x], gl_a[j.y], gl_a[j.z], gl_a[j.w]);
}

// dZ at four indices, for the wide kernels. Their entry points pass `act` as a literal, so after
// inlining the test folds away: llvmpipe runs a branch in the inner loop as masked code on both
// sides (~30 % slower); and act′ is a select, not a branch, for the same reason.
fn gl_dz4(act: bool, code: u32, j: vec4<u32>) -> vec4<f32> {
  let g = gl_a4(j);
  if (!act) { return g; }
  let y = vec4<f32>(gl_c[j.x], gl_c[j.y], gl_c[j.z], gl_c[j.w]);
  let relu = select(vec4<f32>(0.0), vec4<f32>(1.0), y > vec4<f32>(0.0));
  return g * select(vec4<f32>(1.0) - y * y, relu, code == ACT_RELU);
}

fn gl_b4(j: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(gl_b[j.x], gl_b[j.y], gl_b[j.z], gl_b[j.w]);
}

// The four indices p + 32q + (0, 8, 16, 24): quad q of an invocation's rows or columns.
fn quad(p: u32, q: u32) -> vec4<u32> {
  return vec4<u32>(p + 32u * q) + GL_STEP;
}

// The outer product a ⊗ b as a block: column q holds a[q]·b.
fn outer(a: vec4<f32>, b: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(b * a.x, b * a.y, b * a.z, b * a.w);
}

// Stores block v (column q: row rs[q]; component k: column cs[k]) into a matrix with row stride ld
// from column c0; rows ≥ m and columns ≥ n are dropped.
fn gl_store(rs: vec4<u32>, cs: vec4<u32>, m: u32, n: u32, ld: u32, c0: u32, v: mat4x4<f32>) {
  for (var q = 0u; q < 4u; q++) {
    if (rs[q] < m) {
      let base = rs[q] * ld + c0;
      for (var k = 0u; k < 4u; k++) {
        if (cs[k] < n) { gl_out[base + cs[k]] = v[q][k]; }
      }
    }
  }
}

// act(v + bias) for every row of a block.
fn gl_epilogue(code: u32, v: mat4x4<f32>, bias: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(gl_act4(code, v[0] + bias), gl_act4(code, v[1] + bias),
                     gl_act4(code, v[2] + bias), gl_act4(code, v[3] + bias));
}

// ---- forward: bindings gl_a x, gl_b W, gl_c b (the packed buffer twice for the grouped layers:
// every binding must be used; W again when there is no bias), gl_out y. Grid x over column tiles
// of max O_g, y over row tiles, z over the groups.

fn fwd_block(gr: Group, r0: u32, n0: u32) {
  let m = u.m;
  let ldx = u.ldx;
  let rs0 = quad(r0, 0u);
  let rs1 = quad(r0, 1u);
  let rs2 = quad(r0, 2u);
  let rs3 = quad(r0, 3u);
  let cs0 = quad(n0, 0u);
  let cs1 = quad(n0, 1u);
  let cs2 = quad(n0, 2u);
  let last = vec4<u32>(m - 1u);
  let xo = vec4<u32>(gr.xoff);
  let ra0 = min(rs0, last) * ldx + xo;
  let ra1 = min(rs1, last) * ldx + xo;
  let ra2 = min(rs2, last) * ldx + xo;
  let ra3 = min(rs3, last) * ldx + xo;
  let nb0 = min(cs0, vec4<u32>(gr.no - 1u));
  let nb1 = min(cs1, vec4<u32>(gr.no - 1u));
  let nb2 = min(cs2, vec4<u32>(gr.no - 1u));
  let wo = vec4<u32>(gr.woff);
  let rb0 = nb0 * gr.ni + wo;
  let rb1 = nb1 * gr.ni + wo;
  let rb2 = nb2 * gr.ni + wo;
  var c00 = mat4x4<f32>();
  var c01 = mat4x4<f32>();
  var c02 = mat4x4<f32>();
  var c10 = mat4x4<f32>();
  var c11 = mat4x4<f32>();
  var c12 = mat4x4<f32>();
  var c20 = mat4x4<f32>();
  var c21 = mat4x4<f32>();
  var c22 = mat4x4<f32>();
  var c30 = mat4x4<f32>();
  var c31 = mat4x4<f32>();
  var c32 = mat4x4<f32>();
  for (var i = 0u; i < gr.ni; i++) {
    let iv = vec4<u32>(i);
    let b0 = gl_b4(rb0 + iv);
    let b1 = gl_b4(rb1 + iv);
    let b2 = gl_b4(rb2 + iv);
    let a0 = gl_a4(ra0 + iv);
    c00 += outer(a0, b0);
    c01 += outer(a0, b1);
    c02 += outer(a0, b2);
    let a1 = gl_a4(ra1 + iv);
    c10 += outer(a1, b0);
    c11 += outer(a1, b1);
    c12 += outer(a1, b2);
    let a2 = gl_a4(ra2 + iv);
    c20 += outer(a2, b0);
    c21 += outer(a2, b1);
    c22 += outer(a2, b2);
    let a3 = gl_a4(ra3 + iv);
    c30 += outer(a3, b0);
    c31 += outer(a3, b1);
    c32 += outer(a3, b2);
  }
  var bias0 = vec4<f32>(0.0);
  var bias1 = vec4<f32>(0.0);
  var bias2 = vec4<f32>(0.0);
  if (u.hasBias == 1u) {
    let bo = vec4<u32>(gr.boff);
    bias0 = vec4<f32>(gl_c[bo.x + nb0.x], gl_c[bo.y + nb0.y], gl_c[bo.z + nb0.z], gl_c[bo.w + nb0.w]);
    bias1 = vec4<f32>(gl_c[bo.x + nb1.x], gl_c[bo.y + nb1.y], gl_c[bo.z + nb1.z], gl_c[bo.w + nb1.w]);
    bias2 = vec4<f32>(gl_c[bo.x + nb2.x], gl_c[bo.y + nb2.y], gl_c[bo.z + nb2.z], gl_c[bo.w + nb2.w]);
  }
  let code = u.activation;
  let n = gr.no;
  let ld = u.ldy;
  let yo = gr.yoff;
  gl_store(rs0, cs0, m, n, ld, yo, gl_epilogue(code, c00, bias0));
  gl_store(rs0, cs1, m, n, ld, yo, gl_epilogue(code, c01, bias1));
  gl_store(rs0, cs2, m, n, ld, yo, gl_epilogue(code, c02, bias2));
  gl_store(rs1, cs0, m, n, ld, yo, gl_epilogue(code, c10, bias0));
  gl_store(rs1, cs1, m, n, ld, yo, gl_epilogue(code, c11, bias1));
  gl_store(rs1, cs2, m, n, ld, yo, gl_epilogue(code, c12, bias2));
  gl_store(rs2, cs0, m, n, ld, yo, gl_epilogue(code, c20, bias0));
  gl_store(rs2, cs1, m, n, ld, yo, gl_epilogue(code, c21, bias1));
  gl_store(rs2, cs2, m, n, ld, yo, gl_epilogue(code, c22, bias2));
  gl_store(rs3, cs0, m, n, ld, yo, gl_epilogue(code, c30, bias0));
  gl_store(rs3, cs1, m, n, ld, yo, gl_epilogue(code, c31, bias1));
  gl_store(rs3, cs2, m, n, ld, yo, gl_epilogue(code, c32, bias2));
}

@compute @workgroup_size(8, 8)
fn grouped_linear_fwd(@builtin(workgroup_id) wid: vec3<u32>,
                      @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_id) lid: vec3<u32>) {
  for (var g = wid.z; g < u.groupCount; g += nwg.z) {
    let gr = group(g);
    for (var ty = wid.y; ty * GL_ROWS < u.m; ty += nwg.y) {
      for (var tx = wid.x; tx * GL_COLS < gr.no; tx += nwg.x) {
        let r0 = ty * GL_ROWS + lid.y;
        let n0 = tx * GL_COLS + lid.x;
        if (r0 < u.m && n0 < gr.no) {
          fwd_block(gr, r0, n0);
        }
      }
    }
  }
}

// ---- dx: bindings gl_a dy, gl_b W, gl_c y, gl_out dx [M, ldx]. Each group writes dZ_g·W_g into its
// own input columns (grid z over the groups); with a shared input (u.sharedInput = 1, grid z = 1)
// each block sums the products of all groups (groups g0 ≤ h < g1) into dx [M, I].

fn dx_block(act: bool, g0: u32, g1: u32, out: Group, r0: u32, n0: u32) {
  let m = u.m;
  let ldy = u.ldy;
  let code = u.activation;
  let rs0 = quad(r0, 0u);
  let rs1 = quad(r0, 1u);
  let rs2 = quad(r0, 2u);
  let rs3 = quad(r0, 3u);
  let cs0 = quad(n0, 0u);
  let cs1 = quad(n0, 1u);
  let cs2 = quad(n0, 2u);
  let last = vec4<u32>(m - 1u);
  var c00 = mat4x4<f32>();
  var c01 = mat4x4<f32>();
  var c02 = mat4x4<f32>();
  var c10 = mat4x4<f32>();
  var c11 = mat4x4<f32>();
  var c12 = mat4x4<f32>();
  var c20 = mat4x4<f32>();
  var c21 = mat4x4<f32>();
  var c22 = mat4x4<f32>();
  var c30 = mat4x4<f32>();
  var c31 = mat4x4<f32>();
  var c32 = mat4x4<f32>();
  for (var h = g0; h < g1; h++) {
    let gr = group(h);
    let yo = vec4<u32>(gr.yoff);
    let ra0 = min(rs0, last) * ldy + yo;
    let ra1 = min(rs1, last) * ldy + yo;
    let ra2 = min(rs2, last) * ldy + yo;
    let ra3 = min(rs3, last) * ldy + yo;
    let wo = vec4<u32>(gr.woff);
    let cb0 = min(cs0, vec4<u32>(gr.ni - 1u)) + wo;
    let cb1 = min(cs1, vec4<u32>(gr.ni - 1u)) + wo;
    let cb2 = min(cs2, vec4<u32>(gr.ni - 1u)) + wo;
    var kb = vec4<u32>(0u);
    for (var o = 0u; o < gr.no; o++) {
      let ov = vec4<u32>(o);
      let b0 = gl_b4(cb0 + kb);
      let b1 = gl_b4(cb1 + kb);
      let b2 = gl_b4(cb2 + kb);
      let a0 = gl_dz4(act, code, ra0 + ov);
      c00 += outer(a0, b0);
      c01 += outer(a0, b1);
      c02 += outer(a0, b2);
      let a1 = gl_dz4(act, code, ra1 + ov);
      c10 += outer(a1, b0);
      c11 += outer(a1, b1);
      c12 += outer(a1, b2);
      let a2 = gl_dz4(act, code, ra2 + ov);
      c20 += outer(a2, b0);
      c21 += outer(a2, b1);
      c22 += outer(a2, b2);
      let a3 = gl_dz4(act, code, ra3 + ov);
      c30 += outer(a3, b0);
      c31 += outer(a3, b1);
      c32 += outer(a3, b2);
      kb += vec4<u32>(gr.ni);
    }
  }
  let n = out.ni;
  let ld = u.ldx;
  let xo = out.xoff;
  gl_store(rs0, cs0, m, n, ld, xo, c00);
  gl_store(rs0, cs1, m, n, ld, xo, c01);
  gl_store(rs0, cs2, m, n, ld, xo, c02);
  gl_store(rs1, cs0, m, n, ld, xo, c10);
  gl_store(rs1, cs1, m, n, ld, xo, c11);
  gl_store(rs1, cs2, m, n, ld, xo, c12);
  gl_store(rs2, cs0, m, n, ld, xo, c20);
  gl_store(rs2, cs1, m, n, ld, xo, c21);
  gl_store(rs2, cs2, m, n, ld, xo, c22);
  gl_store(rs3, cs0, m, n, ld, xo, c30);
  gl_store(rs3, cs1, m, n, ld, xo, c31);
  gl_store(rs3, cs2, m, n, ld, xo, c32);
}

// Entry points: grouped_linear_dx (act = none), grouped_linear_dx_act (relu or tanh).
fn dx_tiles(act: bool, wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) {
  let shared_in = u.sharedInput == 1u;
  let ng = select(u.groupCount, 1u, shared_in);
  for (var g = wid.z; g < ng; g += nwg.z) {
    let gr = group(g);
    // a shared input sums every group; otherwise group g alone
    let g0 = select(g, 0u, shared_in);
    let g1 = select(g + 1u, u.groupCount, shared_in);
    for (var ty = wid.y; ty * GL_ROWS < u.m; ty += nwg.y) {
      for (var tx = wid.x; tx * GL_COLS < gr.ni; tx += nwg.x) {
        let r0 = ty * GL_ROWS + lid.y;
        let n0 = tx * GL_COLS + lid.x;
        if (r0 < u.m && n0 < gr.ni) {
          dx_block(act, g0, g1, gr, r0, n0);
        }
      }
    }
  }
}

@compute @workgroup_size(8, 8)
fn grouped_linear_dx(@builtin(workgroup_id) wid: vec3<u32>,
                     @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
  dx_tiles(false, wid, nwg, lid);
}

@compute @workgroup_size(8, 8)
fn grouped_linear_dx_act(@builtin(workgroup_id) wid: vec3<u32>,
                         @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_id) lid: vec3<u32>) {
  dx_tiles(true, wid, nwg, lid);
}

// ---- dW and db: bindings gl_a dy, gl_b x, gl_c y, gl_out. dW = dZᵀ·x contracts over the M rows
// (up to ~10⁵) for a small [O, I] result, so the rows are split (split-K): grid z runs over G·S
// (group z / S, slice z % S) and slice s sums rows [s·R, (s+1)·R), R = u.sliceRows. db rides
// along as an extra column of ones appended to x. Slice s writes entries [s·P, (s+1)·P) of gl_out
// in the packed layout (dW_g at wOff_g, db_g at bOff_g): with S = 1 that is the gradient itself,
// otherwise partials for grouped_linear_reduce.

fn dw_put(s: u32, gr: Group, o: u32, i: u32, v: f32) {
  if (i > gr.ni || (i == gr.ni && u.hasBias == 0u)) { return; }
  let at = select(gr.woff + o * gr.ni + i, gr.boff + o, i == gr.ni);
  gl_out[s * u.packed + at] = v;
}

// Block v of rows os (column q: row os[q]) and columns is; rows past O_g are dropped.
fn dw_store(s: u32, gr: Group, os: vec4<u32>, is: vec4<u32>, v: mat4x4<f32>) {
  for (var q = 0u; q < 4u; q++) {
    if (os[q] < gr.no) {
      for (var k = 0u; k < 4u; k++) { dw_put(s, gr, os[q], is[k], v[q][k]); }
    }
  }
}

fn dw_block(act: bool, gr: Group, s: u32, o0: u32, i0: u32) {
  let code = u.activation;
  let ldx = u.ldx;
  let ldy = u.ldy;
  let first = s * u.sliceRows;
  let last = min(first + u.sliceRows, u.m);
  let os0 = quad(o0, 0u);
  let os1 = quad(o0, 1u);
  let os2 = quad(o0, 2u);
  let is0 = quad(i0, 0u);
  let is1 = quad(i0, 1u);
  let is2 = quad(i0, 2u);
  let yoff = vec4<u32>(gr.yoff);
  let ro0 = min(os0, vec4<u32>(gr.no - 1u)) + yoff;
  let ro1 = min(os1, vec4<u32>(gr.no - 1u)) + yoff;
  let ro2 = min(os2, vec4<u32>(gr.no - 1u)) + yoff;
  let xoff = vec4<u32>(gr.xoff);
  let ci0 = min(is0, vec4<u32>(gr.ni - 1u)) + xoff;
  let ci1 = min(is1, vec4<u32>(gr.ni - 1u)) + xoff;
  let ci2 = min(is2, vec4<u32>(gr.ni - 1u)) + xoff;
  let ones0 = is0 == vec4<u32>(gr.ni);
  let ones1 = is1 == vec4<u32>(gr.ni);
  let ones2 = is2 == vec4<u32>(gr.ni);
  let one = vec4<f32>(1.0);
  var c00 = mat4x4<f32>();
  var c01 = mat4x4<f32>();
  var c02 = mat4x4<f32>();
  var c10 = mat4x4<f32>();
  var c11 = mat4x4<f32>();
  var c12 = mat4x4<f32>();
  var c20 = mat4x4<f32>();
  var c21 = mat4x4<f32>();
  var c22 = mat4x4<f32>();
  var yo = vec4<u32>(first * ldy);
  var xo = vec4<u32>(first * ldx);
  for (var r = first; r < last; r++) {
    let b0 = select(gl_b4(ci0 + xo), one, ones0);
    let b1 = select(gl_b4(ci1 + xo), one, ones1);
    let b2 = select(gl_b4(ci2 + xo), one, ones2);
    let a0 = gl_dz4(act, code, ro0 + yo);
    c00 += outer(a0, b0);
    c01 += outer(a0, b1);
    c02 += outer(a0, b2);
    let a1 = gl_dz4(act, code, ro1 + yo);
    c10 += outer(a1, b0);
    c11 += outer(a1, b1);
    c12 += outer(a1, b2);
    let a2 = gl_dz4(act, code, ro2 + yo);
    c20 += outer(a2, b0);
    c21 += outer(a2, b1);
    c22 += outer(a2, b2);
    yo += vec4<u32>(ldy);
    xo += vec4<u32>(ldx);
  }
  dw_store(s, gr, os0, is0, c00);
  dw_store(s, gr, os0, is1, c01);
  dw_store(s, gr, os0, is2, c02);
  dw_store(s, gr, os1, is0, c10);
  dw_store(s, gr, os1, is1, c11);
  dw_store(s, gr, os1, is2, c12);
  dw_store(s, gr, os2, is0, c20);
  dw_store(s, gr, os2, is1, c21);
  dw_store(s, gr, os2, is2, c22);
}

// Entry points: grouped_linear_dw (act = none), grouped_linear_dw_act (relu or tanh).
fn dw_tiles(act: bool, wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) {
  let slices = u.slices;
  for (var z = wid.z; z < u.groupCount * slices; z += nwg.z) {
    let gr = group(z / slices);
    let s = z % slices;
    let nc = gr.ni + u.hasBias;
    for (var ty = wid.y; ty * GL_DW < gr.no; ty += nwg.y) {
      for (var tx = wid.x; tx * GL_DW < nc; tx += nwg.x) {
        let o0 = ty * GL_DW + lid.y;
        let i0 = tx * GL_DW + lid.x;
        if (o0 < gr.no && i0 < nc) {
          dw_block(act, gr, s, o0, i0);
        }
      }
    }
  }
}

@compute @workgroup_size(8, 8)
fn grouped_linear_dw(@builtin(workgroup_id) wid: vec3<u32>,
                     @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
  dw_tiles(false, wid, nwg, lid);
}

@compute @workgroup_size(8, 8)
fn grouped_linear_dw_act(@builtin(workgroup_id) wid: vec3<u32>,
                         @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_id) lid: vec3<u32>) {
  dw_tiles(true, wid, nwg, lid);
}

// Sums the S partials [S, P] (gl_a) into the packed gradient [P] (1-D linearGrid of 64); the
// alignment gaps between segments are summed too and never read.
@group(0) @binding(2) var<storage, read_write> gl_red: array<f32>;

@compute @workgroup_size(64)
fn grouped_linear_reduce(@builtin(workgroup_id) wid: vec3<u32>,
                         @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let p = u.packed;
  let j = linear_index(wid, nwg, lid, 64u);
  if (j >= p) { return; }
  var acc = 0.0;
  for (var s = 0u; s < u.slices; s++) {
    acc += gl_a[s * p + j];
  }
  gl_red[j] = acc;
}

// ---- 4×4 variants (32×32 tiles) for small layers (hidden 32: O = 16, 32 or 96, where a wide block computes mostly clamped duplicates); same bindings and
// uniforms as above.
const GL_TILE4 = 32u;

// Stores a 4×4 block at rows rs, columns cs (< n) of a matrix with row stride ld from column c0.
fn gl_store4(rs: vec4<u32>, cs: vec4<u32>, m: u32, n: u32, ld: u32, c0: u32, v: array<vec4<f32>, 4>) {
  for (var a = 0u; a < 4u; a++) {
    if (rs[a] < m) {
      let base = rs[a] * ld + c0;
      for (var b = 0u; b < 4u; b++) {
        if (cs[b] < n) { gl_out[base + cs[b]] = v[a][b]; }
      }
    }
  }
}

fn fwd_block4(gr: Group, m0: u32, n0: u32) {
  let m = u.m;
  let ldx = u.ldx;
  let rs = vec4<u32>(m0) + GL_STEP;
  let cs = vec4<u32>(n0) + GL_STEP;
  let ra = min(rs, vec4<u32>(m - 1u)) * ldx + vec4<u32>(gr.xoff);
  let nb = min(cs, vec4<u32>(gr.no - 1u));
  let rb = nb * gr.ni + vec4<u32>(gr.woff);
  var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var i = 0u; i < gr.ni; i++) {
    let bv = vec4<f32>(gl_b[rb.x + i], gl_b[rb.y + i], gl_b[rb.z + i], gl_b[rb.w + i]);
    acc[0] += gl_a[ra.x + i] * bv;
    acc[1] += gl_a[ra.y + i] * bv;
    acc[2] += gl_a[ra.z + i] * bv;
    acc[3] += gl_a[ra.w + i] * bv;
  }
  var bias = vec4<f32>(0.0);
  if (u.hasBias == 1u) {
    let bo = nb + vec4<u32>(gr.boff);
    bias = vec4<f32>(gl_c[bo.x], gl_c[bo.y], gl_c[bo.z], gl_c[bo.w]);
  }
  let code = u.activation;
  for (var a = 0u; a < 4u; a++) {
    let e = acc[a] + bias;
    acc[a] = vec4<f32>(gl_act(code, e.x), gl_act(code, e.y), gl_act(code, e.z), gl_act(code, e.w));
  }
  gl_store4(rs, cs, m, gr.no, u.ldy, gr.yoff, acc);
}

@compute @workgroup_size(8, 8)
fn grouped_linear_fwd4(@builtin(workgroup_id) wid: vec3<u32>,
                      @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_id) lid: vec3<u32>) {
  for (var g = wid.z; g < u.groupCount; g += nwg.z) {
    let gr = group(g);
    for (var ty = wid.y; ty * GL_TILE4 < u.m; ty += nwg.y) {
      for (var tx = wid.x; tx * GL_TILE4 < gr.no; tx += nwg.x) {
        let m0 = ty * GL_TILE4 + lid.y;
        let n0 = tx * GL_TILE4 + lid.x;
        if (m0 < u.m && n0 < gr.no) {
          fwd_block4(gr, m0, n0);
        }
      }
    }
  }
}

fn dx_acc4(gr: Group, rs: vec4<u32>, cs: vec4<u32>, acc: ptr<function, array<vec4<f32>, 4>>) {
  let m = u.m;
  let ldy = u.ldy;
  let code = u.activation;
  let ra = min(rs, vec4<u32>(m - 1u)) * ldy + vec4<u32>(gr.yoff);
  let cb = min(cs, vec4<u32>(gr.ni - 1u)) + vec4<u32>(gr.woff);
  var kb = 0u;
  for (var o = 0u; o < gr.no; o++) {
    let bv = vec4<f32>(gl_b[cb.x + kb], gl_b[cb.y + kb], gl_b[cb.z + kb], gl_b[cb.w + kb]);
    (*acc)[0] += gl_dz(code, ra.x + o) * bv;
    (*acc)[1] += gl_dz(code, ra.y + o) * bv;
    (*acc)[2] += gl_dz(code, ra.z + o) * bv;
    (*acc)[3] += gl_dz(code, ra.w + o) * bv;
    kb += gr.ni;
  }
}

@compute @workgroup_size(8, 8)
fn grouped_linear_dx4(@builtin(workgroup_id) wid: vec3<u32>,
                     @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
  let shared_in = u.sharedInput == 1u;
  let ng = select(u.groupCount, 1u, shared_in);
  for (var g = wid.z; g < ng; g += nwg.z) {
    let gr = group(g);
    for (var ty = wid.y; ty * GL_TILE4 < u.m; ty += nwg.y) {
      for (var tx = wid.x; tx * GL_TILE4 < gr.ni; tx += nwg.x) {
        let m0 = ty * GL_TILE4 + lid.y;
        let n0 = tx * GL_TILE4 + lid.x;
        if (m0 < u.m && n0 < gr.ni) {
          let rs = vec4<u32>(m0) + GL_STEP;
          let cs = vec4<u32>(n0) + GL_STEP;
          var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0),
                                        vec4<f32>(0.0));
          if (shared_in) {
            for (var h = 0u; h < u.groupCount; h++) { dx_acc4(group(h), rs, cs, &acc); }
          } else {
            dx_acc4(gr, rs, cs, &acc);
          }
          gl_store4(rs, cs, u.m, gr.ni, u.ldx, gr.xoff, acc);
        }
      }
    }
  }
}

fn dw_block4(gr: Group, s: u32, o0: u32, i0: u32) {
  let code = u.activation;
  let ldx = u.ldx;
  let ldy = u.ldy;
  let first = s * u.sliceRows;
  let last = min(first + u.sliceRows, u.m);
  let os = vec4<u32>(o0) + GL_STEP;
  let is = vec4<u32>(i0) + GL_STEP;
  let ro = min(os, vec4<u32>(gr.no - 1u)) + vec4<u32>(gr.yoff);
  let ci = min(is, vec4<u32>(gr.ni - 1u)) + vec4<u32>(gr.xoff);
  let ones = is == vec4<u32>(gr.ni);
  var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  var yo = first * ldy;
  var xo = first * ldx;
  for (var r = first; r < last; r++) {
    let xv = vec4<f32>(gl_b[xo + ci.x], gl_b[xo + ci.y], gl_b[xo + ci.z], gl_b[xo + ci.w]);
    let bv = select(xv, vec4<f32>(1.0), ones);
    acc[0] += gl_dz(code, yo + ro.x) * bv;
    acc[1] += gl_dz(code, yo + ro.y) * bv;
    acc[2] += gl_dz(code, yo + ro.z) * bv;
    acc[3] += gl_dz(code, yo + ro.w) * bv;
    yo += ldy;
    xo += ldx;
  }
  for (var a = 0u; a < 4u; a++) {
    if (os[a] < gr.no) {
      for (var b = 0u; b < 4u; b++) { dw_put(s, gr, os[a], is[b], acc[a][b]); }
    }
  }
}

@compute @workgroup_size(8, 8)
fn grouped_linear_dw4(@builtin(workgroup_id) wid: vec3<u32>,
                     @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
  let slices = u.slices;
  for (var z = wid.z; z < u.groupCount * slices; z += nwg.z) {
    let gr = group(z / slices);
    let s = z % slices;
    let nc = gr.ni + u.hasBias;
    for (var ty = wid.y; ty * GL_TILE4 < gr.no; ty += nwg.y) {
      for (var tx = wid.x; tx * GL_TILE4 < nc; tx += nwg.x) {
        let o0 = ty * GL_TILE4 + lid.y;
        let i0 = tx * GL_TILE4 + lid.x;
        if (o0 < gr.no && i0 < nc) {
          dw_block4(gr, s, o0, i0);
        }
      }
    }
  }
}
