/**
 * `causalmix fit --lift-tests FILE`, run as a user runs it: a CSV or JSON of geo experiments is
 * checked against the data, calibrated on, and reported (printed, metrics.json); a bad row is one
 * clear error line.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { panelToCsv } from '../src/cli/panel-csv.js';
import { generateSyntheticPanel } from '../src/data/synthetic.js';

const ADAPTER = process.env.CAUSALMIX_ADAPTER || 'cpu';
const childEnv: NodeJS.ProcessEnv = {
  ...process.env,
  EGL_PLATFORM: 'surfaceless',
  CAUSALMIX_ADAPTER: ADAPTER,
};
delete childEnv.NODE_OPTIONS;

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

let dir: string;
let csv: string;
let regions: string[];
const FIT = ['--epochs', '40', '--hidden', '8', '--warm-start', '5'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'causalmix-lift-'));
  const { panel } = generateSyntheticPanel({ regions: 4, weeks: 60, channels: 3, seed: 3 });
  regions = panel.regions;
  csv = join(dir, 'data.csv');
  await writeFile(csv, panelToCsv(panel));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a CSV of lift tests is calibrated on and reported; JSON gives the same tests', async () => {
  const tests = join(dir, 'tests.csv');
  await writeFile(
    tests,
    'channel,regions,start_week,end_week,post_weeks,lift,se\n' +
      `impressions_tv,${regions[0]};${regions[1]},17,20,2,50000,10000\n` +
      'impressions_search,all,20,23,,20000,5000\n',
  );
  const out = join(dir, 'out');
  const run = await cli(['fit', csv, ...FIT, '--lift-tests', tests, '--out', out]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^lift tests \(the model's lift in KPI/m);
  expect(run.stdout).toMatch(
    /^ {2}impressions_tv, 2 regions, weeks 17–20 \+ 2: measured 50,000 ± 10,000; model -?[\d,]+ \(z [+−][\d.]+\) → -?[\d,]+ \(z [+−][\d.]+\)$/m,
  );
  expect(run.stdout).toMatch(/^ {2}impressions_search, all regions, weeks 20–23: measured 20,000/m);
  const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
  expect(metrics.liftTests).toHaveLength(2);
  for (const t of metrics.liftTests) {
    expect(Number.isFinite(t.before) && Number.isFinite(t.after)).toBe(true);
    expect(t.zAfter).toBeCloseTo((t.after - t.measured) / t.se, 6);
  }
  // the same tests as JSON: the same training, bit for bit
  const json = join(dir, 'tests.json');
  await writeFile(
    json,
    JSON.stringify([
      {
        channel: 'impressions_tv',
        regions: [regions[0], regions[1]],
        startWeek: 17,
        endWeek: 20,
        postWeeks: 2,
        lift: 50000,
        se: 10000,
      },
      {
        channel: 'impressions_search',
        regions: 'all',
        start_week: 20,
        end_week: 23,
        lift: 20000,
        se: 5000,
      },
    ]),
  );
  const out2 = join(dir, 'out2');
  expect((await cli(['fit', csv, ...FIT, '--lift-tests', json, '--out', out2])).code).toBe(0);
  const weights = async (o: string) =>
    JSON.parse(await readFile(join(o, 'model.json'), 'utf8')).weights as unknown;
  expect(await weights(out2)).toEqual(await weights(out));
}, 300_000);

test('a bad lift test is one line naming the file, the row and the problem', async () => {
  const bad = join(dir, 'bad.csv');
  await writeFile(
    bad,
    'channel,regions,start_week,end_week,lift,se\n' +
      `impressions_tv,${regions[0]},10,13,50000,10000\n` +
      `impressions_radio,${regions[0]},10,13,50000,10000\n`,
  );
  const run = await cli(['fit', csv, ...FIT, '--lift-tests', bad, '--out', join(dir, 'bad')]);
  expect(run.code).toBe(1);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    /^causalmix: lift tests '.*bad\.csv' row 2: unknown channel 'impressions_radio'/,
  );
  const missing = await cli(['fit', csv, ...FIT, '--lift-tests', join(dir, 'none.csv')]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^causalmix: cannot read lift tests file '.*none\.csv'/);
}, 300_000);
