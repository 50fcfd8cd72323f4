/** The OAuth install flow, and the events Slack sends when an installation ends, against a harness. */
import { type Harness, SIGNING_SECRET } from '../../support/harness.js';
import { eventBody, postSigned } from '../../support/slack-requests.js';

/** Installs the app in `team` through the install page and the redirect; the fake hands out its bot token. */
export async function installInTeam(h: Harness, team: string): Promise<void> {
  const before = h.slack.callsTo('oauth.v2.access').length;
  const page = await fetch(`${h.baseUrl}/slack/install`);
  expect(page.status).toBe(200);
  const state = (await page.text()).match(/state=([^&"]+)/)?.[1];
  expect(state).toBeTruthy();
  const cookie = page.headers.get('set-cookie')?.split(';')[0] ?? '';
  const done = await fetch(`${h.baseUrl}/slack/oauth_redirect?code=code-${team}&state=${state}`, {
    headers: { cookie },
  });
  expect(done.status).toBe(200);
  expect(h.slack.callsTo('oauth.v2.access')).toHaveLength(before + 1);
}

/** Posts `app_uninstalled`, or `tokens_revoked` of the bot, from `team`, and waits until the bot has forgotten it. */
export async function endInstallation(h: Harness, team: string, how: 'app_uninstalled' | 'tokens_revoked') {
  const forgotten = () => h.logs.filter((l) => l.includes('"workspace_forgotten"')).length;
  const before = forgotten();
  const event =
    how === 'app_uninstalled'
      ? { type: 'app_uninstalled', event_ts: '1700000000.000100' }
      : { type: 'tokens_revoked', tokens: { bot: ['UBOT00001'] }, event_ts: '1700000000.000100' };
  const res = await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, eventBody(event, team), {
    contentType: 'application/json',
  });
  expect(res.status).toBe(200);
  for (let i = 0; i < 250 && forgotten() === before; i++) await new Promise((r) => setTimeout(r, 20));
  expect(forgotten()).toBe(before + 1);
}
