/** causalmix for Node: everything in the main entry plus the file-system helpers. */
export * from './index.js';
export { loadCsvPanel } from './data/csv-file.js';
export {
  saveModel,
  loadModel,
  loadModelMembers,
  readCheckpoint,
  writeCheckpoint,
} from './model/checkpoint-file.js';
export { readLiftTestsFile } from './calibration/lift-tests-file.js';
export { writeDashboard, renderChartSvg, loadVegaRuntime } from './dashboard/svg.js';
