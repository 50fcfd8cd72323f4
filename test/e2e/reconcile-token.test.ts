/**
 * Reconcile never drops what it cannot prove gone: Katapult answers 404 for a policy the token
 * cannot see, so a 404 withdraws a policy's reminder and restore offer only when Katapult also
 * confirms that the workspace's token reaches the policy's organization. Against the fake Katapult,
 * whose policies are visible only to tokens of their organization.
 */
import { createUpcomingDeletions, type UpcomingDeletion } from '../../src/scheduling/upcoming.js';
import {
  ADMIN,
  CHANNEL,
  type Harness,
  inMinutes,
  KATAPULT_TOKEN,
  setWorkspaceToken,
} from '../../support/harness.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const WORKSPACE = 'T0FAKE001';
const GLOBEX_TOKEN = 'kt-globex-token-0002';

const shared = useSharedHarness();
let h: Harness;
beforeAll(() => {
  h = shared.h;
});
beforeEach(() => {
  h.katapult.setTokens({ [KATAPULT_TOKEN]: 'Acme Ops', [GLOBEX_TOKEN]: 'Globex' });
});

const upcoming = () => createUpcomingDeletions(h.bot.store.docs);
const deletedIds = () => h.slack.callsTo('chat.deleteScheduledMessage');
const posts = () => h.slack.callsTo('chat.postMessage');

/** Schedules through the bot and returns the record with its held messages. */
async function schedule(policyId: string, at: number): Promise<UpcomingDeletion> {
  await h.submitSchedule({ policyId, at });
  await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();
  const record = await upcoming().get(WORKSPACE, policyId);
  expect(record?.restoreMessageId).toBeTruthy();
  h.slack.reset();
  return record as UpcomingDeletion;
}

/** A record as releases before this change wrote it: no request time, no organization known. */
function oldRecord(policyId: string, at: number): UpcomingDeletion {
  return {
    policyId,
    channelId: CHANNEL,
    at,
    scheduledBy: 'U0ALICE01',
    targetType: 'VirtualMachine',
    targetId: 'vm_1kpkjQeMEI43tztr',
    reminderMessageId: `Q_${policyId}_reminder`,
    restoreMessageId: `Q_${policyId}_restore`,
  };
}

test('records from before this change, with no organization known: kept on a 404 (an admin told once) unless a pass saw the policy first', async () => {
  const missing = oldRecord('missing_rt_old', inMinutes(300));
  const seen = oldRecord('dbp_rt_old_seen', inMinutes(300));
  h.katapult.setPolicy({
    id: seen.policyId,
    organization: 'Acme Ops',
    target: { type: 'VirtualMachine', id: 'vm_1kpkjQeMEI43tztr', name: 'web-1' },
    autoMoveToTrashAt: seen.at,
  });
  await upcoming().put(WORKSPACE, missing);
  await upcoming().put(WORKSPACE, seen);

  for (let pass = 0; pass < 3; pass++) expect((await h.bot.reconcile()).changed).toBe(0);
  expect(deletedIds()).toEqual([]);
  expect(await upcoming().get(WORKSPACE, missing.policyId)).toEqual(missing);
  // The admin who set the token is told once, privately.
  expect(posts()).toHaveLength(1);
  expect(posts()[0]?.args.channel).toBe(ADMIN);
  expect(String(posts()[0]?.args.text)).toContain('missing_rt_old');
  expect(String(posts()[0]?.args.text)).toContain('another Katapult organization');
  expect(h.logs.some((l) => l.includes('reconcile_policy_unproven') && l.includes('missing_rt_old'))).toBe(
    true,
  );

  // The policy a pass saw (so its organization is known) and that is then deleted: gone after two passes.
  h.katapult.removePolicy(seen.policyId);
  h.slack.reset();
  await h.bot.reconcile();
  expect((await h.bot.reconcile()).changed).toBe(1);
  expect(deletedIds().map((c) => c.args.scheduled_message_id)).toEqual([
    seen.reminderMessageId,
    seen.restoreMessageId,
  ]);
  expect(await upcoming().get(WORKSPACE, seen.policyId)).toBeNull();
  expect(await upcoming().get(WORKSPACE, missing.policyId)).toEqual(missing);
  expect(h.slack.refusals()).toEqual([]);
  await upcoming().remove(WORKSPACE, missing.policyId);
});

test('the token replaced by another organization’s: its 404s drop nothing, the admin who set it is told once, and all comes back with the right token', async () => {
  const before = await schedule('dbp_rt_acme', inMinutes(240));
  await h.bot.reconcile(); // the Acme token sees it

  await setWorkspaceToken(h, GLOBEX_TOKEN);
  try {
    h.slack.reset();
    h.katapult.reset();
    for (let pass = 0; pass < 3; pass++) {
      const summary = await h.bot.reconcile();
      expect(summary.changed).toBe(0);
      expect(summary.unproven).toBeGreaterThanOrEqual(1);
    }
    expect(deletedIds()).toEqual([]);
    expect(h.slack.callsTo('chat.scheduleMessage')).toEqual([]);
    expect(await upcoming().get(WORKSPACE, 'dbp_rt_acme')).toEqual(before);
    expect(posts()).toHaveLength(1);
    expect(posts()[0]?.args.channel).toBe(ADMIN);
    expect(String(posts()[0]?.args.text)).toContain('another Katapult organization');
    expect(h.slack.refusals()).toEqual([]);
    // Katapult was asked whom the token belongs to: Globex, not the policy's Acme Ops.
    expect(h.katapult.requests.some((r) => r.path === '/users/current')).toBe(true);
  } finally {
    await setWorkspaceToken(h, KATAPULT_TOKEN);
  }

  h.slack.reset();
  expect(await h.bot.reconcile()).toMatchObject({ changed: 0, unproven: 0 });
  expect(await upcoming().get(WORKSPACE, 'dbp_rt_acme')).toEqual(before);
  expect(h.slack.calls).toEqual([]);
});
