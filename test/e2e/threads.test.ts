/**
 * One message per request, its story in the thread (issue 21): the outcome is the request's one
 * top-level message; the reminder (broadcast), the restore offer, reconcile notes and a restore's
 * result are replies in its thread; the message is edited in place to name each state, the ones due
 * at a later time by the reconcile pass. A reschedule continues the message; a record from before
 * threads keeps its follow-ups at top level; the private fallback keeps the thread in the DM.
 */
import { createUpcomingDeletions, type UpcomingDeletion } from '../../src/scheduling/upcoming.js';
import { ACTIONS } from '../../src/slack/ids.js';
import { FAKE_BOT_USER_ID } from '../../support/fakes/slack-api.js';
import { CHANNEL, type Harness, MEMBER, SIGNING_SECRET } from '../../support/harness.js';
import { blockActionBody, postSigned } from '../../support/slack-requests.js';
import { testClock } from '../helpers/clock.js';
import { poll } from '../helpers/poll.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const clock = testClock();
const shared = useSharedHarness({ now: clock.now });
let h: Harness;
beforeAll(() => {
  h = shared.h;
});
afterEach(() => {
  expect(h.slack.refusals()).toEqual([]);
});

const TEAM = 'T0FAKE001';
const OTHER = 'C0OTHER01';
/** Minutes from now on the bot's clock (which the first test moves on). */
const soon = (minutes: number) => Math.floor(clock.now() / 1000) + minutes * 60;
const upcoming = () => createUpcomingDeletions(h.bot.store.docs);
const botTopLevel = () => h.slack.topLevel(CHANNEL).map((m) => m.ts);

/** Schedules through the form and waits until the request has run; returns its message's ts. */
async function schedule(policyId: string, at: number): Promise<string> {
  await h.submitSchedule({ policyId, at });
  await h.slack.waitFor('chat.scheduleMessage');
  await h.bot.idle();
  const record = await upcoming().get(TEAM, policyId);
  if (!record?.message) throw new Error(`no request message for ${policyId}`);
  return record.message.ts;
}

const textOf = (ts: string) => h.slack.messageAt(CHANNEL, ts)?.text ?? '';
const waitForText = (ts: string, start: string) =>
  poll(`the request message to read "${start}…"`, () => textOf(ts).startsWith(start));

test('one top-level message per request: follow-ups in its thread, each later state named in the message', async () => {
  const policyId = h.katapult.policies()[0]?.id as string;
  const before = botTopLevel();
  const at = soon(180);
  const ts = await schedule(policyId, at);
  expect(botTopLevel().filter((t) => !before.includes(t))).toEqual([ts]);

  // The reminder and the restore offer are held as replies; the reminder is also broadcast.
  const held = h.slack.callsTo('chat.scheduleMessage');
  expect(held.map((c) => [c.args.channel, c.args.thread_ts, String(c.args.reply_broadcast)])).toEqual([
    [CHANNEL, ts, 'true'],
    [CHANNEL, ts, 'false'],
  ]);

  // The reminder is due (the bot's clock moved on): the reconcile pass says so in the message.
  clock.advance(130 * 60_000);
  await h.bot.reconcile();
  await waitForText(ts, 'Reminder due');

  // The move happened: Katapult has it in the trash, the next pass names it.
  h.katapult.trashPolicy(policyId, soon(60 * 24 * 7));
  clock.advance(60 * 60_000);
  await h.bot.reconcile();
  await waitForText(ts, 'Moved to the trash');
  const record = (await upcoming().get(TEAM, policyId)) as UpcomingDeletion;
  expect(record.shown).toBe('moved');

  // Restore from the offer (a reply in the thread): the result is a reply too, the message says restored.
  const offer = h.slack.addMessage({
    channel: CHANNEL,
    text: 'offer',
    user: FAKE_BOT_USER_ID,
    thread_ts: ts,
  });
  h.slack.reset();
  await postSigned(
    `${h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    blockActionBody({
      actionId: ACTIONS.restore,
      value: policyId,
      channelId: CHANNEL,
      messageTs: offer.ts,
      threadTs: ts,
      responseUrl: h.slack.responseUrl('btn'),
    }),
  );
  const [reply] = await h.slack.waitFor('chat.postMessage');
  expect(reply?.args.thread_ts).toBe(ts);
  await waitForText(ts, 'Restored');
  expect(h.slack.messageAt(CHANNEL, ts)?.edits).toBe(3);
  expect(botTopLevel().filter((t) => !before.includes(t))).toEqual([ts]);

  // A later pass does not move a restored message back.
  h.slack.reset();
  await h.bot.reconcile();
  expect(h.slack.callsTo('chat.update')).toEqual([]);
});

test('a reschedule of a policy with a live message continues that message and its thread', async () => {
  const policyId = h.katapult.policies()[1]?.id as string;
  const before = botTopLevel();
  const ts = await schedule(policyId, soon(240));
  h.slack.reset();
  const later = soon(300);
  await h.submitSchedule({ policyId, at: later });
  await h.slack.waitFor('chat.scheduleMessage', 2);
  await h.bot.idle();

  expect(botTopLevel().filter((t) => !before.includes(t))).toEqual([ts]);
  expect(h.slack.callsTo('chat.update').map((c) => c.args.ts)).toEqual([ts]);
  expect(JSON.stringify(h.slack.messageAt(CHANNEL, ts)?.blocks)).toContain(`<!date^${later}^`);
  const replies = h.slack.callsTo('chat.postMessage');
  expect(replies.map((c) => c.args.thread_ts)).toEqual([ts]);
  expect(String(replies[0]?.args.text)).toContain('rescheduled');
  expect(h.slack.callsTo('chat.scheduleMessage').map((c) => c.args.thread_ts)).toEqual([ts, ts]);
});

test('a reschedule in another channel starts a message there, and the earlier one says it was rescheduled', async () => {
  const policyId = h.katapult.policies()[5]?.id as string;
  const ts = await schedule(policyId, soon(240));
  h.slack.reset();
  const later = soon(300);
  await h.submitSchedule({ policyId, at: later, channelId: OTHER });
  await h.slack.waitFor('chat.scheduleMessage', 2);
  await h.bot.idle();
  const record = await upcoming().get(TEAM, policyId);
  expect(record?.message?.channel).toBe(OTHER);
  expect(h.slack.callsTo('chat.scheduleMessage').map((c) => [c.args.channel, c.args.thread_ts])).toEqual([
    [OTHER, record?.message?.ts],
    [OTHER, record?.message?.ts],
  ]);
  await waitForText(ts, 'Rescheduled');
  expect(JSON.stringify(h.slack.messageAt(CHANNEL, ts)?.blocks)).toContain(`<!date^${later}^`);
});

test('a record from before threads (no message) keeps its follow-ups and notes at top level', async () => {
  const policy = h.katapult.policies()[2];
  if (!policy) throw new Error('fake has too few policies');
  const at = soon(240);
  h.katapult.setAutoMoveToTrashAt(policy.id, at);
  await upcoming().put(TEAM, {
    policyId: policy.id,
    channelId: CHANNEL,
    at,
    scheduledBy: MEMBER,
    targetType: null,
    targetId: null,
    reminderMessageId: null,
    restoreMessageId: null,
  });
  const later = soon(480);
  h.katapult.setAutoMoveToTrashAt(policy.id, later);
  await h.bot.reconcile();

  const held = h.slack.callsTo('chat.scheduleMessage');
  expect(held).toHaveLength(2);
  expect(held.every((c) => c.args.channel === CHANNEL && c.args.thread_ts === undefined)).toBe(true);
  const notes = h.slack.callsTo('chat.postMessage');
  expect(notes).toHaveLength(1);
  expect(notes[0]?.args.thread_ts).toBeUndefined();
  expect(h.slack.callsTo('chat.update')).toEqual([]);
});

test('a change seen in Katapult is a reply in the thread, and the message names it', async () => {
  const policyId = h.katapult.policies()[3]?.id as string;
  const ts = await schedule(policyId, soon(240));
  h.slack.reset();
  h.katapult.setAutoMoveToTrashAt(policyId, null);
  await h.bot.reconcile();
  const [note] = h.slack.callsTo('chat.postMessage');
  expect(note?.args.thread_ts).toBe(ts);
  await waitForText(ts, 'No longer scheduled');
});

test('the private fallback: the message and its follow-ups are in the direct message, threaded there', async () => {
  const policyId = h.katapult.policies()[4]?.id as string;
  h.slack.fail('chat.postMessage', 'not_in_channel');
  await h.submitSchedule({ policyId, at: soon(240) });
  await h.slack.waitFor('chat.scheduleMessage', 2);
  await h.bot.idle();
  const record = await upcoming().get(TEAM, policyId);
  expect(record?.message?.channel).toBe(MEMBER);
  const dm = record?.message?.ts as string;
  expect(h.slack.messageAt(MEMBER, dm)?.thread_ts).toBeUndefined();
  expect(h.slack.callsTo('chat.scheduleMessage').map((c) => [c.args.channel, c.args.thread_ts])).toEqual([
    [MEMBER, dm],
    [MEMBER, dm],
  ]);
});

test('a restore written while the pass moves the message on stands: the pass writes over the version it read', async () => {
  const policyId = h.katapult.policies()[6]?.id as string;
  await schedule(policyId, soon(180));
  clock.advance(130 * 60_000);
  const docs = h.bot.store.docs;
  const replace = docs.replaceIfUnchanged;
  let raced = false;
  // Just before the pass writes "reminder due", a restore (which takes no policy lock) writes its own.
  docs.replaceIfUnchanged = async (collection, doc, seen) => {
    if (collection === 'upcoming' && doc.key === `${TEAM}:${policyId}` && !raced) {
      raced = true;
      const now = (await upcoming().get(TEAM, policyId)) as UpcomingDeletion;
      await upcoming().put(TEAM, { ...now, shown: 'restored' });
    }
    return replace.call(docs, collection, doc, seen);
  };
  try {
    await h.bot.reconcile();
  } finally {
    docs.replaceIfUnchanged = replace;
  }
  expect(raced).toBe(true);
  expect((await upcoming().get(TEAM, policyId))?.shown).toBe('restored');
});
