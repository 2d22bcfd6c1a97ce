/**
 * The recovery benchmark's bars on a CI-sized subset (issue 12): the default configuration for
 * the adapter (autoConfig), fitted on generated panels with a known process (src/recovery/), 10
 * regions instead of 20 to keep CI short. The full benchmark is `npm run bench:recovery`.
 */
import { channelEffects } from '../src/analysis/channel-effects.js';
import { fitWarnings } from '../src/analysis/warnings.js';
import { UnifiedDataPipeline } from '../src/data/pipeline.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { autoConfig } from '../src/model/auto-config.js';
import { ModelTrainer } from '../src/model/trainer.js';
import { generateRecoveryPanel, type RecoveryPanel } from '../src/recovery/generator.js';
import { scenarioById } from '../src/recovery/scenarios.js';
import { fitAndScore, permuteChannels, type RecoveryScore } from '../src/recovery/score.js';

let e: Engine;
beforeAll(async () => {
  e = await createEngine({ adapter: 'auto' });
});
afterAll(() => e?.destroy());

const REGIONS = 10;
const panelOf = (id: string, share: number, seed: number, regions = REGIONS): RecoveryPanel =>
  generateRecoveryPanel({ ...scenarioById(id).panel(share, seed), regions });
const configFor = (rp: RecoveryPanel, overrides = {}) =>
  autoConfig(
    e,
    { R: rp.panel.regions.length, T: rp.panel.weeks.length, C: rp.panel.channels.length },
    { logEvery: 50, ...overrides },
  ).config;
const shares = (s: RecoveryScore) =>
  Object.fromEntries(s.channels.map((c) => [c.channel, c.share]));
const describe1 = (s: RecoveryScore) =>
  s.channels
    .map((c) => `${c.channel} ${(100 * c.share).toFixed(1)}/${(100 * c.trueShare).toFixed(1)}`)
    .join(', ');

test('flighted channels: shares, media share and forecast; the channel order does not matter', async () => {
  const rp = panelOf('a', 0.3, 1);
  const s = await fitAndScore(e, rp, configFor(rp));
  console.log(`scenario a on ${e.adapterName}: ${describe1(s)}; media ${s.mediaShare.toFixed(3)}`);
  expect(s.maxShareErrorPts).toBeLessThanOrEqual(8);
  expect(Math.abs(s.mediaShare - s.trueMediaShare)).toBeLessThanOrEqual(0.05);
  expect(s.holdoutRmse).toBeLessThan(s.naiveRecentRmse);
  expect(s.spuriousEdges).toEqual([]);

  // the same panel with the columns reversed, and with another initialisation seed
  const C = rp.panel.channels.length;
  const reversed = await fitAndScore(e, rp, configFor(rp), {
    channelOrder: Array.from({ length: C }, (_, i) => C - 1 - i),
  });
  const reseeded = await fitAndScore(e, rp, configFor(rp, { seed: 43 }));
  const [a, b, c] = [shares(s), shares(reversed), shares(reseeded)];
  const move = Math.max(...Object.keys(a).map((k) => Math.abs(a[k] - b[k])));
  const spread = Math.max(...Object.keys(a).map((k) => Math.abs(a[k] - c[k])));
  console.log(
    `order move ${(100 * move).toFixed(2)} pts, seed spread ${(100 * spread).toFixed(2)}`,
  );
  expect(move).toBeLessThanOrEqual(Math.max(0.02, spread));
}, 1_800_000);

test('a media→media edge is found and credited; no other edge passes', async () => {
  // the benchmark's 20 regions: with 10, the edge's t statistic falls below 3 in some seeds
  const rp = panelOf('d', 0.3, 1, 20);
  const s = await fitAndScore(e, rp, configFor(rp));
  console.log(`scenario d: ${describe1(s)}; edges ${JSON.stringify(s.trueEdges)}`);
  expect(s.trueEdges).toHaveLength(1);
  expect(s.trueEdges[0].found).toBe(true);
  expect(s.spuriousEdges).toEqual([]);
  expect(s.maxShareErrorPts).toBeLessThanOrEqual(8);
  expect(s.holdoutRmse).toBeLessThan(s.naiveRecentRmse);
}, 900_000);

test('a channel without effect gets at most 3 points', async () => {
  const rp = panelOf('i', 0.3, 1);
  const s = await fitAndScore(e, rp, configFor(rp));
  console.log(`scenario i: ${describe1(s)}`);
  expect(s.channels.find((c) => c.channel === 'display')!.share).toBeLessThanOrEqual(0.03);
  expect(s.maxShareErrorPts).toBeLessThanOrEqual(8);
  expect(Math.abs(s.mediaShare - s.trueMediaShare)).toBeLessThanOrEqual(0.05);
}, 900_000);

/** scenario c's pair: the model's combined share of media and the truth's (set by the test below) */
let pair = { model: NaN, truth: NaN };

test('a correlated pair is named, forecasts hold; a demand-following channel is named', async () => {
  const rp = panelOf('c', 0.3, 1);
  const config = configFor(rp);
  const prepared = new UnifiedDataPipeline(config).fit(rp.panel);
  const fitted = await new ModelTrainer(e, config).fit(prepared);
  const dec = await fitted.decompose();
  const report = await fitted.evaluate(dec);
  const eff = await channelEffects(fitted, dec);
  let kpi = 0;
  for (let r = 0; r < prepared.R; r++)
    for (let w = 0; w < prepared.wTrain; w++) kpi += prepared.rawTarget[r * prepared.W + w];
  const warnings = fitWarnings({ prepared, config, mediaShare: eff.mediaTotal / kpi, report });
  const collinear = warnings.filter((w) => w.kind === 'collinear');
  expect(collinear.map((w) => [...w.channels].sort())).toEqual([['display', 'social']]);
  const at = (ch: string) => eff.shareOfMedia[eff.channels.indexOf(ch)];
  const truth = (ch: string) =>
    rp.truth.shareOfMedia[rp.truth.channels.findIndex((c) => c.name === ch)];
  pair = { model: at('social') + at('display'), truth: truth('social') + truth('display') };
  console.log(`scenario c: pair ${pair.model.toFixed(3)} vs ${pair.truth.toFixed(3)}`);
  expect(report.holdout.rmse).toBeLessThan(report.naive.recentMean.rmse);
  fitted.dispose();

  // scenario j's confounded channel: the warning needs the data only
  const j = panelOf('j', 0.3, 1);
  const pj = new UnifiedDataPipeline(config).fit(j.panel);
  const wj = fitWarnings({ prepared: pj, config, mediaShare: 0.3, report });
  expect(wj.filter((w) => w.kind === 'follows-demand').map((w) => w.channels)).toEqual([
    ['search'],
  ]);
}, 900_000);

test("the correlated pair's combined share is within 8 points of the truth", () => {
  expect(Math.abs(pair.model - pair.truth)).toBeLessThanOrEqual(0.08);
});

test('always-on channels: the media share of the KPI lands within 5 points (media centring)', async () => {
  // before media centring this landed at about half the truth (17.7 % for 30 % with 20 regions);
  // the channel split of always-on channels needs the benchmark's 20 regions (6.1 points there,
  // 22.6 here with 10), so only the level and the forecast are asserted at this size
  const rp = panelOf('b', 0.3, 1);
  const s = await fitAndScore(e, rp, configFor(rp));
  console.log(`scenario b: ${describe1(s)}; media ${s.mediaShare.toFixed(3)}`);
  expect(Math.abs(s.mediaShare - s.trueMediaShare)).toBeLessThanOrEqual(0.05);
  expect(s.holdoutRmse).toBeLessThan(s.naiveRecentRmse);
}, 900_000);

test('one region and no controls fit end to end within the bars', async () => {
  for (const [id, regions] of [
    ['g', REGIONS],
    ['f', 1],
  ] as const) {
    const rp = generateRecoveryPanel({ ...scenarioById(id).panel(0.3, 1), regions });
    const s = await fitAndScore(e, rp, configFor(rp));
    console.log(`scenario ${id}: ${describe1(s)}; media ${s.mediaShare.toFixed(3)}`);
    expect(s.maxShareErrorPts).toBeLessThanOrEqual(id === 'f' ? 12 : 8);
    expect(Math.abs(s.mediaShare - s.trueMediaShare)).toBeLessThanOrEqual(0.05);
    expect(s.holdoutRmse).toBeLessThan(s.naiveRecentRmse);
  }
}, 1_800_000);

test('the panel permutation keeps every value with its channel', () => {
  const rp = panelOf('a', 0.3, 1);
  const p = permuteChannels(rp.panel, [3, 2, 1, 0]);
  expect(p.channels).toEqual([...rp.panel.channels].reverse());
  const W = rp.panel.weeks.length;
  for (const cell of [0, 17, 5 * W + 3])
    for (let c = 0; c < 4; c++)
      expect(p.media[cell * 4 + c]).toBe(rp.panel.media[cell * 4 + 3 - c]);
});
