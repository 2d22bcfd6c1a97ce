/**
 * A region × week panel in original units, the form every data source is brought to before the
 * pipeline scales it. Arrays are row-major and flat: media [R, W, C], controls [R, W, K],
 * target [R, W]; `observed[r * W + w]` is 1 where the region has that week, 0 where it is missing
 * (ragged regions share one week axis). Values of unobserved cells are 0 and never used.
 */
export interface Panel {
  regions: string[];
  /** the shared week axis, in order (week indices or ISO dates as found in the data) */
  weeks: (number | string)[];
  channels: string[];
  controlNames: string[];
  media: Float64Array;
  controls: Float64Array;
  target: Float64Array;
  observed: Uint8Array;
}

export function panelDims(p: Panel): { R: number; W: number; C: number; K: number } {
  return { R: p.regions.length, W: p.weeks.length, C: p.channels.length, K: p.controlNames.length };
}
