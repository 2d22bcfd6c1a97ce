/**
 * The channel graph learned from the media series (src/analysis/media-graph.ts) on panels with a
 * known process: the true edge of a media→media scenario is found with its direction, panels
 * without an edge (a correlated pair, a demand-following channel, independent flights) get none,
 * and the graph follows the channels when their order changes.
 */
import { learnMediaGraph } from '../src/analysis/media-graph.js';
import { UnifiedDataPipeline } from '../src/data/pipeline.js';
import { getDefaultConfig } from '../src/model/config.js';
import { generateRecoveryPanel } from '../src/recovery/generator.js';
import { scenarioById } from '../src/recovery/scenarios.js';
import { permuteChannels } from '../src/recovery/score.js';
import type { Panel } from '../src/data/panel.js';

const prepare = (panel: Panel) => new UnifiedDataPipeline(getDefaultConfig()).fit(panel);
const edgesOf = (panel: Panel) => {
  const p = prepare(panel);
  return learnMediaGraph(p).edges.map((e) => `${p.channels[e.from]}>${p.channels[e.to]}`);
};

describe('learnMediaGraph', () => {
  test.each([1, 2, 3])('the true edge tv → search is found (scenario d, seed %i)', (seed) => {
    const rp = generateRecoveryPanel(scenarioById('d').panel(0.3, seed));
    expect(edgesOf(rp.panel)).toEqual(['tv>search']);
  });

  test.each(['a', 'c', 'j'])('no edge without one (scenario %s, seeds 1–3)', (id) => {
    for (const seed of [1, 2, 3]) {
      const rp = generateRecoveryPanel(scenarioById(id).panel(0.3, seed));
      expect(edgesOf(rp.panel)).toEqual([]);
    }
  });

  test('the edge follows the channels when their order changes', () => {
    const rp = generateRecoveryPanel(scenarioById('d').panel(0.3, 1));
    const reversed = permuteChannels(rp.panel, [3, 2, 1, 0]);
    expect(edgesOf(reversed)).toEqual(['tv>search']);
    const a = learnMediaGraph(prepare(rp.panel));
    const b = learnMediaGraph(prepare(reversed));
    expect(b.edges[0].strength).toBeCloseTo(a.edges[0].strength, 10);
    expect(b.adjacency[3 - 0][3 - 1]).toBeCloseTo(a.adjacency[0][1], 10);
  });

  test('the strength is the cause’s share of the child’s input (0.75 × tv’s level here)', () => {
    const rp = generateRecoveryPanel(scenarioById('d').panel(0.3, 1));
    const g = learnMediaGraph(prepare(rp.panel));
    // the child's input is its own flights (level ~1) plus 0.75 × tv's carried-over level (~1)
    expect(g.edges[0].strength).toBeGreaterThan(0.25);
    expect(g.edges[0].strength).toBeLessThan(0.6);
  });

  test('fewer than 8 regions: nothing to compare within a week, no graph', () => {
    const rp = generateRecoveryPanel({ ...scenarioById('d').panel(0.3, 1), regions: 5 });
    const g = learnMediaGraph(prepare(rp.panel));
    expect(g.edges).toEqual([]);
    expect(g.adjacency.flat().every((v) => v === 0)).toBe(true);
  });
});
