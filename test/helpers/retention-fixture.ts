/**
 * A store as a year in production leaves it, for the retention tests: of every kind of record, some
 * that nothing needs any more and some that must stay (active, recent, or of a shape this code
 * cannot read). `seedYear` writes them through the same modules the bot uses, and says which keys
 * of each collection must remain after the sweeps.
 */
import { auditEntry } from '../../src/audit/entry.js';
import { APPROVALS, CONFIG, createAuditTrail, DECISIONS, FAILURES, REFUSALS } from '../../src/audit/trail.js';
import type { AppLogger } from '../../src/log.js';
import { createApprovalHolds, HOLDS } from '../../src/scheduling/approvals.js';
import { RESERVATIONS } from '../../src/scheduling/daily-limit.js';
import { createLastChannels, LAST_CHANNELS } from '../../src/scheduling/last-channel.js';
import { LOCKS } from '../../src/scheduling/locks.js';
import { createRequestLog, REQUESTS, type RequestRecord } from '../../src/scheduling/request-log.js';
import {
  createRetention,
  type RetentionPass,
  type RetentionSettings,
} from '../../src/scheduling/retention.js';
import { CHECKED, createUpcomingDeletions, NOTICES, UPCOMING } from '../../src/scheduling/upcoming.js';
import type { Docs } from '../../src/store/docs.js';
import type { AuditEntry, Store } from '../../src/store/store.js';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
export const WS = 'T0RETAIN1';
/** A workspace that went quiet (or uninstalled): nothing it writes trims its old records. */
export const QUIET = 'T0QUIET01';
/** The collections kept for a time after they were written (the audit trail's, last channels, notices). */
export const TIMED = [REFUSALS, FAILURES, CONFIG, APPROVALS, DECISIONS, LAST_CHANNELS, NOTICES];

export const silent = { event: () => undefined } as unknown as AppLogger;

export function request(id: string, at: number, over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: `${WS}:${id}`,
    workspace: WS,
    user: 'U0ALICE01',
    channel: 'C0OPS0001',
    botUserId: null,
    atSeconds: Math.floor(at / 1000) + 3600,
    createdAt: at,
    retryNum: null,
    state: 'done',
    attempts: 1,
    policies: [{ policyId: `dbp_${id}` }],
    ...over,
  };
}

/** The keys that must remain in each collection after the sweeps. */
export type Expected = Record<string, string[]>;

/**
 * Writes the year. `now` is the time the sweep will judge by; leases are taken on the store's own
 * clock (real time on PostgreSQL and Redis), so `now` must be close to it.
 */
export async function seedYear(store: Store, now: number): Promise<Expected> {
  const { docs } = store;
  const requests = createRequestLog(docs, () => now);
  const upcoming = createUpcomingDeletions(docs);
  const holds = createApprovalHolds(docs);
  const ago = (ms: number) => now - ms;
  const approval = (expiresAt: number, decision?: { at: number; approved: boolean }) => ({
    expiresAt,
    messageTs: '1.2',
    ...(decision ? { decision: { by: 'U0ADMIN01', ...decision } } : {}),
  });

  // Requests.
  const finishedOld = [
    request('DONE30', ago(30 * DAY)),
    request('FAILED8', ago(8 * DAY), { state: 'failed', error: 'katapult' }),
    request('SUPERSEDED9', ago(9 * DAY), { state: 'superseded' }),
    request('DENIED8', ago(9 * DAY), {
      state: 'denied',
      approval: approval(ago(8 * DAY), { at: ago(8 * DAY), approved: false }),
    }),
  ];
  const kept = [
    // Expired three days ago, though created ten days ago: it ended three days ago.
    request('EXPIRED3', ago(10 * DAY), { state: 'expired', approval: approval(ago(3 * DAY)) }),
    request('DONE2', ago(2 * DAY)),
    request('PENDING30', ago(30 * DAY), { state: 'pending' }),
    request('CALLING30', ago(30 * DAY), { state: 'calling' }),
    // Waiting for a decision that never came, the expiry sweep never ran: it waits still.
    request('AWAITING30', ago(30 * DAY), { state: 'awaiting_approval', approval: approval(ago(23 * DAY)) }),
    // Approved twenty days ago and not run yet.
    request('APPROVED20', ago(21 * DAY), {
      state: 'pending',
      approval: approval(ago(19 * DAY), { at: ago(20 * DAY), approved: true }),
    }),
    // A state some other version writes.
    request('PAUSED30', ago(30 * DAY), { state: 'paused' as RequestRecord['state'] }),
  ];
  for (const r of [...finishedOld, ...kept]) await requests.put(r);
  // Records of shapes this code cannot read: one active, one not.
  await docs.upsert(REQUESTS, {
    key: `${WS}:OLDSHAPE`,
    partition: WS,
    sort: ago(300 * DAY),
    active: true,
    body: JSON.stringify({ id: `${WS}:OLDSHAPE`, policyId: 'dbp_old', status: 'pending' }),
  });
  await docs.upsert(REQUESTS, {
    key: `${WS}:GARBLED`,
    partition: WS,
    sort: ago(300 * DAY),
    active: false,
    body: '{"id":"T0RETAIN1:GARBLED","state":"do',
  });
  // Finished long ago, but a worker holds its lease right now (writing its end): it stays this time.
  await docs.insert(REQUESTS, {
    key: `${WS}:LEASED`,
    partition: WS,
    sort: ago(30 * DAY),
    active: false,
    body: JSON.stringify(request('LEASED', ago(30 * DAY))),
    lease: { owner: 'worker-1', ttlMs: 10 * 60_000 },
  });

  // Upcoming deletions and their reconcile checks (seconds for moves, ms for checks).
  const move = (ms: number) => Math.floor(ms / 1000);
  const upcomingRecord = (policyId: string, at: number) => ({
    policyId,
    channelId: 'C0OPS0001',
    at,
    scheduledBy: 'U0ALICE01',
    targetType: 'VirtualMachine',
    targetId: 'vm_1',
    reminderMessageId: null,
    restoreMessageId: 'Q123',
  });
  await upcoming.put(WS, upcomingRecord('dbp_ahead', move(now + 2 * DAY)));
  await upcoming.put(WS, upcomingRecord('dbp_moved3', move(ago(3 * DAY))));
  await upcoming.put(WS, upcomingRecord('dbp_moved8', move(ago(8 * DAY))));
  await docs.upsert(UPCOMING, {
    key: `${WS}:dbp_garbled`,
    partition: WS,
    sort: move(ago(300 * DAY)),
    active: false,
    body: 'not json',
  });
  await upcoming.markChecked(WS, 'dbp_ahead', { at: ago(2 * DAY), missingSince: null });
  await upcoming.markChecked(WS, 'dbp_moved8', { at: ago(2 * DAY), missingSince: null });
  await upcoming.markChecked(WS, 'dbp_orphan_old', { at: ago(2 * DAY), missingSince: null });
  await upcoming.markChecked(WS, 'dbp_orphan_new', { at: ago(HOUR), missingSince: null });

  // Daily-limit places and request markers: 25 and 23 hours old.
  const daily = (key: string, partition: string, sort: number) =>
    docs.upsert(RESERVATIONS, { key, partition, sort, active: false, body: '{}' });
  await daily(`${WS}:V1|dbp_1`, `${WS}:U0ALICE01`, ago(25 * HOUR));
  await daily(`${WS}:V1|`, `${WS}:U0ALICE01|requests`, ago(25 * HOUR));
  await daily(`${WS}:V2|dbp_2`, `${WS}:U0ALICE01`, ago(23 * HOUR));
  await daily(`${WS}:V2|`, `${WS}:U0ALICE01|requests`, ago(23 * HOUR));
  // A marker as the earlier release left it, among the counted places, two days old.
  await daily(`${WS}:V0|`, `${WS}:U0ALICE01`, ago(2 * DAY));

  // Locks: one held now, one whose holder died (its lease lapsed at once).
  const lock = (key: string, ttlMs: number) =>
    docs.insert(LOCKS, {
      key,
      partition: 'locks',
      sort: 0,
      active: true,
      body: '{}',
      lease: { owner: key, ttlMs },
    });
  await lock(`policy:${WS}:dbp_held`, 10 * 60_000);
  await lock(`policy:${WS}:dbp_dead`, 1);

  // Approval holds: of a waiting request, of one still being posted (the hold comes first), of an
  // ended one, of one that is gone.
  const awaiting = kept.find((r) => r.state === 'awaiting_approval') as RequestRecord;
  await holds.hold({ ...awaiting, approval: approval(now + DAY) }, now);
  const posting = request('POSTING', now, { state: 'pending', approval: approval(now + DAY) });
  await requests.put(posting);
  await holds.hold(posting, now);
  await holds.hold(finishedOld[3] as RequestRecord, ago(9 * DAY)); // the denied one
  await holds.hold(request('GONE', ago(40 * DAY), { approval: approval(now + DAY) }), now);

  // Claims: one lapsed (SQL keeps it until pruned), one live.
  await store.claim(`restore:${WS}:dbp_old:1.1`, 1);
  await store.claim(`approval:${WS}:LIVE`, 10 * 60_000);

  const timed = await seedTimed(store, now);
  const id = (r: RequestRecord) => r.id;
  return {
    ...timed,
    [REQUESTS]: [...kept.map(id), posting.id, `${WS}:OLDSHAPE`, `${WS}:GARBLED`, `${WS}:LEASED`].sort(),
    [UPCOMING]: [`${WS}:dbp_ahead`, `${WS}:dbp_moved3`, `${WS}:dbp_garbled`].sort(),
    [CHECKED]: [`${WS}:dbp_ahead`, `${WS}:dbp_orphan_new`].sort(),
    [RESERVATIONS]: [`${WS}:V2|dbp_2`, `${WS}:V2|`].sort(),
    [LOCKS]: [`policy:${WS}:dbp_held`],
    [HOLDS]: [awaiting.id, posting.id].sort(),
  };
}

/**
 * The records kept for a time after they were written, through the modules that write them, each
 * written on its own clock (as it was then): of the active workspace, some inside their window; of
 * the quiet one, some past it (nothing it writes since trims them) and an admin entry inside it.
 * Windows: refusals and failures 90 days, admin and approval entries 400, last channels 90,
 * notices 365. Returns the keys that must remain (the fresh ones).
 */
async function seedTimed(store: Store, now: number): Promise<Expected> {
  const { docs } = store;
  let at = now;
  const clock = () => at;
  const trail = createAuditTrail(store.audit, docs, { retentionMs: 90 * DAY, now: clock });
  const lastChannels = createLastChannels({ docs, logger: silent, now: clock });
  const upcoming = createUpcomingDeletions(docs);
  const write = async (ago: number, workspace: string, action: AuditEntry['action'], outcome: string) => {
    at = now - ago;
    await trail.append(auditEntry({ at, workspace, user: 'U0BOB0001', action, outcome, policyId: 'dbp_1' }));
  };
  const keysNow = async (): Promise<Expected> =>
    Object.fromEntries(await Promise.all(TIMED.map(async (c) => [c, await allKeys(docs, c)])));
  // Inside their windows (one a day short of it).
  await write(89 * DAY, WS, 'schedule', 'refused:channel');
  await write(10 * DAY, WS, 'schedule', 'not_found');
  await write(399 * DAY, WS, 'token_set', 'saved');
  await write(30 * DAY, WS, 'approval', 'requested');
  await write(30 * DAY, WS, 'approval', 'approved');
  await write(300 * DAY, QUIET, 'uninstall', 'activity_forgotten');
  at = now - 2 * DAY;
  await lastChannels.remember(WS, 'U0ALICE01', 'C0OPS0001');
  await upcoming.claimNotice(WS, 'unproven:new', now - 30 * DAY);
  const expected = await keysNow();
  // Past them (a day over).
  await write(91 * DAY, QUIET, 'schedule', 'refused:channel');
  await write(91 * DAY, QUIET, 'schedule', 'not_found');
  await write(401 * DAY, QUIET, 'token_set', 'saved');
  await write(401 * DAY, QUIET, 'approval', 'expired');
  await write(401 * DAY, QUIET, 'approval', 'denied');
  at = now - 91 * DAY;
  await lastChannels.remember(QUIET, 'U0BOB0001', 'C0OPS0002');
  await upcoming.claimNotice(QUIET, 'unproven:old', now - 366 * DAY);
  return expected;
}

/** Every key of a collection, in pages. */
export async function allKeys(docs: Docs, collection: string): Promise<string[]> {
  const keys: string[] = [];
  for (;;) {
    const page = await docs.keys(collection, {
      ...(keys.length ? { afterKey: keys.at(-1) } : {}),
      limit: 500,
    });
    keys.push(...page);
    if (page.length < 500) return keys.sort();
  }
}

/** Sweeps until one pass has gone over everything; returns every pass. */
export async function sweepFully(
  store: Pick<Store, 'docs' | 'pruneClaims' | 'countClaims'>,
  now: () => number,
  settings: Partial<RetentionSettings> = {},
): Promise<RetentionPass[]> {
  const retention = createRetention({
    docs: store.docs,
    claims: store,
    now,
    logger: silent,
    settings: { finishedRequestMs: 7 * DAY, intervalMs: 0, batchSize: 200, ...settings },
  });
  const passes: RetentionPass[] = [];
  do passes.push(await retention.sweep());
  while (!passes.at(-1)?.complete && passes.length < 1000);
  return passes;
}
