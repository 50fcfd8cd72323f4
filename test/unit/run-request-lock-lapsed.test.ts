/**
 * A request whose policy lock lapsed (its renewals failed, the process stalled) while a newer request
 * for the same policy took the lock and finished: the older one's end never writes its time and held
 * messages over the newer one's index record (the write is conditional on the version it replaced),
 * and the messages it held are deleted again, so none goes out unnamed. Real SQLite store.
 */
import { createLocks } from '../../src/scheduling/locks.js';
import { createRequestLog, type RequestRecord } from '../../src/scheduling/request-log.js';
import { type RequestSurface, type RunRequestDeps, runRequest } from '../../src/scheduling/run-request.js';
import { createUpcomingDeletions, type UpcomingDeletion, versionOf } from '../../src/scheduling/upcoming.js';
import { AT, pendingRecord, renewalsCut, runRequestDeps } from '../helpers/run-request.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const currentStore = useTempSqliteStore();

test('a lapsed policy lock: the older request leaves the newer one’s index record as it is and deletes what it held', async () => {
  const store = currentStore();
  let releaseA = () => {};
  const aBlocked = new Promise<void>((r) => {
    releaseA = r;
  });
  let aEntered = () => {};
  const aInAnnounce = new Promise<void>((r) => {
    aEntered = r;
  });
  const dropped: { request: string; held: UpcomingDeletion }[] = [];
  const surface: RequestSurface = {
    checkAccess: async () => ({ allowed: true, zone: 'UTC' }),
    refuse: async () => undefined,
    announce: async (r) => {
      if (r.id === 'T1:VA') {
        aEntered();
        await aBlocked; // a slow Slack post (up to 10 s per attempt in production)
      }
      return 'channel';
    },
    tell: async () => undefined,
    holdFollowups: async (r, _step, _channel, indexed, handOver) => {
      // As the real surface does: the new held messages' IDs go with the caller's last writes.
      if (indexed && handOver)
        handOver({ ...indexed, reminderMessageId: `reminder-of-${r.id}` }, versionOf(indexed));
    },
    dropHeld: async (r, held) => {
      dropped.push({ request: r.id, held });
      return true;
    },
  };
  const base = runRequestDeps(store, { surface });
  const cutA = renewalsCut(store.docs, 'lock');
  const workerA: RunRequestDeps = { ...base('worker-A'), locks: createLocks(cutA.docs, { ttlMs: 300 }) };
  const workerB: RunRequestDeps = { ...base('worker-B'), locks: createLocks(store.docs, { ttlMs: 300 }) };
  const requests = createRequestLog(store.docs);
  const index = createUpcomingDeletions(store.docs);

  const put = async (id: string, at: number) => {
    const r: RequestRecord = { ...pendingRecord(id, ['dbp_z']), atSeconds: at };
    await requests.create(r, 'intake', 300);
    await requests.release(id, 'intake');
  };
  await put('T1:VA', AT);
  const a = runRequest(workerA, 'T1:VA');
  await aInAnnounce;
  cutA.state.cut = true; // A's lock renewals fail (its record lease renewals still succeed)
  await new Promise((r) => setTimeout(r, 500)); // past the lock's ttl

  // A newer request for the same policy: it gets the lock A still believes it holds.
  await put('T1:VB', AT + 3600);
  expect(await runRequest(workerB, 'T1:VB')).toBe(true);
  expect((await index.get('T1', 'dbp_z'))?.at).toBe(AT + 3600);
  expect((await index.get('T1', 'dbp_z'))?.reminderMessageId).toBe('reminder-of-T1:VB');

  cutA.state.cut = false;
  releaseA();
  expect(await a).toBe(true);
  const after = await index.get('T1', 'dbp_z');
  // The newer request's time and held messages stand; what the older one held is deleted again.
  expect(after?.at).toBe(AT + 3600);
  expect(after?.reminderMessageId).toBe('reminder-of-T1:VB');
  expect(dropped).toEqual([
    { request: 'T1:VA', held: expect.objectContaining({ at: AT, reminderMessageId: 'reminder-of-T1:VA' }) },
  ]);
  expect(await requests.get('T1:VA')).toMatchObject({ state: 'done' });
});
