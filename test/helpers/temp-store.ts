/** A fresh SQLite store in its own temporary folder for each test of the file, removed after it. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';

/** Registers the hooks; call the returned function inside a test for the current store. */
export function useTempSqliteStore(
  options: {
    maxPerWorkspace?: number /** The store's clock (it judges leases and TTLs). */;
    now?: () => number;
  } = {},
): () => Store {
  let dir: string;
  let store: Store | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'katapult-store-'));
    store = await openSqliteStore(`sqlite://${path.join(dir, 's.sqlite')}`, {
      retentionMs: 90 * 86_400_000,
      maxPerWorkspace: options.maxPerWorkspace ?? 1000,
      onError: () => undefined,
      ...(options.now ? { now: options.now } : {}),
    });
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await rm(dir, { recursive: true, force: true });
  });
  return () => {
    if (!store) throw new Error('the store exists only inside a test');
    return store;
  };
}
