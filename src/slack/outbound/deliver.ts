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
  input: DeliverInput,
  metrics?: Pick<Metrics, 'dmFallback'>,
): Promise<Delivery> {
  return (await deliverMessage(client, logger, input, metrics)).delivery;
}

export interface DeliverInput {
  channelId: string;
  userId: string;
  botUserId: string | null;
  message: SlackMessage;
  /** A reply in this thread of the channel (the private fallback starts its own). */
  threadTs?: string;
}

/** Where a delivered message is: the conversation as Slack reported it (a DM's D… ID) and its ts. */
export interface Posted {
  channel: string;
  ts: string;
}

/** `deliver`, saying also where the message went (null: nowhere known), so it can be edited later. */
export async function deliverMessage(
  client: webApi.WebClient,
  logger: AppLogger,
  input: DeliverInput,
  metrics?: Pick<Metrics, 'dmFallback'>,
): Promise<{ delivery: Delivery; posted: Posted | null }> {
  let slackError: string | null = null;
  try {
    const res = await writeOnce(() =>
      client.chat.postMessage({
        channel: input.channelId,
        ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
        text: input.message.text,
        blocks: input.message.blocks,
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    return { delivery: 'channel', posted: postedOf(res, input.channelId) };
  } catch (error) {
    slackError = slackErrorCode(error);
    // It may be in the channel already: a private copy would be a second post of the same outcome.
    const unknown = mayHaveBeenDone(error);
    logger.event('warn', unknown ? 'channel_post_unknown' : 'channel_post_failed', {
      channel: input.channelId,
      slack_error: slackErrorText(error),
    });
    if (unknown) return { delivery: 'unknown', posted: null };
  }
  try {
    const fallback = undeliveredMessage({
      channelId: input.channelId,
      botUserId: input.botUserId,
      slackError,
      outcome: input.message,
    });
    const res = await writeOnce(() =>
      client.chat.postMessage({
        channel: input.userId,
        text: fallback.text,
        blocks: fallback.blocks,
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    metrics?.dmFallback();
    return { delivery: 'direct_message', posted: postedOf(res, input.userId) };
  } catch (error) {
    logger.event('error', 'outcome_undelivered', {
      channel: input.channelId,
      user: input.userId,
      slack_error: slackErrorText(error),
      outcome: input.message.text,
    });
    return { delivery: mayHaveBeenDone(error) ? 'unknown' : 'lost', posted: null };
  }
}

const postedOf = (res: { channel?: string; ts?: string }, sentTo: string): Posted | null =>
  res.ts ? { channel: res.channel ?? sentTo, ts: res.ts } : null;

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
