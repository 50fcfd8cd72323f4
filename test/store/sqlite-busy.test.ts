/**
 * The SQLite store's calls are synchronous (node:sqlite), so a write lock held by another connection
 * (another replica on the same file) must be waited for with the event loop free: the store tries
 * again a few milliseconds later instead of letting SQLite sleep inside the call. And, answering in
 * microseconds, it can write two intakes in one millisecond: their stamps must still be in order.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';

let dir: string;
let store: Store;
let other: DatabaseSync;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'katapult-sqlite-busy-'));
  const file = path.join(dir, 'store.sqlite');
  store = await openSqliteStore(`sqlite://${file}`, {
    retentionMs: 86_400_000,
    maxPerWorkspace: 100,
    onError: () => undefined,
  });
  other = new DatabaseSync(file); // another process's connection, as far as SQLite can tell
});
afterEach(async () => {
  other.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

test('a write waits for another connection to let the write lock go, without holding the event loop', async () => {
  await store.kv.set('before', 'x');
  other.exec('BEGIN IMMEDIATE'); // holds the write lock
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  const started = Date.now();
  let written = false;
  const write = store.kv.set('during', 'y').then(() => {
    written = true;
  });
  // Readers are not blocked by a writer (WAL).
  expect(await store.kv.get('before')).toBe('x');
  await new Promise((resolve) => setTimeout(resolve, 250));
  expect(written).toBe(false);
  other.exec('COMMIT');
  await write;
  clearInterval(ticker);
  expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  expect(ticks).toBeGreaterThanOrEqual(10); // the loop ran while the write waited
  expect(await store.kv.get('during')).toBe('y');
});

test('a claim taken in a transaction with other writes waits the same way', async () => {
  other.exec('BEGIN IMMEDIATE');
  const both = Promise.all([store.claim('c1', 60_000), store.kv.set('k1', 'v')]); // one round trip
  await new Promise((resolve) => setTimeout(resolve, 100));
  other.exec('COMMIT');
  expect((await both)[0]).toBe(true);
  expect(await store.claim('c1', 60_000)).toBe(false);
});

test('intakes in the same millisecond are stamped in the order they were written (requests are ordered by it)', async () => {
  const frozen = await openSqliteStore(`sqlite://${path.join(dir, 'frozen.sqlite')}`, {
    retentionMs: 86_400_000,
    maxPerWorkspace: 100,
    onError: () => undefined,
    now: () => 1_796_000_000_000,
  });
  try {
    const stamp = (key: string) =>
      frozen.docs.insertStamped('request', { key, partition: 'T1', active: true, body: '{}' });
    const stamps = [await stamp('a'), await stamp('b'), await stamp('c')];
    expect(stamps).toEqual([1_796_000_000_000, 1_796_000_000_001, 1_796_000_000_002]);
  } finally {
    await frozen.close();
  }
});
