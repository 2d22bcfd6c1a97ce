/**
 * The model and training configuration (model-spec §0), in the upstream's vocabulary (camelCase).
 * `getDefaultConfig()` returns a fresh copy; `updateConfig` validates overrides by name.
 */
import type { MediaScaling } from '../data/scaling.js';
import { MEDIA_CONSTRAINTS } from '../maths/constraints.js';

export type BurnInMethod = 'exponential' | 'linear' | 'sigmoid';
/**
 * 'media' (default): the channel graph is learned from the media series themselves (one channel's
 * carried-over input driving another's, src/analysis/media-graph.ts) and the model has no DAG
 * mixing; 'triangular' / 'notears': the reference's graph inside the media transform (spec §4).
 */
export type DagMode = 'media' | 'triangular' | 'notears';

export interface NotearsConfig {
  lambda1: number;
  groupL1: number;
  rho0: number;
  alpha0: number;
  rhoMax: number;
  /** first epoch of the augmented-Lagrangian term */
  warmup: number;
  /** epochs between dual updates */
  every: number;
  factor: number;
  /** ρ grows when h > progress · h_prev */
  progress: number;
  threshold: number;
}

export interface MMMConfig {
  hiddenDim: number;
  dropout: number;
  gruLayers: number;
  epochs: number;
  warmStartEpochs: number;
  warmStartLr: number;
  warmStartClip: number;
  learningRate: number;
  weightDecay: number;
  burnInWeeks: number;
  burnInMethod: BurnInMethod;
  holdoutRatio: number;
  minTrainWeeks: number;
  validationWeeks: number;
  huberDelta: number;
  /** media input scaling (the reference: share of voice) */
  mediaScaling: MediaScaling;
  /** 'local': a learned piecewise-linear level per region (src/model/trend.ts); 'none': the reference */
  trend: 'none' | 'local';
  /** training weeks between the trend's knots */
  trendKnotWeeks: number;
  /** L1 weight on the national level changes (the regional ones get trendL1 / R) */
  trendL1: number;
  /**
   * 'fourier': yearly harmonics learned with the model (src/model/trend.ts); 'decomposition': the
   * reference's fixed curve from an additive decomposition of the KPI, times a learned scale
   */
  seasonality: 'fourier' | 'decomposition';
  /** yearly harmonics of the Fourier seasonality */
  fourierOrder: number;
  /**
   * weight of a penalty on how far the coefficient heads move from each region's mean over time
   * (mean squared deviation of the pre-activations); 0 leaves the GRU's coefficients free, as the
   * reference does
   */
  coefficientSmoothing: number;
  /**
   * scale of the lift-test calibration term (fit option `liftTests`): 1 weighs each test as its
   * likelihood against the data's (src/model/lift-term.ts); larger trusts the experiments more
   */
  liftTestWeight: number;
  /**
   * whether the L1/L2 penalties also cover the media transform's raw shape parameters (adstock,
   * Hill slope and half-saturation), pulling them towards raw 0 (α 0.5, slope 2, g 0.69) as the
   * reference does
   */
  mediaShapePenalty: boolean;
  /**
   * whether the L1/L2 penalties cover the media coefficients' levels (the coefficient maxima and
   * the media head's last bias), pulling every channel towards half its maximum as the reference
   * does
   */
  mediaCoefficientPenalty: boolean;
  /**
   * media enter the prediction as deviations from each region's training mean of the
   * transformed media, the region's level taking the mean (the decomposition still reports
   * β·x̃): the same model, but a coefficient can move without moving the region's level, which
   * the optimizer otherwise follows only slowly for always-on channels (docs/defaults.md)
   */
  mediaCentering: boolean;
  /** lower clamp of the Hill slope: 2 in the reference (S-shaped curves only); below 1 concave too */
  hillSlopeMin: number;
  dagMode: DagMode;
  dagTemperature: number;
  dagWeight: number;
  sparsityWeight: number;
  l1Weight: number;
  l2Weight: number;
  mediaPrior: number;
  mediaPriorWeight: number;
  /**
   * 'adaptive' (the reference): the attribution term is scaled to mediaPriorWeight × the data
   * loss; 'fixed': mediaPriorWeight × mean (Σ media − mediaPrior·raw)² as it stands (with
   * mediaPrior 0 a weak L2 pull of the media toward 0, which the data overrule)
   */
  mediaPriorScale: 'adaptive' | 'fixed';
  seasonalPrior: number;
  seasonalPriorWeight: number;
  clipCoeff: number;
  clipOther: number;
  plateauPatience: number;
  plateauFactor: number;
  minLr: number;
  earlyStoppingPatience: number;
  notears: NotearsConfig;
  seed: number;
  /** epochs between loss readbacks (the step itself never reads back) */
  logEvery: number;
  /** reproduce the reference implementation's behaviour (model-spec §9), for parity tests */
  upstreamCompat: boolean;
}

const DEFAULTS: MMMConfig = {
  hiddenDim: 280,
  dropout: 0.12,
  gruLayers: 1,
  epochs: 1500,
  warmStartEpochs: 50,
  warmStartLr: 1e-4,
  warmStartClip: 2,
  learningRate: 0.01,
  weightDecay: 5e-5,
  burnInWeeks: 6,
  burnInMethod: 'exponential',
  holdoutRatio: 0.12,
  minTrainWeeks: 40,
  validationWeeks: 0,
  huberDelta: 0.25,
  mediaScaling: 'regionMean',
  trend: 'local',
  trendKnotWeeks: 13,
  trendL1: 1e-3,
  seasonality: 'fourier',
  fourierOrder: 2,
  coefficientSmoothing: 0,
  liftTestWeight: 1,
  mediaShapePenalty: false,
  mediaCoefficientPenalty: false,
  mediaCentering: true,
  hillSlopeMin: 1,
  dagMode: 'media',
  dagTemperature: 0.5,
  dagWeight: 0.008,
  sparsityWeight: 0.001,
  l1Weight: 5e-5,
  l2Weight: 2e-4,
  mediaPrior: 0.4,
  mediaPriorWeight: 0,
  mediaPriorScale: 'adaptive',
  seasonalPrior: 1.0,
  seasonalPriorWeight: 0,
  clipCoeff: 1.0,
  clipOther: 2.0,
  plateauPatience: 300,
  plateauFactor: 0.8,
  minLr: 1e-8,
  earlyStoppingPatience: 300,
  notears: {
    lambda1: 0.005,
    groupL1: 0.01,
    rho0: 1,
    alpha0: 0,
    rhoMax: 1e16,
    warmup: 500,
    every: 100,
    factor: 3,
    progress: 0.25,
    threshold: 0.3,
  },
  seed: 42,
  logEvery: 10,
  upstreamCompat: false,
};

/**
 * The reference's values where causalmix's defaults differ from them (docs/defaults.md says why
 * each changed). `upstreamCompat: true` brings them back unless the same overrides name them.
 */
export const REFERENCE_VALUES = {
  mediaScaling: 'shareOfVoice',
  trend: 'none',
  seasonality: 'decomposition',
  dagMode: 'triangular',
  mediaPriorWeight: 0.5,
  seasonalPriorWeight: 0.1,
  coefficientSmoothing: 0,
  mediaShapePenalty: true,
  mediaCoefficientPenalty: true,
  mediaCentering: false,
  hillSlopeMin: 2,
} as const satisfies Partial<MMMConfig>;

export function getDefaultConfig(): MMMConfig {
  return structuredClone(DEFAULTS);
}

/** The reference implementation's configuration (model-spec §0) with upstreamCompat on. */
export function getReferenceConfig(): MMMConfig {
  return { ...structuredClone(DEFAULTS), ...REFERENCE_VALUES, upstreamCompat: true };
}

export type ConfigOverrides = Partial<Omit<MMMConfig, 'notears'>> & {
  notears?: Partial<NotearsConfig>;
};

/** A copy of `base` with `overrides` applied; unknown keys and out-of-range values are errors. */
export function updateConfig(base: MMMConfig, overrides: ConfigOverrides = {}): MMMConfig {
  const out = structuredClone(base);
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!(key in DEFAULTS)) {
      throw new Error(
        `causalmix: unknown config key '${key}' (known: ${Object.keys(DEFAULTS).join(', ')})`,
      );
    }
    if (key === 'notears') {
      for (const [k, v] of Object.entries(value as object)) {
        if (!(k in DEFAULTS.notears))
          throw new Error(`causalmix: unknown config key 'notears.${k}'`);
        (out.notears as unknown as Record<string, unknown>)[k] = v;
      }
      continue;
    }
    const expected = typeof (DEFAULTS as unknown as Record<string, unknown>)[key];
    if (typeof value !== expected)
      throw new Error(
        `causalmix: config '${key}' must be a ${expected}, got ${JSON.stringify(value)}`,
      );
    (out as unknown as Record<string, unknown>)[key] = value;
  }
  if (overrides.upstreamCompat === true && !base.upstreamCompat) {
    for (const [key, value] of Object.entries(REFERENCE_VALUES))
      if (!(key in overrides)) (out as unknown as Record<string, unknown>)[key] = value;
  }
  validateConfig(out);
  return out;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`causalmix: config ${message}`);
}

export function validateConfig(c: MMMConfig): void {
  check(
    Number.isInteger(c.hiddenDim) && c.hiddenDim >= 2 && c.hiddenDim % 2 === 0,
    `hiddenDim must be an even integer ≥ 2, got ${c.hiddenDim}`,
  );
  check(
    c.gruLayers === 1,
    `gruLayers: only 1 GRU layer is supported (the reference default), got ${c.gruLayers}`,
  );
  check(c.dropout >= 0 && c.dropout < 1, `dropout must be in [0, 1), got ${c.dropout}`);
  check(
    Number.isInteger(c.epochs) && c.epochs >= 0,
    `epochs must be a non-negative integer, got ${c.epochs}`,
  );
  check(
    Number.isInteger(c.warmStartEpochs) && c.warmStartEpochs >= 0,
    `warmStartEpochs must be a non-negative integer`,
  );
  check(c.learningRate > 0, `learningRate must be positive, got ${c.learningRate}`);
  check(
    Number.isInteger(c.burnInWeeks) && c.burnInWeeks >= 0,
    `burnInWeeks must be a non-negative integer`,
  );
  check(
    ['exponential', 'linear', 'sigmoid'].includes(c.burnInMethod),
    `burnInMethod must be exponential, linear or sigmoid, got '${c.burnInMethod}'`,
  );
  check(
    c.holdoutRatio >= 0 && c.holdoutRatio < 1,
    `holdoutRatio must be in [0, 1), got ${c.holdoutRatio}`,
  );
  check(
    ['media', 'triangular', 'notears'].includes(c.dagMode),
    `dagMode must be 'media', 'triangular' or 'notears', got '${c.dagMode}'`,
  );
  check(['none', 'local'].includes(c.trend), `trend must be 'none' or 'local', got '${c.trend}'`);
  check(
    Number.isInteger(c.trendKnotWeeks) && c.trendKnotWeeks >= 2,
    `trendKnotWeeks must be an integer ≥ 2, got ${c.trendKnotWeeks}`,
  );
  check(c.trendL1 >= 0, `trendL1 must be ≥ 0, got ${c.trendL1}`);
  check(
    ['adaptive', 'fixed'].includes(c.mediaPriorScale),
    `mediaPriorScale must be 'adaptive' or 'fixed', got '${c.mediaPriorScale}'`,
  );
  check(
    c.hillSlopeMin > 0 && c.hillSlopeMin <= MEDIA_CONSTRAINTS.slopeMax,
    `hillSlopeMin must be in (0, ${MEDIA_CONSTRAINTS.slopeMax}], got ${c.hillSlopeMin}`,
  );
  check(
    c.coefficientSmoothing >= 0,
    `coefficientSmoothing must be ≥ 0, got ${c.coefficientSmoothing}`,
  );
  check(
    Number.isFinite(c.liftTestWeight) && c.liftTestWeight >= 0,
    `liftTestWeight must be a number ≥ 0, got ${c.liftTestWeight}`,
  );
  check(
    ['fourier', 'decomposition'].includes(c.seasonality),
    `seasonality must be 'fourier' or 'decomposition', got '${c.seasonality}'`,
  );
  check(
    Number.isInteger(c.fourierOrder) && c.fourierOrder >= 1 && c.fourierOrder <= 10,
    `fourierOrder must be an integer in [1, 10], got ${c.fourierOrder}`,
  );
  check(
    ['regionMean', 'shareOfVoice'].includes(c.mediaScaling),
    `mediaScaling must be 'regionMean' or 'shareOfVoice', got '${c.mediaScaling}'`,
  );
  check(c.dagTemperature > 0, `dagTemperature must be positive`);
  check(c.huberDelta > 0, `huberDelta must be positive`);
  check(
    Number.isInteger(c.validationWeeks) && c.validationWeeks >= 0,
    `validationWeeks must be a non-negative integer`,
  );
  check(Number.isInteger(c.logEvery) && c.logEvery >= 1, `logEvery must be a positive integer`);
  check(c.plateauFactor > 0 && c.plateauFactor < 1, `plateauFactor must be in (0, 1)`);
}
