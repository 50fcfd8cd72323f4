/** `npm run test:slow`: only the slow checks that `npm test` leaves out (see jest.config.js). */
import { base, SLOW_TESTS } from './jest.config.js';

export default {
  ...base,
  testMatch: SLOW_TESTS.map((p) => `<rootDir>/${p.endsWith('/') ? `${p}**/*.test.ts` : p}`),
};
