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
export interface KernelParams {
  /** unsigned integers (shapes, strides, counts, op codes); slots 0..47 */
  u: number[];
  /** floats (scalars such as clamp bounds); slots 48..63, read in WGSL with F(i) */
  f: number[];
}

export interface KernelDef {
  /** unique, human-readable name (also the statistics key) */
  name: string;
  /** file name in shaders/ without `.wgsl` */
  shader: string;
  entryPoint: string;
  /** float64 reference with the WGSL entry point's semantics */
  cpu: (inputs: Float64Array[], outputs: Float64Array[], p: KernelParams) => void;
}

export const UNIFORM_INTS = 48;
export const UNIFORM_FLOATS = 16;
export const UNIFORM_BYTES = (UNIFORM_INTS + UNIFORM_FLOATS) * 4;

/** Packs parameters into the 256-byte uniform block the shaders read. */
export function packUniforms(p: KernelParams): ArrayBuffer {
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
