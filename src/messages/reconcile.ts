/**
 * What the bot says in the channel when Katapult's schedule for a policy no longer matches what
 * the bot announced (a change made in Katapult's UI, by the API, or by a restore). Slack mrkdwn;
 * `plain` is the notification text.
 */
import type { ReconcileAction } from '../scheduling/reconcile.js';
import { code, dateToken, escapeMrkdwn, utcFallback } from './mrkdwn.js';

export interface ReconcileNote {
  plain: string;
  mrkdwn: string;
  /** Whether the note offers the Restore from trash button. */
  offerRestore: boolean;
}

export function reconcileNote(
  input: { policyId: string; was: number },
  action: Exclude<ReconcileAction, { kind: 'none' }>,
): ReconcileNote {
  const p = code(input.policyId);
  const plainId = escapeMrkdwn(input.policyId);
  const outside = 'outside Slack (in Katapult or through its API)';
  switch (action.kind) {
    case 'moved':
      return {
        plain: `Disk backup policy ${plainId} now moves to the trash at ${utcFallback(action.at)}, changed ${outside}.`,
        mrkdwn: `:arrows_counterclockwise: The move of disk backup policy ${p} to the trash was changed ${outside}: it now happens on ${dateToken(action.at)} (it was ${dateToken(input.was)}). The reminder and restore offer follow the new time.`,
        offerRestore: false,
      };
    case 'cleared':
      return {
        plain: `Disk backup policy ${plainId} is no longer scheduled to move to the trash.`,
        mrkdwn: `:white_check_mark: Disk backup policy ${p} is no longer scheduled to move to the trash on ${dateToken(input.was)}: the move was cancelled ${outside}. Its reminder and restore offer were withdrawn.`,
        offerRestore: false,
      };
    case 'gone':
      return {
        plain: `Disk backup policy ${plainId} no longer exists in Katapult.`,
        mrkdwn: `:grey_question: Disk backup policy ${p}, due to move to the trash on ${dateToken(input.was)}, no longer exists in Katapult (it was deleted or purged). Its reminder and restore offer were withdrawn. If it should still be there, check that the workspace's Katapult token belongs to its organization.`,
        offerRestore: false,
      };
    case 'trashed_early':
      return {
        plain: `Disk backup policy ${plainId} is already in Katapult's trash, before ${utcFallback(input.was)}.`,
        mrkdwn: `:wastebasket: Disk backup policy ${p} is already in Katapult's trash, earlier than the ${dateToken(input.was)} announced here. Until it is purged it can be restored.`,
        offerRestore: true,
      };
  }
}

/**
 * What an admin is told, once per Katapult token, when Katapult answers that a scheduled policy
 * does not exist but the bot cannot confirm that the workspace's token can see the policy's
 * organization: Katapult gives the same answer for a policy of another organization.
 */
export function unprovenNote(input: { policyId: string; was: number }): {
  plain: string;
  /** Slack mrkdwn, one paragraph each (the policy id is only in the first). */
  paragraphs: string[];
} {
  const p = code(input.policyId);
  const plainId = escapeMrkdwn(input.policyId);
  return {
    plain: `Katapult says disk backup policy ${plainId} does not exist, but the workspace's Katapult token may belong to another Katapult organization. Nothing was withdrawn.`,
    paragraphs: [
      `:warning: Katapult says disk backup policy ${p} does not exist, but the bot cannot confirm that the workspace's Katapult token can see the organization the policy is in. The token may belong to another Katapult organization, or it may lack the organizations:read scope that lets the bot ask which organization it belongs to.`,
      `So nothing was withdrawn: the reminder and the restore offer stay, and if the policy still exists Katapult still moves it to the trash on ${dateToken(input.was)}. Other deletions scheduled with an earlier token may be in the same state.`,
      `If the token was replaced by mistake, set a token of the policy's organization (with the organizations:read scope). This is said once for this token.`,
    ],
  };
}
