// Prepended to every shader module. The uniform block: integers at slots 0..47 (U), floats at
// slots 48..63 (F). See src/engine/kernel.ts for the binding convention.
@group(0) @binding(0) var<uniform> uniforms_: array<vec4<u32>, 16>;

fn U(i: u32) -> u32 {
  return uniforms_[i >> 2u][i & 3u];
}

fn F(i: u32) -> f32 {
  return bitcast<f32>(U(48u + i));
}

// Invocation index of a 1-D launch spread over x and y (src/engine/kernel.ts linearGrid).
fn linear_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, size: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * size + lid;
}

// Offset of element i of a 6-D iteration space (shape at slots sh..sh+5, row-major) under the
// strides at slots st..st+5.
fn strided_offset(i: u32, sh: u32, st: u32) -> u32 {
  var rem = i;
  var off = 0u;
  for (var d = 5i; d >= 0; d--) {
    let n = U(sh + u32(d));
    off += (rem % n) * U(st + u32(d));
    rem = rem / n;
  }
  return off;
}

// Offset of element i of a 6-D iteration space (row-major `shape`) under `strides`, both u32[6]
// uniforms (array<vec4<u32>, 2>).
fn strided_offset6(i: u32, shape: array<vec4<u32>, 2>, strides: array<vec4<u32>, 2>) -> u32 {
  var rem = i;
  var off = 0u;
  for (var d = 5i; d >= 0; d--) {
    let k = u32(d);
    let n = shape[k >> 2u][k & 3u];
    off += (rem % n) * strides[k >> 2u][k & 3u];
    rem = rem / n;
  }
  return off;
}

// Numerically safe forms (no overflow for large |x|, exact limits).
fn sigmoid_safe(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

fn softplus_safe(x: f32) -> f32 {
  if (x < -15.0) {
    return exp(x);
  }
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}

fn tanh_safe(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.01) {
    return x * (1.0 - x * x / 3.0);
  }
  let t = exp(-2.0 * a);
  return sign(x) * (1.0 - t) / (1.0 + t);
}

// x^p for x >= 0 without pow(0, p): 0 at x = 0 for p > 0, 1 for p = 0.
fn pow_safe(x: f32, p: f32) -> f32 {
  if (x <= 0.0) {
    return select(0.0, 1.0, p == 0.0);
  }
  return exp2(p * log2(x));
}
