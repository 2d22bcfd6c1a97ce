/**
 * DAG charts. The network puts the channels on a circle (clockwise from the top) and draws each
 * edge i → j with weight ≥ threshold as a rule whose width follows the weight, with a rotated
 * triangle at the target end for the direction. The heatmap shows the whole adjacency matrix.
 */
import type { ChartDef, Prepared } from './common.js';
import { baseConfig, channelColor, chartTitle, round } from './common.js';

export interface DagEdge {
  from: string;
  to: string;
  weight: number;
}

/** Edges i → j (i ≠ j) whose weight reaches the threshold, strongest first. */
export function dagEdges(p: Prepared): DagEdge[] {
  const { adjacency, threshold } = p.data.dag;
  const ch = p.data.channels;
  const edges: DagEdge[] = [];
  for (let i = 0; i < ch.length; i++)
    for (let j = 0; j < ch.length; j++)
      if (i !== j && adjacency[i][j] >= threshold)
        edges.push({ from: ch[i], to: ch[j], weight: adjacency[i][j] });
  return edges.sort((a, b) => b.weight - a.weight);
}

const NODE_R = 0.13; // node radius in data units: edges stop at the rim
const SIDE = 0.025; // edges shift sideways so i → j and j → i do not overlap

export function dagNetworkChart(p: Prepared): ChartDef {
  const ch = p.data.channels;
  const C = ch.length;
  const pos = ch.map((_, i) => {
    const a = Math.PI / 2 - (2 * Math.PI * i) / C;
    return { x: Math.cos(a), y: Math.sin(a) };
  });
  const index = new Map(ch.map((c, i) => [c, i]));
  const nodes = ch.map((channel, i) => ({
    channel,
    x: round(pos[i].x),
    y: round(pos[i].y),
    lx: round(pos[i].x * 1.27),
    ly: round(pos[i].y * 1.27),
  }));
  const edges = dagEdges(p).map((e) => {
    const a = pos[index.get(e.from)!];
    const b = pos[index.get(e.to)!];
    const len = Math.hypot(b.x - a.x, b.y - a.y);
    const ux = (b.x - a.x) / len;
    const uy = (b.y - a.y) / len;
    const ox = uy * SIDE;
    const oy = -ux * SIDE;
    const x2 = b.x - ux * NODE_R + ox;
    const y2 = b.y - uy * NODE_R + oy;
    return {
      ...e,
      weight: round(e.weight),
      x: round(a.x + ux * NODE_R + ox),
      y: round(a.y + uy * NODE_R + oy),
      x2: round(x2),
      y2: round(y2),
      // triangle-up rotated clockwise: screen y points down, so angle = atan2(dx, dy)
      angle: round((Math.atan2(ux, uy) * 180) / Math.PI),
    };
  });
  const domain = [-1.45, 1.45];
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    scale: { domain },
    axis: null,
  };
  const y = { ...x, field: 'y' };
  const maxW = Math.max(...edges.map((e) => e.weight ?? 0), p.data.dag.threshold);
  const edgeTooltip = [
    { field: 'from', type: 'nominal' as const, title: 'From' },
    { field: 'to', type: 'nominal' as const, title: 'To' },
    { field: 'weight', type: 'quantitative' as const, title: 'Weight', format: '.3f' },
  ];
  const layers: object[] = [];
  if (edges.length > 0) {
    const width = {
      field: 'weight',
      type: 'quantitative' as const,
      scale: { domain: [p.data.dag.threshold, maxW], range: [1.2, 7] },
      legend: null,
    };
    const color = {
      field: 'from',
      type: 'nominal' as const,
      scale: channelColor(ch),
      legend: null,
    };
    layers.push({
      data: { values: edges },
      mark: { type: 'rule', opacity: 0.75, strokeCap: 'round' },
      encoding: {
        x,
        y,
        x2: { field: 'x2' },
        y2: { field: 'y2' },
        strokeWidth: width,
        color,
        tooltip: edgeTooltip,
      },
    });
    layers.push({
      data: { values: edges },
      mark: { type: 'point', shape: 'triangle-up', filled: true, size: 90, opacity: 0.9 },
      encoding: {
        x: { ...x, field: 'x2' },
        y: { ...y, field: 'y2' },
        angle: { field: 'angle', type: 'quantitative', scale: null },
        color,
        tooltip: edgeTooltip,
      },
    });
  }
  layers.push({
    data: { values: nodes },
    mark: { type: 'point', filled: true, size: 1100, opacity: 1, stroke: 'white', strokeWidth: 2 },
    encoding: {
      x,
      y,
      color: { field: 'channel', type: 'nominal', scale: channelColor(ch), legend: null },
      tooltip: [{ field: 'channel', type: 'nominal', title: 'Channel' }],
    },
  });
  layers.push({
    data: { values: nodes },
    mark: { type: 'text', fontSize: 11, fontWeight: 'bold' },
    encoding: { x: { ...x, field: 'lx' }, y: { ...y, field: 'ly' }, text: { field: 'channel' } },
  });
  const title = 'DAG network: channel influences';
  const subtitle =
    edges.length > 0
      ? `${edges.length} edges with weight ≥ ${p.data.dag.threshold}; arrow i → j: i influences j; width by weight`
      : `No edge reaches the threshold ${p.data.dag.threshold}`;
  return {
    id: 'dag-network',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(title, subtitle),
      width: 440,
      height: 440,
      layer: layers,
    } as ChartDef['spec'],
  };
}

export function dagHeatmapChart(p: Prepared): ChartDef {
  const ch = p.data.channels;
  const { adjacency, threshold } = p.data.dag;
  const rows: object[] = [];
  let max = 0;
  for (let i = 0; i < ch.length; i++) {
    for (let j = 0; j < ch.length; j++) {
      const w = adjacency[i][j];
      if (Number.isFinite(w)) max = Math.max(max, Math.abs(w));
      rows.push({
        from: ch[i],
        to: ch[j],
        weight: round(w),
        label: Number.isFinite(w) ? w.toFixed(2) : '',
        strong: w >= threshold && i !== j,
      });
    }
  }
  const cell = Math.max(26, Math.min(48, 520 / ch.length));
  const x = {
    field: 'to',
    type: 'nominal' as const,
    sort: ch,
    title: 'Influenced channel (to) →',
    axis: { orient: 'top' as const, labelAngle: -40 },
  };
  const y = {
    field: 'from',
    type: 'nominal' as const,
    sort: ch,
    title: 'Influencing channel (from) ↓',
  };
  const title = 'DAG adjacency matrix';
  return {
    id: 'dag-heatmap',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(title, `Row i, column j: influence of i on j; bold: weight ≥ ${threshold}`),
      data: { values: rows },
      width: cell * ch.length,
      height: cell * ch.length,
      layer: [
        {
          mark: { type: 'rect', stroke: 'white' },
          encoding: {
            x,
            y,
            color: {
              field: 'weight',
              type: 'quantitative',
              title: 'Weight',
              scale: { scheme: 'blues', domain: [0, max > 0 ? max : 1] },
            },
            tooltip: [
              { field: 'from', type: 'nominal', title: 'From' },
              { field: 'to', type: 'nominal', title: 'To' },
              { field: 'weight', type: 'quantitative', title: 'Weight', format: '.3f' },
            ],
          },
        },
        // bold labels mark the edges the network draws
        ...[true, false].map((strong) => ({
          transform: [{ filter: strong ? 'datum.strong' : '!datum.strong' }],
          mark: {
            type: 'text' as const,
            fontSize: ch.length > 10 ? 8 : 10,
            fontWeight: strong ? ('bold' as const) : ('normal' as const),
          },
          encoding: {
            x,
            y,
            text: { field: 'label' },
            color: {
              condition: { test: `datum.weight > ${0.6 * max}`, value: 'white' },
              value: '#222',
            },
          },
        })),
      ],
    },
  };
}
