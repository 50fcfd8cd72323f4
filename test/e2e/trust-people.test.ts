/**
 * Only members: guests and people from other organizations (Slack Connect) are refused, even when
 * the workspace allows "everyone", until an admin allows them in `/katapult access`. Someone who is
 * an admin elsewhere is no admin here. Org-wide installs use the organization's admin role.
 */
import { ACCESS_VIEW } from '../../src/slack/ids.js';
import { profileOf } from '../../src/slack/users.js';
import {
  ADMIN,
  BOT_TOKEN,
  type Harness,
  inMinutes,
  KATAPULT_TOKEN,
  SIGNING_SECRET,
  setWorkspaceToken,
  startHarness,
} from '../../support/harness.js';
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
const settle = () => new Promise((r) => setTimeout(r, 300));
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
