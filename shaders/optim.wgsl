// Optimizer kernels over the flat parameter arena (src/ops/optim.ts). Every parameter is a
// segment starting at a multiple of 256 elements, so a 256-element chunk lies in one segment.
// layout (i32): per segment [offset, length, clip group, 0], then the segment of every chunk.
// config (f32): [lr, beta1, beta2, eps, bias1, bias2, 0, 0], weight decay per segment, max norm
// per clip group (0 = no clipping).
// Uniforms: U0 segments, U1 groups, U2 chunks, U3 elements; F0 fill value.

@group(0) @binding(1) var<storage, read> layout_: array<i32>;
@group(0) @binding(2) var<storage, read> ograd: array<f32>;
@group(0) @binding(3) var<storage, read_write> opartial: array<f32>;

var<workgroup> osum: array<f32, 256>;

fn seg_offset(s: u32) -> u32 { return u32(layout_[4u * s]); }
fn seg_length(s: u32) -> u32 { return u32(layout_[4u * s + 1u]); }
fn seg_group(s: u32) -> u32 { return u32(layout_[4u * s + 2u]); }
fn chunk_segment(c: u32) -> u32 { return u32(layout_[4u * U(0u) + c]); }

// partial[s] = Σ grad² over segment s: one workgroup per segment, then a tree sum.
@compute @workgroup_size(256)
fn seg_sumsq(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let s = wid.y * nwg.x + wid.x;
  var acc = 0.0;
  if (s < U(0u)) {
    let off = seg_offset(s);
    for (var i = lid; i < seg_length(s); i += 256u) {
      let g = ograd[off + i];
      acc += g * g;
    }
  }
  osum[lid] = acc;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (lid < k) { osum[lid] += osum[lid + k]; }
    workgroupBarrier();
  }
  if (s < U(0u) && lid == 0u) { opartial[s] = osum[0]; }
}

@group(0) @binding(2) var<storage, read> oconfig: array<f32>;
@group(0) @binding(3) var<storage, read> opart: array<f32>;
@group(0) @binding(4) var<storage, read> ogr: array<f32>;
@group(0) @binding(5) var<storage, read_write> oparam: array<f32>;
@group(0) @binding(6) var<storage, read_write> om: array<f32>;
@group(0) @binding(7) var<storage, read_write> ov: array<f32>;

@group(0) @binding(4) var<storage, read_write> ogrw: array<f32>;

// min(1, maxNorm / (‖g_group‖ + 1e-6)), PyTorch's clip_grad_norm_ factor; 1 without clipping.
fn clip_scale(s: u32) -> f32 {
  let g = seg_group(s);
  let max_norm = oconfig[8u + U(0u) + g];
  if (max_norm <= 0.0) { return 1.0; }
  var sq = 0.0;
  for (var t = 0u; t < U(0u); t++) {
    if (seg_group(t) == g) { sq += opart[t]; }
  }
  return min(1.0, max_norm / (sqrt(sq) + 1e-6));
}

// Element `lid` of 256-element chunk c, its segment, and whether it is a parameter element (not
// past the last chunk, not in a segment's padding).
struct ArenaElement {
  seg: u32,
  i: u32,
  live: bool,
}

fn arena_element(c: u32, lid: u32) -> ArenaElement {
  if (c >= U(2u)) { return ArenaElement(0u, 0u, false); }
  let s = chunk_segment(c);
  let i = c * 256u + lid;
  return ArenaElement(s, i, i < seg_offset(s) + seg_length(s));
}

// Fused clip + AdamW (decoupled weight decay, bias correction) over every parameter element.
@compute @workgroup_size(256)
fn adamw(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let e = arena_element(wid.y * nwg.x + wid.x, lid);
  if (!e.live) { return; }
  let s = e.seg;
  let i = e.i;
  let lr = oconfig[0];
  let b1 = oconfig[1];
  let b2 = oconfig[2];
  let eps = oconfig[3];
  let g = ogr[i] * clip_scale(s);
  let m = b1 * om[i] + (1.0 - b1) * g;
  let v = b2 * ov[i] + (1.0 - b2) * g * g;
  om[i] = m;
  ov[i] = v;
  let p = oparam[i] * (1.0 - lr * oconfig[8u + s]);
  let denom = sqrt(v) / sqrt(oconfig[5]) + eps;
  oparam[i] = p - (lr / oconfig[4]) * m / denom;
}

// Clipping alone: grads scaled in place by their group's factor.
@compute @workgroup_size(256)
fn clip_grads(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let e = arena_element(wid.y * nwg.x + wid.x, lid);
  if (!e.live) { return; }
  let s = e.seg;
  let i = e.i;
  ogrw[i] = ogrw[i] * clip_scale(s);
}

@group(0) @binding(1) var<storage, read_write> ofill: array<f32>;

@compute @workgroup_size(256)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid, 256u);
  if (i < U(3u)) { ofill[i] = F(0u); }
}
