/**
 * A request's one message and its thread (issue 21): edits of the message (`chat.update`, which
 * changes nothing when repeated, so a retry is harmless) and replies in its thread (`writeOnce`:
 * never posted twice). A reply with no thread to go in (a record from before threads) is posted at
 * top level, as before. Failures are logged, never thrown: the state is also in the store.
 */
import type { webApi } from '@slack/bolt';
import type { AppLogger } from '../../log.js';
import type { UpcomingDeletion } from '../../scheduling/upcoming.js';
import type { SlackMessage } from '../blocks/common.js';
import { requestStateMessage } from '../blocks/followups.js';
import { slackErrorText } from '../workspace.js';
import { mayHaveBeenDone, writeOnce } from './slack-writes.js';

/** Edits the message at `where`; false (logged) when Slack refused or did not answer. */
export async function editMessage(
  client: webApi.WebClient,
  logger: AppLogger,
  where: { channel: string; ts: string },
  content: SlackMessage,
  fields: Record<string, string | number | boolean | null> = {},
): Promise<boolean> {
  try {
    await client.chat.update({
      channel: where.channel,
      ts: where.ts,
      text: content.text,
      blocks: content.blocks,
    });
    return true;
  } catch (error) {
    logger.event('warn', 'request_message_update_failed', { ...fields, slack_error: slackErrorText(error) });
    return false;
  }
}

/**
 * Posts `content` in the thread of `threadTs` in `channel` (at top level without one); `broadcast`
 * also shows it in the channel. 'unknown' when no answer came (it may be there: not sent again).
 */
export async function replyInThread(
  client: webApi.WebClient,
  logger: AppLogger,
  where: { channel: string; threadTs?: string | null | undefined },
  content: SlackMessage,
  options: { broadcast?: boolean; event?: string; fields?: Record<string, string | null> } = {},
): Promise<'posted' | 'unknown' | 'failed'> {
  const thread = where.threadTs
    ? { thread_ts: where.threadTs, reply_broadcast: options.broadcast === true }
    : {};
  try {
    await writeOnce(() =>
      client.chat.postMessage({
        channel: where.channel,
        ...thread,
        text: content.text,
        blocks: content.blocks,
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    return 'posted';
  } catch (error) {
    logger.event('warn', options.event ?? 'thread_reply_failed', {
      ...options.fields,
      slack_error: slackErrorText(error),
    });
    return mayHaveBeenDone(error) ? 'unknown' : 'failed';
  }
}

/**
 * After a restore: the reply goes in the request's thread when the policy's index record knows its
 * message (in the conversation the button is in), else in the thread of the button's message.
 */
export function restoreThread(
  scheduled: UpcomingDeletion | undefined,
  button: { channelId: string; ts: string | null; threadTs: string | null },
): string | null {
  const message = scheduled?.message;
  if (message && message.channel === button.channelId) return message.threadTs;
  return button.threadTs ?? button.ts;
}

/** The request's message (one policy's) names the restore. */
export async function showRestored(
  client: webApi.WebClient,
  logger: AppLogger,
  scheduled: UpcomingDeletion | undefined,
  userId: string,
): Promise<void> {
  if (!scheduled?.message || scheduled.sharedMessage) return;
  const content = requestStateMessage('restored', {
    policyId: scheduled.policyId,
    at: scheduled.at,
    scheduledBy: scheduled.scheduledBy,
    by: userId,
  });
  await editMessage(client, logger, scheduled.message, content, { policy_id: scheduled.policyId });
}
