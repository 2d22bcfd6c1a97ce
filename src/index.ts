/** causalmix public API. */
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
