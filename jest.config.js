/**
 * Jest runs the TypeScript sources as native ES modules (see package.json "test:jest").
 *
 * `npm test` runs every test but the slow ones below; `npm run test:slow` (jest.slow.config.js)
 * runs those. CI (.ci/run) runs both.
 */
import os from 'node:os';

/**
 * Checks that must take long: real processes killed or signalled, two processes spawned from the
 * sources, the production build and prune, and the benchmark and demo smoke runs. Paths from the
 * repository root: files, or folders ending in `/`.
 */
export const SLOW_TESTS = [
  'test/e2e/crash-recovery.test.ts',
  'test/e2e/production-start.test.ts',
  'test/e2e/shutdown.test.ts',
  'test/store/two-processes-spawned.test.ts',
  'test/smoke/',
];

export const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 20000,
  // Most of a test's time is spent waiting on loopback sockets and child processes: at least two
  // files at a time, also on a 2-core machine (Jest's default there is one).
  maxWorkers: Math.max(2, (os.availableParallelism?.() ?? os.cpus().length) - 1),
};

export default {
  ...base,
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/support/**/*.test.ts'],
  testPathIgnorePatterns: [
    '/node_modules/',
    ...SLOW_TESTS.map((p) => `<rootDir>/${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
  ],
};
