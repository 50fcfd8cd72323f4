/**
 * zod and luxon are loaded on their first use (src/load-later.ts), not at start: no module of src/
 * imports them other than for types.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const sources = readdirSync('src', { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts'))
  .map((file) => ({ file, text: readFileSync(path.join('src', file), 'utf8') }));

const importing = (pattern: RegExp) => sources.filter((s) => pattern.test(s.text)).map((s) => s.file);

test.each(['zod', 'luxon'])('%s is imported for its types only', (pkg) => {
  // The pattern does find the imports there are: the type-only ones.
  expect(importing(new RegExp(`^import type [^;]*from '${pkg}';`, 'm')).length).toBeGreaterThan(0);
  expect(importing(new RegExp(`^import (?!type )[^;]*from '${pkg}';`, 'm'))).toEqual([]);
});
