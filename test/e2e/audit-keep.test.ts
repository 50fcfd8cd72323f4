/**
 * What the audit trail keeps, end to end: `export-audit` exports everything `/katapult history`
 * shows (activity, refusals, merged failures, admin entries); an uninstall in single-workspace mode
 * keeps the whole trail and says so (a log line, an `uninstall` admin entry); with OAuth it
 * forgets the workspace's activity but keeps its admin trail, which a reinstall shows again.
 */
import { runCli } from '../../src/cli.js';
import { FAKE_TEAM_ID } from '../../support/fakes/slack-api.js';
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
import { endInstallation, installInTeam } from '../helpers/oauth-install.js';
import { leaksOf } from '../helpers/secrets.js';

let h: Harness;
afterEach(async () => {
  const leaks = leaksOf(h, [KATAPULT_TOKEN, BOT_TOKEN, SIGNING_SECRET, h.encryptionKey]);
  await h.stop();
  expect(leaks).toEqual([]);
});

/** `/katapult <text>` as ADMIN: the reply's text and blocks, as one string. */
async function commandReply(text: string): Promise<string> {
  const before = h.slack.callsTo('response_url').length;
  await h.command({ text, user_id: ADMIN, response_url: h.slack.responseUrl(text.replace(/\W/g, '_')) });
  const replies = await h.slack.waitFor('response_url', before + 1);
  await h.bot.idle();
  return JSON.stringify(replies.at(-1)?.args);
}

/** A refusal (a submission while frozen), two failures of one form, a success, a freeze and its end. */
async function someOfEverything(): Promise<void> {
  await commandReply('freeze');
  await h.submitSchedule({ policyId: 'dbp_keep_refused', at: inMinutes(30), userId: ADMIN });
  await h.bot.idle();
  await commandReply('unfreeze');
  const before = h.slack.callsTo('chat.postMessage').length;
  await h.submitSchedule({
    picked: ['missing_keep_1', 'missing_keep_2'],
    at: inMinutes(30),
    userId: ADMIN,
  });
  await h.slack.waitFor('chat.postMessage', before + 1);
  await h.submitSchedule({ policyId: 'dbp_keep_done', at: inMinutes(30), userId: ADMIN });
  await h.slack.waitFor('chat.postMessage', before + 2);
  await h.bot.idle();
}

async function exportAudit(): Promise<
  { action: string; outcome: string; policyId: string | null; count?: number }[]
> {
  const lines: string[] = [];
  const out = { line: (text: string) => lines.push(text) };
  const env = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: h.slack.apiUrl,
    KATAPULT_API_URL: h.katapult.baseUrl,
    DATA_DIR: h.dataDir,
    TOKEN_ENCRYPTION_KEY: h.encryptionKey,
  };
  expect(await runCli(['export-audit', '--workspace', FAKE_TEAM_ID], env, out, out)).toBe(0);
  return lines.map((l) => JSON.parse(l));
}

const kinds = (entries: { action: string; outcome: string; count?: number }[]) =>
  entries.map((e) => `${e.action}:${e.outcome}${e.count ? `×${e.count}` : ''}`);

describe('single workspace', () => {
  beforeEach(async () => {
    h = await startHarness();
    await setWorkspaceToken(h);
  });

  test('export-audit exports what /katapult history shows: activity, refusals, merged failures, admin entries', async () => {
    await someOfEverything();
    const history = await commandReply('history');
    for (const shown of ['refused:frozen', 'missing_keep_2', 'dbp_keep_done', 'froze scheduling']) {
      expect(history).toContain(shown);
    }
    const exported = kinds(await exportAudit());
    expect(exported).toEqual(
      expect.arrayContaining([
        'token_set:saved',
        'freeze:frozen',
        'schedule:refused:frozen×1',
        'freeze:unfrozen',
        'schedule:disk_backup_policy_not_found×2',
        'schedule:scheduled',
      ]),
    );
  });

  test('app_uninstalled keeps the whole trail, says so in the log and as an admin entry', async () => {
    await someOfEverything();
    await endInstallation(h, FAKE_TEAM_ID, 'app_uninstalled');
    expect(h.logs.some((l) => l.includes('"workspace_trail_kept"'))).toBe(true);
    // The workspace's settings went; its trail did not.
    expect(await h.bot.store.kv.get(`token:${FAKE_TEAM_ID}`)).toBeUndefined();
    const exported = kinds(await exportAudit());
    expect(exported).toEqual(
      expect.arrayContaining([
        'token_set:saved',
        'schedule:refused:frozen×1',
        'schedule:disk_backup_policy_not_found×2',
        'schedule:scheduled',
        'uninstall:trail_kept',
      ]),
    );
    const history = await commandReply('history');
    expect(history).toContain('dbp_keep_done');
    const admin = await commandReply('history admin');
    expect(admin).toContain('uninstalled');
    expect(admin).toContain('set the Katapult token');
  });
});

describe('OAuth', () => {
  const OAUTH_ENV = {
    SLACK_CLIENT_ID: '123.456',
    SLACK_CLIENT_SECRET: 'client-secret-abcdef',
    SLACK_STATE_SECRET: 'state-secret-0123456789',
  };

  beforeEach(async () => {
    h = await startHarness({ env: OAUTH_ENV });
    await installInTeam(h, FAKE_TEAM_ID);
    await setWorkspaceToken(h);
  });

  test('app_uninstalled forgets the activity but keeps the admin trail, shown again after a reinstall', async () => {
    await someOfEverything();
    await endInstallation(h, FAKE_TEAM_ID, 'app_uninstalled');
    await installInTeam(h, FAKE_TEAM_ID);
    const admin = await commandReply('history admin');
    expect(admin).toContain('set the Katapult token');
    expect(admin).toContain('froze scheduling');
    expect(admin).toContain('uninstalled');
    const history = await commandReply('history');
    expect(history).not.toContain('dbp_keep_done');
    expect(history).not.toContain('missing_keep_');
  });
});
