// Fused linear layer y = act(x·Wᵀ + b) and its backward pass (src/ops/linear.ts). x is a contiguous
// [M, I] matrix (every leading axis folded into M), W a contiguous [O, I] one (PyTorch layout), y and
// dy contiguous [M, O]. Each invocation accumulates 4×4 outputs in registers and a workgroup of 8×8
// invocations covers a 32×32 tile, as in shaders/matmul.wgsl, but an invocation's rows and columns
// are 8 apart (LIN_STEP) rather than adjacent; rows and columns past the edge read a clamped (valid)
// element and are not stored, so the inner loops have no branches.
// Activation codes: 0 none, 1 relu, 2 tanh. The backward kernels apply act′ to dy as they load it
// (from the saved y: relu′ = [y > 0], tanh′ = 1 − y²), so dZ = dy ⊙ act′ is never stored.

@group(0) @binding(1) var<storage, read> lin_a: array<f32>;
@group(0) @binding(2) var<storage, read> lin_b: array<f32>;
@group(0) @binding(3) var<storage, read> lin_c: array<f32>;
@group(0) @binding(4) var<storage, read_write> lin_out: array<f32>;

// Outputs per workgroup along each axis: 8 invocations × 4.
const LIN_TILE = 32u;

fn lin_act(code: u32, v: f32) -> f32 {
  if (code == 1u) { return max(v, 0.0); }
  if (code == 2u) { return tanh_safe(v); }
  return v;
}

// act′ from the activation's output y (relu′(0) = 0, as PyTorch).
fn lin_dact(code: u32, y: f32) -> f32 {
  if (code == 1u) { return select(0.0, 1.0, y > 0.0); }
  if (code == 2u) { return 1.0 - y * y; }
  return 1.0;
}

// Each invocation owns rows r0 + 8j and columns c0 + 8j (j < 4) of its 32×32 tile, so neighbouring
// invocations touch neighbouring columns (coalesced on GPUs, contiguous lanes on llvmpipe).
const LIN_STEP = vec4<u32>(0u, 8u, 16u, 24u);

fn lin_store_row(r: u32, cs: vec4<u32>, n: u32, v: vec4<f32>) {
  let base = r * n;
  if (cs.x < n) { lin_out[base + cs.x] = v.x; }
  if (cs.y < n) { lin_out[base + cs.y] = v.y; }
  if (cs.z < n) { lin_out[base + cs.z] = v.z; }
  if (cs.w < n) { lin_out[base + cs.w] = v.w; }
}

fn lin_store_block(rs: vec4<u32>, cs: vec4<u32>, m: u32, n: u32, c0: vec4<f32>, c1: vec4<f32>,
                   c2: vec4<f32>, c3: vec4<f32>) {
  if (rs.x < m) { lin_store_row(rs.x, cs, n, c0); }
  if (rs.y < m) { lin_store_row(rs.y, cs, n, c1); }
  if (rs.z < m) { lin_store_row(rs.z, cs, n, c2); }
  if (rs.w < m) { lin_store_row(rs.w, cs, n, c3); }
}

// ---- forward: y = act(x·Wᵀ + b) ------------------------------------------------------------------
// Bindings: lin_a x [M, I], lin_b W [O, I], lin_c bias [O] (any buffer when U3 = 0), lin_out y.
// Uniforms: U0 M, U1 O, U2 I, U3 has bias, U4 activation.

fn fwd_block(m0: u32, n0: u32) {
  let m = U(0u);
  let n = U(1u);
  let k = U(2u);
  let rs = vec4<u32>(m0) + LIN_STEP;
  let cs = vec4<u32>(n0) + LIN_STEP;
  let ra = min(rs, vec4<u32>(m - 1u)) * k;
  let nb = min(cs, vec4<u32>(n - 1u));
  let rb = nb * k;
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  for (var i = 0u; i < k; i++) {
    let bv = vec4<f32>(lin_b[rb.x + i], lin_b[rb.y + i], lin_b[rb.z + i], lin_b[rb.w + i]);
    c0 += lin_a[ra.x + i] * bv;
    c1 += lin_a[ra.y + i] * bv;
    c2 += lin_a[ra.z + i] * bv;
    c3 += lin_a[ra.w + i] * bv;
  }
  var bias = vec4<f32>(0.0);
  if (U(3u) == 1u) {
    bias = vec4<f32>(lin_c[nb.x], lin_c[nb.y], lin_c[nb.z], lin_c[nb.w]);
  }
  let code = U(4u);
  let e0 = c0 + bias;
  let e1 = c1 + bias;
  let e2 = c2 + bias;
  let e3 = c3 + bias;
  lin_store_block(rs, cs, m, n,
    vec4<f32>(lin_act(code, e0.x), lin_act(code, e0.y), lin_act(code, e0.z), lin_act(code, e0.w)),
    vec4<f32>(lin_act(code, e1.x), lin_act(code, e1.y), lin_act(code, e1.z), lin_act(code, e1.w)),
    vec4<f32>(lin_act(code, e2.x), lin_act(code, e2.y), lin_act(code, e2.z), lin_act(code, e2.w)),
    vec4<f32>(lin_act(code, e3.x), lin_act(code, e3.y), lin_act(code, e3.z), lin_act(code, e3.w)));
}

// Grid: x over column tiles, y over row tiles (each capped at 65,535; the loops stride the rest).
@compute @workgroup_size(8, 8)
fn linear_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>) {
  for (var ty = wid.y; ty * LIN_TILE < U(0u); ty += nwg.y) {
    for (var tx = wid.x; tx * LIN_TILE < U(1u); tx += nwg.x) {
      let m0 = ty * LIN_TILE + lid.y;
      let n0 = tx * LIN_TILE + lid.x;
      if (m0 < U(0u) && n0 < U(1u)) {
        fwd_block(m0, n0);
      }
    }
  }
}

// ---- backward ------------------------------------------------------------------------------------
// Both kernels read dy and y through lin_dz; y is not read for act = none.

// dZ[j] = dy[j]·act′(y[j]) for flat index j of [M, O] (dy in lin_a, y in lin_c).
fn lin_dz(code: u32, j: u32) -> f32 {
  let g = lin_a[j];
  if (code == 0u) { return g; }
  return g * lin_dact(code, lin_c[j]);
}

// dx = dZ·W: [M, O]·[O, I]. Bindings: lin_a dy [M, O], lin_b W [O, I], lin_c y [M, O], lin_out dx.
// Uniforms: U0 M, U1 I, U2 O, U4 activation.
fn dx_block(m0: u32, n0: u32) {
  let m = U(0u);
  let n = U(1u);
  let k = U(2u);
  let code = U(4u);
  let rs = vec4<u32>(m0) + LIN_STEP;
  let cs = vec4<u32>(n0) + LIN_STEP;
  let ra = min(rs, vec4<u32>(m - 1u)) * k;
  let cb = min(cs, vec4<u32>(n - 1u));
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  var kb = 0u;
  for (var o = 0u; o < k; o++) {
    let bv = vec4<f32>(lin_b[cb.x + kb], lin_b[cb.y + kb], lin_b[cb.z + kb], lin_b[cb.w + kb]);
    c0 += lin_dz(code, ra.x + o) * bv;
    c1 += lin_dz(code, ra.y + o) * bv;
    c2 += lin_dz(code, ra.z + o) * bv;
    c3 += lin_dz(code, ra.w + o) * bv;
    kb += n;
  }
  lin_store_block(rs, cs, m, n, c0, c1, c2, c3);
}

@compute @workgroup_size(8, 8)
fn linear_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_id) lid: vec3<u32>) {
  for (var ty = wid.y; ty * LIN_TILE < U(0u); ty += nwg.y) {
    for (var tx = wid.x; tx * LIN_TILE < U(1u); tx += nwg.x) {
      let m0 = ty * LIN_TILE + lid.y;
      let n0 = tx * LIN_TILE + lid.x;
      if (m0 < U(0u) && n0 < U(1u)) {
        dx_block(m0, n0);
      }
    }
  }
}

// dW = dZᵀ·x ([O, M]·[M, I]) and db = Σ_m dZ, split over K = M: workgroup z sums rows
// [z·rows, (z+1)·rows) of its 32×32 tile. db rides along as an extra column I of ones appended to
// x, so a tile holds [O, I + 1] columns when db is wanted.
// Bindings: lin_a dy [M, O], lin_b x [M, I], lin_c y [M, O], lin_out and lin_out2 outputs.
// Uniforms: U0 O, U1 I, U2 M, U3 db wanted, U4 activation, U5 rows per slice, U6 slices S,
// U7 direct. Direct (S = 1): dW [O, I] into lin_out, db [O] into lin_out2. Otherwise the partial
// sums go to lin_out as [S, O, I + U3] for linear_dw_reduce.
@group(0) @binding(5) var<storage, read_write> lin_out2: array<f32>;

// Stores dW[o, i] (or db[o] at i = I) of slice s; columns past I + U3 are dropped.
fn dw_put(s: u32, o: u32, i: u32, v: f32) {
  let nI = U(1u);
  let nc = nI + U(3u);
  if (i >= nc) { return; }
  if (U(7u) == 0u) {
    lin_out[(s * U(0u) + o) * nc + i] = v;
  } else if (i < nI) {
    lin_out[o * nI + i] = v;
  } else {
    lin_out2[o] = v;
  }
}

fn dw_store(s: u32, o: u32, ci: vec4<u32>, v: vec4<f32>) {
  dw_put(s, o, ci.x, v.x);
  dw_put(s, o, ci.y, v.y);
  dw_put(s, o, ci.z, v.z);
  dw_put(s, o, ci.w, v.w);
}

fn dw_block(s: u32, o0: u32, i0: u32) {
  let no = U(0u);
  let ni = U(1u);
  let code = U(4u);
  let first = s * U(5u);
  let last = min(first + U(5u), U(2u));
  let os = vec4<u32>(o0) + LIN_STEP;
  let is = vec4<u32>(i0) + LIN_STEP;
  let ro = min(os, vec4<u32>(no - 1u));
  let ci = min(is, vec4<u32>(ni - 1u));
  let ones = is == vec4<u32>(ni);
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  var yo = first * no;
  var xo = first * ni;
  for (var r = first; r < last; r++) {
    let xv = vec4<f32>(lin_b[xo + ci.x], lin_b[xo + ci.y], lin_b[xo + ci.z], lin_b[xo + ci.w]);
    let bv = select(xv, vec4<f32>(1.0), ones);
    c0 += lin_dz(code, yo + ro.x) * bv;
    c1 += lin_dz(code, yo + ro.y) * bv;
    c2 += lin_dz(code, yo + ro.z) * bv;
    c3 += lin_dz(code, yo + ro.w) * bv;
    yo += no;
    xo += ni;
  }
  if (os.x < no) { dw_store(s, os.x, is, c0); }
  if (os.y < no) { dw_store(s, os.y, is, c1); }
  if (os.z < no) { dw_store(s, os.z, is, c2); }
  if (os.w < no) { dw_store(s, os.w, is, c3); }
}

// Grid: x over column tiles of I + U3, y over row tiles of O, z over the S slices.
@compute @workgroup_size(8, 8)
fn linear_dw(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_id) lid: vec3<u32>) {
  let nc = U(1u) + U(3u);
  for (var s = wid.z; s < U(6u); s += nwg.z) {
    for (var ty = wid.y; ty * LIN_TILE < U(0u); ty += nwg.y) {
      for (var tx = wid.x; tx * LIN_TILE < nc; tx += nwg.x) {
        let o0 = ty * LIN_TILE + lid.y;
        let i0 = tx * LIN_TILE + lid.x;
        if (o0 < U(0u) && i0 < nc) {
          dw_block(s, o0, i0);
        }
      }
    }
  }
}

// Sums the S partials of linear_dw: one invocation per (o, i) of [O, I + U3] (1-D linearGrid of
// 64). Bindings: lin_a partials [S, O, I + U3], then the outputs dW [O, I] and db [O] (any
// one-element buffer when U3 = 0). Uniforms as linear_dw.
@group(0) @binding(2) var<storage, read_write> red_dw: array<f32>;
@group(0) @binding(3) var<storage, read_write> red_db: array<f32>;

@compute @workgroup_size(64)
fn linear_dw_reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let nI = U(1u);
  let nc = nI + U(3u);
  let per = U(0u) * nc;
  let j = linear_index(wid, nwg, lid, 64u);
  if (j >= per) { return; }
  var acc = 0.0;
  for (var s = 0u; s < U(6u); s++) {
    acc += lin_a[s * per + j];
  }
  let o = j / nc;
  let i = j % nc;
  if (i < nI) {
    red_dw[o * nI + i] = acc;
  } else {
    red_db[o] = acc;
  }
}
