// Sums over a set of axes (src/ops/reduce.ts). The input is seen as kept dims × reduced dims.
// Uniforms: U0 outputs, U1 reduced count, U2 square flag (sum of squares), U8..13 kept shape,
// U16..21 kept strides, U24..29 reduced shape, U32..37 reduced strides; F0 scale.

@group(0) @binding(1) var<storage, read> rx: array<f32>;
@group(0) @binding(2) var<storage, read_write> rout: array<f32>;

fn term(v: f32) -> f32 {
  return select(v, v * v, U(2u) == 1u);
}

// One invocation per output element: best when each output sums few values.
@compute @workgroup_size(64)
fn reduce_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let o = linear_index(wid, nwg, lid, 64u);
  if (o >= U(0u)) { return; }
  let base = strided_offset(o, 8u, 16u);
  var acc = 0.0;
  for (var j = 0u; j < U(1u); j++) {
    acc += term(rx[base + strided_offset(j, 24u, 32u)]);
  }
  rout[o] = acc * F(0u);
}

var<workgroup> partial: array<f32, 256>;

// One workgroup per output element: 256 invocations stride over its values, then a tree sum.
@compute @workgroup_size(256)
fn reduce_wide(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let o = wid.y * nwg.x + wid.x;
  let live = o < U(0u);
  var acc = 0.0;
  if (live) {
    let base = strided_offset(o, 8u, 16u);
    for (var j = lid; j < U(1u); j += 256u) {
      acc += term(rx[base + strided_offset(j, 24u, 32u)]);
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) {
      partial[lid] += partial[lid + s];
    }
    workgroupBarrier();
  }
  if (live && lid == 0u) {
    rout[o] = partial[0] * F(0u);
  }
}
