/** Fit warnings (src/analysis/warnings.ts) on panels with a known process. */
import { evaluationReport, type EvaluationReport } from '../src/analysis/metrics.js';
import { collinearPairs, demandFollowers, fitWarnings } from '../src/analysis/warnings.js';
import { UnifiedDataPipeline, type PreparedData } from '../src/data/pipeline.js';
import { getDefaultConfig } from '../src/model/config.js';
import { generateRecoveryPanel } from '../src/recovery/generator.js';
import { scenarioById } from '../src/recovery/scenarios.js';

const prepared = (id: string, seed = 1) =>
  new UnifiedDataPipeline(getDefaultConfig()).fit(
    generateRecoveryPanel(scenarioById(id).panel(0.3, seed)).panel,
  );

/** An evaluation of `prepared` whose predictions are the truth times `factor`. */
function reportFor(p: PreparedData, factor: number): EvaluationReport {
  return evaluationReport({
    actual: p.rawTarget,
    predicted: p.rawTarget.map((v) => v * factor),
    observed: p.observed,
    wTrain: p.wTrain,
    yMean: p.yMean,
    regions: p.regions,
  });
}

describe('fitWarnings', () => {
  test('a correlated pair is named, and only it (scenarios c and a)', () => {
    const c = collinearPairs(prepared('c'));
    expect(c.map((x) => [x.a, x.b])).toEqual([['social', 'display']]);
    expect(c[0].correlation).toBeGreaterThan(0.9);
    expect(collinearPairs(prepared('a'))).toEqual([]);
  });

  test('a channel bought into the season is named, and only it (scenarios j and a)', () => {
    for (const seed of [1, 2, 3]) {
      expect(demandFollowers(prepared('j', seed)).map((d) => d.channel)).toEqual(['search']);
      expect(demandFollowers(prepared('a', seed))).toEqual([]);
    }
  });

  test('the media share sitting at the attribution prior, only when the prior is on', () => {
    const p = prepared('a');
    const report = reportFor(p, 1);
    const at = (weight: number, share: number) =>
      fitWarnings({
        prepared: p,
        config: { mediaPrior: 0.4, mediaPriorWeight: weight },
        mediaShare: share,
        report,
      }).map((w) => w.kind);
    expect(at(0.5, 0.399)).toEqual(['media-share-at-prior']);
    expect(at(0.5, 0.3)).toEqual([]);
    expect(at(0, 0.4)).toEqual([]);
  });

  test('a forecast worse than the naive one, with both RMSEs in the message', () => {
    const p = prepared('a');
    const config = { mediaPrior: 0.4, mediaPriorWeight: 0 };
    const good = fitWarnings({ prepared: p, config, mediaShare: 0.3, report: reportFor(p, 1) });
    expect(good).toEqual([]);
    const bad = fitWarnings({ prepared: p, config, mediaShare: 0.3, report: reportFor(p, 1.5) });
    expect(bad.map((w) => w.kind)).toEqual(['poor-forecast']);
    expect(bad[0].message).toMatch(/worse than a naive forecast.*RMSE [\d,.]+ against [\d,.]+/);
  });
});
