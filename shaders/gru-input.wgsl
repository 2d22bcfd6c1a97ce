// The GRU input u = concat([xt, dropout(features)], axis 2) of src/ops/gru-input.ts in one pass,
// one invocation per element of u ([R·T, C + F] seen as rows). The dropout mask is dropout.wgsl's
// counter-based hash of (seed, i) with i the element's flat index in features, so the result is
// bit-identical to the unfused dropout + concat and the backward pass regenerates the mask.
// Uniforms: `GruInputUniforms` in src/ops/gru-input.ts.
// Forward:  xt, features, seed → u.
// Backward: dy, seed → dxt, dfeatures.

@group(0) @binding(1) var<storage, read> gx: array<f32>;
@group(0) @binding(2) var<storage, read> gfeat: array<f32>;
@group(0) @binding(3) var<storage, read> gseed: array<i32>;
@group(0) @binding(4) var<storage, read_write> gu: array<f32>;

@group(0) @binding(1) var<storage, read> bdy: array<f32>;
@group(0) @binding(2) var<storage, read> bseed: array<i32>;
@group(0) @binding(3) var<storage, read_write> bdx: array<f32>;
@group(0) @binding(4) var<storage, read_write> bdfeat: array<f32>;

fn gru_input_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// Does features element i survive? (dropout.wgsl's rule.)
fn gru_input_keep(seed: i32, i: u32) -> bool {
  let h = gru_input_hash(i ^ gru_input_hash(bitcast<u32>(seed)));
  return f32(h >> 8u) / 16777216.0 >= u.rate;
}

// features element i (or its gradient) v after dropout. p = 0 (u.rate = 0) passes v through
// untouched, as the unfused path (no dropout dispatch, then a copy) does; a dropped element is +0.
fn gru_input_drop(seed: i32, i: u32, v: f32) -> f32 {
  if (u.rate <= 0.0) {
    return v;
  }
  return select(0.0, v * u.scale, gru_input_keep(seed, i));
}

@compute @workgroup_size(256)
fn gru_input(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let o = linear_index(wid, nwg, lid, 256u);
  if (o >= u.n) { return; }
  let c = u.c;
  let f = u.f;
  let row = o / (c + f);
  let col = o - row * (c + f);
  if (col < c) {
    gu[o] = gx[row * c + col];
    return;
  }
  let i = row * f + (col - c);
  gu[o] = gru_input_drop(gseed[0], i, gfeat[i]);
}

@compute @workgroup_size(256)
fn gru_input_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let o = linear_index(wid, nwg, lid, 256u);
  if (o >= u.n) { return; }
  let c = u.c;
  let f = u.f;
  let row = o / (c + f);
  let col = o - row * (c + f);
  if (col < c) {
    bdx[row * c + col] = bdy[o];
    return;
  }
  let i = row * f + (col - c);
  bdfeat[i] = gru_input_drop(bseed[0], i, bdy[o]);
}
