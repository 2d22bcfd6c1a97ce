// Sums over a set of axes (src/ops/reduce.ts). The input is seen as kept dims × reduced dims.
// Uniforms: `ReduceUniforms` in src/ops/reduce.ts.

@group(0) @binding(1) var<storage, read> rx: array<f32>;
@group(0) @binding(2) var<storage, read_write> rout: array<f32>;

// kept_offset(o) and red_offset(j), the offsets in x of output o (over the kept dims) and of its
// j-th reduced value, are generated from the declaration (src/ops/reduce.ts).

fn term(v: f32) -> f32 {
  return select(v, v * v, u.square == 1u);
}

// One invocation per output element: best when each output sums few values.
@compute @workgroup_size(64)
fn reduce_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let o = linear_index(wid, nwg, lid, 64u);
  if (o >= u.n_out) { return; }
  let base = kept_offset(o);
  var acc = 0.0;
  for (var j = 0u; j < u.n_red; j++) {
    acc += term(rx[base + red_offset(j)]);
  }
  rout[o] = acc * u.scale;
}

var<workgroup> partial: array<f32, 256>;

// One workgroup per output element: 256 invocations stride over its values, then a tree sum.
@compute @workgroup_size(256)
fn reduce_wide(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let o = wid.y * nwg.x + wid.x;
  let live = o < u.n_out;
  var acc = 0.0;
  if (live) {
    let base = kept_offset(o);
    for (var j = lid; j < u.n_red; j += 256u) {
      acc += term(rx[base + red_offset(j)]);
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
    rout[o] = partial[0] * u.scale;
  }
}
