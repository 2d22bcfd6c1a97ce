/**
 * The model's scalar maths in float64, one definition each: the host model, the analyses and the
 * float64 reference kernels (src/ops/*) import them from here. sigmoid and softplus have the forms
 * of the shaders' sigmoid_safe and softplus_safe (shaders/common.wgsl), so a reference kernel
 * computes what its WGSL computes, in float64. (The synthetic and recovery generators keep their
 * own process on purpose: they stay independent of the model's parameterisation.)
 */

/** σ(x) = 1/(1 + e^−x) without overflow: with e = e^−|x|, 1/(1 + e) for x ≥ 0, else e/(1 + e). */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * softplus(x) = ln(1 + e^x) as the shaders compute it: e^x below −15, else
 * max(x, 0) + ln(1 + e^−|x|) (no overflow for large x; exact limits). Its derivative is σ(x).
 */
export function softplus(x: number): number {
  return x < -15 ? Math.exp(x) : Math.max(x, 0) + Math.log(1 + Math.exp(-Math.abs(x)));
}

/** x with softplus(x) = y (y > 0); y itself above 20, where the two agree to float64 precision. */
export function inverseSoftplus(y: number): number {
  return y > 20 ? y : Math.log(Math.expm1(y));
}

/** ln(p / (1 − p)), the inverse of σ on (0, 1). */
export function logit(p: number): number {
  return Math.log(p / (1 - p));
}

export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

/**
 * Hill saturation x^s/(g^s + x^s), computed as σ(s·(ln x − ln g)) so that large powers never
 * overflow; 0 at x ≤ 0 (and for NaN).
 */
export function hill(x: number, slope: number, halfSat: number): number {
  return x > 0 ? sigmoid(slope * (Math.log(x) - Math.log(halfSat))) : 0;
}

/**
 * The reference implementation's power-form Hill (upstreamCompat) with its 1e-8 offsets:
 * x^s/(x^s + g^s + 1e-8) with x = max(a, 0) + 1e-8, clamped to [0, 1].
 */
export function hillPower(a: number, slope: number, halfSat: number): number {
  const n = Math.pow(Math.max(a, 0) + 1e-8, slope);
  return clamp(n / (n + Math.pow(halfSat, slope) + 1e-8), 0, 1);
}
