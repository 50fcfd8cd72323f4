/** What people read about approvals and the emergency stop. Plain mrkdwn; IDs come already escaped or as mentions. */
import { escapeMrkdwn } from './mrkdwn.js';

/**
 * A reason typed by a person: shown, never acted on (no pings, no disguised links), never reordered
 * (invisible bidirectional controls shown, as escapeMrkdwn does), one paragraph.
 */
const quote = (text: string) => escapeMrkdwn(text).replace(/\s+/g, ' ').trim();

const invite = (botUserId: string | null) =>
  `type \`/invite\` in that channel and choose ${botUserId ? `<@${botUserId}>` : 'the bot'}`;

export const APPROVALS = {
  // --- The requester -------------------------------------------------------------------------
  waiting: (channelId: string) =>
    `:hourglass_flowing_sand: Your request is waiting for approval in <#${channelId}>. Nothing is scheduled until someone approves it.`,
  cannotPost: (channelId: string, botUserId: string | null, slackError: string | null) =>
    `:no_entry: This workspace needs an approval for every deletion, and approvers must see the request, but I could not post it in <#${channelId}>${slackError ? ` (Slack said \`${slackError}\`)` : ''}. Nothing was scheduled. To fix that, ${invite(botUserId)}, then submit again.`,
  needsChannel:
    'This workspace needs an approval for every deletion, and approvers must see the request in a channel. Close this form and run the command in a channel where the bot is.',
  deniedForRequester: (channelId: string, by: string, reason: string | undefined) =>
    `:no_entry_sign: <@${by}> denied your request in <#${channelId}>, so nothing was scheduled.${reason ? ` Reason: ${quote(reason)}` : ''}`,
  expiredForRequester: (channelId: string) =>
    `:hourglass: Nobody decided on your request in <#${channelId}> in time, so it expired and nothing was scheduled. Submit it again if it is still needed.`,

  // --- The approver (privately) --------------------------------------------------------------
  refusal: (reason: string, command: string): string => {
    switch (reason) {
      case 'own_request':
        return ':no_entry: You cannot approve or deny your own request: someone else must.';
      case 'not_approver':
        return `:no_entry: You are not one of the approvers for this workspace. Admins choose who approves with \`${command} access\`.`;
      case 'guest':
        return ':no_entry: Guests cannot approve or deny requests.';
      case 'external':
        return ':no_entry: Only members of this workspace can approve or deny requests.';
      case 'frozen':
        return `:ice_cube: Scheduling is frozen (emergency stop), so nothing can be approved now. An admin can lift it with \`${command} unfreeze\`.`;
      case 'expired':
        return ':hourglass: This request has expired, so it can no longer be approved. The requester can submit it again.';
      case 'too_late':
        return ':alarm_clock: The requested time is now less than 5 minutes away, which Katapult does not accept, so nothing was done. Deny the request, and ask the requester to submit it again with a later time.';
      case 'busy':
        return ':hourglass_flowing_sand: Someone is deciding this request right now (or the click came twice); its message shows the outcome.';
      case 'decided':
        return ':information_source: This request was already decided; its message shows the outcome.';
      case 'not_found':
        return ':information_source: This request is no longer known to the bot (it may be older than a week).';
      case 'lookup_failed':
        return ':warning: Slack did not tell the bot who you are, so nothing was done. Try again in a moment.';
      default:
        return ':warning: The bot could not read its storage, so nothing was done. Try again shortly.';
    }
  },

  // --- The request message -------------------------------------------------------------------
  requestHeadline: (user: string, count: number) =>
    `:raised_hand: <@${user}> asks to move ${count === 1 ? 'a disk backup policy' : `${count} disk backup policies`} to the trash. *Someone else must approve.*`,
  requestWhen: (when: string, expires: string) =>
    `*Moves to the trash:* ${when}\n*Request expires:* ${expires}`,
  requestContext:
    'Approve runs it exactly as a direct schedule does; Deny closes it (you can give a reason). Nothing happens until then.',
  previewUnavailable: 'details could not be read from Katapult just now',
  approvedBy: (by: string) => `:white_check_mark: Approved by <@${by}>.`,
  deniedBy: (by: string, reason: string | undefined) =>
    `:no_entry_sign: Denied by <@${by}>. Nothing was scheduled.${reason ? ` Reason: ${quote(reason)}` : ''}`,
  expired: ':hourglass: Expired: nobody decided in time. Nothing was scheduled.',

  // --- The access modal ---------------------------------------------------------------------
  modeLabels: {
    off: 'No approval: a submission runs at once',
    admins: 'One workspace admin or owner approves',
    groups: 'One member of the approver groups (or an admin) approves',
  },
  approvalLabel: 'Approval before anything is scheduled',
  approvalHint: 'The person who asked can never approve their own request.',
  approversLabel: 'Approver groups',
  approversHint: 'Used when “One member of the approver groups” is picked. Separate from who may schedule.',
  approversMissing: 'Choose at least one approver group, or another approval option.',
  describe: (mode: 'off' | 'admins' | 'groups', groups: string[]) =>
    mode === 'off'
      ? 'No approval is needed.'
      : mode === 'admins'
        ? 'Each submission waits for one workspace admin or owner (not the requester) to approve it.'
        : `Each submission waits for one member of ${groups.join(', ')} or an admin (not the requester) to approve it.`,

  // --- The deny modal ------------------------------------------------------------------------
  denyTitle: 'Deny the request',
  denyPrompt: 'Nothing will be scheduled. The requester is told, with your reason if you give one.',
  denyReasonLabel: 'Reason (optional)',

  // --- Pending requests in history and App Home ---------------------------------------------
  pendingHeader: 'Waiting for approval',
  pendingNone: '_No request is waiting for approval._',
  pendingLine: (user: string, policies: string, when: string, expires: string, channelId: string) =>
    `:raised_hand: <@${user}> in <#${channelId}>: ${policies} for ${when} (expires ${expires})`,
  pendingHidden: '_Approvers see the requests waiting for them here._',
};

export const FREEZE = {
  frozenStatus: (by: string | null, command: string) =>
    by === null
      ? ':ice_cube: *Frozen for the whole deployment* (`KATAPULT_FROZEN=true`): nothing can be scheduled or approved.'
      : `:ice_cube: *Frozen* by <@${by}>: nothing can be scheduled or approved until an admin runs \`${command} unfreeze\`.`,
  notFrozenStatus: 'Not frozen: scheduling works normally.',
  refusedSubmission: (command: string) =>
    `Scheduling is frozen in this workspace (emergency stop), so nothing can be scheduled. An admin can lift it with ${command} unfreeze.`,
  refusedSubmissionDeployment:
    'Scheduling is frozen for this whole deployment (KATAPULT_FROZEN=true), so nothing can be scheduled. Ask the people who run the bot.',
  frozenNow: (command: string) =>
    `:ice_cube: Frozen. Nothing can be scheduled or approved in this workspace until an admin runs \`${command} unfreeze\`. Deletions already scheduled in Katapult are not changed.`,
  alreadyFrozen: ':ice_cube: Already frozen.',
  unfrozenNow: ':white_check_mark: Unfrozen: scheduling and approvals work again.',
  notFrozen: ':information_source: Scheduling was not frozen.',
  deploymentWins:
    ':information_source: The whole deployment is frozen with `KATAPULT_FROZEN=true`; only the people who run the bot can lift that.',
  adminsOnly: (command: string) =>
    `:no_entry: Only workspace admins and owners can use \`${command} freeze\` and \`${command} unfreeze\`.`,
  storeDown: ':warning: The bot could not read or write its storage, so nothing changed. Try again shortly.',
};
