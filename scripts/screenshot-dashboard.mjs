#!/usr/bin/env node
/**
 * Screenshots a causalmix dashboard.html in headless Chromium once every vega view has rendered.
 *
 *   node scripts/screenshot-dashboard.mjs dashboard.html out.png [--width 1400] [--scale 1]
 *        [--top <px>] [--chromium /usr/bin/chromium] [--timeout 120]
 *
 * --top keeps only the first <px> pixels of the page (a close-up of the first charts); without it
 * the whole page is captured. Exits non-zero when a chart shows an error or never renders, so the
 * picture is never silently blank.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

function parseArgs(argv) {
  const pos = [];
  const opts = { width: 1400, scale: 1, top: 0, chromium: '/usr/bin/chromium', timeout: 120 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      pos.push(a);
      continue;
    }
    const key = a.slice(2);
    const val = argv[++i];
    if (!(key in opts) || val === undefined) throw new Error(`unknown or incomplete option ${a}`);
    opts[key] = key === 'chromium' ? val : Number(val);
    if (key !== 'chromium' && !(opts[key] >= 0)) throw new Error(`${a} needs a number ≥ 0`);
  }
  if (pos.length !== 2) {
    throw new Error(
      'usage: node scripts/screenshot-dashboard.mjs dashboard.html out.png [options]',
    );
  }
  return { html: resolve(pos[0]), out: resolve(pos[1]), ...opts };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!existsSync(o.html)) throw new Error(`no such file: ${o.html}`);
  const browser = await chromium.launch({ executablePath: o.chromium, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({
      viewport: { width: o.width, height: 900 },
      deviceScaleFactor: o.scale || 1,
    });
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(pathToFileURL(o.html).href, { waitUntil: 'load' });
    // Every chart container ends with either an svg (rendered) or an .error box.
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('.view')].every(
          (el) => el.querySelector('svg') !== null || el.querySelector('.error') !== null,
        ),
      null,
      { timeout: o.timeout * 1000, polling: 250 },
    );
    const state = await page.evaluate(() => ({
      views: document.querySelectorAll('.view').length,
      errors: [...document.querySelectorAll('.view .error')].map(
        (e) => `${e.closest('.view').id}: ${e.textContent}`,
      ),
      height: document.documentElement.scrollHeight,
    }));
    const shot = { path: o.out, fullPage: o.top === 0 };
    if (o.top > 0) {
      shot.clip = { x: 0, y: 0, width: o.width, height: Math.min(o.top, state.height) };
      await page.setViewportSize({ width: o.width, height: Math.min(o.top, state.height) });
    }
    await page.screenshot(shot);
    console.log(
      `${o.out}: ${state.views} charts, page ${o.width}×${state.height} px` +
        (o.top > 0 ? `, kept the top ${shot.clip.height} px` : ''),
    );
    const problems = [...state.errors, ...pageErrors];
    if (problems.length > 0) {
      console.error(`chart errors:\n  ${problems.join('\n  ')}`);
      process.exitCode = 1;
    }
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
