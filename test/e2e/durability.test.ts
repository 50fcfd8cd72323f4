/**
 * Checks of issue 10 that need a bot of their own: App Home lists far-off moves however large or
 * old the audit log; a stale request recovered after a newer reschedule never puts the old time
 * back; a Slack that answers only after the client's timeout gets one post, not four.
 */
import { createRequestLog, orderOf, REQUESTS, type RequestRecord } from '../../src/scheduling/request-log.js';
import { createUpcomingDeletions } from '../../src/scheduling/upcoming.js';
import { ACTIONS } from '../../src/slack/ids.js';
import type { AuditEntry } from '../../src/store/store.js';
import {
  ADMIN,
  CHANNEL,
  type Harness,
  inMinutes,
  MEMBER,
  SIGNING_SECRET,
  setWorkspaceToken,
  startHarness,
} from '../../support/harness.js';
import { blockActionBody, eventBody, postSigned } from '../../support/slack-requests.js';
import { poll } from '../helpers/poll.js';

const WORKSPACE = 'T0FAKE001';
const DAY_MS = 86_400_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function start(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  h = await startHarness(options);
  await setWorkspaceToken(h);
  return h;
}

async function openHome(bot: Harness, user: string): Promise<string> {
  const before = bot.slack.callsTo('views.publish').length;
  const res = await postSigned(
    `${bot.baseUrl}/slack/events`,
    SIGNING_SECRET,
    eventBody({ type: 'app_home_opened', user, channel: 'D0HOME001', tab: 'home', event_ts: '1700000000.1' }),
    { contentType: 'application/json' },
  );
  expect(res.status).toBe(200);
  const published = await bot.slack.waitFor('views.publish', before + 1);
  return JSON.stringify(published.at(-1)?.args.view);
}

/** The request records of a workspace, as the store holds them. */
async function requestsOf(bot: Harness): Promise<RequestRecord[]> {
  const rows = await bot.bot.store.docs.list(REQUESTS, WORKSPACE, { limit: 100 });
  return rows.map((r) => JSON.parse(r.body) as RequestRecord);
}

test('App Home lists a move 300 days ahead after 10,000 newer audit entries and after the audit retention has passed', async () => {
  let offsetMs = 0;
  const bot = await start({ now: () => Date.now() + offsetMs });
  const at = inMinutes(300 * 24 * 60);
  await bot.submitSchedule({ policyId: 'dbp_far', at, userId: ADMIN });
  await bot.slack.waitFor('chat.postMessage');
  await bot.bot.idle();

  // 10,000 newer entries, written straight into the store's audit log.
  const first = Date.now() + 1;
  const entry = (i: number): AuditEntry => ({
    at: first + i,
    workspace: WORKSPACE,
    user: ADMIN,
    channel: CHANNEL,
    action: 'token_set',
    policyId: null,
    requestedAt: null,
    requestedLocal: null,
    outcome: 'saved',
    autoMoveToTrashAt: null,
    requestId: null,
    retryNum: null,
    delivery: null,
  });
  for (let i = 0; i < 10_000; i += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, j) => bot.bot.store.audit.append(entry(i + j))));
  }
  const recent = await bot.bot.store.audit.recent(WORKSPACE, 10_000);
  expect(recent.some((e) => e.policyId === 'dbp_far')).toBe(false);
  expect(await openHome(bot, ADMIN)).toContain('dbp_far');

  // 100 days on: every audit entry is past the 90-day retention; the move is 200 days ahead.
  offsetMs = 100 * DAY_MS;
  expect(await bot.bot.store.audit.recent(WORKSPACE, 10)).toEqual([]);
  expect(await openHome(bot, ADMIN)).toContain('dbp_far');
}, 60_000);

test('a stale request recovered after a newer reschedule of the same policy does not put the old time back', async () => {
  const bot = await start({ env: { REQUEST_SWEEP_MS: '200' } });
  const newer = inMinutes(300);
  await bot.submitSchedule({ policyId: 'dbp_stale', at: newer });
  await bot.slack.waitFor('chat.postMessage');
  await bot.bot.idle();
  const applied = (await requestsOf(bot)).find((r) => r.policies[0]?.policyId === 'dbp_stale');
  expect(applied?.state).toBe('done');
  if (!applied) return;

  // A request made a minute before that one, whose worker died before calling Katapult: its lease
  // has expired, so the sweep takes it over.
  const { post: _post, zone: _zone, audited: _audited, ...rest } = applied;
  const stale: RequestRecord = {
    ...rest,
    id: `${WORKSPACE}:VSTALE0001`,
    atSeconds: inMinutes(200),
    createdAt: applied.createdAt - 60_000,
    // Recorded a minute before it, by the store's clock: that is what makes it the older one.
    storedAt: orderOf(applied) - 60_000,
    state: 'pending',
    attempts: 0,
    policies: [{ policyId: 'dbp_stale' }],
  };
  bot.slack.reset();
  bot.katapult.reset();
  const requests = createRequestLog(bot.bot.store.docs);
  expect(await requests.create(stale, 'a-worker-that-died', 1)).toBe(true);

  // Taken over by the periodic sweep (every 200 ms), which announces nothing: polled.
  const ended = await poll('the stale request to end', async () => {
    const r = await requests.get(stale.id);
    return r?.state !== 'pending' && r?.state !== 'calling' ? r : null;
  });
  expect(ended?.state).toBe('superseded');
  expect(bot.katapult.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
  expect(bot.katapult.getPolicy('dbp_stale')?.autoMoveToTrashAt).toBe(newer);
  expect((await createUpcomingDeletions(bot.bot.store.docs).get(WORKSPACE, 'dbp_stale'))?.at).toBe(newer);
  // It says so, once, and holds no messages for the old time.
  const [said] = await bot.slack.waitFor('chat.postMessage');
  expect(JSON.stringify(said?.args.blocks)).toContain('A newer schedule of disk backup policy');
  await bot.bot.idle();
  expect(bot.slack.callsTo('chat.postMessage')).toHaveLength(1);
  expect(bot.slack.callsTo('chat.scheduleMessage')).toEqual([]);
});

test('a Slack that answers chat.postMessage only after the client timeout gets one post, not four; the outcome is recorded as unknown', async () => {
  const bot = await start({ slackWriteTimeoutMs: 400 });
  bot.slack.delay('chat.postMessage', 1_500);
  await bot.submitSchedule({ policyId: 'dbp_slow_slack', at: inMinutes(240) });
  await bot.slack.waitFor('chat.postMessage');
  // Any retry (or a private copy) is made before the run ends.
  expect(await bot.bot.idle()).toBe(true);

  const posts = bot.slack.callsTo('chat.postMessage');
  expect(posts).toHaveLength(1);
  expect(posts[0]?.args.channel).toBe(CHANNEL);
  const record = (await requestsOf(bot)).find((r) => r.policies[0]?.policyId === 'dbp_slow_slack');
  expect(record).toMatchObject({ state: 'done', post: { state: 'sent', delivery: 'unknown' } });
  const [audited] = await bot.bot.store.audit.recent(WORKSPACE, 1);
  expect(audited).toMatchObject({
    policyId: 'dbp_slow_slack',
    outcome: 'scheduled',
    delivery: 'unknown',
    user: MEMBER,
  });
  expect(bot.logs.some((l) => l.includes('channel_post_unknown'))).toBe(true);
  // The requester is told privately that the post may not have gone out.
  const notes = bot.slack.callsTo('chat.postEphemeral').map((c) => String(c.args.text));
  expect(notes.filter((t) => t.includes('did not confirm the post'))).toHaveLength(1);
}, 30_000);

/** Schedules a catalogued policy through the bot, moves it to the trash, and returns its id. */
async function trashedThroughTheBot(bot: Harness, index: number): Promise<string> {
  const policy = bot.katapult.policies()[index];
  if (!policy) throw new Error('fake has too few policies');
  await bot.submitSchedule({ policyId: policy.id, at: inMinutes(60) });
  await bot.slack.waitFor('chat.postMessage');
  await bot.bot.idle();
  bot.katapult.trashPolicy(policy.id, inMinutes(60 * 24));
  bot.slack.reset();
  return policy.id;
}

const pressRestore = (bot: Harness, policyId: string) =>
  postSigned(
    `${bot.baseUrl}/slack/events`,
    SIGNING_SECRET,
    blockActionBody({
      actionId: ACTIONS.restore,
      value: policyId,
      channelId: CHANNEL,
      messageTs: '1700000000.000900',
      responseUrl: bot.slack.responseUrl('btn'),
    }),
  );

test('a Restore click whose thread reply Slack answers only after the timeout: one reply, no private copy, delivery unknown', async () => {
  const bot = await start({ slackWriteTimeoutMs: 400 });
  const policyId = await trashedThroughTheBot(bot, 2);
  bot.slack.delay('chat.postMessage', 1_500);

  const res = await pressRestore(bot, policyId);
  expect(res.status).toBe(200);
  await bot.slack.waitFor('chat.postMessage');
  // Any retry (or a private copy) is made before the click's work ends.
  expect(await bot.bot.idle()).toBe(true);

  expect(bot.slack.callsTo('chat.postMessage')).toHaveLength(1);
  expect(bot.slack.callsTo('response_url')).toEqual([]);
  const [audited] = await bot.bot.store.audit.recent(WORKSPACE, 1);
  expect(audited).toMatchObject({
    action: 'restore',
    policyId,
    outcome: 'restored',
    delivery: 'unknown',
  });
}, 30_000);

test('a Restore reply that Slack rate-limits is still retried (nothing was done): one reply, in the thread', async () => {
  const bot = await start();
  const policyId = await trashedThroughTheBot(bot, 3);
  bot.slack.fail('chat.postMessage', { status: 429, headers: { 'Retry-After': '0' } });

  expect((await pressRestore(bot, policyId)).status).toBe(200);
  await bot.slack.waitFor('chat.postMessage', 2);
  await bot.bot.idle();
  expect(bot.slack.callsTo('chat.postMessage')).toHaveLength(2);
  expect(bot.slack.callsTo('response_url')).toEqual([]);
  const [audited] = await bot.bot.store.audit.recent(WORKSPACE, 1);
  expect(audited).toMatchObject({ action: 'restore', policyId, outcome: 'restored', delivery: 'channel' });
});
