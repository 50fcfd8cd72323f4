/**
 * A request a Workflow Builder step started (issue 21, item 4), run from its record on a real
 * (SQLite) store: the step is completed from the record's end, after the post; `sending` is written
 * before the completion call, and the record stays active (a worker can take it) until `sent`; a
 * worker that dies mid-call leaves `sending`, and the next one completes it (Slack accepts only the
 * first completion of an execution); once `sent`, no worker completes it again.
 */
import { createRequestLog, type RequestRecord } from '../../src/scheduling/request-log.js';
import { type RequestSurface, runRequest } from '../../src/scheduling/run-request.js';
import { testClock } from '../helpers/clock.js';
import { pendingRecord, runRequestDeps } from '../helpers/run-request.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const clock = testClock();
const currentStore = useTempSqliteStore({ now: clock.now });

function harness(complete: (r: RequestRecord) => Promise<'completed' | 'token_refused' | 'gone'>) {
  const order: string[] = [];
  const surface: RequestSurface = {
    checkAccess: async () => ({ allowed: true, zone: 'UTC' }),
    refuse: async () => {
      order.push('refuse');
    },
    announce: async () => {
      order.push('announce');
      return 'channel';
    },
    tell: async () => undefined,
    holdFollowups: async () => undefined,
    completeStep: async (r) => {
      order.push(`complete:${r.state}`);
      return complete(r);
    },
  };
  return { order, deps: runRequestDeps(currentStore(), { surface, now: clock.now }) };
}

const workflowRecord = (id: string): RequestRecord => ({
  ...pendingRecord(id, ['dbp_wf']),
  workflow: { executionId: 'Fx1', sealedToken: 'sealed' },
});

test('the step is completed after the post, once, and the record ends inactive', async () => {
  const h = harness(async () => 'completed');
  const requests = createRequestLog(currentStore().docs);
  await requests.create(workflowRecord('T1:wf:A'), 'intake', 300);
  await requests.release('T1:wf:A', 'intake');
  expect(await runRequest(h.deps('w1'), 'T1:wf:A')).toBe(true);
  expect(h.order).toEqual(['announce', 'complete:done']);
  expect((await requests.get('T1:wf:A'))?.workflow?.completion).toEqual({
    state: 'sent',
    outcome: 'completed',
  });
  clock.advance(350);
  // Ended and completed: nothing left for a worker.
  expect(await runRequest(h.deps('w2'), 'T1:wf:A')).toBe(false);
  expect(h.order).toEqual(['announce', 'complete:done']);
});

test('a worker that dies mid-completion: the next one completes it, without posting or calling again', async () => {
  let die = true;
  const h = harness(async () => {
    if (die) throw new Error('the process died here');
    return 'gone';
  });
  const requests = createRequestLog(currentStore().docs);
  await requests.create(workflowRecord('T1:wf:B'), 'intake', 300);
  await requests.release('T1:wf:B', 'intake');
  await expect(runRequest(h.deps('w1'), 'T1:wf:B')).rejects.toThrow('the process died here');
  const left = await requests.get('T1:wf:B');
  expect(left?.state).toBe('done');
  expect(left?.workflow?.completion).toEqual({ state: 'sending' });
  // Still active, so the sweep finds it once the lease lapses.
  clock.advance(350);
  expect(await requests.abandoned(10)).toContain('T1:wf:B');
  die = false;
  expect(await runRequest(h.deps('w2'), 'T1:wf:B')).toBe(true);
  expect(h.order).toEqual(['announce', 'complete:done', 'complete:done']);
  expect((await requests.get('T1:wf:B'))?.workflow?.completion).toEqual({ state: 'sent', outcome: 'gone' });
  expect(await requests.abandoned(10)).not.toContain('T1:wf:B');
});

test('taken over and refused at its check: it stops (the channel is told), then the step fails from the stopped record', async () => {
  const h = harness(async () => 'completed');
  h.deps = ((make) => (owner: string) => ({
    ...make(owner),
    surface: {
      ...make(owner).surface,
      checkAccess: async () => ({ allowed: false as const, reason: 'not_in_group' }),
    },
  }))(h.deps);
  const requests = createRequestLog(currentStore().docs);
  await requests.create(workflowRecord('T1:wf:C'), 'intake', 300);
  await requests.release('T1:wf:C', 'intake');
  expect(await runRequest(h.deps('w1'), 'T1:wf:C')).toBe(true);
  // Not fresh from this process's intake, so an earlier run may have called: it stops rather than refuses.
  expect(h.order).toEqual(['announce', 'complete:stopped']);
  expect(await requests.get('T1:wf:C')).toMatchObject({
    state: 'stopped',
    workflow: { completion: { state: 'sent', outcome: 'completed' } },
  });
});
