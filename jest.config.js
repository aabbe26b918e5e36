// Jest runs TypeScript ESM through SWC; `npm test` passes --experimental-vm-modules.
/** @type {import('jest').Config} */
export default {
  testEnvironment: '<rootDir>/test/support/workerEnvironment.mjs',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
    }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/globalSetup.mjs',
  globalTeardown: '<rootDir>/test/support/globalTeardown.mjs',
  testTimeout: 60000,
  maxWorkers: 2,
};
