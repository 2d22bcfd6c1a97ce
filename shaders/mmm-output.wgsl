// Fused model output (src/ops/mmm-output.ts): coefficient bounds, burn-in blend, contributions,
// prediction, masked data loss and the attribution / seasonal priors, forward and backward.
// Uniforms: `MmmOutputUniforms` in src/ops/mmm-output.ts (sizes, burn-in and loss settings, the
// positions of the packed segments in aux, the forward output and the gradient buffer, the heads'
// layout, the optional offset's positions and the loss weights); the burn-in method (BURN_IN_*)
// and loss (LOSS_*) codes are its shader constants.
// The two heads may be one [R, T, C + K] tensor bound twice (media columns first), whose gradient
// is then one segment (gradHeadCtrl = gradHeadMedia). The work area of the gradient buffer holds
// per (r,t) g_raw, g_media, g_pred·raw, then one scalar (the seasonal prior's own term).
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

// The attribution term's scale: stopgrad(data/(L_attr + ε)) (attrAdaptive, the reference) or 1.
fn attr_scale(data: f32, attr: f32) -> f32 {
  if (u.attrAdaptive != 0u) { return data / (attr + 1e-8); }
  return 1.0;
}

// Burn-in weight s_t of week t < B.
fn burn_weight(t: u32) -> f32 {
  let b = f32(u.burnIn);
  let tf = f32(t);
  switch u.burnInMethod {
    case BURN_IN_LINEAR: { return 1.0 - tf / b; }
    case BURN_IN_SIGMOID: { return sigmoid_safe(-(tf - 0.5 * b) / (0.25 * b)); }
    default: { return exp(-3.0 * tf / b); } // BURN_IN_EXPONENTIAL
  }
}

// Weight (1 − s_t) of the head's coefficient in the blend (1 after the burn-in).
fn head_share(t: u32) -> f32 {
  if (t < u.burnIn) { return 1.0 - burn_weight(t); }
  return 1.0;
}

fn blend(t: u32, stable: f32, head: f32) -> f32 {
  if (t < u.burnIn) {
    let s = burn_weight(t);
    return s * stable + (1.0 - s) * head;
  }
  return head;
}

fn media_max(c: u32) -> f32 {
  return softplus_safe(aux[u.auxMediaMax + c]) + COEFFICIENT_MAX_OFFSET;
}

fn ctrl_max(k: u32) -> f32 {
  return softplus_safe(aux[u.auxCtrlMax + k]) + COEFFICIENT_MAX_OFFSET;
}

// Positions of region-week i's head outputs (and of their gradients).
fn hm_index(i: u32, c: u32) -> u32 { return i * u.headsMediaStride + c; }
fn hc_index(i: u32, k: u32) -> u32 { return i * u.headsCtrlStride + u.headsCtrlColumn + k; }

fn beta_at(i: u32, t: u32, c: u32) -> f32 {
  return blend(t, aux[u.auxStableMedia + c], sigmoid_safe(hm[hm_index(i, c)]) * media_max(c));
}

fn gamma_at(i: u32, t: u32, k: u32) -> f32 {
  return blend(t, aux[u.auxStableCtrl + k], tanh_safe(hc[hc_index(i, k)]) * ctrl_max(k));
}

// max(sp(baseline_r) + sp(globalBias), 0): the clamp never bites (both terms are ≥ 0) and passes
// the gradient at ≥ 0, so it is the identity for values and gradients alike.
fn baseline_at(r: u32) -> f32 {
  return max(softplus_safe(aux[u.auxBaseline + r]) + softplus_safe(aux[u.auxGlobalBias]), 0.0);
}

struct Row {
  msum: f32,
  raw: f32,
  pred: f32,
}

// Σ_c media contributions, raw and prediction of region-week i = r·T + t.
fn row_forward(i: u32) -> Row {
  let T = u.weeks;
  let t = i % T;
  var msum = 0.0;
  for (var c = 0u; c < u.media; c++) {
    msum += xt[i * u.media + c] * beta_at(i, t, c);
  }
  var csum = 0.0;
  for (var k = 0u; k < u.controls; k++) {
    csum += zc[i * u.controls + k] * gamma_at(i, t, k);
  }
  let seas = softplus_safe(aux[u.auxSeasCoeff]) * aux[u.auxSeasonal + i];
  var raw = msum + csum + baseline_at(i / T) + seas;
  if (u.hasOffset == 1u) {
    raw += aux[u.auxOffset + i];
  }
  return Row(msum, raw, softplus_safe(aux[u.auxPredScale]) * raw);
}

// ℓ(d): d² (MSE) or PyTorch's Huber ½d² for |d| < δ, δ(|d| − ½δ) beyond (equal at |d| = δ).
fn point_loss(d: f32) -> f32 {
  if (u.lossCode == LOSS_MSE) { return d * d; }
  let delta = u.huberDelta;
  let a = abs(d);
  if (a < delta) { return 0.5 * d * d; }
  return delta * (a - 0.5 * delta);
}

// ℓ′(d): 2d (MSE) or clamp(d, −δ, δ) (Huber; continuous at ±δ).
fn point_grad(d: f32) -> f32 {
  if (u.lossCode == LOSS_MSE) { return 2.0 * d; }
  return clamp(d, -u.huberDelta, u.huberDelta);
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
  let n = u.regions * u.weeks;
  var acc = vec3<f32>(0.0);
  if (i < n) {
    let row = row_forward(i);
    let w = aux[u.auxMask + i];
    // masked-out weeks are skipped, not multiplied by 0: their ℓ may overflow to inf
    if (w != 0.0) {
      let a = row.msum - u.mediaPrior * row.raw;
      acc = vec3<f32>(w * point_loss(row.pred - aux[u.auxTarget + i]), w * a * a, w);
    }
    if (u.allOutputs == 1u) {
      let T = u.weeks;
      let t = i % T;
      let C = u.media;
      let K = u.controls;
      for (var c = 0u; c < C; c++) {
        let b = beta_at(i, t, c);
        fout[u.outMediaCoeffs + i * C + c] = b;
        fout[u.outMediaContrib + i * C + c] = xt[i * C + c] * b;
      }
      for (var k = 0u; k < K; k++) {
        let g = gamma_at(i, t, k);
        fout[u.outCtrlCoeffs + i * K + k] = g;
        fout[u.outCtrlContrib + i * K + k] = zc[i * K + k] * g;
      }
      fout[u.outPrediction + i] = row.pred;
      fout[u.outBaseline + i] = baseline_at(i / T);
      fout[u.outSeasonalContrib + i] =
        softplus_safe(aux[u.auxSeasCoeff]) * aux[u.auxSeasonal + i];
      if (u.hasOffset == 1u) {
        fout[u.outOffset + i] = aux[u.auxOffset + i];
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
  if (lid == 0u && g < u.groups) {
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
  for (var g = lid; g < u.groups; g += 256u) {
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
    let e = softplus_safe(laux[u.auxSeasCoeff]) - 1.0;
    let seas = e * e;
    lparts[0] = data;
    lparts[1] = attr;
    lparts[2] = seas;
    lparts[3] = sums.z;
    lloss[0] = data + u.attrWeight * attr * attr_scale(data, attr)
      + u.seasWeight * seas * (data / (seas + 1e-8));
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
  let T = u.weeks;
  let C = u.media;
  let K = u.controls;
  let n = u.regions * T;
  if (i >= n) { return; }
  let t = i % T;
  let nn = max(bparts[3], 1.0);
  let data = bparts[0];
  let dy = bdy[0];
  let row = row_forward(i);
  let w = aux[u.auxMask + i];
  var gp = 0.0; // ∂loss/∂pred
  var ga = 0.0; // ∂loss/∂(Σ media − prior·raw)
  if (w != 0.0) {
    gp = dy * w * point_grad(row.pred - aux[u.auxTarget + i]) / nn;
    let ratio = attr_scale(data, bparts[1]);
    ga = dy * u.attrWeight * ratio * 2.0 * w * (row.msum - u.mediaPrior * row.raw) / nn;
  }
  let graw = gp * softplus_safe(aux[u.auxPredScale]) - u.mediaPrior * ga;
  let gmed = graw + ga;
  let keep = head_share(t);
  for (var c = 0u; c < C; c++) {
    let j = i * C + c;
    let h = hm_index(i, c);
    let sg = sigmoid_safe(hm[h]);
    bgrad[u.gradXt + j] = gmed * beta_at(i, t, c);
    bgrad[u.gradHeadMedia + h] = gmed * xt[j] * keep * media_max(c) * sg * (1.0 - sg);
  }
  for (var k = 0u; k < K; k++) {
    let j = i * K + k;
    let h = hc_index(i, k);
    let th = tanh_safe(hc[h]);
    bgrad[u.gradHeadCtrl + h] = graw * zc[j] * keep * ctrl_max(k) * (1.0 - th * th);
  }
  let W = u.gradWork;
  bgrad[W + i] = graw;
  bgrad[W + n + i] = gmed;
  bgrad[W + 2u * n + i] = gp * row.raw;
  if (u.hasOffset == 1u) {
    // ∂loss/∂offset = ∂loss/∂raw (data term and the attribution prior's −prior·g_a)
    bgrad[u.gradOffset + i] = graw;
  }
  if (i == 0u) {
    // the seasonal prior's own term: seasWeight·stopgrad(data/(L_seas+ε))·2(sp − 1)·σ
    let sc = aux[u.auxSeasCoeff];
    let e = softplus_safe(sc) - 1.0;
    bgrad[W + 3u * n] =
      dy * u.seasWeight * (data / (bparts[2] + 1e-8)) * 2.0 * e * sigmoid_safe(sc);
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
  let R = u.regions;
  let T = u.weeks;
  let C = u.media;
  let K = u.controls;
  let n = R * T;
  let W = u.gradWork;
  let B = u.burnIn;
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
      acc += vec3<f32>(gr, gr * aux[u.auxSeasonal + i], rgrad[W + 2u * n + i]);
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
    rgrad[u.gradMediaMax + g] = sum.x * sigmoid_safe(aux[u.auxMediaMax + g]);
    rgrad[u.gradStableMedia + g] = sum.y;
  } else if (g < C + K) {
    let k = g - C;
    rgrad[u.gradCtrlMax + k] = sum.x * sigmoid_safe(aux[u.auxCtrlMax + k]);
    rgrad[u.gradStableCtrl + k] = sum.y;
  } else if (g < C + K + R) {
    let r = g - C - K;
    rgrad[u.gradBaseline + r] = sum.x * sigmoid_safe(aux[u.auxBaseline + r]);
  } else if (g == C + K + R) {
    rgrad[u.gradGlobalBias] = sum.x * sigmoid_safe(aux[u.auxGlobalBias]);
    rgrad[u.gradSeasCoeff] = sum.y * sigmoid_safe(aux[u.auxSeasCoeff]) + rgrad[W + 3u * n];
    rgrad[u.gradPredScale] = sum.z * sigmoid_safe(aux[u.auxPredScale]);
  }
}
