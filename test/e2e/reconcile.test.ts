/**
 * Reconcile with Katapult: a policy whose move the fake Katapult changes, cancels, deletes or
 * trashes behind the bot's back is noticed by the next sweep: the upcoming record follows, the
 * messages Slack holds are deleted (and held again for a new time), and a note goes to the channel.
 */
import { createLogger, Redactor } from '../../src/log.js';
import { createLocks, policyLock } from '../../src/scheduling/locks.js';
import { createReconciler } from '../../src/scheduling/reconcile.js';
import { createUpcomingDeletions, KEEP_AFTER_MOVE_SECONDS } from '../../src/scheduling/upcoming.js';
import { ACTIONS } from '../../src/slack/ids.js';
import type { WorkspaceTokens } from '../../src/tokens/workspace-tokens.js';
import { CHANNEL, type Harness, inMinutes, KATAPULT_TOKEN } from '../../support/harness.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const shared = useSharedHarness();
let h: Harness;
beforeAll(() => {
  h = shared.h;
});
beforeEach(() => {
  h.katapult.setTokens({ [KATAPULT_TOKEN]: 'Acme Ops' });
});

const upcomingRecord = (policyId: string) =>
  createUpcomingDeletions(h.bot.store.docs).get('T0FAKE001', policyId);

/** Schedules through the bot and returns the record with its held messages. */
async function schedule(policyId: string, at: number) {
  await h.submitSchedule({ policyId, at });
  await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();
  const record = await upcomingRecord(policyId);
  expect(record).toMatchObject({ at, channelId: CHANNEL });
  expect(record?.reminderMessageId).toBeTruthy();
  expect(record?.restoreMessageId).toBeTruthy();
  h.slack.reset();
  return record as NonNullable<typeof record>;
}

const deletedIds = () =>
  h.slack.callsTo('chat.deleteScheduledMessage').map((c) => [c.args.channel, c.args.scheduled_message_id]);
const notes = () => h.slack.callsTo('chat.postMessage');

test('a move changed in Katapult: the record follows, the held messages are replaced, the channel is told', async () => {
  const before = await schedule('dbp_rc_moved', inMinutes(240));
  const later = inMinutes(600);
  h.katapult.setAutoMoveToTrashAt('dbp_rc_moved', later);

  const summary = await h.bot.reconcile();
  expect(summary).toMatchObject({ changed: 1, skipped: 0 });
  expect(deletedIds()).toEqual([
    [CHANNEL, before.reminderMessageId],
    [CHANNEL, before.restoreMessageId],
  ]);
  const held = h.slack.callsTo('chat.scheduleMessage');
  expect(held.map((c) => Number(c.args.post_at))).toEqual([later - 3600, later + 60]);
  expect(notes()).toHaveLength(1);
  expect(notes()[0]?.args.channel).toBe(CHANNEL);
  expect(String(notes()[0]?.args.text)).toContain('changed outside Slack');
  expect(JSON.stringify(notes()[0]?.args.blocks)).toContain(`<!date^${later}^`);
  const after = await upcomingRecord('dbp_rc_moved');
  expect(after).toMatchObject({ at: later, scheduledBy: before.scheduledBy });
  expect(after?.reminderMessageId).not.toBe(before.reminderMessageId);
  expect(h.slack.refusals()).toEqual([]);

  // Nothing changed since: the next sweep does nothing in Slack.
  h.slack.reset();
  expect((await h.bot.reconcile()).changed).toBe(0);
  expect(h.slack.calls).toEqual([]);
});

test('a move cancelled in Katapult: held messages deleted, none held, the record dropped, the channel told', async () => {
  const before = await schedule('dbp_rc_cleared', inMinutes(240));
  h.katapult.setAutoMoveToTrashAt('dbp_rc_cleared', null);

  expect((await h.bot.reconcile()).changed).toBe(1);
  expect(deletedIds()).toEqual([
    [CHANNEL, before.reminderMessageId],
    [CHANNEL, before.restoreMessageId],
  ]);
  expect(h.slack.callsTo('chat.scheduleMessage')).toEqual([]);
  expect(notes()).toHaveLength(1);
  expect(String(notes()[0]?.args.text)).toContain('no longer scheduled');
  expect(await upcomingRecord('dbp_rc_cleared')).toBeNull();
});

test('a policy deleted in Katapult (404 on two passes): held messages deleted, the record dropped, the channel told', async () => {
  // Scheduled in a later second than the token was stored (its `setAt` is in whole seconds), so the
  // bot knows this token scheduled it: never seen by a pass, its 404 is still proven.
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000)));
  const before = await schedule('dbp_rc_gone', inMinutes(240));
  h.katapult.removePolicy('dbp_rc_gone');
  h.katapult.reset();

  // The first 404 is only noted: a passing glitch must not withdraw the reminder of a move that still happens.
  expect((await h.bot.reconcile()).changed).toBe(0);
  expect(h.slack.calls).toEqual([]);
  expect(await upcomingRecord('dbp_rc_gone')).toEqual(before);
  expect(h.logs.some((l) => l.includes('reconcile_policy_missing') && l.includes('dbp_rc_gone'))).toBe(true);

  expect((await h.bot.reconcile()).changed).toBe(1);
  expect(deletedIds()).toHaveLength(2);
  expect(deletedIds()[0]).toEqual([CHANNEL, before.reminderMessageId]);
  expect(h.slack.callsTo('chat.scheduleMessage')).toEqual([]);
  expect(String(notes()[0]?.args.text)).toContain('no longer exists in Katapult');
  expect(await upcomingRecord('dbp_rc_gone')).toBeNull();
  expect(await createUpcomingDeletions(h.bot.store.docs).lastCheck('T0FAKE001', 'dbp_rc_gone')).toBeNull();
  // Each 404 was believed only once Katapult confirmed whom the token belongs to.
  expect(h.katapult.requests.filter((r) => r.path === '/users/current').length).toBeGreaterThanOrEqual(2);
});

test('a record whose move is past the restore window is not checked: Katapult is not asked about it', async () => {
  const upcoming = createUpcomingDeletions(h.bot.store.docs);
  const nowSeconds = Math.floor(Date.now() / 1000);
  const record = (policyId: string, at: number) => ({
    policyId,
    channelId: CHANNEL,
    at,
    scheduledBy: 'U0ALICE01',
    targetType: 'VirtualMachine',
    targetId: 'vm_1kpkjQeMEI43tztr',
    reminderMessageId: null,
    restoreMessageId: null,
  });
  await upcoming.put('T0FAKE001', record('dbp_rc_long_past', nowSeconds - KEEP_AFTER_MOVE_SECONDS - 3600));
  await upcoming.put('T0FAKE001', record('dbp_rc_recent_past', nowSeconds - 3600));

  await h.bot.reconcile();
  const asked = h.katapult.requests
    .filter((r) => r.path === '/disk_backup_policies/disk_backup_policy' && r.method === 'GET')
    .map((r) => r.query['disk_backup_policy[id]']);
  expect(asked).toContain('dbp_rc_recent_past');
  expect(asked).not.toContain('dbp_rc_long_past');
  expect(h.slack.calls).toEqual([]);
  await upcoming.remove('T0FAKE001', 'dbp_rc_long_past');
  await upcoming.remove('T0FAKE001', 'dbp_rc_recent_past');
});

test('a policy already in the trash before its time: the note offers Restore, the record is kept', async () => {
  await schedule('dbp_rc_early', inMinutes(240));
  h.katapult.trashPolicy('dbp_rc_early', inMinutes(60 * 48));

  expect((await h.bot.reconcile()).changed).toBe(1);
  expect(deletedIds()).toHaveLength(2);
  expect(h.slack.callsTo('chat.scheduleMessage')).toEqual([]);
  expect(JSON.stringify(notes()[0]?.args.blocks)).toContain(ACTIONS.restore);
  const after = await upcomingRecord('dbp_rc_early');
  expect(after?.at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  expect(after?.reminderMessageId).toBeNull();
});

test('Katapult failing during a sweep: logged, counted, nothing changed, checked again next time', async () => {
  const before = await schedule('dbp_rc_error', inMinutes(240));
  const changed = inMinutes(500);
  h.katapult.setAutoMoveToTrashAt('dbp_rc_error', changed);
  h.katapult.setTokens({}); // every call now answers 403 invalid_api_token

  const summary = await h.bot.reconcile();
  expect(summary.changed).toBe(0);
  expect(summary.skipped).toBeGreaterThanOrEqual(1);
  expect(h.slack.calls).toEqual([]);
  expect(await upcomingRecord('dbp_rc_error')).toEqual(before);
  expect(h.logs.some((l) => l.includes('reconcile_katapult_failed') && l.includes('dbp_rc_error'))).toBe(
    true,
  );
  const metrics = (await h.bot.metrics.render()).body;
  expect(metrics).toMatch(
    /katapult_requests_total\{operation="get_policy",outcome="invalid_api_token"\} [1-9]/,
  );

  // Katapult answers again: the next sweep applies the change.
  h.katapult.setTokens({ [KATAPULT_TOKEN]: 'Acme Ops' });
  expect((await h.bot.reconcile()).changed).toBe(1);
  expect((await upcomingRecord('dbp_rc_error'))?.at).toBe(changed);
});

test('two replicas sharing the store: in their periodic passes each policy is checked by one of them', async () => {
  await schedule('dbp_rc_replicas', inMinutes(240));
  const docs = h.bot.store.docs;
  const upcoming = createUpcomingDeletions(docs);
  const checks: string[] = [];
  const unexpected = async () => {
    throw new Error('nothing changed: Slack must not be touched');
  };
  // The passes overlap on the policy: whoever checks it first gets Katapult's answer only once
  // the other replica has asked for the policy's lock too (and waits for it, or finds it fresh).
  const policyLockName = policyLock('T0FAKE001', 'dbp_rc_replicas');
  const askers = new Set<string>();
  let bothAsked: () => void = () => undefined;
  const overlap = new Promise<void>((resolve) => {
    bothAsked = resolve;
  });
  const replica = (name: string): ReturnType<typeof createReconciler> => {
    const locks = createLocks(docs);
    return createReconciler({
      upcoming,
      locks: {
        withLock(lock, work, options) {
          if (lock === policyLockName && askers.add(name).size === 2) bothAsked();
          return locks.withLock(lock, work, options);
        },
        acquire: locks.acquire,
      },
      tokens: { tokenFor: async () => ({ ok: true, token: KATAPULT_TOKEN }) } as unknown as WorkspaceTokens,
      katapult: {
        async getDiskBackupPolicy(_token, policyId) {
          checks.push(`${name}:${policyId}`);
          // Katapult agrees with the index.
          if (policyId === 'dbp_rc_replicas') await overlap;
          return { autoMoveToTrashAt: (await upcoming.get('T0FAKE001', policyId))?.at ?? null };
        },
        identify: async () => ({ organizations: [{ id: 'org_acme', name: 'Acme Ops' }] }),
      },
      surface: { rehold: unexpected, dropHeld: unexpected, note: unexpected, tellUnproven: unexpected },
      logger: createLogger({ level: 'error', redactor: new Redactor(), sink: () => undefined }),
      now: Date.now,
      intervalMs: 3_600_000,
      track: (work) => work(),
    });
  };
  const periodic = { skipFreshMs: 1_800_000 };
  const [a, b] = await Promise.all([replica('a').sweep(periodic), replica('b').sweep(periodic)]);
  expect(checks.filter((c) => c.endsWith(':dbp_rc_replicas'))).toHaveLength(1);
  expect(a.changed + b.changed).toBe(0);
  expect(a.skipped + b.skipped).toBe(0);
  // A pass asked for by hand checks again.
  checks.length = 0;
  await replica('c').sweep();
  expect(checks).toContain('c:dbp_rc_replicas');
});
