/** The outcome of a request record, as one channel message (one policy or several). Pure. */
import type { RequestRecord } from '../../scheduling/request-log.js';
import { code, dateToken } from '../mrkdwn.js';
import { type Block, context, message, section } from './common.js';
import { failureMessage, type SlackMessage, scheduledMessage } from './messages.js';

export const SUPERSEDED_TEXT = (policyId: string) =>
  `A newer schedule of disk backup policy ${code(policyId)} was made after this request, so this older one was not applied.`;

export function requestOutcomeMessage(
  record: RequestRecord,
  followupsHeld: (at: number) => boolean,
): SlackMessage {
  const [only, ...more] = record.policies;
  if (only && more.length === 0) {
    const r = only.result;
    if (only.superseded || !r) {
      const text = `:information_source: <@${record.user}>: ${SUPERSEDED_TEXT(only.policyId)}`;
      return message(text, [section(text)]);
    }
    return r.ok
      ? scheduledMessage({
          userId: record.user,
          policyId: only.policyId,
          requestedAt: record.atSeconds,
          scheduled: {
            policyId: only.policyId,
            autoMoveToTrashAt: r.autoMoveToTrashAt,
            target: r.target,
            requestId: r.requestId,
          },
          followupsHeld: followupsHeld(r.autoMoveToTrashAt ?? record.atSeconds),
        })
      : failureMessage({ userId: record.user, policyId: only.policyId, explanation: r.explanation });
  }
  const lines = record.policies.map((p) => {
    const r = p.result;
    if (p.superseded || !r) return `• ${code(p.policyId)}: not applied (a newer schedule was made since).`;
    if (r.ok)
      return `• ${code(p.policyId)}: scheduled for *${dateToken(r.autoMoveToTrashAt ?? record.atSeconds)}*.`;
    return `• ${code(p.policyId)}: *not* scheduled. ${r.explanation.summary}`;
  });
  const blocks: Block[] = [
    section(
      `:wastebasket: <@${record.user}> asked to schedule ${record.policies.length} disk backup policies:`,
    ),
    section(lines.join('\n')),
    context('Each policy keeps working until its time. Scheduling again with a new time replaces it.'),
  ];
  return message(`Outcome of ${record.policies.length} disk backup policies.`, blocks);
}
