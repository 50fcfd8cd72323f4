/** The outcome of a request record, as one channel message (one policy or several). Pure. */

import { code, dateToken, utcFallback } from '../../messages/mrkdwn.js';
import type { RequestRecord } from '../../scheduling/request-log.js';
import { type Block, clip, context, message, section } from './common.js';
import {
  failureMessage,
  type SlackMessage,
  scheduledMessage,
  targetText,
  UNCONFIRMED_TIME,
} from './messages.js';

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
  return severalOutcomes(record, followupsHeld);
}

/** Characters per policy's section in a request of several: 20 long errors stay readable and fit. */
export const PER_POLICY_MAX = 1000;

/** One section per policy, each clipped, so 20 long errors still fit one message. */
function severalOutcomes(record: RequestRecord, followupsHeld: (at: number) => boolean): SlackMessage {
  const n = record.policies.length;
  const scheduled = record.policies.filter((p) => p.result?.ok && !p.superseded);
  const notHeld = scheduled.some(
    (p) => p.result?.ok && !followupsHeld(p.result.autoMoveToTrashAt ?? record.atSeconds),
  );
  const line = (text: string) => section(clip(text, PER_POLICY_MAX));
  const lines = record.policies.map((p) => {
    const r = p.result;
    if (p.superseded || !r)
      return line(`:information_source: ${code(p.policyId)}: not applied (a newer schedule was made since).`);
    if (r.ok)
      return line(
        `:white_check_mark: ${code(p.policyId)} (for ${targetText(r.target)}): scheduled for *${dateToken(r.autoMoveToTrashAt ?? record.atSeconds)}*.` +
          (r.autoMoveToTrashAt === null ? `\n${UNCONFIRMED_TIME}` : ''),
      );
    const e = r.explanation;
    return line(
      // The summary is clipped first, so what to do next always shows.
      `:warning: ${code(p.policyId)}: *not* scheduled. ${clip(e.summary, PER_POLICY_MAX / 2)}\n*What now:* ${e.next}` +
        (e.requestId ? ` Katapult request ${code(e.requestId)}.` : ''),
    );
  });
  const blocks: Block[] = [
    section(
      `:wastebasket: <@${record.user}> asked to schedule ${n} disk backup policies to move to the trash on *${dateToken(record.atSeconds)}*: ${scheduled.length} scheduled, ${n - scheduled.length} not.`,
    ),
    ...lines,
    context(
      'Each policy keeps working until its time. Scheduling one again with a new time replaces it.' +
        (notHeld
          ? ' No reminder or undo message will follow: Slack holds messages for at most 120 days.'
          : ''),
    ),
  ];
  return message(
    `${scheduled.length} of ${n} disk backup policies scheduled to move to the trash at ${utcFallback(record.atSeconds)}.`,
    blocks,
  );
}
