/**
 * The messages Slack holds for a policy (the reminder, the restore offer) are never left to go out
 * unnamed when reconcile follows a change made in Katapult: a delete Slack rate-limits is sent
 * again; one Slack still refuses leaves the record naming them (nothing new held, no note) for the
 * next pass; new messages whose record could not be written are deleted again, and the note waits
 * for the pass that keeps them. End to end: the fake Slack and Katapult, the bot's SQLite store.
 */
import { createUpcomingDeletions, UPCOMING } from '../../src/scheduling/upcoming.js';
import type { Docs } from '../../src/store/docs.js';
import { type Harness, inMinutes } from '../../support/harness.js';

const WORKSPACE = 'T0FAKE001';

import { useSharedHarness } from '../helpers/shared-harness.js';

const shared = useSharedHarness();
let h: Harness;
beforeAll(() => {
  h = shared.h;
});

const indexed = (policyId: string) => createUpcomingDeletions(h.bot.store.docs).get(WORKSPACE, policyId);
const deleted = () => h.slack.callsTo('chat.deleteScheduledMessage').map((c) => c.args.scheduled_message_id);
const held = () => h.slack.callsTo('chat.scheduleMessage');
/** Reconcile's notes: nothing else posts once the schedule's own post is past (the harness resets between). */
const notes = () => h.slack.callsTo('chat.postMessage');

/** Schedules `policyId` through the bot; returns its index record (with the two held messages). */
async function scheduled(policyId: string) {
  await h.submitSchedule({ policyId, at: inMinutes(240) });
  await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();
  const record = await indexed(policyId);
  expect(record?.reminderMessageId).toBeTruthy();
  expect(record?.restoreMessageId).toBeTruthy();
  h.slack.reset();
  return record as NonNullable<typeof record>;
}

test('a delete Slack rate-limits is sent again after its Retry-After: the pass replaces both messages', async () => {
  const before = await scheduled('dbp_held_429');
  const later = inMinutes(600);
  h.katapult.setAutoMoveToTrashAt('dbp_held_429', later);
  h.slack.fail('chat.deleteScheduledMessage', { status: 429, headers: { 'retry-after': '0' } });

  expect((await h.bot.reconcile()).changed).toBe(1);
  expect(deleted()).toEqual([before.reminderMessageId, before.reminderMessageId, before.restoreMessageId]);
  expect(held()).toHaveLength(2);
  expect(notes()).toHaveLength(1);
  expect((await indexed('dbp_held_429'))?.at).toBe(later);
});

/** Slack's outage answer to every try of one delete (3). */
const outage = () =>
  h.slack.fail('chat.deleteScheduledMessage', 'internal_error', 'internal_error', 'internal_error');

test('moved in Katapult, Slack cannot delete one (an outage): nothing new is held, the record keeps naming both, no note; the next pass replaces them', async () => {
  const before = await scheduled('dbp_held_moved');
  const later = inMinutes(600);
  h.katapult.setAutoMoveToTrashAt('dbp_held_moved', later);
  outage();

  expect((await h.bot.reconcile()).skipped).toBe(1);
  expect(held()).toEqual([]);
  expect(notes()).toEqual([]);
  expect(await indexed('dbp_held_moved')).toEqual(before);

  h.slack.reset();
  expect((await h.bot.reconcile()).changed).toBe(1);
  expect(deleted()).toEqual([before.reminderMessageId, before.restoreMessageId]);
  expect(held()).toHaveLength(2);
  expect(notes()).toHaveLength(1);
  const after = await indexed('dbp_held_moved');
  expect(after?.at).toBe(later);
  expect(after?.reminderMessageId).not.toBe(before.reminderMessageId);
});

test('cleared in Katapult, Slack cannot delete one (an outage): the record stays naming them, no note; the next pass deletes them and removes it', async () => {
  const before = await scheduled('dbp_held_cleared');
  h.katapult.setAutoMoveToTrashAt('dbp_held_cleared', null);
  outage();

  expect((await h.bot.reconcile()).skipped).toBe(1);
  expect(notes()).toEqual([]);
  expect(await indexed('dbp_held_cleared')).toEqual(before);

  h.slack.reset();
  expect((await h.bot.reconcile()).changed).toBe(1);
  expect(deleted()).toEqual([before.reminderMessageId, before.restoreMessageId]);
  expect(notes()).toHaveLength(1);
  expect(await indexed('dbp_held_cleared')).toBeNull();
});

test('a delete Slack refuses for good (the channel is gone, archived, the bot removed): Slack will not post it either, so the pass goes on', async () => {
  const before = await scheduled('dbp_held_archived');
  const later = inMinutes(600);
  h.katapult.setAutoMoveToTrashAt('dbp_held_archived', later);
  h.slack.fail('chat.deleteScheduledMessage', 'is_archived');

  expect((await h.bot.reconcile()).changed).toBe(1);
  // Once: a refusal for good is not sent again.
  expect(deleted()).toEqual([before.reminderMessageId, before.restoreMessageId]);
  expect(held()).toHaveLength(2);
  expect(notes()).toHaveLength(1);
  expect((await indexed('dbp_held_archived'))?.at).toBe(later);
});

test('the record cannot be written after new messages were held: they are deleted, no note; the next pass keeps its own, one note', async () => {
  const before = await scheduled('dbp_held_write');
  const later = inMinutes(600);
  h.katapult.setAutoMoveToTrashAt('dbp_held_write', later);
  const docs = h.bot.store.docs as Docs;
  const replace = docs.replaceIfUnchanged;
  let failed = 0;
  docs.replaceIfUnchanged = async (collection, doc, seen) => {
    if (collection === UPCOMING && failed++ === 0) throw new Error('connection reset');
    return replace.call(docs, collection, doc, seen);
  };
  try {
    expect((await h.bot.reconcile()).skipped).toBe(1);
  } finally {
    docs.replaceIfUnchanged = replace;
  }
  const first = held().map((c) => String(c.args.post_at));
  expect(first).toHaveLength(2);
  // The old two, then the two just held (their IDs are the fake's answers, in order).
  expect(deleted()).toHaveLength(4);
  expect(deleted().slice(0, 2)).toEqual([before.reminderMessageId, before.restoreMessageId]);
  expect(notes()).toEqual([]);
  expect((await indexed('dbp_held_write'))?.at).toBe(before.at);

  h.slack.reset();
  expect((await h.bot.reconcile()).changed).toBe(1);
  expect(notes()).toHaveLength(1);
  const after = await indexed('dbp_held_write');
  expect(after?.at).toBe(later);
  const kept = held();
  expect(kept).toHaveLength(2);
  expect(deleted()).not.toContain(after?.reminderMessageId);
});

test('new messages whose record cannot be written and whose delete fails too: logged with their IDs, for an operator', async () => {
  await scheduled('dbp_held_lost');
  h.katapult.setAutoMoveToTrashAt('dbp_held_lost', inMinutes(600));
  const docs = h.bot.store.docs as Docs;
  const replace = docs.replaceIfUnchanged;
  docs.replaceIfUnchanged = async (collection, doc, seen) => {
    if (collection === UPCOMING) throw new Error('connection reset');
    return replace.call(docs, collection, doc, seen);
  };
  const ok = { status: 200, body: { ok: true } };
  try {
    // The old two are deleted; the two just held cannot be (every try of each: an outage).
    h.slack.fail('chat.deleteScheduledMessage', ok, ok, ...Array<string>(6).fill('internal_error'));
    expect((await h.bot.reconcile()).skipped).toBe(1);
  } finally {
    docs.replaceIfUnchanged = replace;
  }
  const ids = held().map((c) => c.args);
  expect(ids).toHaveLength(2);
  const unnamed = h.logs.filter((line) => line.includes('held_messages_unnamed'));
  expect(unnamed).toHaveLength(1);
  expect(unnamed[0]).toContain('dbp_held_lost');
  expect(notes()).toEqual([]);
});
