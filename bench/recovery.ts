/**
 * Recovery benchmark (`npm run bench:recovery`): fits the default configuration on panels with a
 * known causal process and prints, per run, each channel's share-of-media error (total effects,
 * points), ROAS error, the media share of the KPI vs the truth, holdout RMSE vs both naive
 * forecasts, the true edges found or missed and spurious edges, and the fit time; all figures also
 * as JSON (bench-results/recovery-<time>.json, or --json FILE).
 *
 *   npm run bench:recovery                                   # every scenario, 2 seeds, all shares
 *   npm run bench:recovery -- --scenarios a,d --seeds 1 --shares 0.3
 *   npm run bench:recovery -- --config '{"hiddenDim": 16}'   # a candidate default
 *   npm run bench:recovery -- --reverse                      # also fit with the channels reversed
 *   npm run bench:recovery -- --members 8                    # ensembles: interval coverage, width
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createEngine } from '../src/engine/engine.js';
import type { AdapterChoice } from '../src/engine/device.js';
import { type ConfigOverrides } from '../src/model/config.js';
import { autoConfig } from '../src/model/auto-config.js';
import { generateRecoveryPanel, type RecoveryPanel } from '../src/recovery/generator.js';
import type { CarryOver } from '../src/recovery/process.js';
import { pymcExamplePanel } from '../src/recovery/pymc-example.js';
import { SCENARIOS, scenarioById } from '../src/recovery/scenarios.js';
import { fitAndScore, type RecoveryScore } from '../src/recovery/score.js';

const { values: args } = parseArgs({
  options: {
    scenarios: { type: 'string', default: [...SCENARIOS.map((s) => s.id), 'pymc'].join(',') },
    seeds: { type: 'string', default: '2' },
    shares: { type: 'string' },
    config: { type: 'string' },
    reverse: { type: 'boolean', default: false },
    adapter: { type: 'string', default: 'auto' },
    json: { type: 'string' },
    /** ensemble members per fit (issue 14): prints the 90 % intervals' coverage and width */
    members: { type: 'string', default: '1' },
    quiet: { type: 'boolean', default: false },
    /** diagnostic: carry-over kinds of the generated channels, e.g. 'geometric' */
    carry: { type: 'string' },
  },
});

interface Run {
  scenario: string;
  name: string;
  mediaShare: number;
  seed: number;
  reversed: boolean;
  score: RecoveryScore;
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const k = (x: number) => (Math.abs(x) >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(1));

function printRun(r: Run): void {
  const s = r.score;
  const ch = s.channels
    .map(
      (c) =>
        `${c.channel} ${fmt(100 * c.share)}/${fmt(100 * c.trueShare)}` +
        (c.shareLo !== undefined
          ? ` [${fmt(100 * c.shareLo)}, ${fmt(100 * c.shareHi!)}]${c.shareCovered ? '' : ' MISS'}`
          : ''),
    )
    .join(', ');
  const pi =
    s.holdoutPredictionCoverage !== undefined
      ? `, holdout in 90 % PI ${fmt(100 * s.holdoutPredictionCoverage, 0)} %`
      : '';
  const edges = [
    ...s.trueEdges.map(
      (e) => `${e.from}→${e.to} ${fmt(e.strength, 2)} ${e.found ? 'found' : 'MISSED'}`,
    ),
    ...s.spuriousEdges.map((e) => `spurious ${e.from}→${e.to} ${fmt(e.strength, 2)}`),
  ].join('; ');
  console.log(
    `${r.scenario} share ${r.mediaShare} seed ${r.seed}${r.reversed ? ' reversed' : ''}: ` +
      `max share err ${fmt(s.maxShareErrorPts)} pts (mean ${fmt(s.meanShareErrorPts)}), ` +
      `max ROAS err ${fmt(s.maxAbsRoasErrorPct, 0)} %, media share ${fmt(100 * s.mediaShare)} % ` +
      `(truth ${fmt(100 * s.trueMediaShare)}), holdout RMSE ${k(s.holdoutRmse)} vs recent ` +
      `${k(s.naiveRecentRmse)} / mean ${k(s.naiveTrainingMeanRmse)}${pi}, ${s.epochs} epochs ` +
      `${fmt(s.fitSeconds, 0)} s\n    model/truth %: ${ch}${edges ? `\n    edges: ${edges}` : ''}`,
  );
}

async function main() {
  const engine = await createEngine({ adapter: args.adapter as AdapterChoice });
  const overrides = (args.config ? JSON.parse(args.config) : {}) as ConfigOverrides;
  const seeds = Array.from({ length: Number(args.seeds) }, (_, i) => 1 + i);
  const shares = args.shares?.split(',').map(Number);
  console.log(`adapter: ${engine.describe()}`);
  console.log(`config overrides: ${JSON.stringify(overrides)}`);
  const runs: Run[] = [];
  const t0 = performance.now();

  const runOne = async (
    id: string,
    name: string,
    rp: RecoveryPanel,
    mediaShare: number,
    seed: number,
  ) => {
    const R = rp.panel.regions.length;
    const T = rp.panel.weeks.length;
    const config = autoConfig(engine, { R, T, C: rp.panel.channels.length }, overrides).config;
    const orders: (number[] | undefined)[] = [undefined];
    if (args.reverse)
      orders.push(rp.panel.channels.map((_, i) => rp.panel.channels.length - 1 - i));
    for (const channelOrder of orders) {
      const score = await fitAndScore(engine, rp, config, {
        channelOrder,
        members: Number(args.members),
        onProgress: args.quiet
          ? undefined
          : (p) => {
              if (p.epoch % 250 === 0)
                process.stderr.write(
                  `  ${p.phase} ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)} ` +
                    `${(p.elapsedMs / 1000).toFixed(0)} s\n`,
                );
            },
      });
      const run = { scenario: id, name, mediaShare, seed, reversed: !!channelOrder, score };
      runs.push(run);
      printRun(run);
    }
  };

  for (const id of args.scenarios!.split(',')) {
    if (id === 'pymc') {
      const rp = pymcExamplePanel(readFileSync('data/pymc-example/mmm_example.csv', 'utf8'));
      await runOne('pymc', 'PyMC-Marketing national example', rp, rp.truth.mediaShare, 0);
      continue;
    }
    const sc = scenarioById(id);
    for (const share of shares ?? sc.mediaShares)
      for (const seed of seeds) {
        const carryKinds = args.carry?.split(',') as CarryOver['kind'][] | undefined;
        const rp = generateRecoveryPanel({ ...sc.panel(share, seed), carryKinds });
        await runOne(id, sc.name, rp, share, seed);
      }
  }

  console.log(
    `\nsummary (${engine.describe()}; ${((performance.now() - t0) / 60000).toFixed(1)} min)`,
  );
  console.log(
    '| scenario | runs | max share err (pts) | mean share err | max ROAS err % | media share err (pts) | holdout RMSE / naive recent | edges found | spurious edges | s per fit |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  const ids = [...new Set(runs.map((r) => r.scenario))];
  for (const id of ids) {
    const rs = runs.filter((r) => r.scenario === id);
    const max = (f: (s: RecoveryScore) => number) => Math.max(...rs.map((r) => f(r.score)));
    const mean = (f: (s: RecoveryScore) => number) =>
      rs.reduce((a, r) => a + f(r.score), 0) / rs.length;
    const found = rs.flatMap((r) => r.score.trueEdges);
    console.log(
      `| ${id} ${rs[0].name} | ${rs.length} | ${fmt(max((s) => s.maxShareErrorPts))} | ` +
        `${fmt(mean((s) => s.meanShareErrorPts))} | ${fmt(
          max((s) => s.maxAbsRoasErrorPct),
          0,
        )} | ` +
        `${fmt(max((s) => Math.abs(100 * (s.mediaShare - s.trueMediaShare))))} | ` +
        `${fmt(
          max((s) => s.holdoutRmse / s.naiveRecentRmse),
          2,
        )} | ` +
        `${found.length ? `${found.filter((e) => e.found).length}/${found.length}` : '–'} | ` +
        `${rs.reduce((a, r) => a + r.score.spuriousEdges.length, 0)} | ` +
        `${fmt(
          mean((s) => s.fitSeconds),
          0,
        )} |`,
    );
  }
  const scored = runs.flatMap((r) => r.score.channels).filter((c) => c.shareLo !== undefined);
  if (scored.length > 0) {
    const widths = scored.map((c) => 100 * (c.shareHi! - c.shareLo!)).sort((a, b) => a - b);
    const mid = widths.length >> 1;
    const median = widths.length % 2 ? widths[mid] : (widths[mid - 1] + widths[mid]) / 2;
    const covered = scored.filter((c) => c.shareCovered).length;
    const pis = runs.map((r) => r.score.holdoutPredictionCoverage!);
    console.log(
      `\nintervals (${args.members} members, 90 %): true share inside in ${covered} of ` +
        `${scored.length} channel-runs (${fmt((100 * covered) / scored.length, 0)} %; bar 80, ` +
        `goal 88), median width ${fmt(median)} pts (bar 15); holdout KPI inside its 90 % ` +
        `prediction interval: ${pis.map((v) => `${fmt(100 * v, 0)} %`).join(', ')}`,
    );
  }
  if (args.reverse) {
    console.log(
      '\nchannel order (largest share move between the given and the reversed order, pts):',
    );
    for (const r of runs.filter((x) => !x.reversed)) {
      const rev = runs.find(
        (x) =>
          x.reversed &&
          x.scenario === r.scenario &&
          x.seed === r.seed &&
          x.mediaShare === r.mediaShare,
      );
      if (!rev) continue;
      const move = Math.max(
        ...r.score.channels.map(
          (c) =>
            100 *
            Math.abs(c.share - rev.score.channels.find((d) => d.channel === c.channel)!.share),
        ),
      );
      console.log(`  ${r.scenario} share ${r.mediaShare} seed ${r.seed}: ${fmt(move)}`);
    }
  }
  const out =
    args.json ?? `bench-results/recovery-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
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
