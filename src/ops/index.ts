/** Every op family; importing this module registers all gradient rules. */
export * from './elementwise.js';
export * from './reduce.js';
