/**
 * After a successful schedule: delete the messages Slack still holds for an earlier schedule of the
 * same policy, then have Slack hold a reminder (a while before the move, with a Reschedule button)
 * and a restore offer (just after it, with a Restore button). `chat.scheduleMessage` keeps them, so
 * no timer of ours has to survive restarts. Failures here never undo the schedule: they are logged.
 * `chat.scheduleMessage` is not idempotent: it is never retried after a timeout (slack-writes.ts).
 *
 * With the request's message known (issue 21) both are replies in its thread; the reminder, the
 * last word before the move, is also broadcast to the channel (`reply_broadcast`). A record from
 * before that has no message: its follow-ups go at top level, as they did.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { webApi } from '@slack/bolt';
import type { AppLogger } from '../../log.js';
import type { RequestMessage } from '../../scheduling/request-log.js';
import {
  HeldMessagesLeft,
  isLive,
  keepHeld,
  type MessageState,
  type UpcomingDeletion,
  type UpcomingDeletions,
  unnamedHeld,
  versionOf,
} from '../../scheduling/upcoming.js';
import { movedMessage, reminderMessage, requestStateMessage } from '../blocks/followups.js';
import type { SlackMessage } from '../blocks/messages.js';
import { slackErrorCode, slackErrorText } from '../workspace.js';
import { editMessage } from './request-message.js';
import { mayHaveBeenDone, nothingWasDone, writeOnce } from './slack-writes.js';

/** Slack holds a scheduled message for at most 120 days. */
export const SLACK_SCHEDULE_LIMIT_SECONDS = 120 * 86_400;
/** The restore offer is posted this long after the move is due. */
const RESTORE_OFFER_DELAY_SECONDS = 60;

/** Whether Slack can hold the restore offer (and so the follow-ups) for a move at `at`. */
export function followupsFit(at: number, nowSeconds: number): boolean {
  return at + RESTORE_OFFER_DELAY_SECONDS <= nowSeconds + SLACK_SCHEDULE_LIMIT_SECONDS;
}
/** A reminder closer than this to now is pointless: the result message was just posted. */
const MIN_REMINDER_GAP_SECONDS = 5 * 60;

export interface FollowupDeps {
  upcoming: UpcomingDeletions;
  logger: AppLogger;
  /** 0 turns reminders off. */
  reminderLeadSeconds: number;
  now: () => number;
}

/** Attempts per delete: a delete is idempotent, so any failure that may pass is tried again. */
const DELETE_ATTEMPTS = 3;
/** Slack's answers that may pass: it may still hold the message, and a later delete may work. */
const TRANSIENT = new Set([
  'internal_error',
  'fatal_error',
  'request_timeout',
  'service_unavailable',
  'ratelimited',
]);

/**
 * Deletes one held message: true once Slack will not post it (deleted now or before, gone with its
 * conversation or the bot's access to it: any refusal that is not transient); false when Slack may
 * still hold it after a few tries (a rate limit, an outage, no answer).
 */
async function deleteOne(
  client: webApi.WebClient,
  logger: AppLogger,
  policyId: string,
  channel: string,
  id: string,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.chat.deleteScheduledMessage({ channel, scheduled_message_id: id });
      return true;
    } catch (error) {
      const code = slackErrorCode(error);
      const retry =
        nothingWasDone(error) ??
        (mayHaveBeenDone(error) || (code && TRANSIENT.has(code)) ? { wait: 500 } : null);
      const left = retry !== null || code === null;
      if (retry && attempt < DELETE_ATTEMPTS) {
        await sleep(retry.wait);
        continue;
      }
      // `invalid_scheduled_message_id` (it went out, or was deleted) and the like: nothing is held.
      if (code !== 'invalid_scheduled_message_id')
        logger.event('warn', 'scheduled_message_delete_failed', {
          policy_id: policyId,
          slack_error: slackErrorText(error),
          ...(left ? {} : { held: false }),
        });
      return !left;
    }
  }
}

/**
 * Deletes the messages Slack holds for a record (the reminder, the restore offer). False when Slack
 * may still hold one (logged): the caller then keeps the record naming them, and tries again later,
 * so a reminder for a time that no longer stands is never left to go out unnamed.
 */
export async function deleteHeld(
  client: webApi.WebClient,
  logger: AppLogger,
  record: Pick<
    UpcomingDeletion,
    'policyId' | 'channelId' | 'heldIn' | 'reminderMessageId' | 'restoreMessageId'
  >,
): Promise<boolean> {
  let all = true;
  for (const id of [record.reminderMessageId, record.restoreMessageId]) {
    if (id && !(await deleteOne(client, logger, record.policyId, record.heldIn ?? record.channelId, id)))
      all = false;
  }
  return all;
}

/**
 * Replaces the held messages of one policy. The caller holds the policy's lock (a request's
 * `policy:` lock, or reconcile's, which also takes the `followups:` one inside it: owned and renewed
 * in the store), so two reschedules never both hold new messages. `indexed`: the policy's index
 * record as the caller wrote it under that same hold (so it is not read again); else it is read.
 * A request older than the one the index records holds nothing: its time is not the one that stands.
 */
export async function replaceFollowups(
  client: webApi.WebClient,
  deps: FollowupDeps,
  input: {
    workspaceId: string;
    policyId: string;
    channelId: string;
    at: number;
    scheduledBy: string;
    target: { type: string | null; id: string | null };
    requestCreatedAt?: number;
    indexed?: UpcomingDeletion;
    /** The request's message: the follow-ups are replies in its thread (kept from the record otherwise). */
    message?: RequestMessage;
    /** The message covers several policies. */
    sharedMessage?: boolean;
    /** What the message shows now. */
    shown?: MessageState;
    /**
     * Given: the index record is handed to it (the caller writes it, over `version`, the one read or
     * given) instead of written here.
     */
    handOver?: (record: UpcomingDeletion, version: string | null) => void;
  },
): Promise<{ reminder: boolean; restoreOffer: boolean; kept: boolean }> {
  const log = (event: string, error: unknown) =>
    deps.logger.event('warn', event, {
      policy_id: input.policyId,
      slack_error: slackErrorText(error),
    });

  // The record as it stands (the caller's own write, else read) and the version it is replaced over.
  const read = input.indexed
    ? { record: input.indexed, version: versionOf(input.indexed) }
    : await deps.upcoming.read(input.workspaceId, input.policyId);
  const previous = read.record;
  if (
    previous?.requestCreatedAt !== undefined &&
    input.requestCreatedAt !== undefined &&
    previous.requestCreatedAt > input.requestCreatedAt
  ) {
    deps.logger.event('warn', 'followups_superseded', { policy_id: input.policyId });
    return { reminder: false, restoreOffer: false, kept: false };
  }
  // Nothing new is held while Slack may still hold the old ones: the record keeps naming them.
  if (previous && !(await deleteHeld(client, deps.logger, previous)))
    throw new HeldMessagesLeft(input.policyId);
  if (previous) await retireMessage(client, deps, previous, input);

  const nowSeconds = Math.floor(deps.now() / 1000);
  const limit = nowSeconds + SLACK_SCHEDULE_LIMIT_SECONDS;
  let heldIn: string | null = null;
  const thread = threadOf(input, previous);
  const hold = async (postAt: number, message: SlackMessage, broadcast = false) => {
    if (postAt > limit) return null;
    const base = {
      channel: thread.message?.channel ?? input.channelId,
      post_at: postAt,
      text: message.text,
      blocks: message.blocks,
      unfurl_links: false,
    };
    const args: webApi.ChatScheduleMessageArguments = thread.message
      ? { ...base, thread_ts: thread.message.threadTs, reply_broadcast: broadcast }
      : base;
    try {
      const res = await writeOnce(() => client.chat.scheduleMessage(args));
      heldIn = res.channel ?? heldIn;
      return res.scheduled_message_id ?? null;
    } catch (error) {
      log('schedule_message_failed', error);
      return null;
    }
  };

  const lead = deps.reminderLeadSeconds;
  const reminderAt = input.at - lead;
  const reminderMessageId =
    lead > 0 && reminderAt - nowSeconds >= MIN_REMINDER_GAP_SECONDS
      ? await hold(
          reminderAt,
          reminderMessage({
            policyId: input.policyId,
            at: input.at,
            leadSeconds: lead,
            scheduledBy: input.scheduledBy,
          }),
          true,
        )
      : null;
  const restoreMessageId = await hold(
    input.at + RESTORE_OFFER_DELAY_SECONDS,
    movedMessage({ policyId: input.policyId, at: input.at }),
  );

  const record: UpcomingDeletion = {
    policyId: input.policyId,
    channelId: input.channelId,
    at: input.at,
    scheduledBy: input.scheduledBy,
    targetType: input.target.type,
    targetId: input.target.id,
    reminderMessageId,
    restoreMessageId,
    heldIn,
    ...(thread.message ? { message: thread.message } : {}),
    ...(thread.sharedMessage ? { sharedMessage: true } : {}),
    ...(thread.shown ? { shown: thread.shown } : {}),
    ...(input.requestCreatedAt !== undefined
      ? { requestCreatedAt: input.requestCreatedAt }
      : previous?.requestCreatedAt !== undefined
        ? { requestCreatedAt: previous.requestCreatedAt }
        : {}),
  };
  if (input.handOver) input.handOver(record, read.version);
  else if (!(await keepHeld(deps.upcoming, deps.logger, input.workspaceId, record, read.version))) {
    if (!(await deleteHeld(client, deps.logger, record))) unnamedHeld(deps.logger, record);
    return { reminder: false, restoreOffer: false, kept: false };
  }
  return { reminder: reminderMessageId !== null, restoreOffer: restoreMessageId !== null, kept: true };
}

/**
 * The thread the follow-ups go in: the request's message given, else the one the index record kept
 * when it was set by the same request (reconcile's re-hold). A newer request with no message (its
 * post went privately or was lost) does not inherit an older request's thread.
 */
function threadOf(
  input: {
    message?: RequestMessage;
    sharedMessage?: boolean;
    shown?: MessageState;
    requestCreatedAt?: number;
  },
  previous: UpcomingDeletion | null,
): { message?: RequestMessage; sharedMessage?: boolean; shown?: MessageState } {
  if (input.message)
    return {
      message: input.message,
      sharedMessage: input.sharedMessage === true,
      shown: input.shown ?? 'scheduled',
    };
  const same = previous?.message && previous.requestCreatedAt === input.requestCreatedAt;
  if (!same || !previous?.message) return {};
  return {
    message: previous.message,
    sharedMessage: previous.sharedMessage === true,
    ...((input.shown ?? previous.shown) ? { shown: input.shown ?? previous.shown } : {}),
  };
}

/**
 * A newer request for the policy has a message of its own: the earlier one's story ends there, so
 * it says it was rescheduled (its follow-ups were just deleted). Not a message several policies share.
 */
async function retireMessage(
  client: webApi.WebClient,
  deps: FollowupDeps,
  previous: UpcomingDeletion,
  input: { policyId: string; at: number; scheduledBy: string; message?: RequestMessage },
): Promise<void> {
  const earlier = previous.message;
  const next = input.message;
  if (!earlier || !next || previous.sharedMessage || !isLive(previous.shown)) return;
  if (earlier.channel === next.channel && earlier.ts === next.ts) return;
  const content = requestStateMessage('rescheduled', {
    policyId: input.policyId,
    at: input.at,
    scheduledBy: input.scheduledBy,
  });
  await editMessage(client, deps.logger, earlier, content, { policy_id: input.policyId });
}
