/**
 * Four eyes, end to end over HTTP with the fakes: with KATAPULT_REQUIRE_APPROVAL=on a submission
 * posts a request with Approve and Deny and calls nothing; only someone else with the right may
 * approve (checked at the click); an Approve schedules exactly once (double delivery, two bot
 * instances on one store); Deny and expiry call nothing; the emergency stop refuses both.
 */
import { createAuditTrail } from '../../src/audit/trail.js';
import { createRequestLog, type RequestRecord } from '../../src/scheduling/request-log.js';
import { ACTIONS, DENY_VIEW } from '../../src/slack/ids.js';
import type { SlackCall } from '../../support/fakes/slack-api.js';
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
  startHarness,
} from '../../support/harness.js';
import { eventBody, postSigned } from '../../support/slack-requests.js';
import { pressButton, submitDenyReason } from '../helpers/approvals.js';
import { leaksOf } from '../helpers/secrets.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const ADMIN2 = 'U0ADMIN02';
const GUEST_ADMIN = 'U0GUEST01';
const OUTSIDER = 'U0OUTSIDE';
const TEAM = 'T0FAKE001';

const shared = useSharedHarness({ env: { KATAPULT_REQUIRE_APPROVAL: 'on' } });
let h: Harness;
beforeAll(() => {
  h = shared.h;
});
beforeEach(() => {
  h.slack.users.set(ADMIN2, { tz: 'UTC', is_admin: true });
  // An admin flag does not make a guest or someone from another organization an approver.
  h.slack.users.set(GUEST_ADMIN, { is_admin: true, is_restricted: true });
  h.slack.users.set(OUTSIDER, { is_admin: true, team_id: 'T0OTHER01' });
});
afterEach(() => {
  // Every request, outcome and note fitted Slack's limits (the fake refuses what would not).
  expect(h.slack.refusals()).toEqual([]);
});

const scheduleCalls = (on: Harness = h) =>
  on.katapult.requests.filter(
    (r) => r.method === 'DELETE' && r.path.endsWith('/disk_backup_policy/schedule'),
  );
/** Lets the work the last request started finish (Bot.idle), so that what did not happen can be checked. */
const settle = async (on: Harness = h) => expect(await on.bot.idle()).toBe(true);
const audit = (on: Harness = h) =>
  createAuditTrail(on.bot.store.audit, on.bot.store.docs, { retentionMs: 86_400_000 }).recent(TEAM, 50);
/** The approval entries of one policy, newest first. */
const approvals = async (policyId: string, on: Harness = h) =>
  (await audit(on)).filter((e) => e.action === 'approval' && e.policyId === policyId).map((e) => e.outcome);
const recordOf = (id: string, on: Harness = h): Promise<RequestRecord | null> =>
  createRequestLog(on.bot.store.docs).get(id);

function buttonsOf(call: SlackCall | undefined): { action_id: string; value: string }[] {
  const blocks = (call?.args.blocks ?? []) as {
    type: string;
    elements?: { action_id: string; value: string }[];
  }[];
  return blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
}

/** Submits as `userId` and returns the request record's ID (the Approve button's value) and the post. */
async function request(policyId: string, userId = ADMIN, on: Harness = h) {
  const before = on.slack.callsTo('chat.postMessage').length;
  const res = await on.submitSchedule({ policyId, at: inMinutes(60), userId });
  expect(res.text).toBe('');
  const post = (await on.slack.waitFor('chat.postMessage', before + 1)).at(-1);
  const approve = buttonsOf(post).find((b) => b.action_id === ACTIONS.approve);
  if (!approve) throw new Error(`no Approve button in ${JSON.stringify(post?.args)}`);
  await on.bot.idle();
  return { id: approve.value, post };
}

const press = (actionId: string, value: string, userId: string, on: Harness = h) =>
  pressButton(on, actionId, value, userId);

/** The private note the last click or refusal produced, as text. */
async function lastNote(count: number): Promise<string> {
  return JSON.stringify((await h.slack.waitFor('chat.postEphemeral', count)).at(-1)?.args.text);
}

describe('a submission with approval on', () => {
  test('calls nothing and posts a request with who, what, when, expiry, Approve and Deny; the requester is told; audited', async () => {
    const { id, post } = await request('dbp_req1');
    expect(scheduleCalls()).toHaveLength(0);
    expect(post?.args.channel).toBe(CHANNEL);
    const text = JSON.stringify(post?.args.blocks);
    expect(text).toContain(`<@${ADMIN}>`);
    expect(text).toContain('dbp_req1');
    expect(text).toContain('<!date^');
    expect(text).toContain('Request expires');
    expect(buttonsOf(post).map((b) => [b.action_id, b.value])).toEqual([
      [ACTIONS.approve, id],
      [ACTIONS.deny, id],
    ]);
    expect(await lastNote(1)).toContain('waiting for approval');
    expect((await recordOf(id))?.state).toBe('awaiting_approval');
    expect((await audit()).find((e) => e.action === 'approval' && e.policyId === 'dbp_req1')?.outcome).toBe(
      'requested',
    );
    // Waiting for people is not a stuck request: the pending-age gauge (and its alert) stays quiet.
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^katapult_chatops_requests_oldest_pending_age_seconds 0$/m);
  });

  test('the requester’s own Approve is refused and calls nothing', async () => {
    const { id } = await request('dbp_own');
    await press(ACTIONS.approve, id, ADMIN);
    expect(await lastNote(2)).toContain('your own request');
    await settle();
    expect(scheduleCalls()).toHaveLength(0);
    expect((await recordOf(id))?.state).toBe('awaiting_approval');
  });

  test.each([
    ['a member who is not an approver', MEMBER, 'not one of the approvers'],
    ['a guest (even flagged admin)', GUEST_ADMIN, 'Guests cannot'],
    ['someone from another organization', OUTSIDER, 'Only members of this workspace'],
  ])('%s is refused at the click and nothing is called', async (_, userId, expected) => {
    const { id } = await request(`dbp_refuse_${userId}`);
    await press(ACTIONS.approve, id, userId);
    expect(await lastNote(2)).toContain(expected);
    await settle();
    expect(scheduleCalls()).toHaveLength(0);
    expect((await recordOf(id))?.state).toBe('awaiting_approval');
  });

  test('a second admin’s Approve schedules exactly once and turns the request into the outcome; audited with both people', async () => {
    const { id, post } = await request('dbp_ok');
    await press(ACTIONS.approve, id, ADMIN2);
    const [update] = await h.slack.waitFor('chat.update');
    await h.bot.idle();
    expect(scheduleCalls()).toHaveLength(1);
    // The request message itself (the channel and ts the bot kept when it posted it) is edited.
    expect(update?.args).toMatchObject({
      channel: post?.args.channel,
      ts: (await recordOf(id))?.approval?.messageTs,
    });
    expect(update?.args.ts).toMatch(/^1700000000\./);
    const text = JSON.stringify(update?.args.blocks);
    expect(text).toContain(`Approved by <@${ADMIN2}>`);
    expect(text).toContain('scheduled disk backup policy');
    expect(buttonsOf(update)).toEqual([]);
    expect((await recordOf(id))?.state).toBe('done');
    // The decision is a reply in the request's thread; the follow-ups too; one top-level message.
    const ts = update?.args.ts as string;
    expect(h.slack.replies(CHANNEL, ts).map((m) => m.text)).toEqual([
      `:white_check_mark: Approved by <@${ADMIN2}>.`,
    ]);
    expect(h.slack.callsTo('chat.scheduleMessage').every((c) => c.args.thread_ts === ts)).toBe(true);
    expect(h.slack.messageAt(CHANNEL, ts)?.text).toContain('will move to the trash');
    const approved = (await audit()).find((e) => e.action === 'approval' && e.outcome === 'approved');
    expect(approved).toMatchObject({ user: ADMIN, decidedBy: ADMIN2, policyId: 'dbp_ok' });
    // A later click finds it decided and calls nothing more.
    await press(ACTIONS.approve, id, ADMIN2);
    expect(await lastNote(2)).toContain('already decided');
    expect(scheduleCalls()).toHaveLength(1);
  });

  test('the same Approve delivered twice at once schedules exactly once', async () => {
    const { id } = await request('dbp_twice');
    await Promise.all([press(ACTIONS.approve, id, ADMIN2), press(ACTIONS.approve, id, ADMIN2)]);
    await h.slack.waitFor('chat.update');
    await settle();
    expect(scheduleCalls()).toHaveLength(1);
    expect(h.slack.callsTo('chat.update')).toHaveLength(1);
    // One decision, not two that happened to run once.
    expect(await approvals('dbp_twice')).toEqual(['approved', 'requested']);
  });

  test('Deny asks for a reason, closes the request, tells the requester and calls nothing', async () => {
    const { id } = await request('dbp_deny');
    await press(ACTIONS.deny, id, ADMIN2);
    const [open] = await h.slack.waitFor('views.open');
    const view = open?.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe(DENY_VIEW.callbackId);
    const res = await submitDenyReason(h, view.private_metadata, ADMIN2, 'Server <!channel> still in use');
    expect(res.text).toContain('Denying');
    const [update] = await h.slack.waitFor('chat.update');
    await h.bot.idle();
    const text = JSON.stringify(update?.args.blocks);
    expect(text).toContain(`Denied by <@${ADMIN2}>`);
    expect(text).toContain('&lt;!channel&gt;');
    expect(buttonsOf(update)).toEqual([]);
    const [reply] = h.slack.replies(CHANNEL, update?.args.ts as string);
    expect(reply?.text).toContain(`Denied by <@${ADMIN2}>`);
    expect(await lastNote(2)).toContain('denied your request');
    expect((await recordOf(id))?.state).toBe('denied');
    expect(scheduleCalls()).toHaveLength(0);
    expect((await audit()).find((e) => e.action === 'approval' && e.outcome === 'denied')).toMatchObject({
      user: ADMIN,
      decidedBy: ADMIN2,
    });
    // Denied is final.
    await press(ACTIONS.approve, id, ADMIN2);
    await settle();
    expect(scheduleCalls()).toHaveLength(0);
  });

  test('a reason longer than the form allows is clipped without splitting a character', async () => {
    const { id } = await request('dbp_deny_long');
    await press(ACTIONS.deny, id, ADMIN2);
    const [open] = await h.slack.waitFor('views.open');
    const view = open?.args.view as { private_metadata: string };
    // 500 characters as Slack counts them (code points), 501 UTF-16 units: the cut falls inside the emoji.
    await submitDenyReason(h, view.private_metadata, ADMIN2, `${'a'.repeat(499)}😀`);
    const [update] = await h.slack.waitFor('views.update');
    await h.bot.idle();
    const text = JSON.stringify(update?.args.view);
    expect(text).toContain(`Denied by <@${ADMIN2}>`);
    expect(text).toContain('aaaa');
    // A lone surrogate would be written as a \\ud83d escape.
    expect(text).not.toMatch(/\\ud8/);
    expect((await recordOf(id))?.state).toBe('denied');
  });

  test('a forged Approve value (another workspace’s or an unknown record) calls nothing', async () => {
    await press(ACTIONS.approve, 'T0OTHER01:VX1', ADMIN2);
    expect(await lastNote(1)).toContain('no longer known');
    expect(scheduleCalls()).toHaveLength(0);
  });

  test('a channel the bot cannot post in refuses the submission, with the fix, and calls nothing', async () => {
    h.slack.fail('chat.postMessage', 'not_in_channel');
    await h.submitSchedule({ policyId: 'dbp_noch', at: inMinutes(60), userId: ADMIN });
    const note = await lastNote(1);
    expect(note).toContain('/invite');
    expect(note).toContain('not_in_channel');
    await h.bot.idle();
    expect(scheduleCalls()).toHaveLength(0);
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  test('a submission from a direct message is refused inline: approvers could not see it', async () => {
    const res = await h.submitSchedule({
      policyId: 'dbp_dm',
      at: inMinutes(60),
      userId: ADMIN,
      channelId: 'D0DM00001',
    });
    expect(res.text).toContain('approvers must see the request');
    await settle();
    expect(scheduleCalls()).toHaveLength(0);
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(0);
  });
});

describe('/katapult access: who approves', () => {
  const BOB = 'U0BOB0001';
  const submitAccess = (mode: string, approvers: string[] = []) =>
    h.submitAccess({ approval: mode, approvers });
  async function save(mode: string, approvers: string[] = []) {
    const before = h.slack.callsTo('views.update').length;
    await submitAccess(mode, approvers);
    const [update] = (await h.slack.waitFor('views.update', before + 1)).slice(-1);
    expect(JSON.stringify(update?.args.view)).toContain('Saved');
    h.slack.reset();
  }
  afterAll(async () => {
    // Back to what the deployment default gives, for the tests after these.
    await save('admins');
  });

  test('approver groups: their members approve (not admins-only), others are refused; without groups the form says so', async () => {
    h.slack.users.set(BOB, { tz: 'UTC' });
    h.slack.groups.set('S0APPROV1', { handle: 'approvers', users: [MEMBER] });
    const missing = await submitAccess('groups');
    expect(missing.text).toContain('approver group');
    await save('groups', ['S0APPROV1']);

    const { id } = await request('dbp_groups', BOB);
    await press(ACTIONS.approve, id, MEMBER);
    await h.slack.waitFor('chat.update');
    await h.bot.idle();
    expect(scheduleCalls()).toHaveLength(1);
    expect(await approvals('dbp_groups')).toEqual(['approved', 'requested']);
    expect((await audit()).find((e) => e.action === 'approval' && e.outcome === 'approved')?.decidedBy).toBe(
      MEMBER,
    );
  });

  test('a member outside the approver groups is refused', async () => {
    const { id } = await request('dbp_groups2', ADMIN);
    await press(ACTIONS.approve, id, BOB);
    expect(await lastNote(2)).toContain('not one of the approvers');
    await settle();
    expect(scheduleCalls()).toHaveLength(0);
  });

  test('“no approval” stored by an admin wins over KATAPULT_REQUIRE_APPROVAL=on: a submission runs at once', async () => {
    await save('off');
    await h.submitSchedule({ policyId: 'dbp_direct', at: inMinutes(60), userId: ADMIN });
    const [post] = await h.slack.waitFor('chat.postMessage');
    await h.bot.idle();
    expect(buttonsOf(post)).toEqual([]);
    expect(JSON.stringify(post?.args.blocks)).toContain('scheduled disk backup policy');
    expect(scheduleCalls()).toHaveLength(1);
  });
});

describe('the emergency stop', () => {
  test('only admins freeze; a frozen workspace refuses submissions and approvals; unfreeze restores both; audited', async () => {
    const { id } = await request('dbp_frozen');
    h.slack.reset();

    const refused = await h.command({
      text: 'freeze',
      user_id: MEMBER,
      response_url: h.slack.responseUrl('f0'),
    });
    expect(refused.status).toBe(200);
    expect(JSON.stringify((await h.slack.waitFor('response_url'))[0]?.args)).toContain(
      'Only workspace admins',
    );

    await h.command({ text: 'freeze', user_id: ADMIN, response_url: h.slack.responseUrl('f1') });
    expect(JSON.stringify((await h.slack.waitFor('response_url', 2))[1]?.args)).toContain('Frozen');

    const res = await h.submitSchedule({ policyId: 'dbp_frozen2', at: inMinutes(60), userId: ADMIN });
    expect(res.text).toContain('frozen');
    await press(ACTIONS.approve, id, ADMIN2);
    expect(await lastNote(1)).toContain('frozen');
    await settle();
    expect(scheduleCalls()).toHaveLength(0);
    expect((await recordOf(id))?.state).toBe('awaiting_approval');

    await h.command({ text: 'unfreeze', user_id: ADMIN, response_url: h.slack.responseUrl('f2') });
    expect(JSON.stringify((await h.slack.waitFor('response_url', 3))[2]?.args)).toContain('Unfrozen');
    await press(ACTIONS.approve, id, ADMIN2);
    await h.slack.waitFor('chat.update');
    await h.bot.idle();
    expect(scheduleCalls()).toHaveLength(1);

    const outcomes = (await audit()).filter((e) => e.action === 'freeze').map((e) => e.outcome);
    expect(outcomes).toEqual(['unfrozen', 'frozen']);
    expect((await audit()).some((e) => e.outcome === 'refused:frozen' && e.policyId === 'dbp_frozen2')).toBe(
      true,
    );
  });

  test('history lists the requests waiting for approval', async () => {
    await request('dbp_hist');
    await h.command({ text: 'history', user_id: ADMIN, response_url: h.slack.responseUrl('hist') });
    const text = JSON.stringify((await h.slack.waitFor('response_url'))[0]?.args);
    expect(text).toContain('Waiting for approval');
    expect(text).toContain('dbp_hist');
  });
});

describe('App Home', () => {
  async function openHome(user: string): Promise<string> {
    const before = h.slack.callsTo('views.publish').length;
    const res = await postSigned(
      `${h.baseUrl}/slack/events`,
      SIGNING_SECRET,
      eventBody({
        type: 'app_home_opened',
        user,
        channel: 'D0HOME001',
        tab: 'home',
        event_ts: '1700000000.1',
      }),
      { contentType: 'application/json' },
    );
    expect(res.status).toBe(200);
    return JSON.stringify((await h.slack.waitFor('views.publish', before + 1)).at(-1)?.args.view);
  }

  test('shows waiting requests to those who may decide, not to others; shows the emergency stop', async () => {
    await request('dbp_home');
    const approver = await openHome(ADMIN2);
    expect(approver).toContain('Waiting for approval');
    expect(approver).toContain('dbp_home');
    expect(approver).toContain('Not frozen');
    const member = await openHome(MEMBER);
    expect(member).not.toContain('dbp_home');
    expect(member).not.toContain('Waiting for approval');

    await h.command({ text: 'freeze', user_id: ADMIN, response_url: h.slack.responseUrl('hf') });
    await h.slack.waitFor('response_url');
    try {
      expect(await openHome(MEMBER)).toContain(`Frozen* by <@${ADMIN}>`);
    } finally {
      await h.command({ text: 'unfreeze', user_id: ADMIN, response_url: h.slack.responseUrl('hu') });
      await h.slack.waitFor('response_url', 2);
    }
  });
});

describe('two bot instances on one store', () => {
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    // A second instance on the shared harness's store, fakes and keys (SQLite file shared by both).
    a = h;
    b = await startHarness({
      slack: a.slack,
      katapult: a.katapult,
      dataDir: a.dataDir,
      encryptionKey: a.encryptionKey,
      env: { KATAPULT_REQUIRE_APPROVAL: 'on' },
    });
    await setWorkspaceToken(b);
  });
  afterAll(async () => {
    if (!b) return;
    expect(leaksOf(b, [KATAPULT_TOKEN, BOT_TOKEN, SIGNING_SECRET, b.encryptionKey])).toEqual([]);
    await b.stop();
  });

  test('the same Approve delivered to both schedules exactly once', async () => {
    const { id } = await request('dbp_replicas', ADMIN, a);
    a.slack.reset();
    a.katapult.reset();
    await Promise.all([press(ACTIONS.approve, id, ADMIN2, a), press(ACTIONS.approve, id, ADMIN2, b)]);
    await a.slack.waitFor('chat.update');
    await Promise.all([settle(a), settle(b)]);
    expect(scheduleCalls(a)).toHaveLength(1);
    expect(a.slack.callsTo('chat.update')).toHaveLength(1);
    expect(await approvals('dbp_replicas')).toEqual(['approved', 'requested']);
    expect((await recordOf(id, b))?.state).toBe('done');
  });
});

describe('expiry', () => {
  let e: Harness;
  beforeAll(async () => {
    // 0.0005 hours: 1.8 seconds, swept every 200 ms.
    e = await startHarness({
      env: { KATAPULT_REQUIRE_APPROVAL: 'on', APPROVAL_TTL_HOURS: '0.0005', REQUEST_SWEEP_MS: '200' },
    });
    await setWorkspaceToken(e);
    e.slack.users.set(ADMIN2, { is_admin: true });
  });
  afterAll(async () => {
    if (!e) return;
    expect(leaksOf(e, [KATAPULT_TOKEN, BOT_TOKEN, SIGNING_SECRET, e.encryptionKey])).toEqual([]);
    await e.stop();
  });

  test('an unanswered request expires from the store: buttons replaced, requester told, audited; it cannot be approved', async () => {
    e.slack.reset();
    const { id } = await request('dbp_exp', ADMIN, e);
    const [update] = await e.slack.waitFor('chat.update', 1, 8000);
    expect(JSON.stringify(update?.args.blocks)).toContain('Expired');
    expect(buttonsOf(update)).toEqual([]);
    const notes = await e.slack.waitFor('chat.postEphemeral', 2);
    expect(JSON.stringify(notes.at(-1)?.args.text)).toContain('expired');
    await settle(e); // the sweep audits the expiry after telling the requester
    expect((await recordOf(id, e))?.state).toBe('expired');
    expect((await audit(e)).find((x) => x.action === 'approval' && x.outcome === 'expired')).toBeTruthy();

    await press(ACTIONS.approve, id, ADMIN2, e);
    const refused = await e.slack.waitFor('chat.postEphemeral', 3);
    expect(JSON.stringify(refused.at(-1)?.args.text)).toContain('expired');
    await settle(e);
    expect(scheduleCalls(e)).toHaveLength(0);
  });
});

describe('KATAPULT_FROZEN=true', () => {
  let f: Harness;
  beforeAll(async () => {
    f = await startHarness({ env: { KATAPULT_FROZEN: 'true' } });
    await setWorkspaceToken(f);
  });
  afterAll(async () => {
    if (!f) return;
    expect(leaksOf(f, [KATAPULT_TOKEN, BOT_TOKEN, SIGNING_SECRET, f.encryptionKey])).toEqual([]);
    await f.stop();
  });

  test('refuses every submission inline, even without approvals, and no admin can lift it from Slack', async () => {
    f.slack.reset();
    const res = await f.submitSchedule({ policyId: 'dbp_deploy', at: inMinutes(60), userId: ADMIN });
    expect(res.json).toMatchObject({ response_action: 'errors' });
    expect(res.text).toContain('KATAPULT_FROZEN=true');
    await f.command({ text: 'unfreeze', user_id: ADMIN, response_url: f.slack.responseUrl('u') });
    expect(JSON.stringify((await f.slack.waitFor('response_url'))[0]?.args)).toContain('whole deployment');
    await settle(f);
    expect(scheduleCalls(f)).toHaveLength(0);
    expect(f.slack.callsTo('chat.postMessage')).toHaveLength(0);
  });
});
