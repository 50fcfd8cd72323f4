/**
 * The emergency stop and the requester's access hold for every Katapult call, end to end (HTTP
 * mode, fakes): once `/katapult freeze` is confirmed, or the requester's access is withdrawn, the
 * fake Katapult sees no further schedule call: not for the rest of a 20-policy form, not for an
 * approved request that waited in the worker queue, not for a record taken over after a crash. The
 * record ends `stopped`, and the channel is told (in the request's message where there is one).
 */
import { createAuditTrail } from '../../src/audit/trail.js';
import { createRequestLog, type RequestRecord } from '../../src/scheduling/request-log.js';
import { ACTIONS } from '../../src/slack/ids.js';
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
import { pressButton } from '../helpers/approvals.js';
import { leaksOf } from '../helpers/secrets.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const TEAM = 'T0FAKE001';
const ADMIN2 = 'U0ADMIN02';
const SCHEDULE_ROUTE = 'DELETE /disk_backup_policies/disk_backup_policy/schedule';
/** Held calls must not time out in the bot meanwhile; a taken-over record is found within 100 ms. */
const ENV = { KATAPULT_TIMEOUT_MS: '20000', REQUEST_LEASE_MS: '1500', REQUEST_SWEEP_MS: '100' };

const scheduleCalls = (h: Harness) => h.katapult.requests.filter((r) => r.method === 'DELETE');
const recordOf = (h: Harness, id: string): Promise<RequestRecord | null> =>
  createRequestLog(h.bot.store.docs).get(id);
const audit = (h: Harness) =>
  createAuditTrail(h.bot.store.audit, h.bot.store.docs, { retentionMs: 86_400_000 }).recent(TEAM, 100);

/** `/katapult freeze` (or unfreeze) by an admin, until the bot answers (a freeze: until it confirms). */
async function setFreeze(h: Harness, freeze: boolean): Promise<void> {
  const before = h.slack.callsTo('response_url').length;
  await h.command({
    text: freeze ? 'freeze' : 'unfreeze',
    user_id: ADMIN,
    response_url: h.slack.responseUrl(),
  });
  const said = (await h.slack.waitFor('response_url', before + 1)).at(-1);
  if (freeze) expect(JSON.stringify(said?.args)).toContain('Frozen');
}

/** Polls until `done` (the bot decides in the background after it acks a click). */
async function until(done: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `n` policies of the fake's catalogue. */
function catalogued(h: Harness, n: number): string[] {
  const ids = h.katapult
    .policies()
    .filter((p) => !p.trash)
    .slice(0, n)
    .map((p) => p.id);
  if (ids.length < n) throw new Error('the fake has too few policies');
  return ids;
}

/** The newest request record of the workspace with these policies. */
async function requestFor(h: Harness, policyIds: string[]): Promise<RequestRecord> {
  const all = await createRequestLog(h.bot.store.docs).since(TEAM, 0, 1000);
  const found = all.filter((r) => r.policies.map((p) => p.policyId).join() === policyIds.join()).at(-1);
  if (!found) throw new Error(`no request for ${policyIds.join()}`);
  return found;
}

describe('without approvals', () => {
  const shared = useSharedHarness({ env: ENV });
  let h: Harness;
  beforeAll(() => {
    h = shared.h;
  });
  afterEach(() => {
    expect(h.slack.refusals()).toEqual([]);
  });

  test('freeze confirmed while a 20-policy form is half done: the fake Katapult sees no call after it', async () => {
    const picked = catalogued(h, 20);
    // The first 10 calls are answered; the next ones (one per lane, 4 at a time) wait.
    const release = h.katapult.hold(SCHEDULE_ROUTE, 10);
    try {
      expect((await h.submitSchedule({ picked, at: inMinutes(180) })).text).toBe('');
      await h.katapult.waitFor(SCHEDULE_ROUTE, 14);
      await setFreeze(h, true);
      const beforeFreeze = scheduleCalls(h).length;
      release();
      const [post] = await h.slack.waitFor('chat.postMessage');
      await h.bot.idle();

      expect(beforeFreeze).toBe(14);
      expect(scheduleCalls(h)).toHaveLength(beforeFreeze);
      const r = await requestFor(h, picked);
      expect(r).toMatchObject({ state: 'stopped', stopped: { reason: 'frozen' } });
      expect(r.policies.filter((p) => p.result?.ok)).toHaveLength(14);
      // Told in the channel: why, and where each policy stands.
      expect(post?.args.channel).toBe(CHANNEL);
      const blocks = JSON.stringify(post?.args.blocks);
      expect(blocks).toContain('stopped');
      expect(blocks).toContain('emergency stop');
      expect(blocks.match(/stopped, not sent to Katapult/g)).toHaveLength(6);
      expect(blocks.match(/scheduled to move to the trash/g)).toHaveLength(14);
      // Outcomes other than `scheduled` merge per person, outcome and 10 minutes (src/audit/trail.ts):
      // the six stopped policies are one entry counting 6, naming the last of them.
      const stopped = (await audit(h)).filter(
        (e) => e.outcome === 'stopped:frozen' && picked.includes(e.policyId ?? ''),
      );
      expect(stopped.reduce((sum, e) => sum + (e.count ?? 1), 0)).toBe(6);
      // No reminder or restore offer is held for a request the emergency stop ended.
      expect(h.slack.callsTo('chat.scheduleMessage')).toEqual([]);
    } finally {
      release();
      await setFreeze(h, false);
    }
  });

  test('access withdrawn while a form is under way: no call after the change is saved; the record stops', async () => {
    const picked = catalogued(h, 20);
    const release = h.katapult.hold(SCHEDULE_ROUTE, 6);
    try {
      expect((await h.submitSchedule({ picked, at: inMinutes(240), userId: MEMBER })).text).toBe('');
      await h.katapult.waitFor(SCHEDULE_ROUTE, 10);
      // Only admins may schedule from now on (MEMBER is not one).
      await h.submitAccess({ who: 'admins', groups: [], channels: [] });
      expect(JSON.stringify((await h.slack.waitFor('views.update')).at(-1)?.args.view)).toContain('Saved');
      release();
      const [post] = await h.slack.waitFor('chat.postMessage');
      await h.bot.idle();

      expect(scheduleCalls(h)).toHaveLength(10);
      expect(await requestFor(h, picked)).toMatchObject({
        state: 'stopped',
        stopped: { reason: 'not_admin' },
      });
      expect(JSON.stringify(post?.args.blocks)).toContain('may no longer schedule');
    } finally {
      release();
      await h.submitAccess({ who: 'everyone', groups: [], channels: [] });
      await h.slack.waitFor('views.update', 2);
    }
  });

  test('a record taken over after the freeze: no Katapult call; it ends stopped and the channel is told', async () => {
    // A worker checked access, marked the record `calling`, and died before its call (its lease lapses).
    const record: RequestRecord = {
      id: `${TEAM}:VTAKENOVER1`,
      workspace: TEAM,
      user: MEMBER,
      channel: CHANNEL,
      botUserId: null,
      atSeconds: inMinutes(200),
      createdAt: Date.now(),
      retryNum: null,
      state: 'calling',
      attempts: 1,
      zone: 'America/New_York',
      policies: [{ policyId: 'dbp_taken_over' }],
    };
    await setFreeze(h, true);
    try {
      expect(await createRequestLog(h.bot.store.docs).create(record, 'a-worker-that-died', 1)).toBe(true);
      const [post] = await h.slack.waitFor('chat.postMessage');
      await h.bot.idle();
      expect(scheduleCalls(h)).toEqual([]);
      expect(await recordOf(h, record.id)).toMatchObject({ state: 'stopped', stopped: { reason: 'frozen' } });
      expect(post?.args.channel).toBe(CHANNEL);
      expect(JSON.stringify(post?.args.blocks)).toContain('dbp_taken_over');
      expect(JSON.stringify(post?.args.blocks)).toContain('emergency stop');
      // The dead worker may have sent it: the channel is told to check, not told it was not sent.
      expect(JSON.stringify(post?.args.blocks)).toContain('check the policy in Katapult');
    } finally {
      await setFreeze(h, false);
    }
  });
});

describe('with approvals, one request at a time', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: { ...ENV, KATAPULT_REQUIRE_APPROVAL: 'on', REQUEST_CONCURRENCY: '1' },
    });
    await setWorkspaceToken(h);
    h.slack.users.set(ADMIN2, { tz: 'UTC', is_admin: true });
  });
  afterAll(async () => {
    const leaks = leaksOf(h, [KATAPULT_TOKEN, BOT_TOKEN, SIGNING_SECRET, h.encryptionKey]);
    await h.stop();
    expect(leaks).toEqual([]);
  });

  const buttonsOf = (call: SlackCall | undefined) =>
    ((call?.args.blocks ?? []) as { type: string; elements?: { action_id: string; value: string }[] }[])
      .filter((b) => b.type === 'actions')
      .flatMap((b) => b.elements ?? []);

  /** Submits for approval; returns the record ID and the request message's ts. */
  async function requestApproval(policyId: string): Promise<{ id: string; ts: string }> {
    const before = h.slack.callsTo('chat.postMessage').length;
    expect((await h.submitSchedule({ policyId, at: inMinutes(90), userId: ADMIN })).text).toBe('');
    const posted = (await h.slack.waitFor('chat.postMessage', before + 1)).at(-1);
    const id = buttonsOf(posted).find((b) => b.action_id === ACTIONS.approve)?.value;
    await h.bot.idle();
    const ts = (await recordOf(h, id ?? ''))?.approval?.messageTs;
    if (!id || !ts) throw new Error('no request for approval was posted');
    return { id, ts };
  }

  test('freeze confirmed while an approved request waits in the worker queue: it is never sent to Katapult', async () => {
    const first = await requestApproval('dbp_first_approved');
    const waiting = await requestApproval('dbp_approved_waiting');
    const release = h.katapult.hold(SCHEDULE_ROUTE);
    try {
      // The first approved request takes the only worker, its call held in Katapult; the second,
      // approved next, waits in the queue behind it.
      await pressButton(h, ACTIONS.approve, first.id, ADMIN2);
      await h.katapult.waitFor(SCHEDULE_ROUTE, 1);
      await pressButton(h, ACTIONS.approve, waiting.id, ADMIN2);
      // Decided (approved: pending again), and queued behind the first.
      await until(async () => (await recordOf(h, waiting.id))?.state === 'pending');
      expect(scheduleCalls(h)).toHaveLength(1);

      await setFreeze(h, true);
      release();
      await h.bot.idle();

      // Only the call that was already under way when the freeze came.
      expect(scheduleCalls(h)).toHaveLength(1);
      expect((await recordOf(h, first.id))?.state).toBe('done');
      expect(await recordOf(h, waiting.id)).toMatchObject({
        state: 'stopped',
        stopped: { reason: 'frozen' },
      });
      // The channel reads it in the request's own message, edited in place.
      const edits = h.slack.callsTo('chat.update').filter((c) => c.args.ts === waiting.ts);
      expect(edits).toHaveLength(1);
      expect(JSON.stringify(edits[0]?.args.blocks)).toContain('emergency stop');
      expect(JSON.stringify(edits[0]?.args.blocks)).toContain('dbp_approved_waiting');
      expect(JSON.stringify(edits[0]?.args.blocks)).toContain('not sent to Katapult');
      const outcomes = (await audit(h))
        .filter((e) => e.policyId === 'dbp_approved_waiting' && e.action === 'schedule')
        .map((e) => e.outcome);
      expect(outcomes).toEqual(['stopped:frozen']);
    } finally {
      release();
      await setFreeze(h, false);
    }
  });
});

describe('a submission while frozen, with the default lease', () => {
  // REQUEST_LEASE_MS as deployed: the record's insert goes with the gate's read (a lease shorter
  // than three intake times, as above, keeps the gate first).
  const shared = useSharedHarness();
  let h: Harness;
  beforeAll(() => {
    h = shared.h;
  });

  test('a form submitted while frozen is refused in the form; the record written with the gate’s read is gone', async () => {
    const [policy] = catalogued(h, 1);
    const calls = scheduleCalls(h).length;
    const since = Date.now();
    await setFreeze(h, true);
    try {
      // Each request record the store is asked to insert (the intake goes with the gate's read).
      const inserted: string[] = [];
      h.bot.store.onRoundTrip((statements) => {
        for (const { sql, values } of statements)
          if (/^\s*INSERT/i.test(sql) && values.includes('request')) inserted.push(sql);
      });
      const answers = [];
      // The first warms the access policy's cache (if nothing else did); the second finds it there.
      for (let i = 0; i < 2; i++)
        answers.push(await h.submitSchedule({ policyId: policy, at: inMinutes(90) }));
      h.bot.store.onRoundTrip(null);
      await h.bot.idle();

      for (const answer of answers) expect(answer.text).toContain('Scheduling is frozen in this workspace');
      expect(inserted.length).toBeGreaterThanOrEqual(1);
      const records = await createRequestLog(h.bot.store.docs).since(TEAM, since, 1000);
      expect(records.filter((r) => r.policies.some((p) => p.policyId === policy))).toEqual([]);
      const refused = (await audit(h)).filter(
        (e) => e.outcome === 'refused:frozen' && e.policyId === policy && e.at >= since,
      );
      expect(refused.reduce((sum, e) => sum + (e.count ?? 1), 0)).toBe(2);
      expect(scheduleCalls(h)).toHaveLength(calls);
    } finally {
      h.bot.store.onRoundTrip(null);
      await setFreeze(h, false);
    }
  });
});
