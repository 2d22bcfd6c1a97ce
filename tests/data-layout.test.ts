/**
 * Layout detection on the small fixture files (tests/fixtures/, written by
 * scripts/make-fixtures.ts): each of the four layouts is read with no roles given, the edge cases
 * (one region, weeks missing everywhere, no controls, text controls, revenue KPI, per capita)
 * load as described, and the week axis keeps gaps from week numbers, year-weeks and dates.
 */
import { readFileSync } from 'node:fs';
import { loadCsvPanel } from '../src/data/csv-file.js';
import { describeMapping, parseCsvPanel, SINGLE_REGION } from '../src/data/csv.js';
import { columnFacts, detectLayout } from '../src/data/layout.js';
import { isoWeeksIn, weekAxis } from '../src/data/weeks.js';
import { cliFlags } from '../src/cli/flags.js';

const fixture = (name: string) => `tests/fixtures/${name}.csv`;
const csv = (rows: (string | number)[][]) => rows.map((r) => r.join(',')).join('\n') + '\n';

describe('the four layouts, no roles given', () => {
  test('upstream: dmacode, weekid, impressions_*, control_*, target_visits', () => {
    const { panel, mapping } = loadCsvPanel(fixture('upstream'));
    expect(mapping).toMatchObject({
      layout: 'upstream',
      region: 'dmacode',
      week: 'weekid',
      target: 'target_visits',
      media: ['impressions_tv', 'impressions_search', 'impressions_social'],
      controls: ['control_01', 'control_02'],
      costPerImpression: null,
      ignored: [],
    });
    expect(panel.regions).toEqual(['501', '502', '503']);
    expect(panel.weeks).toHaveLength(60);
  });

  test('Meridian-style: impressions priced by their spend columns, Promo and Organic_* as controls', () => {
    const { panel, mapping } = loadCsvPanel(fixture('meridian'));
    expect(mapping).toMatchObject({
      layout: 'meridian',
      region: 'geo',
      week: 'time',
      weekKind: 'date',
      target: 'conversions',
      media: ['Channel0_impression', 'Channel1_impression', 'Channel2_impression'],
      spendOf: {
        Channel0_impression: 'Channel0_spend',
        Channel1_impression: 'Channel1_spend',
        Channel2_impression: 'Channel2_spend',
      },
      controls: [
        'competitor_sales_control',
        'sentiment_score_control',
        'Promo',
        'Organic_channel0_impression',
      ],
      ignored: ['(unnamed column 1)', 'revenue_per_conversion', 'population'],
    });
    expect(panel.channels).toEqual(mapping.media);
    // cost per impression = total spend / total impressions: the fixture prices at ~0.012, 0.004, 0.02
    const cost = mapping.costPerImpression!;
    expect(cost.Channel0_impression).toBeCloseTo(0.012, 3);
    expect(cost.Channel1_impression).toBeCloseTo(0.004, 3);
    expect(cost.Channel2_impression).toBeCloseTo(0.02, 3);
    const text = describeMapping(mapping, cliFlags);
    expect(text).toMatch(/^\(unnamed column 1\) +ignored \(no name: an index\?\)$/m);
    expect(text).toMatch(/^Channel0_spend +spend of Channel0_impression$/m);
    expect(text).toMatch(/^revenue_per_conversion +ignored .* --kpi revenue\)$/m);
    expect(text).toMatch(/^population +ignored .* --per-capita\)$/m);
    expect(text).toContain('curves and budgets are in money');
  });

  test('Robyn-style: one national series, *_S spend media, facebook_I priced by facebook_S', () => {
    const { panel, mapping } = loadCsvPanel(fixture('robyn'));
    expect(mapping).toMatchObject({
      layout: 'robyn',
      region: null,
      week: 'DATE',
      target: 'revenue',
      media: ['tv_S', 'ooh_S', 'print_S', 'facebook_I', 'search_S'],
      spendMedia: ['tv_S', 'ooh_S', 'print_S', 'search_S'],
      spendOf: { facebook_I: 'facebook_S' },
      controls: ['competitor_sales_B'],
      ignored: ['search_clicks_P', 'events', 'newsletter'],
    });
    expect(panel.regions).toEqual([SINGLE_REGION]);
    expect(mapping.costPerImpression).toMatchObject({ tv_S: 1, search_S: 1 });
    expect(mapping.costPerImpression!.facebook_I).toBeCloseTo(0.007, 4);
    const text = describeMapping(mapping, cliFlags);
    expect(text).toContain('rows: 64: one region (no region column) × 64 weeks');
    expect(text).toMatch(/^search_clicks_P +ignored .* --media search_clicks_P\)$/m);
    expect(text).toMatch(/^events +ignored \(text; .* --controls events\)$/m);
  });

  test('plain: region, date, sales, media_*, control_*', () => {
    const { mapping } = loadCsvPanel(fixture('plain'));
    expect(mapping).toMatchObject({
      layout: 'plain',
      region: 'region',
      week: 'date',
      target: 'sales',
      media: ['media_tv', 'media_search'],
      controls: ['control_price'],
    });
  });

  test('an unfamiliar media prefix: region, week and KPI are still found, media named in the problem', () => {
    const text = readFileSync(fixture('imp-prefix'), 'utf8');
    const lines = text.split('\n').filter((l) => l !== '');
    const header = lines[0].split(',');
    const rows = lines.slice(1).map((l) => l.split(','));
    const layout = detectLayout(header, columnFacts(header, rows));
    expect(layout).toMatchObject({ region: 'geo', week: 'week', target: 'sales', media: [] });
    expect(layout.controls).toEqual(['control_price']);
    expect(layout.problems.map((p) => p.what)).toEqual([
      expect.stringMatching(/^no media columns/),
    ]);
    const { mapping } = parseCsvPanel(text, { mediaPrefix: 'imp_' });
    expect(mapping.media).toEqual(['imp_tv', 'imp_search', 'imp_social']);
  });
});

describe('roles given by the caller', () => {
  test('a prefix that takes impressions and spend pairs them instead of taking both as media', () => {
    const { mapping } = loadCsvPanel(fixture('meridian'), { mediaPrefix: 'Channel' });
    expect(mapping.media).toEqual([
      'Channel0_impression',
      'Channel1_impression',
      'Channel2_impression',
    ]);
    expect(Object.values(mapping.spendOf)).toEqual([
      'Channel0_spend',
      'Channel1_spend',
      'Channel2_spend',
    ]);
  });

  test('kpi revenue: conversions × revenue_per_conversion; per capita: KPI and media per head', () => {
    const plain = loadCsvPanel(fixture('meridian'));
    const revenue = loadCsvPanel(fixture('meridian'), { kpi: 'revenue' });
    const perHead = loadCsvPanel(fixture('meridian'), { perCapita: true });
    expect(revenue.mapping.targetTimes).toBe('revenue_per_conversion');
    const rows = readFileSync(fixture('meridian'), 'utf8').split('\n');
    const first = rows[1].split(',');
    const conversions = Number(first[13]);
    const perConversion = Number(first[14]);
    const population = Number(first[15]);
    expect(plain.panel.target[0]).toBeCloseTo(conversions, 6);
    expect(revenue.panel.target[0]).toBeCloseTo(conversions * perConversion, 6);
    expect(perHead.mapping.population).toBe('population');
    expect(perHead.panel.target[0]).toBeCloseTo(conversions / population, 12);
    expect(perHead.panel.media[1]).toBeCloseTo(plain.panel.media[1] / population, 12);
    // per capita leaves the cost per impression as it was
    expect(perHead.mapping.costPerImpression!.Channel1_impression).toBe(
      plain.mapping.costPerImpression!.Channel1_impression,
    );
  });

  test('a text control becomes 0/1 controls, one per value but the most common', () => {
    const { panel, mapping } = loadCsvPanel(fixture('robyn'), {
      controls: ['competitor_sales_B', 'events'],
    });
    expect(mapping.textControls).toEqual(['events']);
    expect(panel.controlNames).toEqual(['competitor_sales_B', 'events=event1', 'events=event2']);
    const events = readFileSync(fixture('robyn'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[10]);
    const K = 3;
    events.forEach((e, w) => {
      expect(panel.controls[w * K + 1]).toBe(e === 'event1' ? 1 : 0);
      expect(panel.controls[w * K + 2]).toBe(e === 'event2' ? 1 : 0);
    });
  });
});

describe('edge cases', () => {
  test('one region: a region column with one value', () => {
    const { panel, mapping } = loadCsvPanel(fixture('one-region'));
    expect(panel.regions).toEqual(['US']);
    expect(describeMapping(mapping)).toContain(
      'one region (geo is the same in every row) × 60 weeks',
    );
  });

  test('region null: no region column even where one is named like it', () => {
    const { panel, mapping } = loadCsvPanel(fixture('one-region'), { region: null });
    expect(mapping.region).toBeNull();
    expect(panel.regions).toEqual([SINGLE_REGION]);
    expect(mapping.ignored).toEqual(['geo']);
  });

  test('no controls', () => {
    const { panel, mapping } = loadCsvPanel(fixture('no-controls'));
    expect(mapping.controls).toEqual([]);
    expect(panel.controlNames).toEqual([]);
    expect(panel.controls).toHaveLength(0);
  });

  test('weeks missing for every region stay on the axis as unobserved gaps', () => {
    const { panel, mapping } = loadCsvPanel(fixture('gap-weeks'));
    const W = 62;
    expect(panel.weeks).toEqual(Array.from({ length: W }, (_, w) => w));
    expect(mapping.gaps).toEqual([20, 31]);
    for (let r = 0; r < 3; r++)
      for (let w = 0; w < W; w++)
        expect(panel.observed[r * W + w]).toBe(w === 20 || w === 31 ? 0 : 1);
    expect(describeMapping(mapping)).toContain(
      '62 weeks (week numbers; 2 missing weeks kept as unobserved gaps: 20, 31)',
    );
  });

  test('gaps from ISO dates in 7-day steps', () => {
    const { panel, mapping } = parseCsvPanel(
      csv([
        ['date', 'y', 'media_a'],
        ['2024-01-01', 1, 1],
        ['2024-01-22', 1, 1],
        ['2024-01-08', 1, 1],
      ]),
    );
    expect(panel.weeks).toEqual(['2024-01-01', '2024-01-08', '2024-01-15', '2024-01-22']);
    expect(Array.from(panel.observed)).toEqual([1, 1, 0, 1]);
    expect(mapping.weekStep).toBe('dates 7 days apart');
  });
});

describe('the week axis', () => {
  test('week numbers, year-weeks across a 53-week year, and values with no weekly step', () => {
    expect(weekAxis([3, 1, 5], 'index')).toMatchObject({ weeks: [1, 2, 3, 4, 5], gaps: [2, 4] });
    expect(isoWeeksIn(2020)).toBe(53);
    expect(isoWeeksIn(2021)).toBe(52);
    expect(isoWeeksIn(2026)).toBe(53);
    const yw = weekAxis([202052, 202101, 202053, 202103], 'index');
    expect(yw.weeks).toEqual([202052, 202053, 202101, 202102, 202103]);
    expect(yw.gaps).toEqual([202102]);
    expect(yw.step).toBe('year-weeks (YYYYWW)');
    const days = weekAxis(['2024-01-01', '2024-01-03'], 'date');
    expect(days.gaps).toEqual([]);
    expect(days.note).toMatch(/not whole weeks apart/);
    const sparse = weekAxis([1, 100, 200], 'index');
    expect(sparse.weeks).toEqual([1, 100, 200]);
    expect(sparse.note).toMatch(/more gaps than weeks/);
    expect(weekAxis([0.5, 1.5], 'index').note).toMatch(/not whole numbers/);
  });
});
