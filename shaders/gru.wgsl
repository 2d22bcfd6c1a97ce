// GRU recurrence (PyTorch equations, gate order r, z, n). A workgroup runs RB regions (RB = 1, 2
// or 4: one entry point each, picked by src/ops/gru.ts) and loops over all timesteps; their states
// live in workgroup memory and W_hh stays in storage. Every W_hh element a step loads serves all RB
// regions: the matvecs are bound by those loads on software adapters (llvmpipe, SwiftShader).
// Uniforms: U(0) regions in this chunk, U(1) timesteps T, U(2) hidden size H, U(3) first region
// of the chunk. Regions are processed in chunks when a buffer would exceed the binding-size limit:
// h and dh are full [R,T,H] tensors (indexed by global region), all others are per chunk.
// Workgroup w runs the chunk's regions w·RB .. w·RB + RB − 1. In the last workgroup those past the
// chunk repeat its last region and write nothing, so every invocation reaches every barrier. Each
// region's sums run in the same order as with RB = 1, so results do not depend on RB.

const WG: u32 = 64u;
// Largest supported H.
const MAX_H: u32 = 512u;
// Largest RB (size of the per-invocation accumulator arrays).
const RB_MAX: u32 = 4u;
// Workgroup memory stays within WebGPU's default 16 KiB per entry point: the forward holds 2·RB·H
// floats (double-buffered states), the backward 3·RB·H (gate gradients); src/ops/gru.ts keeps
// RB·H ≤ FWD_RH (forward) and 3·RB·H ≤ BWD_S (backward).
const FWD_RH: u32 = 2048u;

// Region b of this workgroup: the chunk-local region it reads (clamped into the chunk) ...
fn region_of(wid: vec3<u32>, b: u32, RB: u32) -> u32 {
  return min(wid.x * RB + b, U(0u) - 1u);
}

// ... and whether it is a real one (only real regions write).
fn region_real(wid: vec3<u32>, b: u32, RB: u32) -> bool {
  return wid.x * RB + b < U(0u);
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
    f_h[((reg + U(3u)) * T + t) * H + j] = hnew;
    let s = row * 4u * H;
    f_saved[s + j] = r;
    f_saved[s + H + j] = z;
    f_saved[s + 2u * H + j] = n;
    f_saved[s + 3u * H + j] = a.z;
  }
  return hnew;
}

fn forward_rb(wid: vec3<u32>, lid: u32, RB: u32) {
  let T = U(1u);
  let H = U(2u);
  for (var i = lid; i < RB * H; i += WG) {
    hbuf[i] = f_h0[i % H];
  }
  workgroupBarrier();
  for (var t = 0u; t < T; t++) {
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

// The same recurrence for H % 4 == 0 with W_hh rows and h read as vec4: a quarter of the loop
// iterations, which is what software adapters (llvmpipe, SwiftShader) are bound by.
@group(0) @binding(3) var<storage, read> f_whh4: array<vec4<f32>>;
var<workgroup> hbuf4: array<vec4<f32>, FWD_RH / 2u>;

fn forward_v4_rb(wid: vec3<u32>, lid: u32, RB: u32) {
  let T = U(1u);
  let H = U(2u);
  let H4 = H / 4u;
  for (var i = lid; i < RB * H; i += WG) {
    hbuf4[i / 4u][i % 4u] = f_h0[i % H];
  }
  workgroupBarrier();
  for (var t = 0u; t < T; t++) {
    let cur = (t % 2u) * (FWD_RH / 4u);
    let nxt = FWD_RH / 4u - cur;
    for (var j = lid; j < H; j += WG) {
      // The three recurrent dot products of unit j for every region, one W_hh load each.
      let bias = vec3<f32>(f_bhh[j], f_bhh[H + j], f_bhh[2u * H + j]);
      var a: array<vec3<f32>, RB_MAX>;
      for (var b = 0u; b < RB; b++) {
        a[b] = bias;
      }
      for (var k = 0u; k < H4; k++) {
        let wr = f_whh4[j * H4 + k];
        let wz = f_whh4[(H + j) * H4 + k];
        let wn = f_whh4[(2u * H + j) * H4 + k];
        for (var b = 0u; b < RB; b++) {
          let hk = hbuf4[cur + b * H4 + k];
          a[b] += vec3<f32>(dot(wr, hk), dot(wz, hk), dot(wn, hk));
        }
      }
      for (var b = 0u; b < RB; b++) {
        let reg = region_of(wid, b, RB);
        let real = region_real(wid, b, RB);
        let q = b * H4 + j / 4u;
        hbuf4[nxt + q][j % 4u] = gru_gates(j, H, T, t, reg, real, a[b], hbuf4[cur + q][j % 4u]);
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

// ---- backward (BPTT) ----------------------------------------------------------------------------
// in:  dh [R,T,H] upstream, h [R,T,H], h0 [H], saved [R,T,4H], w_hh [3H,H]
// out: dgi [R,T,3H] (pre-activation gradients of the input gates: r, z, n),
//      dgh [R,T,3H] (gradients of W_hr·h+b_hr, W_hz·h+b_hz, W_hn·h+b_hn),
//      hprev [R,T,H] (h_{t-1}, for dW_hh as one matmul), dh0 [R,H] (per region)
// Each invocation owns the same units k in both phases, so the carried dh_{t-1}[k] of its units
// stays in private memory ("carry", indexed by the unit's slot m and the region b).

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
  let grow = (reg + U(3u)) * T + t;
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

fn backward_rb(wid: vec3<u32>, lid: u32, RB: u32) {
  let T = U(1u);
  let H = U(2u);
  // carry[m·RB_MAX + b]: unit lid + m·WG of region b.
  var carry: array<f32, MAX_H / WG * RB_MAX>;
  for (var tt = 0u; tt < T; tt++) {
    let t = T - 1u - tt;
    var m = 0u;
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
  var m = 0u;
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

// BPTT for H % 4 == 0: phase 2 reads W_hh rows as vec4, so an invocation owns blocks of 4 units
// k = 4·k4 .. 4·k4 + 3 (k4 = lid + m·WG) in both phases.
@group(0) @binding(5) var<storage, read> b_whh4: array<vec4<f32>>;

fn backward_v4_rb(wid: vec3<u32>, lid: u32, RB: u32) {
  let T = U(1u);
  let H = U(2u);
  let H4 = H / 4u;
  // carry[m·RB_MAX + b]: units of block lid + m·WG of region b.
  var carry: array<vec4<f32>, MAX_H / 4u / WG * RB_MAX>;
  for (var tt = 0u; tt < T; tt++) {
    let t = T - 1u - tt;
    var m = 0u;
    for (var k4 = lid; k4 < H4; k4 += WG) {
      for (var b = 0u; b < RB; b++) {
        let c = carry[m * RB_MAX + b];
        let j = 4u * k4;
        carry[m * RB_MAX + b] = vec4<f32>(
          bptt_unit(wid, RB, b, j, H, T, t, c.x),
          bptt_unit(wid, RB, b, j + 1u, H, T, t, c.y),
          bptt_unit(wid, RB, b, j + 2u, H, T, t, c.z),
          bptt_unit(wid, RB, b, j + 3u, H, T, t, c.w),
        );
      }
      m++;
    }
    workgroupBarrier();
    // Phase 2: dh_{t-1}[k] = z_k·dh_t[k] + Σ_j W_hh[j, k]·dgh[j], one W_hh load for all regions.
    m = 0u;
    for (var k4 = lid; k4 < H4; k4 += WG) {
      var acc: array<vec4<f32>, RB_MAX>;
      for (var b = 0u; b < RB; b++) {
        acc[b] = carry[m * RB_MAX + b];
      }
      for (var j = 0u; j < 3u * H; j++) {
        let w = b_whh4[j * H4 + k4];
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
  var m = 0u;
  for (var k4 = lid; k4 < H4; k4 += WG) {
    for (var b = 0u; b < RB; b++) {
      let c = carry[m * RB_MAX + b];
      for (var i = 0u; i < 4u; i++) {
        bptt_dh0(wid, RB, b, 4u * k4 + i, H, c[i]);
      }
    }
    m++;
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
