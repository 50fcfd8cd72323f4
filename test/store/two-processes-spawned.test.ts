/**
 * Two bot processes (the real entry point, as two replicas would run it) sharing Redis, then
 * PostgreSQL: a token set through one is used by the other, and one submission delivered to both at
 * once reaches Katapult exactly once. Each run uses a workspace ID of its own and removes its data.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@keyv/redis';
import pg from 'pg';
import { SCHEDULE_VIEW, TOKEN_VIEW } from '../../src/slack/ids.js';
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
import { describeWithService, type ServiceKind, serviceUrl } from '../helpers/services.js';

const ENCRYPTION_KEY = randomBytes(32).toString('base64');

const TEAM = `TP${process.pid.toString(36)}${randomBytes(3).toString('hex')}`.toUpperCase();

async function removeTeamData(kind: ServiceKind): Promise<void> {
  if (kind === 'redis') {
    const client = createClient({ url: serviceUrl('redis') });
    await client.connect();
    for await (const keys of client.scanIterator({ MATCH: `*${TEAM}*`, COUNT: 500 })) {
      const list = Array.isArray(keys) ? keys : [keys];
      if (list.length) await client.del(list);
    }
    await client.quit();
  } else {
    const db = new pg.Client({ connectionString: serviceUrl('postgres') });
    await db.connect();
    await db.query('DELETE FROM katapult_kv WHERE key LIKE $1', [`%${TEAM}%`]).catch(() => undefined);
    await db.query('DELETE FROM katapult_claims WHERE key LIKE $1', [`%${TEAM}%`]).catch(() => undefined);
    await db.query('DELETE FROM katapult_audit_log WHERE workspace = $1', [TEAM]).catch(() => undefined);
    await db.end();
  }
}

function replicas(kind: ServiceKind): void {
  let slack: FakeSlack;
  let katapult: FakeKatapult;
  let dir: string;
  let bots: BotProcess[] = [];
  let ports: number[] = [];

  beforeAll(async () => {
    slack = await startFakeSlack();
    slack.teamId = TEAM;
    katapult = await startFakeKatapult();
    slack.users.set(ADMIN, { is_admin: true });
    dir = await mkdtemp(path.join(tmpdir(), 'katapult-chatops-replicas-'));
    const env = {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      KATAPULT_API_URL: katapult.baseUrl,
      STORE_URL: serviceUrl(kind),
      TOKEN_ENCRYPTION_KEY: ENCRYPTION_KEY,
      PORT: '0',
    };
    bots = [startBotProcess(env, dir), startBotProcess(env, dir)];
    ports = await Promise.all(bots.map((b) => b.port()));
  }, 30_000);
  afterAll(async () => {
    for (const b of bots) b.kill();
    await Promise.all(bots.map((b) => b.exited));
    await Promise.all([slack?.close(), katapult?.close()]);
    await rm(dir, { recursive: true, force: true });
    await removeTeamData(kind);
  });

  const events = (i: number) => `http://127.0.0.1:${ports[i]}/slack/events`;

  test('a token set through one replica is used by the other', async () => {
    const body = viewSubmissionBody({
      callbackId: TOKEN_VIEW.callbackId,
      teamId: TEAM,
      userId: ADMIN,
      values: {
        [TOKEN_VIEW.tokenBlock]: {
          [TOKEN_VIEW.tokenAction]: { type: 'plain_text_input', value: KATAPULT_TOKEN },
        },
      },
    });
    expect((await postSigned(events(0), SIGNING_SECRET, body)).status).toBe(200);
    const [saved] = await slack.waitFor('views.update', 1, 10_000);
    expect(JSON.stringify(saved?.args.view)).toContain('Saved');

    katapult.reset();
    await postSigned(
      events(1),
      SIGNING_SECRET,
      viewSubmissionBody({
        callbackId: SCHEDULE_VIEW.callbackId,
        teamId: TEAM,
        userId: ADMIN,
        privateMetadata: signedMetadata(ENCRYPTION_KEY, CHANNEL, { workspaceId: TEAM }),
        values: {
          [SCHEDULE_VIEW.policyBlock]: {
            [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: 'dbp_replica_b' },
          },
          [SCHEDULE_VIEW.whenBlock]: {
            [SCHEDULE_VIEW.whenAction]: {
              type: 'datetimepicker',
              selected_date_time: Math.floor(Date.now() / 1000) + 3600,
            },
          },
        },
      }),
    );
    const [schedule] = await katapult.waitFor((r) => r.method === 'DELETE');
    expect(schedule?.headers.authorization).toBe(`Bearer ${KATAPULT_TOKEN}`);
  }, 30_000);

  test('one submission delivered to both replicas at once → exactly one Katapult call and one post', async () => {
    await slack.waitFor('chat.postMessage', 1, 15_000); // the previous test's
    slack.reset();
    katapult.reset();
    katapult.latencyMs = 100;
    const body = viewSubmissionBody({
      callbackId: SCHEDULE_VIEW.callbackId,
      teamId: TEAM,
      userId: ADMIN,
      viewId: `VREPLICA${TEAM}`,
      privateMetadata: signedMetadata(ENCRYPTION_KEY, CHANNEL, { workspaceId: TEAM }),
      values: {
        [SCHEDULE_VIEW.policyBlock]: {
          [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: 'dbp_replica_once' },
        },
        [SCHEDULE_VIEW.whenBlock]: {
          [SCHEDULE_VIEW.whenAction]: {
            type: 'datetimepicker',
            selected_date_time: Math.floor(Date.now() / 1000) + 3600,
          },
        },
      },
    });
    const answers = await Promise.all([0, 1, 0, 1].map((i) => postSigned(events(i), SIGNING_SECRET, body)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    await slack.waitFor('chat.postMessage', 1, 10_000);
    // The replica that ran it audits the outcome after the post; a duplicate run, started at its
    // delivery, would have called Katapult (100 ms) by then.
    await Promise.any(bots.map((b) => b.waitForOutput(/"event":"audit_schedule".*"dbp_replica_once"/)));
    expect(katapult.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    for (const b of bots) expect(b.output()).not.toContain(KATAPULT_TOKEN);
  }, 30_000);
}

describeWithService('redis', 'two bot processes sharing Redis', () => replicas('redis'));
describeWithService('postgres', 'two bot processes sharing PostgreSQL', () => replicas('postgres'));
