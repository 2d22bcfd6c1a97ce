// Masked mean losses (src/ops/loss.ts): L = Σ w·ℓ(p − t) / max(Σ w, 1), one workgroup per pass.
// Uniforms: `LossUniforms` in src/ops/loss.ts (without a mask, every weight is 1 and the mask
// binding is a placeholder).
// Forward bindings: pred, target, mask → out[0]. Backward: pred, target, mask, dy → dpred, dtarget.

@group(0) @binding(1) var<storage, read> lpred: array<f32>;
@group(0) @binding(2) var<storage, read> ltarget: array<f32>;
@group(0) @binding(3) var<storage, read> lmask: array<f32>;

@group(0) @binding(4) var<storage, read_write> lout: array<f32>;

@group(0) @binding(4) var<storage, read> ldy: array<f32>;
@group(0) @binding(5) var<storage, read_write> ldpred: array<f32>;
@group(0) @binding(6) var<storage, read_write> ldtarget: array<f32>;

var<workgroup> wsum: array<f32, 256>;
var<workgroup> wcount: array<f32, 256>;

fn mask_weight(i: u32) -> f32 {
  if (u.has_mask == 0u) { return 1.0; }
  return lmask[i];
}

// ℓ(d): d² (MSE) or PyTorch's Huber ½d² for |d| ≤ δ, δ(|d| − ½δ) beyond.
fn point_loss(d: f32) -> f32 {
  if (u.code == LOSS_MSE) { return d * d; }
  let delta = u.delta;
  let a = abs(d);
  if (a <= delta) { return 0.5 * d * d; }
  return delta * (a - 0.5 * delta);
}

// ℓ′(d): 2d (MSE) or clamp(d, −δ, δ) (Huber; continuous at ±δ, so no tie rule is needed).
fn point_grad(d: f32) -> f32 {
  if (u.code == LOSS_MSE) { return 2.0 * d; }
  return clamp(d, -u.delta, u.delta);
}

// Σ w over all elements by the whole workgroup; every invocation returns the same value. The
// forward pass sums in exactly this order too, so both passes divide by the same f32 count.
fn mask_count(lid: u32) -> f32 {
  var c = 0.0;
  for (var i = lid; i < u.n; i += 256u) {
    c += mask_weight(i);
  }
  wcount[lid] = c;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) {
      wcount[lid] += wcount[lid + s];
    }
    workgroupBarrier();
  }
  return wcount[0];
}

// Launched as a single workgroup: 256 invocations stride over the elements, then tree sums.
@compute @workgroup_size(256)
fn loss_forward(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < u.n; i += 256u) {
    let w = mask_weight(i);
    // Masked-out elements are skipped, not multiplied by 0: their ℓ may overflow to inf in f32.
    if (w != 0.0) {
      acc += w * point_loss(lpred[i] - ltarget[i]);
    }
  }
  wsum[lid] = acc;
  let count = mask_count(lid);
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) {
      wsum[lid] += wsum[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    lout[0] = wsum[0] / max(count, 1.0);
  }
}

// dpred = dy·w·ℓ′(d) / max(Σ w, 1), dtarget = −dpred; dy is the upstream scalar on the device.
// A single workgroup: it reduces Σ w first, then every invocation writes its strided elements.
@compute @workgroup_size(256)
fn loss_backward(@builtin(local_invocation_index) lid: u32) {
  let scale = ldy[0] / max(mask_count(lid), 1.0);
  for (var i = lid; i < u.n; i += 256u) {
    let w = mask_weight(i);
    var g = 0.0;
    if (w != 0.0) {
      g = scale * w * point_grad(lpred[i] - ltarget[i]);
    }
    ldpred[i] = g;
    ldtarget[i] = -g;
  }
}
