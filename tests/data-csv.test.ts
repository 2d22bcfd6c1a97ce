import { parseCsvPanel, describeMapping, sortRegionIds } from '../src/data/csv.js';
import { loadCsvPanel } from '../src/data/csv-file.js';
import { DataError } from '../src/data/errors.js';
import { LayoutError } from '../src/data/layout.js';
import { cliFlags } from '../src/cli/flags.js';

const csv = (rows: (string | number)[][]) => rows.map((r) => r.join(',')).join('\n') + '\n';

const HEADER = [
  'dmacode',
  'weekid',
  'impressions_tv',
  'impressions_radio',
  'control_price',
  'target_visits',
];

describe('parseCsvPanel: detection and layout', () => {
  test('detects the MMM_Data column names and builds [R,W,C] / [R,W,K] / [R,W]', () => {
    const text = csv([
      HEADER,
      [20, 1, 5, 6, 1.5, 100],
      [3, 0, 1, 2, 0.5, 30],
      [20, 0, 3, 4, 1.0, 90],
      [3, 1, 7, 8, 2.5, 40],
    ]);
    const { panel, mapping } = parseCsvPanel(text);
    expect(mapping.region).toBe('dmacode');
    expect(mapping.week).toBe('weekid');
    expect(mapping.target).toBe('target_visits');
    expect(mapping.media).toEqual(['impressions_tv', 'impressions_radio']);
    expect(mapping.controls).toEqual(['control_price']);
    expect(mapping.detected).toEqual(['region', 'week', 'target', 'media', 'controls']);
    expect(mapping.rows).toBe(4);
    // numeric region ids in numeric order (3 before 20), weeks in order
    expect(panel.regions).toEqual(['3', '20']);
    expect(panel.weeks).toEqual([0, 1]);
    expect(Array.from(panel.media)).toEqual([1, 2, 7, 8, 3, 4, 5, 6]);
    expect(Array.from(panel.controls)).toEqual([0.5, 2.5, 1.0, 1.5]);
    expect(Array.from(panel.target)).toEqual([30, 40, 90, 100]);
    expect(Array.from(panel.observed)).toEqual([1, 1, 1, 1]);
    expect(mapping.layout).toBe('upstream');
    const text2 = describeMapping(mapping).split('\n');
    expect(text2[0]).toMatch(/^layout: upstream/);
    expect(text2[1]).toBe('rows: 4: 2 regions × 2 weeks (week numbers)');
    expect(text2).toContain('dmacode            region');
    expect(text2).toContain('impressions_radio  media');
    expect(text2).toContain('control_price      control');
    expect(text2).toContain('target_visits      KPI (target)');
  });

  test('numeric weeks sort numerically; ISO dates chronologically; regions naturally', () => {
    const num = parseCsvPanel(
      csv([HEADER, ['R10', 10, 1, 1, 0, 1], ['R2', 9, 1, 1, 0, 1], ['R2', 100, 1, 1, 0, 1]]),
    ).panel;
    expect(num.weeks).toEqual([9, 10, 100]);
    expect(num.regions).toEqual(['R2', 'R10']);
    const dates = parseCsvPanel(
      csv([
        ['geo', 'date', 'spend_a', 'y'],
        ['x', '2024-01-08', 1, 2],
        ['x', '2023-12-25', 1, 2],
        ['x', '2024-01-01', 1, 2],
      ]),
    );
    expect(dates.mapping.weekKind).toBe('date');
    expect(dates.mapping.media).toEqual(['spend_a']);
    expect(dates.mapping.controls).toEqual([]);
    expect(dates.panel.weeks).toEqual(['2023-12-25', '2024-01-01', '2024-01-08']);
    expect(sortRegionIds(['b', 'a10', 'a9', 'A1'])).toEqual(['A1', 'a9', 'a10', 'b']);
  });

  test('ragged regions: the week axis is the union, missing cells are unobserved zeros', () => {
    const { panel } = parseCsvPanel(
      csv([HEADER, [1, 0, 1, 1, 0, 5], [1, 1, 1, 1, 0, 5], [1, 2, 1, 1, 0, 5], [2, 2, 4, 4, 9, 7]]),
    );
    expect(panel.weeks).toEqual([0, 1, 2]);
    expect(Array.from(panel.observed)).toEqual([1, 1, 1, 0, 0, 1]);
    expect(Array.from(panel.target)).toEqual([5, 5, 5, 0, 0, 7]);
    expect(panel.media[(1 * 3 + 0) * 2]).toBe(0);
  });

  test('explicit roles: media by name in the given order, controls by prefix, the rest ignored', () => {
    const text = csv([
      ['shop', 'wk', 'a', 'b', 'c', 'ctl_x', 'ctl_y', 'note', 'kpi_value'],
      ['s1', 0, 1, 2, 3, 4, 5, 6, 7],
    ]);
    const { panel, mapping } = parseCsvPanel(text, {
      region: 'shop',
      week: 'wk',
      target: 'kpi_value',
      media: ['c', 'a'],
      controlPrefix: 'ctl_',
    });
    expect(panel.channels).toEqual(['c', 'a']);
    expect(Array.from(panel.media)).toEqual([3, 1]);
    expect(panel.controlNames).toEqual(['ctl_x', 'ctl_y']);
    expect(mapping.ignored).toEqual(['b', 'note']);
    expect(mapping.detected).toEqual([]);
  });

  test('quoted fields (a comma inside a region name) parse as one cell', () => {
    const text = 'region,week,media_a,target\n"Paris, FR",0,1,2\n"Paris, FR",1,1,3\n';
    const { panel } = parseCsvPanel(text);
    expect(panel.regions).toEqual(['Paris, FR']);
    expect(Array.from(panel.target)).toEqual([2, 3]);
  });

  test('parity-small: region/week, and region_idx / week_monday are not controls', () => {
    const { panel, mapping } = loadCsvPanel('data/parity-small/panel_long.csv');
    expect(mapping.region).toBe('region');
    expect(mapping.week).toBe('week');
    expect(mapping.target).toBe('visits');
    expect(mapping.controls).toEqual(['control_1', 'control_2', 'control_3']);
    expect(mapping.media).toHaveLength(5);
    expect(mapping.ignored).toEqual(['region_idx', 'week_monday']);
    expect(panel.regions[9]).toBe('Region_10');
    expect(panel.weeks).toHaveLength(52);
  });
});

describe('parseCsvPanel: errors name the line, column or region', () => {
  const bad =
    (rows: (string | number)[][], roles = {}) =>
    () =>
      parseCsvPanel(csv(rows), roles);

  test('a named column that is not in the header lists the available columns', () => {
    expect(
      bad([HEADER, [1, 0, 1, 1, 0, 1]], { media: ['impressions_tv', 'impressions_print'] }),
    ).toThrow(
      /column 'impressions_print' is not in the CSV header \(given as media: \['impressions_print'\]\); columns: 'dmacode', 'weekid'/,
    );
    expect(bad([HEADER, [1, 0, 1, 1, 0, 1]], { target: 'sales' })).toThrow(
      /column 'sales' is not in the CSV header \(given as target: 'sales'\)/,
    );
  });

  test('a non-numeric cell names its line and column', () => {
    expect(bad([HEADER, [1, 0, 1, 1, 0, 1], [1, 1, 1, 'abc', 0, 1]])).toThrow(
      /CSV line 3, column 'impressions_radio': 'abc' is not a number/,
    );
  });

  test('empty and non-finite cells', () => {
    expect(bad([HEADER, [1, 0, 1, 1, '', 1]])).toThrow(
      /line 2, column 'control_price': empty cell/,
    );
    expect(bad([HEADER, [1, 0, 1, 1, 0, 'Infinity']])).toThrow(
      /'target_visits': 'Infinity' is not finite/,
    );
    expect(bad([HEADER, [1, 0, 1, 1, 'NaN', 1]])).toThrow(/'control_price': 'NaN' is not finite/);
  });

  test('negative media', () => {
    expect(bad([HEADER, [1, 0, -3, 1, 0, 1]])).toThrow(
      /line 2, media column 'impressions_tv': negative/,
    );
  });

  test('duplicate (region, week) rows', () => {
    expect(bad([HEADER, [7, 0, 1, 1, 0, 1], [7, 1, 1, 1, 0, 1], [7, 0, 2, 2, 0, 2]])).toThrow(
      /duplicate row for region '7', week 0: CSV lines 2 and 4/,
    );
  });

  test('a row with the wrong number of fields', () => {
    expect(() => parseCsvPanel(`${HEADER.join(',')}\n1,0,1,1,0\n`)).toThrow(
      /line 2 has 5 fields, the header has 6/,
    );
  });

  test('week values must all be numbers or all ISO dates', () => {
    expect(bad([HEADER, [1, 0, 1, 1, 0, 1], [1, 'week 2', 1, 1, 0, 1]])).toThrow(
      /line 3, week column 'weekid': 'week 2' is not a week number/,
    );
    expect(
      bad([
        ['geo', 'date', 'spend_a', 'y'],
        ['x', '2024-01-08', 1, 2],
        ['x', '2024-13-45', 1, 2],
      ]),
    ).toThrow(/line 3, week column 'date': '2024-13-45' is not an ISO date/);
  });

  test('missing roles: one message naming every option that settles them', () => {
    expect(
      bad([
        ['geo', 'weekid', 'impressions_a', 'other'],
        [1, 0, 1, 1],
      ]),
    ).toThrow(/cannot tell this file's layout: no KPI column; pass target: '<column>'; columns: /);
    expect(
      bad([
        ['geo', 'weekid', 'tv', 'y'],
        [1, 0, 1, 1],
      ]),
    ).toThrow(
      /no media columns \(none named impressions_\*.*\); pass media: \[.*\] or mediaPrefix: /,
    );
    expect(
      bad([
        ['when', 'tv', 'amount'],
        [1, 0, 1],
      ]),
    ).toThrow(
      /no week column; no KPI column; no media columns .*; pass week: '<column>' target: '<column>' media: /,
    );
    expect(bad([HEADER, [1, 0, 1, 1, 0, 1]], { mediaPrefix: 'grp_' })).toThrow(
      /no media column starts with 'grp_'/,
    );
    expect(bad([HEADER, [1, 0, 1, 1, 0, 1]], { controlPrefix: 'ctl_' })).toThrow(
      /no control column starts with 'ctl_'/,
    );
  });

  test('two KPI columns: the message names each choice', () => {
    expect(
      bad([
        ['week', 'sales', 'revenue', 'media_tv'],
        [1, 5, 6, 1],
      ]),
    ).toThrow(/2 KPI columns \('sales', 'revenue'\); pass target: 'sales' or target: 'revenue'/);
  });

  test('no region column and repeated weeks: the region must be named', () => {
    expect(
      bad([
        ['city', 'week', 'sales', 'media_tv'],
        ['a', 1, 5, 1],
        ['b', 1, 6, 1],
      ]),
    ).toThrow(/no region column, and the week values repeat; pass region: '<column>'/);
  });

  test('one column, two roles', () => {
    expect(
      bad([HEADER, [1, 0, 1, 1, 0, 1]], {
        media: ['impressions_tv'],
        controls: ['impressions_tv'],
      }),
    ).toThrow(/column 'impressions_tv' is given two roles: media and control/);
    expect(
      bad([HEADER, [1, 0, 1, 1, 0, 1]], { media: ['impressions_tv', 'impressions_tv'] }),
    ).toThrow(/column 'impressions_tv' is listed twice as media/);
  });

  test('a control given by name wins over detected media', () => {
    const { mapping } = parseCsvPanel(csv([HEADER, [1, 0, 1, 1, 0, 1]]), {
      controls: ['impressions_tv'],
    });
    expect(mapping.media).toEqual(['impressions_radio']);
    expect(mapping.controls).toEqual(['impressions_tv']);
  });

  test('library errors are LayoutErrors that render with CLI flags', () => {
    let err: unknown;
    try {
      parseCsvPanel(
        csv([
          ['when', 'y', 'tv'],
          [1, 2, 3],
        ]),
        { target: 'y' },
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LayoutError);
    const cli = (err as LayoutError).render(cliFlags);
    expect(cli).toMatch(
      /^cannot tell this file's layout: no week column; no media columns .*; pass --week <column> --media <col1,col2,…> or --media-prefix <prefix>; columns: 'when', 'y', 'tv'$/,
    );
    expect(cli).not.toContain('\n');
    expect(cliFlags({ field: 'media', value: '(unnamed column 1)' })).toBe(
      '--media "(unnamed column 1)"',
    );
    expect(cliFlags({ field: 'perCapita' })).toBe('--per-capita');
  });

  test('no header / no data rows / empty region', () => {
    expect(() => parseCsvPanel('')).toThrow(/no header/);
    expect(() => parseCsvPanel(`${HEADER.join(',')}\n`)).toThrow(/no data rows/);
    expect(bad([HEADER, ['', 0, 1, 1, 0, 1]])).toThrow(/line 2: empty region cell/);
  });

  test('an unreadable file is a DataError', () => {
    expect(() => loadCsvPanel('/nonexistent/x.csv')).toThrow(DataError);
  });

  test('every error is a DataError', () => {
    expect(bad([HEADER, [1, 0, 'x', 1, 0, 1]])).toThrow(DataError);
    expect(
      bad(
        [
          ['week', 'y', 'media_a'],
          [1, 2, 3],
        ],
        { target: 'sales' },
      ),
    ).toThrow(DataError);
  });
});
