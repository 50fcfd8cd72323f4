/**
 * Which of two requests is newer is decided by the store, not by the replicas' clocks: two bot
 * instances on one Redis, and separately on one PostgreSQL, whose clocks are 60 s apart. A policy
 * scheduled through the replica whose clock is right, then rescheduled a moment later through the
 * one whose clock is a minute behind: the later reschedule wins (it is applied, the index and
 * Katapult hold its time), where by the replicas' own clocks it would have looked older and been
 * superseded.
 *
 * Isolation as in test/store/two-processes.test.ts: the production layout, a workspace of this run's
 * own, whose keys and rows are deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from '@keyv/redis';
import pg from 'pg';
import { createRequestLog } from '../../src/scheduling/request-log.js';
import { createUpcomingDeletions } from '../../src/scheduling/upcoming.js';
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
const SKEW_MS = 60_000;

function skewedReplicas(
  storeUrl: () => string,
  cleanup: (team: string) => Promise<void>,
  team: string,
): void {
  let slack: FakeSlack;
  let katapult: FakeKatapult;
  let right: Harness;
  let behind: Harness;
  let views = 0;

  beforeAll(async () => {
    slack = await startFakeSlack();
    slack.teamId = team;
    katapult = await startFakeKatapult();
    const encryptionKey = randomBytes(32).toString('base64');
    const options = { slack, katapult, encryptionKey, env: { STORE_URL: storeUrl() } };
    [right, behind] = await Promise.all([
      startHarness({ ...options, now: () => Date.now() }),
      startHarness({ ...options, now: () => Date.now() - SKEW_MS }),
    ]);
    const saved = await post(
      right,
      viewSubmissionBody({
        callbackId: TOKEN_VIEW.callbackId,
        teamId: team,
        userId: ADMIN,
        values: {
          [TOKEN_VIEW.tokenBlock]: {
            [TOKEN_VIEW.tokenAction]: { type: 'plain_text_input', value: KATAPULT_TOKEN },
          },
          [TOKEN_VIEW.removeBlock]: {
            [TOKEN_VIEW.removeAction]: { type: 'checkboxes', selected_options: [] },
          },
        },
      }),
    );
    expect(saved.status).toBe(200);
    await slack.waitFor('views.update');
  });
  afterAll(async () => {
    for (const h of [right, behind]) {
      if (h) expect(leaksOf(h, [KATAPULT_TOKEN, BOT_TOKEN, SIGNING_SECRET, h.encryptionKey])).toEqual([]);
    }
    await Promise.all([right?.stop(), behind?.stop()]);
    await Promise.all([slack?.close(), katapult?.close()]);
    await cleanup(team);
  });

  function post(h: Harness, body: string) {
    return postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, body);
  }

  async function schedule(h: Harness, policyId: string, at: number): Promise<void> {
    const before = slack.callsTo('chat.postMessage').length;
    const res = await post(
      h,
      viewSubmissionBody({
        callbackId: SCHEDULE_VIEW.callbackId,
        teamId: team,
        viewId: `VSKEW${RUN}X${++views}`,
        userId: ADMIN,
        privateMetadata: signedMetadata(h.encryptionKey, CHANNEL, { workspaceId: team }),
        values: {
          [SCHEDULE_VIEW.policyBlock]: {
            [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: policyId },
          },
          [SCHEDULE_VIEW.whenBlock]: {
            [SCHEDULE_VIEW.whenAction]: { type: 'datetimepicker', selected_date_time: at },
          },
        },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    await slack.waitFor('chat.postMessage', before + 1);
    await Promise.all([right.bot.idle(), behind.bot.idle()]);
  }

  test('a later reschedule through the replica whose clock is 60 s behind wins', async () => {
    const policyId = `dbp_skew_${RUN.toLowerCase()}`;
    const first = inMinutes(300);
    const later = inMinutes(400);
    await schedule(right, policyId, first);
    await schedule(behind, policyId, later);

    const records = (await createRequestLog(right.bot.store.docs).since(team, 0, 100)).filter(
      (r) => r.policies[0]?.policyId === policyId,
    );
    expect(records.map((r) => [r.atSeconds, r.state])).toEqual(
      expect.arrayContaining([
        [first, 'done'],
        [later, 'done'],
      ]),
    );
    // By the replicas' own clocks the reschedule looks a minute older; by the store's it is newer.
    const [a, b] = [records.find((r) => r.atSeconds === first), records.find((r) => r.atSeconds === later)];
    expect(b?.createdAt).toBeLessThan(a?.createdAt ?? 0);
    expect(b?.storedAt).toBeGreaterThan(a?.storedAt ?? Number.POSITIVE_INFINITY);
    expect((await createUpcomingDeletions(behind.bot.store.docs).get(team, policyId))?.at).toBe(later);
    expect(katapult.getPolicy(policyId)?.autoMoveToTrashAt).toBe(later);
    const said = JSON.stringify(slack.callsTo('chat.postMessage').at(-1)?.args);
    expect(said).toContain(policyId);
    expect(said).not.toContain('newer schedule');
  });
}

describeWithService('redis', 'two replicas with skewed clocks sharing Redis', () => {
  const team = `TK${RUN}`;
  skewedReplicas(
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

describeWithService('postgres', 'two replicas with skewed clocks sharing PostgreSQL', () => {
  const team = `TQ${RUN}`;
  skewedReplicas(
    () => serviceUrl('postgres'),
    async (workspace) => {
      const pool = new pg.Pool({ connectionString: serviceUrl('postgres'), max: 1 });
      try {
        const pattern = `%${workspace}%`;
        await pool.query('DELETE FROM katapult_kv WHERE key LIKE $1', [pattern]);
        await pool.query('DELETE FROM katapult_claims WHERE key LIKE $1', [pattern]);
        await pool.query('DELETE FROM katapult_audit_log WHERE workspace = $1', [workspace]);
        await pool.query('DELETE FROM katapult_docs WHERE part = $1 OR key LIKE $2', [workspace, pattern]);
      } finally {
        await pool.end();
      }
    },
    team,
  );
});
