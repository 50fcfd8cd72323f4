/** Messages the bot posts: scheduled, failed, help, "invite me". Pure builders; user/API text is escaped. */
import type { types } from '@slack/bolt';
import type { ScheduledDeletion } from '../../katapult/client.js';
import type { Explanation } from '../../messages/explain.js';
import { code, dateToken, escapeMrkdwn, utcFallback } from '../../messages/mrkdwn.js';
import { type Block, context, message, type SlackMessage, section } from './common.js';

export type { SlackMessage } from './common.js';

export function targetText(target: ScheduledDeletion['target']): string {
  if (!target.id) return 'its target';
  const kind =
    target.type === 'VirtualMachine' ? 'virtual machine' : target.type === 'Disk' ? 'disk' : 'target';
  return `${kind} ${code(target.id)}`;
}

/** Katapult answered 200 but its policy carried no move time: the bot shows the time asked for, and says so. */
export const UNCONFIRMED_TIME =
  ':grey_question: Katapult accepted this but its answer gave no move time, so the time shown is the one asked for. Check the policy in Katapult; the hourly check also says so here if no move is set.';

export function scheduledMessage(input: {
  userId: string;
  policyId: string;
  requestedAt: number;
  scheduled: ScheduledDeletion;
  /** False when Slack cannot hold the reminder and restore offer (more than 120 days ahead). */
  followupsHeld?: boolean;
}): SlackMessage {
  const at = input.scheduled.autoMoveToTrashAt ?? input.requestedAt;
  const lines = [
    `:wastebasket: <@${input.userId}> scheduled disk backup policy ${code(input.policyId)} (for ${targetText(input.scheduled.target)}) to move to the trash on *${dateToken(at)}*.`,
  ];
  if (input.scheduled.autoMoveToTrashAt === null) lines.push(UNCONFIRMED_TIME);
  return message(
    `Disk backup policy ${escapeMrkdwn(input.policyId)} will move to the trash at ${utcFallback(at)}.`,
    [
      section(lines.join('\n')),
      context(
        'It keeps working until then. Scheduling again with a new time replaces this one.' +
          (input.followupsHeld === false
            ? ' No reminder or undo message will follow: Slack holds messages for at most 120 days.'
            : '') +
          (input.scheduled.requestId ? ` Katapult request ${code(input.scheduled.requestId)}.` : ''),
      ),
    ],
  );
}

function failureBlocks(headline: string, explanation: Explanation): Block[] {
  return [
    section(`${headline}\n${explanation.summary}`),
    context(
      `*What now:* ${explanation.next}` +
        (explanation.requestId ? ` Katapult request ${code(explanation.requestId)}.` : ''),
    ),
  ];
}

export function failureMessage(input: {
  userId: string;
  policyId: string;
  explanation: Explanation;
}): SlackMessage {
  return message(
    `Could not schedule disk backup policy ${escapeMrkdwn(input.policyId)}: ${input.explanation.summary}`,
    failureBlocks(
      `:warning: <@${input.userId}> tried to schedule disk backup policy ${code(input.policyId)} for deletion, but it was *not* scheduled.`,
      input.explanation,
    ),
  );
}

/** Any other failed action: `what` is mrkdwn, e.g. "restore disk backup policy `dbp_1` from the trash". */
export function failureText(input: { userId: string; what: string; explanation: Explanation }): SlackMessage {
  return message(
    `Could not ${input.what}: ${input.explanation.summary}`,
    failureBlocks(
      `:warning: <@${input.userId}> tried to ${input.what}, but it did not work.`,
      input.explanation,
    ),
  );
}

/** Sent privately when the bot could not post in the channel: why, how to fix it, and the outcome itself. */
export function undeliveredMessage(input: {
  channelId: string;
  botUserId: string | null;
  slackError: string | null;
  outcome: SlackMessage;
}): SlackMessage {
  const me = input.botUserId ? `<@${input.botUserId}>` : 'me';
  const why =
    input.slackError === 'not_in_channel' || input.slackError === 'channel_not_found'
      ? `I couldn't post the result in <#${input.channelId}> because I'm not a member of it. To fix that, type \`/invite\` in that channel and choose ${me}.`
      : `I couldn't post the result in <#${input.channelId}>${input.slackError ? ` (Slack said ${code(input.slackError)})` : ''}, so here it is privately.`;
  return message(`I couldn't post in <#${input.channelId}>. ${input.outcome.text}`, [
    section(`${why} Here is the result:`),
    ...input.outcome.blocks,
  ]);
}

export function helpMessage(command: string): SlackMessage {
  const c = command;
  return message(`${c}: schedule a Katapult disk backup policy's move to the trash.`, [
    section(
      `*${c}* schedules a Katapult disk backup policy to move to the trash at a time you choose. The result is posted in the channel.`,
    ),
    section(
      [
        `\`${c}\` opens the scheduling form.`,
        `\`${c} &lt;policy-id&gt; [when]\` opens it filled in, e.g. \`${c} dbp_1kpkjQeMEI43tztr tomorrow 09:00\`.`,
        '   _when_ can be `2026-12-01 09:30`, `2026-12-01T09:30Z`, `in 90m`, `in 3 days`, `tomorrow 09:00` or `friday 17:00`, read in your Slack time zone.',
        `\`${c} token\` lets workspace admins set, check or remove the workspace's Katapult API token.`,
        `\`${c} access\` lets workspace admins choose who may schedule deletions, in which channels, how many a day, and who must approve them.`,
        `\`${c} freeze\` stops all scheduling and approvals in this workspace at once (admins; an emergency stop), \`${c} unfreeze\` lifts it.`,
        `\`${c} history\` shows workspace admins the last 20 actions; \`${c} history admin\` the token, access, freeze, approval and uninstall entries on their own, further back.`,
        `\`${c} help\` shows this.`,
      ].join('\n'),
    ),
    section(
      [
        '*Other ways in*',
        '• On any message: ⋮ *More actions* → *Schedule deletion…* opens the form filled with the policy IDs the message names; the request then lives in that message’s thread.',
        '• From anywhere: the ⚡ shortcuts menu → *Schedule a disk backup policy deletion*, with a channel for the result.',
        '• In Workflow Builder: the step *Schedule disk backup policy deletion* (once an admin allows workflows in `access`).',
        'Each request has one message in the channel; its reminder, restore offer and any change follow in its thread.',
      ].join('\n'),
    ),
    context(
      'When the workspace requires approval, a submission posts a request with Approve and Deny in the channel, and nothing is scheduled until someone else approves it. Katapult needs at least 5 minutes’ notice. Until the time comes the policy keeps working; afterwards it sits in the trash and can be restored from Katapult until it is purged.',
    ),
  ]);
}

export function plainEphemeral(text: string): {
  response_type: 'ephemeral';
  text: string;
  blocks: types.KnownBlock[];
} {
  return { response_type: 'ephemeral', ...message(text, [section(text)]) };
}
