/** Messages Slack holds for later: the reminder before the move, the restore offer after it. Pure. */

import { code, dateToken, escapeMrkdwn, utcFallback } from '../../messages/mrkdwn.js';
import { reconcileNote } from '../../messages/reconcile.js';
import { requestStateText, type StateInput } from '../../messages/request-state.js';
import type { ReconcileAction } from '../../scheduling/reconcile.js';
import type { MessageState } from '../../scheduling/upcoming.js';
import { ACTIONS } from '../ids.js';
import { type Block, button, context, message, type SlackMessage, section } from './common.js';

function leadText(leadSeconds: number): string {
  const minutes = Math.round(leadSeconds / 60);
  if (minutes % 60 === 0) return `${minutes / 60} hour${minutes === 60 ? '' : 's'}`;
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

export function reminderMessage(input: {
  policyId: string;
  at: number;
  leadSeconds: number;
  scheduledBy: string;
}): SlackMessage {
  return message(
    `Reminder: disk backup policy ${escapeMrkdwn(input.policyId)} moves to the trash in ${leadText(input.leadSeconds)} (${utcFallback(input.at)}).`,
    [
      section(
        `:alarm_clock: Disk backup policy ${code(input.policyId)} moves to the trash in *${leadText(input.leadSeconds)}*, on ${dateToken(input.at)} (scheduled by <@${input.scheduledBy}>).`,
      ),
      {
        type: 'actions',
        elements: [button({ text: 'Reschedule', actionId: ACTIONS.reschedule, value: input.policyId })],
      },
    ],
  );
}

export function movedMessage(input: { policyId: string; at: number }): SlackMessage {
  return message(
    `Disk backup policy ${escapeMrkdwn(input.policyId)} was due to move to the trash at ${utcFallback(input.at)}.`,
    [
      section(
        `:wastebasket: Disk backup policy ${code(input.policyId)} was due to move to Katapult's trash on ${dateToken(input.at)}. Until it is purged it can be restored.`,
      ),
      ...restoreOffer(input.policyId),
    ],
  );
}

/** The Restore from trash button and what it needs. */
const restoreOffer = (policyId: string): Block[] => [
  {
    type: 'actions',
    elements: [
      button({ text: 'Restore from trash', actionId: ACTIONS.restore, value: policyId, style: 'primary' }),
    ],
  },
  context('Restoring needs an API token with the trash_objects:restore scope.'),
];

export function restoredMessage(input: { policyId: string; userId: string }): SlackMessage {
  return message(`Disk backup policy ${escapeMrkdwn(input.policyId)} was restored from the trash.`, [
    section(
      `:recycle: <@${input.userId}> restored disk backup policy ${code(input.policyId)} from the trash. Check its schedule in Katapult: it may still carry the old deletion time.`,
    ),
  ]);
}

/** The note posted when Katapult's schedule of a policy was changed outside Slack (reconcile). */
export function reconciledMessage(
  input: { policyId: string; was: number },
  action: Exclude<ReconcileAction, { kind: 'none' }>,
): SlackMessage {
  const note = reconcileNote(input, action);
  return message(note.plain, [
    section(note.mrkdwn),
    ...(note.offerRestore ? restoreOffer(input.policyId) : []),
  ]);
}

/** A request's one message once its policy's state moved on (edited in place; the story is in its thread). */
export function requestStateMessage(state: MessageState, input: StateInput): SlackMessage {
  const t = requestStateText(state, input);
  return message(t.plain, [section(t.mrkdwn), context(t.footer)]);
}
