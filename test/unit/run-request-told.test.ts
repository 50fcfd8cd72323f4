/**
 * "Acked means done, or the person is told why not", when a request ends without running: a
 * record that used up its attempts (`failed`) or was refused at its first check (`done`, refused).
 * The note goes out before anything that could keep it from going (the daily-limit places are
 * given back after it, best effort), and a store error or a crash before the record's end leaves
 * the record to a later attempt, which tells again rather than never; a refused record is never run
 * later, even when the check that refused it would pass by then. Real SQLite store.
 */
import { type ApprovalDeps, requestApproval } from '../../src/scheduling/approvals.js';
import { createRequestLog, type RequestRecord } from '../../src/scheduling/request-log.js';
import { type RequestSurface, runRequest } from '../../src/scheduling/run-request.js';
import { HeldMessagesLeft } from '../../src/scheduling/upcoming.js';
import { pendingRecord, runRequestDeps } from '../helpers/run-request.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const currentStore = useTempSqliteStore();

type Answer = Awaited<ReturnType<RequestSurface['checkAccess']>>;

/** A worker whose notes fail while `failing` says so (a store error reading the installation). */
function harness(options: { access: () => Answer; releaseFails?: boolean }) {
  const told: string[] = [];
  const refused: string[] = [];
  const calls: string[] = [];
  const released: string[] = [];
  let failing = false;
  const note = () => {
    if (failing) throw new Error('store blip reading the installation');
  };
  const surface: RequestSurface = {
    checkAccess: async () => options.access(),
    refuse: async (_r, reason) => {
      note();
      refused.push(reason);
    },
    announce: async () => 'channel',
    tell: async (_r, text) => {
      note();
      told.push(text);
    },
    holdFollowups: async () => undefined,
  };
  const deps = runRequestDeps(currentStore(), {
    surface,
    katapult: async (policyId) => {
      calls.push(policyId);
    },
    dailyLimit: {
      release: async ({ policyIds }) => {
        if (options.releaseFails) throw new Error('store blip giving places back');
        released.push(...policyIds);
      },
    },
  });
  return {
    told,
    refused,
    calls,
    released,
    worker: deps,
    failNotes: (on: boolean) => {
      failing = on;
    },
  };
}

/** A record whose attempts are used up: its next run gives up. */
async function usedUp(id: string): Promise<void> {
  const requests = createRequestLog(currentStore().docs);
  const record: RequestRecord = { ...pendingRecord(id, ['dbp_a']), state: 'calling', attempts: 5 };
  await requests.create(record, 'intake', 300);
  await requests.release(id, 'intake');
}

const activeRecords = () => currentStore().docs.activeStats('request');
const stored = (id: string) => createRequestLog(currentStore().docs).get(id);
/** Past the helper's 300 ms lease, so another run can take the record. */
const afterLease = () => new Promise((resolve) => setTimeout(resolve, 400));

test('a record that used up its attempts: told although the daily-limit places cannot be given back', async () => {
  const h = harness({ access: () => ({ allowed: true, zone: 'UTC' }), releaseFails: true });
  await usedUp('T1:VGIVEUP1');

  expect(await runRequest(h.worker('worker-1'), 'T1:VGIVEUP1')).toBe(true);
  expect(h.told).toHaveLength(1);
  expect(h.told[0]).toContain('could not finish your request');
  expect(await stored('T1:VGIVEUP1')).toMatchObject({ state: 'failed' });
  expect(await activeRecords()).toMatchObject({ count: 0 });
});

test('a record that used up its attempts, its note refused by a store error: the next attempt gives up and tells', async () => {
  const h = harness({ access: () => ({ allowed: true, zone: 'UTC' }) });
  await usedUp('T1:VGIVEUP2');

  h.failNotes(true);
  await expect(runRequest(h.worker('worker-1'), 'T1:VGIVEUP2')).rejects.toThrow('store blip');
  // Not ended: a sweep finds it again.
  expect((await stored('T1:VGIVEUP2'))?.state).toBe('calling');
  expect(await activeRecords()).toMatchObject({ count: 1 });

  h.failNotes(false);
  await afterLease();
  expect(await runRequest(h.worker('worker-2'), 'T1:VGIVEUP2')).toBe(true);
  expect(h.told).toHaveLength(1);
  expect(h.calls).toEqual([]);
  expect(await stored('T1:VGIVEUP2')).toMatchObject({ state: 'failed' });
  expect(await activeRecords()).toMatchObject({ count: 0 });
});

test('refused at its first check: the refusal is sent although the daily-limit places cannot be given back', async () => {
  const h = harness({ access: () => ({ allowed: false, reason: 'frozen' }), releaseFails: true });
  const worker = h.worker('worker-1');
  await worker.requests.create(pendingRecord('T1:VREFUSE1', ['dbp_b']), 'worker-1', 300);

  expect(await runRequest(worker, 'T1:VREFUSE1')).toBe(true);
  expect(h.refused).toEqual(['frozen']);
  expect(await stored('T1:VREFUSE1')).toMatchObject({ state: 'done', refused: 'frozen' });
  expect(await activeRecords()).toMatchObject({ count: 0 });
});

test('refused, its note refused by a store error: a later run only tells and ends it, though the freeze was lifted', async () => {
  let frozen = true;
  const h = harness({
    access: () => (frozen ? { allowed: false, reason: 'frozen' } : { allowed: true, zone: 'UTC' }),
  });
  const worker = h.worker('worker-1');
  await worker.requests.create(pendingRecord('T1:VREFUSE2', ['dbp_c']), 'worker-1', 300);

  h.failNotes(true);
  await expect(runRequest(worker, 'T1:VREFUSE2')).rejects.toThrow('store blip');
  // The refusal is kept, the record still to be ended: a sweep finds it again.
  expect(await stored('T1:VREFUSE2')).toMatchObject({ state: 'calling', refused: 'frozen' });
  expect(await activeRecords()).toMatchObject({ count: 1 });

  h.failNotes(false);
  frozen = false;
  await afterLease();
  expect(await runRequest(h.worker('worker-2'), 'T1:VREFUSE2')).toBe(true);
  // Told what was decided, never run: the person was refused, so nothing is scheduled behind their back.
  expect(h.refused).toEqual(['frozen']);
  expect(h.calls).toEqual([]);
  expect(await stored('T1:VREFUSE2')).toMatchObject({ state: 'done', refused: 'frozen' });
  expect(await activeRecords()).toMatchObject({ count: 0 });
});

/** Workers that post (noting each post and private note), with `hold` for their follow-ups. */
function posting(hold: RequestSurface['holdFollowups'] = async () => undefined) {
  const posts: string[] = [];
  const told: string[] = [];
  const surface: RequestSurface = {
    checkAccess: async () => ({ allowed: true, zone: 'UTC' }),
    refuse: async () => undefined,
    announce: async (r) => {
      posts.push(r.id);
      return 'channel';
    },
    tell: async (_r, text) => {
      told.push(text);
    },
    holdFollowups: hold,
  };
  return { posts, told, worker: runRequestDeps(currentStore(), { surface }) };
}

test('the index write fails after Katapult said yes: the post is not taken for one cut off, a later attempt posts it', async () => {
  const { posts, told, worker } = posting();
  const docs = currentStore().docs;
  const replace = docs.replaceIfUnchanged;
  let failed = 0;
  docs.replaceIfUnchanged = async (collection, doc, seen) => {
    if (collection === 'upcoming' && failed++ === 0) throw new Error('connection reset');
    return replace.call(docs, collection, doc, seen);
  };
  try {
    const first = worker('worker-1');
    await first.requests.create(pendingRecord('T1:VINDEX', ['dbp_d']), 'worker-1', 300);
    await expect(runRequest(first, 'T1:VINDEX')).rejects.toThrow('connection reset');
    expect(posts).toEqual([]);
    // Not `sending`: nothing went out.
    expect((await stored('T1:VINDEX'))?.post).toBeUndefined();

    await afterLease();
    expect(await runRequest(worker('worker-2'), 'T1:VINDEX')).toBe(true);
    expect(posts).toEqual(['T1:VINDEX']);
    expect(told).toEqual([]);
    expect(await stored('T1:VINDEX')).toMatchObject({
      state: 'done',
      post: { state: 'sent', delivery: 'channel' },
    });
  } finally {
    docs.replaceIfUnchanged = replace;
  }
});

test('a record whose failure note can never be sent (the installation is gone) ends untold after three more tries, not never', async () => {
  const h = harness({ access: () => ({ allowed: true, zone: 'UTC' }) });
  await usedUp('T1:VGIVEUP3');
  h.failNotes(true);
  // Attempts 6, 7 and 8 try the note (each counted first); the 9th ends the record without it.
  for (const worker of ['worker-1', 'worker-2', 'worker-3']) {
    await expect(runRequest(h.worker(worker), 'T1:VGIVEUP3')).rejects.toThrow('store blip');
    expect(await activeRecords()).toMatchObject({ count: 1 });
    await afterLease();
  }
  expect(await runRequest(h.worker('worker-4'), 'T1:VGIVEUP3')).toBe(true);
  expect(await stored('T1:VGIVEUP3')).toMatchObject({ state: 'failed' });
  expect(await activeRecords()).toMatchObject({ count: 0 });
  expect(h.told).toEqual([]);
});

describe('Slack may still hold the earlier messages of the policy (HeldMessagesLeft)', () => {
  /** A worker whose follow-ups fail so; the post goes out. */
  const holding = () =>
    posting(async (_r, step) => {
      throw new HeldMessagesLeft(step.policyId);
    });

  test('before the last attempt: left to a later one, the post written as sent (never posted again, nobody told of a cut-off post)', async () => {
    const h = holding();
    const first = h.worker('worker-1');
    await first.requests.create(pendingRecord('T1:VHELD1', ['dbp_e']), 'worker-1', 300);
    await expect(runRequest(first, 'T1:VHELD1')).rejects.toThrow(HeldMessagesLeft);
    expect(h.posts).toEqual(['T1:VHELD1']);
    expect(await stored('T1:VHELD1')).toMatchObject({
      state: 'calling',
      post: { state: 'sent', delivery: 'channel' },
    });
    await afterLease();
    await expect(runRequest(h.worker('worker-2'), 'T1:VHELD1')).rejects.toThrow(HeldMessagesLeft);
    expect(h.posts).toHaveLength(1);
    expect(h.told).toEqual([]);
  });

  test('at the last attempt: the request ends done as it went (scheduled), not failed', async () => {
    const h = holding();
    const requests = createRequestLog(currentStore().docs);
    const record: RequestRecord = { ...pendingRecord('T1:VHELD2', ['dbp_f']), state: 'calling', attempts: 4 };
    await requests.create(record, 'intake', 300);
    await requests.release('T1:VHELD2', 'intake');
    expect(await runRequest(h.worker('worker-1'), 'T1:VHELD2')).toBe(true);
    expect(await stored('T1:VHELD2')).toMatchObject({
      state: 'done',
      post: { state: 'sent' },
      policies: [{ policyId: 'dbp_f', result: { ok: true }, followups: true }],
    });
    expect(h.told).toEqual([]);
  });
});

test('an approval request Slack refuses to post: the requester is told before the record ends', async () => {
  const said: string[] = [];
  const r: RequestRecord = {
    ...pendingRecord('T1:VAPPROVE', ['dbp_g']),
    approval: { expiresAt: Date.now() + 60_000 },
  };
  const deps = {
    surface: {
      postRequest: async () => ({ ok: false, slackError: 'not_in_channel' }),
      tell: async (_r: RequestRecord, text: string) => {
        said.push(text);
      },
    },
    record: async () => undefined,
    logger: { event: () => undefined },
    now: Date.now,
  } as unknown as ApprovalDeps;
  await expect(
    requestApproval(deps, r, async () => {
      throw new Error('store blip');
    }),
  ).rejects.toThrow('store blip');
  expect(said).toHaveLength(1);
});
