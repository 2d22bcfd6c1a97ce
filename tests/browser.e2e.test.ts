/**
 * End to end in a real browser: the example page (examples/browser) served by
 * scripts/serve-browser.mjs, driven by playwright-core in Debian's headless chromium with WebGPU
 * on SwiftShader. The page trains the demo data in its worker on WebGPU (not the CPU backend), the
 * loss falls, the dashboard charts render and the budget optimizer answers; model files move
 * between the page and Node with the same predictions both ways; Cancel stops a training while
 * the page stays responsive, and keeps the partial model (said so) resumable; a reloaded tab
 * resumes an interrupted training from its IndexedDB checkpoint, and Discard forgets it; a browser
 * without WebGPU gets a plain-words error. Files: a failed file clears the previous results; an
 * unfamiliar media prefix and a Meridian-style file get every role the CLI's detector finds
 * pre-filled; a poor fit shows its warning; the ETA is honest; the page fits a 760 px window; a
 * failed model load does not leave the page "Loading …".
 *
 * The tests share one page and run in order (the page's model carries from one to the next).
 * Skipped with a message when /usr/bin/chromium is missing, except in CI (CI=true), where that
 * fails. Prints the browser's adapter and the per-epoch times of the browser and Node.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { generateSyntheticPanel } from '../src/data/synthetic.js';
import { UnifiedDataPipeline, type PreparedData } from '../src/data/pipeline.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import type { AdapterChoice } from '../src/engine/device.js';
import { getDefaultConfig, updateConfig, type MMMConfig } from '../src/model/config.js';
import type { FittedMMM } from '../src/model/fitted.js';
import { fromModelFile, toModelFile } from '../src/model/model-file.js';
import { ModelTrainer } from '../src/model/trainer.js';
import { fitEnsemble } from '../src/model/ensemble.js';
import { meanDecomposition } from '../src/analysis/ensemble-forecast.js';
import type { PageState } from '../examples/browser/main.js';
import {
  CHROMIUM,
  maxRelativeDiff,
  msPerEpoch,
  NO_WEBGPU_FLAGS,
  phaseLosses,
  ROOT,
  startExampleServer,
  WEBGPU_SWIFTSHADER_FLAGS,
  type ExampleServer,
} from './browser-helpers.js';

const haveChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';
if (!haveChromium && !inCi)
  console.log(
    `SKIPPED tests/browser.e2e.test.ts: ${CHROMIUM} not found (apt-get install chromium libvulkan1)`,
  );
const suite = haveChromium || inCi ? describe : describe.skip;

/** The page's demo data (examples/browser/main.ts DEMO) and the tiny training config. */
const DEMO = { regions: 8, weeks: 80, channels: 4, seed: 7 };
const TINY = { epochs: 15, warmStartEpochs: 15, hiddenDim: 8 };
/** f32 tolerance for predictions computed on two engines from the same weights */
const F32_REL = 1e-4;
const SCREENSHOT = join(ROOT, 'test-results', 'browser-e2e.png');

interface Hook {
  state: PageState;
  predictions: () => Promise<number[]>;
  modelFileText: () => Promise<string>;
}
/** The page's window; evaluated callbacks run in the page, so each names the hook itself. */
type HookWindow = { __causalmix: Hook };

function tinyConfig(): MMMConfig {
  // one report per epoch, as the page does for runs up to 100 epochs
  return updateConfig(getDefaultConfig(), { ...TINY, logEvery: 1 });
}

function demoPrepared(config: MMMConfig): PreparedData {
  const { panel } = generateSyntheticPanel(DEMO);
  return new UnifiedDataPipeline(config).fit(panel);
}

async function pageState(page: Page): Promise<PageState> {
  return page.evaluate(() => (window as unknown as HookWindow).__causalmix.state);
}

/** Waits until the page has shown result number `n` (trained or loaded), or reports its error. */
async function waitForResult(page: Page, n: number, timeout: number): Promise<PageState> {
  await page.waitForFunction(
    (want) => {
      const s = (window as unknown as HookWindow).__causalmix.state;
      return s.results >= want || s.status === 'error';
    },
    n,
    { timeout, polling: 250 },
  );
  const s = await pageState(page);
  if (s.status === 'error') throw new Error(`the page reports an error: ${s.error}`);
  return s;
}

suite('causalmix example page in headless chromium (WebGPU on SwiftShader)', () => {
  let server: ExampleServer;
  let browser: Browser;
  let page: Page;
  let nodeEngine: Engine;
  const timings: string[] = [];
  /** the page's pace on the first training (the resume test sizes its training with it) */
  let browserMsPerEpoch = NaN;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    server = await startExampleServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: WEBGPU_SWIFTSHADER_FLAGS,
    });
    // a context of its own (not browser.newPage's), so a test can open a second tab beside the page
    const context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
    });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => '__causalmix' in window);
    const adapter = (process.env.CAUSALMIX_ADAPTER || 'gl') as AdapterChoice;
    nodeEngine = await createEngine({ adapter });
  }, 180_000);

  afterAll(async () => {
    if (timings.length > 0)
      console.log(`per-epoch time, same tiny config:\n  ${timings.join('\n  ')}`);
    await browser?.close();
    await server?.stop();
    nodeEngine?.destroy();
  });

  test('trains the demo data in a Web Worker on WebGPU: the loss falls and the dashboard renders', async () => {
    await page.click('#demo-data');
    await expect(page.textContent('#data-summary')).resolves.toContain(
      `${DEMO.regions} regions × ${DEMO.weeks} weeks`,
    );
    await page.fill('#epochs', String(TINY.epochs));
    await page.fill('#warm', String(TINY.warmStartEpochs));
    await page.fill('#hidden', String(TINY.hiddenDim));
    await page.click('#train');
    const s = await waitForResult(page, 1, 170_000);

    const adapterText = (await page.textContent('#adapter')) ?? '';
    console.log(`browser adapter: ${adapterText}`);
    expect(s.isGpu).toBe(true);
    expect(adapterText).toMatch(/\(webgpu, (core|compatibility)\)/);
    expect(adapterText).toMatch(/swiftshader/i);
    expect(adapterText).not.toMatch(/\bcpu\b/i);

    // one report per epoch, and each phase's loss fell from its first report to its last
    expect(s.summary).toMatchObject({ source: 'trained', epochs: TINY.epochs, cancelled: false });
    const warm = phaseLosses(s.history, 'warm-start');
    const train = phaseLosses(s.history, 'train');
    expect(warm).toHaveLength(TINY.warmStartEpochs);
    expect(train).toHaveLength(TINY.epochs);
    expect(warm[warm.length - 1]).toBeLessThan(warm[0]);
    expect(train[train.length - 1]).toBeLessThan(train[0]);
    const browserMs = msPerEpoch(s.history);
    browserMsPerEpoch = browserMs;
    timings.push(`browser (${adapterText}): ${browserMs.toFixed(1)} ms/epoch`);

    // every chart the data supports is drawn as SVG with marks in it
    const drawn = await page.$$eval(
      '#charts figure',
      (figs) => figs.filter((f) => f.querySelector('svg .role-mark') !== null).length,
    );
    expect(drawn).toBeGreaterThanOrEqual(12);
    expect(s.charts).toBe(drawn);
    const marks = await page.$$eval('#charts svg path, #charts svg rect', (els) => els.length);
    expect(marks).toBeGreaterThan(200);

    // budget optimizer: the optimal mix spends the budget asked for, over every channel
    const budget = 1_000_000;
    await page.fill('#budget', String(budget));
    await page.fill('#budget-weeks', '26');
    await page.click('#optimize');
    await page.waitForFunction(
      () => (window as unknown as HookWindow).__causalmix.state.budget !== null,
      null,
      { timeout: 60_000 },
    );
    const table = (await pageState(page)).budget!;
    expect(table.weeks).toBe(26);
    expect(table.rows).toHaveLength(DEMO.channels);
    const spent = table.rows.reduce((a, r) => a + r.optimal, 0);
    expect(Math.abs(spent - budget) / budget).toBeLessThan(1e-6);
    expect(table.rows.reduce((a, r) => a + r.current, 0)).toBeCloseTo(budget, 3);
    await expect(page.$$eval('#budget-table tr', (r) => r.length)).resolves.toBe(DEMO.channels + 1);

    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`screenshot: ${SCREENSHOT}`);
    expect(pageErrors).toEqual([]);
    expect(s.error).toBeNull();
  }, 240_000);

  test('the library bundle loads as an ES module in the page and computes on WebGPU', async () => {
    const r = await page.evaluate(async () => {
      // a variable specifier: the URL is resolved by the browser, not by the test's compiler
      const url = '/causalmix.js';
      const m = await import(url);
      const engine = await m.createEngine();
      const a = engine.tensor([1, 2, 3, 4], [2, 2]);
      const product = await m.ops.matmul(a, a).toArray();
      const total = await m.ops.sum(a).toArray();
      const out = {
        adapter: engine.describe() as string,
        isGpu: engine.isGpu as boolean,
        product: Array.from(product as Float64Array),
        total: Array.from(total as Float64Array),
        exports: [
          'parseCsvPanel',
          'ModelTrainer',
          'toModelFile',
          'fromModelFile',
          'dashboard',
        ].filter((k) => k in m),
      };
      engine.destroy();
      return out;
    });
    expect(r.isGpu).toBe(true);
    expect(r.adapter).toMatch(/\(webgpu, core\)$/);
    expect(r.product).toEqual([7, 10, 15, 22]);
    expect(r.total).toEqual([10]);
    expect(r.exports).toHaveLength(5);
  }, 60_000);

  test('a model trained in the page and downloaded loads in Node with the same predictions', async () => {
    const pagePred = await page.evaluate(() =>
      (window as unknown as HookWindow).__causalmix.predictions(),
    );
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#download-model'),
    ]);
    expect(download.suggestedFilename()).toBe('causalmix-model.json');
    const path = await download.path();
    const file = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(file.format).toBe('causalmix-model');
    const extras = file.extras as Record<string, unknown>;
    expect(extras.responseCurves as unknown[]).toHaveLength(DEMO.channels);

    const fitted = fromModelFile(nodeEngine, file);
    try {
      const nodePred = (await fitted.decompose()).prediction;
      expect(nodePred).toHaveLength(DEMO.regions * DEMO.weeks);
      const rel = maxRelativeDiff(pagePred, nodePred);
      console.log(
        `page → Node predictions: max rel diff ${rel.toExponential(2)} (${nodeEngine.describe()})`,
      );
      expect(rel).toBeLessThan(F32_REL);
    } finally {
      fitted.dispose();
    }
  }, 120_000);

  test('a model trained in Node loads in the page with the same predictions', async () => {
    const config = tinyConfig();
    let fitted: FittedMMM | null = null;
    try {
      fitted = await new ModelTrainer(nodeEngine, config).fit(demoPrepared(config));
      timings.push(
        `node (${nodeEngine.describe()}): ${msPerEpoch(fitted.training.history).toFixed(1)} ms/epoch`,
      );
      const nodePred = (await fitted.decompose()).prediction;
      const text = JSON.stringify(await toModelFile(fitted));

      const before = (await pageState(page)).results;
      await page.setInputFiles('#model-file', {
        name: 'node-model.json',
        mimeType: 'application/json',
        buffer: Buffer.from(text),
      });
      const s = await waitForResult(page, before + 1, 120_000);
      expect(s.summary?.source).toBe('loaded');
      expect(s.charts).toBeGreaterThanOrEqual(10);
      const pagePred = await page.evaluate(() =>
        (window as unknown as HookWindow).__causalmix.predictions(),
      );
      const rel = maxRelativeDiff(pagePred, nodePred);
      console.log(`Node → page predictions: max rel diff ${rel.toExponential(2)}`);
      expect(rel).toBeLessThan(F32_REL);
    } finally {
      fitted?.dispose();
    }
  }, 180_000);

  test("an ensemble's model file loads in the page with every member and its intervals", async () => {
    const config = tinyConfig();
    let members: FittedMMM[] = [];
    try {
      members = await fitEnsemble(nodeEngine, config, demoPrepared(config), { members: 2 });
      const decs = [];
      for (const m of members) decs.push(await m.decompose());
      const nodePred = meanDecomposition(decs).prediction;
      const text = JSON.stringify(await toModelFile(members[0], {}, members.slice(1)));
      const before = (await pageState(page)).results;
      await page.setInputFiles('#model-file', {
        name: 'ensemble-model.json',
        mimeType: 'application/json',
        buffer: Buffer.from(text),
      });
      const s = await waitForResult(page, before + 1, 120_000);
      expect(s.summary?.source).toBe('loaded');
      // the page predicts with the members' mean and draws the share intervals
      const pagePred = await page.evaluate(() =>
        (window as unknown as HookWindow).__causalmix.predictions(),
      );
      expect(maxRelativeDiff(pagePred, nodePred)).toBeLessThan(F32_REL);
      await expect(page.content()).resolves.toContain(
        "90 % intervals across the ensemble's members",
      );
      // and a model file saved from the page keeps both members
      const saved = JSON.parse(
        await page.evaluate(() => (window as unknown as HookWindow).__causalmix.modelFileText()),
      );
      expect(saved.members).toHaveLength(1);
    } finally {
      members.forEach((m) => m.dispose());
    }
  }, 180_000);

  test('node on SwiftShader, for a like-for-like per-epoch time', async () => {
    // timing only: the browser runs on SwiftShader too, so this is the comparable Node figure
    let engine: Engine;
    try {
      engine = await createEngine({ adapter: 'swiftshader' });
    } catch (e) {
      // plain `jest` lacks VK_ICD_FILENAMES in the process environment; scripts/test.sh sets it
      console.log(`node on SwiftShader: not measured (${(e as Error).message.split('\n')[0]})`);
      return;
    }
    try {
      const config = tinyConfig();
      const fitted = await new ModelTrainer(engine, config).fit(demoPrepared(config));
      timings.push(
        `node (${engine.describe()}): ${msPerEpoch(fitted.training.history).toFixed(1)} ms/epoch`,
      );
      expect(fitted.training.history).toHaveLength(TINY.epochs + TINY.warmStartEpochs);
      fitted.dispose();
    } finally {
      engine.destroy();
    }
  }, 180_000);

  test('Cancel stops a long training at an epoch boundary while the page stays responsive', async () => {
    await page.click('#demo-data');
    // 1000 epochs: the page reports every 10th
    await page.fill('#epochs', '1000');
    await page.fill('#warm', '0');
    const before = (await pageState(page)).results;
    await page.click('#train');
    await page.waitForFunction(
      () => (window as unknown as HookWindow).__causalmix.state.history.length >= 2,
      null,
      { timeout: 120_000 },
    );
    // the main thread answers at once while the worker trains
    const t0 = Date.now();
    const status = await page.evaluate(
      () => (window as unknown as HookWindow).__causalmix.state.status,
    );
    expect(status).toBe('training');
    expect(Date.now() - t0).toBeLessThan(1000);
    await page.click('#cancel');
    const s = await waitForResult(page, before + 1, 120_000);
    expect(s.status).toBe('cancelled');
    expect(s.summary).toMatchObject({ source: 'trained', cancelled: true });
    expect(s.summary!.epochs).toBeGreaterThanOrEqual(20);
    expect(s.summary!.epochs).toBeLessThan(1000);
    // the model so far stays on the page, said to be partial, and can be downloaded
    const partial = `Partial model: cancelled after ${s.summary!.epochs} of 1000 epochs in `;
    await expect(page.textContent('#summary')).resolves.toContain(partial);
    await expect(page.textContent('#summary')).resolves.toMatch(
      /^Partial model: .* s; the results below are from the model so far\. /,
    );
    await expect(page.textContent('#progress-text')).resolves.toMatch(/^Partial model: /);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#download-model'),
    ]);
    const file = JSON.parse(readFileSync(await download.path(), 'utf8')) as { format: string };
    expect(file.format).toBe('causalmix-model');
    // and it can be resumed from where it stopped
    await page.locator('#resume-banner').waitFor({ state: 'visible', timeout: 10_000 });
    await expect(page.textContent('#resume-text')).resolves.toContain(
      `(epoch ${s.summary!.epochs} of 1000, data 'Demo data (synthetic: `,
    );
  }, 180_000);

  /** Waits until the page `p` has looked for a stored training (its resume offer is known). */
  const storeRead = (p: Page) =>
    p.waitForFunction(
      () => (window as unknown as Partial<HookWindow>).__causalmix?.state.storeRead === true,
      null,
      { timeout: 30_000 },
    );

  /** A second tab on the page, as someone opening it again after a crash; closed after `use`. */
  async function inNewTab<T>(use: (tab: Page, state: PageState) => Promise<T>): Promise<T> {
    const tab = await page.context().newPage();
    try {
      await tab.goto(server.url);
      await storeRead(tab);
      return await use(tab, await pageState(tab));
    } finally {
      await tab.close();
    }
  }

  test('Discard forgets the stored training: a new tab no longer offers it', async () => {
    await inNewTab(async (tab, state) => {
      expect(state.resumeOffer).toMatchObject({ epochs: 1000, warmDone: true });
      await expect(tab.isVisible('#resume-banner')).resolves.toBe(true);
    });
    await page.click('#discard');
    await page.locator('#resume-banner').waitFor({ state: 'hidden', timeout: 10_000 });
    await inNewTab(async (tab, state) => {
      expect(state.resumeOffer).toBeNull();
      await expect(tab.isVisible('#resume-banner')).resolves.toBe(false);
    });
    // the partial model is still on the page
    await expect(pageState(page)).resolves.toMatchObject({ status: 'cancelled', error: null });
  }, 60_000);

  /** The form's pre-filled roles. */
  async function formRoles(p: Page) {
    return p.evaluate(() => {
      const val = (id: string) => (document.getElementById(id) as HTMLSelectElement).value;
      const ticked = (id: string) =>
        Array.from(
          document.querySelectorAll<HTMLInputElement>(`#${id} input:checked`),
          (i) => i.value,
        );
      return {
        region: val('map-region'),
        week: val('map-week'),
        target: val('map-target'),
        media: ticked('map-media'),
        controls: ticked('map-controls'),
        mediaPrefix: (document.getElementById('map-media-prefix') as HTMLInputElement).value,
      };
    });
  }

  const upload = (name: string, text: string) =>
    page.setInputFiles('#csv-file', { name, mimeType: 'text/csv', buffer: Buffer.from(text) });
  const fixture = (name: string) => readFileSync(join(ROOT, 'tests', 'fixtures', name), 'utf8');
  /**
   * The Meridian-style fixture with each region's KPI in the last `holdout` weeks set to its mean
   * over the `recent` weeks before: the naive recent-mean forecast is then exact, so any fit
   * forecasts worse than it (a short fit on the real file now beats both naive forecasts).
   */
  const flatHoldout = (text: string, holdout = 7, recent = 13) => {
    const lines = text.trim().split('\n');
    const head = lines[0].split(',');
    const [geo, time, kpi] = ['geo', 'time', 'conversions'].map((c) => head.indexOf(c));
    const rows = lines.slice(1).map((l) => l.split(','));
    const weeks = [...new Set(rows.map((r) => r[time]))].sort();
    const cut = weeks.length - holdout;
    for (const g of new Set(rows.map((r) => r[geo]))) {
      const own = rows.filter((r) => r[geo] === g);
      const at = (r: string[]) => weeks.indexOf(r[time]);
      const before = own.filter((r) => at(r) >= cut - recent && at(r) < cut);
      const mean = before.reduce((s, r) => s + Number(r[kpi]), 0) / before.length;
      for (const r of own) if (at(r) >= cut) r[kpi] = String(mean);
    }
    return [lines[0], ...rows.map((r) => r.join(','))].join('\n') + '\n';
  };

  test('a failed CSV clears the previous results and keeps the roles it found', async () => {
    // the Cancel test left a result on the page
    expect((await pageState(page)).summary).not.toBeNull();
    await expect(page.isVisible('#results-section')).resolves.toBe(true);
    await upload('bad.csv', 'region,week,impressions_tv\nA,1,5\nA,2,6\n');
    const error = page.locator('#error');
    await error.waitFor({ state: 'visible', timeout: 10_000 });
    await expect(error.textContent()).resolves.toBe(
      'Some columns were not recognised (no KPI column). Choose Target (KPI) below, then Apply columns.',
    );
    await expect(formRoles(page)).resolves.toMatchObject({
      region: 'region',
      week: 'week',
      target: '',
      media: ['impressions_tv'],
    });
    const s = await pageState(page);
    expect(s).toMatchObject({ summary: null, budget: null, charts: 0, warning: null, history: [] });
    await expect(page.isVisible('#results-section')).resolves.toBe(false);
    await expect(page.isVisible('#budget-section')).resolves.toBe(false);
    await expect(page.textContent('#summary')).resolves.toBe('');
    await expect(page.textContent('#mapping-summary')).resolves.toBe('');
    await expect(page.isDisabled('#train')).resolves.toBe(true);
    await expect(page.isDisabled('#download-model')).resolves.toBe(true);
  }, 60_000);

  test('unfamiliar media prefixes: region, week and KPI pre-filled, the prefix picks the media', async () => {
    await upload('imp-prefix.csv', fixture('imp-prefix.csv'));
    await page.locator('#error').waitFor({ state: 'visible', timeout: 10_000 });
    await expect(page.textContent('#error')).resolves.toMatch(
      /^Some columns were not recognised \(no media columns .*\)\. Choose Media columns \(tick them\) or the media Prefix below/,
    );
    await expect(formRoles(page)).resolves.toEqual({
      region: 'geo',
      week: 'week',
      target: 'sales',
      media: [],
      controls: ['control_price'],
      mediaPrefix: '',
    });
    await page.fill('#map-media-prefix', 'imp_');
    await expect(formRoles(page)).resolves.toMatchObject({
      media: ['imp_tv', 'imp_search', 'imp_social'],
    });
    await page.click('#apply-mapping');
    await expect(page.textContent('#data-summary')).resolves.toContain(
      'imp-prefix.csv: 4 regions × 60 weeks (240 region-weeks), 3 media channels, 1 control.',
    );
    await expect(page.isVisible('#error')).resolves.toBe(false);
    await expect(page.isDisabled('#train')).resolves.toBe(false);
  }, 60_000);

  test('a Meridian-style file: roles pre-filled; a poor fit warns; honest ETA; fits 760 px', async () => {
    await upload('meridian.csv', flatHoldout(fixture('meridian.csv')));
    // the page reads the file asynchronously: wait for its summary before reading the form
    await page.waitForFunction(
      () => document.querySelector('#data-summary')?.textContent?.startsWith('meridian.csv'),
      null,
      { timeout: 10_000 },
    );
    await expect(page.textContent('#data-summary')).resolves.toContain(
      'meridian.csv: 3 regions × 60 weeks',
    );
    await expect(page.isVisible('#error')).resolves.toBe(false);
    await expect(formRoles(page)).resolves.toEqual({
      region: 'geo',
      week: 'time',
      target: 'conversions',
      media: ['Channel0_impression', 'Channel1_impression', 'Channel2_impression'],
      controls: [
        'competitor_sales_control',
        'sentiment_score_control',
        'Promo',
        'Organic_channel0_impression',
      ],
      mediaPrefix: '',
    });
    const summary = (await page.textContent('#mapping-summary')) ?? '';
    expect(summary).toMatch(/^layout: Meridian-style/);
    expect(summary).toMatch(/^revenue_per_conversion +ignored .* causalmix fit --kpi revenue\)$/m);

    // a holdout the naive recent mean forecasts exactly: the page says the fit is worse
    await page.fill('#epochs', '20');
    await page.fill('#warm', '10');
    await page.fill('#hidden', '8');
    const before = (await pageState(page)).results;
    await page.click('#train');
    await page.waitForFunction(
      () => (window as unknown as HookWindow).__causalmix.state.history.length >= 1,
      null,
      { timeout: 120_000 },
    );
    await expect(page.textContent('#progress-text')).resolves.toMatch(
      /^Warm start: epoch \d+ of 10 \(overall \d+ of 30\) · loss .* · R² on y\/ȳ, training weeks /,
    );
    const s = await waitForResult(page, before + 1, 170_000);
    const check = s.summary!.check;
    expect(check.naive[0].rmse).toBeLessThan(1e-6 * check.modelRmse);
    expect(check.modelRmse).toBeGreaterThan(check.naive[0].rmse);
    expect(s.warning).toMatch(
      /^the model forecasts the 7 holdout weeks worse than a naive forecast/,
    );
    await expect(page.isVisible('#fit-warning')).resolves.toBe(true);
    await expect(page.textContent('#fit-warning')).resolves.toBe(`Warning: ${s.warning}`);
    await expect(page.textContent('#mapping-summary')).resolves.toMatch(/^layout: Meridian-style/);
    // one R² definition in progress and report, named the same way
    await expect(page.textContent('#summary')).resolves.toContain(
      `R² on y/ȳ over the training weeks (as shown during training): ${s.summary!.trainR2Scaled.toFixed(3)}`,
    );
    const last = s.history[s.history.length - 1];
    expect(Math.abs(last.r2 - s.summary!.trainR2Scaled)).toBeLessThan(
      0.01 * Math.max(1, Math.abs(last.r2)),
    );

    // the ETA at the first training report against the time the rest really took
    const i = s.history.findIndex((p) => p.phase === 'train');
    const actual = last.elapsedMs - s.history[i].elapsedMs;
    const ratio = s.etas[i] / actual;
    console.log(
      `ETA at the first training report: ${s.etas[i].toFixed(0)} ms, took ${actual.toFixed(0)} ms`,
    );
    expect(ratio).toBeGreaterThan(0.4);
    expect(ratio).toBeLessThan(2.5);

    // a 760 px window: nothing wider than the page, every chart inside its frame
    await page.setViewportSize({ width: 760, height: 900 });
    try {
      const fit = await page.evaluate(() => {
        const figs = Array.from(document.querySelectorAll('#charts figure'));
        return {
          scrollWidth: document.documentElement.scrollWidth,
          charts: figs.length,
          overflowing: figs.filter((f) => {
            const svg = f.querySelector('svg');
            return svg && svg.getBoundingClientRect().width > f.getBoundingClientRect().width + 0.5;
          }).length,
          loss: document.getElementById('loss-chart')!.getBoundingClientRect().width,
        };
      });
      expect(fit.charts).toBeGreaterThanOrEqual(10);
      expect(fit.overflowing).toBe(0);
      expect(fit.scrollWidth).toBeLessThanOrEqual(760);
      expect(fit.loss).toBeLessThanOrEqual(760);
      await page.screenshot({
        path: join(ROOT, 'test-results', 'browser-e2e-760.png'),
        fullPage: true,
      });
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    // numbers for people: billions as B, no SI G, no "0k"/"0M" ticks
    const labels = await page.$$eval('#charts svg text', (ts) =>
      ts.map((t) => t.textContent ?? ''),
    );
    expect(labels.filter((l) => /^-?[\d.]+G$/.test(l))).toEqual([]);
    expect(labels.filter((l) => /^0[kMB]$/.test(l))).toEqual([]);
  }, 240_000);

  test('a model file that fails to load leaves a message, not "Loading …"', async () => {
    await page.setInputFiles('#model-file', {
      name: 'broken-model.json',
      mimeType: 'application/json',
      buffer: Buffer.from('{"format": "causalmix-model", "version": 1'),
    });
    await page.waitForFunction(
      () => (window as unknown as HookWindow).__causalmix.state.status === 'error',
      null,
      { timeout: 30_000 },
    );
    await expect(page.textContent('#progress-text')).resolves.toBe(
      'broken-model.json could not be loaded.',
    );
    await expect(page.textContent('#error')).resolves.toMatch(/not JSON/);
    // the model file replaced the view: the previous results are gone
    const s = await pageState(page);
    expect(s).toMatchObject({ summary: null, charts: 0, warning: null });
    await expect(page.isVisible('#results-section')).resolves.toBe(false);
  }, 60_000);

  test('a reloaded tab offers to resume the training it interrupted, and resumes it exactly', async () => {
    // about 12 s of training at the first test's pace; checkpoints come every 2 s
    const pace = Number.isFinite(browserMsPerEpoch) ? browserMsPerEpoch : 300;
    const run = { epochs: Math.min(5000, Math.max(40, Math.round(12_000 / pace))), warm: 2 };
    await page.click('#demo-data');
    await page.fill('#epochs', String(run.epochs));
    await page.fill('#warm', String(run.warm));
    await page.fill('#hidden', '8');
    await page.click('#train');
    // a checkpoint in the main phase (the one at the end of the warm start has epoch 0)
    await page.waitForFunction(
      () => {
        const s = (window as unknown as HookWindow).__causalmix.state;
        return (s.savedEpoch ?? 0) > 0 || s.status !== 'training';
      },
      null,
      { timeout: 120_000, polling: 100 },
    );
    await expect(pageState(page)).resolves.toMatchObject({ status: 'training' });

    // the reload ends the training; the page offers it back
    const t0 = Date.now();
    await page.reload();
    await storeRead(page);
    const before = await pageState(page);
    expect(before).toMatchObject({ status: 'idle', summary: null, results: 0, history: [] });
    const offer = before.resumeOffer!;
    expect(offer).toMatchObject({ epochs: run.epochs, warmDone: true });
    expect(offer.epoch).toBeGreaterThan(0);
    expect(offer.epoch).toBeLessThan(run.epochs);
    await expect(page.isVisible('#resume-banner')).resolves.toBe(true);
    await expect(page.textContent('#resume-text')).resolves.toMatch(
      new RegExp(
        `^An interrupted training \\(epoch ${offer.epoch} of ${run.epochs}, data 'Demo data ` +
          `\\(synthetic: .*\\)', saved .+\\) can be resumed\\.$`,
      ),
    );

    // Resume: the stored data and settings, no file to pick again
    await page.click('#resume');
    await expect(page.isVisible('#resume-banner')).resolves.toBe(false);
    await expect(page.inputValue('#epochs')).resolves.toBe(String(run.epochs));
    await expect(page.textContent('#data-summary')).resolves.toContain(
      `${DEMO.regions} regions × ${DEMO.weeks} weeks`,
    );
    const s = await waitForResult(page, 1, 180_000);
    console.log(
      `resumed at epoch ${offer.epoch} of ${run.epochs}: reload to result in ` +
        `${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    expect(s.summary).toMatchObject({
      source: 'trained',
      epochs: run.epochs,
      plannedEpochs: run.epochs,
      cancelled: false,
      resumedFrom: offer.epoch,
    });
    await expect(page.textContent('#summary')).resolves.toContain(
      `Trained ${run.warm} warm-start + ${run.epochs} epochs, resumed at epoch ${offer.epoch}, in `,
    );
    // the reports from before the checkpoint, then the resumed ones: one every logEvery epochs,
    // as in a training never stopped (one started again from 0 would repeat some)
    const logEvery = Math.max(1, Math.ceil((run.epochs + run.warm) / 100));
    const every = (n: number) =>
      Array.from({ length: Math.ceil(n / logEvery) }, (_, i) => Math.min((i + 1) * logEvery, n));
    const epochsOf = (phase: string) =>
      s.history.filter((p) => p.phase === phase).map((p) => p.epoch);
    expect(epochsOf('warm-start')).toEqual(every(run.warm));
    expect(epochsOf('train')).toEqual(every(run.epochs));
    // a training that finished is forgotten: a new tab offers nothing
    await inNewTab(async (tab, state) => {
      expect(state.resumeOffer).toBeNull();
      await expect(tab.isVisible('#resume-banner')).resolves.toBe(false);
    });

    // the same training never stopped ends with the same model, bit for bit (same adapter)
    const resumed = await page.evaluate(() =>
      (window as unknown as HookWindow).__causalmix.predictions(),
    );
    await page.click('#train');
    const whole = await waitForResult(page, 2, 180_000);
    expect(whole.summary).toMatchObject({ epochs: run.epochs, resumedFrom: null });
    const straight = await page.evaluate(() =>
      (window as unknown as HookWindow).__causalmix.predictions(),
    );
    expect(maxRelativeDiff(resumed, straight)).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 300_000);

  test('a browser without WebGPU says so on the page', async () => {
    const plain = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: NO_WEBGPU_FLAGS,
    });
    try {
      const p = await plain.newPage();
      await p.goto(server.url);
      await p.waitForFunction(() => '__causalmix' in window);
      await p.click('#demo-data');
      await p.click('#train');
      await p.waitForFunction(
        () => (window as unknown as HookWindow).__causalmix.state.status === 'error',
        null,
        { timeout: 60_000 },
      );
      const text = (await p.textContent('#error')) ?? '';
      expect(text).toMatch(/^This browser has no WebGPU/);
      expect(text).toContain('CPU reference engine');
      await expect(p.textContent('#adapter')).resolves.toMatch(/not started/);
    } finally {
      await plain.close();
    }
  }, 120_000);
});
