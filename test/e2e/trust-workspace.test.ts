/**
 * Only the installed workspace: signed requests from another team are answered with nothing done,
 * logged (rate-limited), not audited and not stored. Request timestamps from the future are refused.
 */
import { ACTIONS, SCHEDULE_VIEW } from '../../src/slack/ids.js';
import { isInstalledWorkspace, NOT_INSTALLED } from '../../src/slack/platform/workspace-guard.js';
import { FAKE_TEAM_ID, startFakeSlack } from '../../support/fakes/slack-api.js';
import {
  CHANNEL,
  inMinutes,
  MEMBER,
  SIGNING_SECRET,
  signedMetadata,
  startHarness,
} from '../../support/harness.js';
import { blockActionBody, postSigned, viewSubmissionBody } from '../../support/slack-requests.js';
import { postAllFromForeignTeam } from '../helpers/foreign-requests.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const shared = useSharedHarness();
const OTHER_TEAM = 'T0OTHER01';
/** Lets the work the last request started finish (Bot.idle), so that what did not happen can be checked. */
const settle = async () => expect(await shared.h.bot.idle()).toBe(true);
const katapultCalls = () => shared.h.katapult.requests.length;
const slackWrites = () =>
  shared.h.slack.calls.filter((c) => /^(chat\.|views\.|response_url)/.test(c.method)).length;

test('a signed command from another team: a short note, no Katapult call, no post, nothing stored', async () => {
  const { h } = shared;
  const res = await h.command({ text: 'dbp_foreign1 in 2 hours', team_id: OTHER_TEAM });
  expect(res.status).toBe(200);
  expect(JSON.stringify(res.json)).toContain(NOT_INSTALLED);
  await settle();
  expect(katapultCalls()).toBe(0);
  expect(slackWrites()).toBe(0);
  expect(h.slack.callsTo('users.info')).toHaveLength(0);
  expect(await h.bot.store.audit.recent(OTHER_TEAM, 10)).toEqual([]);
});

test('a signed submission from another team schedules nothing and posts nothing', async () => {
  const { h } = shared;
  const body = viewSubmissionBody({
    callbackId: SCHEDULE_VIEW.callbackId,
    teamId: OTHER_TEAM,
    userId: MEMBER,
    privateMetadata: signedMetadata(h.encryptionKey),
    values: {
      [SCHEDULE_VIEW.policyBlock]: {
        [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: 'dbp_foreign2' },
      },
      [SCHEDULE_VIEW.whenBlock]: {
        [SCHEDULE_VIEW.whenAction]: { type: 'datetimepicker', selected_date_time: inMinutes(60) },
      },
    },
  });
  const res = await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, body);
  expect(res.status).toBe(200);
  expect(res.text).toBe('');
  await settle();
  expect(katapultCalls()).toBe(0);
  expect(slackWrites()).toBe(0);
  expect(await h.bot.store.audit.recent(OTHER_TEAM, 10)).toEqual([]);
  expect(await h.bot.store.audit.recent('T0FAKE001', 10)).not.toContainEqual(
    expect.objectContaining({ policyId: 'dbp_foreign2' }),
  );
});

test('refusals are logged at most once a minute per workspace', async () => {
  const { h } = shared;
  const before = h.logs.filter((l) => l.includes('"workspace_refused"')).length;
  for (let i = 0; i < 3; i++) await h.command({ text: 'help', team_id: 'T0THIRD01' });
  await settle();
  expect(h.logs.filter((l) => l.includes('"workspace_refused"')).length - before).toBe(1);
});

test('a request timestamp 10 minutes in the future gets 401 and does nothing', async () => {
  const { h } = shared;
  const res = await h.command(
    { text: 'dbp_future1 in 2 hours' },
    { timestamp: Math.floor(Date.now() / 1000) + 600 },
  );
  expect(res.status).toBe(401);
  await settle();
  expect(katapultCalls()).toBe(0);
  expect(slackWrites()).toBe(0);
});

test('org-wide installs accept their enterprise, team installs their team', () => {
  const team = { teamId: 'T1', enterpriseId: 'E1', isEnterpriseInstall: false };
  const org = { teamId: null, enterpriseId: 'E1', isEnterpriseInstall: true };
  expect(isInstalledWorkspace(team, { teamId: 'T1', enterpriseId: 'E1', isEnterpriseInstall: false })).toBe(
    true,
  );
  expect(isInstalledWorkspace(team, { teamId: 'T2', enterpriseId: 'E1', isEnterpriseInstall: false })).toBe(
    false,
  );
  expect(isInstalledWorkspace(org, { teamId: 'T2', enterpriseId: 'E1', isEnterpriseInstall: true })).toBe(
    true,
  );
  expect(isInstalledWorkspace(org, { teamId: 'T2', enterpriseId: 'E2', isEnterpriseInstall: true })).toBe(
    false,
  );
  expect(isInstalledWorkspace(org, { teamId: 'T1', isEnterpriseInstall: false })).toBe(false);
});

/** A button on a modal (the policy field's Enter, the picker), with the modal's signed metadata. */
function modalActionBody(teamId: string, metadata: string, actionId: string, value: string): string {
  const payload = {
    type: 'block_actions',
    team: { id: teamId, domain: 'other' },
    user: { id: MEMBER, username: 'alice', name: 'alice', team_id: teamId },
    api_app_id: 'A0FAKE001',
    token: 'deprecated-verification-token',
    trigger_id: `${Date.now()}.trigger`,
    container: { type: 'view', view_id: 'VMODAL001' },
    view: {
      id: 'VMODAL001',
      type: 'modal',
      callback_id: SCHEDULE_VIEW.callbackId,
      private_metadata: metadata,
      state: { values: {} },
      hash: 'h',
    },
    actions: [{ type: 'plain_text_input', action_id: actionId, block_id: 'b1', value, action_ts: '1.1' }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

test('signed button clicks and App Home events from another team do nothing: no call, no post, nothing stored', async () => {
  const { h } = shared;
  const events = `${h.baseUrl}/slack/events`;
  const onMessage = [ACTIONS.restore, ACTIONS.approve, ACTIONS.deny, ACTIONS.reschedule];
  const clicks = [
    ...onMessage.map((actionId) =>
      blockActionBody({ actionId, value: 'dbp_foreign3', teamId: OTHER_TEAM, channelId: CHANNEL }),
    ),
    blockActionBody({ actionId: ACTIONS.openSchedule, value: 'x', teamId: OTHER_TEAM }),
    blockActionBody({ actionId: ACTIONS.homePage, value: '0', teamId: OTHER_TEAM }),
    modalActionBody(OTHER_TEAM, signedMetadata(h.encryptionKey), SCHEDULE_VIEW.policyAction, 'dbp_foreign3'),
  ];
  await postAllFromForeignTeam(events, clicks, { teamId: OTHER_TEAM, user: MEMBER });
  await settle();
  expect(katapultCalls()).toBe(0);
  expect(slackWrites()).toBe(0);
  expect(h.slack.callsTo('users.info')).toHaveLength(0);
  expect(await h.bot.store.audit.recent(OTHER_TEAM, 10)).toEqual([]);
  expect(await h.bot.store.audit.recent(FAKE_TEAM_ID, 10)).not.toContainEqual(
    expect.objectContaining({ policyId: 'dbp_foreign3' }),
  );
});

test('an org-wide install answers its enterprise’s workspaces and no other enterprise', async () => {
  const slack = await startFakeSlack();
  slack.enterpriseId = 'E0ORG0001';
  const h = await startHarness({ slack });
  try {
    const ours = await h.command({ text: 'help', team_id: 'T0WS00002', enterprise_id: 'E0ORG0001' });
    expect(ours.status).toBe(200);
    expect(JSON.stringify(ours.json)).not.toContain(NOT_INSTALLED);
    expect(JSON.stringify(ours.json)).toContain('/katapult');
    for (const fields of [
      { team_id: 'T0WS00003', enterprise_id: 'E0OTHER01' },
      // The team auth.test named, but not as part of the enterprise's install.
      { team_id: slack.teamId },
    ]) {
      const res = await h.command({ text: 'dbp_foreign4 in 2 hours', ...fields });
      expect(JSON.stringify(res.json)).toContain(NOT_INSTALLED);
    }
    const click = blockActionBody({
      actionId: ACTIONS.restore,
      value: 'dbp_foreign4',
      teamId: 'T0WS00003',
      channelId: CHANNEL,
    });
    expect((await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, click)).text).toBe('');
    await settle();
    expect(h.katapult.requests).toHaveLength(0);
    expect(slack.calls.filter((c) => c.method !== 'auth.test')).toHaveLength(0);
  } finally {
    await h.stop();
    await slack.close();
  }
});
