/**
 * Deep ensembles (src/model/ensemble.ts) and their intervals (src/analysis/intervals.ts,
 * ensemble-forecast.ts, channel-effects.ts): the interval formula against values worked by hand,
 * the Bayesian-bootstrap weights, a one-member ensemble equal to the single model bit for bit,
 * members that differ and repeat with their seed, the ensemble's channel table and forecast
 * intervals, and a model file that keeps every member.
 */
import { channelEffects, ensembleChannelEffects } from '../src/analysis/channel-effects.js';
import { meanDecomposition, predictionIntervals } from '../src/analysis/ensemble-forecast.js';
import { memberInterval, memberIntervals } from '../src/analysis/intervals.js';
import { UnifiedDataPipeline, type PreparedData } from '../src/data/pipeline.js';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { bootstrapWeights, fitEnsemble } from '../src/model/ensemble.js';
import {
  allocationSpread,
  checkPlanWithMembers,
  ensembleModelCurves,
} from '../src/analysis/ensemble-curves.js';
import {
  checkPlanWithModel,
  modelImpliedCurves,
  ScenarioRunner,
} from '../src/analysis/model-response.js';
import { BudgetOptimizer } from '../src/analysis/budget-optimizer.js';
import type { Decomposition, FittedMMM } from '../src/model/fitted.js';
import { fromModelFile, fromModelFileMembers, toModelFile } from '../src/model/model-file.js';
import { ModelTrainer } from '../src/model/trainer.js';
import { smallConfig } from './small-config.js';

describe('member intervals', () => {
  test('mean ± t(K−1)·sd·√(1 + 1/K), worked by hand for K = 8 and K = 2', () => {
    // 1…8: mean 4.5, sample sd √6; t(0.95, 7) = 1.894579 (tables)
    const a = memberInterval([1, 2, 3, 4, 5, 6, 7, 8]);
    const half = 1.894579 * Math.sqrt(6) * Math.sqrt(9 / 8);
    expect(a.mean).toBe(4.5);
    expect(a.sd).toBeCloseTo(Math.sqrt(6), 12);
    expect(a.lo).toBeCloseTo(4.5 - half, 5);
    expect(a.hi).toBeCloseTo(4.5 + half, 5);
    // K = 2: t(0.95, 1) = 6.313752; sd of {0, 2} is √2
    const b = memberInterval([0, 2]);
    expect(b.hi - b.mean).toBeCloseTo(6.313752 * Math.SQRT2 * Math.sqrt(1.5), 5);
    // another level: t(0.975, 7) = 2.364624
    const c = memberInterval([1, 2, 3, 4, 5, 6, 7, 8], 0.95);
    expect(c.hi - c.mean).toBeCloseTo(2.364624 * Math.sqrt(6) * Math.sqrt(9 / 8), 5);
  });

  test('one member has no interval; bad input is refused', () => {
    const one = memberInterval([3]);
    expect(one.mean).toBe(3);
    expect([one.sd, one.lo, one.hi].every(Number.isNaN)).toBe(true);
    expect(() => memberInterval([])).toThrow(/at least one member/);
    expect(() => memberInterval([1, 2], 1)).toThrow(/level 1/);
    expect(() => memberIntervals([[1, 2], [1]])).toThrow(/differ in length/);
    expect(
      memberIntervals([
        [1, 10],
        [3, 10],
      ]).map((i) => i.mean),
    ).toEqual([2, 10]);
  });
});

describe('bootstrap weights', () => {
  const p = { R: 3, B: 4, wTrain: 30 };
  test('one Exp(1) weight per region × 13-week block, mean 1, repeatable with the seed', () => {
    const w = bootstrapWeights(p, 11);
    const T = p.B + p.wTrain;
    expect(w).toHaveLength(p.R * T);
    const blocks = new Set<number>();
    const perBlock: number[] = [];
    for (let r = 0; r < p.R; r++)
      for (let t = 0; t < T; t++) {
        const block = Math.min(2, Math.floor(Math.max(0, t - p.B) / 13));
        const key = r * 3 + block;
        if (perBlock[key] === undefined) perBlock[key] = w[r * T + t];
        // constant within a block (the padding weeks share the first one)
        expect(w[r * T + t]).toBe(perBlock[key]);
        blocks.add(key);
      }
    expect(blocks.size).toBe(9);
    expect(perBlock.reduce((a, b) => a + b, 0) / 9).toBeCloseTo(1, 6);
    expect(perBlock.every((v) => v > 0)).toBe(true);
    expect(new Set(perBlock).size).toBe(9);
    expect(bootstrapWeights(p, 11)).toEqual(w);
    expect(bootstrapWeights(p, 12)).not.toEqual(w);
  });
});

describe('ensembles of the model', () => {
  let e: Engine;
  let prepared: PreparedData;
  const synth = generateSyntheticPanel({ regions: 4, weeks: 60, channels: 3, seed: 5 });
  const config = smallConfig({ epochs: 30 });
  let members: FittedMMM[];
  let decs: Decomposition[];

  beforeAll(async () => {
    e = await createEngine({ adapter: 'auto' });
    prepared = new UnifiedDataPipeline(config).fit(synth.panel);
    members = await fitEnsemble(e, config, prepared, { members: 3 });
    decs = [];
    for (const m of members) decs.push(await m.decompose());
  }, 300_000);
  afterAll(() => {
    members?.forEach((m) => m.dispose());
    e?.destroy();
  });

  test('one member is the single model, bit for bit', async () => {
    const [only] = await fitEnsemble(e, config, prepared, { members: 1 });
    const single = await new ModelTrainer(e, config).fit(prepared);
    expect(await only.model.arena.read()).toEqual(await single.model.arena.read());
    only.dispose();
    single.dispose();
  }, 120_000);

  test('members get seeds seed + k and their own bootstrap; the same call repeats exactly', async () => {
    expect(members.map((m) => m.config.seed)).toEqual([42, 43, 44]);
    const w = [];
    for (const m of members) w.push(await m.model.arena.read());
    expect(w[0].get('gru.weightHh')).not.toEqual(w[1].get('gru.weightHh'));
    // member 0 trained on bootstrap weights: not the single model
    const single = await new ModelTrainer(e, config).fit(prepared);
    expect((await single.model.arena.read()).get('gru.weightHh')).not.toEqual(
      w[0].get('gru.weightHh'),
    );
    single.dispose();
    const again = await fitEnsemble(e, config, prepared, { members: 2 });
    expect(await again[1].model.arena.read()).toEqual(w[1]);
    again.forEach((m) => m.dispose());
    // seeds alone ('none'): member 0 is the single model again
    const [plain] = await fitEnsemble(e, config, prepared, { members: 2, resampling: 'none' }).then(
      (ms) => (ms[1].dispose(), ms),
    );
    const ref = await new ModelTrainer(e, config).fit(prepared);
    expect(await plain.model.arena.read()).toEqual(await ref.model.arena.read());
    plain.dispose();
    ref.dispose();
    await expect(fitEnsemble(e, config, prepared, { members: 0 })).rejects.toThrow(/members/);
  }, 300_000);

  test("the channel table is the members' mean, with intervals; shares still sum to 1", async () => {
    const each = [];
    for (let k = 0; k < 3; k++) each.push(await channelEffects(members[k], decs[k]));
    const ens = await ensembleChannelEffects(members, { decompositions: decs });
    const C = prepared.C;
    for (let c = 0; c < C; c++) {
      const totals = each.map((x) => x.total[c]);
      const shares = each.map((x) => x.shareOfMedia[c]);
      expect(ens.total[c]).toBeCloseTo(totals.reduce((a, b) => a + b, 0) / 3, 6);
      const iv = memberInterval(shares);
      expect(ens.shareOfMedia[c]).toBeCloseTo(iv.mean, 12);
      expect(ens.intervals!.shareOfMedia[c].lo).toBeCloseTo(iv.lo, 12);
      expect(ens.intervals!.shareOfMedia[c].hi).toBeCloseTo(iv.hi, 12);
      expect(ens.intervals!.shareOfMedia[c].hi).toBeGreaterThan(ens.intervals!.shareOfMedia[c].lo);
    }
    expect(ens.shareOfMedia.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    expect(ens.intervals!.members).toBe(3);
    // channels.csv carries the bounds; ROAS bounds stay empty without costs
    const rows = ens.toCsv().trim().split('\n');
    const head = rows[0].split(',');
    const row = rows[1].split(',');
    const col = (name: string) => row[head.indexOf(name)];
    expect(Number(col('share_of_media_lo'))).toBeCloseTo(ens.intervals!.shareOfMedia[0].lo, 10);
    expect(Number(col('total_contribution_hi'))).toBeCloseTo(ens.intervals!.total[0].hi, 4);
    expect([col('roas'), col('roas_lo'), col('roas_hi')]).toEqual(['', '', '']);
    // one member: exactly its own table, no intervals
    const solo = await ensembleChannelEffects(members.slice(0, 1), { decompositions: decs });
    expect(solo.total).toEqual(each[0].total);
    expect(solo.intervals).toBeUndefined();
  }, 120_000);

  test('forecast intervals: the mean prediction ± z·√(spread + training error), holdout coverage counted', () => {
    const mean = meanDecomposition(decs);
    const { R, W, wTrain, observed, rawTarget } = prepared;
    const pi = predictionIntervals(decs, prepared);
    let inside = 0;
    let cells = 0;
    for (let r = 0; r < R; r++) {
      let ss = 0;
      let n = 0;
      for (let w = 0; w < wTrain; w++)
        if (observed[r * W + w]) {
          ss += (rawTarget[r * W + w] - mean.predictionUnclamped[r * W + w]) ** 2;
          n++;
        }
      for (let w = 0; w < W; w++) {
        const i = r * W + w;
        const vals = decs.map((d) => d.predictionUnclamped[i]);
        const m = vals.reduce((a, b) => a + b, 0) / 3;
        const v = vals.reduce((a, b) => a + (b - m) ** 2, 0) / 2;
        const half = 1.6448536269514722 * Math.sqrt(v * (4 / 3) + ss / n);
        expect(pi.hi[i]).toBeCloseTo(m + half, 4);
        expect(pi.lo[i]).toBeCloseTo(Math.max(0, m - half), 4);
        if (w >= wTrain && observed[i]) {
          cells++;
          if (rawTarget[i] >= pi.lo[i] && rawTarget[i] <= pi.hi[i]) inside++;
        }
      }
    }
    expect(pi.holdoutCells).toBe(cells);
    expect(cells).toBeGreaterThan(0);
    expect(pi.holdoutCoverage).toBe(inside / cells);
    expect(mean.mediaContrib[5]).toBeCloseTo(
      decs.reduce((a, d) => a + d.mediaContrib[5], 0) / 3,
      8,
    );
    expect(() => predictionIntervals(decs.slice(0, 1), prepared)).toThrow(/2 or more/);
  });

  test("curves: the members' mean response with its interval; the budget's spread; the plan check's mean", async () => {
    const runners: ScenarioRunner[] = [];
    for (const m of members) runners.push(await ScenarioRunner.create(m));
    const ens = await ensembleModelCurves(members, {}, runners);
    expect(ens.members).toHaveLength(3);
    const own = await modelImpliedCurves(members[1]);
    expect(ens.members[1].channels[0].response).toEqual(own.channels[0].response);
    ens.curves.channels.forEach((s, i) => {
      const iv = memberIntervals(ens.members.map((m) => m.channels[i].response));
      s.response.forEach((v, k) => expect(v).toBeCloseTo(iv[k].mean, 6));
      expect(s.responseLo).toEqual(iv.map((v) => v.lo));
      expect(s.responseHi).toEqual(iv.map((v) => v.hi));
      // the optimizer's curve is fitted to the mean points
      expect(s.curve.samples!.y[5]).toBeCloseTo(iv[5].mean / ens.curves.windowWeeks, 6);
    });
    const csv = ens.curves.toCsv().trim().split('\n');
    expect(csv[0].endsWith(',response_lo,response_hi')).toBe(true);
    expect(
      csv[2]
        .split(',')
        .slice(-2)
        .every((v) => Number.isFinite(Number(v)) && v !== ''),
    ).toBe(true);
    // one member: its own curves, no bounds
    const solo = await ensembleModelCurves(members.slice(0, 1));
    expect(solo.curves.channels[0].response).toEqual(ens.members[0].channels[0].response);
    expect(solo.curves.channels[0].responseLo).toBeUndefined();

    // the spread of the recommendation: each member's own optimum
    const budget = runners[0].windowInput.reduce((a, b) => a + b, 0);
    const Nw = runners[0].windowWeeks;
    const spread = allocationSpread(
      ens.members.map((m) => m.curves),
      budget,
      Nw,
    );
    ens.members.forEach((m, k) => {
      const alone = new BudgetOptimizer(
        budget,
        m.curves.map((c) => c.channel),
        m.curves,
        { numWeeks: Nw },
      ).optimize().allocation;
      spread.forEach((x) => expect(x.perMember[k]).toBeCloseTo(alone[x.channel], 6));
    });
    spread.forEach((x) => expect(x.interval).toEqual(memberInterval(x.perMember)));
    // the same curves for every member: no spread
    const same = allocationSpread([ens.curves.curves, ens.curves.curves], budget, Nw);
    same.forEach((x) => expect(x.interval.sd).toBe(0));

    // the plan check: the members' mean response to the plan
    const plan = Object.fromEntries(spread.map((x) => [x.channel, x.interval.mean]));
    const checks = [];
    for (const r of runners) checks.push(await checkPlanWithModel(r, plan, Nw, 1000));
    const mean = await checkPlanWithMembers(runners, plan, Nw, 1000);
    const expected = checks.reduce((a, c) => a + c.modelResponse, 0) / 3;
    expect(mean.modelResponse).toBeCloseTo(expected, 6);
    expect(mean.gapPct).toBeCloseTo(((1000 - expected) / Math.abs(expected)) * 100, 6);
  }, 120_000);

  test('the model file keeps every member; a one-model reader gets member 0', async () => {
    const file = JSON.parse(JSON.stringify(await toModelFile(members[0], {}, members.slice(1))));
    expect(file.members).toHaveLength(2);
    const back = fromModelFileMembers(e, file);
    expect(back).toHaveLength(3);
    for (let k = 0; k < 3; k++) {
      expect(back[k].config.seed).toBe(42 + k);
      const d = await back[k].decompose();
      const tol = e.isGpu ? 1e-3 : 1e-9;
      d.prediction.forEach((v, i) =>
        expect(Math.abs(v - decs[k].prediction[i])).toBeLessThanOrEqual(
          tol * (1 + Math.abs(decs[k].prediction[i])),
        ),
      );
    }
    back.forEach((b) => b.dispose());
    const first = fromModelFile(e, file);
    expect(await first.model.arena.read()).toEqual(await members[0].model.arena.read());
    first.dispose();
    // a member without its weights is named
    delete file.members[1].weights['gru.weightHh'];
    delete file.checksum;
    expect(() => fromModelFileMembers(e, file)).toThrow(/'gru.weightHh' \(ensemble member 2\)/);
  }, 120_000);
});
