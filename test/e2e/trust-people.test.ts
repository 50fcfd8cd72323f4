/**
 * Only members: guests and people from other organizations (Slack Connect) are refused, even when
 * the workspace allows "everyone", until an admin allows them in `/katapult access`. Someone who is
 * an admin elsewhere is no admin here. Org-wide installs use the organization's admin role.
 */
import { ACCESS_VIEW, ACTIONS, SCHEDULE_VIEW } from '../../src/slack/ids.js';
import { profileOf } from '../../src/slack/people/users.js';
import { FAKE_TEAM_ID } from '../../support/fakes/slack-api.js';
import {
  ADMIN,
  BOT_TOKEN,
  CHANNEL,
  type Harness,
  inMinutes,
  KATAPULT_TOKEN,
  SIGNING_SECRET,
  setWorkspaceToken,
  startHarness,
} from '../../support/harness.js';
import { blockActionBody, eventBody, postSigned } from '../../support/slack-requests.js';
import { auditTrailOf } from '../helpers/audit-trail.js';
import { leaksOf } from '../helpers/secrets.js';

const GUEST = 'U0GUEST01';
const SINGLE_CHANNEL_GUEST = 'U0GUEST02';
const EXTERNAL = 'U0EXTERN1';
const EXTERNAL_ADMIN = 'U0EXTERN2';

let h: Harness;
beforeEach(async () => {
  // "everyone": the strongest default, which still must not mean guests and visitors.
  h = await startHarness({ env: { KATAPULT_DEFAULT_ACCESS: 'everyone' } });
  h.slack.users.set(GUEST, { is_restricted: true });
  h.slack.users.set(SINGLE_CHANNEL_GUEST, { is_ultra_restricted: true });
  h.slack.users.set(EXTERNAL, { team_id: 'T0ELSEWHR' });
  h.slack.users.set(EXTERNAL_ADMIN, { team_id: 'T0ELSEWHR', is_admin: true });
  await setWorkspaceToken(h);
  h.slack.reset();
  h.katapult.reset();
});
afterEach(async () => {
  const leaks = leaksOf(h, [KATAPULT_TOKEN, BOT_TOKEN, SIGNING_SECRET, h.encryptionKey]);
  await h.stop();
  expect(leaks).toEqual([]);
});

const scheduleCalls = () => h.katapult.requests.filter((r) => r.method === 'DELETE');
/** Lets the work the last request started finish (Bot.idle), so that what did not happen can be checked. */
const settle = async () => expect(await h.bot.idle()).toBe(true);
const outcomesOf = async (user: string) => {
  await h.bot.idle();
  return (await auditTrailOf(h)).filter((e) => e.user === user).map((e) => e.outcome);
};

function submitAccess(allow: string[], userId = ADMIN) {
  return h.submitAccess({ outsiders: allow }, userId);
}

test('guests and external people are refused by default, privately and audited; nothing scheduled', async () => {
  for (const [user, reason, text] of [
    [GUEST, 'refused:guest', 'Guests may not schedule'],
    [SINGLE_CHANNEL_GUEST, 'refused:guest', 'Guests may not schedule'],
    [EXTERNAL, 'refused:external', 'people from other organizations may not'],
  ] as const) {
    const before = h.slack.callsTo('chat.postEphemeral').length;
    await h.submitSchedule({ policyId: 'dbp_outsider', at: inMinutes(30), userId: user });
    const notes = await h.slack.waitFor('chat.postEphemeral', before + 1);
    expect(JSON.stringify(notes.at(-1)?.args)).toContain(text);
    expect(await outcomesOf(user)).toEqual([reason]);
  }
  await settle();
  expect(scheduleCalls()).toHaveLength(0);
  expect(h.slack.callsTo('chat.postMessage')).toHaveLength(0);
});

test('after an admin allows guests and external people, they may schedule', async () => {
  await submitAccess([ACCESS_VIEW.allowGuestsValue, ACCESS_VIEW.allowExternalValue]);
  const [saved] = await h.slack.waitFor('views.update');
  expect(JSON.stringify(saved?.args.view)).toContain(
    'This includes guests and people from other organizations',
  );

  await h.submitSchedule({ policyId: 'dbp_guest', at: inMinutes(30), userId: GUEST });
  await h.slack.waitFor('chat.postMessage', 1);
  await h.submitSchedule({ policyId: 'dbp_extern', at: inMinutes(30), userId: EXTERNAL });
  await h.slack.waitFor('chat.postMessage', 2);
  expect(scheduleCalls()).toHaveLength(2);
  expect(await outcomesOf(GUEST)).toEqual(['scheduled']);
  expect(await outcomesOf(EXTERNAL)).toEqual(['scheduled']);
});

test('allowing only guests still refuses external people', async () => {
  await submitAccess([ACCESS_VIEW.allowGuestsValue]);
  await h.slack.waitFor('views.update');
  await h.submitSchedule({ policyId: 'dbp_extern', at: inMinutes(30), userId: EXTERNAL });
  await h.slack.waitFor('chat.postEphemeral');
  await settle();
  expect(scheduleCalls()).toHaveLength(0);
  expect(await outcomesOf(EXTERNAL)).toEqual(['refused:external']);
});

test('a member made a guest is refused at once when Slack says so (user_change), not after the cache lapses', async () => {
  const MEMBER = 'U0MEMBER9';
  h.slack.users.set(MEMBER, {});
  await h.submitSchedule({ policyId: 'dbp_member_1', at: inMinutes(30), userId: MEMBER });
  await h.slack.waitFor('chat.postMessage', 1);
  const asked = () => h.slack.callsTo('users.info').filter((c) => c.args.user === MEMBER).length;
  expect(asked()).toBe(1);

  // Made a guest in Slack. The bot keeps profiles for minutes: until Slack says so, it asks nobody.
  h.slack.users.set(MEMBER, { is_restricted: true });
  await h.submitSchedule({ policyId: 'dbp_member_2', at: inMinutes(30), userId: MEMBER });
  await h.slack.waitFor('chat.postMessage', 2);
  expect(asked()).toBe(1);

  // Slack's user_change: someone else's drops nothing of this member; theirs does.
  const changed = async (id: string) => {
    const event = { type: 'user_change', user: { id, team_id: FAKE_TEAM_ID }, event_ts: '1700000000.000200' };
    const res = await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, eventBody(event), {
      contentType: 'application/json',
    });
    expect(res.status).toBe(200);
  };
  await changed('U0SOMEONE');
  await h.submitSchedule({ policyId: 'dbp_member_3', at: inMinutes(30), userId: MEMBER });
  await h.slack.waitFor('chat.postMessage', 3);
  expect(asked()).toBe(1);
  await changed(MEMBER);
  const before = h.slack.callsTo('chat.postEphemeral').length;
  await h.submitSchedule({ policyId: 'dbp_member_4', at: inMinutes(30), userId: MEMBER });
  const notes = await h.slack.waitFor('chat.postEphemeral', before + 1);
  expect(JSON.stringify(notes.at(-1)?.args)).toContain('Guests may not schedule');
  expect(asked()).toBe(2);
  expect((await outcomesOf(MEMBER)).sort()).toEqual(['refused:guest', 'scheduled', 'scheduled', 'scheduled']);
  expect(scheduleCalls().map((c) => c.rawBody + JSON.stringify(c.query))).toEqual([
    expect.stringContaining('dbp_member_1'),
    expect.stringContaining('dbp_member_2'),
    expect.stringContaining('dbp_member_3'),
  ]);
});

test('an admin of another organization is no admin here: cannot change access or open the admin modals', async () => {
  await submitAccess([ACCESS_VIEW.allowExternalValue], EXTERNAL_ADMIN);
  const [update] = await h.slack.waitFor('views.update');
  expect(JSON.stringify(update?.args.view)).toContain('Only workspace admins and owners');
  expect(await h.bot.store.kv.get('access:T0FAKE001')).toBeUndefined();

  await h.command({ text: 'token', user_id: EXTERNAL_ADMIN });
  const updates = await h.slack.waitFor('views.update', 2);
  expect(JSON.stringify(updates[1]?.args.view)).toContain('Only workspace admins and owners');
});

test('org-wide installs use the organization role, not the workspace role', () => {
  const base = {
    team_id: 'T0WS00001',
    enterprise_user: { enterprise_id: 'E0ORG0001', teams: ['T0WS00001'] },
  };
  const workspaceAdmin = { ...base, is_admin: true };
  const orgAdmin = { ...base, enterprise_user: { ...base.enterprise_user, is_admin: true } };
  expect(profileOf(workspaceAdmin, 'E0ORG0001')).toMatchObject({ isAdmin: false, external: false });
  expect(profileOf(orgAdmin, 'E0ORG0001')).toMatchObject({ isAdmin: true, external: false });
  // On Grid, team_id may be the organization's ID: membership counts through the enterprise.
  expect(profileOf({ ...base, team_id: 'E0ORG0001' }, 'T0WS00001')).toMatchObject({ external: false });
  expect(profileOf({ team_id: 'T0OTHER01', is_admin: true }, 'T0WS00001')).toMatchObject({
    isAdmin: false,
    external: true,
  });
  expect(profileOf({ team_id: 'T0WS00001', is_stranger: true }, 'T0WS00001')).toMatchObject({
    external: true,
  });
});

const STRANGER = 'U0STRANG1';
const press = (actionId: string, value: string, userId: string) =>
  postSigned(
    `${h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    blockActionBody({ actionId, value, userId, channelId: CHANNEL, responseUrl: h.slack.responseUrl('btn') }),
  );

/** Schedules `policyId` as the admin and trashes it, so that its Restore button has something to restore. */
async function scheduledAndTrashed(): Promise<string> {
  const [policy] = h.katapult.policies();
  if (!policy) throw new Error('the fake has no policies');
  await h.submitSchedule({ policyId: policy.id, at: inMinutes(30), userId: ADMIN });
  await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();
  h.katapult.trashPolicy(policy.id, inMinutes(60 * 24));
  h.slack.reset();
  return policy.id;
}

test('guests, strangers and external people are refused at the command and the Restore and Reschedule buttons', async () => {
  h.slack.users.set(STRANGER, { is_stranger: true });
  const policyId = await scheduledAndTrashed();
  const cases = [
    [GUEST, 'guest', 'Guests may not schedule'],
    [SINGLE_CHANNEL_GUEST, 'guest', 'Guests may not schedule'],
    [EXTERNAL, 'external', 'people from other organizations may not'],
    [STRANGER, 'external', 'people from other organizations may not'],
  ] as const;
  for (const [user, reason, text] of cases) {
    const updates = h.slack.callsTo('views.update').length;
    const notes = h.slack.callsTo('response_url').length;
    await h.command({ text: `${policyId} in 2 hours`, user_id: user });
    const afterCommand = await h.slack.waitFor('views.update', updates + 1);
    expect(JSON.stringify(afterCommand.at(-1)?.args.view)).toContain(text);
    await press(ACTIONS.reschedule, policyId, user);
    const afterReschedule = await h.slack.waitFor('views.update', updates + 2);
    expect(JSON.stringify(afterReschedule.at(-1)?.args.view)).toContain(text);
    await press(ACTIONS.restore, policyId, user);
    const answers = await h.slack.waitFor('response_url', notes + 1);
    expect(JSON.stringify(answers.at(-1)?.args)).toContain(text);
    // Three refusals of one person within minutes: one history entry with a count (Approve: approvals.test.ts).
    await h.bot.idle();
    const entries = (await auditTrailOf(h)).filter((e) => e.user === user);
    expect(entries.map((e) => [e.outcome, e.count])).toEqual([[`refused:${reason}`, 3]]);
  }
  await settle();
  expect(h.katapult.requests.filter((r) => r.path.includes('restore'))).toHaveLength(0);
  expect(scheduleCalls()).toHaveLength(1);
  expect(h.slack.callsTo('chat.postMessage')).toHaveLength(0);
});

test('after an admin allows them, guests and external people may use the command and Restore', async () => {
  const policyId = await scheduledAndTrashed();
  await submitAccess([ACCESS_VIEW.allowGuestsValue, ACCESS_VIEW.allowExternalValue]);
  await h.slack.waitFor('views.update');
  for (const user of [GUEST, EXTERNAL]) {
    const opened = h.slack.callsTo('views.open').length;
    await h.command({ text: `${policyId} in 2 hours`, user_id: user });
    const views = await h.slack.waitFor('views.open', opened + 1);
    expect(JSON.stringify(views.at(-1)?.args.view)).toContain(SCHEDULE_VIEW.callbackId);
  }
  await h.bot.idle();
  expect(await outcomesOf(GUEST)).toEqual([]);
  expect(await outcomesOf(EXTERNAL)).toEqual([]);
  await press(ACTIONS.restore, policyId, GUEST);
  await h.slack.waitFor('chat.postMessage');
  expect(await outcomesOf(GUEST)).toEqual(['restored']);
});
