/**
 * The configuration `fit` uses when the user names none: the defaults of config.ts, sized for the
 * adapter found. A software adapter (llvmpipe, SwiftShader, lavapipe, the CPU reference) runs the
 * paper's hidden size of 280 at ~7 s per step on a 2-core machine; there the GRU has 32 units and
 * training runs 600 epochs, which keeps a 190-region × 109-week panel within 20 minutes. The
 * recovery benchmark measured no loss of accuracy from either (docs/defaults.md). Explicit options
 * always win; `reasons` says what was chosen and why.
 */
import type { Engine } from '../engine/engine.js';
import { getDefaultConfig, updateConfig, type ConfigOverrides, type MMMConfig } from './config.js';

export interface PanelSize {
  R: number;
  /** weeks on the shared axis */
  T: number;
  C: number;
}

export interface AutoConfig {
  config: MMMConfig;
  software: boolean;
  /** one line per choice made for the adapter (empty when every choice was given) */
  reasons: string[];
}

/** True for adapters that run on the CPU. */
export function isSoftwareAdapter(engine: Pick<Engine, 'software'>): boolean {
  return engine.software;
}

/** Hidden size and epochs on a software adapter. */
export const SOFTWARE_HIDDEN = 32;
export const SOFTWARE_EPOCHS = 600;

export function autoConfig(
  engine: Pick<Engine, 'software'>,
  size: PanelSize,
  overrides: ConfigOverrides = {},
): AutoConfig {
  const software = isSoftwareAdapter(engine);
  const reasons: string[] = [];
  const chosen: ConfigOverrides = {};
  const full = getDefaultConfig();
  if (software && overrides.hiddenDim === undefined) {
    chosen.hiddenDim = SOFTWARE_HIDDEN;
    reasons.push(
      `hidden size ${SOFTWARE_HIDDEN} instead of ${full.hiddenDim}: the adapter runs on the CPU ` +
        `(${size.R} regions × ${size.T} weeks × ${size.C} channels); --hidden sets it`,
    );
  }
  if (software && overrides.epochs === undefined) {
    chosen.epochs = SOFTWARE_EPOCHS;
    reasons.push(
      `${SOFTWARE_EPOCHS} epochs instead of ${full.epochs}: the adapter runs on the CPU; --epochs sets it`,
    );
  }
  const config = updateConfig(getDefaultConfig(), { ...chosen, ...overrides });
  return { config, software, reasons };
}
