/**
 * Writes the small CSV files in tests/fixtures/: one per column layout the loader detects
 * (upstream, Meridian-style, Robyn-style, plain) and the edge cases (one region, weeks missing for
 * every region, no controls, unfamiliar media prefixes), each from the seeded synthetic generator
 * so they are small, deterministic and fit like real data. Run again after changing this file:
 *
 *   node --import tsx scripts/make-fixtures.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import type { Panel } from '../src/data/panel.js';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'fixtures');

/** One output column: its header and its value in (region r, week w). */
type Column = [string, (r: number, w: number) => string | number];

const round = (v: number, digits = 2) => Number(v.toFixed(digits));

function write(name: string, panel: Panel, columns: Column[], skipWeeks: number[] = []): void {
  const W = panel.weeks.length;
  const lines = [columns.map(([h]) => h).join(',')];
  for (let r = 0; r < panel.regions.length; r++)
    for (let w = 0; w < W; w++) {
      if (!panel.observed[r * W + w] || skipWeeks.includes(w)) continue;
      lines.push(columns.map(([, f]) => String(f(r, w))).join(','));
    }
  writeFileSync(join(OUT, name), lines.join('\n') + '\n');
  console.log(`${name}: ${lines.length - 1} rows, ${columns.length} columns`);
}

/** Accessors into a panel: media (channel c), control k, target, the week's value. */
function cells(p: Panel) {
  const W = p.weeks.length;
  const C = p.channels.length;
  const K = p.controlNames.length;
  return {
    media: (c: number) => (r: number, w: number) => round(p.media[(r * W + w) * C + c]),
    control: (k: number) => (r: number, w: number) => round(p.controls[(r * W + w) * K + k], 4),
    target: (r: number, w: number) => round(p.target[r * W + w]),
    week: (_r: number, w: number) => p.weeks[w],
  };
}

mkdirSync(OUT, { recursive: true });

// upstream DeepCausalMMM: dmacode, weekid, impressions_*, control_*, target_visits
{
  const { panel } = generateSyntheticPanel({ regions: 3, weeks: 60, channels: 3, seed: 11 });
  const x = cells(panel);
  write('upstream.csv', panel, [
    ['dmacode', (r) => 501 + r],
    ['weekid', x.week],
    ...panel.channels.map((ch, c): Column => [`impressions_${ch}`, x.media(c)]),
    ['target_visits', x.target],
    ['control_01', x.control(0)],
    ['control_02', x.control(1)],
  ]);
}

// Meridian-style: an unnamed index, geo, time, ChannelN_impression with ChannelN_spend, controls
// by suffix, Promo, an organic channel, conversions with revenue per conversion, population
{
  const { panel } = generateSyntheticPanel({
    regions: 3,
    weeks: 60,
    channels: 4,
    seed: 12,
    startDate: '2021-01-04',
  });
  const x = cells(panel);
  const cost = [0.012, 0.004, 0.02];
  let index = 0;
  write('meridian.csv', panel, [
    ['', () => index++],
    ['geo', (r) => `Geo${r}`],
    ['time', x.week],
    ...[0, 1, 2].map((c): Column => [`Channel${c}_impression`, x.media(c)]),
    ...[0, 1, 2].map((c): Column => [
      `Channel${c}_spend`,
      (r, w) => round(x.media(c)(r, w) * cost[c] * (1 + 0.05 * Math.sin(w + c))),
    ]),
    ['competitor_sales_control', x.control(0)],
    ['sentiment_score_control', x.control(1)],
    ['Promo', x.control(2)],
    ['Organic_channel0_impression', x.media(3)],
    ['conversions', x.target],
    ['revenue_per_conversion', (_r, w) => round(2 + 0.1 * Math.cos(w / 8), 3)],
    ['population', (r) => [120_000, 80_000, 45_000][r]],
  ]);
}

// Robyn-style: one national series, DATE, revenue, *_S spend, facebook_I with facebook_S, a *_P
// metric, competitor_sales_B, a text column and an unrecognised one
{
  const { panel } = generateSyntheticPanel({
    regions: 1,
    weeks: 64,
    channels: 5,
    seed: 13,
    startDate: '2019-11-25',
  });
  const x = cells(panel);
  const events = (w: number) => (w % 17 === 5 ? 'event1' : w % 23 === 9 ? 'event2' : 'na');
  write('robyn.csv', panel, [
    ['DATE', x.week],
    ['revenue', x.target],
    ['tv_S', x.media(0)],
    ['ooh_S', x.media(1)],
    ['print_S', x.media(2)],
    ['facebook_I', x.media(3)],
    ['search_clicks_P', (r, w) => round(x.media(4)(r, w) * 0.8)],
    ['search_S', x.media(4)],
    ['competitor_sales_B', x.control(0)],
    ['facebook_S', (r, w) => round(x.media(3)(r, w) * 0.007)],
    ['events', (_r, w) => events(w)],
    ['newsletter', (_r, w) => (w * 37) % 11],
  ]);
}

// plain: region, date, sales, media_*, control_*
{
  const { panel } = generateSyntheticPanel({
    regions: 2,
    weeks: 60,
    channels: 2,
    seed: 14,
    startDate: '2022-01-03',
  });
  const x = cells(panel);
  write('plain.csv', panel, [
    ['region', (r) => ['north', 'south'][r]],
    ['date', x.week],
    ['sales', x.target],
    ['media_tv', x.media(0)],
    ['media_search', x.media(1)],
    ['control_price', x.control(0)],
  ]);
}

// one region in a region column that never changes
{
  const { panel } = generateSyntheticPanel({ regions: 1, weeks: 60, channels: 2, seed: 15 });
  const x = cells(panel);
  write('one-region.csv', panel, [
    ['geo', () => 'US'],
    ['week', x.week],
    ['sales', x.target],
    ['spend_tv', x.media(0)],
    ['spend_search', x.media(1)],
    ['control_price', x.control(0)],
  ]);
}

// weeks 20 and 31 missing for every region (week numbers)
{
  const { panel } = generateSyntheticPanel({ regions: 3, weeks: 62, channels: 3, seed: 16 });
  const x = cells(panel);
  write(
    'gap-weeks.csv',
    panel,
    [
      ['region', (r) => `R${r + 1}`],
      ['week', x.week],
      ['target', x.target],
      ...panel.channels.map((ch, c): Column => [`impressions_${ch}`, x.media(c)]),
      ['control_price', x.control(0)],
    ],
    [20, 31],
  );
}

// no control columns
{
  const { panel } = generateSyntheticPanel({ regions: 3, weeks: 60, channels: 3, seed: 17 });
  const x = cells(panel);
  write('no-controls.csv', panel, [
    ['region', (r) => `R${r + 1}`],
    ['week', x.week],
    ['target', x.target],
    ...panel.channels.map((ch, c): Column => [`impressions_${ch}`, x.media(c)]),
  ]);
}

// media under a prefix the detector does not know (the browser test names it by hand)
{
  const { panel } = generateSyntheticPanel({
    regions: 4,
    weeks: 60,
    channels: 3,
    seed: 18,
    startDate: '2023-01-02',
  });
  const x = cells(panel);
  write('imp-prefix.csv', panel, [
    ['geo', (r) => `G${r + 1}`],
    ['week', x.week],
    ['sales', x.target],
    ...panel.channels.map((ch, c): Column => [`imp_${ch}`, x.media(c)]),
    ['control_price', x.control(0)],
  ]);
}
