/**
 * zod, loaded when the first schema is needed rather than at start: it is only used to read
 * Katapult's answers, and loading it costs ~60 ms and ~4 MB that a start does not need. Every
 * schema of src/katapult is declared with `lazySchema` and built once, on its first use.
 *
 * zod is loaded with `require` (its CommonJS build) rather than `import()`, so that the readers
 * that never fail (readErrorDetail, normalizeTarget...) stay synchronous.
 */
import { createRequire } from 'node:module';
import type * as Zod from 'zod';

const require = createRequire(import.meta.url);
let zod: typeof Zod.z | undefined;

/** A schema built by `build` on the first call, then the same one on every call. */
export function lazySchema<S>(build: (z: typeof Zod.z) => S): () => S {
  let schema: S | undefined;
  return () => {
    if (schema === undefined) {
      zod ??= (require('zod') as typeof Zod).z;
      schema = build(zod);
    }
    return schema;
  };
}
