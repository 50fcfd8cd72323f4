/**
 * After a schedule: the reminder and the restore offer that Slack holds, replaced on reschedule;
 * the Reschedule button; the Restore from trash button (success, missing scope, purged).
 */
import { createUpcomingDeletions } from '../../src/scheduling/upcoming.js';
import { ACTIONS } from '../../src/slack/ids.js';
import {
  CHANNEL,
  type Harness,
  inMinutes,
  KATAPULT_TOKEN,
  MEMBER,
  SIGNING_SECRET,
} from '../../support/harness.js';
import { blockActionBody, postSigned } from '../../support/slack-requests.js';
import { poll } from '../helpers/poll.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const shared = useSharedHarness();
let h: Harness;
beforeAll(() => {
  h = shared.h;
});
beforeEach(() => {
  h.katapult.setTokens({ [KATAPULT_TOKEN]: 'Acme Ops' });
});

const press = (
  actionId: string,
  value: string,
  extra: { channelId?: string; userId?: string; messageTs?: string } = {},
) =>
  postSigned(
    `${h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    blockActionBody({
      actionId,
      value,
      channelId: CHANNEL,
      messageTs: extra.messageTs ?? '1700000000.000200',
      responseUrl: h.slack.responseUrl('btn'),
      ...extra,
    }),
  );

const upcomingRecord = (policyId: string) =>
  createUpcomingDeletions(h.bot.store.docs).get('T0FAKE001', policyId);

async function schedule(policyId: string, at: number) {
  await h.submitSchedule({ policyId, at });
  await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();
}

test('a schedule hours ahead holds a reminder (with Reschedule) and a restore offer (with Restore) in the channel', async () => {
  const at = inMinutes(180);
  await schedule('dbp_held', at);
  const held = h.slack.callsTo('chat.scheduleMessage');
  expect(held.map((c) => Number(c.args.post_at))).toEqual([at - 3600, at + 60]);
  expect(held.every((c) => c.args.channel === CHANNEL)).toBe(true);
  // Replies in the thread of the request's one message; the reminder is also shown in the channel.
  const [post] = h.slack.callsTo('chat.postMessage');
  const ts = h.slack.topLevel(CHANNEL).find((m) => m.text === post?.args.text)?.ts;
  expect(held.map((c) => c.args.thread_ts)).toEqual([ts, ts]);
  expect(held.map((c) => String(c.args.reply_broadcast))).toEqual(['true', 'false']);
  expect(JSON.stringify(held[0]?.args.blocks)).toContain(ACTIONS.reschedule);
  expect(JSON.stringify(held[0]?.args.blocks)).toContain('moves to the trash in *1 hour*');
  expect(JSON.stringify(held[1]?.args.blocks)).toContain(ACTIONS.restore);
});

test('no reminder when the move is closer than the reminder lead', async () => {
  const at = inMinutes(30);
  await schedule('dbp_soon', at);
  expect(h.slack.callsTo('chat.scheduleMessage').map((c) => Number(c.args.post_at))).toEqual([at + 60]);
});

test('scheduling the same policy again deletes the old held messages and holds new ones', async () => {
  await schedule('dbp_again', inMinutes(240));
  const first = h.slack.callsTo('chat.scheduleMessage').length;
  expect(first).toBe(2);
  h.slack.reset();
  await schedule('dbp_again', inMinutes(300));
  const deleted = h.slack.callsTo('chat.deleteScheduledMessage');
  expect(deleted).toHaveLength(2);
  expect(
    deleted.every((c) => c.args.channel === CHANNEL && String(c.args.scheduled_message_id).startsWith('Q')),
  ).toBe(true);
  expect(h.slack.callsTo('chat.scheduleMessage')).toHaveLength(2);
});

test('the Reschedule button opens the scheduling modal filled in with the policy', async () => {
  const res = await press(ACTIONS.reschedule, 'dbp_resched');
  expect(res.status).toBe(200);
  const [open] = await h.slack.waitFor('views.open');
  expect(JSON.stringify(open?.args.view)).toContain('"initial_value":"dbp_resched"');
  expect(JSON.stringify(open?.args.view)).toContain(
    JSON.stringify(JSON.stringify({ c: CHANNEL })).slice(1, -1),
  );
});

describe('Restore from trash', () => {
  const trashed = async (keepUntil: number) => {
    const policy = h.katapult.policies()[0];
    if (!policy) throw new Error('fake has no policies');
    // Restore applies only to a deletion scheduled through the bot in this workspace.
    await schedule(policy.id, inMinutes(60));
    h.slack.reset();
    h.katapult.trashPolicy(policy.id, keepUntil);
    return policy.id;
  };

  test('restores, answers in the request’s thread, names the state in its message, and audits it', async () => {
    const id = await trashed(inMinutes(60 * 24));
    const request = (await upcomingRecord(id))?.message;
    if (!request) throw new Error('the request has no message');
    await press(ACTIONS.restore, id);
    const [reply] = await h.slack.waitFor('chat.postMessage');
    expect(reply?.args.thread_ts).toBe(request.ts);
    expect(JSON.stringify(reply?.args.blocks)).toContain('restored disk backup policy');
    await poll('the request message to say restored', () =>
      h.slack.messageAt(CHANNEL, request.ts)?.text.startsWith('Restored: disk backup policy'),
    );
    expect(h.katapult.requests.find((r) => r.path === '/trash_objects/trash_object/restore')?.body).toEqual({
      trash_object: { object_id: id },
    });
    await h.bot.idle();
    const [entry] = await h.bot.store.audit.recent('T0FAKE001', 1);
    expect(entry).toMatchObject({ action: 'restore', policyId: id, outcome: 'restored', user: MEMBER });
  });

  test('a token without trash_objects:restore is explained, naming the scope', async () => {
    const id = await trashed(inMinutes(60 * 24));
    h.katapult.setTokens({
      [KATAPULT_TOKEN]: { organization: 'Acme Ops', scopes: ['disk_backup_policies'] },
    });
    await press(ACTIONS.restore, id, { messageTs: '1700000000.000300' });
    const [reply] = await h.slack.waitFor('chat.postMessage');
    expect(JSON.stringify(reply?.args.blocks)).toContain('trash_objects:restore');
  });

  test('a purged policy is explained', async () => {
    const id = await trashed(Math.floor(Date.now() / 1000) - 60);
    await press(ACTIONS.restore, id, { messageTs: '1700000000.000400' });
    const [reply] = await h.slack.waitFor('chat.postMessage');
    expect(JSON.stringify(reply?.args.blocks)).toContain('purged');
  });
});

test('a double click on Restore restores once and says the second is under way', async () => {
  const policy = h.katapult.policies()[1];
  if (!policy) throw new Error('fake has too few policies');
  await schedule(policy.id, inMinutes(60));
  h.slack.reset();
  h.katapult.trashPolicy(policy.id, inMinutes(60 * 24));
  h.katapult.latencyMs = 200;
  await Promise.all([
    press(ACTIONS.restore, policy.id, { messageTs: '1700000000.000500' }),
    press(ACTIONS.restore, policy.id, { messageTs: '1700000000.000500' }),
  ]);
  await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();
  h.katapult.latencyMs = 0;
  expect(h.katapult.requests.filter((r) => r.path === '/trash_objects/trash_object/restore')).toHaveLength(1);
  expect(JSON.stringify(h.slack.callsTo('response_url'))).toContain('already under way');
});

test('beyond the 120 days Slack can hold a message: nothing is held, and the result says so', async () => {
  await h.submitSchedule({ policyId: 'dbp_far', at: inMinutes(200 * 24 * 60) });
  const [post] = await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();
  expect(JSON.stringify(post?.args.blocks)).toContain('No reminder or undo message will follow');
  expect(h.slack.callsTo('chat.scheduleMessage')).toHaveLength(0);
});

test('two reschedules of one policy at once, while chat.scheduleMessage is slow, leave exactly one set held', async () => {
  await schedule('dbp_race', inMinutes(240));
  const original = h.slack.callsTo('chat.scheduleMessage').length;
  expect(original).toBe(2);
  h.slack.reset();
  // Slack answers the first new set only once both reschedules were accepted (and their runs started).
  const answer = h.slack.hold('chat.scheduleMessage');
  await Promise.all([
    h.submitSchedule({ policyId: 'dbp_race', at: inMinutes(300) }),
    h.submitSchedule({ policyId: 'dbp_race', at: inMinutes(360) }),
  ]);
  await h.slack.waitFor('chat.scheduleMessage', 1, 20_000);
  answer();
  await h.slack.waitFor('chat.postMessage', 2, 20_000);
  expect(await h.bot.idle(30_000)).toBe(true);
  // Held = every message held since, minus those deleted. Exactly one reminder and one restore offer
  // may remain, the ones the index records; every earlier set (the original's included) is deleted.
  const heldIds = h.slack.callsTo('chat.scheduleMessage').map((c) => c.args as Record<string, unknown>);
  const deleted = new Set(
    h.slack.callsTo('chat.deleteScheduledMessage').map((c) => String(c.args.scheduled_message_id)),
  );
  const record = await upcomingRecord('dbp_race');
  const recorded = [record?.reminderMessageId, record?.restoreMessageId].filter(Boolean);
  expect(recorded).toHaveLength(2);
  expect(deleted.size).toBe(heldIds.length); // the original two plus every replaced set
  for (const id of recorded) expect(deleted.has(String(id))).toBe(false);
  expect(record?.at).toBeGreaterThan(inMinutes(290));
});
