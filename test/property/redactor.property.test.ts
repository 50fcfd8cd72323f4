/**
 * The redactor's one-pass index (a rolling hash over each 8-character window) finds what a plain
 * search would: every added secret is gone from any line, with secrets that share prefixes, overlap,
 * repeat, sit at either end, or are written into the line as JSON would (quotes, backslashes).
 */
import fc from 'fast-check';
import { Redactor } from '../../src/log.js';

/** Few letters, so that secrets share prefixes and lines hold near misses. */
const text = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom('a', 'b', 'c', '"', '\\'), minLength: min, maxLength: max });

test('every secret added is absent from every line after apply, and a line without one is unchanged', () => {
  fc.assert(
    fc.property(
      fc.array(text(8, 14), { minLength: 1, maxLength: 6 }),
      fc.array(fc.oneof(text(0, 6), fc.nat()), { maxLength: 12 }),
      (secrets, parts) => {
        const redactor = new Redactor();
        for (const s of secrets) redactor.add(s);
        const asJson = secrets.map((s) => JSON.stringify(s).slice(1, -1));
        // A line of pieces: free text, or one of the secrets (as it appears inside a JSON string).
        const line = parts
          .map((p) => (typeof p === 'number' ? (asJson[p % asJson.length] as string) : p))
          .join('');
        const out = redactor.apply(line);
        if (!asJson.some((s) => line.includes(s))) expect(out).toBe(line);
        // Greedy, left to right, longest first: nothing of a secret is left whole.
        for (const s of asJson) expect(out.includes(s)).toBe(false);
      },
    ),
    { numRuns: 2000 },
  );
});
