/**
 * Column-role options written as the CLI's flags, for the layout detector's messages: a library
 * error says `week: '<column>'`, the same error from `causalmix fit` says `--week <column>`.
 */
import { PLACEHOLDER, type OptionNamer, type RoleField } from '../data/layout.js';

const FLAGS: Record<RoleField, string> = {
  region: '--region',
  week: '--week',
  target: '--target',
  media: '--media',
  mediaPrefix: '--media-prefix',
  controls: '--controls',
  controlPrefix: '--control-prefix',
  kpi: '--kpi',
  perCapita: '--per-capita',
  population: '--population',
};

/** A value as a shell reads it: quoted when it holds anything but plain name characters. */
const shellWord = (v: string) =>
  /^[\w.,:+=-]+$/.test(v) ? v : `"${v.replace(/(["\\$`])/g, '\\$1')}"`;

export const cliFlags: OptionNamer = ({ field, value }) => {
  if (field === 'perCapita') return FLAGS[field];
  return `${FLAGS[field]} ${value === undefined ? PLACEHOLDER[field] : shellWord(value)}`;
};
