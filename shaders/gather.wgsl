// Gathers along one axis and the backward of slice (src/ops/shape.ts).
//
// index_select / index_select_grad see x as [outer, dim, inner] and the selection as
// [outer, count, inner]. Uniforms: `GatherUniforms` (`u`) in src/ops/shape.ts.
// Indices outside [0, dim) select 0 and receive no gradient (number[] indices are checked on the
// host; device tensors cannot be, so the kernels define a safe result instead).
//
// slice_grad embeds dy (shape `size`) into zeros of x's shape at `begin`.
// Uniforms: `SliceGradUniforms` (`us`) in src/ops/shape.ts.

@group(0) @binding(1) var<storage, read> gsrc: array<f32>;
@group(0) @binding(2) var<storage, read> gidx: array<i32>;
@group(0) @binding(3) var<storage, read_write> gout: array<f32>;

@group(0) @binding(2) var<storage, read_write> pout: array<f32>;

// out[o, k, r] = x[o, idx[k], r]: one invocation per output element.
@compute @workgroup_size(64)
fn index_select(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid, 64u);
  if (i >= u.n) { return; }
  let inner = u.inner;
  let count = u.count;
  let dim = u.dim;
  let r = i % inner;
  let k = (i / inner) % count;
  let o = i / (inner * count);
  let j = gidx[k];
  var v = 0.0;
  if (j >= 0 && u32(j) < dim) {
    v = gsrc[(o * dim + u32(j)) * inner + r];
  }
  gout[i] = v;
}

// dx[o, a, r] = Σ_{k : idx[k] = a} dy[o, k, r]: one invocation per element of x, looping over
// the indices in order (a scatter-add without atomics; WGSL has no float atomics).
@compute @workgroup_size(64)
fn index_select_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid, 64u);
  if (i >= u.n) { return; }
  let inner = u.inner;
  let count = u.count;
  let dim = u.dim;
  let r = i % inner;
  let a = i32((i / inner) % dim);
  let base = (i / (inner * dim)) * count * inner + r;
  var acc = 0.0;
  for (var k = 0u; k < count; k++) {
    if (gidx[k] == a) {
      acc += gsrc[base + k * inner];
    }
  }
  gout[i] = acc;
}

// dx = dy inside the slice, 0 elsewhere: one invocation per element of x (no separate zero fill).
@compute @workgroup_size(64)
fn slice_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid, 64u);
  if (i >= us.n) { return; }
  var rem = i;
  var off = 0u;
  var stride = 1u;
  var inside = true;
  for (var d = 5i; d >= 0; d--) {
    let k = u32(d);
    let n = us_shape(k);
    let c = rem % n;
    rem = rem / n;
    let b = us_begin(k);
    let s = us_size(k);
    if (c < b || c >= b + s) {
      inside = false;
    }
    // Wraps when outside the slice, but is then never read.
    off += (c - b) * stride;
    stride *= s;
  }
  var v = 0.0;
  if (inside) {
    v = gsrc[off];
  }
  pout[i] = v;
}
