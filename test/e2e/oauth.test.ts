/**
 * Multi-workspace distribution: the OAuth install flow against the fake Slack API, a command from
 * the new workspace answered with that workspace's own bot token, and uninstall forgetting it.
 */

import { TOKEN_VIEW } from '../../src/slack/ids.js';
import {
  type Harness,
  inMinutes,
  KATAPULT_TOKEN,
  SIGNING_SECRET,
  startHarness,
} from '../../support/harness.js';
import { commandBody, postSigned, viewSubmissionBody } from '../../support/slack-requests.js';
import { leaksOf } from '../helpers/secrets.js';

const TEAM = 'T0NEW0001';
const INSTALLED_TOKEN = `xoxb-installed-${TEAM}-secret`;
const OAUTH_ENV = {
  SLACK_CLIENT_ID: '123.456',
  SLACK_CLIENT_SECRET: 'client-secret-abcdef',
  SLACK_STATE_SECRET: 'state-secret-0123456789',
};

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ env: OAUTH_ENV });
  h.slack.users.set('U0INSTALL', { is_admin: true });
});
afterEach(async () => {
  const leaks = leaksOf(h, [
    INSTALLED_TOKEN,
    KATAPULT_TOKEN,
    SIGNING_SECRET,
    OAUTH_ENV.SLACK_CLIENT_SECRET,
    h.encryptionKey,
  ]);
  await h.stop();
  expect(leaks).toEqual([]);
});

async function install(): Promise<void> {
  const page = await fetch(`${h.baseUrl}/slack/install`);
  expect(page.status).toBe(200);
  const html = await page.text();
  const state = html.match(/state=([^&"]+)/)?.[1];
  expect(state).toBeTruthy();
  const cookie = page.headers.get('set-cookie')?.split(';')[0] ?? '';
  const done = await fetch(`${h.baseUrl}/slack/oauth_redirect?code=code-${TEAM}&state=${state}`, {
    headers: { cookie },
  });
  expect(done.status).toBe(200);
  expect(h.slack.callsTo('oauth.v2.access')).toHaveLength(1);
}

const events = () => `${h.baseUrl}/slack/events`;

test('the install page links to Slack with a state, and the callback stores the installation', async () => {
  await install();
  expect(h.slack.callsTo('oauth.v2.access')[0]?.args).toMatchObject({
    code: `code-${TEAM}`,
    client_id: '123.456',
  });
  const raw = JSON.stringify(await h.bot.store.kv.get(`installation:${TEAM}`));
  expect(raw).toContain('sealed');
  expect(raw).not.toContain(INSTALLED_TOKEN);
});

test('a callback without the state cookie is refused and stores nothing', async () => {
  const res = await fetch(`${h.baseUrl}/slack/oauth_redirect?code=code-${TEAM}&state=forged`);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(await h.bot.store.kv.get(`installation:${TEAM}`)).toBeUndefined();
});

test('after installing, a command from that workspace uses its own bot token; the Katapult token flow works', async () => {
  await install();
  await postSigned(
    events(),
    SIGNING_SECRET,
    commandBody({ team_id: TEAM, user_id: 'U0INSTALL', text: 'token' }),
  );
  const [open] = await h.slack.waitFor('views.open');
  expect(open?.token).toBe(INSTALLED_TOKEN);

  await postSigned(
    events(),
    SIGNING_SECRET,
    viewSubmissionBody({
      callbackId: TOKEN_VIEW.callbackId,
      teamId: TEAM,
      userId: 'U0INSTALL',
      values: {
        [TOKEN_VIEW.tokenBlock]: {
          [TOKEN_VIEW.tokenAction]: { type: 'plain_text_input', value: KATAPULT_TOKEN },
        },
      },
    }),
  );
  await h.slack.waitFor('views.update', 2);
  await h
    .submitSchedule({ policyId: 'dbp_oauth', at: inMinutes(30), userId: 'U0INSTALL' })
    .catch(() => undefined);
  expect((await h.bot.store.kv.get(`token:${TEAM}`)) !== undefined).toBe(true);
});

test('app_uninstalled removes the workspace’s installation, Katapult token and access policy', async () => {
  await install();
  await h.bot.store.kv.set(`token:${TEAM}`, {
    sealed: 'x',
    last4: 'abcd',
    setBy: 'U',
    setAt: 1,
    organizationName: null,
  });
  await h.bot.store.kv.set(`access:${TEAM}`, {
    who: 'everyone',
    groupIds: [],
    channelIds: [],
    updatedBy: 'U',
    updatedAt: 1,
  });
  const event = {
    token: 'x',
    team_id: TEAM,
    api_app_id: 'A0FAKE001',
    event: { type: 'app_uninstalled', event_ts: '1700000000.000100' },
    type: 'event_callback',
    event_id: 'Ev0UNINSTALL',
    event_time: 1700000000,
  };
  const body = JSON.stringify(event);
  const ts = Math.floor(Date.now() / 1000);
  const { createHmac } = await import('node:crypto');
  const res = await fetch(events(), {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-Slack-Request-Timestamp': String(ts),
      'X-Slack-Signature': `v0=${createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`,
    },
    body,
  });
  expect(res.status).toBe(200);
  // The clean-up (installation first, then every store the workspace has) ends with its log line.
  expect(await h.bot.idle()).toBe(true);
  expect(await h.bot.store.kv.get(`installation:${TEAM}`)).toBeUndefined();
  expect(await h.bot.store.kv.get(`token:${TEAM}`)).toBeUndefined();
  expect(await h.bot.store.kv.get(`access:${TEAM}`)).toBeUndefined();
  expect(h.logs.some((l) => l.includes('workspace_forgotten'))).toBe(true);
});
