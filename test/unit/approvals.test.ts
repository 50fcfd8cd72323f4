/**
 * The decision rules of src/scheduling/approvals.ts on a real (SQLite) request log, with an injected
 * clock: the 5-minute minimum at the click, expiry, the requester, the freeze, and one decision.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AppLogger } from '../../src/log.js';
import {
  createApprovalHolds,
  type DecideDeps,
  decide,
  sweepApprovals,
} from '../../src/scheduling/approvals.js';
import { createRequestLog, type RequestRecord } from '../../src/scheduling/request-log.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { testClock } from '../helpers/clock.js';

const logger = { event: () => undefined } as unknown as AppLogger;
let store: Store;
let dir: string;
let clock = 1_800_000_000_000;
/** The store's own clock (it judges the holds' leases): real time, moved on instead of waited for. */
const storeClock = testClock();
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'katapult-approvals-'));
  store = await openStore(`sqlite://${path.join(dir, 'a.sqlite')}`, {
    retentionMs: 86_400_000,
    maxPerWorkspace: 100,
    onError: () => undefined,
    now: storeClock.now,
  });
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** An awaiting record, held as the worker leaves it, and the deps around it. */
async function setup(over: Partial<DecideDeps> = {}) {
  const requests = createRequestLog(store.docs);
  const id = `T1:V${++n}`;
  const record: RequestRecord = {
    id,
    workspace: 'T1',
    user: 'U0ASKER01',
    channel: 'C0OPS0001',
    botUserId: null,
    atSeconds: clock / 1000 + 3600,
    createdAt: clock,
    retryNum: null,
    state: 'awaiting_approval',
    attempts: 1,
    policies: [{ policyId: 'dbp_1' }],
    approval: { expiresAt: clock + 86_400_000, messageTs: '1.2' },
  };
  const holds = createApprovalHolds(store.docs);
  // As the worker leaves it: held until its expiry, parked (not active).
  await holds.hold(record, clock);
  await requests.put(record);
  const runs: string[] = [];
  const deps: DecideDeps = {
    requests,
    holds,
    surface: {
      postRequest: async () => ({ ok: false, slackError: null }),
      closeRequest: async () => {},
      tell: async () => {},
    },
    record: async () => {},
    logger,
    now: () => clock,
    leaseMs: 30_000,
    claims: store,
    mayDecide: async () => ({ allowed: true }),
    frozen: async () => false,
    run: (runId) => runs.push(runId),
    ...over,
  };
  return { id, record, deps, runs, requests, holds };
}

const approve = { approve: true } as const;

test('an approval when the time is now under 5 minutes away is refused and runs nothing; the request still waits', async () => {
  const { id, record, deps, runs, requests } = await setup();
  clock = record.atSeconds * 1000 - 4 * 60_000;
  try {
    expect(await decide(deps, { workspaceId: 'T1', id, userId: 'U0BOSS001', decision: approve })).toEqual({
      ok: false,
      reason: 'too_late',
    });
  } finally {
    clock = record.createdAt;
  }
  expect(runs).toEqual([]);
  expect((await requests.get(id))?.state).toBe('awaiting_approval');
  // A deny is still possible then.
  expect(
    (await decide(deps, { workspaceId: 'T1', id, userId: 'U0BOSS001', decision: { approve: false } })).ok,
  ).toBe(true);
});

test('past its expiry a request cannot be approved, even before the sweep closed it', async () => {
  const { id, record, deps, runs } = await setup();
  clock = (record.approval?.expiresAt ?? 0) + 1;
  try {
    expect(await decide(deps, { workspaceId: 'T1', id, userId: 'U0BOSS001', decision: approve })).toEqual({
      ok: false,
      reason: 'expired',
    });
  } finally {
    clock = record.createdAt;
  }
  expect(runs).toEqual([]);
});

test('the requester, a frozen workspace, another workspace: refused, nothing runs', async () => {
  const { id, deps, runs } = await setup();
  expect(await decide(deps, { workspaceId: 'T1', id, userId: 'U0ASKER01', decision: approve })).toMatchObject(
    {
      reason: 'own_request',
    },
  );
  expect(await decide(deps, { workspaceId: 'T2', id, userId: 'U0BOSS001', decision: approve })).toMatchObject(
    {
      reason: 'not_found',
    },
  );
  const frozen = { ...deps, frozen: async () => true };
  expect(
    await decide(frozen, { workspaceId: 'T1', id, userId: 'U0BOSS001', decision: approve }),
  ).toMatchObject({
    reason: 'frozen',
  });
  expect(runs).toEqual([]);
});

test('an approval turns the record back to pending, releases the hold and runs it once; the next click finds it decided', async () => {
  const { id, deps, runs, requests } = await setup();
  const first = await decide(deps, { workspaceId: 'T1', id, userId: 'U0BOSS001', decision: approve });
  expect(first.ok).toBe(true);
  expect(runs).toEqual([id]);
  const after = await requests.get(id);
  expect(after?.state).toBe('pending');
  expect(after?.approval?.decision).toMatchObject({ by: 'U0BOSS001', approved: true });
  // Active again and free: a worker can lease it at once.
  expect(await requests.lease(id, 'worker', 1000)).not.toBeNull();
  expect(await decide(deps, { workspaceId: 'T1', id, userId: 'U0BOSS002', decision: approve })).toMatchObject(
    {
      reason: 'decided',
    },
  );
  expect(runs).toEqual([id]);
});

test('a parked request is not active: no request worker picks it up, whatever its version', async () => {
  const { id } = await setup();
  expect(await createRequestLog(store.docs).abandoned(1000)).not.toContain(id);
});

test('the expiry sweep leaves a request alone until its hold lapses, then closes it once', async () => {
  const closed: string[] = [];
  const { id, record, deps, requests } = await setup();
  const swept = {
    ...deps,
    surface: { ...deps.surface, closeRequest: async (r: RequestRecord) => void closed.push(r.id) },
  };
  await sweepApprovals(swept, 'sweeper');
  expect((await requests.get(id))?.state).toBe('awaiting_approval');
  // Its hold made to lapse now, as it does at the expiry (the store's clock).
  const lapsed: RequestRecord = { ...record, approval: { expiresAt: clock, messageTs: '1.2' } };
  await deps.holds.hold(lapsed, clock);
  await requests.put(lapsed);
  storeClock.advance(20); // past its 1 ms lease
  await sweepApprovals(swept, 'sweeper');
  await sweepApprovals(swept, 'sweeper');
  expect((await requests.get(id))?.state).toBe('expired');
  expect(closed).toEqual([id]);
});
