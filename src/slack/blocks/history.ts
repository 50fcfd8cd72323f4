/**
 * `/katapult history`: the workspace's last audit entries, for admins; `/katapult history admin`:
 * its configuration and admin entries on their own, further back. Pure builders.
 */
import { APPROVALS } from '../../messages/approvals.js';
import { code, dateToken } from '../../messages/mrkdwn.js';
import type { RequestRecord } from '../../scheduling/request-log.js';
import type { AuditEntry } from '../../store/store.js';
import { pendingLines } from './approval.js';
import { type Block, context, message, type SlackMessage, section } from './common.js';

function line(e: AuditEntry): string {
  const when = dateToken(Math.floor(e.at / 1000), '{date_short} {time}');
  const who = `<@${e.user}>${e.via === 'workflow' ? ' (by a workflow)' : ''}`;
  const where = e.channel ? ` in <#${e.channel}>` : '';
  switch (e.action) {
    case 'schedule': {
      const target = e.policyId ? ` ${code(e.policyId)}` : '';
      const at = e.requestedAt ? ` for ${dateToken(e.requestedAt, '{date_short} {time}')}` : '';
      const outcome = e.outcome === 'scheduled' ? ':white_check_mark: scheduled' : `:x: ${code(e.outcome)}`;
      const times = e.count && e.count > 1 ? ` (×${e.count} in 10 minutes)` : '';
      return `${when} ${who}${where}: ${outcome}${target}${at}${times}${e.retryNum ? ` (Slack retry ${e.retryNum})` : ''}`;
    }
    case 'restore':
      return `${when} ${who}${where}: ${e.outcome === 'restored' ? ':recycle: restored' : `:x: restore failed, ${code(e.outcome)}`} ${code(e.policyId ?? '')}`;
    case 'token_set':
      return `${when} ${who}: set the Katapult token (${code(e.outcome)})`;
    case 'token_removed':
      return `${when} ${who}: removed the Katapult token`;
    case 'access_changed':
      return `${when} ${who}: changed who may schedule deletions`;
    case 'approval': {
      const by = e.decidedBy ? ` by <@${e.decidedBy}>` : '';
      const target = e.policyId ? ` ${code(e.policyId)}` : '';
      const what =
        e.outcome === 'requested'
          ? ':raised_hand: asked for approval of'
          : e.outcome === 'approved'
            ? `:white_check_mark: request approved${by} for`
            : e.outcome === 'denied'
              ? `:no_entry_sign: request denied${by} for`
              : e.outcome === 'expired'
                ? ':hourglass: request expired for'
                : `:x: request ${code(e.outcome)} for`;
      return `${when} ${who}${where}: ${what}${target}`;
    }
    case 'freeze':
      return `${when} ${who}: ${e.outcome === 'frozen' ? ':ice_cube: froze scheduling' : 'lifted the freeze'}`;
    case 'uninstall':
      // Slack names no person for an uninstall.
      return `${when} the app was uninstalled from this workspace (${
        e.outcome === 'trail_kept' ? 'its audit trail is kept' : 'only its admin entries are kept'
      })`;
  }
}

/** Ten lines a section, which `section` clips to Slack's limit should a line be very long. */
export function historyLines(entries: AuditEntry[]): Block[] {
  return Array.from({ length: Math.ceil(entries.length / 10) }, (_, i) =>
    section(
      entries
        .slice(i * 10, i * 10 + 10)
        .map(line)
        .join('\n'),
    ),
  );
}

export function historyMessage(entries: AuditEntry[], pending: RequestRecord[] = []): SlackMessage {
  const waiting =
    pending.length > 0
      ? [section(`*${APPROVALS.pendingHeader}* (${pending.length}):`), ...pendingLines(pending)]
      : [];
  if (entries.length === 0) {
    const nothing = 'Nothing has been done with this bot in this workspace yet.';
    return message(nothing, [...waiting, section(nothing)]);
  }
  return message(`The last ${entries.length} actions in this workspace.`, [
    ...waiting,
    section(`*The last ${entries.length} actions in this workspace*, newest first:`),
    ...historyLines(entries),
    context('Kept in the bot’s audit log; older entries are removed after the retention period.'),
  ]);
}

/** `/katapult history admin`: token, access, freeze, approval and uninstall entries, newest first. */
export function adminHistoryMessage(entries: AuditEntry[]): SlackMessage {
  if (entries.length === 0) {
    const nothing = 'No configuration changes or approvals are on record in this workspace.';
    return message(nothing, [section(nothing)]);
  }
  const title = `The last ${entries.length} configuration changes and approval steps in this workspace`;
  return message(`${title}.`, [
    section(`*${title}*, newest first:`),
    ...historyLines(entries),
    context(
      'Kept apart from other activity, so no volume of schedules, refusals or failures pushes them out, and for longer; older ones are removed after their own retention period.',
    ),
  ]);
}
