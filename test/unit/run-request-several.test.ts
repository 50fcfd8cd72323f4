/**
 * A request of several policies, run from its record on a real (SQLite) store: each policy's outcome
 * is written to the record as it comes, so a run that breaks off part-way and is taken over by
 * another worker calls Katapult only for the policies without an outcome, posts once with all of
 * them, and gives back the daily-limit places of the ones not scheduled.
 */
import { KatapultApiError } from '../../src/katapult/errors.js';
import { createRequestLog, type RequestRecord } from '../../src/scheduling/request-log.js';
import { type RequestSurface, runRequest } from '../../src/scheduling/run-request.js';
import { pendingRecord, runRequestDeps } from '../helpers/run-request.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const currentStore = useTempSqliteStore();

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
  const h = harness(async (policyId) => {
    if (policyId === 'dbp_c' && crash) {
      await new Promise((r) => setTimeout(r, 50)); // the other two finish first
      throw new Error('the process died here');
    }
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
  await new Promise((r) => setTimeout(r, 350)); // the first worker's lease expires
  expect(await runRequest(h.deps('worker-2'), ID)).toBe(true);
  expect(h.calls.sort()).toEqual(['dbp_a', 'dbp_b', 'dbp_c', 'dbp_c']);
  expect(h.announced).toHaveLength(1);
  expect(h.announced[0]?.policies.map((p) => p.result?.ok)).toEqual([true, false, true]);
  expect(h.released).toEqual(['dbp_b']);
  expect((await requests.get(ID))?.state).toBe('done');
});
