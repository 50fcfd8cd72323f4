/**
 * OAuth: the Web clients the workers post with (outside a Slack request) follow the installation.
 * A reinstall with a new bot token, on this replica or on another one (only the store changes), is
 * used from the next post on; once the app is uninstalled or its bot token revoked, nothing more
 * goes to Slack with the old token, Bolt's own client for the workspace is dropped, and a command
 * from the workspace is told the app is not installed.
 */
import { Redactor } from '../../src/log.js';
import { createInstallationStore } from '../../src/slack/platform/installation-store.js';
import { NOT_INSTALLED } from '../../src/slack/platform/workspace-guard.js';
import { SecretBox } from '../../src/store/crypto.js';
import { FAKE_TEAM_ID, type SlackCall } from '../../support/fakes/slack-api.js';
import {
  type Harness,
  inMinutes,
  KATAPULT_TOKEN,
  SIGNING_SECRET,
  setWorkspaceToken,
  startHarness,
} from '../../support/harness.js';
import { endInstallation, installInTeam } from '../helpers/oauth-install.js';
import { leaksOf } from '../helpers/secrets.js';

const OAUTH_ENV = {
  SLACK_CLIENT_ID: '123.456',
  SLACK_CLIENT_SECRET: 'client-secret-abcdef',
  SLACK_STATE_SECRET: 'state-secret-0123456789',
};
// Installed in the harness's own team, so that its requests (commands, submissions) come from it.
const TEAM = FAKE_TEAM_ID;
const FIRST_TOKEN = `xoxb-installed-${TEAM}-secret`;
const SECOND_TOKEN = `xoxb-reinstalled-${TEAM}-secret`;

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ env: OAUTH_ENV });
  await installInTeam(h, TEAM);
  await setWorkspaceToken(h);
});
afterEach(async () => {
  const leaks = leaksOf(h, [
    FIRST_TOKEN,
    SECOND_TOKEN,
    KATAPULT_TOKEN,
    SIGNING_SECRET,
    OAUTH_ENV.SLACK_CLIENT_SECRET,
    h.encryptionKey,
  ]);
  await h.stop();
  expect(leaks).toEqual([]);
});

/** Submits a schedule and returns the channel post its worker makes, once all its work is done. */
async function scheduledPost(policyId: string): Promise<SlackCall | undefined> {
  const before = h.slack.callsTo('chat.postMessage').length;
  const res = await h.submitSchedule({ policyId, at: inMinutes(60) });
  expect(res.status).toBe(200);
  const post = (await h.slack.waitFor('chat.postMessage', before + 1))[before];
  await h.bot.idle();
  return post;
}

/**
 * Stores an installation of TEAM with `token` as another replica would after its OAuth callback:
 * through its own installation store over the same store and key, so this bot hears nothing of it.
 */
async function installThroughAnotherReplica(token: string): Promise<void> {
  const otherReplica = createInstallationStore(
    h.bot.store.kv,
    new SecretBox(Buffer.from(h.encryptionKey, 'base64'), []),
    new Redactor(),
  );
  await otherReplica.storeInstallation({
    team: { id: TEAM, name: 'Fake Team' },
    enterprise: undefined,
    user: { id: 'U0INSTALL', token: undefined, scopes: undefined },
    tokenType: 'bot',
    isEnterpriseInstall: false,
    appId: 'A0FAKE001',
    authVersion: 'v2',
    bot: { scopes: ['commands', 'chat:write'], token, userId: 'UBOT00001', id: 'BFAKE0001' },
  });
}

/** Whether Bolt keeps a pool of clients for the workspace (src/slack/platform/client-pools.ts). */
const boltKeeps = (team: string) => team in (h.bot.app as unknown as { clients: object }).clients;

test('reinstalled here with a new bot token: the workers post with the new token from then on', async () => {
  expect((await scheduledPost('dbp_before'))?.token).toBe(FIRST_TOKEN);
  h.slack.botTokenFor = () => SECOND_TOKEN;
  await installInTeam(h, TEAM);
  // Bolt's client for the old token is dropped with the workers' (it would never be used again).
  expect(boltKeeps(TEAM)).toBe(false);
  const from = h.slack.calls.length;
  expect((await scheduledPost('dbp_after'))?.token).toBe(SECOND_TOKEN);
  expect(h.slack.calls.slice(from).filter((c) => c.token === FIRST_TOKEN)).toEqual([]);
});

test('reinstalled through another replica (only the shared store changes): the next post uses the new token', async () => {
  expect((await scheduledPost('dbp_before'))?.token).toBe(FIRST_TOKEN);
  await installThroughAnotherReplica(SECOND_TOKEN);
  const from = h.slack.calls.length;
  expect((await scheduledPost('dbp_after'))?.token).toBe(SECOND_TOKEN);
  expect(h.slack.calls.slice(from).filter((c) => c.token === FIRST_TOKEN)).toEqual([]);
});

test.each(['app_uninstalled', 'tokens_revoked'] as const)(
  '%s: the workspace’s clients are dropped, a command is told the app is not installed, and a reinstall elsewhere is used',
  async (how) => {
    const help = await h.command({ text: 'help' });
    expect(JSON.stringify(help.json)).toContain('/katapult token');
    expect(boltKeeps(TEAM)).toBe(true);
    expect((await scheduledPost('dbp_before'))?.token).toBe(FIRST_TOKEN);

    await endInstallation(h, TEAM, how);
    const from = h.slack.calls.length;
    expect(boltKeeps(TEAM)).toBe(false);
    const res = await h.command({ text: 'help' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ response_type: 'ephemeral', text: NOT_INSTALLED });

    // Installed again through another replica, with a new token: this bot heard only the uninstall.
    await installThroughAnotherReplica(SECOND_TOKEN);
    await setWorkspaceToken(h);
    expect((await scheduledPost('dbp_after'))?.token).toBe(SECOND_TOKEN);
    expect(h.slack.calls.slice(from).filter((c) => c.token === FIRST_TOKEN)).toEqual([]);
  },
);
