/**
 * The command line, run as a user runs it (`node --import tsx src/cli.ts …`) on a small CSV
 * written from the synthetic generator: fit writes every file, optimize works from the model file
 * alone, demo runs end to end, and bad input ends in one `causalmix: ` line with exit code 1.
 * The layouts and edge cases fit from the files in tests/fixtures/ with no column flags. Nothing
 * but our own lines may reach stderr (Dawn's start-up notes are held back without --verbose).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import { panelToCsv } from '../src/cli/panel-csv.js';

// jest gives the test its own process.env: read the adapter here and hand it over explicitly
const ADAPTER = process.env.CAUSALMIX_ADAPTER || 'cpu';
const childEnv: NodeJS.ProcessEnv = {
  ...process.env,
  EGL_PLATFORM: 'surfaceless',
  CAUSALMIX_ADAPTER: ADAPTER,
};
delete childEnv.NODE_OPTIONS; // no VM-modules warning on the child's stderr

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      { env: childEnv, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A bad-input run: exit 1, exactly one stderr line starting with "causalmix: ", no stack. */
function expectOneLineError(run: Run, pattern: RegExp): void {
  expect(run.code).toBe(1);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0].startsWith('causalmix: ')).toBe(true);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

let dir: string;
let csv: string;
const TINY = ['--epochs', '10', '--hidden', '8', '--warm-start', '2'];
const channels = ['impressions_tv', 'impressions_search', 'impressions_social'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'causalmix-cli-'));
  const { panel } = generateSyntheticPanel({ regions: 4, weeks: 60, channels: 3, seed: 3 });
  csv = join(dir, 'data.csv');
  await writeFile(csv, panelToCsv(panel));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('causalmix fit', () => {
  let out: string;
  let run: Run;
  beforeAll(async () => {
    out = join(dir, 'out');
    await writeFile(join(dir, 'config.json'), JSON.stringify({ logEvery: 5, dropout: 0.1 }));
    run = await cli(['fit', csv, '--config', join(dir, 'config.json'), ...TINY, '--out', out]);
  });

  test('prints the column mapping, plain progress lines and the evaluation report', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^layout: upstream/m);
    expect(run.stdout).toMatch(/^region +region$/m);
    expect(run.stdout).toMatch(/^week +week \(week numbers\)$/m);
    expect(run.stdout).toMatch(/^target +KPI \(target\)$/m);
    for (const ch of channels) expect(run.stdout).toMatch(new RegExp(`^${ch} +media$`, 'm'));
    expect(run.stdout).toContain(
      '4 regions, 53 training + 7 holdout weeks, 3 channels, 3 controls',
    );
    // not a TTY: a line every logEvery (5, from the config file) epochs
    expect(run.stdout).toMatch(/^train 5\/10 /m);
    expect(run.stdout).toMatch(/^train 10\/10 /m);
    expect(run.stdout).toContain('naive: last 13 training weeks');
    expect(run.stdout).toContain('x is impressions, not spend');
    // one model: no intervals, and the report says how to get them
    expect(run.stdout).toContain('one model, so no intervals: --members 8');
    expect(existsSync(join(out, 'forecast.csv'))).toBe(false);
  });

  test('writes model.json, metrics.json, the CSVs, the dashboard and its charts', async () => {
    const files = await readdir(out);
    for (const f of [
      'model.json',
      'metrics.json',
      'contributions.csv',
      'response-curves.csv',
      'dag.csv',
      'dashboard.html',
    ])
      expect(files).toContain(f);
    const charts = await readdir(join(out, 'charts'));
    expect(charts.length).toBeGreaterThan(5);
    expect(charts.every((c) => c.endsWith('.svg'))).toBe(true);
    expect(await readFile(join(out, 'charts', charts[0]), 'utf8')).toMatch(/^<svg/);
    expect(await readFile(join(out, 'dashboard.html'), 'utf8')).toMatch(/<html/i);

    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(typeof metrics.train.r2).toBe('number');
    // the poor-fit warning appears exactly when a naive forecast beats the model on the holdout
    const naiveBest = Math.min(metrics.naive.trainingMean.rmse, metrics.naive.recentMean.rmse);
    const warned = /^WARNING: the model forecasts the 7 holdout weeks worse than a naive forecast/m;
    if (metrics.holdout.rmse > naiveBest) expect(run.stdout).toMatch(warned);
    else expect(run.stdout).not.toMatch(warned);
    expect(metrics.train.n).toBe(4 * 53);
    expect(metrics.holdout.n).toBe(4 * 7);
    expect(Array.isArray(metrics.train.perRegionR2)).toBe(true);

    const contrib = (await readFile(join(out, 'contributions.csv'), 'utf8')).trimEnd().split('\n');
    expect(contrib[0]).toBe('region,week,component,value');
    expect(contrib.length - 1).toBe(4 * 60 * (3 + 3 + 2));
    expect(contrib[1].split(',').slice(0, 3)).toEqual(['region_01', '0', 'media:impressions_tv']);
    expect(Number.isFinite(Number(contrib[1].split(',')[3]))).toBe(true);

    const curves = (await readFile(join(out, 'response-curves.csv'), 'utf8')).split('\n');
    expect(curves[0]).toMatch(/^channel,source,curve,r2,multiplier,input,unit,response,/);
    expect(curves[1].split(',').slice(1, 3)).toEqual(['simulated', expect.any(String)]);
    expect(run.stdout).toMatch(/response curves: simulated by the model/);
    expect(run.stdout).toMatch(/Media response of the plan: curves -?[\d,]+, model -?[\d,]+/);
    expect(curves[1].split(',')[6]).toBe('impressions');
    const dag = (await readFile(join(out, 'dag.csv'), 'utf8')).trimEnd().split('\n');
    expect(dag[0]).toBe(['from', ...channels.map((c) => `to:${c}`)].join(','));
    expect(dag).toHaveLength(4);

    const model = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
    expect(model.format).toBe('causalmix-model');
    expect(model.config.epochs).toBe(10);
    expect(model.config.hiddenDim).toBe(8);
    expect(model.config.dropout).toBe(0.1); // from --config
    expect(model.extras.responseCurves.map((c: { channel: string }) => c.channel).sort()).toEqual(
      [...channels].sort(),
    );
    expect(model.extras.metrics.train.r2).toBeCloseTo(metrics.train.r2, 12);
    expect(model.extras.costPerImpression).toBeNull();
    expect(model.extras.whatIf.channels).toEqual(channels);
  });

  test('explicit columns and a cost-per-impression file: curves in spend', async () => {
    const costs = join(dir, 'costs.json');
    await writeFile(costs, JSON.stringify({ impressions_tv: 0.02, impressions_search: 0.005 }));
    const out2 = join(dir, 'out2');
    const r = await cli([
      'fit',
      csv,
      '--region',
      'region',
      '--week',
      'week',
      '--target',
      'target',
      '--media',
      'impressions_tv,impressions_search',
      '--controls',
      'control_promo',
      '--cost-per-impression',
      costs,
      ...TINY,
      '--out',
      out2,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^layout: columns as given/m);
    expect(r.stdout).toMatch(/^impressions_search +media$/m);
    expect(r.stdout).toMatch(/^control_promo +control$/m);
    for (const col of ['impressions_social', 'control_price_index', 'control_temperature'])
      expect(r.stdout).toMatch(
        new RegExp(`^${col} +ignored \\(use it with --controls ${col}\\)$`, 'm'),
      );
    const curves = (await readFile(join(out2, 'response-curves.csv'), 'utf8')).split('\n');
    expect(curves[1].split(',')[6]).toBe('spend');
    const model = JSON.parse(await readFile(join(out2, 'model.json'), 'utf8'));
    expect(model.extras.costPerImpression).toEqual({
      impressions_tv: 0.02,
      impressions_search: 0.005,
    });
  });

  describe('causalmix optimize', () => {
    test('prints the report from the model file alone and writes --out', async () => {
      const res = join(dir, 'opt.json');
      const r = await cli([
        'optimize',
        join(out, 'model.json'),
        '--budget',
        '5e7',
        '--weeks',
        '26',
        '--out',
        res,
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('BUDGET OPTIMIZATION REPORT');
      expect(r.stdout).toContain('50,000,000 over 26 weeks');
      expect(r.stdout).toContain('CURRENT vs OPTIMAL');
      expect(r.stdout).toMatch(/Media response of the plan: curves -?[\d,]+, model -?[\d,]+ \(gap/);
      const json = JSON.parse(await readFile(res, 'utf8'));
      expect(Number.isFinite(json.modelCheck.modelResponse)).toBe(true);
      expect(json.result.success).toBe(true);
      expect(json.result.numWeeks).toBe(26);
      const spent = Object.values(json.result.allocation as Record<string, number>).reduce(
        (a, b) => a + b,
        0,
      );
      expect(spent).toBeCloseTo(5e7, 0);
      expect(json.comparison.totals.currentSpend).toBeCloseTo(5e7, 0);
    });

    test('constraints are honoured; methods local and de run', async () => {
      const cons = join(dir, 'cons.json');
      await writeFile(cons, JSON.stringify({ impressions_tv: { lower: 1e7, upper: 1.2e7 } }));
      const res = join(dir, 'opt2.json');
      for (const method of ['local', 'de']) {
        const r = await cli([
          'optimize',
          join(out, 'model.json'),
          '--budget',
          '5e7',
          '--constraints',
          cons,
          '--method',
          method,
          '--out',
          res,
        ]);
        expect(r.code).toBe(0);
        const json = JSON.parse(await readFile(res, 'utf8'));
        expect(json.result.method).toBe(method);
        const tv = json.result.allocation.impressions_tv;
        expect(tv).toBeGreaterThanOrEqual(1e7 * (1 - 1e-6));
        expect(tv).toBeLessThanOrEqual(1.2e7 * (1 + 1e-6));
      }
    });

    test('bad input: missing budget, bad number, bad constraints, not a model file', async () => {
      const model = join(out, 'model.json');
      expectOneLineError(await cli(['optimize', model]), /required option '--budget <n>'/);
      expectOneLineError(
        await cli(['optimize', model, '--budget', '-5']),
        /'-5' is invalid\. expected a number > 0/,
      );
      expectOneLineError(
        await cli(['optimize', model, '--budget', '1e6', '--method', 'simplex']),
        /--method must be global, local or de/,
      );
      const bad = join(dir, 'bad.json');
      await writeFile(bad, '{"impressions_tv": {lower: 1}');
      expectOneLineError(
        await cli(['optimize', model, '--budget', '1e6', '--constraints', bad]),
        /constraints file '.*bad\.json' is not valid JSON/,
      );
      const unknown = join(dir, 'unknown.json');
      await writeFile(unknown, JSON.stringify({ radio: { upper: 5 } }));
      expectOneLineError(
        await cli(['optimize', model, '--budget', '1e6', '--constraints', unknown]),
        /unknown channel "radio"/,
      );
      expectOneLineError(
        await cli(['optimize', join(out, 'metrics.json'), '--budget', '1e6']),
        /is not a causalmix model file/,
      );
      expectOneLineError(
        await cli(['optimize', join(dir, 'nope.json'), '--budget', '1e6']),
        /cannot read model file '.*nope\.json': ENOENT/,
      );
    });
  });
});

describe('causalmix fit --members', () => {
  test('an ensemble writes intervals to channels.csv, metrics.json and the report', async () => {
    const out = join(dir, 'out-members');
    const run = await cli(['fit', csv, ...TINY, '--members', '2', '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^member 2 of 2$/m);
    expect(run.stdout).toContain('mean of 2 members; channels.csv');
    expect(run.stdout).toMatch(
      /impressions_tv: [\d.]+ % of media \(90 % interval -?[\d.]+–[\d.]+ %\)/,
    );
    expect(run.stdout).toMatch(
      /^holdout: \d+ % of 28 region-weeks inside the 90 % prediction interval$/m,
    );
    const rows = (await readFile(join(out, 'channels.csv'), 'utf8')).trim().split('\n');
    const head = rows[0].split(',');
    for (const row of rows.slice(1)) {
      const v = (name: string) => Number(row.split(',')[head.indexOf(name)]);
      expect(v('share_of_media_lo')).toBeLessThan(v('share_of_media'));
      expect(v('share_of_media_hi')).toBeGreaterThan(v('share_of_media'));
      expect(v('total_contribution_lo')).toBeLessThan(v('total_contribution_hi'));
    }
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.ensemble.members).toBe(2);
    expect(metrics.ensemble.holdoutCells).toBe(28);
    expect(metrics.channels[0].shareOfMediaLo).toBeLessThan(metrics.channels[0].shareOfMediaHi);
    const model = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
    expect(model.members).toHaveLength(1);
    expect(model.extras.memberResponseCurves).toHaveLength(2);
    // forecast.csv: every observed region-week with its 90 % prediction interval
    const fc = (await readFile(join(out, 'forecast.csv'), 'utf8')).trim().split('\n');
    expect(fc[0]).toBe('region,week,split,actual,prediction,prediction_lo,prediction_hi');
    expect(fc).toHaveLength(1 + 4 * 60);
    const holdout = fc.slice(1).filter((l) => l.split(',')[2] === 'holdout');
    expect(holdout).toHaveLength(28);
    const inside = holdout.filter((l) => {
      const [, , , y, , lo, hi] = l.split(',').map(Number);
      return y >= lo && y <= hi;
    }).length;
    expect(run.stdout).toContain(
      `holdout: ${Math.round((100 * inside) / 28)} % of 28 region-weeks inside`,
    );
    // the curves are the members' mean with bounds; the report gives the recommendation's spread
    const curves = (await readFile(join(out, 'response-curves.csv'), 'utf8')).trim().split('\n');
    expect(curves[0].endsWith(',response_lo,response_hi')).toBe(true);
    const [lo, hi] = curves[3].split(',').slice(-2).map(Number);
    expect(lo).toBeLessThanOrEqual(hi);
    expect(run.stdout).toContain(
      "each member's own optimal mix (impressions, mean and 90 % interval",
    );
    // optimize on the ensemble's file: the mean curves, each member's optimum, all members' check
    const opt = await cli([
      'optimize',
      join(out, 'model.json'),
      '--budget',
      '1e6',
      '--weeks',
      '13',
    ]);
    expect(opt.stderr).toBe('');
    expect(opt.code).toBe(0);
    expect(opt.stdout).toMatch(/^ {2}impressions_tv: [\d,]+ \([\d,]+–[\d,]+\)$/m);
    expect(opt.stdout).toMatch(/Media response of the plan: curves/);
  }, 180_000);

  test('--members 0 and --resume with an ensemble are refused', async () => {
    expectOneLineError(await cli(['fit', csv, '--members', '0']), /--members <k>/);
    const out = join(dir, 'out-members');
    expectOneLineError(
      await cli(['fit', csv, ...TINY, '--members', '2', '--resume', out]),
      /--resume continues a single model; an ensemble \(--members\) keeps no checkpoint yet/,
    );
  });
});

describe('bad input to fit', () => {
  test('missing CSV file', async () => {
    expectOneLineError(
      await cli(['fit', join(dir, 'missing.csv'), ...TINY]),
      /cannot read CSV file '.*missing\.csv'/,
    );
  });

  test('unknown column for --target', async () => {
    expectOneLineError(
      await cli(['fit', csv, '--target', 'sales_total', ...TINY]),
      /column 'sales_total' is not in the CSV header \(given as --target sales_total\)/,
    );
  });

  test('negative media in the CSV names the line and column', async () => {
    const text = (await readFile(csv, 'utf8')).split('\n');
    const cells = text[5].split(',');
    cells[4] = '-12';
    text[5] = cells.join(',');
    const bad = join(dir, 'negative.csv');
    await writeFile(bad, text.join('\n'));
    expectOneLineError(
      await cli(['fit', bad, ...TINY]),
      /CSV line 6, media column 'impressions_search': negative value -12/,
    );
  });

  test('--epochs abc, --hidden 0 and an unknown option', async () => {
    expectOneLineError(
      await cli(['fit', csv, '--epochs', 'abc']),
      /option '--epochs <n>' argument 'abc' is invalid/,
    );
    expectOneLineError(
      await cli(['fit', csv, '--hidden', '0']),
      /'--hidden <n>' argument '0' is invalid/,
    );
    expectOneLineError(await cli(['fit', csv, '--colour', 'red']), /unknown option '--colour'/);
    expectOneLineError(
      await cli(['fit', csv, '--adapter', 'quantum']),
      /argument 'quantum' is invalid\. expected one of auto/,
    );
  });

  test('bad config: invalid JSON, unknown key, odd hidden size', async () => {
    const badJson = join(dir, 'bad-config.json');
    await writeFile(badJson, '{ "epochs": 10, }');
    expectOneLineError(
      await cli(['fit', csv, '--config', badJson]),
      /config file '.*bad-config\.json' is not valid JSON/,
    );
    const unknown = join(dir, 'unknown-config.json');
    await writeFile(unknown, JSON.stringify({ epoch: 10 }));
    expectOneLineError(await cli(['fit', csv, '--config', unknown]), /unknown config key 'epoch'/);
    expectOneLineError(
      await cli(['fit', csv, '--hidden', '7']),
      /hiddenDim must be an even integer/,
    );
  });

  test('a cost file naming an unknown channel', async () => {
    const costs = join(dir, 'bad-costs.json');
    await writeFile(
      costs,
      JSON.stringify({ impressions_tv: 1, impressions_search: 1, impressions_social: 1, radio: 2 }),
    );
    expectOneLineError(
      await cli(['fit', csv, '--cost-per-impression', costs, ...TINY]),
      /bad-costs\.json: cost per impression names unknown channel\(s\) 'radio'/,
    );
  });
});

describe('layouts and edge cases fit with no column flags (tests/fixtures/)', () => {
  const fixture = (name: string) => join('tests', 'fixtures', `${name}.csv`);

  /** Fits a fixture with tiny settings; the run must succeed with nothing on stderr. */
  async function fitFixture(name: string, extra: string[] = []): Promise<Run> {
    const r = await cli(['fit', fixture(name), ...TINY, ...extra, '--out', join(dir, name)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`wrote ${join(dir, name)}`);
    return r;
  }

  const metrics = async (name: string) =>
    JSON.parse(await readFile(join(dir, name, 'metrics.json'), 'utf8')) as {
      train: { n: number };
      holdout: { n: number };
    };

  test('upstream layout', async () => {
    const r = await fitFixture('upstream');
    expect(r.stdout).toMatch(/^layout: upstream DeepCausalMMM/m);
    expect(r.stdout).toMatch(/^dmacode +region$/m);
    expect(r.stdout).toMatch(/^weekid +week \(week numbers\)$/m);
    expect(r.stdout).toMatch(/^target_visits +KPI \(target\)$/m);
    expect(r.stdout).toContain('3 regions, 53 training + 7 holdout weeks, 3 channels, 2 controls');
  }, 120_000);

  test('Meridian-style layout: curves and budgets in money from the spend columns', async () => {
    const r = await fitFixture('meridian');
    expect(r.stdout).toMatch(/^layout: Meridian-style/m);
    expect(r.stdout).toMatch(
      /^Channel0_impression +media \(impressions, priced by Channel0_spend\)$/m,
    );
    expect(r.stdout).toMatch(/^Promo +control$/m);
    expect(r.stdout).toMatch(/^\(unnamed column 1\) +ignored/m);
    expect(r.stdout).toContain('3 regions, 53 training + 7 holdout weeks, 3 channels, 4 controls');
    expect(r.stdout).not.toContain('x is impressions, not spend');
    const curves = (await readFile(join(dir, 'meridian', 'response-curves.csv'), 'utf8')).split(
      '\n',
    );
    expect(curves[1].split(',')[6]).toBe('spend');
    const model = JSON.parse(await readFile(join(dir, 'meridian', 'model.json'), 'utf8'));
    expect(model.extras.costPerImpression.Channel0_impression).toBeCloseTo(0.012, 3);
  }, 120_000);

  test('Robyn-style layout: one national series', async () => {
    const r = await fitFixture('robyn');
    expect(r.stdout).toMatch(/^layout: Robyn-style/m);
    expect(r.stdout).toContain('rows: 64: one region (no region column) × 64 weeks');
    expect(r.stdout).toMatch(
      /^events +ignored \(text; one 0\/1 control per value with --controls events\)$/m,
    );
    expect(r.stdout).toContain('1 region, 57 training + 7 holdout weeks, 5 channels, 1 control');
    expect((await metrics('robyn')).train.n).toBe(57);
  }, 120_000);

  test('plain layout', async () => {
    const r = await fitFixture('plain');
    expect(r.stdout).toMatch(/^layout: plain/m);
    expect(r.stdout).toMatch(/^date +week \(ISO dates\)$/m);
    expect(r.stdout).toMatch(/^sales +KPI \(target\)$/m);
    expect(r.stdout).toContain('2 regions, 53 training + 7 holdout weeks, 2 channels, 1 control');
  }, 120_000);

  test('one region: a region column with a single value', async () => {
    const r = await fitFixture('one-region');
    expect(r.stdout).toContain('one region (geo is the same in every row) × 60 weeks');
    expect(r.stdout).toContain('1 region, 53 training + 7 holdout weeks');
    expect((await metrics('one-region')).holdout.n).toBe(7);
  }, 120_000);

  test('weeks missing for every region are kept as unobserved gaps', async () => {
    const r = await fitFixture('gap-weeks');
    expect(r.stdout).toContain(
      '62 weeks (week numbers; 2 missing weeks kept as unobserved gaps: 20, 31)',
    );
    // the gaps stay on the axis: 62 weeks, 7 held out, and the gap weeks are not counted
    expect(r.stdout).toContain('3 regions, 55 training + 7 holdout weeks');
    const m = await metrics('gap-weeks');
    expect(m.train.n).toBe(3 * (55 - 2));
    expect(m.holdout.n).toBe(3 * 7);
  }, 120_000);

  test('no controls: the file loads (dry run)', async () => {
    const r = await cli(['fit', fixture('no-controls'), '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('3 regions, 53 training + 7 holdout weeks, 3 channels, 0 controls');
  });

  test('no controls: fits end to end', async () => {
    await fitFixture('no-controls');
  }, 120_000);

  test('an unknown layout stops with one line naming the flags to pass', async () => {
    expectOneLineError(
      await cli(['fit', 'data/pymc-example/mmm_example.csv', ...TINY]),
      /^causalmix: cannot tell this file's layout: no media columns .*; pass --media <col1,col2,…> or --media-prefix <prefix>; columns: 'date_week', 'y', 'x1'/,
    );
    expectOneLineError(
      await cli(['fit', fixture('imp-prefix'), '--kpi', 'revenue']),
      /kpi 'revenue' needs a 'revenue_per_conversion' column; no media columns .*; pass --target <column> --media/,
    );
  });

  test('--dry-run prints the mapping and the data summary without training', async () => {
    const out = join(dir, 'dry');
    const r = await cli([
      'fit',
      fixture('imp-prefix'),
      '--media-prefix',
      'imp_',
      '--dry-run',
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^imp_tv +media$/m);
    expect(r.stdout).toContain(
      '4 regions, 53 training + 7 holdout weeks, 3 channels, 1 control: ready to fit',
    );
    expect(r.stdout).not.toContain('adapter:');
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  test('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const r = await cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});

describe('help and demo', () => {
  test('--help exits 0 everywhere', async () => {
    for (const args of [
      ['--help'],
      ['fit', '--help'],
      ['optimize', '--help'],
      ['demo', '--help'],
    ]) {
      const r = await cli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: causalmix/);
    }
    const fit = await cli(['fit', '--help']);
    for (const opt of [
      '--config',
      '--media-prefix',
      '--cost-per-impression',
      '--epochs',
      '--adapter',
      '--out',
    ])
      expect(fit.stdout).toContain(opt);
  });

  test('demo: generator → fit → dashboard', async () => {
    const out = join(dir, 'demo');
    const r = await cli([
      'demo',
      '--epochs',
      '5',
      '--hidden',
      '8',
      '--regions',
      '3',
      '--weeks',
      '56',
      '--channels',
      '3',
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = await readdir(out);
    for (const f of [
      'data.csv',
      'model.json',
      'metrics.json',
      'contributions.csv',
      'dashboard.html',
    ])
      expect(files).toContain(f);
    // the written data fits again with detection alone
    expect((await readFile(join(out, 'data.csv'), 'utf8')).split('\n')[0]).toMatch(
      /^region,week,target,impressions_/,
    );
  });
});

describe('the installed command', () => {
  // `npx causalmix` runs the package's bin, dist/src/cli.js (built by `npm install`), directly:
  // it needs its shebang and the executable bit, which tsc does not set.
  test('dist/src/cli.js runs as an executable', async () => {
    const run = await new Promise<Run>((resolve) => {
      execFile('dist/src/cli.js', ['--help'], { env: childEnv }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: causalmix/);
  });
});
