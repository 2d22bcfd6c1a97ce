/**
 * The reference implementation's parameter names and layouts (DeepCausalMMM 1.0.21 state dicts),
 * for loading its weights (parity tests, migrating a trained model). Its extra parameters that
 * never reach the output (model-spec §9.7) are ignored.
 */
import type { DeepCausalMMM } from './model.js';

/** our name → the reference's name */
export const UPSTREAM_NAMES: Record<string, string> = {
  adstockRaw: 'alpha',
  hillSlopeRaw: 'hill_a',
  hillHalfSatRaw: 'hill_g',
  dagLogits: 'adj_logits',
  interactionRaw: 'interaction_weight',
  regionBaselineRaw: 'region_baseline',
  globalBiasRaw: 'global_bias',
  predictionScaleRaw: 'prediction_scale',
  seasonalCoeffRaw: 'seasonal_coeff',
  mediaCoeffMaxRaw: 'media_coeff_max_raw',
  ctrlCoeffMaxRaw: 'ctrl_coeff_max_raw',
  h0: 'h0',
  stableMediaCoeff: 'stable_media_coeff',
  stableCtrlCoeff: 'stable_ctrl_coeff',
  'ctrlMlp.weight': 'ctrl_mlp.0.weight',
  'ctrlMlp.bias': 'ctrl_mlp.0.bias',
  'gru.weightIh': 'gru.weight_ih_l0',
  'gru.weightHh': 'gru.weight_hh_l0',
  'gru.biasIh': 'gru.bias_ih_l0',
  'gru.biasHh': 'gru.bias_hh_l0',
  'mediaHead.0.weight': 'coeff_gen.0.weight',
  'mediaHead.0.bias': 'coeff_gen.0.bias',
  'mediaHead.1.weight': 'coeff_gen.2.weight',
  'mediaHead.1.bias': 'coeff_gen.2.bias',
  'mediaHead.2.weight': 'coeff_gen.4.weight',
  'mediaHead.2.bias': 'coeff_gen.4.bias',
  'ctrlHead.0.weight': 'ctrl_coeff_gen.0.weight',
  'ctrlHead.0.bias': 'ctrl_coeff_gen.0.bias',
  'ctrlHead.1.weight': 'ctrl_coeff_gen.2.weight',
  'ctrlHead.1.bias': 'ctrl_coeff_gen.2.bias',
  'ctrlHead.2.weight': 'ctrl_coeff_gen.4.weight',
  'ctrlHead.2.bias': 'ctrl_coeff_gen.4.bias',
};

/** Tensors of a float32 bundle: a JSON manifest (name, shape, offset_floats) + the raw floats. */
export interface F32Manifest {
  tensors: { name: string; shape: number[]; offset_floats: number; count: number }[];
}

export function readF32Bundle(manifest: F32Manifest, bytes: Uint8Array): Map<string, Float32Array> {
  const all = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
  return new Map(
    manifest.tensors.map((t) => [t.name, all.subarray(t.offset_floats, t.offset_floats + t.count)]),
  );
}

/** Writes the reference's weights into the model; names it needs but cannot find are an error. */
export function loadUpstreamState(
  model: DeepCausalMMM,
  state: Map<string, ArrayLike<number>>,
): void {
  const values = new Map<string, ArrayLike<number>>();
  for (const name of model.arena.names) {
    const theirs = UPSTREAM_NAMES[name];
    const v = theirs === undefined ? undefined : state.get(theirs);
    if (!v)
      throw new Error(`causalmix: the reference state has no '${theirs ?? name}' (for ${name})`);
    const want = model.arena.param(name).size;
    if (v.length !== want)
      throw new Error(
        `causalmix: reference '${theirs}' has ${v.length} values, ${name} needs ${want}`,
      );
    values.set(name, v);
  }
  model.arena.write(values);
}
