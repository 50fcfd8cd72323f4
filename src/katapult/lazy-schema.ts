/**
 * Every schema of src/katapult is declared with `lazySchema`: built once, on its first use, so that
 * zod is only loaded when the first Katapult answer is read (src/load-later.ts).
 */
import type * as Zod from 'zod';
import { loadLater } from '../load-later.js';
import { MAX_UNIX_SECONDS } from '../time/instant.js';

const zod = loadLater<typeof Zod>('zod');

/** A schema built by `build` on the first call, then the same one on every call. */
export function lazySchema<S>(build: (z: typeof Zod.z) => S): () => S {
  let schema: S | undefined;
  return () => {
    schema ??= build(zod().z);
    return schema;
  };
}

/**
 * A time in unix seconds as Katapult sends one, bounded to what a message can show as a date (1970
 * to the end of 9999, src/time/instant.ts): past that it is no time at all, whatever the field says.
 */
export const unixSeconds = (z: typeof Zod.z) => z.number().int().min(0).max(MAX_UNIX_SECONDS);
