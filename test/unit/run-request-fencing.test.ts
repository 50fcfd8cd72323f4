/**
 * Fencing from the store, on a real (SQLite) store: a worker cut off from the store during a slow
 * Katapult call (its lease and its policy lock lapse while another worker goes on) writes nothing
 * when the call returns: it checks its lease first and stops, and the upcoming index is written only
 * over the version read before the call, never over a newer request's. A record whose body cannot
 * be read is ended `failed` (at once when it is not JSON; after its attempts when it is JSON of an
 * unknown shape), so it leaves the pending count.
 */
import { createLocks } from '../../src/scheduling/locks.js';
import { createRequestLog, REQUESTS, type RequestRecord } from '../../src/scheduling/request-log.js';
import { type RequestSurface, type RunRequestDeps, runRequest } from '../../src/scheduling/run-request.js';
import { createUpcomingDeletions } from '../../src/scheduling/upcoming.js';
import { AT, pendingRecord, renewalsCut, runRequestDeps } from '../helpers/run-request.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const currentStore = useTempSqliteStore();

const surface = (announced: RequestRecord[]): RequestSurface => ({
  checkAccess: async () => ({ allowed: true, zone: 'UTC' }),
  refuse: async () => undefined,
  announce: async (r) => {
    announced.push(structuredClone(r));
    return 'channel';
  },
  tell: async () => undefined,
  holdFollowups: async () => undefined,
});

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Worker 1, whose first Katapult call waits for `release()` (and which can be cut off from the
 * store), and worker 2, which runs normally; both write the same store, each with its own locks.
 */
function twoWorkers() {
  const store = currentStore();
  const announced: RequestRecord[] = [];
  const calls: string[] = [];
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let entered = () => {};
  const called = new Promise<void>((resolve) => {
    entered = resolve;
  });
  let first = true;
  const base = runRequestDeps(store, {
    surface: surface(announced),
    katapult: async (policyId) => {
      calls.push(policyId);
      if (!first) return;
      first = false;
      entered();
      await released;
    },
  });
  const one = renewalsCut(store.docs);
  const worker1: RunRequestDeps = {
    ...base('worker-1'),
    requests: createRequestLog(one.docs),
    locks: createLocks(one.docs, { ttlMs: 300 }),
  };
  const worker2: RunRequestDeps = { ...base('worker-2'), locks: createLocks(store.docs, { ttlMs: 300 }) };
  return { worker1, worker2, cut: one.state, release, called, calls, announced };
}

async function recorded(id: string, policyIds: string[], at = AT): Promise<RequestRecord> {
  const requests = createRequestLog(currentStore().docs);
  const record = { ...pendingRecord(id, policyIds), atSeconds: at };
  await requests.create(record, 'intake', 300);
  await requests.release(id, 'intake');
  return (await requests.get(id)) as RequestRecord;
}

test('a lease lost during a slow Katapult call: no index write after it; the newer owner’s time stays', async () => {
  const w = twoWorkers();
  const index = createUpcomingDeletions(currentStore().docs);
  const requests = createRequestLog(currentStore().docs);
  await recorded('T1:VSLOW', ['dbp_x']);
  const slow = runRequest(w.worker1, 'T1:VSLOW');
  await w.called;
  w.cut.cut = true; // worker 1 can no longer renew: its lease and its lock lapse

  // Worker 2 takes the record over and finishes it; then a newer request moves the policy later.
  await until(
    () => runRequest(w.worker2, 'T1:VSLOW'),
    (ran) => ran,
  );
  expect((await requests.get('T1:VSLOW'))?.state).toBe('done');
  await recorded('T1:VNEWER', ['dbp_x'], AT + 3600);
  expect(await runRequest(w.worker2, 'T1:VNEWER')).toBe(true);
  const newer = await index.get('T1', 'dbp_x');
  expect(newer?.at).toBe(AT + 3600);

  // Worker 1's call returns: it finds its lease gone and stops, writing nothing.
  w.cut.cut = false;
  w.release();
  expect(await slow).toBe(false);
  expect(await index.get('T1', 'dbp_x')).toEqual(newer);
  expect((await requests.get('T1:VSLOW'))?.state).toBe('done');
  expect(w.announced.map((r) => r.id)).toEqual(['T1:VSLOW', 'T1:VNEWER']);
});

test('an older request whose call returns after a newer one wrote the index never puts its time back', async () => {
  const w = twoWorkers();
  const index = createUpcomingDeletions(currentStore().docs);
  const requests = createRequestLog(currentStore().docs);
  await recorded('T1:VOLDER', ['dbp_y']);
  const older = runRequest(w.worker1, 'T1:VOLDER');
  await w.called;
  w.cut.cut = true; // its policy lock lapses: the newer request gets to the policy meanwhile

  await recorded('T1:VLATER', ['dbp_y'], AT + 7200);
  expect(await runRequest(w.worker2, 'T1:VLATER')).toBe(true);
  const later = await index.get('T1', 'dbp_y');
  expect(later?.at).toBe(AT + 7200);

  // Nobody took the older record's lease, so worker 1 still holds it; the index changed since it
  // read it, and the newer request's entry stays.
  w.cut.cut = false;
  w.release();
  expect(await older).toBe(true);
  expect(await index.get('T1', 'dbp_y')).toEqual(later);
  expect(await requests.get('T1:VOLDER')).toMatchObject({
    state: 'superseded',
    policies: [{ policyId: 'dbp_y', superseded: true }],
  });
});

describe('a record whose body cannot be read', () => {
  const insert = (key: string, body: string) =>
    currentStore().docs.insert(REQUESTS, { key, partition: 'T1', sort: Date.now(), active: true, body });

  test('not JSON: ended failed at the first attempt, counted, out of the pending count', async () => {
    let counted = 0;
    const deps = {
      ...runRequestDeps(currentStore(), { surface: surface([]) })('worker-1'),
      onUnreadable: () => counted++,
    };
    await insert('T1:VCORRUPT', '{"id":"T1:VCORRUPT","policies":[{"policyId"');
    expect(await currentStore().docs.activeStats(REQUESTS)).toMatchObject({ count: 1 });

    expect(await runRequest(deps, 'T1:VCORRUPT')).toBe(true);
    expect(counted).toBe(1);
    expect(await currentStore().docs.activeStats(REQUESTS)).toEqual({ count: 0, oldestSort: null });
    const row = await currentStore().docs.get(REQUESTS, 'T1:VCORRUPT');
    expect(row?.active).toBe(false);
    const ended = JSON.parse(row?.body ?? '{}') as RequestRecord;
    expect(ended).toMatchObject({ id: 'T1:VCORRUPT', state: 'failed', workspace: 'T1' });
    expect(ended.unreadableBody).toContain('"policies":[{"policyId"');
    // Ended: the sweep no longer finds it, and no worker leases it again.
    expect(await currentStore().docs.expired(REQUESTS, 10)).toEqual([]);
    expect(await runRequest(deps, 'T1:VCORRUPT')).toBe(false);
  });

  test('JSON of a shape this version does not know: put back for its attempts (a newer version may read it), then ended failed', async () => {
    let counted = 0;
    const deps = {
      ...runRequestDeps(currentStore(), { surface: surface([]) })('worker-1'),
      onUnreadable: () => counted++,
    };
    await insert('T1:VFUTURE', '{"id":"T1:VFUTURE","steps":{"v":2}}');
    for (let attempt = 1; attempt < deps.maxAttempts; attempt++) {
      expect(await runRequest(deps, 'T1:VFUTURE')).toBe(false);
      // Given back, so the next sweep (here or on another replica) finds it at once.
      expect(await currentStore().docs.expired(REQUESTS, 10)).toEqual(['T1:VFUTURE']);
    }
    expect(counted).toBe(0);
    expect(await runRequest(deps, 'T1:VFUTURE')).toBe(true);
    expect(counted).toBe(1);
    expect(await currentStore().docs.activeStats(REQUESTS)).toEqual({ count: 0, oldestSort: null });
    expect(JSON.parse((await currentStore().docs.get(REQUESTS, 'T1:VFUTURE'))?.body ?? '{}')).toMatchObject({
      state: 'failed',
      unreadableBody: '{"id":"T1:VFUTURE","steps":{"v":2}}',
    });
  });
});
