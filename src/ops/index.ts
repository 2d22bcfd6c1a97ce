/** Every op family; importing this module registers all gradient rules. */
export * from './elementwise.js';
export * from './reduce.js';
export * from './optim.js';
export * from './loss.js';
export * from './matmul.js';
export * from './shape.js';
export * from './gru.js';
export * from './media-transform.js';
export * from './expm.js';
export * from './dropout.js';
export * from './dag-penalty.js';
export * from './linear.js';
export * from './grouped-linear.js';
export * from './gru-input.js';
export * from './mmm-output.js';
export * from './center.js';
