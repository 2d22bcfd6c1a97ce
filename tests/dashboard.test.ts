import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import vm from 'node:vm';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vega from 'vega';
import type { ChannelEffectRow, DashboardData, LiftTestRow } from '../src/dashboard/data.js';
import { buildDashboardData } from '../src/analysis/dashboard-data.js';
import type { ChannelEffects } from '../src/analysis/channel-effects.js';
import type { EvaluationReport } from '../src/analysis/metrics.js';
import type { Decomposition, FittedMMM } from '../src/model/fitted.js';
import { DataError } from '../src/data/errors.js';
import {
  CHANNEL_PALETTE,
  buildChartSpecs,
  compileChart,
  renderDashboardHtml,
  validateDashboardData,
} from '../src/dashboard/index.js';
import { loadVegaRuntime, renderChartSvg, writeDashboard } from '../src/dashboard/svg.js';
import { prepare, weekAxis } from '../src/dashboard/charts/common.js';
import { donutRows, waterfallRows } from '../src/dashboard/charts/contributions.js';
import { boxStats } from '../src/dashboard/charts/coefficients.js';
import { dagEdges } from '../src/dashboard/charts/dag.js';
import { r2Of } from '../src/dashboard/charts/fit.js';
import { hillCurve } from '../src/dashboard/charts/response.js';
import { MEDIATED_LABEL, effectShareRows } from '../src/dashboard/charts/effects.js';
import {
  AFTER_LABEL,
  BEFORE_LABEL,
  MEASURED_LABEL,
  liftTestLabels,
} from '../src/dashboard/charts/lift-tests.js';

/** Deterministic uniform [0,1) stream (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A small consistent synthetic result: 4 regions × 30 weeks × 3 channels × 2 controls. */
function makeData(): DashboardData {
  const R = 4;
  const W = 30;
  const C = 3;
  const K = 2;
  const rand = rng(7);
  const mediaInputs = new Float64Array(R * W * C);
  const mediaShares = new Float64Array(R * W * C);
  const mediaCoeffs = new Float64Array(R * W * C);
  const mediaContrib = new Float64Array(R * W * C);
  const controlInputs = new Float64Array(R * W * K);
  const controlContrib = new Float64Array(R * W * K);
  const baseline = new Float64Array(R * W);
  const seasonal = new Float64Array(R * W);
  const predicted = new Float64Array(R * W);
  const actual = new Float64Array(R * W);
  const observed = new Uint8Array(R * W).fill(1);
  for (let r = 0; r < R; r++) {
    for (let w = 0; w < W; w++) {
      const i = r * W + w;
      let total = 0;
      for (let c = 0; c < C; c++) {
        mediaInputs[i * C + c] =
          1000 * (c + 1) * (1 + 0.5 * Math.sin(w / 4 + c)) * (0.8 + 0.4 * rand());
      }
      const sumIn = mediaInputs.slice(i * C, i * C + C).reduce((a, b) => a + b, 0);
      for (let c = 0; c < C; c++) {
        const j = i * C + c;
        mediaShares[j] = mediaInputs[j] / sumIn;
        mediaCoeffs[j] = 0.3 + 0.2 * c + 0.05 * rand();
        mediaContrib[j] = 200 * mediaCoeffs[j] * mediaShares[j];
        total += mediaContrib[j];
      }
      for (let k = 0; k < K; k++) {
        controlInputs[i * K + k] = rand() - 0.5;
        // the second control pulls the KPI down
        controlContrib[i * K + k] = (k === 0 ? 20 : -15) * (0.5 + controlInputs[i * K + k]);
        total += controlContrib[i * K + k];
      }
      baseline[i] = 400 + 50 * r;
      seasonal[i] = 30 * Math.sin((2 * Math.PI * w) / 13);
      total += baseline[i] + seasonal[i];
      predicted[i] = total;
      actual[i] = total + 20 * (rand() - 0.5);
    }
  }
  observed[1 * W + 5] = 0; // a missing region-week in train
  actual[1 * W + 5] = NaN;
  observed[2 * W + 27] = 0; // and one in holdout
  const channels = ['TV', 'Search', 'Social'];
  return {
    title: 'Synthetic dashboard',
    adapterName: 'cpu (test)',
    kpiName: 'visits',
    weeks: Array.from({ length: W }, (_, w) => w + 1),
    wTrain: 24,
    regions: ['North', 'South', 'East', 'West'],
    channels,
    controlNames: ['Price', 'Competitor'],
    actual,
    predicted,
    observed,
    mediaContrib,
    controlContrib,
    baseline,
    seasonal,
    mediaCoeffs,
    mediaInputs,
    mediaShares,
    controlInputs,
    dag: {
      adjacency: [
        [0, 0.8, 0.1],
        [0, 0, 0.45],
        [0.35, 0, 0],
      ],
      threshold: 0.3,
    },
    metrics: {
      train: { r2: 0.93, rmse: 5.8, mae: 4.9 },
      holdout: { r2: 0.88, rmse: 6.4, mae: 5.3 },
    },
    responseCurves: channels.map((channel, c) => ({
      channel,
      top: 400 * (c + 1),
      bottom: 0,
      saturation: 3000 * (c + 1),
      slope: 1.5,
      r2: 0.9 - 0.1 * c,
      points: Array.from({ length: W }, (_, w) => {
        const x = 4000 * (c + 1) * (0.5 + 0.5 * Math.sin(w / 4 + c) + 0.5);
        return { x, y: (400 * (c + 1) * x ** 1.5) / ((3000 * (c + 1)) ** 1.5 + x ** 1.5) + 5 };
      }),
    })),
    budget: channels.map((channel, c) => ({
      channel,
      current: 10000 * (c + 1),
      optimal: 10000 * (3 - c),
      currentResponse: 500 * (c + 1),
      optimalResponse: 600 * (3 - c),
    })),
  };
}

type Warning = NonNullable<DashboardData['warnings']>[number];

/**
 * Total effects for makeData's channels: TV works directly, Search both ways and Social only
 * through other channels (no direct effect at all). `first` overrides fields of TV's row.
 */
function effects(first: Partial<ChannelEffectRow> = {}): ChannelEffectRow[] {
  const rows: ChannelEffectRow[] = [
    { channel: 'TV', direct: 300, mediated: 0, total: 300, shareOfMedia: 0.5, roas: 0.03 },
    { channel: 'Search', direct: 150, mediated: 30, total: 180, shareOfMedia: 0.3, roas: 0.009 },
    { channel: 'Social', direct: 0, mediated: 120, total: 120, shareOfMedia: 0.2, roas: 0.04 },
  ];
  rows[0] = { ...rows[0], ...first };
  return rows;
}

/**
 * Two lift tests on makeData's channels: TV in two regions (the model overshot before calibration
 * and is within one se after), Social everywhere with 2 post weeks. `first` overrides TV's test.
 */
function liftTests(first: Partial<LiftTestRow> = {}): LiftTestRow[] {
  const rows: LiftTestRow[] = [
    {
      channel: 'TV',
      regions: ['North', 'East'],
      startWeek: 10,
      endWeek: 13,
      postWeeks: 0,
      measured: 1200,
      se: 240,
      before: 2100,
      after: 1320,
      zBefore: 3.75,
      zAfter: 0.5,
    },
    {
      channel: 'Social',
      regions: ['all'],
      startWeek: 15,
      endWeek: 18,
      postWeeks: 2,
      measured: 300,
      se: 100,
      before: 80,
      after: 260,
      zBefore: -2.2,
      zAfter: -0.4,
    },
  ];
  rows[0] = { ...rows[0], ...first };
  return rows;
}

const ALL_IDS = [
  'performance',
  'actual-vs-predicted',
  'holdout-scatter',
  'channel-contributions',
  'contribution-donut',
  'waterfall',
  'coefficients',
  'dag-network',
  'dag-heatmap',
  'stacked-contributions',
  'channel-detail',
  'media-shares',
  'controls',
  'response-curves',
  'budget-allocation',
  'region-r2',
];

/** Items per mark type in a rendered headless view (the scenegraph, not the SVG text). */
async function markItems(spec: vega.Spec): Promise<Map<string, number>> {
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  await view.runAsync();
  const counts = new Map<string, number>();
  interface SceneNode {
    marktype?: string;
    role?: string;
    items?: SceneNode[];
  }
  const walk = (node: SceneNode) => {
    for (const item of node.items ?? []) {
      if (node.marktype && node.marktype !== 'group' && node.role === 'mark')
        counts.set(node.marktype, (counts.get(node.marktype) ?? 0) + 1);
      walk(item);
    }
  };
  walk((view.scenegraph() as unknown as { root: SceneNode }).root);
  view.finalize();
  return counts;
}

const total = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);
type Row = Record<string, unknown>;
const dataOf = (spec: unknown) => (spec as { data: { values: Row[] } }).data.values;

describe('dashboard chart specs', () => {
  const data = makeData();
  const charts = buildChartSpecs(data);

  test('all 16 charts are built, in order, with unique ids', () => {
    expect(charts.map((c) => c.id)).toEqual(ALL_IDS);
  });

  test.each(ALL_IDS)('%s compiles with vega-lite and renders to SVG in Node', async (id) => {
    const chart = charts.find((c) => c.id === id)!;
    const vg = compileChart(chart.spec);
    expect(vg.$schema).toBeUndefined();
    const items = await markItems(vg);
    const drawn = [...items.entries()].filter(([t]) => t !== 'text');
    expect(drawn.length).toBeGreaterThan(0);
    expect(drawn.reduce((s, [, n]) => s + n, 0)).toBeGreaterThan(0);
    const svg = await renderChartSvg(chart.spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect((svg.match(/<(path|line|rect)\b/g) ?? []).length).toBeGreaterThan(0);
    expect(svg).toContain(chart.title.replace(/&/g, '&amp;'));
    // every chart carries tooltips
    expect(JSON.stringify(vg)).toContain('"tooltip"');
  });

  test('bar and rule counts follow the data', async () => {
    const spec = (id: string) => compileChart(charts.find((c) => c.id === id)!.spec);
    expect((await markItems(spec('channel-contributions'))).get('rect')).toBe(3);
    // baseline, seasonality, 2 controls, 3 channels, total
    expect((await markItems(spec('waterfall'))).get('rect')).toBe(8);
    const edges = dagEdges(prepare(data));
    expect(edges.map((e) => `${e.from}>${e.to}`)).toEqual([
      'TV>Search',
      'Search>Social',
      'Social>TV',
    ]);
    const net = await markItems(spec('dag-network'));
    expect(net.get('rule')).toBe(3);
    expect(net.get('symbol')).toBe(3 + 3); // arrow heads + nodes
    expect((await markItems(spec('dag-heatmap'))).get('rect')).toBe(9);
    expect((await markItems(spec('contribution-donut'))).get('arc')).toBe(3 + 3);
  });

  test('the holdout scatter holds every observed holdout region-week', () => {
    const spec = charts.find((c) => c.id === 'holdout-scatter')!.spec as unknown as {
      layer: { data: { values: Row[] } }[];
    };
    const rows = spec.layer[1].data.values;
    expect(rows).toHaveLength(4 * 6 - 1);
    expect(rows.find((r) => r.region === 'East' && r.weekLabel === '28')).toBeUndefined();
    const south = rows.find((r) => r.region === 'South' && r.weekLabel === '25')!;
    expect(south.actual).toBeCloseTo(data.actual[1 * 30 + 24], 2);
  });

  test('the national actual series sums observed regions only', () => {
    const spec = charts.find((c) => c.id === 'actual-vs-predicted')!.spec as unknown as {
      layer: { data: { values: Row[] } }[];
    };
    const rows = spec.layer[0].data.values;
    const at = (week: number, series: string) =>
      rows.find((r) => r.week === week && r.series === series)!.value as number;
    const w = 5; // week 6: South is missing
    let a = 0;
    let f = 0;
    for (const r of [0, 2, 3]) {
      a += data.actual[r * 30 + w];
      f += data.predicted[r * 30 + w];
    }
    expect(at(6, 'Actual')).toBeCloseTo(a, 2);
    expect(at(6, 'Predicted')).toBeCloseTo(f, 2);
    expect(rows.find((r) => r.week === 6)!.regions).toBe(3);
  });

  test("the waterfall's total equals the sum of every component", () => {
    const rows = waterfallRows(prepare(data));
    const expected =
      total(data.baseline) +
      total(data.seasonal) +
      total(data.controlContrib) +
      total(data.mediaContrib);
    const last = rows[rows.length - 1];
    expect(last.label).toBe('Total');
    expect(last.start).toBe(0);
    expect(last.end).toBeCloseTo(expected, 6);
    expect(rows.map((r) => r.label)).toEqual([
      'Baseline',
      'Seasonality',
      'Price',
      'Competitor',
      'TV',
      'Search',
      'Social',
      'Total',
    ]);
    // each step starts where the previous one ended
    for (let i = 1; i < rows.length - 1; i++) expect(rows[i].start).toBe(rows[i - 1].end);
    expect(rows.find((r) => r.label === 'Competitor')!.kind).toBe('Decrease');
    // the embedded (rounded to 6 significant digits) final bar
    const embedded = dataOf(charts.find((c) => c.id === 'waterfall')!.spec);
    const end = embedded[embedded.length - 1].end as number;
    expect(Math.abs(end - expected) / expected).toBeLessThan(1e-5);
  });

  test("the donut's shares sum to 1 and match the totals", () => {
    const rows = donutRows(prepare(data));
    expect(rows.map((r) => r.component)).toEqual([
      'TV',
      'Search',
      'Social',
      'Baseline',
      'Seasonality',
      'Controls',
    ]);
    expect(rows.reduce((s, r) => s + r.share, 0)).toBeCloseTo(1, 12);
    expect(rows[3].value).toBeCloseTo(total(data.baseline), 6);
    expect(rows[5].value).toBeCloseTo(total(data.controlContrib), 6);
    const abs = rows.reduce((s, r) => s + Math.abs(r.value), 0);
    expect(rows[0].share).toBeCloseTo(
      total(Array.from(data.mediaContrib).filter((_, i) => i % 3 === 0)) / abs,
      12,
    );
    const embedded = dataOf(charts.find((c) => c.id === 'contribution-donut')!.spec);
    expect(embedded.reduce((s, r) => s + (r.share as number), 0)).toBeCloseTo(1, 12);
  });

  test('each channel keeps one colour in every chart', () => {
    const seen: string[][] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (Array.isArray(o.domain) && Array.isArray(o.range) && o.domain[0] === 'TV')
          seen.push((o.range as string[]).slice(0, 3));
        Object.values(o).forEach(walk);
      }
    };
    charts.forEach((c) => walk(c.spec));
    expect(seen.length).toBeGreaterThanOrEqual(10);
    for (const range of seen) expect(range).toEqual(CHANNEL_PALETTE.slice(0, 3));
  });

  test('charts whose optional data is missing are skipped', () => {
    const d = makeData();
    delete d.mediaShares;
    delete d.controlInputs;
    delete d.responseCurves;
    delete d.budget;
    const ids = buildChartSpecs(d).map((c) => c.id);
    expect(ids).not.toContain('media-shares');
    expect(ids).not.toContain('response-curves');
    expect(ids).not.toContain('budget-allocation');
    expect(ids).toContain('controls'); // contributions alone still make the controls chart
    expect(ids).toHaveLength(ALL_IDS.length - 3);

    const noControls = { ...makeData(), controlNames: [], controlContrib: [], controlInputs: [] };
    expect(buildChartSpecs(noControls).map((c) => c.id)).not.toContain('controls');
    expect(donutRows(prepare(noControls)).map((r) => r.component)).not.toContain('Controls');

    const noHoldout = { ...makeData(), wTrain: 30 };
    const ids2 = buildChartSpecs(noHoldout).map((c) => c.id);
    expect(ids2).not.toContain('holdout-scatter');
    expect(ids2).toContain('region-r2'); // train R² per region remains
  });
});

describe('total effects, warnings and media scaling', () => {
  const withEffects = (rows = effects()): DashboardData => ({
    ...makeData(),
    channelEffects: rows,
  });
  const chart = (d: DashboardData, id: string) => buildChartSpecs(d).find((c) => c.id === id);

  test('the share chart stacks direct and mediated parts of the total effects', async () => {
    const c = chart(withEffects(), 'channel-contributions')!;
    expect(c.title).toBe('Share of media per channel (total effects)');
    const rows = dataOf(c.spec);
    const share = (ch: string, pathway?: string) =>
      rows
        .filter((r) => r.channel === ch && (pathway === undefined || r.pathway === pathway))
        .reduce((s, r) => s + (r.share as number), 0);
    // Social has no direct effect, yet gets its whole share through the other channels
    expect(share('Social')).toBeCloseTo(0.2, 12);
    expect(share('Social', MEDIATED_LABEL)).toBeCloseTo(0.2, 12);
    expect(share('TV')).toBeCloseTo(0.5, 12);
    expect(share('Search')).toBeCloseTo(0.3, 12);
    expect(rows.reduce((s, r) => s + (r.share as number), 0)).toBeCloseTo(1, 12);
    const vg = compileChart(c.spec);
    expect((await markItems(vg)).get('rect')).toBe(6); // 3 channels × (direct, mediated)
    const svg = await renderChartSvg(c.spec);
    expect(svg).toContain('Mediated (through other channels)');
  });

  test("an ensemble's intervals: a line per channel over the share and ROAS bars", async () => {
    const bounded = effects().map((e, i) => ({
      ...e,
      shareOfMediaLo: e.shareOfMedia - 0.05 * (i + 1),
      shareOfMediaHi: e.shareOfMedia + 0.05,
      roasLo: e.roas! / 2,
      roasHi: e.roas! * 2,
    }));
    for (const [id, lo, hi] of [
      ['channel-contributions', 'shareOfMediaLo', 'shareOfMediaHi'],
      ['channel-roas', 'roasLo', 'roasHi'],
    ] as const) {
      const c = chart(withEffects(bounded), id)!;
      expect(c.spec.title).toMatchObject({ subtitle: expect.stringMatching(/90 % intervals/) });
      const layers = (c.spec as { layer: { data?: { values: Record<string, unknown>[] } }[] })
        .layer;
      expect(layers).toHaveLength(2);
      const lines = layers[1].data!.values;
      expect(lines.map((r) => r.channel)).toEqual(['TV', 'Search', 'Social']);
      lines.forEach((r, i) => {
        expect(r.lo).toBeCloseTo(bounded[i][lo], 6);
        expect(r.hi).toBeCloseTo(bounded[i][hi], 6);
      });
      const marks = await markItems(compileChart(c.spec));
      expect(marks.get('rule')).toBe(3);
      expect(await renderChartSvg(c.spec)).toMatch(/^<svg/);
      // one model: no lines
      expect((chart(withEffects(), id)!.spec as { layer?: unknown }).layer).toBeUndefined();
    }
    // bounds must come in pairs, lower first
    const bad = effects({ shareOfMediaLo: 0.6, shareOfMediaHi: 0.4 });
    expect(() => buildChartSpecs(withEffects(bad))).toThrow(/shareOfMediaLo\/shareOfMediaHi/);
    const half = effects({ roasLo: 0.01 });
    expect(() => buildChartSpecs(withEffects(half))).toThrow(/roasLo\/roasHi/);
  });

  test("an ensemble's response bands: a shaded area per banded curve, checked bounds", async () => {
    const d = makeData();
    d.responseCurves = d.responseCurves!.map((c, i) => ({
      ...c,
      source: 'simulated' as const,
      points: [0, 1, 2, 3].map((k) => ({ x: 1000 * k, y: 100 * k })),
      ...(i < 2
        ? { band: [0, 1, 2, 3].map((k) => ({ x: 1000 * k, lo: 80 * k, hi: 120 * k })) }
        : {}),
    }));
    const c = chart(d, 'response-curves')!;
    expect(JSON.stringify(c.spec.title)).toContain(
      "shaded: 90 % intervals across the ensemble's members",
    );
    const band = dataOf(c.spec).filter((r) => r.kind === 'band');
    expect(band).toHaveLength(8);
    expect(band[2]).toMatchObject({ x: 2000, lo: 160, hi: 240 });
    const marks = await markItems(compileChart(c.spec));
    expect(marks.get('area')).toBeGreaterThan(0);
    // without bands: no area layer
    const plain = chart(makeData(), 'response-curves')!;
    expect((await markItems(compileChart(plain.spec))).get('area')).toBeUndefined();
    d.responseCurves![0].band![1].lo = 500;
    expect(() => buildChartSpecs(d)).toThrow(/band point \(1000, 500, 120\)/);
  });

  test('effectShareRows: parts add up to each share, a zero media total gives zeros', () => {
    const rows = effectShareRows(effects());
    expect(rows).toHaveLength(6);
    expect(rows.find((r) => r.channel === 'Search' && r.pathway === MEDIATED_LABEL)!.share).toBe(
      30 / 600,
    );
    const zero = effects().map((e) => ({ ...e, direct: 0, mediated: 0, total: 0 }));
    expect(effectShareRows(zero).every((r) => r.share === 0)).toBe(true);
  });

  test('ROAS per channel from total effects only when costs are known', async () => {
    const ids = buildChartSpecs(withEffects()).map((c) => c.id);
    expect(ids).toEqual([...ALL_IDS.slice(0, 4), 'channel-roas', ...ALL_IDS.slice(4)]);
    const c = chart(withEffects(), 'channel-roas')!;
    expect(dataOf(c.spec).map((r) => [r.channel, r.roas])).toEqual([
      ['TV', 0.03],
      ['Search', 0.009],
      ['Social', 0.04],
    ]);
    expect((await markItems(compileChart(c.spec))).get('rect')).toBe(3);
    expect(JSON.stringify(compileChart(c.spec))).toContain('"tooltip"');
    const noCosts = withEffects(effects().map((e) => ({ ...e, roas: null })));
    expect(chart(noCosts, 'channel-roas')).toBeUndefined();
    expect(chart(noCosts, 'channel-contributions')!.title).toContain('total effects');
  });

  test('without total effects the share chart is the decomposition’s, as before', () => {
    for (const d of [makeData(), withEffects([])]) {
      const c = chart(d, 'channel-contributions')!;
      expect(c.title).toBe('Contributions per channel');
      const tv = dataOf(c.spec).find((r) => r.channel === 'TV')!;
      const tvTotal = total(Array.from(d.mediaContrib).filter((_, i) => i % 3 === 0));
      expect(tv.total as number).toBeCloseTo(tvTotal, 1);
      expect(chart(d, 'channel-roas')).toBeUndefined();
    }
  });

  test('the warning box names each message and its channels; no box without warnings', async () => {
    const runtime = '';
    const d: DashboardData = {
      ...makeData(),
      warnings: [
        {
          kind: 'collinear',
          channels: ['TV', 'Search'],
          message: 'TV and Search move together (r = 0.93): their split is not identified',
        },
        { kind: 'poor-forecast', channels: [], message: 'holdout RMSE > recent mean <naive>' },
      ],
    };
    const html = renderDashboardHtml(d, { vegaRuntime: runtime });
    const box = html.match(/<section class="warnings"[^]*?<\/section>/)![0];
    expect(box).toContain('2 warnings');
    expect(box).toContain(
      '<b>TV, Search</b>: TV and Search move together (r = 0.93): their split is not identified',
    );
    expect(box).toContain('data-kind="collinear"');
    expect(box).toContain('holdout RMSE &#62; recent mean &#60;naive&#62;');
    // at the top: before the first chart
    expect(html.indexOf('class="warnings"')).toBeLessThan(html.indexOf('<section class="chart"'));
    for (const none of [makeData(), { ...makeData(), warnings: [] }])
      expect(renderDashboardHtml(none, { vegaRuntime: runtime })).not.toContain('class="warnings"');
  });

  test('the scaled-input chart is labelled by its scaling', () => {
    const label = (mediaScaling?: DashboardData['mediaScaling']) => {
      const c = chart({ ...makeData(), mediaScaling }, 'media-shares')!;
      return { title: c.title, spec: JSON.stringify(c.spec) };
    };
    const sov = label('shareOfVoice');
    expect(sov.title).toBe('Scaled media inputs (share of voice)');
    expect(sov.spec).toContain('Mean over regions: share of voice');
    const mean = label('regionMean');
    expect(mean.title).toBe('Scaled media inputs (x / 4·region mean)');
    expect(mean.spec).toContain('Mean over regions: x / 4·region mean');
    expect(mean.spec).toContain('Model input per channel: scaled input (x / 4·region mean)');
    expect(mean.spec.toLowerCase()).not.toContain('share of voice');
    // unknown scaling (older data): not called a share of voice either
    const unknown = label(undefined);
    expect(unknown.title).toBe('Scaled media inputs');
    expect(unknown.spec.toLowerCase()).not.toContain('share of voice');
  });

  test('buildDashboardData passes warnings, total effects and the scaling through', async () => {
    const d = await buildDashboardData(...tinyFit('regionMean'));
    expect(validateDashboardData(d)).toEqual({ R: 1, W: 2, C: 2, K: 0 });
    expect(d.mediaScaling).toBe('regionMean');
    expect(d.mediaUnit).toBe('scaled input (x / 4·region mean)'); // no raw media given
    expect(d.warnings).toEqual([
      { kind: 'collinear', channels: ['A', 'B'], message: 'A and B move together' },
    ]);
    expect(d.channelEffects).toEqual([
      { channel: 'A', direct: 5, mediated: 0, total: 5, shareOfMedia: 0.5, roas: null },
      { channel: 'B', direct: 0, mediated: 5, total: 5, shareOfMedia: 0.5, roas: null },
    ]);
    expect(buildChartSpecs(d).map((c) => c.id)).toContain('channel-contributions');

    // a model file from before the scaling was a choice: share of voice
    const old = await buildDashboardData(...tinyFit(undefined));
    expect(old.mediaScaling).toBe('shareOfVoice');
    expect(old.mediaUnit).toBe('share of voice');
    expect(old.warnings).toBeUndefined();
    expect(old.channelEffects).toBeUndefined();
  });
});

describe('lift-test calibration', () => {
  const withTests = (tests = liftTests()): DashboardData => ({ ...makeData(), liftTests: tests });
  const liftChart = (d: DashboardData) => buildChartSpecs(d).find((c) => c.id === 'lift-tests');
  const TV = 'TV · weeks 10–13 · 2 regions';
  const SOCIAL = 'Social · weeks 15–18 (+2 post) · all regions';

  test('the chart comes after the share chart only when there are tests', () => {
    expect(buildChartSpecs(withTests()).map((c) => c.id)).toEqual([
      ...ALL_IDS.slice(0, 4),
      'lift-tests',
      ...ALL_IDS.slice(4),
    ]);
    expect(liftChart(makeData())).toBeUndefined();
    expect(liftChart(withTests([]))).toBeUndefined();
  });

  test('one row per test: measured with its 90 % interval, the model before and after', () => {
    const c = liftChart(withTests())!;
    expect(c.title).toBe('Lift tests: measured vs model');
    const rows = dataOf(c.spec);
    expect(rows).toHaveLength(6);
    const at = (test: string, series: string) =>
      rows.find((r) => r.test === test && r.series === series)!;
    const measured = at(TV, MEASURED_LABEL);
    expect(measured.value).toBe(1200);
    expect(measured.se).toBe(240);
    expect(measured.lo as number).toBeCloseTo(1200 - 1.645 * 240, 9);
    expect(measured.hi as number).toBeCloseTo(1200 + 1.645 * 240, 9);
    expect(measured.z).toBeNull();
    expect(measured.regions).toBe('North, East');
    expect(at(TV, BEFORE_LABEL)).toMatchObject({ value: 2100, z: 3.75, measured: 1200 });
    expect(at(TV, AFTER_LABEL)).toMatchObject({ value: 1320, z: 0.5 });
    expect(at(SOCIAL, BEFORE_LABEL)).toMatchObject({ value: 80, z: -2.2, regions: 'all' });
    expect(at(SOCIAL, AFTER_LABEL)).toMatchObject({ value: 260, z: -0.4 });
    const spec = JSON.stringify(c.spec);
    expect(spec).toContain("Lift (visits over the test's weeks)");
    expect(spec).toContain('z = (model − measured) / se');
    expect(spec).toContain('before the calibration term acted');
  });

  test('the chart compiles and renders: error bars, two model marks per test, one legend', async () => {
    const c = liftChart(withTests())!;
    const vg = compileChart(c.spec);
    expect(JSON.stringify(vg)).toContain('"tooltip"');
    const items = await markItems(vg);
    expect(items.get('symbol')).toBe(2 * 3); // measured, before, after per test
    expect(items.get('rule')).toBe(2 + 1); // an interval per test + the zero line
    expect(items.get('rect')).toBe(2 * 2); // the interval's end caps
    const svg = await renderChartSvg(c.spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Lift tests: measured vs model');
    for (const label of [MEASURED_LABEL, BEFORE_LABEL, AFTER_LABEL, TV, SOCIAL])
      expect(svg).toContain(label);
    // color and shape share one legend: each label drawn once
    for (const label of [MEASURED_LABEL, BEFORE_LABEL, AFTER_LABEL])
      expect(svg.split(`>${label}</text>`)).toHaveLength(2);
    expect(svg).toContain('Symbol legend for shape, fill color and stroke color with 3 values');
  });

  test('labels: channel, weeks and region count; repeated labels are numbered', () => {
    const one = { ...liftTests()[0], regions: ['West'], startWeek: 4, endWeek: 4 };
    expect(liftTestLabels([one, one, liftTests()[1]])).toEqual([
      'TV · week 4 · 1 region',
      'TV · week 4 · 1 region #2',
      SOCIAL,
    ]);
    const iso = { ...one, startWeek: '2024-01-01', endWeek: '2024-01-22' };
    expect(liftTestLabels([iso])).toEqual(['TV · weeks 2024-01-01–2024-01-22 · 1 region']);
  });

  test('ISO-date weeks are accepted as test weeks', () => {
    const d = withTests([{ ...liftTests()[0], startWeek: '2023-03-06', endWeek: '2023-03-27' }]);
    d.weeks = d.weeks.map((_, w) =>
      new Date(Date.UTC(2023, 0, 2 + 7 * w)).toISOString().slice(0, 10),
    );
    expect(() => validateDashboardData(d)).not.toThrow();
    expect(dataOf(liftChart(d)!.spec)[0].test).toBe('TV · weeks 2023-03-06–2023-03-27 · 2 regions');
  });

  test('the page shows a table of the tests under their chart; none without tests', () => {
    const html = renderDashboardHtml(withTests(), { vegaRuntime: '' });
    const section = html.match(/<section class="chart" id="chart-lift-tests"[^]*?<\/section>/)![0];
    expect(section).toContain('<div class="view" id="view-lift-tests"></div>');
    const table = section.match(/<table class="lift-tests">[^]*<\/table>/)![0];
    expect(table).toContain(
      '<th>Test</th><th>Measured ± se</th><th>Model before (z)</th><th>Model after (z)</th>',
    );
    expect(table).toContain(
      `<tr><td>${TV}</td><td>1,200 ± 240</td><td>2,100 (z +3.75)</td><td>1,320 (z +0.50)</td></tr>`,
    );
    expect(table).toContain(
      `<tr><td>${SOCIAL}</td><td>300 ± 100</td><td>80 (z −2.20)</td><td>260 (z −0.40)</td></tr>`,
    );
    expect(table).toContain('Lift in visits');
    expect((html.match(/<tr>/g) ?? []).length).toBe(3);
    expect(renderDashboardHtml(makeData(), { vegaRuntime: '' })).not.toContain('<table');
  });

  test('writeDashboard writes the lift-test SVG', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'causalmix-dash-lift-'));
    try {
      await writeDashboard(withTests(), dir);
      const svg = await readFile(join(dir, 'charts', 'lift-tests.svg'), 'utf8');
      expect(svg).toContain(AFTER_LABEL);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('buildDashboardData takes the lift tests from the fitted model', async () => {
    const d = await buildDashboardData(...tinyFit('regionMean'));
    expect(d.liftTests).toEqual([
      {
        channel: 'A',
        regions: ['all'],
        startWeek: 1,
        endWeek: 2,
        postWeeks: 0,
        measured: 4,
        se: 1,
        before: 1,
        after: 3.5,
        zBefore: -3,
        zAfter: -0.5,
      },
    ]);
    expect(buildChartSpecs(d).map((c) => c.id)).toContain('lift-tests');
    const old = await buildDashboardData(...tinyFit(undefined));
    expect(old.liftTests).toBeUndefined();
    expect(buildChartSpecs(old).map((c) => c.id)).not.toContain('lift-tests');
  });
});

/**
 * buildDashboardData's arguments for a stand-in fitted model (1 region, 2 weeks, channels A and
 * B, no controls): only the fields it reads. With a scaling it also gets warnings, effects and
 * a lift test.
 */
function tinyFit(scaling: 'regionMean' | undefined): Parameters<typeof buildDashboardData> {
  const R = 1;
  const W = 2;
  const B = 1;
  const T = B + W;
  const C = 2;
  const prepared = {
    R,
    W,
    T,
    B,
    C,
    K: 0,
    wTrain: 1,
    weeks: [1, 2],
    regions: ['r'],
    channels: ['A', 'B'],
    controlNames: [],
    media: new Float32Array(R * T * C).fill(0.25),
    controls: new Float32Array(0),
    rawTarget: Float64Array.from([10, 12]),
    observed: Uint8Array.from([1, 1]),
    scalers: { media: scaling ? { scaling } : undefined },
  };
  const fitted = {
    prepared,
    training: {
      adapter: 'test',
      ...(scaling
        ? {
            liftTests: [
              {
                channel: 'A',
                regions: ['all'],
                startWeek: 1,
                endWeek: 2,
                postWeeks: 0,
                measured: 4,
                se: 1,
                before: 1,
                after: 3.5,
                zBefore: -3,
                zAfter: -0.5,
              },
            ],
          }
        : {}),
    },
    engine: { adapterName: 'test' },
    dagAdjacency: async () => [
      [0, 1],
      [0, 0],
    ],
  } as unknown as FittedMMM;
  const zeros = (n: number) => new Float64Array(n);
  const decomposition = {
    R,
    W,
    C,
    K: 0,
    prediction: Float64Array.from([10, 12]),
    mediaContrib: Float64Array.from([3, 2, 4, 1]),
    ctrlContrib: zeros(0),
    baseline: Float64Array.from([5, 7]),
    seasonal: zeros(2),
    mediaCoeffs: zeros(4),
  } as unknown as Decomposition;
  const block = { r2: 0.9, rmse: 1, mae: 1 };
  const report = { train: block, holdout: block } as unknown as EvaluationReport;
  const channelEffects = {
    channels: ['A', 'B'],
    direct: [5, 0],
    mediated: [0, 5],
    total: [5, 5],
    shareOfMedia: [0.5, 0.5],
    roas: [NaN, NaN],
  } as unknown as ChannelEffects;
  const warnings = [{ kind: 'collinear', channels: ['A', 'B'], message: 'A and B move together' }];
  return [
    fitted,
    scaling ? { decomposition, report, channelEffects, warnings } : { decomposition, report },
  ];
}

describe('dashboard helpers', () => {
  test('boxStats: NumPy-style quartiles and Tukey whiskers', () => {
    const b = boxStats([4, 1, 100, 3, 2])!;
    expect(b).toMatchObject({ n: 5, min: 1, q1: 2, median: 3, q3: 4, max: 100, mean: 22 });
    expect(b.lower).toBe(1);
    expect(b.upper).toBe(4); // 100 lies beyond q3 + 1.5·IQR = 7
    expect(boxStats([0.5, NaN, 1.5])!.median).toBe(1);
    expect(boxStats([NaN])).toBeNull();
  });

  test('hillCurve reaches half-way at the saturation point', () => {
    const c = { channel: 'TV', top: 10, bottom: 2, saturation: 50, slope: 2, r2: 1, points: [] };
    expect(hillCurve(c, 50)).toBeCloseTo(6, 12);
    expect(hillCurve(c, 0)).toBe(2);
    expect(hillCurve(c, 100)).toBeCloseTo(2 + (8 * 10000) / (2500 + 10000), 12);
  });

  test('r2Of', () => {
    expect(r2Of([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(r2Of([1, 2, 3], [2, 2, 2])).toBeCloseTo(0, 12);
    expect(r2Of([1, 2, 3], [1, 2, 4])).toBeCloseTo(0.5, 12);
    expect(r2Of([1], [1])).toBeNaN();
  });

  test('weekAxis: numbers, ISO dates and other labels', () => {
    expect(weekAxis([1, 2, 3]).type).toBe('quantitative');
    const dates = weekAxis(['2024-01-01', '2024-01-08']);
    expect(dates.type).toBe('temporal');
    expect(dates.values).toEqual([Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 8)]);
    expect(dates.labels).toEqual(['2024-01-01', '2024-01-08']);
    expect(weekAxis(['W1', 'W2']).type).toBe('ordinal');
  });

  test('ISO-date weeks render on a time axis', async () => {
    const d = makeData();
    d.weeks = d.weeks.map((_, w) =>
      new Date(Date.UTC(2023, 0, 2 + 7 * w)).toISOString().slice(0, 10),
    );
    const chart = buildChartSpecs(d).find((c) => c.id === 'stacked-contributions')!;
    const svg = await renderChartSvg(chart.spec);
    expect(svg).toContain('2023');
  });
});

describe('dashboard validation', () => {
  const cases: [string, (d: DashboardData) => void, RegExp][] = [
    ['no regions', (d) => (d.regions = []), /regions must be a non-empty/],
    ['no channels', (d) => (d.channels = []), /channels must be a non-empty/],
    [
      'duplicate channel',
      (d) => (d.channels = ['TV', 'TV', 'Social']),
      /channels name 'TV' appears twice/,
    ],
    [
      'duplicate control',
      (d) => (d.controlNames = ['Price', 'Price']),
      /controlNames name 'Price'/,
    ],
    ['no weeks', (d) => (d.weeks = []), /weeks must be a non-empty/],
    ['wTrain 0', (d) => (d.wTrain = 0), /wTrain 0 must be an integer in 1\.\.30/],
    ['wTrain past W', (d) => (d.wTrain = 31), /wTrain 31/],
    ['wTrain fractional', (d) => (d.wTrain = 2.5), /wTrain 2\.5/],
    [
      'short actual',
      (d) => (d.actual = new Float64Array(10)),
      /actual has length 10, expected R×W = 4×30 = 120/,
    ],
    ['short predicted', (d) => (d.predicted = []), /predicted has length 0/],
    ['short observed', (d) => (d.observed = [1]), /observed has length 1/],
    ['short baseline', (d) => (d.baseline = []), /baseline has length 0/],
    ['short seasonal', (d) => (d.seasonal = []), /seasonal has length 0/],
    [
      'short mediaContrib',
      (d) => (d.mediaContrib = new Float64Array(120)),
      /mediaContrib has length 120, expected R×W×C = 4×30×3 = 360/,
    ],
    ['short mediaCoeffs', (d) => (d.mediaCoeffs = []), /mediaCoeffs has length 0/],
    ['short mediaInputs', (d) => (d.mediaInputs = []), /mediaInputs has length 0/],
    ['short mediaShares', (d) => (d.mediaShares = []), /mediaShares has length 0/],
    [
      'short controlContrib',
      (d) => (d.controlContrib = []),
      /controlContrib has length 0, expected R×W×K/,
    ],
    ['short controlInputs', (d) => (d.controlInputs = []), /controlInputs has length 0/],
    ['adjacency rows', (d) => (d.dag.adjacency = [[0, 1, 0]]), /dag\.adjacency must be 3×3/],
    ['adjacency columns', (d) => (d.dag.adjacency = [[0], [0], [0]]), /dag\.adjacency must be 3×3/],
    ['threshold', (d) => (d.dag.threshold = NaN), /dag\.threshold NaN/],
    [
      'metrics',
      (d) => (d.metrics = { train: d.metrics.train } as DashboardData['metrics']),
      /metrics\.holdout needs numeric r2 and rmse/,
    ],
    [
      'curve channel',
      (d) => (d.responseCurves![0].channel = 'Radio'),
      /responseCurves names channel 'Radio'/,
    ],
    [
      'curve parameter',
      (d) => (d.responseCurves![1].slope = Infinity),
      /responseCurves 'Search' slope Infinity/,
    ],
    ['budget channel', (d) => (d.budget![0].channel = 'Radio'), /budget names channel 'Radio'/],
    [
      'budget value',
      (d) => (d.budget![2].optimal = NaN),
      /budget 'Social' needs finite current and optimal/,
    ],
    [
      'warning channel',
      (d) => (d.warnings = [{ kind: 'collinear', channels: ['TV', 'Radio'], message: 'x' }]),
      /warnings\[0\] names channel 'Radio', which is not in channels/,
    ],
    [
      'warning message',
      (d) => (d.warnings = [{ kind: 'collinear', channels: [] } as unknown as Warning]),
      /warnings\[0\] needs a kind and a message/,
    ],
    [
      'warning channels',
      (d) => (d.warnings = [{ kind: 'k', message: 'm' } as unknown as Warning]),
      /warnings\[0\]\.channels must be a list/,
    ],
    [
      'effect channel',
      (d) => (d.channelEffects = effects({ channel: 'Radio' })),
      /channelEffects names channel 'Radio'/,
    ],
    [
      'effect twice',
      (d) => (d.channelEffects = [...effects(), effects()[0]]),
      /channelEffects names channel 'TV' twice/,
    ],
    [
      'effect value',
      (d) => (d.channelEffects = effects({ mediated: NaN })),
      /channelEffects 'TV' mediated NaN is not finite/,
    ],
    [
      'effect share',
      (d) => (d.channelEffects = effects({ shareOfMedia: Infinity })),
      /channelEffects 'TV' shareOfMedia Infinity is not finite/,
    ],
    [
      'effect roas',
      (d) => (d.channelEffects = effects({ roas: NaN })),
      /channelEffects 'TV' roas NaN must be finite or null/,
    ],
    [
      'lift test channel',
      (d) => (d.liftTests = liftTests({ channel: 'Radio' })),
      /liftTests\[0\] names channel 'Radio', which is not in channels/,
    ],
    [
      'lift test se zero',
      (d) => (d.liftTests = liftTests({ se: 0 })),
      /liftTests\[0\] 'TV' se 0 must be a finite number > 0/,
    ],
    [
      'lift test se negative',
      (d) => (d.liftTests = liftTests({ se: -5 })),
      /liftTests\[0\] 'TV' se -5 must be a finite number > 0/,
    ],
    [
      'lift test se NaN',
      (d) => (d.liftTests = liftTests({ se: NaN })),
      /liftTests\[0\] 'TV' se NaN must be a finite number > 0/,
    ],
    [
      'lift test measured',
      (d) => (d.liftTests = liftTests({ measured: Infinity })),
      /liftTests\[0\] 'TV' measured Infinity is not finite/,
    ],
    [
      'lift test model lift',
      (d) => (d.liftTests = liftTests({ after: NaN })),
      /liftTests\[0\] 'TV' after NaN is not finite/,
    ],
    [
      'lift test z',
      (d) => (d.liftTests = liftTests({ zBefore: NaN })),
      /liftTests\[0\] 'TV' zBefore NaN is not finite/,
    ],
    [
      'lift test region',
      (d) => (d.liftTests = liftTests({ regions: ['North', 'Atlantis'] })),
      /liftTests\[0\] 'TV' names region 'Atlantis', which is not in regions/,
    ],
    [
      'lift test no regions',
      (d) => (d.liftTests = liftTests({ regions: [] })),
      /liftTests\[0\] 'TV' regions must be a non-empty list/,
    ],
    [
      'lift test week',
      (d) => (d.liftTests = liftTests({ endWeek: 31 })),
      /liftTests\[0\] 'TV' endWeek 31 is not a week/,
    ],
    [
      'lift test week order',
      (d) => (d.liftTests = liftTests({ startWeek: 14 })),
      /liftTests\[0\] 'TV' endWeek 13 comes before startWeek 14/,
    ],
    [
      'lift test post weeks',
      (d) => (d.liftTests = liftTests({ postWeeks: -1 })),
      /liftTests\[0\] 'TV' postWeeks -1 must be a whole number/,
    ],
    [
      'lift tests not a list',
      (d) => (d.liftTests = {} as unknown as LiftTestRow[]),
      /liftTests must be a list/,
    ],
    [
      'media scaling',
      (d) => (d.mediaScaling = 'sov' as DashboardData['mediaScaling']),
      /mediaScaling 'sov' must be one of shareOfVoice, regionMean/,
    ],
  ];

  test.each(cases)('%s', (_name, mutate, message) => {
    const d = makeData();
    mutate(d);
    expect(() => validateDashboardData(d)).toThrow(DataError);
    expect(() => buildChartSpecs(d)).toThrow(message);
  });

  test('valid data gives its dimensions', () => {
    expect(validateDashboardData(makeData())).toEqual({ R: 4, W: 30, C: 3, K: 2 });
  });
});

describe('dashboard HTML and files', () => {
  test('one offline page: inlined runtime, embedded specs, one container per chart', async () => {
    const data = makeData();
    const runtime = await loadVegaRuntime();
    expect(runtime.length).toBeGreaterThan(100_000);
    const html = renderDashboardHtml(data, { vegaRuntime: runtime });
    const charts = buildChartSpecs(data);
    expect(html).toContain(runtime);
    expect(html).not.toMatch(/<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect((html.match(/<div class="view" id="view-/g) ?? []).length).toBe(charts.length);
    for (const c of charts) expect(html).toContain(`id="view-${c.id}"`);
    expect(html).toContain('Synthetic dashboard');
    expect(html).toContain('Adapter: cpu (test)');
    expect(html).toContain('R² <b>0.880</b>');
    expect(html).toContain("renderer: 'svg'");

    // the embedded specs are the compiled charts and render
    const json = html.match(
      /<script type="application\/json" id="dashboard-specs">([^<]*)<\/script>/,
    )![1];
    const embedded = JSON.parse(json) as { id: string; spec: vega.Spec }[];
    expect(embedded.map((e) => e.id)).toEqual(charts.map((c) => c.id));
    expect(json).not.toContain('vega.github.io');
    const items = await markItems(embedded.find((e) => e.id === 'waterfall')!.spec);
    expect(items.get('rect')).toBe(8);
  });

  test("the page's scripts run: the runtime defines vega, the boot mounts every chart", async () => {
    const data = makeData();
    const html = renderDashboardHtml(data, { vegaRuntime: await loadVegaRuntime() });
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(3);
    const json = scripts[1][2];
    const mounted: { container: unknown; renderer: string; hover: boolean }[] = [];
    const elements = new Map<string, object>();
    const document = {
      getElementById: (id: string) => {
        if (id === 'dashboard-specs') return { textContent: json };
        if (!elements.has(id)) elements.set(id, { id });
        return elements.get(id);
      },
    };
    const ctx = vm.createContext({ setTimeout, clearTimeout, console, document });
    vm.runInContext(scripts[0][2], ctx);
    const runtime = ctx.vega as typeof vega;
    expect(typeof runtime.View).toBe('function');
    // the inlined runtime renders an embedded spec by itself
    const specs = JSON.parse(json) as { id: string; spec: vega.Spec }[];
    const view = new runtime.View(runtime.parse(specs[0].spec), { renderer: 'none' });
    expect(await view.toSVG()).toContain('Performance: train vs holdout');
    view.finalize();
    // the boot script: a recording View stands in for the DOM renderer
    runtime.View = class {
      constructor(
        _runtime: unknown,
        opts: { container: unknown; renderer: string; hover: boolean },
      ) {
        mounted.push(opts);
      }
      runAsync() {
        return Promise.resolve(this);
      }
    } as unknown as typeof vega.View;
    vm.runInContext(scripts[2][2], ctx);
    expect(mounted).toHaveLength(specs.length);
    expect(mounted.map((m) => (m.container as { id: string }).id)).toEqual(
      specs.map((s) => `view-${s.id}`),
    );
    for (const m of mounted) expect(m).toMatchObject({ renderer: 'svg', hover: true });
  });

  test('titles and names are HTML-escaped', () => {
    const d = { ...makeData(), title: '<b>A & B</b>', adapterName: '"gpu"' };
    const html = renderDashboardHtml(d, { vegaRuntime: '' });
    expect(html).toContain('&#60;b&#62;A &#38; B&#60;/b&#62;');
    expect(html).toContain('Adapter: &#34;gpu&#34;');
  });

  test('a "</script" inside the runtime or data cannot close the script element', () => {
    const d = makeData();
    d.channels = ['TV</script><script>alert(1)', 'Search', 'Social'];
    d.responseCurves!.forEach((c, i) => (c.channel = d.channels[i]));
    d.budget!.forEach((b, i) => (b.channel = d.channels[i]));
    const html = renderDashboardHtml(d, { vegaRuntime: 'var s = "</script>";' });
    expect(html.match(/<\/script>/g)).toHaveLength(3);
  });

  test('writeDashboard writes dashboard.html and one SVG per chart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'causalmix-dash-'));
    try {
      const out = await writeDashboard(makeData(), dir);
      expect(out.htmlPath).toBe(join(dir, 'dashboard.html'));
      expect((await readdir(join(dir, 'charts'))).sort()).toEqual(
        ALL_IDS.map((id) => `${id}.svg`).sort(),
      );
      const svg = await readFile(join(dir, 'charts', 'waterfall.svg'), 'utf8');
      expect(svg).toContain('Waterfall: baseline to total');
      const html = await readFile(out.htmlPath, 'utf8');
      expect(html).toContain('id="view-budget-allocation"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
