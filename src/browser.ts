/**
 * causalmix for browsers: the browser-safe API (engine, data, model, model file, analysis,
 * dashboard charts). scripts/build-browser.mjs bundles this module into dist/browser/causalmix.js.
 * Node-only modules stay out: csv-file.ts and checkpoint-file.ts (file system), dashboard/svg.ts
 * (file system, headless rendering) and the CLI. The engine finds its adapter through
 * navigator.gpu here; Dawn (the `webgpu` package) is only ever loaded in Node.
 */
export { createEngine, Engine, type EngineOptions, type EngineStats } from './engine/engine.js';
export { Tensor } from './engine/tensor.js';
export { Program } from './engine/program.js';
export { NoAdapterError, type AdapterChoice } from './engine/device.js';
export { DeviceLostError } from './engine/webgpu-backend.js';
export { Rng } from './engine/random.js';
export type { KernelDef, KernelParams } from './engine/kernel.js';
export { backward } from './autograd/backward.js';
export { noGrad } from './autograd/tape.js';
export { registerGradient, type GradientRule } from './autograd/registry.js';
export * as ops from './ops/index.js';

// data (CSV text is parsed here; reading files is the page's job)
export * from './data/arrays.js';
export * from './data/csv.js';
export * from './data/errors.js';
export * from './data/panel.js';
export * from './data/pipeline.js';
export * from './data/synthetic.js';
export * from './data/validate.js';

// model
export * from './model/config.js';
export * from './model/codec.js';
export * from './model/fitted.js';
export * from './model/memory.js';
export * from './model/model-file.js';
export { DeepCausalMMM } from './model/model.js';
export {
  ModelTrainer,
  maskedR2,
  type FitOptions,
  type TrainProgress,
  type TrainerCheckpoint,
} from './model/trainer.js';

// analysis
export * from './analysis/budget-optimizer.js';
export * from './analysis/contributions.js';
export * from './analysis/dag-analysis.js';
export * from './analysis/dashboard-data.js';
export * from './analysis/metrics.js';
export * from './analysis/model-curves.js';
export * from './analysis/response-curves.js';
export * from './analysis/what-if.js';

// dashboard (vega-lite specs and the vega compile step; rendering is the page's job)
export * from './dashboard/index.js';
