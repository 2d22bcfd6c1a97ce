/** Jest runs the TypeScript sources directly (ESM); type checking is `npm run typecheck`'s job. */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/kernels-tests', '<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, isolatedModules: true }],
  },
  testTimeout: 120000,
  // re-embeds shaders/*.wgsl into src/generated/shaders.ts first, so a direct `npx jest` is fresh
  globalSetup: '<rootDir>/scripts/jest-global-setup.mjs',
};
