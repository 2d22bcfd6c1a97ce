import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseLiftTestsCsv,
  parseLiftTestsJson,
  resolveLiftTests,
  type LiftTestInput,
} from '../src/calibration/lift-tests.js';
import { readLiftTestsFile } from '../src/calibration/lift-tests-file.js';
import { DataError } from '../src/data/errors.js';
import type { Panel } from '../src/data/panel.js';

/** A panel with every cell observed and zero values: only its names and weeks matter here. */
function makePanel(
  weeks: (number | string)[],
  regions = ['north', 'south', 'east', 'west'],
  channels = ['tv', 'search'],
): Panel {
  const R = regions.length;
  const W = weeks.length;
  return {
    regions,
    weeks,
    channels,
    controlNames: [],
    // every channel runs every week (a go-dark where a channel did not run is its own error)
    media: new Float64Array(R * W * channels.length).fill(1),
    controls: new Float64Array(0),
    target: new Float64Array(R * W),
    observed: new Uint8Array(R * W).fill(1),
  };
}

const WEEK_NUMBERS = Array.from({ length: 20 }, (_, i) => i + 1); // 1 … 20
const DATES = Array.from({ length: 12 }, (_, i) =>
  new Date(Date.UTC(2024, 0, 1 + 7 * i)).toISOString().slice(0, 10),
); // 2024-01-01 … 2024-03-18
const numbered = makePanel(WEEK_NUMBERS);
const dated = makePanel(DATES);

const HEADER = 'channel,regions,start_week,end_week,post_weeks,lift,se';
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n') + '\n';

/** Parses CSV text and resolves it against a panel, as the fit command will. */
const fromCsv = (text: string, panel = numbered, wTrain?: number) =>
  resolveLiftTests(parseLiftTestsCsv(text, 'tests.csv'), panel, { wTrain }, 'tests.csv');

function expectDataError(fn: () => unknown, message: string | RegExp): void {
  expect(fn).toThrow(DataError);
  expect(fn).toThrow(message);
}

describe('parsing', () => {
  test('a CSV row becomes a LiftTestInput; regions split on ;, cells trimmed', () => {
    const inputs = parseLiftTestsCsv(csv('tv, north; south ,3,6,2,120.5,30'), 'tests.csv');
    expect(inputs).toEqual([
      {
        channel: 'tv',
        regions: ['north', 'south'],
        startWeek: '3',
        endWeek: '6',
        postWeeks: 2,
        lift: 120.5,
        se: 30,
        row: 1,
      },
    ]);
  });

  test('post_weeks defaults to 0 when the column is absent or the cell is empty', () => {
    const noColumn = 'channel,regions,start_week,end_week,lift,se\ntv,north,3,6,10,2\n';
    expect(parseLiftTestsCsv(noColumn, 'a.csv')[0].postWeeks).toBe(0);
    expect(parseLiftTestsCsv(csv('tv,north,3,6,,10,2'), 'b.csv')[0].postWeeks).toBe(0);
    const json =
      '[{"channel":"tv","regions":"north","start_week":3,"end_week":6,"lift":10,"se":2}]';
    const [t] = resolveLiftTests(parseLiftTestsJson(json, 'c.json'), numbered);
    expect(t.postWeeks).toBe(0);
    expect(t.to).toBe(t.testTo);
  });

  test('header names in any case or spelling (Start Week, startWeek); tab-separated files', () => {
    const text =
      'Channel\tRegions\tStart Week\tendWeek\tLIFT\tSE\tnote\ntv\tall\t3\t6\t10\t2\tspring\n';
    const [t] = parseLiftTestsCsv(text, 'tests.tsv');
    expect(t).toMatchObject({ channel: 'tv', regions: 'all', startWeek: '3', endWeek: '6' });
  });

  test('blank lines are skipped and not counted as rows', () => {
    const inputs = parseLiftTestsCsv(
      csv('tv,north,3,6,0,10,2', '', 'search,north,3,6,0,10,2'),
      'x',
    );
    expect(inputs.map((t) => [t.channel, t.row])).toEqual([
      ['tv', 1],
      ['search', 2],
    ]);
  });

  test('JSON: an array or { liftTests: [...] }, snake_case or camelCase, regions as a list', () => {
    const snake = [
      { channel: 'tv', regions: 'north;south', start_week: 3, end_week: 6, post_weeks: 2 },
    ].map((t) => ({ ...t, lift: 120.5, se: 30 }));
    const camel = {
      liftTests: [
        {
          channel: 'tv',
          regions: ['north', 'south'],
          startWeek: 3,
          endWeek: 6,
          postWeeks: 2,
          lift: 120.5,
          se: 30,
        },
      ],
    };
    const a = parseLiftTestsJson(JSON.stringify(snake), 'a.json');
    const b = parseLiftTestsJson(JSON.stringify(camel), 'b.json');
    expect(a).toEqual(b);
    expect(a[0]).toMatchObject({ regions: ['north', 'south'], startWeek: 3, postWeeks: 2, row: 1 });
  });
});

describe('resolving', () => {
  test('CSV and JSON resolve to the same tests', () => {
    const text = csv('tv,north;west,3,6,2,120.5,30', 'search,all,10,13,,-4,1.5');
    const json = JSON.stringify(
      [
        { channel: 'tv', regions: ['north', 'west'], startWeek: 3, endWeek: 6, postWeeks: 2 },
        { channel: 'search', regions: 'all', start_week: '10', end_week: 13 },
      ].map((t, i) => ({ ...t, lift: [120.5, -4][i], se: [30, 1.5][i] })),
    );
    const fromJson = resolveLiftTests(parseLiftTestsJson(json, 'tests.json'), numbered);
    expect(fromCsv(text)).toEqual(fromJson);
    expect(fromJson[0]).toMatchObject({
      c: 0,
      regionIndex: [0, 3],
      startWeek: 3,
      endWeek: 6,
      from: 2,
      testTo: 5,
      to: 7,
    });
  });

  test('numeric weeks: CSV cells are read as numbers; from/testTo/to index panel.weeks', () => {
    const weeks = [202450, 202451, 202452, 202501, 202502, 202503];
    const [t] = fromCsv(csv('search,south,202452,202501,1,10,2'), makePanel(weeks));
    expect(t).toMatchObject({ c: 1, regionIndex: [1], from: 2, testTo: 3, to: 4 });
    expect(t.startWeek).toBe(202452);
  });

  test("'all' expands to every region", () => {
    const [t] = fromCsv(csv('tv,all,3,6,0,10,2'));
    expect(t.regions).toBe('all');
    expect(t.regionIndex).toEqual([0, 1, 2, 3]);
  });

  test('ISO-date weeks match the same date on the axis', () => {
    const [t] = fromCsv(csv('tv,east,2024-01-15,2024-02-05,1,10,2'), dated);
    expect(t).toMatchObject({ from: 2, testTo: 5, to: 6, startWeek: '2024-01-15' });
    const json =
      '{"liftTests":[{"channel":"tv","regions":["east"],"startWeek":"2024-01-15",' +
      '"endWeek":"2024-02-05","postWeeks":1,"lift":10,"se":2}]}';
    expect(resolveLiftTests(parseLiftTestsJson(json, 't.json'), dated, {}, 't.json')).toEqual([
      { ...t, row: 1 },
    ]);
  });

  test('tests on one channel may share regions in other weeks, or weeks in other regions', () => {
    const tests = fromCsv(
      csv(
        'tv,north;south,3,6,2,10,2',
        'tv,north,9,10,0,10,2', // same region, weeks after the first test's post weeks
        'tv,east,3,6,0,10,2', // same weeks, another region
        'search,north,3,6,0,10,2', // another channel
      ),
    );
    expect(tests).toHaveLength(4);
  });

  test('a region listed twice counts once', () => {
    expect(fromCsv(csv('tv,north;north;east,3,6,0,10,2'))[0].regionIndex).toEqual([0, 2]);
  });
});

describe('validation errors name the source and the row', () => {
  test('unknown channel', () => {
    const text = csv('tv,north,3,6,0,10,2', 'tv,south,3,6,0,10,2', 'radio,north,3,6,0,10,2');
    expect(() => fromCsv(text)).toThrow(
      new DataError(
        "causalmix: lift tests 'tests.csv' row 3: unknown channel 'radio' (media channels: tv, search)",
      ),
    );
    expectDataError(() => fromCsv(text), "lift tests 'tests.csv' row 3: unknown channel 'radio'");
  });

  test('unknown region, named', () => {
    expectDataError(
      () => fromCsv(csv('tv,north;mars,3,6,0,10,2')),
      "row 1: unknown region 'mars' (regions: north, south, east, west, or all)",
    );
  });

  test("'all' must stand alone", () => {
    expectDataError(() => fromCsv(csv('tv,all;north,3,6,0,10,2')), "'all' must stand alone");
  });

  test('missing columns', () => {
    const text = 'channel,regions,start_week,end_week,lift\ntv,north,3,6,10\n';
    expectDataError(
      () => parseLiftTestsCsv(text, 'tests.csv'),
      "lift tests 'tests.csv': missing column 'se' (the header has: channel, regions, start_week, end_week, lift)",
    );
    expectDataError(
      () => parseLiftTestsCsv('channel,lift\ntv,3\n', 'tests.csv'),
      "missing columns 'regions', 'start_week', 'end_week', 'se'",
    );
  });

  test("a ';'-separated file: the error says to use commas or tabs", () => {
    const text = 'channel;regions;start_week;end_week;lift;se\ntv;north;3;6;10;2\n';
    expectDataError(
      () => parseLiftTestsCsv(text, 'tests.csv'),
      'separate columns with commas or tabs',
    );
  });

  test('a column given twice', () => {
    const text = 'channel,regions,start_week,startWeek,end_week,lift,se\ntv,north,3,3,6,10,2\n';
    expectDataError(
      () => parseLiftTestsCsv(text, 'tests.csv'),
      "more than one column is 'start_week'",
    );
  });

  test('missing fields: an empty CSV cell, an absent JSON field', () => {
    expectDataError(
      () => parseLiftTestsCsv(csv('tv,north,3,6,0,10,2', 'tv,,3,6,0,,2'), 'tests.csv'),
      "lift tests 'tests.csv' row 2: missing 'regions', 'lift'",
    );
    const json = '[{"channel":"tv","regions":"north","startWeek":3,"endWeek":6,"lift":10}]';
    expectDataError(() => parseLiftTestsJson(json, 't.json'), "'t.json' row 1: missing 'se'");
  });

  test('a CSV row with the wrong number of fields', () => {
    expectDataError(
      () => parseLiftTestsCsv(csv('tv,north,3,6,0,10'), 'tests.csv'),
      'row 1: 6 fields, the header has 7',
    );
  });

  test('weeks outside the data', () => {
    expectDataError(
      () => fromCsv(csv('tv,north,0,6,0,10,2')),
      'row 1: start_week 0 is outside the data (weeks 1 … 20)',
    );
    expectDataError(
      () => fromCsv(csv('tv,north,3,21,0,10,2')),
      'row 1: end_week 21 is outside the data (weeks 1 … 20)',
    );
    expectDataError(
      () => fromCsv(csv('tv,north,2023-12-25,2024-01-08,0,10,2'), dated),
      'start_week 2023-12-25 is outside the data (weeks 2024-01-01 … 2024-03-18)',
    );
  });

  test('weeks not found in the data', () => {
    expectDataError(
      () => fromCsv(csv('tv,north,2024-01-03,2024-01-22,0,10,2'), dated),
      'start_week 2024-01-03 is not a week of the data (it falls between weeks 2024-01-01 and 2024-01-08)',
    );
    expectDataError(
      () => fromCsv(csv('tv,north,3.5,6,0,10,2')),
      'start_week 3.5 is not a week of the data (it falls between weeks 3 and 4)',
    );
    expectDataError(
      () => fromCsv(csv('tv,north,2024-01-08,6,0,10,2')),
      "start_week '2024-01-08' is not a week number (the data's weeks: 1 … 20)",
    );
    expectDataError(
      () => fromCsv(csv('tv,north,2,2024-01-22,0,10,2'), dated),
      "start_week '2' is not an ISO date YYYY-MM-DD (the data's weeks: 2024-01-01 … 2024-03-18)",
    );
  });

  test('start after end', () => {
    expectDataError(
      () => fromCsv(csv('tv,north,7,6,0,10,2')),
      "lift tests 'tests.csv' row 1: start_week 7 is after end_week 6",
    );
  });

  test('end_week + post_weeks past the last data week', () => {
    expectDataError(
      () => fromCsv(csv('tv,north,15,18,3,10,2')),
      'row 1: end_week 18 + post_weeks 3 runs 1 week past the last data week 20',
    );
    expect(fromCsv(csv('tv,north,15,18,2,10,2'))[0].to).toBe(19);
  });

  test('counted weeks reaching into the holdout', () => {
    expectDataError(
      () => fromCsv(csv('tv,north,12,14,2,10,2'), numbered, 15),
      'row 1: counted weeks 12 … 16 reach into the holdout, which starts at week 16; ' +
        'calibration uses the training weeks only (1 … 15)',
    );
    expect(fromCsv(csv('tv,north,12,14,1,10,2'), numbered, 15)[0].to).toBe(14);
  });

  test('se not a number > 0', () => {
    expectDataError(() => fromCsv(csv('tv,north,3,6,0,10,0')), 'row 1: se 0 must be a number > 0');
    expectDataError(
      () => fromCsv(csv('tv,north,3,6,0,10,-2')),
      'row 1: se -2 must be a number > 0',
    );
    expectDataError(() => fromCsv(csv('tv,north,3,6,0,10,n/a')), "row 1: se 'n/a' is not a number");
    expectDataError(
      () => fromCsv(csv('tv,north,3,6,0,10,Infinity')),
      'se Infinity must be a number > 0',
    );
  });

  test('lift not a finite number', () => {
    expectDataError(
      () => fromCsv(csv('tv,north,3,6,0,lots,2')),
      "row 1: lift 'lots' is not a number",
    );
    expectDataError(
      () => fromCsv(csv('tv,north,3,6,0,-Infinity,2')),
      'row 1: lift -Infinity is not a finite number',
    );
    const json =
      '[{"channel":"tv","regions":"north","startWeek":3,"endWeek":6,"lift":true,"se":2}]';
    expectDataError(() => parseLiftTestsJson(json, 't.json'), 'row 1: lift true is not a number');
  });

  test('post_weeks not a whole number ≥ 0', () => {
    expectDataError(
      () => fromCsv(csv('tv,north,3,6,1.5,10,2')),
      'row 1: post_weeks 1.5 must be a whole number ≥ 0',
    );
    expectDataError(
      () => fromCsv(csv('tv,north,3,6,-1,10,2')),
      'row 1: post_weeks -1 must be a whole number ≥ 0',
    );
  });

  test('two tests on one channel overlapping in regions and counted weeks name both rows', () => {
    expectDataError(
      () =>
        fromCsv(csv('tv,north;south,3,6,0,10,2', 'search,north,3,6,0,10,2', 'tv,all,5,8,0,10,2')),
      "lift tests 'tests.csv' row 3: overlaps row 1: both test channel 'tv' in regions north, south " +
        'with counted weeks 5 … 6 in common',
    );
    // the overlap is only in the first test's post weeks
    expectDataError(
      () => fromCsv(csv('tv,north,3,6,2,10,2', 'tv,north;east,8,9,0,10,2')),
      "row 2: overlaps row 1: both test channel 'tv' in region north with counted weeks 8 in common",
    );
  });

  test('an empty file: no tests', () => {
    expectDataError(() => parseLiftTestsCsv('', 'tests.csv'), "lift tests 'tests.csv': no tests");
    expectDataError(() => parseLiftTestsCsv(`${HEADER}\n\n`, 'tests.csv'), 'no tests');
    expectDataError(() => parseLiftTestsJson('[]', 't.json'), "lift tests 't.json': no tests");
    expectDataError(() => parseLiftTestsJson('{"liftTests":[]}', 't.json'), 'no tests');
    expectDataError(() => parseLiftTestsJson(' \n', 't.json'), 'no tests');
    expectDataError(() => resolveLiftTests([], numbered, {}, 't.json'), "'t.json': no tests");
  });

  test('JSON that is not valid or not a list of test objects', () => {
    expectDataError(
      () => parseLiftTestsJson('[{', 't.json'),
      "lift tests 't.json': not valid JSON",
    );
    expectDataError(
      () => parseLiftTestsJson('{"tests":[]}', 't.json'),
      'expected an array of tests or { "liftTests": [...] }',
    );
    expectDataError(() => parseLiftTestsJson('[3]', 't.json'), "'t.json' row 1: not an object");
  });

  test('inputs built in code are checked too (no source: "lift tests row N")', () => {
    const input: LiftTestInput = {
      channel: 'tv',
      regions: ['north'],
      startWeek: 3,
      endWeek: 6,
      postWeeks: 0,
      lift: 10,
      se: -1,
      row: 4,
    };
    expectDataError(() => resolveLiftTests([input], numbered), 'lift tests row 4: se -1');
    expectDataError(
      () => resolveLiftTests([{ ...input, se: 1, regions: [] }], numbered),
      'row 4: no regions',
    );
  });
});

describe('readLiftTestsFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'causalmix-lift-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('JSON by extension or by content, CSV otherwise', () => {
    const json = '[{"channel":"tv","regions":"all","startWeek":3,"endWeek":6,"lift":10,"se":2}]';
    const files = { 'a.json': json, 'b.txt': `\n ${json}`, 'c.csv': csv('tv,all,3,6,0,10,2') };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const resolved = Object.keys(files).map((name) =>
      resolveLiftTests(readLiftTestsFile(join(dir, name)), numbered),
    );
    expect(resolved[1]).toEqual(resolved[0]);
    expect(resolved[2]).toEqual(resolved[0]);
  });

  test('errors name the file', () => {
    const path = join(dir, 'bad.csv');
    writeFileSync(path, csv('tv,all,3,6,0,10,0'));
    expectDataError(() => readLiftTestsFile(path), `lift tests '${path}' row 1: se 0`);
  });

  test('a missing file is a clear error naming it', () => {
    const path = join(dir, 'missing.csv');
    expectDataError(() => readLiftTestsFile(path), `cannot read lift tests file '${path}'`);
  });
});

test('a test where the channel did not run is refused', () => {
  const panel = makePanel(WEEK_NUMBERS);
  const C = panel.channels.length;
  const W = panel.weeks.length;
  // search off in north over weeks 5–8 (indices 4–7)
  for (let w = 4; w <= 7; w++) panel.media[(0 * W + w) * C + 1] = 0;
  const rows = parseLiftTestsCsv(
    'channel,regions,start_week,end_week,lift,se\nsearch,north,5,8,100,10\n',
    'off.csv',
  );
  expect(() => resolveLiftTests(rows, panel, {}, 'off.csv')).toThrow(
    /lift tests 'off\.csv' row 1: 'search' has no input in those regions over weeks 5–8/,
  );
  // one of the regions ran it: accepted
  const both = parseLiftTestsCsv(
    'channel,regions,start_week,end_week,lift,se\nsearch,north;south,5,8,100,10\n',
    'on.csv',
  );
  expect(resolveLiftTests(both, panel)).toHaveLength(1);
});
