/**
 * A Panel written back as a long CSV in the layout the loader detects by itself (region, week,
 * target, impressions_<channel>, control_<name>); the demo writes its generated data this way so
 * `causalmix fit` can be run on it.
 */
import type { Panel } from '../data/panel.js';

const cell = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function panelToCsv(panel: Panel): string {
  const { regions, weeks, channels, controlNames } = panel;
  const W = weeks.length;
  const C = channels.length;
  const K = controlNames.length;
  const lines = [
    [
      'region',
      'week',
      'target',
      ...channels.map((c) => `impressions_${c}`),
      ...controlNames.map((k) => `control_${k}`),
    ]
      .map(cell)
      .join(','),
  ];
  regions.forEach((region, r) => {
    for (let w = 0; w < W; w++) {
      const i = r * W + w;
      if (!panel.observed[i]) continue;
      const media = Array.from(panel.media.subarray(i * C, (i + 1) * C), String);
      const ctrl = Array.from(panel.controls.subarray(i * K, (i + 1) * K), String);
      lines.push(
        [cell(region), cell(String(weeks[w])), String(panel.target[i]), ...media, ...ctrl].join(
          ',',
        ),
      );
    }
  });
  return lines.join('\n') + '\n';
}
