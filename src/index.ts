/**
 * causalmix public API (browser-safe: no file system, no Dawn import at load time). Node-only
 * helpers (CSV files, model files and checkpoints on disk, SVG dashboards) are in `causalmix/node`.
 */
// engine
export { createEngine, Engine, type EngineOptions, type EngineStats } from './engine/engine.js';
export { Tensor } from './engine/tensor.js';
export { Program } from './engine/program.js';
export { NoAdapterError, type AdapterChoice } from './engine/device.js';
export { DeviceLostError } from './engine/webgpu-backend.js';
export { LoopBudgetError } from './engine/launch-planner.js';
export { Rng } from './engine/random.js';
export type { KernelDef } from './engine/kernel.js';
export type { UniformLayout, UniformValues } from './engine/kernel-interface.js';
export { backward } from './autograd/backward.js';
export { gradScope, noGrad } from './autograd/tape.js';
export { defineGradient, type GradientRule, type Recorder } from './autograd/registry.js';
export * as ops from './ops/index.js';

// data
export type { Panel } from './data/panel.js';
export { DataError } from './data/errors.js';
export {
  parseCsvPanel,
  describeMapping,
  type ColumnRoles,
  type ColumnMapping,
} from './data/csv.js';
export {
  detectLayout,
  columnFacts,
  columnNames,
  LayoutError,
  type DetectedLayout,
  type LayoutName,
} from './data/layout.js';
export { panelFromArrays, type ArrayPanelInput } from './data/arrays.js';
export { validatePanel, splitWeeks } from './data/validate.js';
export {
  UnifiedDataPipeline,
  prepareFutureWeeks,
  type PipelineConfig,
  type PipelineScalers,
  type PreparedData,
  type FutureInput,
} from './data/pipeline.js';
export { dataDrivenInit } from './data/init.js';
export {
  generateSyntheticPanel,
  type SyntheticPanelOptions,
  type SyntheticTruth,
} from './data/synthetic.js';

// model
export {
  getDefaultConfig,
  getReferenceConfig,
  updateConfig,
  type MMMConfig,
  type ConfigOverrides,
  type BurnInMethod,
  type DagMode,
} from './model/config.js';
export { DeepCausalMMM, type ModelBatch, type ForwardResult } from './model/model.js';
export {
  ModelTrainer,
  type TrainProgress,
  type TrainerCheckpoint,
  type LiftTestResult,
  type FitOptions,
} from './model/trainer.js';
export { FittedMMM, type Decomposition, type TrainingSummary } from './model/fitted.js';
export {
  toModelFile,
  fromModelFile,
  fromModelFileMembers,
  type ModelFile,
} from './model/model-file.js';
export {
  fitEnsemble,
  bootstrapWeights,
  BOOTSTRAP_BLOCK_WEEKS,
  type EnsembleOptions,
  type MemberResampling,
} from './model/ensemble.js';
export {
  memberInterval,
  memberIntervals,
  INTERVAL_LEVEL,
  type MemberInterval,
} from './analysis/intervals.js';
export {
  meanDecomposition,
  predictionIntervals,
  type PredictionIntervals,
} from './analysis/ensemble-forecast.js';
export {
  parseLiftTestsCsv,
  parseLiftTestsJson,
  resolveLiftTests,
  type LiftTest,
  type LiftTestInput,
} from './calibration/lift-tests.js';
export { estimateTrainingMemory, checkTrainingMemory } from './model/memory.js';
export { loadUpstreamState, readF32Bundle, UPSTREAM_NAMES } from './model/upstream.js';

// analysis
export {
  regressionMetrics,
  evaluationReport,
  formatEvaluationReport,
  type EvaluationReport,
} from './analysis/metrics.js';
export {
  ResponseCurveFit,
  fitResponseCurves,
  hillResponse,
  curveResponse,
  curveMarginal,
  reviveHillCurve,
  type HillCurve,
} from './analysis/response-curves.js';
export {
  BudgetOptimizer,
  optimizeBudgetFromCurves,
  allocationToCsv,
  type OptimizationResult,
  type ChannelAllocation,
} from './analysis/budget-optimizer.js';
export { formatOptimizationReport } from './analysis/optimizer-report.js';
export {
  contributionTable,
  modelContributions,
  mediaPathways,
  type Contributions,
  type MediaPathways,
} from './analysis/contributions.js';
export {
  thresholdDag,
  dagEdges,
  adjacencyToCsv,
  adjacencyToJson,
  isAcyclic,
} from './analysis/dag-analysis.js';
export { modelResponseCurves } from './analysis/model-curves.js';
export {
  modelImpliedCurves,
  modelImpliedCurves as responseCurves,
  ScenarioRunner,
  planningWindow,
  checkPlanWithModel,
  optimizeWithModel,
  modelGradientAscent,
  formatCurveSummary,
  formatPlanCheck,
  CURVE_MULTIPLIERS,
  PLANNING_WEEKS,
  type ModelCurves,
  type SimulatedCurve,
  type PlanCheck,
} from './analysis/model-response.js';
export { MonotoneCurve, type CurvePoints } from './analysis/monotone-curve.js';
export { TrueBudgetProcess, budgetTruthCheck } from './recovery/budget-truth.js';
export {
  channelEffects,
  ensembleChannelEffects,
  type ChannelEffects,
  type ChannelIntervals,
} from './analysis/channel-effects.js';
export { learnMediaGraph, type MediaGraph, type MediaEdge } from './analysis/media-graph.js';
export { fitWarnings, type FitWarning } from './analysis/warnings.js';
export { autoConfig, isSoftwareAdapter, type AutoConfig } from './model/auto-config.js';
export {
  generateRecoveryPanel,
  type RecoveryPanel,
  type RecoveryPanelOptions,
  type RecoveryTruth,
} from './recovery/generator.js';
export { SCENARIOS, scenarioById, type Scenario } from './recovery/scenarios.js';
export { fitAndScore, scoreAgainstTruth, type RecoveryScore } from './recovery/score.js';
export { pymcExamplePanel } from './recovery/pymc-example.js';
export {
  whatIfBaseFromPanel,
  predictScenario,
  compareWhatIf,
  formatWhatIf,
} from './analysis/what-if.js';
export { buildDashboardData } from './analysis/dashboard-data.js';
export * as dashboard from './dashboard/index.js';
