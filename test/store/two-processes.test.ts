/**
 * Two real bot instances (two replicas behind one Slack app) sharing one Redis, and separately one
 * PostgreSQL: the same view submission delivered to both at once is scheduled exactly once, and a
 * token saved through one is used by the other. Both share one fake Slack and one fake Katapult.
 *
 * Isolation: the bots use the production layout (the `katapult-chatops` prefix in Redis, the
 * `public` tables in PostgreSQL), so each run sends its requests as a workspace of its own (a
 * unique team ID). Nothing another run or suite writes can collide with it, and at the end this
 * run deletes exactly the keys and rows of that workspace.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from '@keyv/redis';
import pg from 'pg';
import { SCHEDULE_VIEW, TOKEN_VIEW } from '../../src/slack/ids.js';
import { type FakeKatapult, startFakeKatapult } from '../../support/fakes/katapult-api.js';
import { type FakeSlack, startFakeSlack } from '../../support/fakes/slack-api.js';
import {
  ADMIN,
  BOT_TOKEN,
  CHANNEL,
  type Harness,
  inMinutes,
  KATAPULT_TOKEN,
  SIGNING_SECRET,
  signedMetadata,
  startHarness,
} from '../../support/harness.js';
import { postSigned, viewSubmissionBody } from '../../support/slack-requests.js';
import { leaksOf } from '../helpers/secrets.js';
import { describeWithService, serviceUrl } from '../helpers/services.js';

const RUN = `${process.pid.toString(36)}${randomBytes(3).toString('hex')}`.toUpperCase();

function twoBots(storeUrl: () => string, cleanup: (team: string) => Promise<void>, team: string): void {
  let slack: FakeSlack;
  let katapult: FakeKatapult;
  let a: Harness;
  let b: Harness;
  let views = 0;

  beforeAll(async () => {
    slack = await startFakeSlack();
    slack.teamId = team;
    katapult = await startFakeKatapult();
    // Replicas share the store and the key that seals tokens in it.
    const encryptionKey = randomBytes(32).toString('base64');
    const options = { slack, katapult, encryptionKey, env: { STORE_URL: storeUrl() } };
    [a, b] = await Promise.all([startHarness(options), startHarness(options)]);
  });
  beforeEach(() => {
    slack.reset();
    katapult.reset();
  });
  afterAll(async () => {
    for (const h of [a, b]) {
      if (h) expect(leaksOf(h, [KATAPULT_TOKEN, BOT_TOKEN, SIGNING_SECRET, h.encryptionKey])).toEqual([]);
    }
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all([slack?.close(), katapult?.close()]);
    await cleanup(team);
  });

  const post = (h: Harness, body: string) => postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, body);

  const tokenSubmission = () =>
    viewSubmissionBody({
      callbackId: TOKEN_VIEW.callbackId,
      teamId: team,
      userId: ADMIN,
      values: {
        [TOKEN_VIEW.tokenBlock]: {
          [TOKEN_VIEW.tokenAction]: { type: 'plain_text_input', value: KATAPULT_TOKEN },
        },
        [TOKEN_VIEW.removeBlock]: { [TOKEN_VIEW.removeAction]: { type: 'checkboxes', selected_options: [] } },
      },
    });

  const scheduleSubmission = (viewId: string, policyId: string) =>
    viewSubmissionBody({
      callbackId: SCHEDULE_VIEW.callbackId,
      teamId: team,
      viewId,
      userId: ADMIN,
      privateMetadata: signedMetadata(a.encryptionKey, CHANNEL, { workspaceId: team }),
      values: {
        [SCHEDULE_VIEW.policyBlock]: {
          [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: policyId },
        },
        [SCHEDULE_VIEW.whenBlock]: {
          [SCHEDULE_VIEW.whenAction]: { type: 'datetimepicker', selected_date_time: inMinutes(30) },
        },
      },
    });

  const scheduleCalls = () => katapult.requests.filter((r) => r.method === 'DELETE');

  /** The admin saves the workspace's Katapult token through bot A; the check ends in views.update. */
  async function setTokenThroughA(): Promise<void> {
    const res = await post(a, tokenSubmission());
    expect(res.status).toBe(200);
    await slack.waitFor('views.update');
  }

  test('a token saved through one instance is used by the other', async () => {
    await setTokenThroughA();
    slack.reset();
    katapult.reset();
    const res = await post(b, scheduleSubmission(`V2P${RUN}X${++views}`, 'dbp_via_b'));
    expect(res.status).toBe(200);
    await slack.waitFor('chat.postMessage');
    await Promise.all([a.bot.idle(), b.bot.idle()]); // the audit entry is written after the post
    expect(scheduleCalls()).toHaveLength(1);
    expect(scheduleCalls()[0]?.headers.authorization).toBe(`Bearer ${KATAPULT_TOKEN}`);
    const audited = await a.bot.store.audit.recent(team, 50);
    expect(audited.filter((e) => e.policyId === 'dbp_via_b')).toMatchObject([{ outcome: 'scheduled' }]);
  });

  test('the same submission delivered to both instances at once → one Katapult call, one post', async () => {
    await setTokenThroughA();
    slack.reset();
    katapult.reset();
    katapult.latencyMs = 200;
    try {
      const body = scheduleSubmission(`V2P${RUN}X${++views}`, 'dbp_twice');
      const results = await Promise.all([post(a, body), post(b, body), post(a, body), post(b, body)]);
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      await slack.waitFor('chat.postMessage');
      // Both instances have finished what the four deliveries started.
      expect(await Promise.all([a.bot.idle(), b.bot.idle()])).toEqual([true, true]);
      expect(scheduleCalls()).toHaveLength(1);
      expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
      const audited = await b.bot.store.audit.recent(team, 50);
      expect(audited.filter((e) => e.policyId === 'dbp_twice')).toHaveLength(1);
    } finally {
      katapult.latencyMs = 0;
    }
  });
}

describeWithService('redis', 'two bot instances sharing Redis', () => {
  const team = `TR${RUN}`;
  twoBots(
    () => serviceUrl('redis'),
    async (workspace) => {
      const client = createClient({ url: serviceUrl('redis') });
      client.on('error', () => undefined);
      await client.connect();
      try {
        const keys: string[] = [];
        for await (const batch of client.scanIterator({
          MATCH: `katapult-chatops:*${workspace}*`,
          COUNT: 500,
        })) {
          keys.push(...batch);
        }
        if (keys.length > 0) await client.del(keys);
      } finally {
        client.destroy();
      }
    },
    team,
  );
});

describeWithService('postgres', 'two bot instances sharing PostgreSQL', () => {
  const team = `TP${RUN}`;
  twoBots(
    () => serviceUrl('postgres'),
    async (workspace) => {
      const pool = new pg.Pool({ connectionString: serviceUrl('postgres'), max: 1 });
      try {
        const pattern = `%${workspace}%`;
        await pool.query('DELETE FROM katapult_kv WHERE key LIKE $1', [pattern]);
        await pool.query('DELETE FROM katapult_claims WHERE key LIKE $1', [pattern]);
        await pool.query('DELETE FROM katapult_audit_log WHERE workspace = $1', [workspace]);
      } finally {
        await pool.end();
      }
    },
    team,
  );
});
