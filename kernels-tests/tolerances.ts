/**
 * Per-op tolerances for comparing the device (f32) with the float64 reference: an element passes
 * when |device − reference| ≤ atol + rtol·|reference|. Inputs are drawn in f64 and rounded to f32 on
 * upload, so even exact kernels differ by input rounding (unit roundoff 2⁻²⁴ ≈ 6e-8 relative).
 *
 * Why each value:
 * - exact arithmetic (add, sub, mul, div, min, max, neg, abs, relu, clamp, copies, gathers): one
 *   rounding plus input rounding → rtol 1e-6; atol 1e-7 covers cancellation in add/sub of O(1) values.
 * - exp / pow: WGSL allows 3 + 2|x| ULP for exp (and pow is exp2·log2); with |x| ≤ 10 that is
 *   ≤ 23 ULP ≈ 1.4e-6, and the input rounding of x itself adds |x|·6e-8 relative → rtol 4e-6.
 * - log: absolute 2⁻²¹ ≈ 4.8e-7 near 1, 3 ULP elsewhere → atol 1e-6, rtol 1e-6.
 * - sigmoid, softplus, tanh (built from exp and a division): rtol 3e-6, atol 1e-7 (values below
 *   ~1e-7 are compared absolutely: f32 flushes tiny results such as softplus(−100) to 0).
 * - derivatives: same budgets as their functions, times the dy scaling (dy ~ U(−1, 1)).
 * - sums: n terms of size ~1 accumulate ~log₂(n)·2⁻²⁴ relative (tree) or n·2⁻²⁴ (serial) → for
 *   n ≤ 10⁴, atol 5e-5, rtol 1e-5.
 * - matmul: K-term dot products with the same reasoning → atol 1e-5·√K·max|a|·max|b|, rtol 1e-5.
 * - losses: means of squared / Huber terms → rtol 1e-5, atol 1e-6.
 * - AdamW: m̂/(√v̂ + ε) divides small numbers; one step differs by ≤ 1e-6 relative → rtol 1e-5.
 * On the CPU backend (CAUSALMIX_ADAPTER=cpu) the same budgets apply and hold with margin.
 */
import type { Tolerance } from './helpers.js';

export const TOL = {
  exact: { atol: 1e-7, rtol: 1e-6 },
  exp: { atol: 1e-7, rtol: 4e-6 },
  log: { atol: 1e-6, rtol: 1e-6 },
  transcendental: { atol: 1e-7, rtol: 3e-6 },
  sum: { atol: 5e-5, rtol: 1e-5 },
  loss: { atol: 1e-6, rtol: 1e-5 },
  adamw: { atol: 1e-6, rtol: 1e-5 },
  /** finite differences (f64, central, eps 1e-6): truncation ~eps² and cancellation ~1e-10/eps */
  finiteDiff: { atol: 1e-6, rtol: 1e-5 },
} satisfies Record<string, Tolerance>;

/** Matmul tolerance for inner dimension K and entry bounds |a|, |b| ≤ amax, bmax. */
export function matmulTol(k: number, amax = 1, bmax = 1): Tolerance {
  return { atol: 1e-5 * Math.sqrt(Math.max(k, 1)) * amax * bmax, rtol: 1e-5 };
}
