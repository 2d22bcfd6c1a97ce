/**
 * The building blocks of the recovery benchmark's true process: carry-over and saturation shapes
 * that are deliberately NOT the model's own (the model uses recursive geometric adstock and a Hill
 * curve), so that recovering the truth tests the model, not the generator's agreement with it.
 */

/** Carry-over kernels, normalised so the weights sum to 1 (a steady input keeps its level). */
export type CarryOver =
  | { kind: 'geometric'; alpha: number; maxLag: number }
  /** peak at `delay` weeks: w_l ∝ alpha^((l − delay)²) */
  | { kind: 'delayed'; alpha: number; delay: number; maxLag: number }
  /** Weibull density over the lags 0..maxLag (shape > 1 gives a delayed peak) */
  | { kind: 'weibull'; shape: number; scale: number; maxLag: number };

/** Saturation curves on an input u ≥ 0 measured in the channel's typical level. */
export type Saturation =
  /** 1 − e^{−λu} */
  | { kind: 'exponential'; lambda: number }
  /** (1 − e^{−λu}) / (1 + e^{−λu}) (= tanh(λu/2), PyMC-Marketing's logistic saturation) */
  | { kind: 'logistic'; lambda: number };

/** The lag weights w_0..w_L of a carry-over kernel (sum 1). */
export function carryWeights(k: CarryOver): Float64Array {
  const w = new Float64Array(k.maxLag + 1);
  for (let l = 0; l <= k.maxLag; l++) {
    if (k.kind === 'geometric') w[l] = Math.pow(k.alpha, l);
    else if (k.kind === 'delayed') w[l] = Math.pow(k.alpha, (l - k.delay) ** 2);
    else {
      // density of a Weibull at the lag's midpoint, so lag 0 gets weight for shape ≤ 1 too
      const x = (l + 0.5) / k.scale;
      w[l] = (k.shape / k.scale) * Math.pow(x, k.shape - 1) * Math.exp(-Math.pow(x, k.shape));
    }
  }
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / s);
}

/** y_t = Σ_l w_l x_{t−l} over one series (weeks before the start count as 0). */
export function carryOver(x: ArrayLike<number>, weights: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let t = 0; t < x.length; t++) {
    let s = 0;
    for (let l = 0; l < weights.length && l <= t; l++) s += weights[l] * x[t - l];
    out[t] = s;
  }
  return out;
}

export function saturate(s: Saturation, u: number): number {
  if (u <= 0) return 0;
  const e = Math.exp(-s.lambda * u);
  return s.kind === 'exponential' ? 1 - e : (1 - e) / (1 + e);
}

/** How far (in weeks) a kernel's weights reach before 99 % of its mass is in. */
export function carryLength(weights: ArrayLike<number>): number {
  let acc = 0;
  for (let l = 0; l < weights.length; l++) {
    acc += weights[l];
    if (acc >= 0.99) return l + 1;
  }
  return weights.length;
}
