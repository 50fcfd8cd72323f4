/**
 * A request of several policies, run from its record on a real (SQLite) store: each policy's outcome
 * is written to the record as it comes, so a run that breaks off part-way and is taken over by
 * another worker calls Katapult only for the policies without an outcome, posts once with all of
 * them, and gives back the daily-limit places of the ones not scheduled.
 */
import { KatapultApiError } from '../../src/katapult/errors.js';
import { createLogger, Redactor } from '../../src/log.js';
import { explain } from '../../src/messages/explain.js';
import { createLocks } from '../../src/scheduling/locks.js';
import { createRequestLog, type RequestRecord } from '../../src/scheduling/request-log.js';
import { type RequestSurface, type RunRequestDeps, runRequest } from '../../src/scheduling/run-request.js';
import { createUpcomingDeletions } from '../../src/scheduling/upcoming.js';
import type { WorkspaceTokens } from '../../src/tokens/workspace-tokens.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const currentStore = useTempSqliteStore();

const AT = Math.floor(Date.now() / 1000) + 3600;

function record(policyIds: string[]): RequestRecord {
  return {
    id: 'T1:VSEVERAL',
    workspace: 'T1',
    user: 'U0ALICE01',
    channel: 'C0OPS0001',
    botUserId: null,
    atSeconds: AT,
    createdAt: Date.now(),
    retryNum: null,
    state: 'pending',
    attempts: 0,
    policies: policyIds.map((policyId) => ({ policyId })),
  };
}

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
  const deps = (owner: string): RunRequestDeps => ({
    requests: createRequestLog(currentStore().docs),
    surface,
    tokens: { tokenFor: async () => ({ ok: true, token: 'kt' }) } as unknown as WorkspaceTokens,
    katapult: {
      async scheduleDiskBackupPolicyDeletion(_token, policyId, at) {
        calls.push(policyId);
        await katapult(policyId);
        return { policyId, autoMoveToTrashAt: at, target: { type: 'Disk', id: 'disk_1' }, requestId: null };
      },
    },
    upcoming: createUpcomingDeletions(currentStore().docs),
    locks: createLocks(currentStore().docs, { ttlMs: 2000 }),
    dailyLimit: {
      release: async ({ policyIds }) => {
        released.push(...policyIds);
      },
    },
    record: async () => undefined,
    explain: (failure) => explain(failure, { command: '/katapult', operation: 'schedule' }),
    logger: createLogger({ level: 'error', redactor: new Redactor(), sink: () => undefined }),
    now: Date.now,
    owner,
    leaseMs: 300,
    maxAttempts: 5,
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
  await requests.create(record(['dbp_a', 'dbp_b', 'dbp_c']), 'intake', 300);
  await requests.release('T1:VSEVERAL', 'intake');

  await expect(runRequest(h.deps('worker-1'), 'T1:VSEVERAL')).rejects.toThrow('the process died here');
  const saved = await requests.get('T1:VSEVERAL');
  expect(saved?.policies.map((p) => [p.policyId, p.result?.ok ?? null])).toEqual([
    ['dbp_a', true],
    ['dbp_b', false],
    ['dbp_c', null],
  ]);
  expect(h.announced).toHaveLength(0);

  crash = false;
  await new Promise((r) => setTimeout(r, 350)); // the first worker's lease expires
  expect(await runRequest(h.deps('worker-2'), 'T1:VSEVERAL')).toBe(true);
  expect(h.calls.sort()).toEqual(['dbp_a', 'dbp_b', 'dbp_c', 'dbp_c']);
  expect(h.announced).toHaveLength(1);
  expect(h.announced[0]?.policies.map((p) => p.result?.ok)).toEqual([true, false, true]);
  expect(h.released).toEqual(['dbp_b']);
  expect((await requests.get('T1:VSEVERAL'))?.state).toBe('done');
});
