/**
 * OAuth (multi-workspace): a signed request from a workspace whose installation the store does not
 * know is answered with nothing done, logged at most once a minute, and leaves nothing in the store.
 */
import { ACTIONS, SCHEDULE_VIEW } from '../../src/slack/ids.js';
import { NOT_INSTALLED } from '../../src/slack/platform/workspace-guard.js';
import {
  CHANNEL,
  type Harness,
  inMinutes,
  SIGNING_SECRET,
  signedMetadata,
  startHarness,
} from '../../support/harness.js';
import { blockActionBody, viewSubmissionBody } from '../../support/slack-requests.js';
import { postAllFromForeignTeam } from '../helpers/foreign-requests.js';
import { leaksOf } from '../helpers/secrets.js';

const OAUTH_ENV = {
  SLACK_CLIENT_ID: '123.456',
  SLACK_CLIENT_SECRET: 'client-secret-abcdef',
  SLACK_STATE_SECRET: 'state-secret-0123456789',
};
const STRANGER = 'T0NOTINST';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: OAUTH_ENV });
});
afterAll(async () => {
  const leaks = leaksOf(h, [SIGNING_SECRET, OAUTH_ENV.SLACK_CLIENT_SECRET, h.encryptionKey]);
  await h.stop();
  expect(leaks).toEqual([]);
});

test('commands from a workspace with no stored installation: nothing done, nothing stored, one log line', async () => {
  for (let i = 0; i < 3; i++) {
    const res = await h.command({ text: 'dbp_stranger in 2 hours', team_id: STRANGER });
    expect(res.status).toBe(200);
  }
  await h.bot.idle();
  expect(h.katapult.requests).toHaveLength(0);
  expect(h.slack.calls.filter((c) => c.method !== 'auth.test')).toHaveLength(0);
  expect(await h.bot.store.kv.get(`installation:${STRANGER}`)).toBeUndefined();
  expect(await h.bot.store.audit.recent(STRANGER, 10)).toEqual([]);
  const refusals = h.logs.filter((l) => l.includes('"workspace_refused"'));
  expect(refusals).toHaveLength(1);
  expect(refusals[0]).toContain(STRANGER);
  expect(h.logs.filter((l) => l.includes('Authorization of incoming event'))).toEqual([]);
  expect(h.logs.filter((l) => l.includes('"level":"error"'))).toEqual([]);
});

test('a submission, button clicks and App Home from a workspace with no stored installation: nothing done', async () => {
  const other = 'T0NOTINS2';
  const events = `${h.baseUrl}/slack/events`;
  const bodies = [
    viewSubmissionBody({
      callbackId: SCHEDULE_VIEW.callbackId,
      teamId: other,
      privateMetadata: signedMetadata(h.encryptionKey),
      values: {
        [SCHEDULE_VIEW.policyBlock]: {
          [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: 'dbp_stranger2' },
        },
        [SCHEDULE_VIEW.whenBlock]: {
          [SCHEDULE_VIEW.whenAction]: { type: 'datetimepicker', selected_date_time: inMinutes(60) },
        },
      },
    }),
    ...[ACTIONS.restore, ACTIONS.approve, ACTIONS.reschedule].map((actionId) =>
      blockActionBody({ actionId, value: 'dbp_stranger2', teamId: other, channelId: CHANNEL }),
    ),
  ];
  await postAllFromForeignTeam(events, bodies, { teamId: other, user: 'U0ALICE01' });
  await h.bot.idle();
  expect(h.katapult.requests).toHaveLength(0);
  expect(h.slack.calls.filter((c) => c.method !== 'auth.test')).toHaveLength(0);
  expect(await h.bot.store.kv.get(`installation:${other}`)).toBeUndefined();
  expect(await h.bot.store.audit.recent(other, 10)).toEqual([]);
  expect(h.logs.filter((l) => l.includes('"workspace_refused"') && l.includes(other))).toHaveLength(1);
});

test('the person who typed the command is told the app is not installed (a team, an org-wide install)', async () => {
  for (const fields of [{ team_id: 'T0NOTINS3' }, { team_id: 'T0NOTINS4', enterprise_id: 'E0NOTINS1' }]) {
    const res = await h.command({ text: 'dbp_stranger in 2 hours', ...fields });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ response_type: 'ephemeral', text: NOT_INSTALLED });
  }
  await h.bot.idle();
  expect(h.katapult.requests).toHaveLength(0);
  expect(h.slack.calls.filter((c) => c.method !== 'auth.test')).toHaveLength(0);
  expect(await h.bot.store.kv.get('installation:E0NOTINS1')).toBeUndefined();
  expect(h.logs.filter((l) => l.includes('"workspace_refused"') && l.includes('T0NOTINS3'))).toHaveLength(1);
  expect(h.logs.filter((l) => l.includes('"workspace_refused"') && l.includes('E0NOTINS1'))).toHaveLength(1);
});
