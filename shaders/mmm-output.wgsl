// Fused model output (src/ops/mmm-output.ts): coefficient bounds, burn-in blend, contributions,
// prediction, masked data loss and the attribution / seasonal priors, forward and backward.
// Uniforms: U0 R, U1 T, U2 C, U3 K, U4 burn-in weeks B, U5 burn-in method (0 exponential,
// 1 linear, 2 sigmoid), U6 loss (0 MSE, 1 Huber), U7 'all' outputs flag;
// U8..U18 offsets in aux of mediaMaxRaw, ctrlMaxRaw, stableMedia, stableCtrl, baselineRaw,
// globalBiasRaw, seasonalCoeffRaw, predScaleRaw, seasonal, target, lossMask;
// U19..U25 offsets in the forward output of prediction, mediaCoeffs, ctrlCoeffs, mediaContrib,
// ctrlContrib, baseline, seasonalContrib; U26 forward partial groups;
// U27..U38 offsets in the gradient buffer of dHeadMedia, dHeadCtrl, dXt, dMediaMaxRaw,
// dCtrlMaxRaw, dStableMedia, dStableCtrl, dBaselineRaw, dGlobalBiasRaw, dSeasonalCoeffRaw,
// dPredScaleRaw and the work area (per (r,t): g_raw, g_media, g_pred·raw; then one scalar).
// U39, U40 row strides of the media and control heads, U41 the control head's first column (C,
// K, 0 for separate heads; C + K, C + K, C for both side by side in one tensor, bound twice, whose
// gradient is then one segment: U27 = U28).
// U42 offset flag (1: an offset [R,T] is added to raw), U43 its position in aux, U44 the position
// of offsetContrib in the forward output ('all' outputs only), U45 the position of dOffset (= g_raw
// per (r,t)) in the gradient buffer; with U42 = 0 the other three are 0 and unused.
// F0 Huber δ, F1 media prior share, F2 attribution weight, F3 seasonal weight, F4 1 when the
// attribution term is scaled by stopgrad(data/L_attr) (the reference), 0 for a fixed weight.
// The small parameters and the [R,T] constants travel packed in `aux`, and several results share
// one buffer, to stay within 8 storage buffers per stage.

const WG: u32 = 64u;

// forward pass / backward passes: the per-(r,t) inputs and aux
@group(0) @binding(1) var<storage, read> hm: array<f32>;
@group(0) @binding(2) var<storage, read> hc: array<f32>;
@group(0) @binding(3) var<storage, read> xt: array<f32>;
@group(0) @binding(4) var<storage, read> zc: array<f32>;
@group(0) @binding(5) var<storage, read> aux: array<f32>;
@group(0) @binding(6) var<storage, read_write> fout: array<f32>;

// loss pass: forward partials and aux → parts, loss
@group(0) @binding(1) var<storage, read> lpart: array<f32>;
@group(0) @binding(2) var<storage, read> laux: array<f32>;
@group(0) @binding(3) var<storage, read_write> lparts: array<f32>;
@group(0) @binding(4) var<storage, read_write> lloss: array<f32>;

// backward element pass: + parts, dy → gradient buffer
@group(0) @binding(6) var<storage, read> bparts: array<f32>;
@group(0) @binding(7) var<storage, read> bdy: array<f32>;
@group(0) @binding(8) var<storage, read_write> bgrad: array<f32>;

// backward reduction pass: the gradient buffer (work area read, parameter gradients written)
@group(0) @binding(6) var<storage, read_write> rgrad: array<f32>;

// The attribution term's scale: stopgrad(data/(L_attr + ε)) (F4 = 1, the reference) or 1.
fn attr_scale(data: f32, attr: f32) -> f32 {
  if (F(4u) != 0.0) { return data / (attr + 1e-8); }
  return 1.0;
}

// Burn-in weight s_t of week t < B.
fn burn_weight(t: u32) -> f32 {
  let b = f32(U(4u));
  let tf = f32(t);
  switch U(5u) {
    case 1u: { return 1.0 - tf / b; }
    case 2u: { return sigmoid_safe(-(tf - 0.5 * b) / (0.25 * b)); }
    default: { return exp(-3.0 * tf / b); }
  }
}

// Weight (1 − s_t) of the head's coefficient in the blend (1 after the burn-in).
fn head_share(t: u32) -> f32 {
  if (t < U(4u)) { return 1.0 - burn_weight(t); }
  return 1.0;
}

fn blend(t: u32, stable: f32, head: f32) -> f32 {
  if (t < U(4u)) {
    let s = burn_weight(t);
    return s * stable + (1.0 - s) * head;
  }
  return head;
}

fn media_max(c: u32) -> f32 { return softplus_safe(aux[U(8u) + c]) + 0.1; }
fn ctrl_max(k: u32) -> f32 { return softplus_safe(aux[U(9u) + k]) + 0.1; }

// Positions of region-week i's head outputs (and of their gradients).
fn hm_index(i: u32, c: u32) -> u32 { return i * U(39u) + c; }
fn hc_index(i: u32, k: u32) -> u32 { return i * U(40u) + U(41u) + k; }

fn beta_at(i: u32, t: u32, c: u32) -> f32 {
  return blend(t, aux[U(10u) + c], sigmoid_safe(hm[hm_index(i, c)]) * media_max(c));
}

fn gamma_at(i: u32, t: u32, k: u32) -> f32 {
  return blend(t, aux[U(11u) + k], tanh_safe(hc[hc_index(i, k)]) * ctrl_max(k));
}

// max(sp(baseline_r) + sp(globalBias), 0): the clamp never bites (both terms are ≥ 0) and passes
// the gradient at ≥ 0, so it is the identity for values and gradients alike.
fn baseline_at(r: u32) -> f32 {
  return max(softplus_safe(aux[U(12u) + r]) + softplus_safe(aux[U(13u)]), 0.0);
}

struct Row {
  msum: f32,
  raw: f32,
  pred: f32,
}

// Σ_c media contributions, raw and prediction of region-week i = r·T + t.
fn row_forward(i: u32) -> Row {
  let T = U(1u);
  let t = i % T;
  var msum = 0.0;
  for (var c = 0u; c < U(2u); c++) {
    msum += xt[i * U(2u) + c] * beta_at(i, t, c);
  }
  var csum = 0.0;
  for (var k = 0u; k < U(3u); k++) {
    csum += zc[i * U(3u) + k] * gamma_at(i, t, k);
  }
  let seas = softplus_safe(aux[U(14u)]) * aux[U(16u) + i];
  var raw = msum + csum + baseline_at(i / T) + seas;
  if (U(42u) == 1u) {
    raw += aux[U(43u) + i];
  }
  return Row(msum, raw, softplus_safe(aux[U(15u)]) * raw);
}

// ℓ(d): d² (MSE) or PyTorch's Huber ½d² for |d| < δ, δ(|d| − ½δ) beyond (equal at |d| = δ).
fn point_loss(d: f32) -> f32 {
  if (U(6u) == 0u) { return d * d; }
  let delta = F(0u);
  let a = abs(d);
  if (a < delta) { return 0.5 * d * d; }
  return delta * (a - 0.5 * delta);
}

// ℓ′(d): 2d (MSE) or clamp(d, −δ, δ) (Huber; continuous at ±δ).
fn point_grad(d: f32) -> f32 {
  if (U(6u) == 0u) { return 2.0 * d; }
  return clamp(d, -F(0u), F(0u));
}

var<workgroup> part: array<vec3<f32>, WG>;

// One invocation per region-week: the 'all' outputs, and per-workgroup partial sums
// (Σ w·ℓ, Σ w·(Σ media − prior·raw)², Σ w) at fout[3g..3g+2].
@compute @workgroup_size(64)
fn mmm_forward(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_index(wid, nwg, lid, WG);
  let n = U(0u) * U(1u);
  var acc = vec3<f32>(0.0);
  if (i < n) {
    let row = row_forward(i);
    let w = aux[U(18u) + i];
    // masked-out weeks are skipped, not multiplied by 0: their ℓ may overflow to inf
    if (w != 0.0) {
      let a = row.msum - F(1u) * row.raw;
      acc = vec3<f32>(w * point_loss(row.pred - aux[U(17u) + i]), w * a * a, w);
    }
    if (U(7u) == 1u) {
      let T = U(1u);
      let t = i % T;
      let C = U(2u);
      let K = U(3u);
      for (var c = 0u; c < C; c++) {
        let b = beta_at(i, t, c);
        fout[U(20u) + i * C + c] = b;
        fout[U(22u) + i * C + c] = xt[i * C + c] * b;
      }
      for (var k = 0u; k < K; k++) {
        let g = gamma_at(i, t, k);
        fout[U(21u) + i * K + k] = g;
        fout[U(23u) + i * K + k] = zc[i * K + k] * g;
      }
      fout[U(19u) + i] = row.pred;
      fout[U(24u) + i] = baseline_at(i / T);
      fout[U(25u) + i] = softplus_safe(aux[U(14u)]) * aux[U(16u) + i];
      if (U(42u) == 1u) {
        fout[U(44u) + i] = aux[U(43u) + i];
      }
    }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      part[lid] += part[lid + s];
    }
    workgroupBarrier();
  }
  let g = wid.y * nwg.x + wid.x;
  // (groups past the last region-week exist only when the grid spreads over y)
  if (lid == 0u && g < U(26u)) {
    fout[3u * g] = part[0].x;
    fout[3u * g + 1u] = part[0].y;
    fout[3u * g + 2u] = part[0].z;
  }
}

var<workgroup> total: array<vec3<f32>, 256>;

// A single workgroup: sums the partials, then parts = (data, L_attr, L_seas, n) and the loss.
@compute @workgroup_size(256)
fn mmm_loss(@builtin(local_invocation_index) lid: u32) {
  var acc = vec3<f32>(0.0);
  for (var g = lid; g < U(26u); g += 256u) {
    acc += vec3<f32>(lpart[3u * g], lpart[3u * g + 1u], lpart[3u * g + 2u]);
  }
  total[lid] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) {
      total[lid] += total[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let sums = total[0];
    let nn = max(sums.z, 1.0);
    let data = sums.x / nn;
    let attr = sums.y / nn;
    let e = softplus_safe(laux[U(14u)]) - 1.0;
    let seas = e * e;
    lparts[0] = data;
    lparts[1] = attr;
    lparts[2] = seas;
    lparts[3] = sums.z;
    lloss[0] = data + F(2u) * attr * attr_scale(data, attr) + F(3u) * seas * (data / (seas + 1e-8));
  }
}

// One invocation per region-week: gradients of the head outputs and xt, and the work area the
// reduction pass sums (the stop-gradient ratios are the forward values in parts).
@compute @workgroup_size(64)
fn mmm_backward(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_index(wid, nwg, lid, WG);
  let T = U(1u);
  let C = U(2u);
  let K = U(3u);
  let n = U(0u) * T;
  if (i >= n) { return; }
  let t = i % T;
  let nn = max(bparts[3], 1.0);
  let data = bparts[0];
  let dy = bdy[0];
  let row = row_forward(i);
  let w = aux[U(18u) + i];
  var gp = 0.0; // ∂loss/∂pred
  var ga = 0.0; // ∂loss/∂(Σ media − prior·raw)
  if (w != 0.0) {
    gp = dy * w * point_grad(row.pred - aux[U(17u) + i]) / nn;
    let ratio = attr_scale(data, bparts[1]);
    ga = dy * F(2u) * ratio * 2.0 * w * (row.msum - F(1u) * row.raw) / nn;
  }
  let graw = gp * softplus_safe(aux[U(15u)]) - F(1u) * ga;
  let gmed = graw + ga;
  let keep = head_share(t);
  for (var c = 0u; c < C; c++) {
    let j = i * C + c;
    let h = hm_index(i, c);
    let sg = sigmoid_safe(hm[h]);
    bgrad[U(29u) + j] = gmed * beta_at(i, t, c);
    bgrad[U(27u) + h] = gmed * xt[j] * keep * media_max(c) * sg * (1.0 - sg);
  }
  for (var k = 0u; k < K; k++) {
    let j = i * K + k;
    let h = hc_index(i, k);
    let th = tanh_safe(hc[h]);
    bgrad[U(28u) + h] = graw * zc[j] * keep * ctrl_max(k) * (1.0 - th * th);
  }
  let W = U(38u);
  bgrad[W + i] = graw;
  bgrad[W + n + i] = gmed;
  bgrad[W + 2u * n + i] = gp * row.raw;
  if (U(42u) == 1u) {
    // ∂loss/∂offset = ∂loss/∂raw (data term and the attribution prior's −prior·g_a)
    bgrad[U(45u) + i] = graw;
  }
  if (i == 0u) {
    // the seasonal prior's own term: seasWeight·stopgrad(data/(L_seas+ε))·2(sp − 1)·σ
    let sc = aux[U(14u)];
    let e = softplus_safe(sc) - 1.0;
    bgrad[W + 3u * n] = dy * F(3u) * (data / (bparts[2] + 1e-8)) * 2.0 * e * sigmoid_safe(sc);
  }
}

var<workgroup> red: array<vec3<f32>, 256>;

// Workgroup g sums one parameter family over the region-weeks: g < C media channel g
// (max, stable), then K control channels, then R baseline rows, then the three scalars.
@compute @workgroup_size(256)
fn mmm_reduce(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = wid.y * nwg.x + wid.x;
  let R = U(0u);
  let T = U(1u);
  let C = U(2u);
  let K = U(3u);
  let n = R * T;
  let W = U(38u);
  let B = U(4u);
  var acc = vec3<f32>(0.0);
  if (g < C) {
    for (var i = lid; i < n; i += 256u) {
      let t = i % T;
      let gx = rgrad[W + n + i] * xt[i * C + g];
      let sg = sigmoid_safe(hm[hm_index(i, g)]);
      if (t < B) {
        let s = burn_weight(t);
        acc += vec3<f32>((1.0 - s) * gx * sg, s * gx, 0.0);
      } else {
        acc.x += gx * sg;
      }
    }
  } else if (g < C + K) {
    let k = g - C;
    for (var i = lid; i < n; i += 256u) {
      let t = i % T;
      let gz = rgrad[W + i] * zc[i * K + k];
      let th = tanh_safe(hc[hc_index(i, k)]);
      if (t < B) {
        let s = burn_weight(t);
        acc += vec3<f32>((1.0 - s) * gz * th, s * gz, 0.0);
      } else {
        acc.x += gz * th;
      }
    }
  } else if (g < C + K + R) {
    let r = g - C - K;
    for (var t = lid; t < T; t += 256u) {
      acc.x += rgrad[W + r * T + t];
    }
  } else if (g == C + K + R) {
    for (var i = lid; i < n; i += 256u) {
      let gr = rgrad[W + i];
      acc += vec3<f32>(gr, gr * aux[U(16u) + i], rgrad[W + 2u * n + i]);
    }
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) {
      red[lid] += red[lid + s];
    }
    workgroupBarrier();
  }
  if (lid != 0u) { return; }
  let sum = red[0];
  if (g < C) {
    rgrad[U(30u) + g] = sum.x * sigmoid_safe(aux[U(8u) + g]);
    rgrad[U(32u) + g] = sum.y;
  } else if (g < C + K) {
    let k = g - C;
    rgrad[U(31u) + k] = sum.x * sigmoid_safe(aux[U(9u) + k]);
    rgrad[U(33u) + k] = sum.y;
  } else if (g < C + K + R) {
    let r = g - C - K;
    rgrad[U(34u) + r] = sum.x * sigmoid_safe(aux[U(12u) + r]);
  } else if (g == C + K + R) {
    rgrad[U(35u)] = sum.x * sigmoid_safe(aux[U(13u)]);
    rgrad[U(36u)] = sum.y * sigmoid_safe(aux[U(14u)]) + rgrad[W + 3u * n];
    rgrad[U(37u)] = sum.z * sigmoid_safe(aux[U(15u)]);
  }
}
