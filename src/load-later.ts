/**
 * Packages that are loaded on their first use rather than at start, because a start does not need
 * them: zod (~60 ms, ~4 MB; it only reads Katapult's answers) and luxon (~20 ms, ~1.5 MB; it only
 * reads and shows the times people give). They are loaded with `require` (their CommonJS builds)
 * rather than `import()`, so that the functions that use them can stay synchronous.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The package `id`, loaded on the first call; every call returns the same module. */
export function loadLater<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= require(id) as T;
    return loaded;
  };
}
