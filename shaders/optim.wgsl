// Optimizer kernels over the flat parameter arena (src/ops/optim.ts). Every parameter is a
// segment starting at a multiple of 256 elements, so a 256-element chunk lies in one segment.
// layout (i32): per segment [offset, length, clip group, 0], then the segment of every chunk.
// config (f32): [lr, beta1, beta2, eps, bias1, bias2, global clip flag, 0], weight decay per segment, max norm
// per clip group (0 = no clipping), then [l1, l2] penalty weights per segment.
// partial (f32): Σ grad² per segment, then the penalty value per segment.
// Uniforms: `ArenaUniforms` (u) and `FillUniforms` (uf, the fill entry point) in src/ops/optim.ts.

@group(0) @binding(1) var<storage, read> layout_: array<i32>;
@group(0) @binding(2) var<storage, read> pconfig: array<f32>;
@group(0) @binding(3) var<storage, read> pparam: array<f32>;
@group(0) @binding(4) var<storage, read_write> pgrad: array<f32>;
@group(0) @binding(5) var<storage, read_write> opartial: array<f32>;

var<workgroup> osum: array<f32, 256>;
var<workgroup> opensum: array<f32, 256>;

fn seg_offset(s: u32) -> u32 { return u32(layout_[4u * s]); }
fn seg_length(s: u32) -> u32 { return u32(layout_[4u * s + 1u]); }
fn seg_group(s: u32) -> u32 { return u32(layout_[4u * s + 2u]); }
fn chunk_segment(c: u32) -> u32 { return u32(layout_[4u * u.segments + c]); }

// One workgroup per segment s. With u.penalise = 1 it first adds the L1/L2 penalty gradient
// l1·sign(θ) + 2·l2·θ to the segment's gradients (the penalties are part of the loss, so they
// are clipped with the rest) and writes the penalty value Σ l1|θ| + l2·θ² to partial[nSeg + s];
// then partial[s] = Σ grad² (the clipping norms' input).
@compute @workgroup_size(256)
fn seg_sumsq(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let s = wid.y * nwg.x + wid.x;
  let nseg = u.segments;
  let penalise = u.penalise == 1u;
  var acc = 0.0;
  var pen = 0.0;
  if (s < nseg) {
    let off = seg_offset(s);
    let base = 8u + nseg + u.groups + 2u * s;
    let l1 = select(0.0, pconfig[base], penalise);
    let l2 = select(0.0, pconfig[base + 1u], penalise);
    for (var i = lid; i < seg_length(s); i += 256u) {
      var g = pgrad[off + i];
      if (penalise) {
        let w = pparam[off + i];
        g += l1 * sign(w) + 2.0 * l2 * w;
        pgrad[off + i] = g;
        pen += l1 * abs(w) + l2 * w * w;
      }
      acc += g * g;
    }
  }
  osum[lid] = acc;
  opensum[lid] = pen;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (lid < k) {
      osum[lid] += osum[lid + k];
      opensum[lid] += opensum[lid + k];
    }
    workgroupBarrier();
  }
  if (s < nseg && lid == 0u) {
    opartial[s] = osum[0];
    opartial[nseg + s] = opensum[0];
  }
}

@group(0) @binding(2) var<storage, read> oconfig: array<f32>;
@group(0) @binding(3) var<storage, read> opart: array<f32>;
@group(0) @binding(4) var<storage, read> ogr: array<f32>;
@group(0) @binding(5) var<storage, read_write> oparam: array<f32>;
@group(0) @binding(6) var<storage, read_write> om: array<f32>;
@group(0) @binding(7) var<storage, read_write> ov: array<f32>;

@group(0) @binding(4) var<storage, read_write> ogrw: array<f32>;

// min(1, maxNorm / (‖g_group‖ + 1e-6)), PyTorch's clip_grad_norm_ factor; 1 without clipping.
// With config[6] = 1 every segment is clipped jointly by group 0's max norm (one global norm).
fn clip_scale(s: u32) -> f32 {
  let global = oconfig[6] == 1.0;
  let g = select(seg_group(s), 0u, global);
  let max_norm = oconfig[8u + u.segments + g];
  if (max_norm <= 0.0) { return 1.0; }
  var sq = 0.0;
  for (var t = 0u; t < u.segments; t++) {
    if (global || seg_group(t) == g) { sq += opart[t]; }
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
  if (c >= u.chunks) { return ArenaElement(0u, 0u, false); }
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
  if (i < uf.n) { ofill[i] = uf.value; }
}
