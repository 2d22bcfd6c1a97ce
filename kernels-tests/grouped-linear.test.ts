import { backward } from '../src/autograd/backward.js';
import { gradScope } from '../src/autograd/tape.js';
import type { Engine } from '../src/engine/engine.js';
import { mul } from '../src/ops/elementwise.js';
import { groupedLinear } from '../src/ops/grouped-linear.js';
import { linear, type LinearActivation } from '../src/ops/linear.js';
import { sum } from '../src/ops/reduce.js';
import { cpuValues, expectClose, finiteDiff, randArray, rng, useEngines } from './helpers.js';
import { matmulTol, TOL } from './tolerances.js';

const E = useEngines();

const ACTS: LinearActivation[] = ['none', 'relu', 'tanh'];

/** M rows; per group [O, I]; shared: every group reads all of x [M, I]. */
interface Case {
  name: string;
  m: number;
  groups: [number, number][];
  shared: boolean;
  bias: boolean;
}

interface Values {
  x: Float64Array;
  ws: Float64Array[];
  bs: Float64Array[] | null;
  dy: Float64Array;
}

interface Result {
  y: Float64Array;
  dx: Float64Array;
  dws: Float64Array[];
  dbs: Float64Array[] | null;
}

const inWidth = (c: Case) => (c.shared ? c.groups[0][1] : c.groups.reduce((s, [, i]) => s + i, 0));
const outWidth = (c: Case) => c.groups.reduce((s, [o]) => s + o, 0);

function draw(c: Case, seed: number): Values {
  const r = rng(seed);
  return {
    x: randArray(r, c.m * inWidth(c)),
    ws: c.groups.map(([o, i]) => randArray(r, o * i, -0.5, 0.5)),
    bs: c.bias ? c.groups.map(([o]) => randArray(r, o)) : null,
    dy: randArray(r, c.m * outWidth(c)),
  };
}

/** Plain float64 loops per group: y and the gradients of Σ dy ⊙ y. */
function reference(c: Case, act: LinearActivation, v: Values): Result {
  const [ldx, ldy] = [inWidth(c), outWidth(c)];
  const y = new Float64Array(c.m * ldy);
  const dx = new Float64Array(c.m * ldx);
  const dws = c.groups.map(([o, i]) => new Float64Array(o * i));
  const dbs = c.groups.map(([o]) => new Float64Array(o));
  let xo = 0;
  let yo = 0;
  c.groups.forEach(([no, ni], g) => {
    const xoff = c.shared ? 0 : xo;
    for (let r = 0; r < c.m; r++)
      for (let o = 0; o < no; o++) {
        let z = v.bs ? v.bs[g][o] : 0;
        for (let i = 0; i < ni; i++) z += v.x[r * ldx + xoff + i] * v.ws[g][o * ni + i];
        const f = act === 'relu' ? Math.max(z, 0) : act === 'tanh' ? Math.tanh(z) : z;
        const df = act === 'relu' ? (z > 0 ? 1 : 0) : act === 'tanh' ? 1 - f * f : 1;
        y[r * ldy + yo + o] = f;
        const dz = v.dy[r * ldy + yo + o] * df;
        dbs[g][o] += dz;
        for (let i = 0; i < ni; i++) {
          dx[r * ldx + xoff + i] += dz * v.ws[g][o * ni + i];
          dws[g][o * ni + i] += dz * v.x[r * ldx + xoff + i];
        }
      }
    xo += ni;
    yo += no;
  });
  return { y, dx, dws, dbs: v.bs ? dbs : null };
}

async function run(e: Engine, c: Case, act: LinearActivation, v: Values): Promise<Result> {
  const out = e.tidy(() =>
    gradScope(e, () => {
      const x = e.tensor(v.x, [c.m, inWidth(c)]).requireGrad();
      const ws = c.groups.map(([o, i], g) => e.tensor(v.ws[g], [o, i]).requireGrad());
      const bs = v.bs ? c.groups.map(([o], g) => e.tensor(v.bs![g], [o]).requireGrad()) : null;
      const y = groupedLinear(x, ws, bs, { activation: act, sharedInput: c.shared });
      expect(y.shape).toEqual([c.m, outWidth(c)]);
      backward(y, e.tensor(v.dy, y.shape));
      return [y, x.grad!, ...ws.map((w) => w.grad!), ...(bs ?? []).map((b) => b.grad!)];
    }),
  );
  const vals = await Promise.all(out.map((t) => t.toArray()));
  const G = c.groups.length;
  return {
    y: vals[0],
    dx: vals[1],
    dws: vals.slice(2, 2 + G),
    dbs: v.bs ? vals.slice(2 + G) : null,
  };
}

/** y: an I-term dot product plus bias; dx: ΣO-term (shared) or O-term; dW, db: M-term sums. */
function compare(got: Result, exp: Result, c: Case, label: string, scale = 1): void {
  const tol = (k: number) => {
    const t = matmulTol(k);
    return { atol: t.atol * scale, rtol: t.rtol * scale };
  };
  expectClose(got.y, exp.y, tol(Math.max(...c.groups.map(([, i]) => i)) + 1), `${label} y`);
  expectClose(got.dx, exp.dx, tol(outWidth(c)), `${label} dx`);
  exp.dws.forEach((d, g) => expectClose(got.dws[g], d, tol(c.m), `${label} dW${g}`));
  if (exp.dbs) exp.dbs.forEach((d, g) => expectClose(got.dbs![g], d, tol(c.m), `${label} db${g}`));
  else expect(got.dbs).toBeNull();
}

const cases: Case[] = [
  // the model's coefficient heads: layer 1 (shared h), layer 2 and 3 (each head its own block)
  {
    name: 'shared, 2 groups',
    m: 37,
    groups: [
      [29, 45],
      [29, 45],
    ],
    shared: true,
    bias: true,
  },
  {
    name: 'blocks, 2 groups',
    m: 37,
    groups: [
      [13, 20],
      [7, 20],
    ],
    shared: false,
    bias: true,
  },
  {
    name: 'blocks, uneven',
    m: 33,
    groups: [
      [5, 31],
      [33, 3],
    ],
    shared: false,
    bias: false,
  },
  {
    name: 'shared, 3 groups',
    m: 40,
    groups: [
      [3, 9],
      [35, 9],
      [1, 9],
    ],
    shared: true,
    bias: false,
  },
  { name: 'one group', m: 5, groups: [[3, 1]], shared: false, bias: true },
  {
    name: 'four groups, M = 1',
    m: 1,
    groups: [
      [2, 3],
      [4, 5],
      [1, 1],
      [6, 2],
    ],
    shared: false,
    bias: true,
  },
  // edges of the 4×4 blocks' 32 × 32 tiles
  {
    name: 'shared, past one tile',
    m: 130,
    groups: [
      [70, 65],
      [33, 65],
    ],
    shared: true,
    bias: true,
  },
  {
    name: 'blocks, past one tile',
    m: 65,
    groups: [
      [65, 40],
      [7, 66],
    ],
    shared: false,
    bias: true,
  },
  // the wide kernels (≥ 96 rows and columns; tiles 128 × 96 forward and dx, 96 × 96 dW): edges of
  // the quads, blocks and tiles
  {
    name: 'shared, wide blocks',
    m: 130,
    groups: [
      [193, 97],
      [7, 97],
    ],
    shared: true,
    bias: true,
  },
  {
    name: 'blocks, wide blocks',
    m: 129,
    groups: [
      [97, 100],
      [100, 191],
    ],
    shared: false,
    bias: false,
  },
  // dW splits over the rows (two passes)
  {
    name: 'blocks, split-K',
    m: 700,
    groups: [
      [6, 13],
      [3, 13],
    ],
    shared: false,
    bias: true,
  },
  {
    name: 'shared, split-K',
    m: 600,
    groups: [
      [7, 33],
      [9, 33],
    ],
    shared: true,
    bias: false,
  },
];

describe.each(ACTS)('groupedLinear, activation %s', (act) => {
  test.each(cases.map((c) => [c.name, c] as const))(
    '%s: forward and gradients match float64 loops and the CPU kernels',
    async (_, c) => {
      const v = draw(c, 7);
      const exp = reference(c, act, v);
      const got = await run(E.dev, c, act, v);
      compare(got, exp, c, 'vs loop');
      const host = await run(E.cpu, c, act, v);
      compare(host, exp, c, 'cpu kernel vs loop', 1e-4);
      compare(got, host, c, 'vs cpu kernel');
    },
  );

  test('equals one linear per group on the device', async () => {
    const e = E.dev;
    const c = cases[1];
    const v = draw(c, 3);
    const got = await run(e, c, act, v);
    let xo = 0;
    let yo = 0;
    for (const [g, [no, ni]] of c.groups.entries()) {
      const xg = new Float64Array(c.m * ni);
      const dyg = new Float64Array(c.m * no);
      for (let r = 0; r < c.m; r++) {
        xg.set(v.x.subarray(r * inWidth(c) + xo, r * inWidth(c) + xo + ni), r * ni);
        dyg.set(v.dy.subarray(r * outWidth(c) + yo, r * outWidth(c) + yo + no), r * no);
      }
      const [y, dw] = e.tidy(() =>
        gradScope(e, () => {
          const w = e.tensor(v.ws[g], [no, ni]).requireGrad();
          const out = linear(e.tensor(xg, [c.m, ni]), w, e.tensor(v.bs![g], [no]), act);
          backward(out, e.tensor(dyg, out.shape));
          return [out, w.grad!];
        }),
      );
      const yAll = got.y;
      const mine = new Float64Array(c.m * no);
      for (let r = 0; r < c.m; r++)
        mine.set(yAll.subarray(r * outWidth(c) + yo, r * outWidth(c) + yo + no), r * no);
      expectClose(mine, await y.toArray(), TOL.exact, `group ${g} y`);
      expectClose(got.dws[g], await dw.toArray(), matmulTol(c.m), `group ${g} dW`);
      xo += ni;
      yo += no;
    }
  });

  test('backward matches finite differences (CPU backend)', async () => {
    const e = E.cpu;
    for (const c of [
      {
        name: 'fd shared',
        m: 3,
        groups: [
          [2, 4],
          [3, 4],
        ],
        shared: true,
        bias: true,
      },
      {
        name: 'fd blocks',
        m: 4,
        groups: [
          [2, 3],
          [1, 2],
        ],
        shared: false,
        bias: false,
      },
    ] as Case[]) {
      const v = draw(c, 23);
      const got = await run(e, c, act, v);
      const f = (x: Float64Array, ws: Float64Array[], bs: Float64Array[] | null) =>
        e.tidy(() => {
          const y = groupedLinear(
            e.tensor(x, [c.m, inWidth(c)]),
            c.groups.map(([o, i], g) => e.tensor(ws[g], [o, i])),
            bs ? c.groups.map(([o], g) => e.tensor(bs[g], [o])) : null,
            { activation: act, sharedInput: c.shared },
          );
          return cpuValues(sum(mul(y, e.tensor(v.dy, y.shape))))[0];
        });
      expectClose(
        got.dx,
        finiteDiff((x) => f(x, v.ws, v.bs), v.x),
        TOL.finiteDiff,
        `${c.name} x`,
      );
      c.groups.forEach((_, g) => {
        const fw = (w: Float64Array) =>
          f(
            v.x,
            v.ws.map((o, h) => (h === g ? w : o)),
            v.bs,
          );
        expectClose(got.dws[g], finiteDiff(fw, v.ws[g]), TOL.finiteDiff, `${c.name} W${g}`);
        if (v.bs) {
          const fb = (b: Float64Array) =>
            f(
              v.x,
              v.ws,
              v.bs!.map((o, h) => (h === g ? b : o)),
            );
          expectClose(got.dbs![g], finiteDiff(fb, v.bs[g]), TOL.finiteDiff, `${c.name} b${g}`);
        }
      });
    }
  });
});

test('one dispatch forward, two backward (dx and dW)', () => {
  const e = E.dev;
  e.tidy(() =>
    gradScope(e, () => {
      const x = e.tensor(randArray(rng(1), 40 * 8), [40, 8]).requireGrad();
      const ws = [e.zeros([5, 8]).requireGrad(), e.zeros([3, 8]).requireGrad()];
      const seed = e.zeros([40, 8]);
      e.flush();
      const s0 = e.stats().dispatches;
      const y = groupedLinear(x, ws, null, { activation: 'relu', sharedInput: true });
      e.flush();
      const s1 = e.stats().dispatches;
      backward(y, seed);
      e.flush();
      const s2 = e.stats().dispatches;
      expect(s1 - s0).toBe(1);
      // M = 40 rows: dW needs no split-K reduction
      expect(s2 - s1).toBe(2);
    }),
  );
});

test('bad shapes name the problem', () => {
  const e = E.cpu;
  const x = e.zeros([4, 6]);
  expect(() => groupedLinear(x, [])).toThrow(/needs 1 to 4 weight matrices/);
  expect(() => groupedLinear(x, [e.zeros([2, 3]), e.zeros([2, 2])])).toThrow(/must end in ΣI = 5/);
  expect(() => groupedLinear(x, [e.zeros([2, 5])], null, { sharedInput: true })).toThrow(
    /every weight must be \[O, 6\]/,
  );
  expect(() => groupedLinear(x, [e.zeros([2, 6])], [e.zeros([3])])).toThrow(
    /bias 0 has shape \[3\], expected \[2\]/,
  );
  expect(() => groupedLinear(x, [e.zeros([2, 6])], [])).toThrow(/0 biases for 1 weight/);
  expect(() => groupedLinear(x, [e.zeros([6])])).toThrow(/weight 0 must be \[O, I\]/);
});
