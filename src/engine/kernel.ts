/**
 * A kernel is a plain object: one WGSL entry point plus its float64 reference. Both read the same
 * parameters, so the CPU backend runs exactly what the GPU runs, in double precision.
 *
 * Binding convention (every entry point follows it):
 *   @binding(0)            uniforms: `u` integers at slots 0..47, `f` floats at slots 48..63
 *   @binding(1..n)         inputs, `var<storage, read>`
 *   @binding(n+1..n+m)     outputs, `var<storage, read_write>`
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

/** Positional parameters of a kernel not yet declared with named uniforms. */
export interface KernelParams {
  /** unsigned integers (shapes, strides, counts, op codes); slots 0..47 */
  u: number[];
  /** floats (scalars such as clamp bounds); slots 48..63, read in WGSL with F(i) */
  f: number[];
}

export interface KernelDef<P = KernelParams> {
  /** unique, human-readable name (also the statistics key) */
  name: string;
  /** file name in shaders/ without `.wgsl` */
  shader: string;
  entryPoint: string;
  /** the named uniforms the entry point reads (src/engine/kernel-interface.ts) */
  uniforms?: UniformLayout;
  /** names of the storage buffers bound at 1..n (read) and n+1..n+m (written) */
  inputs?: readonly string[];
  outputs?: readonly string[];
  /** the entry point's @workgroup_size (x·y·z threads), checked against the WGSL by a test */
  workgroupSize?: readonly number[];
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
    throw new Error(`causalmix: kernel ${def.name} reads uniforms of shaders/${def.uniforms.shader}`);
  return def as KernelDef<UniformValues<F>>;
}

const UNIFORM_INTS = 48;
const UNIFORM_FLOATS = 16;

/** Packs a dispatch's parameters into the 256-byte uniform block the shader reads. */
export function packParams<P>(k: KernelDef<P>, p: P): ArrayBuffer {
  if (k.uniforms) return packUniformValues(k.uniforms, p as UniformValues<UniformFields>);
  return packUniforms(p as KernelParams);
}

/** Packs positional parameters (ints at slots 0..47, floats at 48..63). */
function packUniforms(p: KernelParams): ArrayBuffer {
  if (p.u.length > UNIFORM_INTS || p.f.length > UNIFORM_FLOATS) {
    throw new Error(
      `kernel parameters overflow the uniform block (${p.u.length} ints, ${p.f.length} floats)`,
    );
  }
  const buf = new ArrayBuffer(UNIFORM_BYTES);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  p.u.forEach((v, i) => (u[i] = v));
  p.f.forEach((v, i) => (f[UNIFORM_INTS + i] = v));
  return buf;
}

/** Workgroups for a 1-D launch of `threads` invocations, spread over y above 65,535 groups. */
export function linearGrid(threads: number, workgroupSize: number): [number, number, number] {
  const groups = Math.ceil(threads / workgroupSize);
  if (groups <= 65535) return [groups, 1, 1];
  return [65535, Math.ceil(groups / 65535), 1];
}
