/**
 * The constraints of the model's parameters (model-spec §4), one definition for the host model, the
 * analyses and the float64 reference kernels, with the maps from raw (unconstrained) parameter
 * values to the values the model uses and their derivatives. The lower clamp of the Hill slope is
 * a config value (`hillSlopeMin`); its reference value is `slopeMinReference`.
 *
 *   α = min(σ(adstockRaw), adstockMax), s = clamp(softplus(slopeRaw), slopeMin, slopeMax),
 *   g = clamp(softplus(halfSatRaw), halfSatMin, halfSatMax),
 *   adstock state a_t = clamp(x_t + α·a_{t−1}, 0, adstockStateMax),
 *   coefficient maximum = softplus(maxRaw) + COEFFICIENT_MAX_OFFSET
 */
import { clamp, sigmoid, softplus } from './functions.js';

export const MEDIA_CONSTRAINTS = {
  adstockMax: 0.8,
  slopeMax: 5,
  /** the reference's lower clamp of the Hill slope (S-shaped curves only) */
  slopeMinReference: 2,
  halfSatMin: 0.01,
  halfSatMax: 1,
  /** upper clamp of the adstocked input (its lower clamp is 0) */
  adstockStateMax: 10,
} as const;

/** Added to softplus(maxRaw) for the maximum of a time-varying coefficient (media and controls). */
export const COEFFICIENT_MAX_OFFSET = 0.1;

/** Adstock α = min(σ(raw), adstockMax). */
export function alphaFromRaw(raw: number): number {
  return Math.min(sigmoid(raw), MEDIA_CONSTRAINTS.adstockMax);
}

/** Hill slope s = clamp(softplus(raw), slopeMin, slopeMax). */
export function slopeFromRaw(raw: number, slopeMin: number): number {
  return clamp(softplus(raw), slopeMin, MEDIA_CONSTRAINTS.slopeMax);
}

/** Hill half-saturation g = clamp(softplus(raw), halfSatMin, halfSatMax). */
export function halfSatFromRaw(raw: number): number {
  return clamp(softplus(raw), MEDIA_CONSTRAINTS.halfSatMin, MEDIA_CONSTRAINTS.halfSatMax);
}

/** A coefficient's maximum softplus(raw) + COEFFICIENT_MAX_OFFSET. */
export function coefficientMax(raw: number): number {
  return softplus(raw) + COEFFICIENT_MAX_OFFSET;
}

// The derivatives by the raw value: clamps pass the gradient inside their bounds, bounds included
// (as PyTorch's), and stop it outside.

/** dα/draw. */
export function alphaRawGrad(raw: number): number {
  const s = sigmoid(raw);
  return s <= MEDIA_CONSTRAINTS.adstockMax ? s * (1 - s) : 0;
}

/** ds/draw. */
export function slopeRawGrad(raw: number, slopeMin: number): number {
  const sp = softplus(raw);
  return sp >= slopeMin && sp <= MEDIA_CONSTRAINTS.slopeMax ? sigmoid(raw) : 0;
}

/** dg/draw. */
export function halfSatRawGrad(raw: number): number {
  const sp = softplus(raw);
  return sp >= MEDIA_CONSTRAINTS.halfSatMin && sp <= MEDIA_CONSTRAINTS.halfSatMax
    ? sigmoid(raw)
    : 0;
}
