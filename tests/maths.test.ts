import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  clamp,
  hill,
  hillPower,
  inverseSoftplus,
  logit,
  sigmoid,
  softplus,
} from '../src/maths/functions.js';
import {
  COEFFICIENT_MAX_OFFSET,
  MEDIA_CONSTRAINTS,
  alphaFromRaw,
  alphaRawGrad,
  coefficientMax,
  halfSatFromRaw,
  halfSatRawGrad,
  slopeFromRaw,
  slopeRawGrad,
} from '../src/maths/constraints.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** |a − b| ≤ rel·|b| + abs */
function near(a: number, b: number, rel: number, abs = 0): void {
  if (!(Math.abs(a - b) <= rel * Math.abs(b) + abs))
    throw new Error(`${a} differs from ${b} by ${Math.abs(a - b)} (rel ${rel}, abs ${abs})`);
}

const GRID = [
  -1000, -745, -700, -100, -40, -20, -15.5, -15, -14.5, -5, -1, -1e-3, -1e-12, 0, 1e-12, 1e-3, 0.5,
  1, 2.5, 5, 14.5, 15, 20, 36, 40, 100, 700, 710, 1000,
];

/** Central finite difference in float64. */
const fd = (f: (x: number) => number, x: number, h = 1e-6) => (f(x + h) - f(x - h)) / (2 * h);

describe('maths functions (float64)', () => {
  test('sigmoid matches 1/(1 + e^−x), stays finite in [0, 1] and is symmetric', () => {
    for (const x of GRID) {
      const s = sigmoid(x);
      expect(Number.isFinite(s)).toBe(true);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
      // the direct formula underflows to 0 once e^−x overflows (x < −709.78)
      if (x > -709) near(s, 1 / (1 + Math.exp(-x)), 4e-16, 1e-300);
      if (Math.abs(x) < 30) near(sigmoid(-x), 1 - s, 0, 2e-16);
    }
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(-700)).toBeGreaterThan(0); // e^−700, not 1/(1 + e^700) rounded to 0 later
    near(sigmoid(-40), Math.exp(-40), 1e-15);
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(NaN)).toBeNaN();
  });

  test('softplus matches ln(1 + e^x) (e^x below −15, as the shaders), never overflows', () => {
    for (const x of GRID) {
      const y = softplus(x);
      expect(Number.isFinite(y)).toBe(true);
      expect(y).toBeGreaterThanOrEqual(Math.max(x, 0));
      if (x < -15) {
        // e^x for ln(1 + e^x) = e^x − e^2x/2 + …: relative error below e^x/2 (≤ 1.6e-7)
        expect(y).toBe(Math.exp(x));
        near(y, Math.log1p(Math.exp(x)), Math.exp(x) / 2 + 1e-16, 1e-300);
      } else if (x <= 700) {
        near(y, Math.log(1 + Math.exp(x)), 1e-15, 1e-16);
        near(y, Math.log1p(Math.exp(x)), 1e-15, 2.3e-16);
      } else {
        expect(y).toBe(x); // ln(1 + e^x) overflows there; softplus(x) = x to float64 precision
      }
    }
    expect(softplus(1000)).toBe(1000);
    expect(softplus(-1000)).toBe(0);
    expect(softplus(0)).toBe(Math.LN2);
    // its derivative is σ (ln(1 + e) rounds 1 + e: an absolute error up to 1.1e-16, over h = 1e-6)
    for (const x of [-10, -2, -0.5, 0.3, 1, 4, 12]) near(fd(softplus, x), sigmoid(x), 1e-8, 3e-10);
  });

  test('inverseSoftplus and logit invert softplus and sigmoid', () => {
    for (const x of [-10, -3, -0.5, 0, 0.5413, 1, 3, 10, 19, 25, 40]) {
      near(inverseSoftplus(softplus(x)), x, 1e-9, 1e-9);
      if (Math.abs(x) <= 10) near(logit(sigmoid(x)), x, 1e-9, 1e-12);
    }
    near(softplus(inverseSoftplus(1)), 1, 1e-15);
    near(softplus(inverseSoftplus(0.5)), 0.5, 1e-15);
    expect(inverseSoftplus(30)).toBe(30);
    expect(logit(0.5)).toBe(0);
  });

  test('hill is x^s/(g^s + x^s) without overflow; hillPower is the reference power form', () => {
    for (const x of [1e-6, 0.01, 0.2, 0.5, 1, 3, 10])
      for (const s of [0.5, 1, 2, 3.7, 5])
        for (const g of [0.01, 0.3, 1]) {
          const xs = x ** s;
          near(hill(x, s, g), xs / (g ** s + xs), 1e-12, 1e-300);
          const xp = (x + 1e-8) ** s;
          near(hillPower(x, s, g), xp / (xp + g ** s + 1e-8), 1e-15, 1e-300);
        }
    expect(hill(0, 2, 0.5)).toBe(0);
    expect(hill(-1, 2, 0.5)).toBe(0);
    expect(hill(NaN, 2, 0.5)).toBe(0);
    // x^s overflows: the direct form gives NaN, the log-space form 1
    expect(hill(1e100, 5, 0.5)).toBe(1);
    expect(hill(1e-100, 5, 0.5)).toBe(0);
    expect(hillPower(-3, 2, 0.5)).toBeCloseTo(1e-16 / (0.25 + 1e-8), 20);
    expect(clamp(3, 0, 1)).toBe(1);
    expect(clamp(-3, 0, 1)).toBe(0);
    expect(clamp(0.25, 0, 1)).toBe(0.25);
  });
});

describe('media constraints', () => {
  test('the constants', () => {
    expect(MEDIA_CONSTRAINTS).toEqual({
      adstockMax: 0.8,
      slopeMax: 5,
      slopeMinReference: 2,
      halfSatMin: 0.01,
      halfSatMax: 1,
      adstockStateMax: 10,
    });
    expect(COEFFICIENT_MAX_OFFSET).toBe(0.1);
  });

  test('raw → constrained values and their derivatives', () => {
    for (const r of [-50, -8, -4.6, -2, -0.5, 0, 0.8, 1.3863, 2, 2.5, 4.9, 5, 8, 50]) {
      near(alphaFromRaw(r), Math.min(1 / (1 + Math.exp(-r)), 0.8), 1e-15);
      for (const slopeMin of [1, 2])
        expect(slopeFromRaw(r, slopeMin)).toBe(Math.min(Math.max(softplus(r), slopeMin), 5));
      expect(halfSatFromRaw(r)).toBe(Math.min(Math.max(softplus(r), 0.01), 1));
      expect(coefficientMax(r)).toBe(softplus(r) + 0.1);

      expect(alphaFromRaw(r)).toBeLessThanOrEqual(MEDIA_CONSTRAINTS.adstockMax);
      const h = halfSatFromRaw(r);
      expect(h >= MEDIA_CONSTRAINTS.halfSatMin && h <= MEDIA_CONSTRAINTS.halfSatMax).toBe(true);

      // derivatives: finite differences away from the clamps' kinks, 0 beyond them
      const kinks = [inverseSoftplus(0.01), inverseSoftplus(1), inverseSoftplus(2), logit(0.8)];
      if (kinks.every((k) => Math.abs(r - k) > 1e-3)) {
        near(alphaRawGrad(r), fd(alphaFromRaw, r), 1e-6, 1e-12);
        near(
          slopeRawGrad(r, 2),
          fd((x) => slopeFromRaw(x, 2), r),
          1e-6,
          1e-12,
        );
        near(halfSatRawGrad(r), fd(halfSatFromRaw, r), 1e-6, 1e-12);
      }
    }
    expect(alphaRawGrad(3)).toBe(0);
    expect(slopeRawGrad(-5, 2)).toBe(0);
    expect(slopeRawGrad(10, 2)).toBe(0);
    expect(halfSatRawGrad(-10)).toBe(0);
    expect(halfSatRawGrad(3)).toBe(0);
  });
});

describe('one host definition of the model maths', () => {
  /** Files under src/ that keep their own process on purpose, and the module itself. */
  const EXEMPT = ['src/maths/', 'src/data/synthetic.ts', 'src/recovery/'];
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
    });
  const NAMES = '(?:sigmoid|softplus|sig|logit|inverseSoftplus|softplusInv)\\w*';
  const PATTERNS: [string, RegExp][] = [
    ['a function definition', new RegExp(`\\bfunction\\s+${NAMES}\\s*\\(`)],
    // an arrow over numbers (the element-wise ops' `sigmoid = (x: Tensor) => …` are tensor ops)
    [
      'an arrow definition',
      new RegExp(
        `\\b(?:const|let|var)\\s+${NAMES}\\s*=\\s*(?:\\(\\s*\\w+\\s*:\\s*number|\\w+\\s*=>)`,
      ),
    ],
    ['an inline sigmoid', /1\s*\/\s*\(\s*1\s*\+\s*Math\.exp\(/],
    ['an inline softplus', /Math\.log(?:1p)?\(\s*(?:1\s*\+\s*)?Math\.exp\(/],
    ['an inline inverse softplus', /Math\.log\(\s*Math\.expm1\(/],
  ];

  test('sigmoid, softplus, their inverses: src/maths only', () => {
    const found: string[] = [];
    for (const f of files(join(ROOT, 'src'))) {
      const rel = relative(ROOT, f).split('\\').join('/');
      if (EXEMPT.some((e) => rel === e || rel.startsWith(e))) continue;
      readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          for (const [what, re] of PATTERNS)
            if (re.test(line)) found.push(`${rel}:${i + 1}: ${what}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
  });

  test('the patterns catch the forms that were removed', () => {
    const hit = (line: string) => PATTERNS.some(([, re]) => re.test(line));
    expect(hit('const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));')).toBe(true);
    expect(hit('const softplus = (x: number) => (x > 20 ? x : Math.log1p(Math.exp(x)));')).toBe(
      true,
    );
    expect(hit('function sig(x: number): number {')).toBe(true);
    expect(hit('export function softplus64(x: number): number {')).toBe(true);
    expect(
      hit('  x < -15 ? Math.exp(x) : Math.max(x, 0) + Math.log(1 + Math.exp(-Math.abs(x)));'),
    ).toBe(true);
    expect(hit('const softplusInv = (y: number) => (y > 20 ? y : Math.log(Math.expm1(y)));')).toBe(
      true,
    );
    expect(hit('export const sigmoid = (x: Tensor) => unaryOp(UNARY.sigmoid, x);')).toBe(false);
  });
});
