/**
 * One contract for every store backend: SQLite (a temporary file), Redis and PostgreSQL (real
 * servers, see test/helpers/services.ts). Each backend's data stays apart from other runs and
 * suites: Redis keys live under a namespace unique to this run, PostgreSQL tables in a schema
 * unique to this run; both are removed at the end. "Two processes" are two stores opened
 * separately on the same backend, each with its own connections.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { jest } from '@jest/globals';
import { createClient } from '@keyv/redis';
import pg from 'pg';
import { createDailyLimit, DAILY_LIMIT_WINDOW_MS } from '../../src/scheduling/daily-limit.js';
import { createLocks } from '../../src/scheduling/locks.js';
import { SecretBox } from '../../src/store/crypto.js';
import { displayStoreUrl, openStore } from '../../src/store/open-store.js';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import { openRedisStore } from '../../src/store/redis-store.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { AuditEntry, Store } from '../../src/store/store.js';
import { createTokenStore } from '../../src/store/token-store.js';
import { poll } from '../helpers/poll.js';
import { describeWithService, serviceUrl } from '../helpers/services.js';

const RUN = `${process.pid}_${randomBytes(4).toString('hex')}`;
const DAY = 86_400_000;

interface StoreOptions {
  retentionMs: number;
  maxPerWorkspace: number;
  now?: () => number;
}

interface Backend {
  /** Opens a new store on the shared backend: its own connections, as another process would. */
  open(options: StoreOptions): Promise<Store>;
  /** The Keyv record `key` exactly as the backend holds it (null: absent). */
  raw(key: string): Promise<string | null>;
  /** Removes everything this run created. */
  cleanup(): Promise<void>;
  /** Whether the backend still holds the claim `key`, lapsed or not. */
  claimStored(key: string): Promise<boolean>;
  /** Redis only: the TTL the server holds for the Keyv record `key`, ms (negative: none). */
  recordTtlMs?(key: string): Promise<number>;
  /** The store has a clock of its own, the same for every replica (Redis, PostgreSQL; not SQLite). */
  sharedClock?: boolean;
}

const defaults: StoreOptions = { retentionMs: 90 * DAY, maxPerWorkspace: 1000 };
const onError = () => undefined;

function entry(workspace: string, at: number, outcome: string): AuditEntry {
  return {
    at,
    workspace,
    user: 'U0ALICE01',
    channel: 'C0OPS0001',
    action: 'schedule',
    policyId: `dbp_${outcome}`,
    requestedAt: Math.floor(at / 1000) + 1800,
    requestedLocal: '2030-01-01 10:00 UTC',
    outcome,
    autoMoveToTrashAt: null,
    requestId: 'req-1',
    retryNum: null,
    delivery: 'channel',
  };
}

/** 'rejected' is the only good answer after close(): 'hung' would stall a Slack request forever. */
async function outcomeOf(op: () => Promise<unknown>): Promise<'resolved' | 'rejected' | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), 2000);
  });
  try {
    return await Promise.race([
      op().then(
        () => 'resolved' as const,
        () => 'rejected' as const,
      ),
      hung,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function storeContract(setup: () => Promise<Backend>): void {
  let backend: Backend;
  let opened: Store[] = [];
  let seq = 0;
  /** A workspace (and key) name no other test, run or suite uses. */
  const unique = (prefix: string) => `${prefix}${RUN.toUpperCase()}X${++seq}`;
  const open = async (options: Partial<StoreOptions> = {}) => {
    const store = await backend.open({ ...defaults, ...options });
    opened.push(store);
    return store;
  };

  beforeAll(async () => {
    backend = await setup();
  });
  afterEach(async () => {
    await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
    opened = [];
  });
  afterAll(async () => {
    await backend?.cleanup();
  });

  test('kv: set, get, delete', async () => {
    const store = await open();
    const key = unique('record:');
    expect(await store.kv.get(key)).toBeUndefined();
    await store.kv.set(key, { who: 'groups', groupIds: ['S0OPS0001'], n: 3 });
    expect(await store.kv.get(key)).toEqual({ who: 'groups', groupIds: ['S0OPS0001'], n: 3 });
    expect(await store.kv.delete(key)).toBe(true);
    expect(await store.kv.get(key)).toBeUndefined();
  });

  test('token store: round trip, shared between stores, sealed at rest', async () => {
    const [a, b] = [await open(), await open()];
    const box = new SecretBox(randomBytes(32));
    const workspace = unique('T');
    const token = `kt-plaintext-${randomBytes(12).toString('hex')}`;
    await createTokenStore(a.kv, box).set(workspace, {
      token,
      setBy: 'U0ADMIN01',
      setAt: 1_700_000_000_000,
      organizationName: 'Acme Ops',
      organizationId: 'org_ERQqd1R6O63q4YEA',
    });
    expect(await createTokenStore(b.kv, box).get(workspace)).toEqual({
      token,
      setBy: 'U0ADMIN01',
      setAt: 1_700_000_000_000,
      organizationName: 'Acme Ops',
      organizationId: 'org_ERQqd1R6O63q4YEA',
    });
    const raw = await backend.raw(`token:${workspace}`);
    expect(raw).not.toBeNull();
    expect(raw).toContain('"sealed":"v2.');
    expect(raw).not.toContain(token);
    expect(raw).not.toContain(token.slice(0, -4)); // only the last 4 characters are kept in the clear
    expect(await createTokenStore(b.kv, box).remove(workspace)).toBe(true);
    expect(await createTokenStore(a.kv, box).get(workspace)).toBeNull();
  });

  test('claim: the first caller wins, the second loses, other keys are independent', async () => {
    const store = await open();
    const key = unique('submission:T:V');
    expect(await store.claim(key, 60_000)).toBe(true);
    expect(await store.claim(key, 60_000)).toBe(false);
    expect(await store.claim(`${key}-other`, 60_000)).toBe(true);
  });

  test('release: a released claim can be taken again at once', async () => {
    const store = await open();
    const key = unique('lock');
    expect(await store.claim(key, 60_000)).toBe(true);
    expect(await store.claim(key, 60_000)).toBe(false);
    await store.release(key);
    expect(await store.claim(key, 60_000)).toBe(true);
  });

  test('claim: after the TTL a new claim wins', async () => {
    const store = await open();
    const key = unique('submission:T:V');
    expect(await store.claim(key, 150)).toBe(true);
    expect(await store.claim(key, 150)).toBe(false);
    // The TTL runs on the store's clock (Redis's own): nothing announces the expiry, so poll for it.
    await poll('the claim to expire', () => store.claim(key, 60_000));
    expect(await store.claim(key, 150)).toBe(false);
  });

  test('claim: 20 concurrent claims of one key → exactly one wins', async () => {
    const store = await open();
    const key = unique('submission:T:V');
    const results = await Promise.all(Array.from({ length: 20 }, () => store.claim(key, 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  test('claim: 20 concurrent claims from two separately opened stores → exactly one wins', async () => {
    const [a, b] = [await open(), await open()];
    const key = unique('submission:T:V');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).claim(key, 60_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  test('docs: insert once, get, upsert keeps the lease, fenced update', async () => {
    const [a, b] = [await open(), await open()];
    const coll = unique('c');
    const doc = { key: unique('k'), partition: 'T1', sort: 5, active: true, body: '{"n":1}' };
    expect(await a.docs.insert(coll, { ...doc, lease: { owner: 'me', ttlMs: 60_000 } })).toBe(true);
    expect(await b.docs.insert(coll, doc)).toBe(false);
    const got = await b.docs.get(coll, doc.key);
    expect(got).toMatchObject({
      key: doc.key,
      partition: 'T1',
      sort: 5,
      active: true,
      leaseOwner: 'me',
      body: '{"n":1}',
    });
    expect(got?.leaseExpiresAt).toEqual(expect.any(Number));
    expect(await b.docs.update(coll, doc.key, 'other', { body: '{"n":2}' })).toBe(false);
    expect(await a.docs.update(coll, doc.key, 'me', { body: '{"n":3}', active: false, sort: 9 })).toBe(true);
    expect(await b.docs.get(coll, doc.key)).toMatchObject({ body: '{"n":3}', active: false, sort: 9 });
    await b.docs.upsert(coll, { ...doc, body: '{"n":4}' });
    expect(await a.docs.get(coll, doc.key)).toMatchObject({
      body: '{"n":4}',
      leaseOwner: 'me',
      active: true,
    });
    expect(await a.docs.get(coll, unique('absent'))).toBeNull();
  });

  test('docs: increment counts each of 50 concurrent writes on two stores; the latest write gives the rest', async () => {
    const [a, b] = [await open(), await open()];
    const coll = unique('c');
    const key = unique('k');
    const doc = (i: number) => ({
      key,
      partition: 'T1',
      sort: i,
      active: false,
      // Any count in the body is replaced; the rest is kept as written (quotes and all).
      body: JSON.stringify({ i, note: 'say "hi"\n', count: 99, nested: { count: 5 } }),
    });
    expect(await a.docs.increment(coll, doc(0), 'count')).toBe(1);
    const counts = await Promise.all(
      Array.from({ length: 49 }, (_, i) => (i % 2 ? a : b).docs.increment(coll, doc(i + 1), 'count')),
    );
    // Every write saw the one before it: no two got the same count, none was lost.
    expect(counts.sort((x, y) => x - y)).toEqual(Array.from({ length: 49 }, (_, i) => i + 2));
    const got = await b.docs.get(coll, key);
    const body = JSON.parse(got?.body ?? 'null') as { i: number; count: number };
    expect(body).toEqual({ i: body.i, note: 'say "hi"\n', count: 50, nested: { count: 5 } });
    expect(got).toMatchObject({ partition: 'T1', sort: body.i, active: false });
    expect((await a.docs.list(coll, 'T1', { limit: 10 })).map((r) => r.key)).toEqual([key]);

    // Counting on a document written without one; moving it to another partition; an empty body.
    const other = unique('k');
    await a.docs.upsert(coll, { key: other, partition: 'T1', sort: 1, active: false, body: '{"x":1}' });
    expect(
      await b.docs.increment(coll, { key: other, partition: 'T2', sort: 2, active: true, body: '{}' }, 'n'),
    ).toBe(1);
    expect(
      await a.docs.increment(coll, { key: other, partition: 'T2', sort: 3, active: true, body: '{}' }, 'n'),
    ).toBe(2);
    expect(await a.docs.get(coll, other)).toMatchObject({
      partition: 'T2',
      sort: 3,
      active: true,
      body: '{"n":2}',
    });
    expect((await a.docs.list(coll, 'T1', { limit: 10 })).map((r) => r.key)).toEqual([key]);
    expect((await a.docs.list(coll, 'T2', { limit: 10 })).map((r) => r.key)).toEqual([other]);
    await expect(a.docs.increment(coll, { ...doc(0), body: '[1]' }, 'count')).rejects.toThrow('JSON object');
  });

  test('docs: one lease among 20 concurrent takers on two stores; expiry, renewal and release', async () => {
    const [a, b] = [await open(), await open()];
    const coll = unique('c');
    const key = unique('k');
    await a.docs.insert(coll, { key, partition: 'T1', sort: 1, active: true, body: '{}' });
    const results = await Promise.all(
      // A long lease: under load the 20 takes may span seconds, and an expired lease may be taken again.
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).docs.lease(coll, key, `owner${i}`, 60_000)),
    );
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    const owner = winners[0]?.leaseOwner as string;
    expect(await a.docs.lease(coll, key, 'late', 400)).toBeNull();
    expect(await b.docs.lease(coll, key, owner, 1500)).not.toBeNull(); // renewal by the holder, shorter
    expect(await a.docs.expired(coll, 10)).toEqual([]);
    // Renewed once more, for 1 ms: the lease expires (on the store's clock) at once.
    expect(await b.docs.lease(coll, key, owner, 1)).not.toBeNull();
    await poll('the lease to expire', async () => (await a.docs.expired(coll, 10)).length > 0);
    expect(await a.docs.expired(coll, 10)).toEqual([key]);
    expect((await a.docs.lease(coll, key, 'late', 60_000))?.leaseOwner).toBe('late');
    await b.docs.release(coll, key, owner); // not the holder any more: no effect
    expect(await b.docs.lease(coll, key, owner, 400)).toBeNull();
    await a.docs.release(coll, key, 'late');
    expect(await b.docs.lease(coll, key, owner, 400)).not.toBeNull();
    // Inactive documents cannot be leased and are never expired.
    expect(await b.docs.update(coll, key, owner, { body: '{}', active: false })).toBe(true);
    await b.docs.release(coll, key, owner);
    expect(await a.docs.lease(coll, key, 'x', 400)).toBeNull();
    expect(await a.docs.expired(coll, 10)).toEqual([]);
  });

  test('docs: release with remove deletes the document only for its holder', async () => {
    const [a, b] = [await open(), await open()];
    const coll = unique('c');
    const key = unique('k');
    const doc = { key, partition: 'locks', sort: 0, active: true, body: '{}' };
    expect(await a.docs.insert(coll, { ...doc, lease: { owner: 'one', ttlMs: 60_000 } })).toBe(true);
    await b.docs.release(coll, key, 'two', { remove: true }); // not the holder: no effect
    expect((await b.docs.get(coll, key))?.leaseOwner).toBe('one');
    await b.docs.release(coll, key, 'one', { remove: true });
    expect(await a.docs.get(coll, key)).toBeNull();
    expect(await a.docs.keys(coll, { limit: 10 })).toEqual([]);
    // Gone, so the next taker's insert wins at once.
    expect(await a.docs.insert(coll, { ...doc, lease: { owner: 'two', ttlMs: 60_000 } })).toBe(true);
  });

  test('daily limit: concurrent reservations at the limit on two stores pass only up to it; release; window', async () => {
    const [a, b] = [await open(), await open()];
    let clock = Date.now();
    const limitOn = (store: Store) =>
      createDailyLimit({
        docs: store.docs,
        locks: createLocks(store.docs, { ttlMs: 5000 }),
        now: () => clock,
      });
    const [la, lb] = [limitOn(a), limitOn(b)];
    const [workspace, user] = [unique('T'), 'U0ALICE01'];
    const reserve = (limit: typeof la, requestId: string, policyIds: string[]) =>
      limit
        .reserve({ workspace, user, requestId: `${workspace}:${requestId}`, policyIds, limit: 3 })
        .catch(() => ({ ok: 'busy' as const }));
    const first = clock;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => reserve(i % 2 ? la : lb, `r${i}`, [`dbp_${i}`])),
    );
    const passed = results.filter((r) => r.ok === true).length;
    expect(passed).toBeGreaterThan(0);
    expect(passed).toBeLessThanOrEqual(3);
    // Fill up sequentially (a busy lock above is a refusal too), then one more is refused.
    for (let i = 10; (await reserve(la, `fill${i}`, [`dbp_${i}`])).ok === true; i++) clock += 1;
    const refused = await la.reserve({
      workspace,
      user,
      requestId: `${workspace}:late`,
      policyIds: ['dbp_x'],
      limit: 3,
    });
    expect(refused).toEqual({ ok: false, used: 3, roomAt: first + DAILY_LIMIT_WINDOW_MS });
    // The same request again (a Slack retry) is not counted twice.
    const again = results.findIndex((r) => r.ok === true);
    expect(await reserve(lb, `r${again}`, [`dbp_${again}`])).toEqual({ ok: true });
    // A policy that was not scheduled gives its place back; a retry of its request still counts nothing.
    await lb.release({ workspace, user, requestId: `${workspace}:r${again}`, policyIds: [`dbp_${again}`] });
    expect(await reserve(la, `r${again}`, [`dbp_${again}`])).toEqual({ ok: true });
    expect(await reserve(la, 'after-release', ['dbp_y'])).toEqual({ ok: true });
    expect((await reserve(la, 'full-again', ['dbp_z'])).ok).toBe(false);
    // 24 hours after the first reservations, they leave the window.
    clock = first + DAILY_LIMIT_WINDOW_MS + 1;
    expect((await reserve(lb, 'next-day', ['dbp_1', 'dbp_2'])).ok).toBe(true);
    // A workspace that uninstalls leaves no count behind; another workspace keeps its own.
    const other = unique('T');
    await la.reserve({ workspace: other, user, requestId: `${other}:V1`, policyIds: ['dbp_o'], limit: 1 });
    await la.forget(workspace);
    expect((await reserve(la, 'after-forget', ['a', 'b', 'c'])).ok).toBe(true);
    const kept = await la.reserve({
      workspace: other,
      user,
      requestId: `${other}:V2`,
      policyIds: ['p'],
      limit: 1,
    });
    expect(kept.ok).toBe(false);
  });

  test('docs: list by partition in sort order with paging, keys, stats, trim, removal', async () => {
    const store = await open();
    const coll = unique('c');
    for (const [key, part, sort, active] of [
      ['a', 'T1', 30, true],
      ['b', 'T1', 10, false],
      ['c', 'T1', 20, true],
      ['d', 'T2', 5, true],
    ] as const) {
      await store.docs.upsert(coll, { key, partition: part, sort, active, body: `"${key}"` });
    }
    const keysOf = (rows: { key: string }[]) => rows.map((r) => r.key);
    expect(keysOf(await store.docs.list(coll, 'T1', { limit: 10 }))).toEqual(['b', 'c', 'a']);
    expect(keysOf(await store.docs.list(coll, 'T1', { limit: 1, offset: 1 }))).toEqual(['c']);
    expect(keysOf(await store.docs.list(coll, 'T1', { minSort: 15, limit: 10 }))).toEqual(['c', 'a']);
    expect(await store.docs.keys(coll, { limit: 10 })).toEqual(['a', 'b', 'c', 'd']);
    expect(await store.docs.keys(coll, { afterKey: 'b', limit: 1 })).toEqual(['c']);
    expect(await store.docs.activeStats(coll)).toEqual({ count: 3, oldestSort: 5 });
    await store.docs.trim(coll, 'T1', { beforeSort: 15, keep: 10 });
    expect(keysOf(await store.docs.list(coll, 'T1', { limit: 10 }))).toEqual(['c', 'a']);
    await store.docs.upsert(coll, { key: 'e', partition: 'T1', sort: 40, active: false, body: '"e"' });
    await store.docs.trim(coll, 'T1', { beforeSort: 0, keep: 2 });
    expect(keysOf(await store.docs.list(coll, 'T1', { limit: 10 }))).toEqual(['a', 'e']);
    await store.docs.remove(coll, 'a');
    await store.docs.removePartition(coll, 'T2');
    expect(await store.docs.keys(coll, { limit: 10 })).toEqual(['e']);
    expect(await store.docs.activeStats(coll)).toEqual({ count: 0, oldestSort: null });
  });

  test('docs: count by collection, bounded by max', async () => {
    const store = await open();
    const [coll, other] = [unique('c'), unique('c')];
    expect(await store.docs.count(coll)).toBe(0);
    for (let i = 0; i < 5; i++) {
      await store.docs.upsert(coll, {
        key: `k${i}`,
        partition: `T${i % 2}`,
        sort: i,
        active: i < 2,
        body: '{}',
      });
    }
    await store.docs.upsert(other, { key: 'k0', partition: 'T0', sort: 0, active: false, body: '{}' });
    expect(await store.docs.count(coll)).toBe(5);
    expect(await store.docs.count(coll, { max: 3 })).toBe(3);
    expect(await store.docs.count(coll, { max: 50 })).toBe(5);
    expect(await store.docs.count(other)).toBe(1);
    await store.docs.remove(coll, 'k1');
    expect(await store.docs.count(coll)).toBe(4);
  });

  test('docs: removeIfUnchanged removes only the version that was read, and every index of it', async () => {
    const [a, b] = [await open(), await open()];
    const coll = unique('c');
    const doc = { key: unique('k'), partition: 'T1', sort: 1_700_000_000_123, active: true, body: '{"v":1}' };
    await a.docs.upsert(coll, doc);
    const seen = { sort: doc.sort, body: doc.body };
    // Written again since it was read (another body, or the same body at another time): it stays.
    await b.docs.upsert(coll, { ...doc, body: '{"v":2}' });
    expect(await a.docs.removeIfUnchanged(coll, doc.key, seen)).toBe(false);
    await b.docs.upsert(coll, { ...doc, sort: doc.sort + 1 });
    expect(await a.docs.removeIfUnchanged(coll, doc.key, seen)).toBe(false);
    expect((await a.docs.get(coll, doc.key))?.sort).toBe(doc.sort + 1);
    await b.docs.upsert(coll, doc);
    expect(await a.docs.removeIfUnchanged(coll, doc.key, seen)).toBe(true);
    expect(await b.docs.get(coll, doc.key)).toBeNull();
    expect(await b.docs.keys(coll, { limit: 10 })).toEqual([]);
    expect(await b.docs.list(coll, 'T1', { limit: 10 })).toEqual([]);
    expect(await b.docs.activeStats(coll)).toEqual({ count: 0, oldestSort: null });
    expect(await b.docs.count(coll)).toBe(0);
    expect(await a.docs.removeIfUnchanged(coll, doc.key, seen)).toBe(false); // already gone
  });

  test('docs: insertStamped stamps the document with the store clock, once; replicas with skewed clocks agree on the order', async () => {
    // Two replicas whose clocks are two minutes apart: the one ahead writes first.
    const ahead = await open({ now: () => Date.now() + 60_000 });
    const behind = await open({ now: () => Date.now() - 60_000 });
    const coll = unique('c');
    const [k1, k2] = [unique('k'), unique('k')];
    const doc = { partition: 'T1', active: true, body: '{}', lease: { owner: 'me', ttlMs: 60_000 } };
    const before = Date.now();
    const first = await ahead.docs.insertStamped(coll, { ...doc, key: k1 });
    const second = await behind.docs.insertStamped(coll, { ...doc, key: k2 });
    const after = Date.now();
    expect(first).toEqual(expect.any(Number));
    expect(second).toEqual(expect.any(Number));
    expect(await behind.docs.insertStamped(coll, { ...doc, key: k1 })).toBeNull(); // once
    const row = await behind.docs.get(coll, k1);
    expect(row).toMatchObject({ sort: first, leaseOwner: 'me', active: true, body: '{}' });
    expect(row?.leaseExpiresAt).toBeGreaterThanOrEqual((first ?? 0) + 60_000 - 5);
    expect(await ahead.docs.lease(coll, k1, 'other', 1000)).toBeNull(); // the lease was taken with it
    if (backend.sharedClock) {
      // The store's own clock: the later write is the later stamp, whatever the replicas' clocks say.
      expect(second).toBeGreaterThanOrEqual(first ?? Number.POSITIVE_INFINITY);
      expect(first).toBeGreaterThanOrEqual(before - 5_000);
      expect(first).toBeLessThanOrEqual(after + 5_000);
    } else {
      // SQLite runs in the process: its clock is the process's (replicas on one file share one machine's).
      expect(first).toBeGreaterThanOrEqual(before + 60_000);
      expect(second).toBeLessThanOrEqual(after - 60_000);
    }
  });

  test('docs: replaceIfUnchanged writes over the version that was read (or into a key still absent), never over a newer one', async () => {
    const [a, b] = [await open(), await open()];
    const coll = unique('c');
    const doc = { key: unique('k'), partition: 'T1', sort: 10, active: false, body: '{"v":1}' };
    expect(await a.docs.replaceIfUnchanged(coll, doc, null)).toBe(true); // absent: created
    expect(await b.docs.replaceIfUnchanged(coll, { ...doc, body: '{"v":9}' }, null)).toBe(false); // not absent now
    const v2 = { ...doc, partition: 'T2', sort: 20, body: '{"v":2}' };
    expect(await b.docs.replaceIfUnchanged(coll, v2, { body: '{"v":1}' })).toBe(true);
    // Read as v1 before b wrote v2: a's write would put older data back, so it does not land.
    expect(await a.docs.replaceIfUnchanged(coll, { ...doc, body: '{"v":3}' }, { body: '{"v":1}' })).toBe(
      false,
    );
    expect(await a.docs.get(coll, doc.key)).toMatchObject({ partition: 'T2', sort: 20, body: '{"v":2}' });
    expect(await a.docs.list(coll, 'T1', { limit: 10 })).toEqual([]);
    expect((await a.docs.list(coll, 'T2', { limit: 10 })).map((d) => d.key)).toEqual([doc.key]);

    // A lease on the document is kept; a removed document is not brought back.
    const leased = { key: unique('k'), partition: 'T1', sort: 1, active: true, body: '{"v":1}' };
    await a.docs.insert(coll, { ...leased, lease: { owner: 'me', ttlMs: 60_000 } });
    expect(await b.docs.replaceIfUnchanged(coll, { ...leased, body: '{"v":2}' }, { body: '{"v":1}' })).toBe(
      true,
    );
    expect(await a.docs.get(coll, leased.key)).toMatchObject({ body: '{"v":2}', leaseOwner: 'me' });
    await a.docs.remove(coll, leased.key);
    expect(await b.docs.replaceIfUnchanged(coll, { ...leased, body: '{"v":3}' }, { body: '{"v":2}' })).toBe(
      false,
    );
    expect(await b.docs.get(coll, leased.key)).toBeNull();
  });

  test('claims: a lapsed claim leaves the store, by its own TTL (Redis) or by pruneClaims in batches (SQL)', async () => {
    // No random clean-up inside claim() during this test: what goes, goes through pruneClaims.
    const random = jest.spyOn(Math, 'random').mockReturnValue(0.5);
    try {
      let clock = Date.now();
      const store = await open({ now: () => clock });
      while ((await store.pruneClaims(500)) > 0);
      const before = await store.countClaims(1_000_000);
      const short = Array.from({ length: 5 }, () => unique('restore:T:dbp'));
      const long = unique('approval:T:V');
      for (const key of short) expect(await store.claim(key, 150)).toBe(true);
      expect(await store.claim(long, 60_000)).toBe(true);
      expect(await store.countClaims(1_000_000)).toBe(before === null ? null : before + 6);
      clock += 2_000;
      // Redis expires them by its own clock (PX): nothing announces it, so poll for it.
      if (before === null) {
        await poll('the short claims to expire', async () => {
          for (const key of short) if (await backend.claimStored(key)) return false;
          return true;
        });
      }
      const batches: number[] = [];
      do batches.push(await store.pruneClaims(2));
      while (batches.at(-1) !== 0);
      if (before === null) {
        expect(batches).toEqual([0]); // Redis: nothing to remove, it expired them itself
      } else {
        expect(batches).toEqual([2, 2, 1, 0]);
        expect(await store.countClaims(1_000_000)).toBe(before + 1);
        expect(await store.countClaims(0)).toBe(0);
      }
      for (const key of short) expect(await backend.claimStored(key)).toBe(false);
      expect(await backend.claimStored(long)).toBe(true);
      expect(await store.claim(long, 60_000)).toBe(false);
      expect(await store.claim(short[0] as string, 60_000)).toBe(true);
    } finally {
      random.mockRestore();
    }
  });

  test('audit: newest first, limited, per workspace, shared between stores', async () => {
    const [a, b] = [await open(), await open()];
    const [w1, w2] = [unique('T'), unique('T')];
    const t = Date.now();
    await a.audit.append(entry(w1, t, 'one'));
    await b.audit.append(entry(w2, t + 1, 'other'));
    await a.audit.append(entry(w1, t + 2, 'two'));
    await b.audit.append(entry(w1, t + 3, 'three'));
    expect((await b.audit.recent(w1, 10)).map((e) => e.outcome)).toEqual(['three', 'two', 'one']);
    expect((await a.audit.recent(w1, 2)).map((e) => e.outcome)).toEqual(['three', 'two']);
    expect(await a.audit.recent(w2, 10)).toEqual([entry(w2, t + 1, 'other')]);
    expect(await a.audit.recent(unique('T'), 10)).toEqual([]);
  });

  test('audit: at most maxPerWorkspace entries are kept per workspace', async () => {
    const store = await open({ maxPerWorkspace: 5 });
    const [w1, w2] = [unique('T'), unique('T')];
    const t = Date.now();
    await store.audit.append(entry(w2, t, 'kept'));
    for (let i = 1; i <= 8; i++) await store.audit.append(entry(w1, t + i, `n${i}`));
    expect((await store.audit.recent(w1, 100)).map((e) => e.outcome)).toEqual(['n8', 'n7', 'n6', 'n5', 'n4']);
    expect((await store.audit.recent(w2, 100)).map((e) => e.outcome)).toEqual(['kept']);
  });

  test('audit: entries past retention are dropped', async () => {
    let clock = Date.now();
    const store = await open({ retentionMs: DAY, now: () => clock });
    const workspace = unique('T');
    await store.audit.append(entry(workspace, clock, 'old'));
    clock += DAY / 2;
    await store.audit.append(entry(workspace, clock, 'recent'));
    expect((await store.audit.recent(workspace, 10)).map((e) => e.outcome)).toEqual(['recent', 'old']);
    clock += DAY * 0.75; // "old" is now 1.25 days old, "recent" 0.75
    await store.audit.append(entry(workspace, clock, 'new'));
    expect((await store.audit.recent(workspace, 10)).map((e) => e.outcome)).toEqual(['new', 'recent']);
  });

  test('audit: forget removes one workspace’s entries only', async () => {
    const store = await open();
    const [w1, w2] = [unique('T'), unique('T')];
    await store.audit.append(entry(w1, Date.now(), 'gone'));
    await store.audit.append(entry(w2, Date.now(), 'stays'));
    await store.audit.forget(w1);
    expect(await store.audit.recent(w1, 10)).toEqual([]);
    expect((await store.audit.recent(w2, 10)).map((e) => e.outcome)).toEqual(['stays']);
  });

  test('after close() every operation rejects promptly', async () => {
    const store = await open();
    const workspace = unique('T');
    await store.close();
    expect(await outcomeOf(() => store.kv.get(`token:${workspace}`))).toBe('rejected');
    expect(await outcomeOf(() => store.kv.set(`token:${workspace}`, { x: 1 }))).toBe('rejected');
    expect(await outcomeOf(() => store.claim(unique('submission:T:V'), 1000))).toBe('rejected');
    expect(await outcomeOf(() => store.audit.append(entry(workspace, Date.now(), 'x')))).toBe('rejected');
    expect(await outcomeOf(() => store.audit.recent(workspace, 10))).toBe('rejected');
  });

  test('kv raw: kvGetRaw is the record as stored; kvReplaceIfUnchanged writes only over the value read', async () => {
    const [a, b] = [await open(), await open()];
    const key = unique('token:');
    const serialize = async (value: unknown, expires?: number) =>
      (await a.kv.serializeData({ value, expires })) as string;
    expect(await a.kvGetRaw(key)).toBeNull();
    expect(await a.kvReplaceIfUnchanged(key, await serialize({ v: 0 }), await serialize({ v: 1 }))).toBe(
      false,
    );
    expect(await backend.raw(key)).toBeNull(); // an absent record is not created

    await a.kv.set(key, { sealed: 'v2.one', v: 1 });
    const first = (await b.kvGetRaw(key)) as string;
    expect(first).toBe(await backend.raw(key));
    expect(await b.kv.deserializeData(first)).toMatchObject({ value: { sealed: 'v2.one', v: 1 } });
    const second = await serialize({ sealed: 'v2.two', v: 2 });
    expect(await b.kvReplaceIfUnchanged(key, first, second)).toBe(true);
    expect(await a.kv.get(key)).toEqual({ sealed: 'v2.two', v: 2 });
    expect(await a.kvGetRaw(key)).toBe(second);
    // What was read is not there any more: nothing is written.
    expect(await a.kvReplaceIfUnchanged(key, first, await serialize({ v: 'stale' }))).toBe(false);
    expect(await b.kv.get(key)).toEqual({ sealed: 'v2.two', v: 2 });
    // Written again by someone else since it was read: their value stays.
    await a.kv.set(key, { sealed: 'v2.three', v: 3 });
    expect(await b.kvReplaceIfUnchanged(key, second, await serialize({ v: 'stale' }))).toBe(false);
    expect(await b.kv.get(key)).toEqual({ sealed: 'v2.three', v: 3 });
    // Removed since it was read: it stays removed.
    const third = (await b.kvGetRaw(key)) as string;
    expect(await a.kv.delete(key)).toBe(true);
    expect(await b.kvReplaceIfUnchanged(key, third, await serialize({ v: 'stale' }))).toBe(false);
    expect(await b.kv.get(key)).toBeUndefined();
    expect(await backend.raw(key)).toBeNull();
    expect(await b.kvGetRaw(key)).toBeNull();
  });

  test('kv raw: of 20 concurrent replaces over the same value, on two stores, exactly one wins', async () => {
    const [a, b] = [await open(), await open()];
    const key = unique('installation:');
    await a.kv.set(key, { sealed: 'v1.old' });
    const read = (await a.kvGetRaw(key)) as string;
    const nexts = await Promise.all(
      Array.from(
        { length: 20 },
        async (_, i) => (await a.kv.serializeData({ value: { sealed: `v2.${i}` } })) as string,
      ),
    );
    const results = await Promise.all(
      nexts.map((next, i) => (i % 2 ? a : b).kvReplaceIfUnchanged(key, read, next)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await b.kvGetRaw(key)).toBe(nexts[results.indexOf(true)]);
  });

  test('kv raw: a replaced record keeps its expiry', async () => {
    const store = await open();
    const key = unique('record:');
    await store.kv.set(key, { n: 1 }, 60_000);
    const read = (await store.kvGetRaw(key)) as string;
    const { expires } = (await store.kv.deserializeData<unknown>(read)) ?? {};
    expect(expires).toEqual(expect.any(Number));
    const next = (await store.kv.serializeData({ value: { n: 2 }, expires })) as string;
    expect(await store.kvReplaceIfUnchanged(key, read, next)).toBe(true);
    expect(await store.kv.get(key)).toEqual({ n: 2 });
    expect(await store.kv.deserializeData<unknown>((await store.kvGetRaw(key)) as string)).toEqual({
      value: { n: 2 },
      expires,
    });
    // Redis also expires the key itself: its TTL is still the record's.
    if (backend.recordTtlMs) expect(await backend.recordTtlMs(key)).toBeGreaterThan(1_000);
  });

  test('kv raw: after close() both reject promptly', async () => {
    const store = await open();
    const key = unique('token:');
    await store.close();
    expect(await outcomeOf(() => store.kvGetRaw(key))).toBe('rejected');
    expect(await outcomeOf(() => store.kvReplaceIfUnchanged(key, '{}', '{}'))).toBe('rejected');
  });
}

describe('SQLite store', () => {
  storeContract(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'katapult-store-contract-'));
    const file = path.join(dir, 'store.sqlite');
    // node:sqlite, like the store: a second copy of SQLite (sqlite3) on the same file in this process
    // would drop the store's locks when it closes (src/store/sqlite-store.ts).
    let reader: DatabaseSync | null = null;
    const read = (sql: string, value: string) => {
      reader ??= new DatabaseSync(file, { readOnly: true });
      return reader.prepare(sql).all(value);
    };
    return {
      open: (options) => openSqliteStore(`sqlite://${file}`, { ...options, onError }),
      async raw(key) {
        const rows = read('SELECT value FROM keyv WHERE key = ?', `katapult-chatops:${key}`) as {
          value: string;
        }[];
        return rows[0]?.value ?? null;
      },
      async claimStored(key) {
        return read('SELECT key FROM claims WHERE key = ?', key).length === 1;
      },
      async cleanup() {
        reader?.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
});

describeWithService('redis', 'Redis store', () => {
  storeContract(async () => {
    const url = serviceUrl('redis');
    const namespace = `katapult-chatops-test-${RUN}`;
    const client = createClient({ url });
    client.on('error', () => undefined);
    await client.connect();
    return {
      open: (options) => openRedisStore(url, { ...options, onError, namespace }),
      sharedClock: true,
      raw: (key) => client.get(`${namespace}::${key}`),
      claimStored: async (key) => (await client.exists(`${namespace}:claim:${key}`)) === 1,
      recordTtlMs: (key) => client.pTTL(`${namespace}::${key}`),
      async cleanup() {
        const keys: string[] = [];
        for await (const batch of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 })) {
          keys.push(...batch);
        }
        if (keys.length > 0) await client.del(keys);
        client.destroy();
      },
    };
  });
});

describeWithService('postgres', 'PostgreSQL store', () => {
  storeContract(async () => {
    const url = serviceUrl('postgres');
    const schema = `katapult_test_${RUN}`;
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    return {
      open: (options) => openPostgresStore(url, { ...options, onError, schema }),
      sharedClock: true,
      async raw(key) {
        const { rows } = await pool.query<{ value: string }>(
          `SELECT value FROM ${schema}.katapult_kv WHERE key = $1`,
          [`katapult-chatops:${key}`],
        );
        return rows[0]?.value ?? null;
      },
      async claimStored(key) {
        const { rows } = await pool.query(`SELECT key FROM ${schema}.katapult_claims WHERE key = $1`, [key]);
        return rows.length === 1;
      },
      async cleanup() {
        await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await pool.end();
      },
    };
  });
});

describe('openStore', () => {
  const options = { ...defaults, onError };

  /** A port nothing listens on: bound, then released. */
  async function deadPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  test('an unknown scheme is refused, naming STORE_URL', async () => {
    await expect(openStore('mysql://user:pw@db/katapult', options)).rejects.toThrow(/STORE_URL/);
    await expect(openStore('./data/bot.sqlite', options)).rejects.toThrow(/STORE_URL/);
  });

  test('sqlite:// opens the SQLite store', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'katapult-open-store-'));
    try {
      const store = await openStore(`sqlite://${path.join(dir, 'x.sqlite')}`, options);
      await store.kv.set('k', 1);
      expect(await store.kv.get('k')).toBe(1);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test.each([
    ['redis', (port: number) => `redis://katapult:s3cr3t-pw@127.0.0.1:${port}/0`],
    ['rediss', (port: number) => `rediss://katapult:s3cr3t-pw@127.0.0.1:${port}`],
    ['postgres', (port: number) => `postgres://katapult:s3cr3t-pw@127.0.0.1:${port}/bot?password=s3cr3t-pw`],
    ['postgresql', (port: number) => `postgresql://katapult:s3cr3t-pw@127.0.0.1:${port}/bot`],
  ] as const)('%s: an unreachable server fails fast, with the URL but not the password', async (_, make) => {
    const port = await deadPort();
    const started = Date.now();
    const error = await openStore(make(port), options).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error?.message).toMatch(
      new RegExp(
        `^could not connect to the store at [a-z]+://127\\.0\\.0\\.1:${port}\\S* \\(ECONNREFUSED\\)$`,
      ),
    );
    expect(error?.message).not.toContain('s3cr3t');
    expect(error?.message).not.toContain('katapult@');
  });

  test('displayStoreUrl drops credentials and query, keeps SQLite paths', () => {
    expect(displayStoreUrl('redis://u:pw@cache.internal:6380/2')).toBe('redis://cache.internal:6380/2');
    expect(displayStoreUrl('postgres://bot:pw@db/katapult?sslmode=require&password=x')).toBe(
      'postgres://db/katapult',
    );
    expect(displayStoreUrl('sqlite:///var/lib/bot.sqlite')).toBe('sqlite:///var/lib/bot.sqlite');
  });
});
