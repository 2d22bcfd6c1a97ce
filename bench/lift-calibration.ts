/**
 * Lift-test calibration benchmark (`npm run bench:lift`, issue 15): on recovery panels with a
 * known process, a 4-week go-dark of one channel in 10 % of the regions, measured as the true lift
 * plus noise with se = 20 % of it (src/recovery/lift-truth.ts), is fitted with and without the
 * test. Scenario j's test is on the channel whose spend follows demand (the confounded one); the
 * other scenarios test a seeded channel with an effect. Per run: the tested channel's share-of-
 * media error (points) and ROAS error without → with, the largest worsening of any channel's share
 * error, the model's lift vs measured (z) where calibration started and at the end; JSON too.
 *
 *   npm run bench:lift -- --adapter gl --scenarios a,j --shares 0.3 --seeds 1
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { LiftTestInput } from '../src/calibration/lift-tests.js';
import type { AdapterChoice } from '../src/engine/device.js';
import { createEngine } from '../src/engine/engine.js';
import { Rng } from '../src/engine/random.js';
import { autoConfig } from '../src/model/auto-config.js';
import type { ConfigOverrides } from '../src/model/config.js';
import { generateRecoveryPanel, type RecoveryPanel } from '../src/recovery/generator.js';
import { designGoDarkTest } from '../src/recovery/lift-truth.js';
import { scenarioById } from '../src/recovery/scenarios.js';
import { fitAndScore, type RecoveryScore } from '../src/recovery/score.js';

const { values: args } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'a,b,c,d,e,f,g,i,j' },
    seeds: { type: 'string', default: '1' },
    shares: { type: 'string', default: '0.3' },
    config: { type: 'string' },
    adapter: { type: 'string', default: 'auto' },
    json: { type: 'string' },
  },
});

interface Run {
  scenario: string;
  mediaShare: number;
  seed: number;
  test: LiftTestInput & { trueLift: number };
  without: RecoveryScore;
  with: RecoveryScore;
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');

/** The tested channel: the demand-following one where there is one, else a seeded effect channel. */
function testedChannel(rp: RecoveryPanel, seed: number): string {
  const { truth } = rp;
  if (truth.demandChannels.length) return truth.demandChannels[0];
  const withEffect = truth.channels.filter((_, c) => truth.total[c] > 0).map((c) => c.name);
  return withEffect[Math.floor(new Rng(seed * 7919 + 17).uniform() * withEffect.length)];
}

function liftTest(rp: RecoveryPanel, channel: string, seed: number) {
  const d = designGoDarkTest(rp, channel, seed);
  const weeks = rp.panel.weeks;
  return {
    channel,
    regions: d.test.regions,
    startWeek: weeks[d.test.from],
    endWeek: weeks[d.test.testTo],
    postWeeks: d.test.postWeeks,
    lift: d.measuredLift,
    se: d.se,
    row: 1,
    trueLift: d.trueLift,
  };
}

function printRun(r: Run): void {
  const at = (s: RecoveryScore) => s.channels.find((c) => c.channel === r.test.channel)!;
  const worst = worsening(r);
  const lt = r.with.liftTests![0];
  console.log(
    `${r.scenario} share ${r.mediaShare} seed ${r.seed}: test on ${r.test.channel} ` +
      `(${r.test.regions.length} regions, weeks ${r.test.startWeek}–${r.test.endWeek} + ` +
      `${r.test.postWeeks}; true lift ${fmt(r.test.trueLift, 0)}, measured ${fmt(r.test.lift, 0)} ` +
      `± ${fmt(r.test.se, 0)})\n` +
      `    tested channel: share err ${fmt(at(r.without).shareErrorPts)} → ` +
      `${fmt(at(r.with).shareErrorPts)} pts, ROAS err ${fmt(at(r.without).roasErrorPct, 0)} → ` +
      `${fmt(at(r.with).roasErrorPct, 0)} %; model lift ${fmt(lt.before, 0)} (z ${fmt(lt.zBefore)}) ` +
      `→ ${fmt(lt.after, 0)} (z ${fmt(lt.zAfter)})\n` +
      `    largest share-error worsening: ${fmt(worst.pts)} pts (${worst.channel}); max share err ` +
      `${fmt(r.without.maxShareErrorPts)} → ${fmt(r.with.maxShareErrorPts)} pts; holdout/naive ` +
      `${fmt(r.without.holdoutRmse / r.without.naiveRecentRmse, 2)} → ` +
      `${fmt(r.with.holdoutRmse / r.with.naiveRecentRmse, 2)}; ${fmt(r.without.fitSeconds, 0)} / ` +
      `${fmt(r.with.fitSeconds, 0)} s`,
  );
}

/** The largest growth of any channel's |share error| with the test (points; < 0: all improved). */
function worsening(r: Run): { pts: number; channel: string } {
  return r.with.channels
    .map((c) => ({
      channel: c.channel,
      pts:
        Math.abs(c.shareErrorPts) -
        Math.abs(r.without.channels.find((d) => d.channel === c.channel)!.shareErrorPts),
    }))
    .reduce((a, b) => (b.pts > a.pts ? b : a));
}

async function main() {
  const engine = await createEngine({ adapter: args.adapter as AdapterChoice });
  const overrides = (args.config ? JSON.parse(args.config) : {}) as ConfigOverrides;
  console.log(`adapter: ${engine.describe()}\nconfig overrides: ${JSON.stringify(overrides)}`);
  const runs: Run[] = [];
  const t0 = performance.now();
  for (const id of args.scenarios!.split(','))
    for (const share of args.shares!.split(',').map(Number))
      for (let seed = 1; seed <= Number(args.seeds); seed++) {
        const rp = generateRecoveryPanel(scenarioById(id).panel(share, seed));
        const { panel } = rp;
        const size = { R: panel.regions.length, T: panel.weeks.length, C: panel.channels.length };
        const config = autoConfig(engine, size, overrides).config;
        const test = liftTest(rp, testedChannel(rp, seed), seed);
        const without = await fitAndScore(engine, rp, config);
        const withTest = await fitAndScore(engine, rp, config, { liftTests: [test] });
        const run = { scenario: id, mediaShare: share, seed, test, without, with: withTest };
        runs.push(run);
        printRun(run);
      }
  const min = ((performance.now() - t0) / 60000).toFixed(1);
  console.log(`\nsummary (${engine.describe()}; ${min} min)`);
  console.log(
    '| scenario | share | seed | tested | share err (pts) without → with | ROAS err % without → with | z before → after | worst other worsening (pts) |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of runs) {
    const at = (s: RecoveryScore) => s.channels.find((c) => c.channel === r.test.channel)!;
    const lt = r.with.liftTests![0];
    const others = r.with.channels
      .filter((c) => c.channel !== r.test.channel)
      .map(
        (c) =>
          Math.abs(c.shareErrorPts) -
          Math.abs(r.without.channels.find((d) => d.channel === c.channel)!.shareErrorPts),
      );
    console.log(
      `| ${r.scenario} | ${r.mediaShare} | ${r.seed} | ${r.test.channel} | ` +
        `${fmt(at(r.without).shareErrorPts)} → ${fmt(at(r.with).shareErrorPts)} | ` +
        `${fmt(at(r.without).roasErrorPct, 0)} → ${fmt(at(r.with).roasErrorPct, 0)} | ` +
        `${fmt(lt.zBefore)} → ${fmt(lt.zAfter)} | ${fmt(Math.max(...others))} |`,
    );
  }
  const out =
    args.json ?? `bench-results/lift-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(
    out,
    JSON.stringify({ adapter: engine.describe(), overrides, runs }, null, 1) + '\n',
  );
  console.log(`JSON: ${out}`);
  engine.destroy();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
