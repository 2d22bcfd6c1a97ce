// Grouped linear layer (src/ops/grouped-linear.ts): G ≤ 4 independent layers y_g = act(x_g·W_gᵀ + b_g)
// in one dispatch, the coefficient heads of the model side by side. x is [M, ldx] and group g reads
// its columns [xOff_g, xOff_g + I_g) (all groups read columns [0, I) when the input is shared);
// y is [M, ldy] and group g writes columns [yOff_g, yOff_g + O_g). The weights and biases of all
// groups are packed in one buffer (W_g [O_g, I_g] at wOff_g, b_g at bOff_g); the weight gradients
// come back in the same packed layout. Register blocking as shaders/linear.wgsl: 8×8 invocations,
// each a 4×4 block of outputs 8 apart; edges read a clamped element and skip the store.
// Uniforms: U0 M, U1 ldx, U2 ldy, U3 G, U4 has bias, U5 activation (0 none, 1 relu, 2 tanh),
// U6 shared input, U7 rows per slice, U8 slices S, U10 packed size P;
// group g at 16 + 6g: I_g, O_g, xOff_g, yOff_g, wOff_g, bOff_g.

@group(0) @binding(1) var<storage, read> gl_a: array<f32>;
@group(0) @binding(2) var<storage, read> gl_b: array<f32>;
@group(0) @binding(3) var<storage, read> gl_c: array<f32>;
@group(0) @binding(4) var<storage, read_write> gl_out: array<f32>;

const GL_TILE = 32u;
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

// Stores a 4×4 block at rows rs, columns cs (< n) of a matrix with row stride ld from column c0.
fn gl_store(rs: vec4<u32>, cs: vec4<u32>, m: u32, n: u32, ld: u32, c0: u32, v: array<vec4<f32>, 4>) {
  for (var a = 0u; a < 4u; a++) {
    if (rs[a] < m) {
      let base = rs[a] * ld + c0;
      for (var b = 0u; b < 4u; b++) {
        if (cs[b] < n) { gl_out[base + cs[b]] = v[a][b]; }
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
  gl_store(rs, cs, m, gr.no, U(2u), gr.yoff, acc);
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

fn dx_acc(gr: Group, rs: vec4<u32>, cs: vec4<u32>, acc: ptr<function, array<vec4<f32>, 4>>) {
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
          let rs = vec4<u32>(m0) + GL_STEP;
          let cs = vec4<u32>(n0) + GL_STEP;
          var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0),
                                        vec4<f32>(0.0));
          if (shared_in) {
            for (var h = 0u; h < U(3u); h++) { dx_acc(group(h), rs, cs, &acc); }
          } else {
            dx_acc(gr, rs, cs, &acc);
          }
          gl_store(rs, cs, U(0u), gr.ni, U(1u), gr.xoff, acc);
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
