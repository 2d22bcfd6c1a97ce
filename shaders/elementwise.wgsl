// Element-wise maps over a broadcast, strided 6-D iteration space (src/ops/elementwise.ts).
// Uniforms: `ElementwiseUniforms` in src/ops/elementwise.ts; op codes: its `shaderConstants`
// table (UNARY_*, BINARY_*).

@group(0) @binding(1) var<storage, read> ea: array<f32>;
@group(0) @binding(2) var<storage, read_write> eout2: array<f32>;

@group(0) @binding(2) var<storage, read> eb: array<f32>;
@group(0) @binding(3) var<storage, read_write> eout3: array<f32>;

@group(0) @binding(3) var<storage, read> edy: array<f32>;
@group(0) @binding(4) var<storage, read_write> eda: array<f32>;
@group(0) @binding(5) var<storage, read_write> edb: array<f32>;

// Offsets of element i in a, b and out: strided_a/b/out are generated from the declaration
// (row-major over u.shape under each operand's strides, src/ops/elementwise.ts).
fn off_a(i: u32) -> u32 {
  if (u.contiguous == 1u) { return u.off_a + i; }
  return u.off_a + strided_a(i);
}

fn off_b(i: u32) -> u32 {
  if (u.contiguous == 1u) { return u.off_b + i; }
  return u.off_b + strided_b(i);
}

fn off_out(i: u32) -> u32 {
  if (u.contiguous == 1u) { return u.off_out + i; }
  return u.off_out + strided_out(i);
}

fn unary_f(code: u32, x: f32) -> f32 {
  switch code {
    case UNARY_IDENTITY: { return x; }
    case UNARY_NEG: { return -x; }
    case UNARY_EXP: { return exp(x); }
    case UNARY_LOG: { return log(x); }
    case UNARY_SIGMOID: { return sigmoid_safe(x); }
    case UNARY_SOFTPLUS: { return softplus_safe(x); }
    case UNARY_TANH: { return tanh_safe(x); }
    case UNARY_RELU: { return max(x, 0.0); }
    case UNARY_CLAMP: { return clamp(x, u.arg0, u.arg1); }
    case UNARY_POW_SCALAR: { return pow_safe(x, u.arg0); }
    case UNARY_ABS: { return abs(x); }
    case UNARY_SQRT: { return sqrt(max(x, 0.0)); }
    case UNARY_SQUARE: { return x * x; }
    case UNARY_AFFINE: { return u.arg0 * x + u.arg1; }
    // log1p: WGSL's log is accurate only to 2^-21 absolute near 1, so small |x| take the series
    // x − x²/2 + x³/3 − x⁴/4 (next term ≤ 2e-9 relative at |x| = 0.01)
    case UNARY_LOG1P: {
      return select(log(1.0 + x), x * (1.0 - x * (0.5 - x * (1.0 / 3.0 - x * 0.25))), abs(x) < 0.01);
    }
    default: { return 0.0; }
  }
}

// d f(x) / dx (one-sided choices documented in src/ops/elementwise.ts).
fn unary_df(code: u32, x: f32) -> f32 {
  switch code {
    case UNARY_IDENTITY: { return 1.0; }
    case UNARY_NEG: { return -1.0; }
    case UNARY_EXP: { return exp(x); }
    case UNARY_LOG: { return 1.0 / x; }
    case UNARY_SIGMOID: { let e = exp(-abs(x)); return e / ((1.0 + e) * (1.0 + e)); }
    case UNARY_SOFTPLUS: { return sigmoid_safe(x); }
    case UNARY_TANH: {
      // 1 − tanh² without cancellation: 4e/(1+e)² with e = exp(−2|x|)
      let e = exp(-2.0 * abs(x));
      return 4.0 * e / ((1.0 + e) * (1.0 + e));
    }
    case UNARY_RELU: { return select(0.0, 1.0, x > 0.0); }
    case UNARY_CLAMP: { return select(0.0, 1.0, x >= u.arg0 && x <= u.arg1); }
    case UNARY_POW_SCALAR: {
      let p = u.arg0;
      if (x <= 0.0) { return select(0.0, 1.0, p == 1.0); }
      return p * exp2((p - 1.0) * log2(x));
    }
    case UNARY_ABS: { return sign(x); }
    case UNARY_SQRT: { return select(0.0, 0.5 / sqrt(x), x > 0.0); }
    case UNARY_SQUARE: { return 2.0 * x; }
    case UNARY_AFFINE: { return u.arg0; }
    case UNARY_LOG1P: { return 1.0 / (1.0 + x); }
    default: { return 0.0; }
  }
}

fn binary_f(code: u32, a: f32, b: f32) -> f32 {
  switch code {
    case BINARY_ADD: { return a + b; }
    case BINARY_SUB: { return a - b; }
    case BINARY_MUL: { return a * b; }
    case BINARY_DIV: { return a / b; }
    case BINARY_MIN: { return min(a, b); }
    case BINARY_MAX: { return max(a, b); }
    case BINARY_POW: { return pow_safe(a, b); }
    default: { return 0.0; }
  }
}

// (d/da, d/db) of binary_f; ties of min/max split the gradient evenly (as PyTorch does).
fn binary_df(code: u32, a: f32, b: f32) -> vec2<f32> {
  switch code {
    case BINARY_ADD: { return vec2<f32>(1.0, 1.0); }
    case BINARY_SUB: { return vec2<f32>(1.0, -1.0); }
    case BINARY_MUL: { return vec2<f32>(b, a); }
    case BINARY_DIV: { return vec2<f32>(1.0 / b, -a / (b * b)); }
    case BINARY_MIN: { return select(select(vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), a < b), vec2<f32>(0.5, 0.5), a == b); }
    case BINARY_MAX: { return select(select(vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), a > b), vec2<f32>(0.5, 0.5), a == b); }
    case BINARY_POW: {
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
  if (i >= u.n) { return; }
  eout2[off_out(i)] = unary_f(u.code, ea[off_a(i)]);
}

// out = dy * f'(x): x read through the a strides, dy through the b strides.
@compute @workgroup_size(64)
fn unary_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid, 64u);
  if (i >= u.n) { return; }
  eout3[off_out(i)] = eb[off_b(i)] * unary_df(u.code, ea[off_a(i)]);
}

@compute @workgroup_size(64)
fn binary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid, 64u);
  if (i >= u.n) { return; }
  eout3[off_out(i)] = binary_f(u.code, ea[off_a(i)], eb[off_b(i)]);
}

// da = dy * df/da, db = dy * df/db over the iteration space (dy, da, db contiguous there);
// broadcast inputs are summed back to their shapes by a reduction afterwards.
@compute @workgroup_size(64)
fn binary_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid, 64u);
  if (i >= u.n) { return; }
  let g = binary_df(u.code, ea[off_a(i)], eb[off_b(i)]) * edy[i];
  eda[i] = g.x;
  edb[i] = g.y;
}
