/**
 * What a request's one message says once its policy's state moves on (issue 21): the message is
 * edited in place, so its first words name the state. Slack mrkdwn; `plain` is the notification
 * text. The reminder, the restore offer and the notes are replies in the message's thread.
 */
import type { MessageState } from '../scheduling/upcoming.js';
import { code, dateToken, escapeMrkdwn, utcFallback } from './mrkdwn.js';

export interface StateInput {
  policyId: string;
  /** The move's time (unix seconds) as the bot last knew it. */
  at: number;
  scheduledBy: string;
  /** Who acted, when someone did (a restore). */
  by?: string;
}

/** The state as people read it, first in the message's text. */
export const STATE_NAMES: Record<MessageState, string> = {
  scheduled: 'Scheduled',
  reminder_due: 'Reminder due',
  moved: 'Moved to the trash',
  restored: 'Restored',
  changed: 'Changed outside Slack',
  cleared: 'No longer scheduled (changed outside Slack)',
  gone: 'Gone from Katapult',
  trashed_early: 'Moved to the trash (outside Slack)',
  rescheduled: 'Rescheduled',
};

export function requestStateText(
  state: MessageState,
  input: StateInput,
): { plain: string; mrkdwn: string; footer: string } {
  const p = code(input.policyId);
  const name = STATE_NAMES[state];
  const plain = `${name}: disk backup policy ${escapeMrkdwn(input.policyId)} (move ${utcFallback(input.at)}).`;
  const by = `scheduled by <@${input.scheduledBy}>`;
  const mrkdwn = {
    scheduled: `:calendar: *${name}:* disk backup policy ${p} moves to the trash on ${dateToken(input.at)} (${by}).`,
    reminder_due: `:alarm_clock: *${name}:* disk backup policy ${p} moves to the trash on ${dateToken(input.at)} (${by}). Reschedule it from the reminder in the thread.`,
    moved: `:wastebasket: *${name}:* disk backup policy ${p} moved to Katapult's trash on ${dateToken(input.at)} (${by}). Until it is purged it can be restored from the thread.`,
    restored: `:recycle: *${name}:* disk backup policy ${p} was restored from the trash${input.by ? ` by <@${input.by}>` : ''}. Check its schedule in Katapult: it may still carry the old deletion time.`,
    changed: `:arrows_counterclockwise: *${name}:* disk backup policy ${p} now moves to the trash on ${dateToken(input.at)} (${by}).`,
    cleared: `:white_check_mark: *${name}:* disk backup policy ${p} will not move to the trash (${by}).`,
    gone: `:grey_question: *${name}:* disk backup policy ${p} no longer exists in Katapult (${by}).`,
    trashed_early: `:wastebasket: *${name}:* disk backup policy ${p} is already in Katapult's trash (${by}). Until it is purged it can be restored from the thread.`,
    rescheduled: `:arrows_counterclockwise: *${name}:* disk backup policy ${p} now moves to the trash on ${dateToken(input.at)} (scheduled again by <@${input.scheduledBy}>). Its reminder and restore offer follow the newer request's message.`,
  }[state];
  return { plain, mrkdwn, footer: 'What happened since is in the thread.' };
}

/** A request that could not finish: its message says so (the requester is also told privately). */
export const FAILED_STATE = (policyIds: string[]) =>
  `:warning: *Failed:* the bot could not finish this request for ${policyIds.map((p) => code(p)).join(', ')} after several attempts. Katapult may or may not have applied it: check the policy in Katapult.`;

/** A reply in the request's thread when a reschedule continues its message. */
export const RESCHEDULED_REPLY = (userId: string, policyId: string, at: number) =>
  `:arrows_counterclockwise: <@${userId}> rescheduled disk backup policy ${code(policyId)}: it now moves to the trash on ${dateToken(at)}. The message above shows the new time.`;
