/** `npm run test:slow`: only the slow checks that `npm test` leaves out (see jest.config.js). */
import { base, SLOW_TESTS } from './jest.config.js';

export default {
  ...base,
  // One file at a time: these start, kill and build processes, and the children's own timings
  // (2 s request leases in crash recovery) should not compete with another file's build or bench.
  maxWorkers: 1,
  testMatch: SLOW_TESTS.map((p) => `<rootDir>/${p.endsWith('/') ? `${p}**/*.test.ts` : p}`),
};
