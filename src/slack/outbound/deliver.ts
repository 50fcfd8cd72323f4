/**
 * Posts an outcome to the channel; when that fails (bot not in the channel, channel gone, Slack
 * down), sends it privately to the person who asked, with the fix. The outcome is never dropped silently.
 */
import type { webApi } from '@slack/bolt';
import type { AppLogger } from '../../log.js';
import type { Metrics } from '../../metrics.js';
import { type SlackMessage, undeliveredMessage } from '../blocks/messages.js';
import { slackErrorCode, slackErrorText } from '../workspace.js';
import { mayHaveBeenDone, writeOnce } from './slack-writes.js';

/** `unknown`: the write went out and no answer came back (a timeout): it may have been posted. */
export type Delivery = 'channel' | 'direct_message' | 'lost' | 'unknown';

export async function deliver(
  client: webApi.WebClient,
  logger: AppLogger,
  input: { channelId: string; userId: string; botUserId: string | null; message: SlackMessage },
  metrics?: Pick<Metrics, 'dmFallback'>,
): Promise<Delivery> {
  let slackError: string | null = null;
  try {
    await writeOnce(() =>
      client.chat.postMessage({
        channel: input.channelId,
        text: input.message.text,
        blocks: input.message.blocks,
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    return 'channel';
  } catch (error) {
    slackError = slackErrorCode(error);
    // It may be in the channel already: a private copy would be a second post of the same outcome.
    const unknown = mayHaveBeenDone(error);
    logger.event('warn', unknown ? 'channel_post_unknown' : 'channel_post_failed', {
      channel: input.channelId,
      slack_error: slackErrorText(error),
    });
    if (unknown) return 'unknown';
  }
  try {
    const fallback = undeliveredMessage({
      channelId: input.channelId,
      botUserId: input.botUserId,
      slackError,
      outcome: input.message,
    });
    await writeOnce(() =>
      client.chat.postMessage({
        channel: input.userId,
        text: fallback.text,
        blocks: fallback.blocks,
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    metrics?.dmFallback();
    return 'direct_message';
  } catch (error) {
    logger.event('error', 'outcome_undelivered', {
      channel: input.channelId,
      user: input.userId,
      slack_error: slackErrorText(error),
      outcome: input.message.text,
    });
    return mayHaveBeenDone(error) ? 'unknown' : 'lost';
  }
}

/**
 * A short private note (a refusal, a storage problem): ephemeral in the channel, or as a direct
 * message when the bot cannot post there.
 */
export async function tellPrivately(
  client: webApi.WebClient,
  logger: AppLogger,
  input: { channelId: string; userId: string; text: string },
): Promise<void> {
  const blocks = [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: input.text } }];
  try {
    await client.chat.postEphemeral({
      channel: input.channelId,
      user: input.userId,
      text: input.text,
      blocks,
    });
    return;
  } catch (error) {
    logger.event('info', 'ephemeral_failed', {
      channel: input.channelId,
      slack_error: slackErrorText(error),
    });
  }
  await client.chat.postMessage({ channel: input.userId, text: input.text, blocks }).catch((error: unknown) =>
    logger.event('error', 'private_note_undelivered', {
      user: input.userId,
      slack_error: slackErrorText(error),
    }),
  );
}
