/**
 * The submission use case (src/scheduling/submit-schedule.ts) with fake parts: what is answered,
 * in which order against the audit and the intake, and what the store-trouble budgets do.
 */
import { jest } from '@jest/globals';
import type { AccessPolicy } from '../../src/access/access-policy.js';
import type { FreezeState } from '../../src/access/freeze.js';
import type { AppLogger } from '../../src/log.js';
import { APPROVALS, FREEZE } from '../../src/messages/approvals.js';
import { dailyLimitRefusal, STORE_DOWN_INLINE } from '../../src/messages/submission.js';
import type { Reservation } from '../../src/scheduling/daily-limit.js';
import type { RequestRecord } from '../../src/scheduling/request-log.js';
import { createSubmitSchedule, type ScheduleSubmission } from '../../src/scheduling/submit-schedule.js';
import type { AuditEntry } from '../../src/store/store.js';

const NOW = 1_800_000_000_000;
const never = <T>() => new Promise<T>(() => undefined);
const accessPolicy = (over: Partial<AccessPolicy> = {}): AccessPolicy => ({
  who: 'everyone',
  groupIds: [],
  channelIds: [],
  updatedBy: null,
  updatedAt: null,
  ...over,
});
const submission: ScheduleSubmission = {
  workspaceId: 'T1',
  userId: 'U1',
  channelId: 'C0OPS',
  viewId: 'V1',
  botUserId: 'B1',
  policyIds: ['dbp_a', 'dbp_b'],
  atSeconds: NOW / 1000 + 3600,
  retryNum: 2,
};

interface Options {
  freeze?: () => Promise<FreezeState>;
  access?: () => Promise<AccessPolicy>;
  reserve?: () => Promise<Reservation>;
  accept?: () => Promise<'accepted' | 'duplicate'>;
  /** `KATAPULT_FROZEN=true`: the freezes say so without the store. */
  deploymentFrozen?: boolean;
  /** The access policy at hand in the cache (`peek`); none: the use case must read it first. */
  peek?: AccessPolicy;
  zone?: () => Promise<string | null>;
  /** The deployment's daily limit (default 5). */
  limit?: number | null;
  requiredByDefault?: boolean;
  input?: Partial<ScheduleSubmission>;
}

/** Runs one submission; `steps` is the order of everything the use case did. */
async function submit(o: Options = {}) {
  const steps: string[] = [];
  /** `steps` with the emergency stop's read and its answer among them. */
  const timeline: string[] = [];
  const log = (step: string) => {
    steps.push(step);
    timeline.push(step);
  };
  const audits: AuditEntry[] = [];
  const accepted: RequestRecord[] = [];
  const released: unknown[] = [];
  const outcomes: string[] = [];
  const storeErrors: string[] = [];
  const events: string[] = [];
  const answers: (string | null)[] = [];
  await createSubmitSchedule({
    command: '/katapult',
    freezes: {
      deployment: o.deploymentFrozen ?? false,
      get: async () => {
        timeline.push('freeze read');
        const state = await (o.freeze ?? (async () => ({ frozen: false }) as const))();
        timeline.push(`freeze ${state.frozen ? 'on' : 'off'}`);
        return state;
      },
    },
    access: { get: o.access ?? (async () => accessPolicy()), peek: () => o.peek },
    approvals: { requiredByDefault: o.requiredByDefault ?? false, ttlMs: 60_000 },
    maxPerUserPerDay: o.limit === undefined ? 5 : o.limit,
    dailyLimit: {
      reserve: () => {
        log('reserve');
        return (o.reserve ?? (async () => ({ ok: true as const })))();
      },
      release: async (r) => {
        log('release');
        released.push(r);
      },
    },
    intake: {
      accept: async (r, options) => {
        log(options?.gate ? 'accept with the gate' : 'accept');
        accepted.push(r);
        const outcome = await (o.accept ?? (async () => 'accepted' as const))();
        // As the intake does: a gate that refuses removes what was written.
        if (options?.gate && !(await options.gate)) {
          log('withdrawn');
          return 'refused';
        }
        return outcome;
      },
      run: (id) => log(`run ${id}`),
    },
    record: async (entry) => {
      log(`audit ${entry.outcome}`);
      audits.push(entry);
    },
    logger: { event: (_level: string, event: string) => events.push(event) } as unknown as AppLogger,
    metrics: {
      submission: (outcome) => outcomes.push(outcome),
      storeError: (operation) => storeErrors.push(operation),
    },
    now: () => NOW,
  })(
    { ...submission, ...o.input },
    {
      zone: o.zone ?? (async () => 'Europe/Paris'),
      answer: async (refusal) => {
        log(refusal === null ? 'answer ok' : 'answer refused');
        answers.push(refusal);
      },
    },
  );
  return { steps, timeline, audits, accepted, released, outcomes, storeErrors, events, answers };
}

afterEach(() => jest.useRealTimers());

test('accepted: reserved, recorded with its idempotency key, answered, then started', async () => {
  const t = await submit();
  expect(t.steps).toEqual(['reserve', 'accept', 'answer ok', 'run T1:V1']);
  expect(t.accepted[0]).toMatchObject({
    id: 'T1:V1',
    workspace: 'T1',
    user: 'U1',
    channel: 'C0OPS',
    botUserId: 'B1',
    retryNum: 2,
    createdAt: NOW,
    state: 'pending',
    attempts: 0,
    policies: [{ policyId: 'dbp_a' }, { policyId: 'dbp_b' }],
  });
  expect(t.accepted[0]?.approval).toBeUndefined();
  expect(t.audits).toEqual([]);
});

test('no daily limit (unlimited): nothing is reserved', async () => {
  const t = await submit({ limit: null });
  expect(t.steps).toEqual(['accept', 'answer ok', 'run T1:V1']);
});

test('a duplicate is answered and counted, never started again', async () => {
  const t = await submit({ accept: async () => 'duplicate' });
  expect(t.steps).toEqual(['reserve', 'accept', 'answer ok']);
  expect(t.outcomes).toEqual(['duplicate']);
  expect(t.events).toContain('duplicate_submission');
});

test('with approvals, the request waits for a decision until its expiry', async () => {
  const t = await submit({ requiredByDefault: true });
  expect(t.accepted[0]?.approval).toEqual({ expiresAt: NOW + 60_000 });
});

test('with approvals, a direct message is refused inline: approvers could not see it', async () => {
  const t = await submit({ requiredByDefault: true, input: { channelId: 'D0DM' } });
  expect(t.answers).toEqual([APPROVALS.needsChannel]);
  expect(t.steps).toEqual(['answer refused']);
  expect(t.outcomes).toEqual(['refused']);
});

test('frozen: refused inline, audited per policy after the answer, nothing reserved or recorded', async () => {
  const t = await submit({ freeze: async () => ({ frozen: true, by: 'admin', userId: 'U9', at: 1 }) });
  expect(t.answers).toEqual([FREEZE.refusedSubmission('/katapult')]);
  expect(t.steps).toEqual(['answer refused', 'audit refused:frozen', 'audit refused:frozen']);
  expect(t.audits.map((a) => [a.policyId, a.action, a.channel, a.requestedAt])).toEqual([
    ['dbp_a', 'schedule', 'C0OPS', submission.atSeconds],
    ['dbp_b', 'schedule', 'C0OPS', submission.atSeconds],
  ]);
  expect(t.outcomes).toEqual(['refused']);

  const deployment = await submit({ freeze: async () => ({ frozen: true, by: 'deployment' }) });
  expect(deployment.answers).toEqual([FREEZE.refusedSubmissionDeployment]);
});

test('a store that fails the gate: "store down", counted as a store error', async () => {
  const t = await submit({ access: async () => Promise.reject(new Error('down')) });
  expect(t.answers).toEqual([STORE_DOWN_INLINE]);
  expect(t.outcomes).toEqual(['store_error']);
  expect(t.storeErrors).toEqual([]);
  expect(t.events).toEqual(['request_not_recorded']);
});

test('a store that does not answer the gate: refused after 1 s, the timeout counted', async () => {
  jest.useFakeTimers();
  const running = submit({ freeze: never });
  await jest.advanceTimersByTimeAsync(999);
  const early = await Promise.race([running.then(() => 'done'), Promise.resolve('waiting')]);
  expect(early).toBe('waiting');
  await jest.advanceTimersByTimeAsync(1);
  const t = await running;
  expect(t.answers).toEqual([STORE_DOWN_INLINE]);
  expect(t.storeErrors).toEqual(['submission_gate_timeout']);
});

test('over the daily limit: refused with when there is room, in the person’s zone, then audited', async () => {
  const refused = { ok: false as const, used: 4, roomAt: NOW + 3_600_000 };
  const t = await submit({ reserve: async () => refused });
  expect(t.answers).toEqual([dailyLimitRefusal(5, refused, 2, 'Europe/Paris')]);
  expect(t.steps).toEqual([
    'reserve',
    'answer refused',
    'audit refused:daily_limit',
    'audit refused:daily_limit',
  ]);
  expect(t.audits[0]).toMatchObject({ retryNum: 2, channel: 'C0OPS', user: 'U1' });
  expect(t.outcomes).toEqual(['refused']);
});

test('the workspace’s own daily limit wins over the deployment’s', async () => {
  const refused = { ok: false as const, used: 1, roomAt: NOW + 1 };
  const t = await submit({
    access: async () => accessPolicy({ maxPerUserPerDay: 1 }),
    reserve: async () => refused,
  });
  expect(t.answers).toEqual([dailyLimitRefusal(1, refused, 2, 'Europe/Paris')]);
  const unlimited = await submit({ access: async () => accessPolicy({ maxPerUserPerDay: null }) });
  expect(unlimited.steps).not.toContain('reserve');
});

test('a zone that does not come in 700 ms: the refusal is written in UTC', async () => {
  jest.useFakeTimers();
  const refused = { ok: false as const, used: 4, roomAt: NOW + 3_600_000 };
  const running = submit({ reserve: async () => refused, zone: never });
  await jest.advanceTimersByTimeAsync(700);
  const t = await running;
  expect(t.answers).toEqual([dailyLimitRefusal(5, refused, 2, null)]);
});

test('a reservation that takes over 1 s: "store down"; when it lands, its places are given back', async () => {
  jest.useFakeTimers();
  let land: (r: Reservation) => void = () => undefined;
  const running = submit({ reserve: () => new Promise((resolve) => (land = resolve)) });
  await jest.advanceTimersByTimeAsync(1_000);
  const t = await running;
  expect(t.answers).toEqual([STORE_DOWN_INLINE]);
  expect(t.outcomes).toEqual(['store_error']);
  expect(t.steps).toEqual(['reserve', 'answer refused']);
  land({ ok: true });
  await jest.advanceTimersByTimeAsync(0);
  expect(t.released).toEqual([expect.objectContaining({ requestId: 'T1:V1', unrecorded: true })]);
});

test('an intake that fails: the reserved places are given back, and "store down"', async () => {
  const t = await submit({ accept: async () => Promise.reject(new Error('too slow')) });
  expect(t.steps).toEqual(['reserve', 'accept', 'release', 'answer refused']);
  expect(t.released).toEqual([
    { workspace: 'T1', user: 'U1', requestId: 'T1:V1', policyIds: ['dbp_a', 'dbp_b'], unrecorded: true },
  ]);
  expect(t.answers).toEqual([STORE_DOWN_INLINE]);

  const unlimited = await submit({ limit: null, accept: async () => Promise.reject(new Error('x')) });
  expect(unlimited.steps).toEqual(['accept', 'answer refused']);
});

describe('the access policy at hand (cached), no daily limit: one round trip for the gate and the intake', () => {
  test('the record is written along with the emergency stop’s read, and started once the gate let it through', async () => {
    const t = await submit({ limit: null, peek: accessPolicy() });
    expect(t.timeline).toEqual([
      'freeze read',
      'accept with the gate',
      'freeze off',
      'answer ok',
      'run T1:V1',
    ]);
    expect(t.accepted[0]).toMatchObject({ id: 'T1:V1', state: 'pending', createdAt: NOW });
    expect(t.accepted[0]?.approval).toBeUndefined();
  });

  test('frozen: what was written is withdrawn before the refusal is answered, then audited', async () => {
    const t = await submit({
      limit: null,
      peek: accessPolicy(),
      freeze: async () => ({ frozen: true, by: 'admin', userId: 'U9', at: 1 }),
    });
    expect(t.timeline).toEqual([
      'freeze read',
      'accept with the gate',
      'freeze on',
      'withdrawn',
      'answer refused',
      'audit refused:frozen',
      'audit refused:frozen',
    ]);
    expect(t.answers).toEqual([FREEZE.refusedSubmission('/katapult')]);
    expect(t.outcomes).toEqual(['refused']);
  });

  test('with approvals, in a channel: the record waits for a decision, as on the longer path', async () => {
    const t = await submit({ limit: null, peek: accessPolicy(), requiredByDefault: true });
    expect(t.steps).toEqual(['accept with the gate', 'answer ok', 'run T1:V1']);
    expect(t.accepted[0]?.approval).toEqual({ expiresAt: NOW + 60_000 });
  });

  test('the gate first when something must be decided before the record: a daily limit, a direct message under approvals, no policy at hand', async () => {
    const limited = await submit({ peek: accessPolicy() }); // the deployment's limit of 5
    expect(limited.timeline).toEqual([
      'freeze read',
      'freeze off',
      'reserve',
      'accept',
      'answer ok',
      'run T1:V1',
    ]);
    const ownLimit = accessPolicy({ maxPerUserPerDay: 2 });
    const own = await submit({ limit: null, peek: ownLimit, access: async () => ownLimit });
    expect(own.steps).toEqual(['reserve', 'accept', 'answer ok', 'run T1:V1']);
    const dm = await submit({
      limit: null,
      peek: accessPolicy(),
      requiredByDefault: true,
      input: { channelId: 'D0DM' },
    });
    expect(dm.steps).toEqual(['answer refused']);
    const deployment = await submit({
      limit: null,
      peek: accessPolicy(),
      deploymentFrozen: true,
      freeze: async () => ({ frozen: true, by: 'deployment' }),
    });
    // Nothing written, so nothing to take back.
    expect(deployment.steps).toEqual(['answer refused', 'audit refused:frozen', 'audit refused:frozen']);
    const cold = await submit({ limit: null });
    expect(cold.timeline).toEqual(['freeze read', 'freeze off', 'accept', 'answer ok', 'run T1:V1']);
  });

  test('a store that fails the write: "store down", nothing started', async () => {
    const t = await submit({
      limit: null,
      peek: accessPolicy(),
      accept: async () => Promise.reject(new Error('x')),
    });
    expect(t.steps).toEqual(['accept with the gate', 'answer refused']);
    expect(t.answers).toEqual([STORE_DOWN_INLINE]);
    expect(t.outcomes).toEqual(['store_error']);
  });
});
