/**
 * The records kept for a time after they were written, which only their own workspace's writes
 * used to trim: the audit trail's refusals, failures, admin and approval entries, a person's last
 * channel, and reconcile's notices. The retention sweep removes them once past their window (the
 * audit windows from the settings: AUDIT_RETENTION_DAYS, AUDIT_ADMIN_RETENTION_DAYS), also for a
 * workspace that went quiet or uninstalled, and never a record written again meanwhile.
 */
import { auditEntry } from '../../src/audit/entry.js';
import {
  APPROVALS,
  CONFIG,
  createAuditTrail,
  FAILURES,
  REFUSALS,
  readWholeTrail,
  trailWorkspaces,
} from '../../src/audit/trail.js';
import { createForgetWorkspace } from '../../src/scheduling/forget-workspace.js';
import { createLastChannels, LAST_CHANNELS } from '../../src/scheduling/last-channel.js';
import { createRetention, type RecordKind, type RetentionPass } from '../../src/scheduling/retention.js';
import { createUpcomingDeletions, NOTICES } from '../../src/scheduling/upcoming.js';
import type { Docs } from '../../src/store/docs.js';
import type { AuditEntry } from '../../src/store/store.js';
import { allKeys, DAY, silent, sweepFully } from '../helpers/retention-fixture.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const START = 1_800_000_000_000;
let clock = START;
const storeOf = useTempSqliteStore({ now: () => clock });
beforeEach(() => {
  clock = START;
});

/** AUDIT_RETENTION_DAYS=30, AUDIT_ADMIN_RETENTION_DAYS=400 (not the defaults for the first: the setting is what counts). */
const windows = { auditMs: 30 * DAY, adminAuditMs: 400 * DAY };
const sweep = () => sweepFully(storeOf(), () => clock, windows);
/** What the passes removed of a kind, in all. */
const removedOf = (passes: RetentionPass[], kind: RecordKind) =>
  passes.reduce((sum, pass) => sum + pass.removed[kind], 0);

function trailOf() {
  const store = storeOf();
  return createAuditTrail(store.audit, store.docs, {
    retentionMs: windows.auditMs,
    adminRetentionMs: windows.adminAuditMs,
    now: () => clock,
  });
}

const entry = (workspace: string, action: AuditEntry['action'], outcome: string, user = 'U0BOB0001') =>
  auditEntry({ at: clock, workspace, user, action, outcome, policyId: 'dbp_1' });

test('a workspace that goes quiet: its refusals and failures go once AUDIT_RETENTION_DAYS passed, and export-audit no longer has them', async () => {
  const store = storeOf();
  const trail = trailOf();
  const WS = 'T0QUIET01';
  await trail.append(entry(WS, 'schedule', 'refused:channel'));
  await trail.append(entry(WS, 'schedule', 'not_found'));
  // Inside the window: the sweep keeps them.
  clock += 29 * DAY;
  await sweep();
  expect(await allKeys(store.docs, REFUSALS)).toHaveLength(1);
  expect(await allKeys(store.docs, FAILURES)).toHaveLength(1);
  expect(await readWholeTrail(store, WS, { limit: 100 })).toHaveLength(2);
  // Past it, with no write of the workspace since: the sweep removes them.
  clock += 2 * DAY;
  const passes = await sweep();
  expect(await allKeys(store.docs, REFUSALS)).toEqual([]);
  expect(await allKeys(store.docs, FAILURES)).toEqual([]);
  expect(await readWholeTrail(store, WS, { limit: 100 })).toEqual([]);
  expect(await trailWorkspaces(store)).toEqual([]);
  expect(removedOf(passes, 'audit_refusals') + removedOf(passes, 'audit_failures')).toBe(2);
});

test('an uninstalled OAuth workspace: its admin trail stays AUDIT_ADMIN_RETENTION_DAYS, then goes', async () => {
  const store = storeOf();
  const trail = trailOf();
  const record = (e: AuditEntry) => trail.append(e);
  const WS = 'T0GONE001';
  await record(entry(WS, 'token_set', 'saved', 'U0ADMIN01'));
  await record({ ...entry(WS, 'approval', 'approved', 'U0ADMIN01'), decidedBy: 'U0ADMIN01' });
  await record(entry(WS, 'approval', 'requested'));
  await record(entry(WS, 'schedule', 'refused:channel'));
  const forget = createForgetWorkspace({
    deleteInstallation: async () => undefined,
    tokens: { remove: async () => ({ ok: true, removed: true }) },
    access: { remove: async () => undefined },
    freezes: { remove: async () => undefined },
    upcoming: { forget: async () => undefined },
    requests: { forget: async () => undefined },
    dailyLimit: { forget: async () => undefined },
    holds: { forget: async () => undefined },
    trail,
    record,
    singleWorkspace: false,
    logger: silent,
    now: () => clock,
  });
  await forget(WS);
  const actions = async () => (await readWholeTrail(store, WS, { limit: 100 })).map((e) => e.action).sort();
  expect(await actions()).toEqual(['approval', 'approval', 'token_set', 'uninstall']);

  // A day short of 400 days: kept, and exported.
  clock += 399 * DAY;
  await sweep();
  expect(await actions()).toEqual(['approval', 'approval', 'token_set', 'uninstall']);
  // Another workspace's writes trim only its own partition; the sweep removes the gone one's.
  clock += 2 * DAY;
  await trail.append(entry('T0OTHER01', 'token_set', 'saved', 'U0ADMIN02'));
  const passes = await sweep();
  expect(await actions()).toEqual([]);
  expect(await allKeys(store.docs, APPROVALS)).toEqual([]);
  // The other workspace's entry, written since, stays.
  expect((await allKeys(store.docs, CONFIG)).map((k) => k.split(':')[0])).toEqual(['T0OTHER01']);
  expect(await trailWorkspaces(store)).toEqual(['T0OTHER01']);
  // The configuration changes, the decision and the request for approval, each kept apart.
  expect(removedOf(passes, 'audit_admin')).toBe(2);
  expect(removedOf(passes, 'audit_decisions')).toBe(1);
  expect(removedOf(passes, 'audit_approvals')).toBe(1);
});

test('an admin entry older than the window goes while a newer one of the same workspace stays', async () => {
  const store = storeOf();
  const trail = trailOf();
  const WS = 'T0ADMIN01';
  await trail.append(entry(WS, 'freeze', 'frozen', 'U0ADMIN01'));
  clock += 200 * DAY;
  await trail.append(entry(WS, 'freeze', 'unfrozen', 'U0ADMIN01'));
  clock += 201 * DAY; // the first 401 days old, the second 201
  const passes = await sweep();
  expect(await allKeys(store.docs, CONFIG)).toHaveLength(1);
  expect((await trail.admin(WS, 10)).map((e) => e.outcome)).toEqual(['unfrozen']);
  expect(removedOf(passes, 'audit_admin')).toBe(1);
});

test('last channels go 90 days after they were written; a newer one stays', async () => {
  const store = storeOf();
  const lastChannels = createLastChannels({ docs: store.docs, logger: silent, now: () => clock });
  await lastChannels.remember('T0QUIET01', 'U0BOB0001', 'C0OLD0001');
  clock += 60 * DAY;
  await lastChannels.remember('T0ACTIVE1', 'U0ALICE01', 'C0NEW0001');
  clock += 31 * DAY; // 91 days and 31 days
  const passes = await sweep();
  expect(await allKeys(store.docs, LAST_CHANNELS)).toEqual(['T0ACTIVE1:U0ALICE01']);
  expect(await lastChannels.recall('T0ACTIVE1', 'U0ALICE01')).toBe('C0NEW0001');
  expect(removedOf(passes, 'last_channels')).toBe(1);
});

test('a reconcile notice is kept a year after it was claimed, then goes (and would be told once more)', async () => {
  const store = storeOf();
  const upcoming = createUpcomingDeletions(store.docs);
  expect(await upcoming.claimNotice('T0QUIET01', 'unproven:1:abcd', clock)).toBe(true);
  clock += 200 * DAY;
  expect(await upcoming.claimNotice('T0ACTIVE1', 'unproven:2:efgh', clock)).toBe(true);
  clock += 164 * DAY; // 364 and 164 days
  await sweep();
  expect(await allKeys(store.docs, NOTICES)).toHaveLength(2);
  expect(await upcoming.claimNotice('T0QUIET01', 'unproven:1:abcd', clock)).toBe(false);
  clock += 2 * DAY;
  const passes = await sweep();
  expect(await allKeys(store.docs, NOTICES)).toEqual(['T0ACTIVE1:unproven:2:efgh']);
  expect(await upcoming.claimNotice('T0QUIET01', 'unproven:1:abcd', clock)).toBe(true);
  expect(removedOf(passes, 'upcoming_notices')).toBe(1);
});

test('a last channel written again while the sweep judged it stays (the person used the bot meanwhile)', async () => {
  const store = storeOf();
  const lastChannels = createLastChannels({ docs: store.docs, logger: silent, now: () => clock });
  await lastChannels.remember('T0QUIET01', 'U0BOB0001', 'C0OLD0001');
  clock += 91 * DAY;
  const docs: Docs = {
    ...store.docs,
    // Between the sweep's read and its removal, the person runs /katapult in another channel.
    get: async (collection, key) => {
      const row = await store.docs.get(collection, key);
      if (collection === LAST_CHANNELS) await lastChannels.remember('T0QUIET01', 'U0BOB0001', 'C0NEW0001');
      return row;
    },
  };
  const pass = await createRetention({
    docs,
    claims: store,
    now: () => clock,
    logger: silent,
    settings: { finishedRequestMs: 7 * DAY, intervalMs: 0, batchSize: 10, ...windows },
  }).sweep();
  expect(pass.examined.last_channels).toBe(1);
  expect(pass.removed.last_channels).toBe(0);
  expect(await lastChannels.recall('T0QUIET01', 'U0BOB0001')).toBe('C0NEW0001');
});

test('without settings the audit windows are the documented defaults (90 and 400 days)', async () => {
  const store = storeOf();
  const trail = createAuditTrail(store.audit, store.docs, { retentionMs: 90 * DAY, now: () => clock });
  await trail.append(entry('T0QUIET01', 'schedule', 'refused:channel'));
  await trail.append(entry('T0QUIET01', 'token_set', 'saved', 'U0ADMIN01'));
  clock += 89 * DAY;
  await sweepFully(store, () => clock);
  expect(await allKeys(store.docs, REFUSALS)).toHaveLength(1);
  clock += 2 * DAY;
  await sweepFully(store, () => clock);
  expect(await allKeys(store.docs, REFUSALS)).toEqual([]);
  expect(await allKeys(store.docs, CONFIG)).toHaveLength(1);
  clock += 310 * DAY; // 401 days
  await sweepFully(store, () => clock);
  expect(await allKeys(store.docs, CONFIG)).toEqual([]);
});
