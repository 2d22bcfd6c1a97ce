/**
 * Total effects per channel (src/analysis/channel-effects.ts): direct + mediated, over the observed
 * training region-weeks; the totals over channels equal the media components of the decomposition
 * over the same cells; the media graph moves credit from a child to its cause.
 */
import { channelEffects } from '../src/analysis/channel-effects.js';
import { UnifiedDataPipeline } from '../src/data/pipeline.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { getDefaultConfig, updateConfig } from '../src/model/config.js';
import type { FittedMMM } from '../src/model/fitted.js';
import { ModelTrainer } from '../src/model/trainer.js';
import { generateRecoveryPanel, type RecoveryPanel } from '../src/recovery/generator.js';
import { scenarioById } from '../src/recovery/scenarios.js';

let e: Engine;
let rp: RecoveryPanel;
let fitted: FittedMMM;
beforeAll(async () => {
  e = await createEngine({ adapter: 'auto' });
  // scenario d (tv drives search) at the benchmark's 20 regions, where the graph finds its edge
  rp = generateRecoveryPanel({ ...scenarioById('d').panel(0.3, 1), regions: 20 });
  const config = updateConfig(getDefaultConfig(), {
    hiddenDim: 8,
    epochs: 30,
    warmStartEpochs: 5,
    logEvery: 30,
  });
  fitted = await new ModelTrainer(e, config).fit(new UnifiedDataPipeline(config).fit(rp.panel));
}, 300_000);
afterAll(() => {
  fitted?.dispose();
  e?.destroy();
});

test('totals equal the media components over the training cells; direct + mediated = total', async () => {
  const dec = await fitted.decompose();
  const eff = await channelEffects(fitted, dec, {
    rawMedia: rp.panel.media,
    costPerImpression: rp.costPerImpression,
  });
  const p = fitted.prepared;
  let media = 0;
  for (let r = 0; r < p.R; r++)
    for (let w = 0; w < p.wTrain; w++)
      for (let c = 0; c < p.C; c++) media += dec.mediaContrib[(r * p.W + w) * p.C + c];
  expect(eff.mediaTotal).toBeCloseTo(media, -Math.log10(Math.abs(media)) + 5);
  eff.channels.forEach((_, c) =>
    expect(eff.direct[c] + eff.mediated[c]).toBeCloseTo(eff.total[c], 6),
  );
  expect(eff.shareOfMedia.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
  // the cause gets credit, the child gives it: tv → search
  const tv = eff.channels.indexOf('tv');
  const search = eff.channels.indexOf('search');
  expect(eff.mediated[tv]).toBeGreaterThan(0);
  expect(eff.edgeShare[tv][search]).toBeGreaterThan(0.1);
  // ROAS = total / spend over the same cells
  let spend = 0;
  for (let r = 0; r < p.R; r++)
    for (let w = 0; w < p.wTrain; w++)
      spend += rp.panel.media[(r * p.W + w) * p.C + tv] * rp.costPerImpression.tv;
  expect(eff.roas[tv]).toBeCloseTo(eff.total[tv] / spend, 8);
  // channels.csv: one row per channel with the columns
  const csv = eff.toCsv().trim().split('\n');
  expect(csv[0]).toBe(
    'channel,direct_contribution,mediated_contribution,total_contribution,share_of_media,roas,' +
      'total_contribution_lo,total_contribution_hi,share_of_media_lo,share_of_media_hi,roas_lo,roas_hi',
  );
  expect(csv).toHaveLength(1 + p.C);
  // one model: the interval columns are empty
  for (const row of csv.slice(1)) expect(row.split(',').slice(6)).toEqual(['', '', '', '', '', '']);
}, 120_000);

test('without costs ROAS is empty', async () => {
  const eff = await channelEffects(fitted);
  expect(eff.roas.every((v) => Number.isNaN(v))).toBe(true);
  expect(eff.toCsv().split('\n')[1]).toMatch(/,$/);
});
