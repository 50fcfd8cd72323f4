/**
 * The emergency stop and the requester's access are checked again before every Katapult call of a
 * request run from its record (real SQLite store): a refusal part-way through a form, or when a
 * record is taken over after a crash, calls nothing more; the record ends `stopped` with why, the
 * channel is told once, each policy's audit entry says what happened to it, and the policies not
 * scheduled give their daily-limit places back. What Katapult says is clipped before it is stored.
 */
import { KatapultApiError } from '../../src/katapult/errors.js';
import { createRequestLog, type RequestRecord } from '../../src/scheduling/request-log.js';
import { type RequestSurface, runRequest } from '../../src/scheduling/run-request.js';
import type { AuditEntry } from '../../src/store/store.js';
import { pendingRecord, runRequestDeps } from '../helpers/run-request.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const currentStore = useTempSqliteStore();

/** Characters kept of one stored field (src/messages/stored.ts). */
const STORED_FIELD_MAX = 2_000;

type Answer = Awaited<ReturnType<RequestSurface['checkAccess']>>;
const ALLOWED: Answer = { allowed: true, zone: 'UTC' };

/**
 * One worker's deps; `check(n)` answers the n-th check (from 1); Katapult takes `callMs` per call
 * (or throws what `fail` gives).
 */
function harness(options: {
  check?: (n: number) => Answer;
  callMs?: number;
  fail?: (policyId: string) => Error | null;
}) {
  const calls: string[] = [];
  const announced: RequestRecord[] = [];
  const refused: string[] = [];
  const released: string[] = [];
  const outcomes: string[] = [];
  const audited: AuditEntry[] = [];
  let checks = 0;
  const surface: RequestSurface = {
    checkAccess: async () => (options.check ?? (() => ALLOWED))(++checks),
    refuse: async (_r, reason) => {
      refused.push(reason);
    },
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
      await new Promise((r) => setTimeout(r, options.callMs ?? 0));
      const error = options.fail?.(policyId);
      if (error) throw error;
    },
    dailyLimit: {
      release: async ({ policyIds }) => {
        released.push(...policyIds);
      },
    },
  });
  const worker = (owner: string) => ({
    ...deps(owner),
    record: async (entry: AuditEntry) => {
      audited.push(entry);
    },
    onOutcome: (outcome: string) => {
      outcomes.push(outcome);
    },
  });
  return { calls, announced, refused, released, outcomes, audited, worker, checks: () => checks };
}

const policies = (n: number) => Array.from({ length: n }, (_, i) => `dbp_${String(i + 1).padStart(2, '0')}`);

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('access revoked part-way through a 20-policy form: nothing is called after the refusal; stopped, told once, places given back', async () => {
  // Three checks pass (three calls go out, one per lane); from the fourth on the requester may not.
  const h = harness({
    check: (n) => (n <= 3 ? ALLOWED : { allowed: false, reason: 'not_in_group' }),
    callMs: 20,
  });
  const ids = policies(20);
  const requests = createRequestLog(currentStore().docs);
  await requests.create(pendingRecord('T1:VREVOKED', ids), 'intake', 300);
  await requests.release('T1:VREVOKED', 'intake');

  expect(await runRequest(h.worker('worker-1'), 'T1:VREVOKED')).toBe(true);
  expect(h.calls).toHaveLength(3);
  const ended = await requests.get('T1:VREVOKED');
  expect(ended).toMatchObject({ state: 'stopped', stopped: { reason: 'not_in_group' } });
  expect(ended?.policies.filter((p) => p.result?.ok)).toHaveLength(3);
  // The channel is told once, with where each policy stands; not a private refusal.
  expect(h.announced).toHaveLength(1);
  expect(h.announced[0]?.stopped?.reason).toBe('not_in_group');
  expect(h.refused).toEqual([]);
  expect(h.released.sort()).toEqual(ids.filter((id) => !h.calls.includes(id)).sort());
  expect(h.audited.map((e) => e.outcome).sort()).toEqual([
    ...Array(3).fill('scheduled'),
    ...Array(17).fill('stopped:not_in_group'),
  ]);
  expect(h.outcomes.filter((o) => o === 'stopped')).toHaveLength(17);
  // Ended: no worker leases it again.
  expect(await currentStore().docs.activeStats('request')).toEqual({ count: 0, oldestSort: null });
});

test('refused at the first check of a fresh request: the private refusal, as at submission (done, refused)', async () => {
  const h = harness({ check: () => ({ allowed: false, reason: 'frozen' }) });
  const requests = createRequestLog(currentStore().docs);
  // Taken straight from this worker's intake: surely its first run, nothing was sent.
  const worker = h.worker('worker-1');
  await worker.requests.create(pendingRecord('T1:VFIRST', policies(3)), 'worker-1', 300);

  expect(await runRequest(worker, 'T1:VFIRST')).toBe(true);
  expect(h.calls).toEqual([]);
  expect(h.refused).toEqual(['frozen']);
  expect(h.announced).toEqual([]);
  expect(await requests.get('T1:VFIRST')).toMatchObject({ state: 'done', refused: 'frozen' });
});

test('a record taken over after the freeze: the new worker checks before its first call, calls nothing, ends it stopped', async () => {
  const h = harness({ check: () => ({ allowed: false, reason: 'frozen' }) });
  const ids = policies(3);
  // Left by a worker that died after its access check and the first outcome (both written).
  const left: RequestRecord = {
    ...pendingRecord('T1:VTAKEN', ids),
    state: 'calling',
    attempts: 1,
    zone: 'UTC',
  };
  left.policies[0] = {
    policyId: ids[0] as string,
    result: {
      ok: true,
      autoMoveToTrashAt: left.atSeconds,
      target: { type: 'Disk', id: 'disk_1' },
      requestId: null,
    },
  };
  const requests = createRequestLog(currentStore().docs);
  await requests.create(left, 'a-worker-that-died', 100);

  // Its lease lapses; the sweep's worker takes the record over.
  await until(
    () => runRequest(h.worker('worker-2'), 'T1:VTAKEN'),
    (ran) => ran,
  );
  expect(h.calls).toEqual([]);
  expect(h.checks()).toBeGreaterThan(0);
  // The dead worker may have sent the policies without an outcome: the channel is told to check them.
  expect(await requests.get('T1:VTAKEN')).toMatchObject({
    state: 'stopped',
    stopped: { reason: 'frozen', unsure: true },
  });
  expect(h.announced).toHaveLength(1);
  expect(h.released.sort()).toEqual(ids.slice(1));
  expect(h.audited.map((e) => e.outcome).sort()).toEqual(['scheduled', 'stopped:frozen', 'stopped:frozen']);
});

test('a 60 kB Katapult error is clipped in the stored record: 20 of them make a small record, not a 1.2 MB one', async () => {
  const long = 'x'.repeat(60_000);
  const h = harness({
    fail: () =>
      new KatapultApiError(422, `odd_${'c'.repeat(3_000)}`, long, {}, `req_${'r'.repeat(3_000)}`, 1),
  });
  const requests = createRequestLog(currentStore().docs);
  await requests.create(pendingRecord('T1:VLONG', policies(20)), 'intake', 300);
  await requests.release('T1:VLONG', 'intake');

  expect(await runRequest(h.worker('worker-1'), 'T1:VLONG')).toBe(true);
  const row = await currentStore().docs.get('request', 'T1:VLONG');
  expect(row?.body.length).toBeLessThan(200_000);
  const stored = await requests.get('T1:VLONG');
  expect(stored?.policies).toHaveLength(20);
  for (const step of stored?.policies ?? []) {
    if (step.result?.ok !== false) throw new Error('expected a failure');
    const { code, explanation } = step.result;
    for (const field of [code, explanation.summary, explanation.next, explanation.requestId ?? '']) {
      expect(field.length).toBeLessThanOrEqual(STORED_FIELD_MAX);
    }
    expect(explanation.summary).toMatch(/…\(clipped\)$/);
    expect(code).toMatch(/^odd_c+…\(clipped\)$/);
    expect(explanation.requestId).toMatch(/clipped/);
  }
});
