/**
 * Declared kernel interfaces (src/engine/kernel-interface.ts): the uniform layout follows WGSL's
 * rules, packing is by name and refuses what the declaration does not say, every kernel in
 * src/ops is declared (uniforms, bindings, workgroup size matching its WGSL), and no shader reads
 * a uniform by slot number.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  constraintsWgsl,
  interfaceWgsl,
  packUniformValues,
  shaderConstants,
  uniformLayout,
} from '../src/engine/kernel-interface.js';
import type { KernelDef } from '../src/engine/kernel.js';
import { MEDIA_CONSTRAINTS, COEFFICIENT_MAX_OFFSET } from '../src/maths/constraints.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SHADERS = join(ROOT, 'shaders');

describe('uniform layouts', () => {
  const layout = uniformLayout('test-layout', 'TestUniforms', {
    n: 'u32',
    shape: 'u32[6]',
    offset: 'i32',
    scale: 'f32',
  });

  test('offsets follow the uniform address space rules (arrays of vec4 at 16 bytes)', () => {
    expect(layout.layout.map((f) => [f.name, f.offset])).toEqual([
      ['n', 0],
      ['shape', 16],
      ['offset', 48],
      ['scale', 52],
    ]);
    expect(layout.size).toBe(64);
    const wgsl = interfaceWgsl('test-layout');
    expect(wgsl).toContain('struct TestUniforms {');
    expect(wgsl).toContain('  shape: array<vec4<u32>, 2>,');
    expect(wgsl).toContain('@group(0) @binding(0) var<uniform> u: TestUniforms;');
    expect(wgsl).toContain('fn u_shape(i: u32) -> u32 { return u.shape[i >> 2u][i & 3u]; }');
  });

  test('generates strided offset functions over declared u32[n] fields', () => {
    uniformLayout('test-offsets', 'OffsetUniforms', { shape: 'u32[6]', st: 'u32[6]' }, 'u', {
      at_st: ['shape', 'st'],
    });
    const wgsl = interfaceWgsl('test-offsets');
    expect(wgsl).toContain('fn at_st(i: u32) -> u32 {');
    expect(wgsl).toContain('for (var d = 5i; d >= 0; d--) {');
    expect(wgsl).toContain('off += (rem % n) * u_st(k);');
    expect(() =>
      uniformLayout('test-offsets-bad', 'Bad', { n: 'u32', st: 'u32[6]' }, 'u', {
        at_n: ['n', 'st'],
      }),
    ).toThrow(/offset at_n needs u32\[n\] fields, not "n"/);
  });

  test('packs named values at their offsets', () => {
    const buf = packUniformValues(layout, {
      n: 7,
      shape: [1, 2, 3, 4, 5, 6],
      offset: -3,
      scale: 0.5,
    });
    const u = new Uint32Array(buf);
    expect(u[0]).toBe(7);
    expect(Array.from(u.subarray(4, 10))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Int32Array(buf)[12]).toBe(-3);
    expect(new Float32Array(buf)[13]).toBe(0.5);
  });

  test('refuses missing, unknown and ill-typed values', () => {
    const ok = { n: 1, shape: [1], offset: 0, scale: 1 };
    const bad = (v: object) => () => packUniformValues(layout, v as typeof ok);
    expect(bad({ shape: [1], offset: 0, scale: 1 })).toThrow(/TestUniforms\.n is not given/);
    expect(bad({ ...ok, extra: 1 })).toThrow(/no uniform "extra"/);
    expect(bad({ ...ok, n: 1.5 })).toThrow(/TestUniforms\.n = 1\.5 is not a u32/);
    expect(bad({ ...ok, n: -1 })).toThrow(/is not a u32/);
    expect(bad({ ...ok, shape: [1, 2, 3, 4, 5, 6, 7] })).toThrow(/at most 6 values/);
  });

  test('refuses a struct over 256 bytes, bad names and a clash', () => {
    const big = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, 'f32' as const]));
    expect(() => uniformLayout('test-big', 'Big', big)).toThrow(/260 bytes \(at most 256\)/);
    expect(() => uniformLayout('test-bad', 'Bad', { 'not-a-name': 'u32' })).toThrow(/WGSL name/);
    expect(() => uniformLayout('test-bad', 'Bad2', { x: 'u64' as 'u32' })).toThrow(/unknown type/);
    expect(() => uniformLayout('test-layout', 'Other', { x: 'u32' })).toThrow(/twice/);
  });

  test('constants come from one table', () => {
    shaderConstants('test-consts', { MODE_A: 0, MODE_B: 3 });
    expect(interfaceWgsl('test-consts')).toContain('const MODE_B: u32 = 3u;');
    expect(() => shaderConstants('test-consts', { MODE_B: 4 })).toThrow(/declared twice/);
  });

  test("the WGSL constraints are the host model's", () => {
    const c = constraintsWgsl();
    expect(c).toContain(`const ADSTOCK_MAX: f32 = ${MEDIA_CONSTRAINTS.adstockMax};`);
    expect(c).toContain(`const SLOPE_MAX: f32 = ${MEDIA_CONSTRAINTS.slopeMax}.0;`);
    expect(c).toContain(`const HALF_SAT_MIN: f32 = ${MEDIA_CONSTRAINTS.halfSatMin};`);
    expect(c).toContain(`const HALF_SAT_MAX: f32 = ${MEDIA_CONSTRAINTS.halfSatMax}.0;`);
    expect(c).toContain(`const ADSTOCK_STATE_MAX: f32 = ${MEDIA_CONSTRAINTS.adstockStateMax}.0;`);
    expect(c).toContain(`const COEFFICIENT_MAX_OFFSET: f32 = ${COEFFICIENT_MAX_OFFSET};`);
  });
});

/** Every kernel definition exported by src/ops. */
async function allKernels(): Promise<KernelDef<unknown>[]> {
  const dir = join(ROOT, 'src', 'ops');
  const kernels: KernelDef<unknown>[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const mod = (await import(join(dir, f))) as Record<string, unknown>;
    for (const v of Object.values(mod)) {
      const k = v as Partial<KernelDef<unknown>>;
      if (k && typeof k === 'object' && typeof k.entryPoint === 'string' && k.cpu)
        kernels.push(k as KernelDef<unknown>);
    }
  }
  return kernels;
}

/** The @workgroup_size of entry point `entry` in `wgsl`, as numbers. */
function workgroupSizeOf(wgsl: string, entry: string): number[] | null {
  const m = new RegExp(`@workgroup_size\\(([^)]*)\\)\\s*fn ${entry}\\(`).exec(wgsl);
  return m ? m[1].split(',').map((s) => Number(s.trim())) : null;
}

describe('kernel declarations', () => {
  test('every kernel declares its uniforms, bindings and workgroup size, matching its WGSL', async () => {
    const kernels = await allKernels();
    expect(kernels.length).toBeGreaterThan(30);
    const undeclared = kernels.filter(
      (k) => !k.uniforms || !k.inputs || !k.outputs || !k.workgroupSize,
    );
    expect(undeclared.map((k) => k.name)).toEqual([]);
    for (const k of kernels) {
      expect(k.uniforms!.shader).toBe(k.shader);
      const wgsl = readFileSync(join(SHADERS, `${k.shader}.wgsl`), 'utf8');
      expect([k.name, workgroupSizeOf(wgsl, k.entryPoint)]).toEqual([
        k.name,
        [...k.workgroupSize!],
      ]);
    }
  });

  test('no shader reads a uniform by slot number', () => {
    const positional: string[] = [];
    for (const f of readdirSync(SHADERS).filter((n) => n.endsWith('.wgsl'))) {
      readFileSync(join(SHADERS, f), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const code = line.replace(/\/\/.*$/, '');
          if (/\b[UF]\(|uniforms_/.test(code)) positional.push(`${f}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(positional).toEqual([]);
  });
});
