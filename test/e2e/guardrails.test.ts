/**
 * Guardrails end to end: the default-deny access policy, group and channel rules, the audit trail,
 * exactly-once handling of duplicate deliveries, the fallback when the channel post fails, and
 * what happens when the store fails.
 */
import { ACCESS_VIEW, SCHEDULE_VIEW } from '../../src/slack/ids.js';
import {
  ADMIN,
  BOT_TOKEN,
  CHANNEL,
  type Harness,
  inMinutes,
  KATAPULT_TOKEN,
  MEMBER,
  SIGNING_SECRET,
  setWorkspaceToken,
  signedMetadata,
  startHarness,
} from '../../support/harness.js';
import { postSigned, viewSubmissionBody } from '../../support/slack-requests.js';
import { auditTrailOf } from '../helpers/audit-trail.js';
import { leaksOf } from '../helpers/secrets.js';

const BOB = 'U0BOB0001';
const OTHER_CHANNEL = 'C0OTHER01';
const SCHEDULE_ROUTE = 'DELETE /disk_backup_policies/disk_backup_policy/schedule';

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ env: { KATAPULT_DEFAULT_ACCESS: 'admins' } });
  h.slack.users.set(BOB, { tz: 'UTC' });
  h.slack.groups.set('S0OPS0001', { handle: 'ops', users: [MEMBER] });
  await setWorkspaceToken(h);
  h.slack.reset();
  h.katapult.reset();
});
afterEach(async () => {
  const leaks = leaksOf(h, [KATAPULT_TOKEN, BOT_TOKEN, SIGNING_SECRET, h.encryptionKey]);
  await h.stop();
  expect(leaks).toEqual([]);
});

const scheduleCalls = () => h.katapult.requests.filter((r) => r.method === 'DELETE');
/** Lets the work the last request started finish (Bot.idle), so that what did not happen can be checked. */
const settle = async () => expect(await h.bot.idle()).toBe(true);
/** The private note (ephemeral in the channel) the last refusal or problem produced. */
const privateNote = async () => JSON.stringify((await h.slack.waitFor('chat.postEphemeral')).at(-1)?.args);
const audit = () => auditTrailOf(h);

function submitAccess(values: { who: string; groups?: string[]; channels?: string[] }, userId = ADMIN) {
  return h.submitAccess({ groups: [], channels: [], ...values }, userId);
}

describe('access policy', () => {
  test('by default a non-admin is refused privately, with who can change it; no Katapult call; audited', async () => {
    await h.command({ text: 'dbp_1', user_id: MEMBER });
    const [update] = await h.slack.waitFor('views.update');
    expect(JSON.stringify(update?.args.view)).toContain('only admins and owners may schedule');
    expect(JSON.stringify(update?.args.view)).toContain('/katapult access');

    const res = await h.submitSchedule({ policyId: 'dbp_1', at: inMinutes(30), userId: MEMBER });
    expect(res.text).toBe('');
    expect(await privateNote()).toContain('only admins and owners may schedule');
    await settle();
    expect(scheduleCalls()).toHaveLength(0);
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(0);
    const entries = await audit();
    // Both refusals, merged into one entry with a count (they cannot flood the history).
    const refused = entries.filter((e) => e.outcome === 'refused:not_admin' && e.user === MEMBER);
    expect(refused.map((e) => e.count)).toEqual([2]);
  });

  test('an admin may schedule under the default policy', async () => {
    await h.submitSchedule({ policyId: 'dbp_admin', at: inMinutes(30), userId: ADMIN });
    await h.slack.waitFor('chat.postMessage');
    expect(scheduleCalls()).toHaveLength(1);
  });

  test('group rule: members of the chosen group may, others may not; only admins may change it', async () => {
    expect((await submitAccess({ who: 'everyone' }, MEMBER)).text).toContain('Saving');
    expect(JSON.stringify((await h.slack.waitFor('views.update', 1))[0]?.args.view)).toContain(
      'Only workspace admins and owners',
    );
    await submitAccess({ who: 'groups', groups: ['S0OPS0001'] });
    expect(JSON.stringify((await h.slack.waitFor('views.update', 2))[1]?.args.view)).toContain('Saved');

    await h.submitSchedule({ policyId: 'dbp_group', at: inMinutes(30), userId: MEMBER });
    await h.slack.waitFor('chat.postMessage');
    await h.submitSchedule({ policyId: 'dbp_group', at: inMinutes(30), userId: BOB });
    expect(await privateNote()).toContain('allowed user groups');
    await settle();
    expect(scheduleCalls()).toHaveLength(1);
    expect(h.slack.callsTo('usergroups.users.list').length).toBeGreaterThan(0);
    expect((await audit()).map((e) => e.outcome)).toEqual(
      expect.arrayContaining(['scheduled', 'refused:not_in_group', 'groups:S0OPS0001']),
    );
  });

  test('channel rule applies to everyone, admins included', async () => {
    await submitAccess({ who: 'everyone', channels: [CHANNEL] });
    await h.slack.waitFor('views.update'); // saved (the form acks first, then saves)
    await h.submitSchedule({
      policyId: 'dbp_ch',
      at: inMinutes(30),
      userId: ADMIN,
      channelId: OTHER_CHANNEL,
    });
    expect(await privateNote()).toContain('cannot be scheduled from this channel');
    await h.submitSchedule({ policyId: 'dbp_ch', at: inMinutes(30), userId: MEMBER, channelId: CHANNEL });
    await h.slack.waitFor('chat.postMessage');
    expect(scheduleCalls()).toHaveLength(1);
  });

  test('the access modal lists the workspace’s user groups, for admins only', async () => {
    await h.command({ text: 'access', user_id: ADMIN });
    const [update] = await h.slack.waitFor('views.update');
    const view = JSON.stringify(update?.args.view);
    expect(view).toContain(ACCESS_VIEW.callbackId);
    expect(view).toContain('S0OPS0001');
    await h.command({ text: 'access', user_id: MEMBER });
    const [, refused] = await h.slack.waitFor('views.update', 2);
    expect(JSON.stringify(refused?.args.view)).toContain('Only workspace admins and owners');
  });
});

describe('exactly once', () => {
  const submission = (headers: Record<string, string> = {}) =>
    postSigned(
      `${h.baseUrl}/slack/events`,
      SIGNING_SECRET,
      viewSubmissionBody({
        callbackId: SCHEDULE_VIEW.callbackId,
        viewId: 'VDOUBLE01',
        userId: ADMIN,
        privateMetadata: signedMetadata(h.encryptionKey),
        values: {
          [SCHEDULE_VIEW.policyBlock]: {
            [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: 'dbp_once' },
          },
          [SCHEDULE_VIEW.whenBlock]: {
            [SCHEDULE_VIEW.whenAction]: { type: 'datetimepicker', selected_date_time: inMinutes(30) },
          },
        },
      }),
      { headers },
    );

  test('the same submission delivered twice in sequence (a Slack retry) → one call, one post', async () => {
    expect((await submission()).status).toBe(200);
    await h.slack.waitFor('chat.postMessage');
    expect(
      (await submission({ 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' })).status,
    ).toBe(200);
    await settle();
    expect(scheduleCalls()).toHaveLength(1);
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  test('the same submission delivered concurrently (double click) → one call, one post', async () => {
    h.katapult.latencyMs = 200;
    const results = await Promise.all([submission(), submission(), submission()]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    await h.slack.waitFor('chat.postMessage');
    await settle();
    expect(scheduleCalls()).toHaveLength(1);
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect((await audit()).filter((e) => e.policyId === 'dbp_once')).toHaveLength(1);
  });
});

describe('the outcome is never lost', () => {
  test.each([
    ['not_in_channel', ['not_in_channel']],
    ['channel_not_found', ['channel_not_found']],
    ['Slack 5xx', [{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }]],
  ] as const)(
    '%s after Katapult accepted → private message with the result, audit entry kept',
    async (_name, failures) => {
      h.slack.fail('chat.postMessage', ...failures);
      await h.submitSchedule({ policyId: 'dbp_lost', at: inMinutes(30), userId: ADMIN });
      const posts = await h.slack.waitFor('chat.postMessage', failures.length + 1, 15_000);
      const dm = posts.at(-1);
      expect(dm?.args.channel).toBe(ADMIN);
      expect(JSON.stringify(dm?.args.blocks)).toContain('dbp_lost');
      await settle();
      const [entry] = (await audit()).filter((e) => e.policyId === 'dbp_lost');
      expect(entry).toMatchObject({
        outcome: 'scheduled',
        delivery: 'direct_message',
        user: ADMIN,
        channel: CHANNEL,
      });
      expect(scheduleCalls()).toHaveLength(1);
    },
    20_000,
  );
});

describe('audit trail', () => {
  test('history shows admins the last entries with date tokens; others are refused', async () => {
    h.katapult.enqueue(SCHEDULE_ROUTE, {
      status: 404,
      body: { error: { code: 'disk_backup_policy_not_found', description: 'x', detail: {} } },
    });
    await h.submitSchedule({ policyId: 'dbp_gone', at: inMinutes(30), userId: ADMIN });
    await h.slack.waitFor('chat.postMessage');
    await h.submitSchedule({ policyId: 'dbp_fine', at: inMinutes(45), userId: ADMIN });
    await h.slack.waitFor('chat.postMessage', 2);
    await settle();

    await h.command({ text: 'history', user_id: ADMIN });
    const [reply] = await h.slack.waitFor('response_url');
    const text = JSON.stringify(reply?.args);
    expect(reply?.args.response_type).toBe('ephemeral');
    expect(text).toMatch(/<!date\^\d+\^/);
    expect(text).toContain('dbp_gone');
    expect(text).toContain('disk_backup_policy_not_found');
    expect(text.indexOf('dbp_fine')).toBeLessThan(text.indexOf('dbp_gone'));

    await h.command({ text: 'history', user_id: MEMBER });
    const [, refusal] = await h.slack.waitFor('response_url', 2);
    expect(JSON.stringify(refusal?.args)).toContain('Only workspace admins and owners');
  });

  test('each attempt is an audit entry and one structured log line, with zone, request ID and retry number', async () => {
    await h.submitSchedule(
      { policyId: 'dbp_audit', at: inMinutes(30), userId: ADMIN },
      { headers: { 'X-Slack-Retry-Num': '2' } },
    );
    await h.slack.waitFor('chat.postMessage');
    await settle();
    const [entry] = await audit();
    expect(entry).toMatchObject({
      action: 'schedule',
      policyId: 'dbp_audit',
      outcome: 'scheduled',
      retryNum: 2,
      delivery: 'channel',
    });
    expect(entry?.requestId).toBeTruthy();
    expect(entry?.autoMoveToTrashAt).toBe(entry?.requestedAt);
    expect(entry?.requestedLocal).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d [+-]\d\d:\d\d Europe\/London$/);
    const lines = h.logs.filter((l) => l.includes('"audit_schedule"') && l.includes('dbp_audit'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      policy_id: 'dbp_audit',
      outcome: 'scheduled',
      retry_num: 2,
    });
  });

  test('audit entries and the token survive a restart on the same store', async () => {
    await h.submitSchedule({ policyId: 'dbp_keep', at: inMinutes(30), userId: ADMIN });
    await h.slack.waitFor('chat.postMessage');
    await settle();
    await h.bot.stop();
    const again = await startHarness({
      dataDir: h.dataDir,
      encryptionKey: h.encryptionKey,
      slack: h.slack,
      katapult: h.katapult,
      env: { KATAPULT_DEFAULT_ACCESS: 'admins' },
    });
    try {
      expect(
        (await again.bot.store.audit.recent('T0FAKE001', 50)).some((e) => e.policyId === 'dbp_keep'),
      ).toBe(true);
      await again.submitSchedule({ policyId: 'dbp_after', at: inMinutes(30), userId: ADMIN });
      await again.slack.waitFor('chat.postMessage', 2);
      expect(h.katapult.requests.at(-1)?.headers.authorization).toBe(`Bearer ${KATAPULT_TOKEN}`);
    } finally {
      await again.bot.stop();
    }
  });
});

describe('store failure', () => {
  test('the user gets a clear message, an error is logged, and the bot keeps serving', async () => {
    await h.bot.store.close();
    const res = await h.submitSchedule({ policyId: 'dbp_down', at: inMinutes(30), userId: ADMIN });
    // Nothing is acked that is not recorded: the modal stays open with the reason.
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ response_action: 'errors' });
    expect(res.text).toContain('could not record this request');
    expect(h.logs.some((l) => l.includes('"level":"error"') && l.includes('request_not_recorded'))).toBe(
      true,
    );
    expect(scheduleCalls()).toHaveLength(0);
    const help = await h.command({ text: 'help' });
    expect(help.status).toBe(200);
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
  });
});
