// Centring over the time axis (src/ops/center.ts): y[a, t, c] = x[a, t, c] − Σ_s w[a, s]·x[a, s, c]
// for x [A, T, C] and weights w [A, T, 1], one invocation per (a, c) looping over T. The weights
// are data (the loss mask over each region's count), so the backward pass is
// dx[a, s, c] = dy[a, s, c] − w[a, s]·Σ_t dy[a, t, c], again one invocation per (a, c).
// Uniforms: `CenterUniforms` in src/ops/center.ts.
// Forward:  x, w → y.
// Backward: dy, w → dx.

@group(0) @binding(1) var<storage, read> cx: array<f32>;
@group(0) @binding(2) var<storage, read> cw: array<f32>;
@group(0) @binding(3) var<storage, read_write> cy: array<f32>;

@group(0) @binding(1) var<storage, read> gdy: array<f32>;
@group(0) @binding(2) var<storage, read> gw: array<f32>;
@group(0) @binding(3) var<storage, read_write> gdx: array<f32>;

@compute @workgroup_size(64)
fn center_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let o = linear_index(wid, nwg, lid, 64u);
  if (o >= u.a * u.c) { return; }
  let a = o / u.c;
  let c = o - a * u.c;
  let row = a * u.t;
  var m = 0.0;
  for (var s = 0u; s < u.t; s++) {
    m += cw[row + s] * cx[(row + s) * u.c + c];
  }
  for (var t = 0u; t < u.t; t++) {
    let i = (row + t) * u.c + c;
    cy[i] = cx[i] - m;
  }
}

@compute @workgroup_size(64)
fn center_rows_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let o = linear_index(wid, nwg, lid, 64u);
  if (o >= u.a * u.c) { return; }
  let a = o / u.c;
  let c = o - a * u.c;
  let row = a * u.t;
  var total = 0.0;
  for (var t = 0u; t < u.t; t++) {
    total += gdy[(row + t) * u.c + c];
  }
  for (var s = 0u; s < u.t; s++) {
    let i = (row + s) * u.c + c;
    gdx[i] = gdy[i] - gw[row + s] * total;
  }
}
