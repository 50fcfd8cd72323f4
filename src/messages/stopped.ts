/**
 * What the channel reads when a request stops before it finished (run-request.ts): the emergency
 * stop, or the requester's access, was checked again before a Katapult call and refused it. Plain
 * mrkdwn; policy IDs go through `code`, Katapult's text comes already escaped (explain.ts).
 */
import { code, dateToken } from './mrkdwn.js';

/** Why a request stopped, as the rest of a sentence about it. */
export function stoppedBecause(reason: string, userId: string): string {
  switch (reason) {
    case 'frozen':
      return 'scheduling is frozen in this workspace (the emergency stop)';
    case 'lookup_failed':
      return `Slack could not confirm <@${userId}>'s access`;
    case 'store_unavailable':
      return 'the bot could not read the access policy';
    case 'workflows_off':
      return 'Workflow Builder steps are no longer allowed in this workspace';
    default:
      return `<@${userId}> may no longer schedule deletions here (${code(reason)})`;
  }
}

export const STOPPED = {
  headline: (userId: string, reason: string) =>
    `:octagonal_sign: The bot stopped <@${userId}>'s request before it finished: ${stoppedBecause(reason, userId)}.`,
  /** The notification text (no blocks). */
  summary: (scheduled: number, total: number) =>
    `Request stopped: ${scheduled} of ${total} disk backup ${total === 1 ? 'policy' : 'policies'} scheduled before it stopped.`,
  /** `maybeSent`: an earlier attempt (before the bot restarted) may have sent it before it stopped. */
  notCalled: (policyId: string, maybeSent: boolean) =>
    maybeSent
      ? `:no_entry_sign: ${code(policyId)}: stopped. An earlier attempt may have sent it before the bot restarted: check the policy in Katapult.`
      : `:no_entry_sign: ${code(policyId)}: stopped, not sent to Katapult.`,
  scheduled: (policyId: string, at: number) =>
    `:white_check_mark: ${code(policyId)}: scheduled to move to the trash on *${dateToken(at)}* (before the stop).`,
  failed: (policyId: string, summary: string) => `:warning: ${code(policyId)}: *not* scheduled. ${summary}`,
  superseded: (policyId: string) =>
    `:information_source: ${code(policyId)}: not applied (a newer schedule was made since).`,
  footer: (reason: string, command: string) =>
    reason === 'frozen'
      ? `Nothing more is sent to Katapult for this request. Once an admin lifts the freeze (\`${command} unfreeze\`), submit the stopped policies again if they are still needed.`
      : 'Nothing more is sent to Katapult for this request. Policies scheduled before the stop stay scheduled.',
};
