/**
 * Every schema of src/katapult is declared with `lazySchema`: built once, on its first use, so that
 * zod is only loaded when the first Katapult answer is read (src/load-later.ts).
 */
import type * as Zod from 'zod';
import { loadLater } from '../load-later.js';

const zod = loadLater<typeof Zod>('zod');

/** A schema built by `build` on the first call, then the same one on every call. */
export function lazySchema<S>(build: (z: typeof Zod.z) => S): () => S {
  let schema: S | undefined;
  return () => {
    schema ??= build(zod().z);
    return schema;
  };
}
