/**
 * A request of one policy, run from its record on a real (SQLite) store: one hold of the policy's
 * lock covers the Katapult call, the post and the follow-ups (which get the index record the call
 * wrote, not a second read), and the post's `sent` mark is written only with the end of the record,
 * so a worker that dies after the post leaves `sending`: the next one never posts again and tells
 * the requester privately.
 */
import { createLocks, LockBusyError, policyLock } from '../../src/scheduling/locks.js';
import { createRequestLog, type RequestRecord } from '../../src/scheduling/request-log.js';
import { type RequestSurface, runRequest, UNKNOWN_POST_TEXT } from '../../src/scheduling/run-request.js';
import { createUpcomingDeletions, type UpcomingDeletion } from '../../src/scheduling/upcoming.js';
import { testClock } from '../helpers/clock.js';
import { AT, pendingRecord, runRequestDeps } from '../helpers/run-request.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const clock = testClock();
const currentStore = useTempSqliteStore({ now: clock.now });

const ID = 'T1:VSINGLE';
const record = () => pendingRecord(ID, ['dbp_one']);

function harness(options: { announce?: () => Promise<void>; hold?: () => Promise<void> } = {}) {
  const posts: RequestRecord[] = [];
  const told: string[] = [];
  const held: (UpcomingDeletion | undefined)[] = [];
  const locks = createLocks(currentStore().docs, { ttlMs: 2000 });
  const surface: RequestSurface = {
    checkAccess: async () => ({ allowed: true, zone: 'UTC' }),
    refuse: async () => undefined,
    announce: async (r) => {
      posts.push(structuredClone(r));
      await options.announce?.();
      return 'channel';
    },
    tell: async (_r, text) => {
      told.push(text);
    },
    holdFollowups: async (_r, _step, _channel, indexed) => {
      held.push(indexed);
      await options.hold?.();
    },
  };
  const deps = runRequestDeps(currentStore(), { surface, locks, now: clock.now });
  return { posts, told, held, locks, deps };
}

test('one lock hold covers the call, the post and the follow-ups, which get the index record the call wrote', async () => {
  const h = harness({
    // While the outcome is posted, nobody else can take the policy's lock.
    announce: () =>
      expect(
        h.locks.withLock(policyLock('T1', 'dbp_one'), async () => undefined, { waitMs: 0 }),
      ).rejects.toBeInstanceOf(LockBusyError),
  });
  const requests = createRequestLog(currentStore().docs);
  await requests.create(record(), 'intake', 300);
  await requests.release(ID, 'intake');

  expect(await runRequest(h.deps('worker-1'), ID)).toBe(true);
  expect(h.posts).toHaveLength(1);
  const indexed = await createUpcomingDeletions(currentStore().docs).get('T1', 'dbp_one');
  expect(h.held).toEqual([indexed]);
  expect(indexed).toMatchObject({ at: AT, requestCreatedAt: expect.any(Number) });
  expect(await requests.get(ID)).toMatchObject({
    state: 'done',
    post: { state: 'sent', delivery: 'channel' },
    policies: [{ policyId: 'dbp_one', followups: true }],
  });
  // The lock is given back (and its document removed).
  expect(await currentStore().docs.keys('lock', { limit: 10 })).toEqual([]);
});

test('a worker that dies after the post: the next one does not post again, tells the requester, holds the follow-ups', async () => {
  let die = true;
  const h = harness({
    hold: async () => {
      if (die) throw new Error('the process died here');
    },
  });
  const requests = createRequestLog(currentStore().docs);
  await requests.create(record(), 'intake', 300);
  await requests.release(ID, 'intake');

  await expect(runRequest(h.deps('worker-1'), ID)).rejects.toThrow('the process died here');
  expect(h.posts).toHaveLength(1);
  // The post went out, but only `sending` was written: it may have gone out, as far as the record says.
  expect((await requests.get(ID))?.post).toEqual({ state: 'sending' });

  die = false;
  clock.advance(350); // the first worker's lease (300 ms) expires
  expect(await runRequest(h.deps('worker-2'), ID)).toBe(true);
  expect(h.posts).toHaveLength(1);
  expect(h.told).toEqual([UNKNOWN_POST_TEXT]);
  // The takeover did not call Katapult (the outcome was saved with `sending`), so it reads the index.
  expect(h.held).toHaveLength(2);
  expect(h.held[1]).toBeUndefined();
  expect(await requests.get(ID)).toMatchObject({
    state: 'done',
    post: { state: 'sent', delivery: 'unknown' },
    policies: [{ policyId: 'dbp_one', followups: true }],
  });
});

describe('a run started with its intake (EarlyStart)', () => {
  function early() {
    const called: string[] = [];
    const h = harness();
    const deps = runRequestDeps(currentStore(), {
      surface: h.deps('w1').surface,
      locks: h.locks,
      now: clock.now,
      katapult: async (policyId) => {
        called.push(policyId);
      },
    })('w1');
    let answer: (taken: boolean) => void = () => undefined;
    const admission = new Promise<boolean>((resolve) => {
      answer = resolve;
    });
    const trips: string[][] = [];
    currentStore().onRoundTrip((statements) =>
      trips.push(statements.map((s) => s.sql.trim().split(/\s+/)[0] ?? '')),
    );
    // As the intake does: the write, then the run, in the same turn.
    const written = deps.requests.create(record(), 'w1', deps.leaseMs);
    const running = runRequest(deps, ID, { record: record(), admission });
    return { h, deps, called, answer, trips, written, running };
  }
  afterEach(() => currentStore().onRoundTrip(null));

  test('its lock and reads go in the write’s round trip; it calls Katapult only once the intake took the record', async () => {
    const e = early();
    expect(await e.written).toBe(true);
    // The insert, the lock and the index read: one round trip.
    expect(e.trips[0]).toEqual(['INSERT', 'INSERT', 'SELECT']);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(e.called).toEqual([]);
    e.answer(true);
    expect(await e.running).toBe(true);
    expect(e.called).toEqual(['dbp_one']);
    expect(e.h.posts).toHaveLength(1);
    expect(await e.deps.requests.get(ID)).toMatchObject({ state: 'done', storedAt: expect.any(Number) });
  });

  test('a record the intake did not take: nothing called, written, posted or told, and the lock given back', async () => {
    const e = early();
    expect(await e.written).toBe(true);
    e.answer(false);
    expect(await e.running).toBe(false);
    expect(e.called).toEqual([]);
    expect(e.h.posts).toEqual([]);
    expect(e.h.told).toEqual([]);
    expect(await e.deps.requests.get(ID)).toMatchObject({ state: 'pending', attempts: 0 });
    expect(await currentStore().docs.keys('lock', { limit: 10 })).toEqual([]);
  });

  test('a busy lock is waited for only once the intake took the record: not taken, the run ends at once', async () => {
    // Another holder keeps the policy's lock (a waiter would wait its 2 s term and 5 s more).
    const other = await createLocks(currentStore().docs, { ttlMs: 2000 }).acquire(
      policyLock('T1', 'dbp_one'),
      async () => undefined,
    );
    try {
      const e = early();
      expect(await e.written).toBe(true);
      const started = Date.now();
      e.answer(false);
      expect(await e.running).toBe(false);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(e.called).toEqual([]);
      expect(e.h.told).toEqual([]);
    } finally {
      await other.release();
    }
  });

  test('a busy lock, the record taken: the run waits for the lock, then calls once', async () => {
    const other = await createLocks(currentStore().docs, { ttlMs: 2000 }).acquire(
      policyLock('T1', 'dbp_one'),
      async () => undefined,
    );
    const e = early();
    expect(await e.written).toBe(true);
    e.answer(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(e.called).toEqual([]);
    await other.release();
    expect(await e.running).toBe(true);
    expect(e.called).toEqual(['dbp_one']);
  });
});
