// Prepended to every shader module, before the module's generated interface (its uniform
// struct, bound at @binding(0), and constants: src/engine/kernel-interface.ts) and the model's
// constraints. See src/engine/kernel.ts for the binding convention.

// Invocation index of a 1-D launch spread over x and y (linearGrid, src/engine/launch-planner.ts).
fn linear_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, size: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * size + lid;
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
