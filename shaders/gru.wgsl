// GRU recurrence (PyTorch equations, gate order r, z, n). One workgroup per region loops over
// all timesteps; h lives in workgroup memory and W_hh stays in storage. See src/ops/gru.ts.
// Uniforms: U(0) regions in this chunk, U(1) timesteps T, U(2) hidden size H, U(3) first region
// of the chunk. Regions are processed in chunks when a buffer would exceed the binding-size limit:
// h and dh are full [R,T,H] tensors (indexed by global region), all others are per chunk.

const WG: u32 = 64u;
// Largest supported H (workgroup memory: backward uses 5·MAX_H floats = 10 KiB).
const MAX_H: u32 = 512u;

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

// Double buffer: step t reads hbuf[t % 2] and writes hbuf[(t + 1) % 2], so one barrier a step.
var<workgroup> hbuf: array<f32, 1024>;

// Unit j at step t given its recurrent sums W_h·h + b_h (ar, az, an) and its previous state:
// writes h and the saved (r, z, n, hn) and returns the new state (shared by both forward kernels).
fn gru_gates(j: u32, H: u32, row: u32, grow: u32, ar: f32, az: f32, an: f32, hprev: f32) -> f32 {
  let g = row * 3u * H;
  let r = sigmoid_safe(f_gi[g + j] + f_bih[j] + ar);
  let z = sigmoid_safe(f_gi[g + H + j] + f_bih[H + j] + az);
  let n = tanh_safe(f_gi[g + 2u * H + j] + f_bih[2u * H + j] + r * an);
  let hnew = (1.0 - z) * n + z * hprev;
  f_h[grow * H + j] = hnew;
  let s = row * 4u * H;
  f_saved[s + j] = r;
  f_saved[s + H + j] = z;
  f_saved[s + 2u * H + j] = n;
  f_saved[s + 3u * H + j] = an;
  return hnew;
}

@compute @workgroup_size(64)
fn gru_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let reg = wid.x;
  let greg = reg + U(3u);
  let T = U(1u);
  let H = U(2u);
  for (var j = lid; j < H; j += WG) {
    hbuf[j] = f_h0[j];
  }
  workgroupBarrier();
  for (var t = 0u; t < T; t++) {
    let cur = (t % 2u) * MAX_H;
    let nxt = MAX_H - cur;
    let row = reg * T + t;
    let grow = greg * T + t;
    for (var j = lid; j < H; j += WG) {
      // The three recurrent dot products of unit j.
      var ar = f_bhh[j];
      var az = f_bhh[H + j];
      var an = f_bhh[2u * H + j];
      for (var k = 0u; k < H; k++) {
        let hk = hbuf[cur + k];
        ar += f_whh[j * H + k] * hk;
        az += f_whh[(H + j) * H + k] * hk;
        an += f_whh[(2u * H + j) * H + k] * hk;
      }
      hbuf[nxt + j] = gru_gates(j, H, row, grow, ar, az, an, hbuf[cur + j]);
    }
    workgroupBarrier();
  }
}

// The same recurrence for H % 4 == 0 with W_hh rows and h read as vec4: a quarter of the loop
// iterations, which is what software adapters (llvmpipe, SwiftShader) are bound by.
@group(0) @binding(3) var<storage, read> f_whh4: array<vec4<f32>>;
var<workgroup> hbuf4: array<vec4<f32>, 256>;

@compute @workgroup_size(64)
fn gru_forward_v4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let reg = wid.x;
  let greg = reg + U(3u);
  let T = U(1u);
  let H = U(2u);
  let H4 = H / 4u;
  for (var j = lid; j < H; j += WG) {
    hbuf4[j / 4u][j % 4u] = f_h0[j];
  }
  workgroupBarrier();
  for (var t = 0u; t < T; t++) {
    let cur = (t % 2u) * (MAX_H / 4u);
    let nxt = MAX_H / 4u - cur;
    let row = reg * T + t;
    let grow = greg * T + t;
    for (var j = lid; j < H; j += WG) {
      // The three recurrent dot products of unit j.
      var ar = f_bhh[j];
      var az = f_bhh[H + j];
      var an = f_bhh[2u * H + j];
      for (var k = 0u; k < H4; k++) {
        let hk = hbuf4[cur + k];
        ar += dot(f_whh4[j * H4 + k], hk);
        az += dot(f_whh4[(H + j) * H4 + k], hk);
        an += dot(f_whh4[(2u * H + j) * H4 + k], hk);
      }
      hbuf4[nxt + j / 4u][j % 4u] = gru_gates(j, H, row, grow, ar, az, an, hbuf4[cur + j / 4u][j % 4u]);
    }
    workgroupBarrier();
  }
}

// ---- backward (BPTT) ----------------------------------------------------------------------------
// in:  dh [R,T,H] upstream, h [R,T,H], h0 [H], saved [R,T,4H], w_hh [3H,H]
// out: dgi [R,T,3H] (pre-activation gradients of the input gates: r, z, n),
//      dgh [R,T,3H] (gradients of W_hr·h+b_hr, W_hz·h+b_hz, W_hn·h+b_hn),
//      hprev [R,T,H] (h_{t-1}, for dW_hh as one matmul), dh0 [R,H] (per region)

@group(0) @binding(1) var<storage, read> b_dh: array<f32>;
@group(0) @binding(2) var<storage, read> b_h: array<f32>;
@group(0) @binding(3) var<storage, read> b_h0: array<f32>;
@group(0) @binding(4) var<storage, read> b_saved: array<f32>;
@group(0) @binding(5) var<storage, read> b_whh: array<f32>;
@group(0) @binding(6) var<storage, read_write> b_dgi: array<f32>;
@group(0) @binding(7) var<storage, read_write> b_dgh: array<f32>;
@group(0) @binding(8) var<storage, read_write> b_hprev: array<f32>;
@group(0) @binding(9) var<storage, read_write> b_dh0: array<f32>;

var<workgroup> dgh_s: array<f32, 1536>;
var<workgroup> dtot_s: array<f32, 512>;
var<workgroup> carry_s: array<f32, 512>;

// BPTT phase 1 at step t: the gate gradients of the units this invocation owns, into dgi, dgh
// and workgroup memory for phase 2 (shared by both backward kernels).
fn bptt_gates(lid: u32, H: u32, t: u32, row: u32, grow: u32) {
  let s = row * 4u * H;
  let g = row * 3u * H;
  for (var j = lid; j < H; j += WG) {
    var hp = b_h0[j];
    if (t > 0u) {
      hp = b_h[(grow - 1u) * H + j];
    }
    let r = b_saved[s + j];
    let z = b_saved[s + H + j];
    let n = b_saved[s + 2u * H + j];
    let hn = b_saved[s + 3u * H + j];
    let d = b_dh[grow * H + j] + carry_s[j];
    let dnp = d * (1.0 - z) * (1.0 - n * n);
    let drp = dnp * hn * r * (1.0 - r);
    let dzp = d * (hp - n) * z * (1.0 - z);
    b_dgi[g + j] = drp;
    b_dgi[g + H + j] = dzp;
    b_dgi[g + 2u * H + j] = dnp;
    b_dgh[g + j] = drp;
    b_dgh[g + H + j] = dzp;
    b_dgh[g + 2u * H + j] = dnp * r;
    b_hprev[row * H + j] = hp;
    dgh_s[j] = drp;
    dgh_s[H + j] = dzp;
    dgh_s[2u * H + j] = dnp * r;
    dtot_s[j] = d * z;
  }
}

@compute @workgroup_size(64)
fn gru_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let reg = wid.x;
  let greg = reg + U(3u);
  let T = U(1u);
  let H = U(2u);
  for (var j = lid; j < H; j += WG) {
    carry_s[j] = 0.0;
  }
  for (var tt = 0u; tt < T; tt++) {
    let t = T - 1u - tt;
    let row = reg * T + t;
    let grow = greg * T + t;
    bptt_gates(lid, H, t, row, grow);
    workgroupBarrier();
    // Phase 2: dh_{t-1}[k] = z_k·dh_t[k] + Σ_j W_hh[j, k]·dgh[j].
    for (var k = lid; k < H; k += WG) {
      var acc = dtot_s[k];
      for (var j = 0u; j < 3u * H; j++) {
        acc += b_whh[j * H + k] * dgh_s[j];
      }
      carry_s[k] = acc;
    }
    workgroupBarrier();
  }
  for (var k = lid; k < H; k += WG) {
    b_dh0[reg * H + k] = carry_s[k];
  }
}

// BPTT for H % 4 == 0: phase 2 reads W_hh rows as vec4 (4 units k per invocation).
@group(0) @binding(5) var<storage, read> b_whh4: array<vec4<f32>>;

@compute @workgroup_size(64)
fn gru_backward_v4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let reg = wid.x;
  let greg = reg + U(3u);
  let T = U(1u);
  let H = U(2u);
  for (var j = lid; j < H; j += WG) {
    carry_s[j] = 0.0;
  }
  for (var tt = 0u; tt < T; tt++) {
    let t = T - 1u - tt;
    let row = reg * T + t;
    let grow = greg * T + t;
    bptt_gates(lid, H, t, row, grow);
    workgroupBarrier();
    // Phase 2: dh_{t-1}[k] = z_k·dh_t[k] + Σ_j W_hh[j, k]·dgh[j].
    let H4 = H / 4u;
    for (var k4 = lid; k4 < H4; k4 += WG) {
      let k = 4u * k4;
      var acc = vec4<f32>(dtot_s[k], dtot_s[k + 1u], dtot_s[k + 2u], dtot_s[k + 3u]);
      for (var j = 0u; j < 3u * H; j++) {
        acc += b_whh4[j * H4 + k4] * dgh_s[j];
      }
      carry_s[k] = acc.x;
      carry_s[k + 1u] = acc.y;
      carry_s[k + 2u] = acc.z;
      carry_s[k + 3u] = acc.w;
    }
    workgroupBarrier();
  }
  for (var k = lid; k < H; k += WG) {
    b_dh0[reg * H + k] = carry_s[k];
  }
}
