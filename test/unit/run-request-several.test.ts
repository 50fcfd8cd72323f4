/**
 * A request of several policies, run from its record on a real (SQLite) store: each policy's outcome
 * is written to the record as it comes, so a run that breaks off part-way and is taken over by
 * another worker calls Katapult only for the policies without an outcome, posts once with all of
 * them, and gives back the daily-limit places of the ones not scheduled.
 */
import { KatapultApiError } from '../../src/katapult/errors.js';
import { createRequestLog, type RequestRecord } from '../../src/scheduling/request-log.js';
import { type RequestSurface, runRequest } from '../../src/scheduling/run-request.js';
import { testClock } from '../helpers/clock.js';
import { pendingRecord, runRequestDeps } from '../helpers/run-request.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const clock = testClock();
const currentStore = useTempSqliteStore({ now: clock.now });

const ID = 'T1:VSEVERAL';

function harness(katapult: (policyId: string) => Promise<void>) {
  const calls: string[] = [];
  const announced: RequestRecord[] = [];
  const released: string[] = [];
  const surface: RequestSurface = {
    checkAccess: async () => ({ allowed: true, zone: 'UTC' }),
    refuse: async () => undefined,
    announce: async (r) => {
      announced.push(structuredClone(r));
      return 'channel';
    },
    tell: async () => undefined,
    holdFollowups: async () => undefined,
  };
  const deps = runRequestDeps(currentStore(), {
    surface,
    now: clock.now,
    katapult: async (policyId) => {
      calls.push(policyId);
      await katapult(policyId);
    },
    dailyLimit: {
      release: async ({ policyIds }) => {
        released.push(...policyIds);
      },
    },
  });
  return { calls, announced, released, deps };
}

test('broken off after two of three outcomes: the next worker calls only the third, and posts once', async () => {
  let crash = true;
  let othersCalled: () => void = () => undefined;
  const others = new Promise<void>((resolve) => {
    othersCalled = resolve;
  });
  const h = harness(async (policyId) => {
    if (policyId === 'dbp_c' && crash) {
      await others; // the other two are answered first
      throw new Error('the process died here');
    }
    if (h.calls.includes('dbp_a') && h.calls.includes('dbp_b')) othersCalled();
    if (policyId === 'dbp_b')
      throw new KatapultApiError(404, 'disk_backup_policy_not_found', null, {}, null, 1);
  });
  const requests = createRequestLog(currentStore().docs);
  await requests.create(pendingRecord(ID, ['dbp_a', 'dbp_b', 'dbp_c']), 'intake', 300);
  await requests.release(ID, 'intake');

  await expect(runRequest(h.deps('worker-1'), ID)).rejects.toThrow('the process died here');
  const saved = await requests.get(ID);
  expect(saved?.policies.map((p) => [p.policyId, p.result?.ok ?? null])).toEqual([
    ['dbp_a', true],
    ['dbp_b', false],
    ['dbp_c', null],
  ]);
  expect(h.announced).toHaveLength(0);

  crash = false;
  clock.advance(350); // the first worker's lease (300 ms) expires
  expect(await runRequest(h.deps('worker-2'), ID)).toBe(true);
  expect(h.calls.sort()).toEqual(['dbp_a', 'dbp_b', 'dbp_c', 'dbp_c']);
  expect(h.announced).toHaveLength(1);
  expect(h.announced[0]?.policies.map((p) => p.result?.ok)).toEqual([true, false, true]);
  expect(h.released).toEqual(['dbp_b']);
  expect((await requests.get(ID))?.state).toBe('done');
});
