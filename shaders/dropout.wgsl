// Inverted dropout with a counter-based mask: element i is kept when hash(seed, i) ≥ p, so the
// backward pass (the same kernel applied to dy) regenerates the forward mask without storing it.
// The seed lives in a 1-element buffer the trainer rewrites each step (recorded programs replay
// the same dispatch with a new mask). Uniforms: `DropoutUniforms` in src/ops/dropout.ts.

@group(0) @binding(1) var<storage, read> dx: array<f32>;
@group(0) @binding(2) var<storage, read> dseed: array<i32>;
@group(0) @binding(3) var<storage, read_write> dy: array<f32>;

fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

@compute @workgroup_size(256)
fn dropout(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid, 256u);
  if (i >= u.n) { return; }
  let h = pcg_hash(i ^ pcg_hash(bitcast<u32>(dseed[0])));
  let draw = f32(h >> 8u) / 16777216.0;
  dy[i] = select(0.0, dx[i] * u.scale, draw >= u.rate);
}
