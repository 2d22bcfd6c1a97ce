/**
 * A kernel is a plain object: one WGSL entry point plus its float64 reference. Both read the same
 * parameters, so the CPU backend runs exactly what the GPU runs, in double precision.
 *
 * Binding convention (every entry point follows it):
 *   @binding(0)            the uniform struct the kernel declares (src/engine/kernel-interface.ts),
 *                          read by name in WGSL (`u.regions`) and in the reference (`p.regions`)
 *   @binding(1..n)         `inputs`, `var<storage, read>`
 *   @binding(n+1..n+m)     `outputs`, `var<storage, read_write>`
 * Shapes travel in the uniforms, so one pipeline serves every shape.
 */
import {
  packUniformValues,
  UNIFORM_BYTES,
  type UniformFields,
  type UniformLayout,
  type UniformValues,
} from './kernel-interface.js';

export { UNIFORM_BYTES };

export interface KernelDef<P = Record<string, number | readonly number[]>> {
  /** unique, human-readable name (also the statistics key) */
  name: string;
  /** file name in shaders/ without `.wgsl` */
  shader: string;
  entryPoint: string;
  /** the named uniforms the entry point reads (src/engine/kernel-interface.ts) */
  uniforms: UniformLayout;
  /** names of the storage buffers bound at 1..n (read) and n+1..n+m (written) */
  inputs: readonly string[];
  outputs: readonly string[];
  /** the entry point's @workgroup_size, checked against the WGSL by tests/kernel-interface.test.ts */
  workgroupSize: readonly number[];
  /** float64 reference with the WGSL entry point's semantics */
  cpu: (inputs: Float64Array[], outputs: Float64Array[], p: P) => void;
}

/** A kernel whose parameters are the named uniforms of `uniforms`. */
export function defineKernel<F extends UniformFields>(def: {
  name: string;
  shader: string;
  entryPoint: string;
  uniforms: UniformLayout<F>;
  inputs: readonly string[];
  outputs: readonly string[];
  workgroupSize: readonly number[];
  cpu: (inputs: Float64Array[], outputs: Float64Array[], p: UniformValues<F>) => void;
}): KernelDef<UniformValues<F>> {
  if (def.uniforms.shader !== def.shader)
    throw new Error(
      `causalmix: kernel ${def.name} reads uniforms of shaders/${def.uniforms.shader}`,
    );
  return def as KernelDef<UniformValues<F>>;
}

/** Packs a dispatch's named parameters into the 256-byte uniform block the shader reads. */
export function packParams<P>(k: KernelDef<P>, p: P): ArrayBuffer {
  return packUniformValues(k.uniforms, p as UniformValues<UniformFields>);
}

/** 1-D launches: see src/engine/launch-planner.ts. */
export { linearGrid } from './launch-planner.js';
