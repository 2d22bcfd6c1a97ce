/**
 * Declared kernel interfaces. A shader file's uniforms are declared once, here in TypeScript, by
 * name and type; the engine generates the WGSL struct and its `var<uniform>` from the declaration
 * (prepended to the file's source with the file's named constants), and packs a dispatch's named
 * values at the same offsets. Shaders read `u.regions`, never a slot number, and the float64
 * references read the same names.
 *
 * Layout: WGSL's uniform address-space rules. Scalars (`u32`, `i32`, `f32`) take 4 bytes at a
 * 4-byte offset; `u32[n]` is stored as `array<vec4<u32>, ⌈n/4⌉>` (16-byte aligned, so a dynamic
 * index stays legal in the uniform address space) and read in WGSL with the generated accessor
 * `u_shape(d)` (variable, underscore, field).
 */
import { MEDIA_CONSTRAINTS, COEFFICIENT_MAX_OFFSET } from '../maths/constraints.js';

/** A uniform's type: a scalar, or a short array of unsigned integers (shapes, strides). */
export type UniformType = 'u32' | 'i32' | 'f32' | `u32[${number}]`;
export type UniformFields = Record<string, UniformType>;

/** The values a dispatch gives for `F`'s uniforms: a number per scalar, an array per `u32[n]`. */
export type UniformValues<F extends UniformFields> = {
  [K in keyof F]: F[K] extends `u32[${number}]` ? readonly number[] : number;
};

/** Bytes of the uniform block every dispatch binds at @binding(0). */
export const UNIFORM_BYTES = 256;

interface FieldLayout {
  name: string;
  type: UniformType;
  /** byte offset in the block */
  offset: number;
  /** array length (`u32[n]`), 0 for a scalar */
  length: number;
}

/** One declared uniform struct: its WGSL name, the variable shaders read it by and its fields. */
export interface UniformLayout<F extends UniformFields = UniformFields> {
  readonly shader: string;
  readonly struct: string;
  readonly variable: string;
  readonly fields: F;
  readonly layout: readonly FieldLayout[];
  /** bytes the struct occupies */
  readonly size: number;
  /** generated offset functions: name → [shape field, strides field] */
  readonly stridedOffsets: Readonly<Record<string, readonly [string, string]>>;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function sameFields(a: UniformFields, b: UniformFields): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function arrayLength(type: UniformType): number {
  const m = /^u32\[(\d+)\]$/.exec(type);
  return m ? Number(m[1]) : 0;
}

function roundUp(n: number, k: number): number {
  return Math.ceil(n / k) * k;
}

/** Offsets under WGSL's uniform layout rules, in declaration order. */
function layOut(fields: UniformFields): { layout: FieldLayout[]; size: number } {
  let offset = 0;
  let align = 4;
  const layout: FieldLayout[] = [];
  for (const [name, type] of Object.entries(fields)) {
    if (!IDENT.test(name)) throw new Error(`causalmix: uniform name "${name}" is not a WGSL name`);
    const length = arrayLength(type);
    if (!['u32', 'i32', 'f32'].includes(type) && !(length > 0))
      throw new Error(`causalmix: uniform "${name}" has unknown type "${type}"`);
    const a = length > 0 ? 16 : 4;
    offset = roundUp(offset, a);
    align = Math.max(align, a);
    layout.push({ name, type, offset, length });
    offset += length > 0 ? 16 * Math.ceil(length / 4) : 4;
  }
  return { layout, size: roundUp(Math.max(offset, 4), align) };
}

interface ShaderInterface {
  layouts: UniformLayout[];
  constants: Record<string, number>;
}

const INTERFACES = new Map<string, ShaderInterface>();

function interfaceOf(shader: string): ShaderInterface {
  let i = INTERFACES.get(shader);
  if (!i) INTERFACES.set(shader, (i = { layouts: [], constants: {} }));
  return i;
}

/**
 * Declares a uniform struct of shaders/`shader`.wgsl. Entry points of one file that need different
 * uniforms declare several structs with different variable names (each is bound at @binding(0);
 * an entry point reads only one of them).
 */
export function uniformLayout<F extends UniformFields>(
  shader: string,
  struct: string,
  fields: F,
  variable = 'u',
  stridedOffsets: Record<string, readonly [keyof F & string, keyof F & string]> = {},
): UniformLayout<F> {
  const { layout, size } = layOut(fields);
  for (const [name, pair] of Object.entries(stridedOffsets))
    for (const field of pair)
      if (!(arrayLength(fields[field] ?? 'u32') > 0))
        throw new Error(`causalmix: ${struct}: offset ${name} needs u32[n] fields, not "${field}"`);
  if (size > UNIFORM_BYTES)
    throw new Error(`causalmix: uniforms ${struct} need ${size} bytes (at most ${UNIFORM_BYTES})`);
  const decl: UniformLayout<F> = {
    shader,
    struct,
    variable,
    fields,
    layout,
    size,
    stridedOffsets,
  };
  const iface = interfaceOf(shader);
  const same = (l: UniformLayout) =>
    l.struct === struct && l.variable === variable && sameFields(l.fields, fields);
  // a module evaluated twice (two specifiers of one file) declares the same struct again
  iface.layouts = iface.layouts.filter((l) => !same(l));
  if (iface.layouts.some((l) => l.struct === struct || l.variable === variable))
    throw new Error(
      `causalmix: shaders/${shader}.wgsl declares ${struct} (or "${variable}") twice`,
    );
  iface.layouts.push(decl as unknown as UniformLayout);
  return decl;
}

/**
 * Declares named integer constants of shaders/`shader`.wgsl (op codes, modes): the TypeScript
 * table is the one source, the WGSL reads `const NAME: u32`.
 */
export function shaderConstants<T extends Record<string, number>>(shader: string, table: T): T {
  const iface = interfaceOf(shader);
  for (const [name, v] of Object.entries(table)) {
    if (!IDENT.test(name) || !Number.isInteger(v) || v < 0)
      throw new Error(`causalmix: shader constant ${name} = ${v} is not a u32 with a WGSL name`);
    if (name in iface.constants && iface.constants[name] !== v)
      throw new Error(`causalmix: shader constant ${name} of ${shader} declared twice`);
    iface.constants[name] = v;
  }
  return table;
}

function f32Literal(v: number): string {
  return Number.isInteger(v) ? `${v}.0` : `${v}`;
}

/** The model's constraints (src/maths/constraints.ts) as WGSL constants, for every shader. */
export function constraintsWgsl(): string {
  const c = MEDIA_CONSTRAINTS;
  return [
    `const ADSTOCK_MAX: f32 = ${f32Literal(c.adstockMax)};`,
    `const SLOPE_MAX: f32 = ${f32Literal(c.slopeMax)};`,
    `const HALF_SAT_MIN: f32 = ${f32Literal(c.halfSatMin)};`,
    `const HALF_SAT_MAX: f32 = ${f32Literal(c.halfSatMax)};`,
    `const ADSTOCK_STATE_MAX: f32 = ${f32Literal(c.adstockStateMax)};`,
    `const COEFFICIENT_MAX_OFFSET: f32 = ${f32Literal(COEFFICIENT_MAX_OFFSET)};`,
  ].join('\n');
}

function fieldWgsl(f: FieldLayout): string {
  return f.length > 0
    ? `  ${f.name}: array<vec4<u32>, ${Math.ceil(f.length / 4)}>,`
    : `  ${f.name}: ${f.type},`;
}

/** The WGSL the engine puts before shaders/`shader`.wgsl: constants, structs, uniform vars. */
export function interfaceWgsl(shader: string): string {
  const iface = INTERFACES.get(shader) ?? { layouts: [], constants: {} };
  const out: string[] = [`// Generated from the kernel interfaces of shaders/${shader}.wgsl.`];
  for (const [name, v] of Object.entries(iface.constants)) out.push(`const ${name}: u32 = ${v}u;`);
  for (const l of iface.layouts) {
    out.push(`struct ${l.struct} {`, ...l.layout.map(fieldWgsl), '}');
    out.push(`@group(0) @binding(0) var<uniform> ${l.variable}: ${l.struct};`);
    // element i of a u32[n] field, read in place (an array passed by value is copied per call)
    for (const f of l.layout)
      if (f.length > 0)
        out.push(
          `fn ${l.variable}_${f.name}(i: u32) -> u32 { return ${l.variable}.${f.name}[i >> 2u][i & 3u]; }`,
        );
    for (const [name, [shape, strides]] of Object.entries(l.stridedOffsets))
      out.push(stridedOffsetWgsl(name, `${l.variable}_${shape}`, `${l.variable}_${strides}`, l));
  }
  return out.join('\n');
}

/**
 * `fn name(i: u32) -> u32`: the offset of element i of the row-major iteration space `shape` under
 * `strides` (both u32[n] fields, read in place: a helper taking the arrays by value copies them on
 * every call, measured 8–15 % slower on llvmpipe).
 */
function stridedOffsetWgsl(name: string, shape: string, strides: string, l: UniformLayout): string {
  const field = l.stridedOffsets[name][0];
  const n = l.layout.find((f) => f.name === field)!.length;
  return [
    `fn ${name}(i: u32) -> u32 {`,
    '  var rem = i;',
    '  var off = 0u;',
    `  for (var d = ${n - 1}i; d >= 0; d--) {`,
    '    let k = u32(d);',
    `    let n = ${shape}(k);`,
    `    off += (rem % n) * ${strides}(k);`,
    '    rem = rem / n;',
    '  }',
    '  return off;',
    '}',
  ].join('\n');
}

/** Every shader file with a declared interface (for tests). */
export function declaredShaders(): string[] {
  return [...INTERFACES.keys()];
}

/** Packs a dispatch's named uniform values into the block `layout` describes. */
export function packUniformValues<F extends UniformFields>(
  layout: UniformLayout<F>,
  values: UniformValues<F>,
): ArrayBuffer {
  const buf = new ArrayBuffer(UNIFORM_BYTES);
  const u32 = new Uint32Array(buf);
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  const given = values as Record<string, number | readonly number[]>;
  for (const name of Object.keys(given))
    if (!(name in layout.fields))
      throw new Error(`causalmix: ${layout.struct} has no uniform "${name}"`);
  for (const f of layout.layout) {
    const v = given[f.name];
    if (v === undefined) throw new Error(`causalmix: ${layout.struct}.${f.name} is not given`);
    const at = f.offset / 4;
    if (f.length > 0) {
      const arr = v as readonly number[];
      if (!Array.isArray(arr) || arr.length > f.length)
        throw new Error(`causalmix: ${layout.struct}.${f.name} takes at most ${f.length} values`);
      arr.forEach((x, k) => (u32[at + k] = checkU32(layout, f.name, x)));
    } else if (f.type === 'f32') f32[at] = v as number;
    else if (f.type === 'i32') i32[at] = v as number;
    else u32[at] = checkU32(layout, f.name, v as number);
  }
  return buf;
}

function checkU32(layout: UniformLayout, name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new Error(`causalmix: ${layout.struct}.${name} = ${v} is not a u32`);
  return v;
}
