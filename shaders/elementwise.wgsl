// Element-wise maps over a broadcast, strided 6-D iteration space (src/ops/elementwise.ts).
// Uniforms: U0 n, U1 op code, U2 a offset, U3 b offset, U4 out offset, U5 contiguous flag,
// U8..13 iteration shape, U16..21 a strides, U24..29 b strides, U32..37 out strides, F0 F1 scalars.

@group(0) @binding(1) var<storage, read> ea: array<f32>;
@group(0) @binding(2) var<storage, read_write> eout2: array<f32>;

@group(0) @binding(2) var<storage, read> eb: array<f32>;
@group(0) @binding(3) var<storage, read_write> eout3: array<f32>;

@group(0) @binding(3) var<storage, read> edy: array<f32>;
@group(0) @binding(4) var<storage, read_write> eda: array<f32>;
@group(0) @binding(5) var<storage, read_write> edb: array<f32>;

fn off_a(i: u32) -> u32 {
  if (U(5u) == 1u) { return U(2u) + i; }
  return U(2u) + strided_offset(i, 8u, 16u);
}

fn off_b(i: u32) -> u32 {
  if (U(5u) == 1u) { return U(3u) + i; }
  return U(3u) + strided_offset(i, 8u, 24u);
}

fn off_out(i: u32) -> u32 {
  if (U(5u) == 1u) { return U(4u) + i; }
  return U(4u) + strided_offset(i, 8u, 32u);
}

fn unary_f(code: u32, x: f32) -> f32 {
  switch code {
    case 0u: { return x; }
    case 1u: { return -x; }
    case 2u: { return exp(x); }
    case 3u: { return log(x); }
    case 4u: { return sigmoid_safe(x); }
    case 5u: { return softplus_safe(x); }
    case 6u: { return tanh_safe(x); }
    case 7u: { return max(x, 0.0); }
    case 8u: { return clamp(x, F(0u), F(1u)); }
    case 9u: { return pow_safe(x, F(0u)); }
    case 10u: { return abs(x); }
    case 11u: { return sqrt(max(x, 0.0)); }
    case 12u: { return x * x; }
    case 13u: { return F(0u) * x + F(1u); }
    // log1p: WGSL's log is accurate only to 2^-21 absolute near 1, so small |x| take the series
    // x − x²/2 + x³/3 − x⁴/4 (next term ≤ 2e-9 relative at |x| = 0.01)
    case 14u: {
      return select(log(1.0 + x), x * (1.0 - x * (0.5 - x * (1.0 / 3.0 - x * 0.25))), abs(x) < 0.01);
    }
    default: { return 0.0; }
  }
}

// d f(x) / dx (one-sided choices documented in src/ops/elementwise.ts).
fn unary_df(code: u32, x: f32) -> f32 {
  switch code {
    case 0u: { return 1.0; }
    case 1u: { return -1.0; }
    case 2u: { return exp(x); }
    case 3u: { return 1.0 / x; }
    case 4u: { let e = exp(-abs(x)); return e / ((1.0 + e) * (1.0 + e)); }
    case 5u: { return sigmoid_safe(x); }
    case 6u: {
      // 1 − tanh² without cancellation: 4e/(1+e)² with e = exp(−2|x|)
      let e = exp(-2.0 * abs(x));
      return 4.0 * e / ((1.0 + e) * (1.0 + e));
    }
    case 7u: { return select(0.0, 1.0, x > 0.0); }
    case 8u: { return select(0.0, 1.0, x >= F(0u) && x <= F(1u)); }
    case 9u: {
      let p = F(0u);
      if (x <= 0.0) { return select(0.0, 1.0, p == 1.0); }
      return p * exp2((p - 1.0) * log2(x));
    }
    case 10u: { return sign(x); }
    case 11u: { return select(0.0, 0.5 / sqrt(x), x > 0.0); }
    case 12u: { return 2.0 * x; }
    case 13u: { return F(0u); }
    case 14u: { return 1.0 / (1.0 + x); }
    default: { return 0.0; }
  }
}

fn binary_f(code: u32, a: f32, b: f32) -> f32 {
  switch code {
    case 0u: { return a + b; }
    case 1u: { return a - b; }
    case 2u: { return a * b; }
    case 3u: { return a / b; }
    case 4u: { return min(a, b); }
    case 5u: { return max(a, b); }
    case 6u: { return pow_safe(a, b); }
    default: { return 0.0; }
  }
}

// (d/da, d/db) of binary_f; ties of min/max split the gradient evenly (as PyTorch does).
fn binary_df(code: u32, a: f32, b: f32) -> vec2<f32> {
  switch code {
    case 0u: { return vec2<f32>(1.0, 1.0); }
    case 1u: { return vec2<f32>(1.0, -1.0); }
    case 2u: { return vec2<f32>(b, a); }
    case 3u: { return vec2<f32>(1.0 / b, -a / (b * b)); }
    case 4u: { return select(select(vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), a < b), vec2<f32>(0.5, 0.5), a == b); }
    case 5u: { return select(select(vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), a > b), vec2<f32>(0.5, 0.5), a == b); }
    case 6u: {
      if (a <= 0.0) { return vec2<f32>(select(0.0, 1.0, b == 1.0), 0.0); }
      let y = exp2(b * log2(a));
      return vec2<f32>(b * exp2((b - 1.0) * log2(a)), y * log(a));
    }
    default: { return vec2<f32>(0.0, 0.0); }
  }
}

@compute @workgroup_size(64)
fn unary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid, 64u);
  if (i >= U(0u)) { return; }
  eout2[off_out(i)] = unary_f(U(1u), ea[off_a(i)]);
}

// out = dy * f'(x): x read through the a strides, dy through the b strides.
@compute @workgroup_size(64)
fn unary_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid, 64u);
  if (i >= U(0u)) { return; }
  eout3[off_out(i)] = eb[off_b(i)] * unary_df(U(1u), ea[off_a(i)]);
}

@compute @workgroup_size(64)
fn binary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid, 64u);
  if (i >= U(0u)) { return; }
  eout3[off_out(i)] = binary_f(U(1u), ea[off_a(i)], eb[off_b(i)]);
}

// da = dy * df/da, db = dy * df/db over the iteration space (dy, da, db contiguous there);
// broadcast inputs are summed back to their shapes by a reduction afterwards.
@compute @workgroup_size(64)
fn binary_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid, 64u);
  if (i >= U(0u)) { return; }
  let g = binary_df(U(1u), ea[off_a(i)], eb[off_b(i)]) * edy[i];
  eda[i] = g.x;
  edb[i] = g.y;
}
