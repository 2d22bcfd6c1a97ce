/** Input charts: per-channel inputs vs contributions, scaled media inputs, control variables. */
import { scaledInputName, type MediaScaling } from '../data.js';
import type { ChartDef, Prepared } from './common.js';
import {
  baseConfig,
  channelColor,
  chartTitle,
  controlColor,
  meanOverRegions,
  round,
  sumOverRegions,
  weekTooltip,
  weekX,
} from './common.js';

/** Small multiples: one row per channel, national weekly inputs beside its contribution. */
export function channelDetailChart(p: Prepared): ChartDef {
  const { R, W, C } = p.dims;
  const inputs = sumOverRegions(p.data.mediaInputs, R, W, C);
  const contrib = sumOverRegions(p.data.mediaContrib, R, W, C);
  const inputLabel = `Weekly ${p.mediaUnit} (national)`;
  const contribLabel = `Weekly contribution (${p.kpi})`;
  const rows: object[] = [];
  for (let c = 0; c < C; c++) {
    for (let w = 0; w < W; w++) {
      const base = {
        channel: p.data.channels[c],
        week: p.week.values[w],
        weekLabel: p.week.labels[w],
      };
      rows.push({ ...base, measure: inputLabel, value: round(inputs[w * C + c]) });
      rows.push({ ...base, measure: contribLabel, value: round(contrib[w * C + c]) });
    }
  }
  const title = 'Channel detail: inputs and contributions';
  return {
    id: 'channel-detail',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(
        title,
        `Per channel: ${p.mediaUnit} summed over ${R} regions (left), contribution to ${p.kpi} (right)`,
      ),
      data: { values: rows },
      facet: {
        row: {
          field: 'channel',
          type: 'nominal',
          sort: p.data.channels,
          title: null,
          header: { labelAngle: 0, labelAlign: 'left', labelFontWeight: 'bold' },
        },
        column: {
          field: 'measure',
          type: 'nominal',
          sort: [inputLabel, contribLabel],
          title: null,
        },
      },
      spec: {
        width: 300,
        height: 80,
        mark: { type: 'line', strokeWidth: 1.5, point: { size: 8, opacity: 0 } },
        encoding: {
          x: weekX(p.week),
          y: {
            field: 'value',
            type: 'quantitative',
            title: null,
            axis: { tickCount: 3, format: '~s' },
          },
          color: {
            field: 'channel',
            type: 'nominal',
            scale: channelColor(p.data.channels),
            legend: null,
          },
          tooltip: [
            { field: 'channel', type: 'nominal', title: 'Channel' },
            weekTooltip,
            { field: 'measure', type: 'nominal', title: 'Series' },
            { field: 'value', type: 'quantitative', title: 'Value', format: ',.0f' },
          ],
        },
      },
      resolve: { scale: { y: 'independent' } },
    },
  };
}

/**
 * Scaled media inputs (the model's input), mean over regions; skipped without mediaShares. The
 * labels say which scaling it is, so a region-mean scaled input is not read as a share of voice.
 */
export function mediaSharesChart(p: Prepared): ChartDef | null {
  if (p.data.mediaShares === undefined) return null;
  const { R, W, C } = p.dims;
  const mean = meanOverRegions(p.data.mediaShares, R, W, C);
  const rows: object[] = [];
  for (let w = 0; w < W; w++)
    for (let c = 0; c < C; c++)
      rows.push({
        week: p.week.values[w],
        weekLabel: p.week.labels[w],
        channel: p.data.channels[c],
        value: round(mean[w * C + c]),
      });
  const name = scaledInputName(p.data.mediaScaling);
  const words = scalingWords(p.data.mediaScaling);
  const title = words ? `Scaled media inputs (${words})` : 'Scaled media inputs';
  return {
    id: 'media-shares',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(title, `Model input per channel: ${name}, mean over ${R} regions`),
      data: { values: rows },
      width: 640,
      height: 280,
      mark: { type: 'line', strokeWidth: 1.5, point: { size: 10, opacity: 0 } },
      encoding: {
        x: weekX(p.week),
        y: {
          field: 'value',
          type: 'quantitative',
          title: words ? `Mean over regions: ${words}` : 'Mean over regions',
        },
        color: {
          field: 'channel',
          type: 'nominal',
          title: 'Channel',
          scale: channelColor(p.data.channels),
          sort: p.data.channels,
        },
        tooltip: [
          weekTooltip,
          { field: 'channel', type: 'nominal', title: 'Channel' },
          { field: 'value', type: 'quantitative', title: 'Scaled input', format: '.3~r' },
        ],
      },
    },
  };
}

/** The scaling in a few words for the title and axis; null when the data do not say. */
function scalingWords(scaling: MediaScaling | undefined): string | null {
  if (scaling === 'shareOfVoice') return 'share of voice';
  if (scaling === 'regionMean') return 'x / 4·region mean';
  return null;
}

/** Control contributions (national sum) and, when given, scaled control inputs (mean). */
export function controlsChart(p: Prepared): ChartDef | null {
  const { R, W, K } = p.dims;
  if (K === 0) return null;
  const contribLabel = `Contribution (${p.kpi}, national sum)`;
  const inputLabel = 'Scaled value (mean over regions)';
  const contrib = sumOverRegions(p.data.controlContrib, R, W, K);
  const inputs =
    p.data.controlInputs !== undefined ? meanOverRegions(p.data.controlInputs, R, W, K) : null;
  const rows: object[] = [];
  for (let w = 0; w < W; w++) {
    for (let k = 0; k < K; k++) {
      const base = {
        week: p.week.values[w],
        weekLabel: p.week.labels[w],
        control: p.data.controlNames[k],
      };
      rows.push({ ...base, measure: contribLabel, value: round(contrib[w * K + k]) });
      if (inputs) rows.push({ ...base, measure: inputLabel, value: round(inputs[w * K + k]) });
    }
  }
  const measures = inputs ? [contribLabel, inputLabel] : [contribLabel];
  const title = 'Control variables';
  return {
    id: 'controls',
    title,
    spec: {
      ...baseConfig,
      title: chartTitle(
        title,
        inputs
          ? `Weekly contribution to ${p.kpi} and scaled input per control`
          : `Weekly contribution to ${p.kpi} per control`,
      ),
      data: { values: rows },
      facet: {
        row: {
          field: 'measure',
          type: 'nominal',
          sort: measures,
          title: null,
          header: {
            labelAngle: 0,
            labelOrient: 'top',
            labelAnchor: 'start',
            labelFontWeight: 'bold',
          },
        },
      },
      spec: {
        width: 600,
        height: 150,
        mark: { type: 'line', strokeWidth: 1.5, point: { size: 10, opacity: 0 } },
        encoding: {
          x: weekX(p.week),
          y: { field: 'value', type: 'quantitative', title: null },
          color: {
            field: 'control',
            type: 'nominal',
            title: 'Control',
            scale: controlColor(p.data.controlNames),
          },
          tooltip: [
            weekTooltip,
            { field: 'control', type: 'nominal', title: 'Control' },
            { field: 'measure', type: 'nominal', title: 'Series' },
            { field: 'value', type: 'quantitative', title: 'Value', format: ',.4~r' },
          ],
        },
      },
      resolve: { scale: { y: 'independent' } },
    },
  };
}
