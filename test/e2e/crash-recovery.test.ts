/**
 * Nothing accepted is lost: the real entry point in child processes, killed with SIGKILL after the
 * ack while Katapult holds the schedule call open. Another process on the same store (a restart of
 * the same one on SQLite; a restart, or a second replica already running, on Redis and PostgreSQL)
 * takes the request over and finishes it: exactly one success post, within 60 s.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SCHEDULE_VIEW } from '../../src/slack/ids.js';
import { type FakeKatapult, startFakeKatapult } from '../../support/fakes/katapult-api.js';
import { type FakeSlack, startFakeSlack } from '../../support/fakes/slack-api.js';
import {
  ADMIN,
  BOT_TOKEN,
  CHANNEL,
  KATAPULT_TOKEN,
  SIGNING_SECRET,
  signedMetadata,
} from '../../support/harness.js';
import { postSigned, viewSubmissionBody } from '../../support/slack-requests.js';
import { type BotProcess, startBotProcess } from '../helpers/bot-process.js';
import { type Kind, privateStore } from '../helpers/private-store.js';
import { describeWithService } from '../helpers/services.js';

function crashSuite(kind: Kind, replicas: boolean): void {
  const team = `TC${process.pid.toString(36)}${randomBytes(3).toString('hex')}`.toUpperCase();
  let slack: FakeSlack;
  let katapult: FakeKatapult;
  let dir: string;
  let env: Record<string, string>;
  let store: Awaited<ReturnType<typeof privateStore>> | undefined;
  const bots: BotProcess[] = [];

  beforeAll(async () => {
    slack = await startFakeSlack();
    katapult = await startFakeKatapult();
    slack.teamId = team; // the installed workspace: requests from any other team are refused
    slack.users.set(ADMIN, { is_admin: true });
    dir = await mkdtemp(path.join(tmpdir(), 'katapult-chatops-crash-'));
    store = await privateStore(kind, dir);
    env = {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      KATAPULT_API_URL: katapult.baseUrl,
      KATAPULT_API_TOKEN: KATAPULT_TOKEN,
      STORE_URL: store.url,
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      KATAPULT_DEFAULT_ACCESS: 'admins',
      REQUEST_LEASE_MS: '2000',
      REQUEST_SWEEP_MS: '300',
      PORT: '0',
    };
  });
  afterAll(async () => {
    for (const b of bots) b.kill();
    await Promise.all(bots.map((b) => b.exited));
    await Promise.all([slack?.close(), katapult?.close()]);
    await store?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = async () => {
    const bot = startBotProcess(env, dir);
    bots.push(bot);
    return { bot, port: await bot.port() };
  };

  test(`killed mid-call, the request is finished by ${replicas ? 'the other replica' : 'the restarted process'}: one post`, async () => {
    const first = await start();
    const other = replicas ? await start() : null;
    katapult.latencyMs = 60_000; // the schedule call is held open until the process dies
    const policyId = `dbp_crash_${kind}`;
    const res = await postSigned(
      `http://127.0.0.1:${first.port}/slack/events`,
      SIGNING_SECRET,
      viewSubmissionBody({
        callbackId: SCHEDULE_VIEW.callbackId,
        teamId: team,
        userId: ADMIN,
        privateMetadata: signedMetadata(env.TOKEN_ENCRYPTION_KEY ?? '', CHANNEL, { workspaceId: team }),
        values: {
          [SCHEDULE_VIEW.policyBlock]: {
            [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: policyId },
          },
          [SCHEDULE_VIEW.whenBlock]: {
            [SCHEDULE_VIEW.whenAction]: {
              type: 'datetimepicker',
              selected_date_time: Math.floor(Date.now() / 1000) + 3 * 3600,
            },
          },
        },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.text).toBe(''); // acked: the modal closed
    await katapult.waitFor((r) => r.method === 'DELETE', 1, 15_000);
    first.bot.kill();
    await first.bot.exited;
    const killedAt = Date.now();
    katapult.latencyMs = 0;
    if (!other) await start();

    const posts = await slack.waitFor('chat.postMessage', 1, 60_000).catch((e) => {
      console.log(bots.map((b) => b.output()).join('\n----\n'));
      throw e;
    });
    expect(Date.now() - killedAt).toBeLessThan(60_000);
    // The process that took over audits the outcome after posting it, then ends the record (which
    // no other process can lease from then on): a second post would have been made before.
    await Promise.any(
      bots.slice(1).map((b) => b.waitForOutput(new RegExp(`"event":"audit_schedule".*"${policyId}"`))),
    );
    const channelPosts = slack.callsTo('chat.postMessage').filter((c) => c.args.channel === CHANNEL);
    expect(channelPosts).toHaveLength(1);
    expect(String(posts[0]?.args.text)).toContain(policyId);
    expect(String(posts[0]?.args.text)).toContain('will move to the trash');
    // The call was repeated (idempotent for the same time) by the process that took over.
    expect(katapult.requests.filter((r) => r.method === 'DELETE').length).toBeGreaterThanOrEqual(2);
    for (const b of bots) expect(b.output()).not.toContain(KATAPULT_TOKEN);
  }, 90_000);
}

describe('crash recovery on SQLite (restart)', () => crashSuite('sqlite', false));
describeWithService('redis', 'crash recovery on Redis (restart)', () => crashSuite('redis', false));
describeWithService('postgres', 'crash recovery on PostgreSQL (restart)', () =>
  crashSuite('postgres', false),
);
describeWithService('redis', 'crash recovery on Redis (two replicas)', () => crashSuite('redis', true));
describeWithService('postgres', 'crash recovery on PostgreSQL (two replicas)', () =>
  crashSuite('postgres', true),
);
