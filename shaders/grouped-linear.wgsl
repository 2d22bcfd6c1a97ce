// Grouped linear layer (src/ops/grouped-linear.ts): G ≤ 4 independent layers y_g = act(x_g·W_gᵀ + b_g)
// in one dispatch, the coefficient heads of the model side by side. x is [M, ldx] and group g reads
// its columns [xOff_g, xOff_g + I_g) (all groups read columns [0, I) when the input is shared);
// y is [M, ldy] and group g writes columns [yOff_g, yOff_g + O_g). The weights and biases of all
// groups are packed in one buffer (W_g [O_g, I_g] at wOff_g, b_g at bOff_g); the weight gradients
// come back in the same packed layout. Register blocking as shaders/linear.wgsl: 8×8 invocations,
// each an 8×8 block of outputs 8 apart (a 64×64 tile); edges read a clamped element and skip the
// store.
// Uniforms: U0 M, U1 ldx, U2 ldy, U3 G, U4 has bias, U5 activation (0 none, 1 relu, 2 tanh),
// U6 shared input, U7 rows per slice, U8 slices S, U10 packed size P;
// group g at 16 + 6g: I_g, O_g, xOff_g, yOff_g, wOff_g, bOff_g.

@group(0) @binding(1) var<storage, read> gl_a: array<f32>;
@group(0) @binding(2) var<storage, read> gl_b: array<f32>;
@group(0) @binding(3) var<storage, read> gl_c: array<f32>;
@group(0) @binding(4) var<storage, read_write> gl_out: array<f32>;

const GL_TILE = 64u;
const GL_STEP = vec4<u32>(0u, 8u, 16u, 24u);
const GL_HALF = vec4<u32>(32u);

struct Group {
  ni: u32,
  no: u32,
  xoff: u32,
  yoff: u32,
  woff: u32,
  boff: u32,
}

fn group(g: u32) -> Group {
  let b = 16u + 6u * g;
  return Group(U(b), U(b + 1u), U(b + 2u), U(b + 3u), U(b + 4u), U(b + 5u));
}

fn gl_act(code: u32, v: f32) -> f32 {
  if (code == 1u) { return max(v, 0.0); }
  if (code == 2u) { return tanh_safe(v); }
  return v;
}

fn gl_dact(code: u32, y: f32) -> f32 {
  if (code == 1u) { return select(0.0, 1.0, y > 0.0); }
  if (code == 2u) { return 1.0 - y * y; }
  return 1.0;
}

// dZ = dy ⊙ act′(y) at flat index j of the [M, ldy] output (dy in gl_a, y in gl_c).
fn gl_dz(code: u32, j: u32) -> f32 {
  let g = gl_a[j];
  if (code == 0u) { return g; }
  return g * gl_dact(code, gl_c[j]);
}

// Stores the 8×8 block c (c[2j] row j's columns cs0, c[2j + 1] its columns cs1; rows rs0 then
// rs1) into a matrix with row stride ld from column c0; rows ≥ m and columns ≥ n are dropped.
fn gl_store(rs0: vec4<u32>, rs1: vec4<u32>, cs0: vec4<u32>, cs1: vec4<u32>, m: u32, n: u32,
            ld: u32, c0: u32, c: array<vec4<f32>, 16>) {
  for (var j = 0u; j < 8u; j++) {
    let r = select(rs1[j & 3u], rs0[j & 3u], j < 4u);
    if (r < m) {
      let base = r * ld + c0;
      for (var q = 0u; q < 4u; q++) {
        if (cs0[q] < n) { gl_out[base + cs0[q]] = c[2u * j][q]; }
        if (cs1[q] < n) { gl_out[base + cs1[q]] = c[2u * j + 1u][q]; }
      }
    }
  }
}

// ---- forward: bindings gl_a x, gl_b and gl_c the packed W and b (the same buffer twice: every
// binding must be used), gl_out y. Grid x over column tiles of max O_g,
// y over row tiles, z over the groups.

fn fwd_block(gr: Group, m0: u32, n0: u32) {
  let m = U(0u);
  let ldx = U(1u);
  let rs0 = vec4<u32>(m0) + GL_STEP;
  let rs1 = rs0 + GL_HALF;
  let cs0 = vec4<u32>(n0) + GL_STEP;
  let cs1 = cs0 + GL_HALF;
  let ra0 = min(rs0, vec4<u32>(m - 1u)) * ldx + vec4<u32>(gr.xoff);
  let ra1 = min(rs1, vec4<u32>(m - 1u)) * ldx + vec4<u32>(gr.xoff);
  let nb0 = min(cs0, vec4<u32>(gr.no - 1u));
  let nb1 = min(cs1, vec4<u32>(gr.no - 1u));
  let rb0 = nb0 * gr.ni + vec4<u32>(gr.woff);
  let rb1 = nb1 * gr.ni + vec4<u32>(gr.woff);
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0);
  var c5 = vec4<f32>(0.0);
  var c6 = vec4<f32>(0.0);
  var c7 = vec4<f32>(0.0);
  var c8 = vec4<f32>(0.0);
  var c9 = vec4<f32>(0.0);
  var c10 = vec4<f32>(0.0);
  var c11 = vec4<f32>(0.0);
  var c12 = vec4<f32>(0.0);
  var c13 = vec4<f32>(0.0);
  var c14 = vec4<f32>(0.0);
  var c15 = vec4<f32>(0.0);
  for (var i = 0u; i < gr.ni; i++) {
    let b0 = vec4<f32>(gl_b[rb0.x + i], gl_b[rb0.y + i], gl_b[rb0.z + i], gl_b[rb0.w + i]);
    let b1 = vec4<f32>(gl_b[rb1.x + i], gl_b[rb1.y + i], gl_b[rb1.z + i], gl_b[rb1.w + i]);
    let a0 = gl_a[ra0.x + i];
    c0 += a0 * b0;
    c1 += a0 * b1;
    let a1 = gl_a[ra0.y + i];
    c2 += a1 * b0;
    c3 += a1 * b1;
    let a2 = gl_a[ra0.z + i];
    c4 += a2 * b0;
    c5 += a2 * b1;
    let a3 = gl_a[ra0.w + i];
    c6 += a3 * b0;
    c7 += a3 * b1;
    let a4 = gl_a[ra1.x + i];
    c8 += a4 * b0;
    c9 += a4 * b1;
    let a5 = gl_a[ra1.y + i];
    c10 += a5 * b0;
    c11 += a5 * b1;
    let a6 = gl_a[ra1.z + i];
    c12 += a6 * b0;
    c13 += a6 * b1;
    let a7 = gl_a[ra1.w + i];
    c14 += a7 * b0;
    c15 += a7 * b1;
  }
  var bias0 = vec4<f32>(0.0);
  var bias1 = vec4<f32>(0.0);
  if (U(4u) == 1u) {
    let bo0 = nb0 + vec4<u32>(gr.boff);
    let bo1 = nb1 + vec4<u32>(gr.boff);
    bias0 = vec4<f32>(gl_c[bo0.x], gl_c[bo0.y], gl_c[bo0.z], gl_c[bo0.w]);
    bias1 = vec4<f32>(gl_c[bo1.x], gl_c[bo1.y], gl_c[bo1.z], gl_c[bo1.w]);
  }
  var acc = array<vec4<f32>, 16>(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15);
  let code = U(5u);
  for (var a = 0u; a < 16u; a++) {
    let e = acc[a] + select(bias1, bias0, a % 2u == 0u);
    acc[a] = vec4<f32>(gl_act(code, e.x), gl_act(code, e.y), gl_act(code, e.z), gl_act(code, e.w));
  }
  gl_store(rs0, rs1, cs0, cs1, m, gr.no, U(2u), gr.yoff, acc);
}

@compute @workgroup_size(8, 8)
fn grouped_linear_fwd(@builtin(workgroup_id) wid: vec3<u32>,
                      @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_id) lid: vec3<u32>) {
  for (var g = wid.z; g < U(3u); g += nwg.z) {
    let gr = group(g);
    for (var ty = wid.y; ty * GL_TILE < U(0u); ty += nwg.y) {
      for (var tx = wid.x; tx * GL_TILE < gr.no; tx += nwg.x) {
        let m0 = ty * GL_TILE + lid.y;
        let n0 = tx * GL_TILE + lid.x;
        if (m0 < U(0u) && n0 < gr.no) {
          fwd_block(gr, m0, n0);
        }
      }
    }
  }
}

// ---- dx: bindings gl_a dy, gl_b packed W, gl_c y, gl_out dx [M, ldx]. Each group writes dZ_g·W_g
// into its own input columns (grid z over the groups); with a shared input (U6 = 1, grid z = 1)
// every block sums the products of all groups into dx [M, I].

fn dx_acc(gr: Group, m0: u32, n0: u32, acc: ptr<function, array<vec4<f32>, 16>>) {
  let m = U(0u);
  let ldy = U(2u);
  let code = U(5u);
  let rs0 = vec4<u32>(m0) + GL_STEP;
  let rs1 = rs0 + GL_HALF;
  let cs0 = vec4<u32>(n0) + GL_STEP;
  let cs1 = cs0 + GL_HALF;
  let ra0 = min(rs0, vec4<u32>(m - 1u)) * ldy + vec4<u32>(gr.yoff);
  let ra1 = min(rs1, vec4<u32>(m - 1u)) * ldy + vec4<u32>(gr.yoff);
  let cb0 = min(cs0, vec4<u32>(gr.ni - 1u)) + vec4<u32>(gr.woff);
  let cb1 = min(cs1, vec4<u32>(gr.ni - 1u)) + vec4<u32>(gr.woff);
  var c0 = (*acc)[0];
  var c1 = (*acc)[1];
  var c2 = (*acc)[2];
  var c3 = (*acc)[3];
  var c4 = (*acc)[4];
  var c5 = (*acc)[5];
  var c6 = (*acc)[6];
  var c7 = (*acc)[7];
  var c8 = (*acc)[8];
  var c9 = (*acc)[9];
  var c10 = (*acc)[10];
  var c11 = (*acc)[11];
  var c12 = (*acc)[12];
  var c13 = (*acc)[13];
  var c14 = (*acc)[14];
  var c15 = (*acc)[15];
  var kb = 0u;
  for (var o = 0u; o < gr.no; o++) {
    let b0 = vec4<f32>(gl_b[cb0.x + kb], gl_b[cb0.y + kb], gl_b[cb0.z + kb], gl_b[cb0.w + kb]);
    let b1 = vec4<f32>(gl_b[cb1.x + kb], gl_b[cb1.y + kb], gl_b[cb1.z + kb], gl_b[cb1.w + kb]);
    let a0 = gl_dz(code, ra0.x + o);
    c0 += a0 * b0;
    c1 += a0 * b1;
    let a1 = gl_dz(code, ra0.y + o);
    c2 += a1 * b0;
    c3 += a1 * b1;
    let a2 = gl_dz(code, ra0.z + o);
    c4 += a2 * b0;
    c5 += a2 * b1;
    let a3 = gl_dz(code, ra0.w + o);
    c6 += a3 * b0;
    c7 += a3 * b1;
    let a4 = gl_dz(code, ra1.x + o);
    c8 += a4 * b0;
    c9 += a4 * b1;
    let a5 = gl_dz(code, ra1.y + o);
    c10 += a5 * b0;
    c11 += a5 * b1;
    let a6 = gl_dz(code, ra1.z + o);
    c12 += a6 * b0;
    c13 += a6 * b1;
    let a7 = gl_dz(code, ra1.w + o);
    c14 += a7 * b0;
    c15 += a7 * b1;
    kb += gr.ni;
  }
  *acc = array<vec4<f32>, 16>(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15);
}

@compute @workgroup_size(8, 8)
fn grouped_linear_dx(@builtin(workgroup_id) wid: vec3<u32>,
                     @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
  let shared_in = U(6u) == 1u;
  let ng = select(U(3u), 1u, shared_in);
  for (var g = wid.z; g < ng; g += nwg.z) {
    let gr = group(g);
    for (var ty = wid.y; ty * GL_TILE < U(0u); ty += nwg.y) {
      for (var tx = wid.x; tx * GL_TILE < gr.ni; tx += nwg.x) {
        let m0 = ty * GL_TILE + lid.y;
        let n0 = tx * GL_TILE + lid.x;
        if (m0 < U(0u) && n0 < gr.ni) {
          var acc: array<vec4<f32>, 16>;
          if (shared_in) {
            for (var h = 0u; h < U(3u); h++) { dx_acc(group(h), m0, n0, &acc); }
          } else {
            dx_acc(gr, m0, n0, &acc);
          }
          let rs0 = vec4<u32>(m0) + GL_STEP;
          let cs0 = vec4<u32>(n0) + GL_STEP;
          gl_store(rs0, rs0 + GL_HALF, cs0, cs0 + GL_HALF, U(0u), gr.ni, U(1u), gr.xoff, acc);
        }
      }
    }
  }
}

// ---- dW and db: bindings gl_a dy, gl_b x, gl_c y, gl_out. Split-K over the M rows as
// shaders/linear.wgsl: grid z runs over G·S (group z / S, slice z % S); db is an extra column of
// ones. Slice s writes rows [s·P, (s+1)·P) of gl_out in the packed layout (dW_g at wOff_g, db_g at
// bOff_g): with S = 1 that is the gradient itself, otherwise partials for grouped_linear_reduce.

fn dw_put(s: u32, gr: Group, o: u32, i: u32, v: f32) {
  if (i > gr.ni || (i == gr.ni && U(4u) == 0u)) { return; }
  let at = select(gr.woff + o * gr.ni + i, gr.boff + o, i == gr.ni);
  gl_out[s * U(10u) + at] = v;
}

fn dw_block(gr: Group, s: u32, o0: u32, i0: u32) {
  let code = U(5u);
  let ldx = U(1u);
  let ldy = U(2u);
  let first = s * U(7u);
  let last = min(first + U(7u), U(0u));
  let os0 = vec4<u32>(o0) + GL_STEP;
  let os1 = os0 + GL_HALF;
  let is0 = vec4<u32>(i0) + GL_STEP;
  let is1 = is0 + GL_HALF;
  let ro0 = min(os0, vec4<u32>(gr.no - 1u)) + vec4<u32>(gr.yoff);
  let ro1 = min(os1, vec4<u32>(gr.no - 1u)) + vec4<u32>(gr.yoff);
  let ci0 = min(is0, vec4<u32>(gr.ni - 1u)) + vec4<u32>(gr.xoff);
  let ci1 = min(is1, vec4<u32>(gr.ni - 1u)) + vec4<u32>(gr.xoff);
  let ones0 = is0 == vec4<u32>(gr.ni);
  let ones1 = is1 == vec4<u32>(gr.ni);
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0);
  var c5 = vec4<f32>(0.0);
  var c6 = vec4<f32>(0.0);
  var c7 = vec4<f32>(0.0);
  var c8 = vec4<f32>(0.0);
  var c9 = vec4<f32>(0.0);
  var c10 = vec4<f32>(0.0);
  var c11 = vec4<f32>(0.0);
  var c12 = vec4<f32>(0.0);
  var c13 = vec4<f32>(0.0);
  var c14 = vec4<f32>(0.0);
  var c15 = vec4<f32>(0.0);
  var yo = first * ldy;
  var xo = first * ldx;
  for (var r = first; r < last; r++) {
    let x0 = vec4<f32>(gl_b[xo + ci0.x], gl_b[xo + ci0.y], gl_b[xo + ci0.z], gl_b[xo + ci0.w]);
    let x1 = vec4<f32>(gl_b[xo + ci1.x], gl_b[xo + ci1.y], gl_b[xo + ci1.z], gl_b[xo + ci1.w]);
    let b0 = select(x0, vec4<f32>(1.0), ones0);
    let b1 = select(x1, vec4<f32>(1.0), ones1);
    let a0 = gl_dz(code, yo + ro0.x);
    c0 += a0 * b0;
    c1 += a0 * b1;
    let a1 = gl_dz(code, yo + ro0.y);
    c2 += a1 * b0;
    c3 += a1 * b1;
    let a2 = gl_dz(code, yo + ro0.z);
    c4 += a2 * b0;
    c5 += a2 * b1;
    let a3 = gl_dz(code, yo + ro0.w);
    c6 += a3 * b0;
    c7 += a3 * b1;
    let a4 = gl_dz(code, yo + ro1.x);
    c8 += a4 * b0;
    c9 += a4 * b1;
    let a5 = gl_dz(code, yo + ro1.y);
    c10 += a5 * b0;
    c11 += a5 * b1;
    let a6 = gl_dz(code, yo + ro1.z);
    c12 += a6 * b0;
    c13 += a6 * b1;
    let a7 = gl_dz(code, yo + ro1.w);
    c14 += a7 * b0;
    c15 += a7 * b1;
    yo += ldy;
    xo += ldx;
  }
  let acc = array<vec4<f32>, 16>(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15);
  for (var j = 0u; j < 8u; j++) {
    let o = select(os1[j & 3u], os0[j & 3u], j < 4u);
    if (o < gr.no) {
      for (var q = 0u; q < 4u; q++) {
        dw_put(s, gr, o, is0[q], acc[2u * j][q]);
        dw_put(s, gr, o, is1[q], acc[2u * j + 1u][q]);
      }
    }
  }
}

@compute @workgroup_size(8, 8)
fn grouped_linear_dw(@builtin(workgroup_id) wid: vec3<u32>,
                     @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
  let slices = U(8u);
  for (var z = wid.z; z < U(3u) * slices; z += nwg.z) {
    let gr = group(z / slices);
    let s = z % slices;
    let nc = gr.ni + U(4u);
    for (var ty = wid.y; ty * GL_TILE < gr.no; ty += nwg.y) {
      for (var tx = wid.x; tx * GL_TILE < nc; tx += nwg.x) {
        let o0 = ty * GL_TILE + lid.y;
        let i0 = tx * GL_TILE + lid.x;
        if (o0 < gr.no && i0 < nc) {
          dw_block(gr, s, o0, i0);
        }
      }
    }
  }
}

// Sums the S partials [S, P] (gl_a) into the packed gradient [P] (1-D linearGrid of 64); the
// alignment gaps between segments are summed too and never read.
@group(0) @binding(2) var<storage, read_write> gl_red: array<f32>;

@compute @workgroup_size(64)
fn grouped_linear_reduce(@builtin(workgroup_id) wid: vec3<u32>,
                         @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let p = U(10u);
  let j = linear_index(wid, nwg, lid, 64u);
  if (j >= p) { return; }
  var acc = 0.0;
  for (var s = 0u; s < U(8u); s++) {
    acc += gl_a[s * p + j];
  }
  gl_red[j] = acc;
}

// ---- 4×4 variants (32×32 tiles) for small layers (see shaders/linear.wgsl); same bindings and
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
  let m = U(0u);
  let ldx = U(1u);
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
  if (U(4u) == 1u) {
    let bo = nb + vec4<u32>(gr.boff);
    bias = vec4<f32>(gl_c[bo.x], gl_c[bo.y], gl_c[bo.z], gl_c[bo.w]);
  }
  let code = U(5u);
  for (var a = 0u; a < 4u; a++) {
    let e = acc[a] + bias;
    acc[a] = vec4<f32>(gl_act(code, e.x), gl_act(code, e.y), gl_act(code, e.z), gl_act(code, e.w));
  }
  gl_store4(rs, cs, m, gr.no, U(2u), gr.yoff, acc);
}

@compute @workgroup_size(8, 8)
fn grouped_linear_fwd4(@builtin(workgroup_id) wid: vec3<u32>,
                      @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_id) lid: vec3<u32>) {
  for (var g = wid.z; g < U(3u); g += nwg.z) {
    let gr = group(g);
    for (var ty = wid.y; ty * GL_TILE4 < U(0u); ty += nwg.y) {
      for (var tx = wid.x; tx * GL_TILE4 < gr.no; tx += nwg.x) {
        let m0 = ty * GL_TILE4 + lid.y;
        let n0 = tx * GL_TILE4 + lid.x;
        if (m0 < U(0u) && n0 < gr.no) {
          fwd_block4(gr, m0, n0);
        }
      }
    }
  }
}

fn dx_acc4(gr: Group, rs: vec4<u32>, cs: vec4<u32>, acc: ptr<function, array<vec4<f32>, 4>>) {
  let m = U(0u);
  let ldy = U(2u);
  let code = U(5u);
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
  let shared_in = U(6u) == 1u;
  let ng = select(U(3u), 1u, shared_in);
  for (var g = wid.z; g < ng; g += nwg.z) {
    let gr = group(g);
    for (var ty = wid.y; ty * GL_TILE4 < U(0u); ty += nwg.y) {
      for (var tx = wid.x; tx * GL_TILE4 < gr.ni; tx += nwg.x) {
        let m0 = ty * GL_TILE4 + lid.y;
        let n0 = tx * GL_TILE4 + lid.x;
        if (m0 < U(0u) && n0 < gr.ni) {
          let rs = vec4<u32>(m0) + GL_STEP;
          let cs = vec4<u32>(n0) + GL_STEP;
          var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0),
                                        vec4<f32>(0.0));
          if (shared_in) {
            for (var h = 0u; h < U(3u); h++) { dx_acc4(group(h), rs, cs, &acc); }
          } else {
            dx_acc4(gr, rs, cs, &acc);
          }
          gl_store4(rs, cs, U(0u), gr.ni, U(1u), gr.xoff, acc);
        }
      }
    }
  }
}

fn dw_block4(gr: Group, s: u32, o0: u32, i0: u32) {
  let code = U(5u);
  let ldx = U(1u);
  let ldy = U(2u);
  let first = s * U(7u);
  let last = min(first + U(7u), U(0u));
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
  let slices = U(8u);
  for (var z = wid.z; z < U(3u) * slices; z += nwg.z) {
    let gr = group(z / slices);
    let s = z % slices;
    let nc = gr.ni + U(4u);
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
