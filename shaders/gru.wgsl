// GRU recurrence (PyTorch equations, gate order r, z, n). A workgroup runs RB regions (one entry
// point per RB, picked by src/ops/gru.ts) and loops over timesteps; their states live in
// workgroup memory and W_hh stays in storage. Every W_hh element a step loads serves all RB
// regions: the matvecs are bound by loads on software adapters (llvmpipe, SwiftShader), so the
// vec4 kernels (H % 4 == 0) also give each invocation 4 or 8 units, reusing each h or gate
// gradient load across them.
// Uniforms: `GruUniforms` in src/ops/gru.ts (regions of the chunk, T, H, the chunk's first
// region, the dispatch's first step and its number of steps). Regions are processed in chunks
// when a buffer would exceed the binding-size limit: h and dh are full [R,T,H] tensors (indexed
// by global region), all others are per chunk. Time is split into several dispatches because
// llvmpipe ends every loop once a shader has run 65,535 loop iterations in all (its
// LP_MAX_TGSI_LOOP_ITERATIONS): the forward resumes from h, the backward from its carry in dh0.
// Workgroup w runs the chunk's regions w·RB .. w·RB + RB − 1. In the last workgroup those past the
// chunk repeat its last region and write nothing, so every invocation reaches every barrier. Each
// region's sums run in the same order whatever RB and its slot, so results do not depend on RB.

const WG: u32 = 64u;
// Largest supported H.
const MAX_H: u32 = 512u;
// Largest RB of the scalar kernels (size of the per-invocation accumulator arrays).
const RB_MAX: u32 = 4u;
// Scalar kernels stay within WebGPU's default 16 KiB of workgroup memory: the forward holds
// 2·RB·H floats (double-buffered states), the backward 3·RB·H (gate gradients); src/ops/gru.ts
// keeps RB·H ≤ FWD_RH (forward) and 3·RB·H ≤ BWD_S (backward). The vec4 kernels use 32 KiB.
const FWD_RH: u32 = 2048u;

// Region b of this workgroup: the chunk-local region it reads (clamped into the chunk) ...
fn region_of(wid: vec3<u32>, b: u32, RB: u32) -> u32 {
  return min(wid.x * RB + b, u.regions - 1u);
}

// ... and whether it is a real one (only real regions write).
fn region_real(wid: vec3<u32>, b: u32, RB: u32) -> bool {
  return wid.x * RB + b < u.regions;
}

// ---- forward ------------------------------------------------------------------------------------
// in:  gi [R,T,3H] (W_ih·u, no bias), h0 [H], w_hh [3H,H], b_ih [3H], b_hh [3H]
// out: h [R,T,H], saved [R,T,4H] = (r, z, n, hn) with hn = W_hn·h_prev + b_hn

@group(0) @binding(1) var<storage, read> f_gi: array<f32>;
@group(0) @binding(2) var<storage, read> f_h0: array<f32>;
@group(0) @binding(3) var<storage, read> f_whh: array<f32>;
@group(0) @binding(4) var<storage, read> f_bih: array<f32>;
@group(0) @binding(5) var<storage, read> f_bhh: array<f32>;
@group(0) @binding(6) var<storage, read_write> f_h: array<f32>;
@group(0) @binding(7) var<storage, read_write> f_saved: array<f32>;

// State of unit j of region b before step u.first_step: h0, or h at the previous step (a later
// dispatch).
fn h_start(wid: vec3<u32>, RB: u32, b: u32, j: u32, H: u32, T: u32) -> f32 {
  if (u.first_step == 0u) {
    return f_h0[j];
  }
  return f_h[((region_of(wid, b, RB) + u.first_region) * T + u.first_step - 1u) * H + j];
}

// Double buffer: step t reads half t % 2 and writes the other, so one barrier a step. Each half
// holds the RB regions' states one after another (region b at b·H).
var<workgroup> hbuf: array<f32, 2u * FWD_RH>;

// Unit j of region reg at step t given its recurrent sums a = W_h·h + b_h (r, z, n rows) and its
// previous state: writes h and the saved (r, z, n, hn) when `real`, and returns the new state
// (shared by all forward kernels).
fn gru_gates(j: u32, H: u32, T: u32, t: u32, reg: u32, real: bool, a: vec3<f32>, hprev: f32) -> f32 {
  let row = reg * T + t;
  let g = row * 3u * H;
  let r = sigmoid_safe(f_gi[g + j] + f_bih[j] + a.x);
  let z = sigmoid_safe(f_gi[g + H + j] + f_bih[H + j] + a.y);
  let n = tanh_safe(f_gi[g + 2u * H + j] + f_bih[2u * H + j] + r * a.z);
  let hnew = (1.0 - z) * n + z * hprev;
  if (real) {
    f_h[((reg + u.first_region) * T + t) * H + j] = hnew;
    let s = row * 4u * H;
    f_saved[s + j] = r;
    f_saved[s + H + j] = z;
    f_saved[s + 2u * H + j] = n;
    f_saved[s + 3u * H + j] = a.z;
  }
  return hnew;
}

fn forward_rb(wid: vec3<u32>, lid: u32, RB: u32) {
  let T = u.timesteps;
  let H = u.hidden;
  // into the half that step u.first_step reads
  for (var i = lid; i < RB * H; i += WG) {
    hbuf[(u.first_step % 2u) * FWD_RH + i] = h_start(wid, RB, i / H, i % H, H, T);
  }
  workgroupBarrier();
  for (var t = u.first_step; t < u.first_step + u.steps; t++) {
    let cur = (t % 2u) * FWD_RH;
    let nxt = FWD_RH - cur;
    for (var j = lid; j < H; j += WG) {
      // The three recurrent dot products of unit j for every region, one W_hh load each.
      let bias = vec3<f32>(f_bhh[j], f_bhh[H + j], f_bhh[2u * H + j]);
      var a: array<vec3<f32>, RB_MAX>;
      for (var b = 0u; b < RB; b++) {
        a[b] = bias;
      }
      for (var k = 0u; k < H; k++) {
        let w = vec3<f32>(f_whh[j * H + k], f_whh[(H + j) * H + k], f_whh[(2u * H + j) * H + k]);
        for (var b = 0u; b < RB; b++) {
          a[b] += w * hbuf[cur + b * H + k];
        }
      }
      for (var b = 0u; b < RB; b++) {
        let reg = region_of(wid, b, RB);
        let real = region_real(wid, b, RB);
        hbuf[nxt + b * H + j] = gru_gates(j, H, T, t, reg, real, a[b], hbuf[cur + b * H + j]);
      }
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(64)
fn gru_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  forward_rb(wid, lid, 1u);
}

@compute @workgroup_size(64)
fn gru_forward_rb2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  forward_rb(wid, lid, 2u);
}

@compute @workgroup_size(64)
fn gru_forward_rb4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  forward_rb(wid, lid, 4u);
}

// The recurrence for H % 4 == 0, RB 1, 2, 4 or 8. Invocation lid computes units 4·jb .. 4·jb + 3
// (jb = lid, lid + WG) of all RB regions: per 4 k's it loads 12 W_hh vec4s and one h vec4 per
// region, and accumulates 48·RB products (vs 3 loads per region·unit with one unit each), which
// is what software adapters are bound by: ~2× at the paper size on llvmpipe. Regions go in
// groups of 4 as the columns of mat4x4 accumulators (explicit values: dynamically indexed private
// arrays spill, and llvmpipe miscompiled a large one); with RB < 4 the spare columns read unused
// (zero) slots and are not kept. Workgroup memory: two halves of XH floats (RB·H ≤ XH), 32 KiB.
const XH: u32 = 4096u;
var<workgroup> hx: array<vec4<f32>, XH / 2u>;

// W_hh rows g·H + j .. + 3 at k4 as the columns of a matrix.
fn w_cols(g: u32, j: u32, H: u32, k4: u32) -> mat4x4<f32> {
  let H4 = H / 4u;
  let r = (g * H + j) * H4 + k4;
  return mat4x4<f32>(f_whh4[r], f_whh4[r + H4], f_whh4[r + 2u * H4], f_whh4[r + 3u * H4]);
}

// h at k4 of the regions in slots b0 .. b0 + 3 of the half at `base`, as columns.
fn h_cols(base: u32, b0: u32, H4: u32, k4: u32) -> mat4x4<f32> {
  let o = base + b0 * H4 + k4;
  return mat4x4<f32>(hx[o], hx[o + H4], hx[o + 2u * H4], hx[o + 3u * H4]);
}

// acc[b] += (dot(h_b, w_u))_u: the dot products of the scalar-per-unit formulation.
fn mac(acc: mat4x4<f32>, h: mat4x4<f32>, w: mat4x4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(acc[0] + h[0] * w, acc[1] + h[1] * w, acc[2] + h[2] * w, acc[3] + h[3] * w);
}

fn bias4(g: u32, j: u32, H: u32) -> mat4x4<f32> {
  let o = g * H + j;
  let b = vec4<f32>(f_bhh[o], f_bhh[o + 1u], f_bhh[o + 2u], f_bhh[o + 3u]);
  return mat4x4<f32>(b, b, b, b);
}

// Gates of units 4·jb .. + 3 for the regions in slots b0 .. b0 + 3 (those below RB).
fn gates4(wid: vec3<u32>, RB: u32, b0: u32, jb: u32, t: u32, cur: u32, nxt: u32, ar: mat4x4<f32>, az: mat4x4<f32>, an: mat4x4<f32>) {
  let T = u.timesteps;
  let H = u.hidden;
  for (var c = 0u; c < 4u; c++) {
    let b = b0 + c;
    if (b < RB) {
      let reg = region_of(wid, b, RB);
      let real = region_real(wid, b, RB);
      let q = b * (H / 4u) + jb;
      let hp = hx[cur + q];
      var hn: vec4<f32>;
      for (var e = 0u; e < 4u; e++) {
        hn[e] = gru_gates(4u * jb + e, H, T, t, reg, real, vec3<f32>(ar[c][e], az[c][e], an[c][e]), hp[e]);
      }
      hx[nxt + q] = hn;
    }
  }
}

@group(0) @binding(3) var<storage, read> f_whh4: array<vec4<f32>>;

fn forward_v4_rb(wid: vec3<u32>, lid: u32, RB: u32) {
  let T = u.timesteps;
  let H = u.hidden;
  let H4 = H / 4u;
  // into the half that step u.first_step reads
  for (var i = lid; i < RB * H; i += WG) {
    hx[(u.first_step % 2u) * (XH / 4u) + i / 4u][i % 4u] = h_start(wid, RB, i / H, i % H, H, T);
  }
  workgroupBarrier();
  for (var t = u.first_step; t < u.first_step + u.steps; t++) {
    let cur = (t % 2u) * (XH / 4u);
    let nxt = XH / 4u - cur;
    for (var jb = lid; jb < H4; jb += WG) {
      let j = 4u * jb;
      // r, z, n sums of regions 0..3 (…0) and 4..7 (…1)
      var ar0 = bias4(0u, j, H);
      var az0 = bias4(1u, j, H);
      var an0 = bias4(2u, j, H);
      var ar1 = ar0;
      var az1 = az0;
      var an1 = an0;
      for (var k4 = 0u; k4 < H4; k4++) {
        let wr = w_cols(0u, j, H, k4);
        let wz = w_cols(1u, j, H, k4);
        let wn = w_cols(2u, j, H, k4);
        let h0 = h_cols(cur, 0u, H4, k4);
        ar0 = mac(ar0, h0, wr);
        az0 = mac(az0, h0, wz);
        an0 = mac(an0, h0, wn);
        if (RB > 4u) {
          let h1 = h_cols(cur, 4u, H4, k4);
          ar1 = mac(ar1, h1, wr);
          az1 = mac(az1, h1, wz);
          an1 = mac(an1, h1, wn);
        }
      }
      gates4(wid, RB, 0u, jb, t, cur, nxt, ar0, az0, an0);
      if (RB > 4u) {
        gates4(wid, RB, 4u, jb, t, cur, nxt, ar1, az1, an1);
      }
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(64)
fn gru_forward_v4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  forward_v4_rb(wid, lid, 1u);
}

@compute @workgroup_size(64)
fn gru_forward_v4_rb2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  forward_v4_rb(wid, lid, 2u);
}

@compute @workgroup_size(64)
fn gru_forward_v4_rb4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  forward_v4_rb(wid, lid, 4u);
}

@compute @workgroup_size(64)
fn gru_forward_v4_rb8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  forward_v4_rb(wid, lid, 8u);
}

// ---- backward (BPTT) ----------------------------------------------------------------------------
// in:  dh [R,T,H] upstream, h [R,T,H], h0 [H], saved [R,T,4H], w_hh [3H,H]
// out: dgi [R,T,3H] (pre-activation gradients of the input gates: r, z, n),
//      dgh [R,T,3H] (gradients of W_hr·h+b_hr, W_hz·h+b_hz, W_hn·h+b_hn),
//      hprev [R,T,H] (h_{t-1}, for dW_hh as one matmul), dh0 [R,H] (per region)
// Each invocation owns the same units k in both phases, so the carried dh_{t-1}[k] of its units
// stays in private memory ("carry"). A dispatch runs steps first_step + steps − 1 down to
// first_step; dh0 holds the carry between dispatches (dh_{t-1} when first_step > 0), and dh0
// itself after the last.

@group(0) @binding(1) var<storage, read> b_dh: array<f32>;
@group(0) @binding(2) var<storage, read> b_h: array<f32>;
@group(0) @binding(3) var<storage, read> b_h0: array<f32>;
@group(0) @binding(4) var<storage, read> b_saved: array<f32>;
@group(0) @binding(5) var<storage, read> b_whh: array<f32>;
@group(0) @binding(6) var<storage, read_write> b_dgi: array<f32>;
@group(0) @binding(7) var<storage, read_write> b_dgh: array<f32>;
@group(0) @binding(8) var<storage, read_write> b_hprev: array<f32>;
@group(0) @binding(9) var<storage, read_write> b_dh0: array<f32>;

// Gate gradients (r, z, n rows) of region b at b·3H.
const BWD_S: u32 = 4096u;
var<workgroup> dgh_s: array<f32, BWD_S>;

// BPTT phase 1 for unit j of region b at step t, with c = the recurrent part of dh_t[j]: writes
// the gate gradients to dgi, dgh (when the region is real) and dgh_s, and returns z_j·dh_t[j], the
// start of dh_{t-1}[j] (shared by both backward kernels).
fn bptt_unit(wid: vec3<u32>, RB: u32, b: u32, j: u32, H: u32, T: u32, t: u32, c: f32) -> f32 {
  let reg = region_of(wid, b, RB);
  let row = reg * T + t;
  let grow = (reg + u.first_region) * T + t;
  let s = row * 4u * H;
  let g = row * 3u * H;
  var hp = b_h0[j];
  if (t > 0u) {
    hp = b_h[(grow - 1u) * H + j];
  }
  let r = b_saved[s + j];
  let z = b_saved[s + H + j];
  let n = b_saved[s + 2u * H + j];
  let hn = b_saved[s + 3u * H + j];
  let d = b_dh[grow * H + j] + c;
  let dnp = d * (1.0 - z) * (1.0 - n * n);
  let drp = dnp * hn * r * (1.0 - r);
  let dzp = d * (hp - n) * z * (1.0 - z);
  if (region_real(wid, b, RB)) {
    b_dgi[g + j] = drp;
    b_dgi[g + H + j] = dzp;
    b_dgi[g + 2u * H + j] = dnp;
    b_dgh[g + j] = drp;
    b_dgh[g + H + j] = dzp;
    b_dgh[g + 2u * H + j] = dnp * r;
    b_hprev[row * H + j] = hp;
  }
  let q = b * 3u * H;
  dgh_s[q + j] = drp;
  dgh_s[q + H + j] = dzp;
  dgh_s[q + 2u * H + j] = dnp * r;
  return d * z;
}

fn bptt_dh0(wid: vec3<u32>, RB: u32, b: u32, k: u32, H: u32, v: f32) {
  if (region_real(wid, b, RB)) {
    b_dh0[(wid.x * RB + b) * H + k] = v;
  }
}

// The carry of unit k of region b when this dispatch starts: 0 at the last step, else what the
// previous dispatch left in dh0.
fn bptt_carry(wid: vec3<u32>, RB: u32, b: u32, k: u32, H: u32) -> f32 {
  if (u.first_step + u.steps == u.timesteps) {
    return 0.0;
  }
  return b_dh0[region_of(wid, b, RB) * H + k];
}

fn backward_rb(wid: vec3<u32>, lid: u32, RB: u32) {
  let T = u.timesteps;
  let H = u.hidden;
  // carry[m·RB_MAX + b]: unit lid + m·WG of region b.
  var carry: array<f32, MAX_H / WG * RB_MAX>;
  var m = 0u;
  for (var k = lid; k < H; k += WG) {
    for (var b = 0u; b < RB; b++) {
      carry[m * RB_MAX + b] = bptt_carry(wid, RB, b, k, H);
    }
    m++;
  }
  for (var tt = 0u; tt < u.steps; tt++) {
    let t = u.first_step + u.steps - 1u - tt;
    m = 0u;
    for (var j = lid; j < H; j += WG) {
      for (var b = 0u; b < RB; b++) {
        carry[m * RB_MAX + b] = bptt_unit(wid, RB, b, j, H, T, t, carry[m * RB_MAX + b]);
      }
      m++;
    }
    workgroupBarrier();
    // Phase 2: dh_{t-1}[k] = z_k·dh_t[k] + Σ_j W_hh[j, k]·dgh[j], one W_hh load for all regions.
    m = 0u;
    for (var k = lid; k < H; k += WG) {
      var acc: array<f32, RB_MAX>;
      for (var b = 0u; b < RB; b++) {
        acc[b] = carry[m * RB_MAX + b];
      }
      for (var j = 0u; j < 3u * H; j++) {
        let w = b_whh[j * H + k];
        for (var b = 0u; b < RB; b++) {
          acc[b] += w * dgh_s[b * 3u * H + j];
        }
      }
      for (var b = 0u; b < RB; b++) {
        carry[m * RB_MAX + b] = acc[b];
      }
      m++;
    }
    workgroupBarrier();
  }
  m = 0u;
  for (var k = lid; k < H; k += WG) {
    for (var b = 0u; b < RB; b++) {
      bptt_dh0(wid, RB, b, k, H, carry[m * RB_MAX + b]);
    }
    m++;
  }
}

@compute @workgroup_size(64)
fn gru_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  backward_rb(wid, lid, 1u);
}

@compute @workgroup_size(64)
fn gru_backward_rb2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  backward_rb(wid, lid, 2u);
}

@compute @workgroup_size(64)
fn gru_backward_rb4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  backward_rb(wid, lid, 4u);
}


// BPTT for H % 4 == 0, RB 1, 2, 4 or 8. Invocation lid owns the unit blocks k4 = 2·lid and
// 2·lid + 1 (8 units; H ≤ 512 takes one pass) in both phases, so its carry is four mat4x4 values
// (two blocks × regions 0..3 and 4..7, one column per region). Phase 2 reads the gate gradients
// as vec4s over j: per 4 j's, 8 W_hh vec4s and one vec4 per region feed 32·RB multiply-adds.
// Workgroup memory: region b's 3H gate gradients at b·3H/4 (3·RB·H ≤ 8192 floats, 32 KiB).
@group(0) @binding(5) var<storage, read> b_whh4: array<vec4<f32>>;
var<workgroup> dgx: array<vec4<f32>, 2048u>;

// Phase 1 for units 4·k4 .. + 3 of region b (bptt_unit, 4 units at a time); c = their carry.
fn bptt_unit4(wid: vec3<u32>, RB: u32, b: u32, k4: u32, t: u32, c: vec4<f32>) -> vec4<f32> {
  let T = u.timesteps;
  let H = u.hidden;
  let reg = region_of(wid, b, RB);
  let row = reg * T + t;
  let grow = (reg + u.first_region) * T + t;
  let s = row * 4u * H;
  let g = row * 3u * H;
  let j = 4u * k4;
  var hp: vec4<f32>;
  if (t > 0u) {
    hp = vec4<f32>(b_h[(grow - 1u) * H + j], b_h[(grow - 1u) * H + j + 1u], b_h[(grow - 1u) * H + j + 2u], b_h[(grow - 1u) * H + j + 3u]);
  } else {
    hp = vec4<f32>(b_h0[j], b_h0[j + 1u], b_h0[j + 2u], b_h0[j + 3u]);
  }
  let o = grow * H + j;
  let d = vec4<f32>(b_dh[o], b_dh[o + 1u], b_dh[o + 2u], b_dh[o + 3u]) + c;
  let r = vec4<f32>(b_saved[s + j], b_saved[s + j + 1u], b_saved[s + j + 2u], b_saved[s + j + 3u]);
  let so = s + H + j;
  let z = vec4<f32>(b_saved[so], b_saved[so + 1u], b_saved[so + 2u], b_saved[so + 3u]);
  let n = vec4<f32>(b_saved[so + H], b_saved[so + H + 1u], b_saved[so + H + 2u], b_saved[so + H + 3u]);
  let sh = so + 2u * H;
  let hn = vec4<f32>(b_saved[sh], b_saved[sh + 1u], b_saved[sh + 2u], b_saved[sh + 3u]);
  let dnp = d * (1.0 - z) * (1.0 - n * n);
  let drp = dnp * hn * r * (1.0 - r);
  let dzp = d * (hp - n) * z * (1.0 - z);
  if (region_real(wid, b, RB)) {
    for (var i = 0u; i < 4u; i++) {
      b_dgi[g + j + i] = drp[i];
      b_dgi[g + H + j + i] = dzp[i];
      b_dgi[g + 2u * H + j + i] = dnp[i];
      b_dgh[g + j + i] = drp[i];
      b_dgh[g + H + j + i] = dzp[i];
      b_dgh[g + 2u * H + j + i] = dnp[i] * r[i];
      b_hprev[row * H + j + i] = hp[i];
    }
  }
  let q = b * (3u * H / 4u) + k4;
  dgx[q] = drp;
  dgx[q + H / 4u] = dzp;
  dgx[q + H / 2u] = dnp * r;
  return d * z;
}

// Phase 1 for the regions in slots b0 .. b0 + 3 (those below RB); columns of c are their carries.
fn bptt_block(wid: vec3<u32>, RB: u32, b0: u32, k4: u32, t: u32, c: mat4x4<f32>) -> mat4x4<f32> {
  var o = c;
  for (var i = 0u; i < 4u; i++) {
    if (b0 + i < RB) {
      o[i] = bptt_unit4(wid, RB, b0 + i, k4, t, c[i]);
    }
  }
  return o;
}

// Gate gradients at j4 of the regions in slots b0 .. b0 + 3, transposed: row i holds row 4·j4 + i.
fn dg_rows(b0: u32, H34: u32, j4: u32) -> mat4x4<f32> {
  let o = b0 * H34 + j4;
  return transpose(mat4x4<f32>(dgx[o], dgx[o + H34], dgx[o + 2u * H34], dgx[o + 3u * H34]));
}

// a[b] += Σ_i w_i · d[i][b], i = 0..3 in order: the multiply-adds of the one-row-at-a-time sum.
fn outer4(a: mat4x4<f32>, w0: vec4<f32>, w1: vec4<f32>, w2: vec4<f32>, w3: vec4<f32>, d: mat4x4<f32>) -> mat4x4<f32> {
  var r = mat4x4<f32>(a[0] + w0 * d[0].x, a[1] + w0 * d[0].y, a[2] + w0 * d[0].z, a[3] + w0 * d[0].w);
  r = mat4x4<f32>(r[0] + w1 * d[1].x, r[1] + w1 * d[1].y, r[2] + w1 * d[1].z, r[3] + w1 * d[1].w);
  r = mat4x4<f32>(r[0] + w2 * d[2].x, r[1] + w2 * d[2].y, r[2] + w2 * d[2].z, r[3] + w2 * d[2].w);
  return mat4x4<f32>(r[0] + w3 * d[3].x, r[1] + w3 * d[3].y, r[2] + w3 * d[3].z, r[3] + w3 * d[3].w);
}

fn carry_block(wid: vec3<u32>, RB: u32, b0: u32, k4: u32) -> mat4x4<f32> {
  var c: mat4x4<f32>;
  for (var i = 0u; i < 4u; i++) {
    for (var e = 0u; e < 4u; e++) {
      c[i][e] = bptt_carry(wid, RB, b0 + i, 4u * k4 + e, u.hidden);
    }
  }
  return c;
}

fn dh0_block(wid: vec3<u32>, RB: u32, b0: u32, k4: u32, c: mat4x4<f32>) {
  for (var i = 0u; i < 4u; i++) {
    for (var e = 0u; e < 4u; e++) {
      // (slots ≥ RB would alias the next workgroup's regions)
      if (b0 + i < RB) {
        bptt_dh0(wid, RB, b0 + i, 4u * k4 + e, u.hidden, c[i][e]);
      }
    }
  }
}

fn backward_v4_rb(wid: vec3<u32>, lid: u32, RB: u32) {
  let H4 = u.hidden / 4u;
  let H34 = 3u * H4;
  let ka = 2u * lid;
  let kb = ka + 1u;
  let has_a = ka < H4;
  let has_b = kb < H4;
  // A block past H4 (odd H4) is computed from block ka and not kept.
  let kw = select(ka, kb, has_b);
  // Carries of blocks a and b, regions 0..3 (…0) and 4..7 (…1).
  var ca0 = mat4x4<f32>();
  var ca1 = ca0;
  var cb0 = ca0;
  var cb1 = ca0;
  if (has_a) {
    ca0 = carry_block(wid, RB, 0u, ka);
    cb0 = carry_block(wid, RB, 0u, kw);
    if (RB > 4u) {
      ca1 = carry_block(wid, RB, 4u, ka);
      cb1 = carry_block(wid, RB, 4u, kw);
    }
  }
  for (var tt = 0u; tt < u.steps; tt++) {
    let t = u.first_step + u.steps - 1u - tt;
    if (has_a) {
      ca0 = bptt_block(wid, RB, 0u, ka, t, ca0);
      if (RB > 4u) {
        ca1 = bptt_block(wid, RB, 4u, ka, t, ca1);
      }
    }
    if (has_b) {
      cb0 = bptt_block(wid, RB, 0u, kb, t, cb0);
      if (RB > 4u) {
        cb1 = bptt_block(wid, RB, 4u, kb, t, cb1);
      }
    }
    workgroupBarrier();
    // Phase 2: dh_{t-1}[k] = z_k·dh_t[k] + Σ_j W_hh[j, k]·dgh[j] for the 8 units and RB regions.
    if (has_a) {
      for (var j4 = 0u; j4 < H34; j4++) {
        let r = 4u * j4 * H4;
        let wa0 = b_whh4[r + ka];
        let wa1 = b_whh4[r + H4 + ka];
        let wa2 = b_whh4[r + 2u * H4 + ka];
        let wa3 = b_whh4[r + 3u * H4 + ka];
        let wb0 = b_whh4[r + kw];
        let wb1 = b_whh4[r + H4 + kw];
        let wb2 = b_whh4[r + 2u * H4 + kw];
        let wb3 = b_whh4[r + 3u * H4 + kw];
        let d0 = dg_rows(0u, H34, j4);
        ca0 = outer4(ca0, wa0, wa1, wa2, wa3, d0);
        cb0 = outer4(cb0, wb0, wb1, wb2, wb3, d0);
        if (RB > 4u) {
          let d1 = dg_rows(4u, H34, j4);
          ca1 = outer4(ca1, wa0, wa1, wa2, wa3, d1);
          cb1 = outer4(cb1, wb0, wb1, wb2, wb3, d1);
        }
      }
    }
    workgroupBarrier();
  }
  if (has_a) {
    dh0_block(wid, RB, 0u, ka, ca0);
    if (RB > 4u) {
      dh0_block(wid, RB, 4u, ka, ca1);
    }
  }
  if (has_b) {
    dh0_block(wid, RB, 0u, kb, cb0);
    if (RB > 4u) {
      dh0_block(wid, RB, 4u, kb, cb1);
    }
  }
}

@compute @workgroup_size(64)
fn gru_backward_v4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  backward_v4_rb(wid, lid, 1u);
}

@compute @workgroup_size(64)
fn gru_backward_v4_rb2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  backward_v4_rb(wid, lid, 2u);
}

@compute @workgroup_size(64)
fn gru_backward_v4_rb4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  backward_v4_rb(wid, lid, 4u);
}

@compute @workgroup_size(64)
fn gru_backward_v4_rb8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  backward_v4_rb(wid, lid, 8u);
}
