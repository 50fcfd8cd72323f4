/**
 * Retention (src/scheduling/retention.ts) on a real SQLite store with an injected clock: what goes,
 * what stays whatever its age, the bound on each batch's reads, a record written again while it was
 * judged, the periodic sweep, and the per-kind counts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HOLDS } from '../../src/scheduling/approvals.js';
import { RESERVATIONS } from '../../src/scheduling/daily-limit.js';
import { createLocks, LOCKS } from '../../src/scheduling/locks.js';
import { createRequestLog, REQUESTS } from '../../src/scheduling/request-log.js';
import { createRetention, RECORD_KINDS } from '../../src/scheduling/retention.js';
import { CHECKED, createUpcomingDeletions, UPCOMING } from '../../src/scheduling/upcoming.js';
import type { Docs } from '../../src/store/docs.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import {
  allKeys,
  DAY,
  HOUR,
  request,
  seedYear,
  silent,
  sweepFully,
  TIMED,
  WS,
} from '../helpers/retention-fixture.js';

const START = 1_800_000_000_000;
let clock = START;
let dir: string;
let store: Store;

beforeEach(async () => {
  clock = START;
  dir = await mkdtemp(path.join(tmpdir(), 'katapult-retention-'));
  store = await openSqliteStore(`sqlite://${path.join(dir, 'r.sqlite')}`, {
    retentionMs: 90 * DAY,
    maxPerWorkspace: 1000,
    onError: () => undefined,
    // Leases and claims are judged by this clock too.
    now: () => clock,
  });
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const COLLECTIONS = [REQUESTS, UPCOMING, CHECKED, RESERVATIONS, LOCKS, HOLDS, ...TIMED];

test('a year of every kind: what nothing needs goes, what is active, recent or unreadable stays', async () => {
  const expected = await seedYear(store, START);
  clock = START + 2 * 60_000; // the dead lock's lease lapsed more than a minute ago
  const passes = await sweepFully(store, () => clock);
  for (const collection of COLLECTIONS) {
    expect({ collection, keys: await allKeys(store.docs, collection) }).toEqual({
      collection,
      keys: expected[collection],
    });
  }
  const removed = passes.reduce((sum, p) => sum + p.removed.requests, 0);
  expect(removed).toBe(4);
  expect(passes.at(-1)?.removed).toMatchObject({
    approval_holds: 2,
    upcoming: 1,
    upcoming_checks: 1, // the orphan; the moved one's check went with its record
    daily_limit: 3,
    locks: 1,
    // The quiet workspace's, each a day past its window.
    audit_refusals: 1,
    audit_failures: 1,
    audit_admin: 1,
    audit_approvals: 1,
    audit_decisions: 1,
    last_channels: 1,
    upcoming_notices: 1,
    claims: 1,
  });
  expect(passes.at(-1)?.unreadable).toMatchObject({ requests: 2, upcoming: 1 });
  expect(await store.countClaims(100)).toBe(1);
  // A second pass finds nothing more to remove.
  const again = await sweepFully(store, () => clock);
  expect(Object.values(again.at(-1)?.removed ?? {}).every((n) => n === 0)).toBe(true);
});

test('10,000 finished requests among pending, waiting and approved ones: only those and the recent remain', async () => {
  const requests = createRequestLog(store.docs, () => clock);
  const states = ['done', 'failed', 'superseded', 'cancelled', 'denied', 'expired'] as const;
  for (let i = 0; i < 10_000; i++) {
    await requests.put(
      request(`OLD${String(i).padStart(5, '0')}`, START - 8 * DAY - i * 60_000, { state: states[i % 6] }),
    );
  }
  const active = [
    request('PENDING', START - 60 * DAY, { state: 'pending' }),
    request('CALLING', START - 60 * DAY, { state: 'calling' }),
    request('AWAITING', START - 60 * DAY, {
      state: 'awaiting_approval',
      approval: { expiresAt: START - 59 * DAY },
    }),
    request('APPROVED', START - 60 * DAY, {
      state: 'pending',
      approval: {
        expiresAt: START - 59 * DAY,
        decision: { by: 'U0ADMIN01', at: START - 60 * DAY, approved: true },
      },
    }),
    request('RECENT', START - 6 * DAY),
  ];
  for (const r of active) await requests.put(r);

  const passes = await sweepFully(store, () => clock);
  expect(passes.reduce((sum, p) => sum + p.removed.requests, 0)).toBe(10_000);
  // At most 20 batches of 200 per sweep: three sweeps for 10,005 records.
  expect(passes.map((p) => p.examined.requests)).toEqual([4000, 4000, 2005]);
  expect(await allKeys(store.docs, REQUESTS)).toEqual(active.map((r) => r.id).sort());
  expect((await store.docs.get(REQUESTS, `${WS}:APPROVED`))?.body).toBe(JSON.stringify(active[3]));
}, 120_000);

test('a record of an older shape is never lost while it may be active, however old', async () => {
  const bodies = [
    JSON.stringify({ id: `${WS}:A`, status: 'pending' }), // no `state`
    JSON.stringify({ id: `${WS}:B`, state: 'queued', policies: [] }), // a state this code does not know
    '["not", "an", "object"]',
    '{"id": "truncated',
  ];
  for (const [i, body] of bodies.entries()) {
    await store.docs.upsert(REQUESTS, {
      key: `${WS}:K${i}`,
      partition: WS,
      sort: 0,
      active: i % 2 === 0,
      body,
    });
  }
  await store.docs.upsert(UPCOMING, {
    key: `${WS}:dbp_x`,
    partition: WS,
    sort: 0,
    active: false,
    body: '{}',
  });
  // A hold whose request cannot be read: kept too.
  await store.docs.insert(HOLDS, { key: `${WS}:K3`, partition: WS, sort: 0, active: true, body: '{}' });
  clock += 400 * DAY;
  const passes = await sweepFully(store, () => clock);
  expect(passes.at(-1)?.unreadable).toMatchObject({ requests: 3, upcoming: 1, approval_holds: 1 });
  expect(await store.docs.count(REQUESTS)).toBe(4);
  expect(await store.docs.count(UPCOMING)).toBe(1);
  expect(await store.docs.count(HOLDS)).toBe(1);
});

/** The store's documents, with every read written down (collection, what, how many at most). */
function spied(docs: Docs, log: string[]): Docs {
  return {
    ...docs,
    keys: async (collection, options) => {
      const keys = await docs.keys(collection, options);
      log.push(`keys ${collection} ${options.limit} ${keys.length}`);
      return keys;
    },
    get: async (collection, key) => {
      log.push(`get ${collection}`);
      return docs.get(collection, key);
    },
  };
}

test('a batch never reads more than its limit: one page of keys, each record once (and the one it depends on)', async () => {
  const requests = createRequestLog(store.docs, () => clock);
  for (let i = 0; i < 530; i++)
    await requests.put(request(`R${String(i).padStart(3, '0')}`, START - 30 * DAY));
  const holds = await import('../../src/scheduling/approvals.js').then((m) =>
    m.createApprovalHolds(store.docs),
  );
  for (let i = 0; i < 120; i++) {
    await holds.hold(
      request(`R${String(i).padStart(3, '0')}`, START, { approval: { expiresAt: START + DAY } }),
      START,
    );
  }
  const log: string[] = [];
  const retention = createRetention({
    docs: spied(store.docs, log),
    claims: store,
    now: () => clock,
    logger: silent,
    settings: { finishedRequestMs: 7 * DAY, intervalMs: 0, batchSize: 50, batchesPerSweep: 4 },
  });
  const pass = await retention.sweep();
  // Each batch: one page of at most 50 keys, then at most 50 records of it (a hold reads its request too).
  const batches: { collection: string; limit: number; got: number; reads: Record<string, number> }[] = [];
  for (const line of log) {
    const [verb, collection, limit, got] = line.split(' ') as [string, string, string?, string?];
    if (verb === 'keys') batches.push({ collection, limit: Number(limit), got: Number(got), reads: {} });
    else {
      const reads = (batches.at(-1) as (typeof batches)[number]).reads;
      reads[collection] = (reads[collection] ?? 0) + 1;
    }
  }
  for (const b of batches) {
    expect(b.limit).toBe(50);
    expect(b.got).toBeLessThanOrEqual(50);
    expect(b.reads[b.collection] ?? 0).toBeLessThanOrEqual(b.got);
    const others = Object.entries(b.reads).filter(([c]) => c !== b.collection);
    for (const [, n] of others) expect(n).toBeLessThanOrEqual(b.got);
  }
  // At most 4 batches per kind in one sweep: 200 of the 530 requests, all 120 holds (3 batches).
  expect(batches.filter((b) => b.collection === REQUESTS)).toHaveLength(4);
  expect(pass.examined.requests).toBe(200);
  expect(pass.removed.requests).toBe(200);
  expect(batches.filter((b) => b.collection === HOLDS)).toHaveLength(3);
  expect(pass.complete).toBe(false);
  // The next sweep goes on where this one stopped.
  const next = await retention.sweep();
  expect(next.examined.requests).toBe(200);
  expect(await store.docs.count(REQUESTS)).toBe(130);
});

test('a record written again while the sweep judged it stays (an upcoming deletion rescheduled meanwhile)', async () => {
  const upcoming = createUpcomingDeletions(store.docs);
  const old = {
    policyId: 'dbp_again',
    channelId: 'C0OPS0001',
    at: Math.floor((START - 30 * DAY) / 1000),
    scheduledBy: 'U0ALICE01',
    targetType: null,
    targetId: null,
    reminderMessageId: null,
    restoreMessageId: null,
  };
  await upcoming.put(WS, old);
  const fresh = { ...old, at: Math.floor((START + DAY) / 1000) };
  const docs: Docs = {
    ...store.docs,
    // Between the sweep's read and its removal, the policy is scheduled again.
    get: async (collection, key) => {
      const row = await store.docs.get(collection, key);
      if (collection === UPCOMING) await upcoming.put(WS, fresh);
      return row;
    },
  };
  const pass = await createRetention({
    docs,
    claims: store,
    now: () => clock,
    logger: silent,
    settings: { finishedRequestMs: 7 * DAY, intervalMs: 0, batchSize: 10 },
  }).sweep();
  expect(pass.examined.upcoming).toBe(1);
  expect(pass.removed.upcoming).toBe(0);
  expect(await upcoming.get(WS, 'dbp_again')).toEqual(fresh);
});

test('a lock held now stays, however old; one whose holder died goes, and the name can be taken again', async () => {
  const locks = createLocks(store.docs, { ttlMs: 5_000 });
  let release!: () => void;
  const holding = locks.withLock('policy:T:held', () => new Promise<void>((resolve) => (release = resolve)));
  await store.docs.insert(LOCKS, {
    key: 'policy:T:dead',
    partition: 'locks',
    sort: 0,
    active: true,
    body: '{}',
    lease: { owner: 'gone', ttlMs: 5_000 },
  });
  clock += 30_000; // within the grace after the dead one lapsed: not yet
  expect((await sweepFully(store, () => clock)).at(-1)?.removed.locks).toBe(0);
  clock += 60_000;
  // The held one's lease is renewed by its holder (on this clock, the renewal sees 90 s passed).
  await store.docs.lease(
    LOCKS,
    'policy:T:held',
    (await store.docs.get(LOCKS, 'policy:T:held'))?.leaseOwner as string,
    5_000,
  );
  expect((await sweepFully(store, () => clock)).at(-1)?.removed.locks).toBe(1);
  expect(await allKeys(store.docs, LOCKS)).toEqual(['policy:T:held']);
  release();
  await holding;
  expect(await locks.withLock('policy:T:dead', async () => 'taken')).toBe('taken');
});

test('daily-limit places go once their 24 hours are over; the limit still counts the rest', async () => {
  const { createDailyLimit } = await import('../../src/scheduling/daily-limit.js');
  const limit = createDailyLimit({ docs: store.docs, locks: createLocks(store.docs), now: () => clock });
  const reserve = (view: string, policyIds: string[]) =>
    limit.reserve({ workspace: WS, user: 'U0ALICE01', requestId: `${WS}:${view}`, policyIds, limit: 3 });
  expect(await reserve('V1', ['a', 'b'])).toEqual({ ok: true });
  clock += 23 * HOUR;
  expect(await reserve('V2', ['c'])).toEqual({ ok: true });
  clock += 2 * HOUR; // V1 is 25 hours old, V2 2 hours
  const pass = (await sweepFully(store, () => clock)).at(-1);
  expect(pass?.removed.daily_limit).toBe(3); // two places and the marker of V1
  expect(await allKeys(store.docs, RESERVATIONS)).toEqual([`${WS}:V2|`, `${WS}:V2|c`]);
  expect(await reserve('V3', ['d', 'e'])).toEqual({ ok: true });
  expect((await reserve('V4', ['f'])).ok).toBe(false);
});

test('counts: every kind, each counted up to countMax', async () => {
  await seedYear(store, START);
  const retention = createRetention({
    docs: store.docs,
    claims: store,
    now: () => clock,
    logger: silent,
    settings: { finishedRequestMs: 7 * DAY, intervalMs: 0, batchSize: 50, countMax: 5 },
  });
  const counts = await retention.counts();
  expect(Object.keys(counts).sort()).toEqual([...RECORD_KINDS].sort());
  expect(counts).toEqual({
    requests: 5,
    upcoming: 4,
    upcoming_checks: 4,
    daily_limit: 5,
    locks: 2,
    approval_holds: 4,
    audit_refusals: 2,
    audit_failures: 2,
    audit_admin: 3,
    audit_approvals: 2,
    audit_decisions: 2,
    last_channels: 2,
    upcoming_notices: 2,
    claims: 2,
  });
});

test('start: sweeps periodically, each batch through track; stop: no more sweeps', async () => {
  const requests = createRequestLog(store.docs, () => clock);
  await requests.put(request('OLD', START - 30 * DAY));
  let tracked = 0;
  const retention = createRetention({
    docs: store.docs,
    claims: store,
    now: () => clock,
    logger: silent,
    settings: { finishedRequestMs: 7 * DAY, intervalMs: 40, batchSize: 10 },
    track: (work) => {
      tracked++;
      return work();
    },
  });
  retention.start();
  // The first sweep has removed the old request and gone through every kind (the request kind is
  // swept first, so the count alone can reach 0 while later kinds are still on their way).
  for (let i = 0; i < 250 && ((await store.docs.count(REQUESTS)) > 0 || tracked < RECORD_KINDS.length); i++)
    await new Promise((r) => setTimeout(r, 20));
  expect(await store.docs.count(REQUESTS)).toBe(0);
  expect(tracked).toBeGreaterThanOrEqual(RECORD_KINDS.length);
  retention.stop();
  await new Promise((r) => setTimeout(r, 60)); // a sweep under way ends
  const after = tracked;
  await requests.put(request('OLD2', START - 30 * DAY));
  await new Promise((r) => setTimeout(r, 200));
  expect(tracked).toBe(after);
  expect(await store.docs.count(REQUESTS)).toBe(1);
});
