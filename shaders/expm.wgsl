// Matrix exponential by scaling and squaring (src/ops/expm.ts), one workgroup, one dispatch.
//   Uniforms: `ExpmUniforms` in src/ops/expm.ts (d ≤ 64; W∘W instead of W for NOTEARS; write h).
// All matrices live in the storage scratch buffer (6·d² floats), so workgroup memory stays small
// on every adapter (the GL compat limit is 32 KiB; three 64×64 f32 matrices would not fit).
// Taylor degree 12 by Paterson–Stockmeyer with A², A³, A⁴: 5 matrix products, then s squarings.

@group(0) @binding(1) var<storage, read> a_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> e_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(4) var<storage, read_write> h_out: array<f32>;

const WG: u32 = 256u;
// ||A/2^s||₁ ≤ THETA: the degree-12 truncation error is ≤ THETA^13/13! ≈ 1.6e-10, far below f32.
const THETA: f32 = 1.0;
const MAX_SQUARINGS: u32 = 64u;

var<workgroup> colsum: array<f32, 64>;
var<workgroup> squarings: u32;
var<workgroup> trace_parts: array<f32, 64>;

fn sync() {
  storageBarrier();
  workgroupBarrier();
}

// dst = X·Y on d×d blocks of scratch (offsets in floats); dst must differ from both.
fn matmul(dst: u32, x: u32, y: u32, d: u32, lid: u32) {
  for (var e = lid; e < d * d; e += WG) {
    let i = e / d;
    let j = e % d;
    var acc = 0.0;
    for (var k = 0u; k < d; k++) {
      acc += scratch[x + i * d + k] * scratch[y + k * d + j];
    }
    scratch[dst + e] = acc;
  }
}

// 1/k! for k = 0..12
fn inv_fact(k: u32) -> f32 {
  var f = 1.0;
  for (var i = 2u; i <= k; i++) {
    f /= f32(i);
  }
  return f;
}

// c_b·I + c_{b+1}·A + c_{b+2}·A² + c_{b+3}·A³ at element e (A, A², A³ at slots 0, 1, 2).
fn block(b: u32, e: u32, d: u32, diag: bool) -> f32 {
  let n = d * d;
  var v = inv_fact(b + 1u) * scratch[e] + inv_fact(b + 2u) * scratch[n + e] +
    inv_fact(b + 3u) * scratch[2u * n + e];
  if (diag) {
    v += inv_fact(b);
  }
  return v;
}

@compute @workgroup_size(256)
fn expm_forward(@builtin(local_invocation_index) lid: u32) {
  let d = u.d;
  let n = d * d;
  // scratch slots (each n floats): 0 A, 1 A², 2 A³, 3 A⁴, 4 X, 5 Y
  let sA = 0u;
  let s2 = n;
  let s3 = 2u * n;
  let s4 = 3u * n;
  let sX = 4u * n;
  let sY = 5u * n;

  // 1-norm of the (possibly squared) input: max column sum of |a|
  if (lid < d) {
    var c = 0.0;
    for (var i = 0u; i < d; i++) {
      var v = a_in[i * d + lid];
      if (u.squared == 1u) {
        v = v * v;
      }
      c += abs(v);
    }
    colsum[lid] = c;
  }
  workgroupBarrier();
  if (lid == 0u) {
    var norm = 0.0;
    for (var j = 0u; j < d; j++) {
      norm = max(norm, colsum[j]);
    }
    var s = 0u;
    while (norm > THETA && s < MAX_SQUARINGS) {
      norm *= 0.5;
      s++;
    }
    squarings = s;
  }
  let s = workgroupUniformLoad(&squarings);
  let scale = exp2(-f32(s));

  for (var e = lid; e < n; e += WG) {
    var v = a_in[e];
    if (u.squared == 1u) {
      v = v * v;
    }
    scratch[sA + e] = v * scale;
  }
  sync();
  matmul(s2, sA, sA, d, lid);
  sync();
  matmul(s3, s2, sA, d, lid);
  matmul(s4, s2, s2, d, lid);
  sync();
  // X = B2 + c12·A⁴ ;  Y = A⁴·X + B1 ;  X = A⁴·Y + B0
  for (var e = lid; e < n; e += WG) {
    scratch[sX + e] = block(8u, e, d, e / d == e % d) + inv_fact(12u) * scratch[s4 + e];
  }
  sync();
  matmul(sY, s4, sX, d, lid);
  sync();
  for (var e = lid; e < n; e += WG) {
    scratch[sY + e] += block(4u, e, d, e / d == e % d);
  }
  sync();
  matmul(sX, s4, sY, d, lid);
  sync();
  for (var e = lid; e < n; e += WG) {
    scratch[sX + e] += block(0u, e, d, e / d == e % d);
  }
  sync();
  // s squarings, ping-ponging X ↔ Y
  var cur = sX;
  var nxt = sY;
  for (var q = 0u; q < s; q++) {
    matmul(nxt, cur, cur, d, lid);
    sync();
    let t = cur;
    cur = nxt;
    nxt = t;
  }
  for (var e = lid; e < n; e += WG) {
    e_out[e] = scratch[cur + e];
  }
  if (u.with_h == 1u) {
    // h = tr(E) − d, from the values just computed
    if (lid < d) {
      trace_parts[lid] = scratch[cur + lid * d + lid];
    }
    workgroupBarrier();
    if (lid == 0u) {
      var t = 0.0;
      for (var i = 0u; i < d; i++) {
        t += trace_parts[i] - 1.0;
      }
      h_out[0] = t;
    }
  }
}

// dW = dy · 2·W ∘ Eᵀ, E = exp(W∘W) saved by the forward pass.  U0 = d.
@group(0) @binding(1) var<storage, read> g_w: array<f32>;
@group(0) @binding(2) var<storage, read> g_e: array<f32>;
@group(0) @binding(3) var<storage, read> g_dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> g_dw: array<f32>;

@compute @workgroup_size(256)
fn notears_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let d = u.d;
  let e = linear_index(wid, nwg, lid, WG);
  if (e >= d * d) {
    return;
  }
  let i = e / d;
  let j = e % d;
  g_dw[e] = g_dy[0] * 2.0 * g_w[e] * g_e[j * d + i];
}
