/**
 * The recovery benchmark's scenarios (issue 12): each a panel recipe with pinned parameters, run
 * at two or three true media shares and several seeds. Base panel: 20 regions × 104 weeks, four
 * channels, two controls, noise sd 5 % of the region level.
 */
import type { ChannelPlan, RecoveryPanelOptions } from './generator.js';

export interface Scenario {
  /** short id: 'a' … 'j' */
  id: string;
  name: string;
  /** true media shares of the KPI it runs at */
  mediaShares: number[];
  /** the panel for one media share and seed */
  panel(mediaShare: number, seed: number): RecoveryPanelOptions;
}

const BASE = { regions: 20, weeks: 104, controls: 2, noise: 0.05 } as const;

const flighted = (names: string[], weights: number[]): ChannelPlan[] =>
  names.map((name, i) => ({ name, pattern: 'flighted', weight: weights[i] }));

const FOUR = ['tv', 'search', 'social', 'display'];
const WEIGHTS = [0.4, 0.25, 0.2, 0.15];
/** plain scenarios deal the weights out in a seeded order, so no channel is always the largest */
const SHUFFLE = { shuffleWeights: true } as const;

function scenario(
  id: string,
  name: string,
  channels: ChannelPlan[],
  extra: Partial<RecoveryPanelOptions> = {},
  mediaShares = [0.15, 0.3, 0.55],
): Scenario {
  return {
    id,
    name,
    mediaShares,
    panel: (mediaShare, seed) => ({ ...BASE, seed, mediaShare, channels, ...extra }),
  };
}

export const SCENARIOS: Scenario[] = [
  scenario('a', 'flighted channels', flighted(FOUR, WEIGHTS), SHUFFLE),
  scenario(
    'b',
    'always-on channels (CV ≥ 0.3)',
    FOUR.map((name, i) => ({ name, pattern: 'alwaysOn', weight: WEIGHTS[i] })),
    SHUFFLE,
  ),
  scenario('c', 'two channels with input correlation ≥ 0.9', [
    ...flighted(['tv', 'search'], [0.35, 0.25]),
    { name: 'social', pattern: { correlatedWith: 'display' }, weight: 0.25 },
    { name: 'display', pattern: { correlatedWith: 'social' }, weight: 0.15 },
  ]),
  scenario('d', 'a media→media edge (tv drives search)', [
    { name: 'tv', pattern: 'flighted', weight: 0.35 },
    { name: 'search', pattern: 'flighted', weight: 0.3, parent: { channel: 'tv', k: 0.75 } },
    ...flighted(['social', 'display'], [0.2, 0.15]),
  ]),
  scenario('e', 'trend +20 % and a level shift −15 %', flighted(FOUR, WEIGHTS), {
    ...SHUFFLE,
    trend: 0.2,
    levelShift: { at: 0.6, size: -0.15 },
  }),
  scenario('f', 'one region', flighted(FOUR, WEIGHTS), { ...SHUFFLE, regions: 1, weeks: 156 }),
  scenario('g', 'no controls', flighted(FOUR, WEIGHTS), { ...SHUFFLE, controls: 0 }),
  scenario('h', '150 regions', flighted(FOUR, WEIGHTS), { ...SHUFFLE, regions: 150 }, [0.15, 0.55]),
  scenario('i', 'a channel with no effect (display)', flighted(FOUR, [0.45, 0.3, 0.25, 0])),
  scenario('j', 'a channel whose spend follows demand (search)', [
    { name: 'tv', pattern: 'flighted', weight: 0.4 },
    { name: 'search', pattern: 'demand', weight: 0.25 },
    ...flighted(['social', 'display'], [0.2, 0.15]),
  ]),
];

export function scenarioById(id: string): Scenario {
  const s = SCENARIOS.find((x) => x.id === id);
  if (!s)
    throw new Error(
      `causalmix: unknown recovery scenario '${id}' (known: ${SCENARIOS.map((x) => x.id).join(', ')})`,
    );
  return s;
}
