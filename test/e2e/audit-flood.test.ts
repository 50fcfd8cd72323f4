/**
 * Volume cannot erase the audit trail: with AUDIT_MAX_ENTRIES=20, 50 refused submissions by one
 * member leave every admin entry in `/katapult history`, and show as one entry with its count;
 * forms of 20 policies Katapult refuses merge the same way, and evict no token, access, freeze or
 * approval entry, which `/katapult history admin` lists apart, beyond the last 20 actions.
 */
import { ACTIONS } from '../../src/slack/ids.js';
import type { SlackCall } from '../../support/fakes/slack-api.js';
import { ADMIN, type Harness, inMinutes, MEMBER } from '../../support/harness.js';
import { pressButton } from '../helpers/approvals.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const shared = useSharedHarness({ env: { AUDIT_MAX_ENTRIES: '20', KATAPULT_DEFAULT_ACCESS: 'admins' } });
let h: Harness;
beforeAll(() => {
  h = shared.h;
});

test('50 refused attempts by one member leave every admin entry in /katapult history', async () => {
  const adminPolicies = Array.from({ length: 5 }, (_, i) => `dbp_flood_admin_${i}`);
  for (const [i, policyId] of adminPolicies.entries()) {
    await h.submitSchedule({ policyId, at: inMinutes(30 + i), userId: ADMIN });
    await h.slack.waitFor('chat.postMessage', i + 1);
  }
  await h.bot.idle();
  for (let i = 0; i < 50; i++) {
    const res = await h.submitSchedule({
      policyId: `dbp_flood_member_${i}`,
      at: inMinutes(30),
      userId: MEMBER,
    });
    expect(res.status).toBe(200);
  }
  await h.bot.idle();

  await h.command({ text: 'history', user_id: ADMIN, response_url: h.slack.responseUrl('flood') });
  const [reply] = await h.slack.waitFor('response_url');
  const text = JSON.stringify(reply?.args);
  for (const policyId of adminPolicies) expect(text).toContain(policyId);
  expect(text).toContain('×50 in 10 minutes');
  expect(text.match(/refused:not_admin|only admins/g)?.length ?? 0).toBeLessThanOrEqual(1);
}, 60_000);

/** `/katapult <text>` as ADMIN: the reply's text and blocks, as one string. */
async function commandReply(text: string): Promise<string> {
  const before = h.slack.callsTo('response_url').length;
  await h.command({ text, user_id: ADMIN, response_url: h.slack.responseUrl(text.replace(/\W/g, '_')) });
  const replies = await h.slack.waitFor('response_url', before + 1);
  return JSON.stringify(replies.at(-1)?.args);
}

const approveButton = (post: SlackCall | undefined) =>
  ((post?.args.blocks ?? []) as { elements?: { action_id: string; value: string }[] }[])
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.action_id === ACTIONS.approve);

test('forms of 20 policies Katapult refuses evict no token, access, freeze or approval entry; they merge with a count', async () => {
  // Access for everyone with an admin's approval: a member's request, approved by an admin.
  await h.submitAccess({ who: 'everyone', groups: [], channels: [], approval: 'admins' });
  await h.slack.waitFor('views.update');
  await h.submitSchedule({ policyId: 'dbp_flood_approved', at: inMinutes(60), userId: MEMBER });
  const [request] = await h.slack.waitFor('chat.postMessage');
  const approve = approveButton(request);
  expect(approve).toBeDefined();
  await h.bot.idle();
  await pressButton(h, ACTIONS.approve, approve?.value ?? '', ADMIN);
  await h.slack.waitFor('chat.update');
  await h.bot.idle();
  // Approval off again, then the emergency stop on and off.
  await h.submitAccess({ who: 'everyone', groups: [], channels: [], approval: 'off' });
  await h.slack.waitFor('views.update', 2);
  expect(await commandReply('freeze')).toContain('Frozen.');
  await commandReply('unfreeze');
  await h.bot.idle();

  // Three forms of 20 IDs Katapult does not know: 60 failures over a cap of 20 entries.
  for (let form = 0; form < 3; form++) {
    const before = h.slack.callsTo('chat.postMessage').length;
    const picked = Array.from({ length: 20 }, (_, i) => `missing_flood_${form}_${i}`);
    expect((await h.submitSchedule({ picked, at: inMinutes(60), userId: ADMIN })).status).toBe(200);
    await h.slack.waitFor('chat.postMessage', before + 1);
    await h.bot.idle();
  }

  const history = await commandReply('history');
  expect(history).toContain('disk_backup_policy_not_found');
  expect(history).toContain('missing_flood_2_19');
  expect(history).toContain('×60 in 10 minutes');
  const admin = await commandReply('history admin');
  expect(admin).toContain('set the Katapult token');
  expect(admin.match(/changed who may schedule deletions/g)).toHaveLength(2);
  expect(admin).toContain('asked for approval of');
  expect(admin).toContain('request approved');
  expect(admin).toContain('dbp_flood_approved');
  expect(admin).toContain('froze scheduling');
  expect(admin).toContain('lifted the freeze');
  expect(admin).not.toContain('missing_flood_');
}, 60_000);

test('`/katapult history admin` lists the admin entries beyond the last 20 actions', async () => {
  for (let i = 0; i < 12; i++) {
    await commandReply('freeze');
    await commandReply('unfreeze');
  }
  for (let i = 0; i < 25; i++) {
    const before = h.slack.callsTo('chat.postMessage').length;
    await h.submitSchedule({ policyId: `dbp_after_admin_${i}`, at: inMinutes(30), userId: ADMIN });
    await h.slack.waitFor('chat.postMessage', before + 1);
  }
  await h.bot.idle();

  const history = await commandReply('history');
  expect(history).not.toContain('froze scheduling');
  const admin = await commandReply('history admin');
  // 24 changes here, plus the token set at start and the earlier test's entries.
  expect(admin.match(/froze scheduling/g)?.length).toBeGreaterThanOrEqual(12);
  expect(admin.match(/lifted the freeze/g)?.length).toBeGreaterThanOrEqual(12);
  expect(admin).toContain('set the Katapult token');
  expect(admin).not.toContain('dbp_after_admin_');
}, 60_000);
