/** `/katapult history`: the workspace's last audit entries, for admins. Pure builder. */
import type { AuditEntry } from '../../store/store.js';
import { code, dateToken } from '../mrkdwn.js';
import { type Block, clip, context, section } from './common.js';
import type { SlackMessage } from './messages.js';

function line(e: AuditEntry): string {
  const when = dateToken(Math.floor(e.at / 1000), '{date_short} {time}');
  const who = `<@${e.user}>`;
  const where = e.channel ? ` in <#${e.channel}>` : '';
  switch (e.action) {
    case 'schedule': {
      const target = e.policyId ? ` ${code(e.policyId)}` : '';
      const at = e.requestedAt ? ` for ${dateToken(e.requestedAt, '{date_short} {time}')}` : '';
      const outcome = e.outcome === 'scheduled' ? ':white_check_mark: scheduled' : `:x: ${code(e.outcome)}`;
      return `${when} ${who}${where}: ${outcome}${target}${at}${e.retryNum ? ` (Slack retry ${e.retryNum})` : ''}`;
    }
    case 'restore':
      return `${when} ${who}${where}: ${e.outcome === 'restored' ? ':recycle: restored' : `:x: restore failed, ${code(e.outcome)}`} ${code(e.policyId ?? '')}`;
    case 'token_set':
      return `${when} ${who}: set the Katapult token (${code(e.outcome)})`;
    case 'token_removed':
      return `${when} ${who}: removed the Katapult token`;
    case 'access_changed':
      return `${when} ${who}: changed who may schedule deletions`;
  }
}

/** Ten lines a section keeps each well under Slack's 3000-character limit. */
export function historyLines(entries: AuditEntry[]): Block[] {
  return Array.from({ length: Math.ceil(entries.length / 10) }, (_, i) =>
    section(
      clip(
        entries
          .slice(i * 10, i * 10 + 10)
          .map(line)
          .join('\n'),
        2900,
      ),
    ),
  );
}

export function historyMessage(entries: AuditEntry[]): SlackMessage {
  if (entries.length === 0) {
    return {
      text: 'Nothing has been done with this bot in this workspace yet.',
      blocks: [section('Nothing has been done with this bot in this workspace yet.')],
    };
  }
  return {
    text: `The last ${entries.length} actions in this workspace.`,
    blocks: [
      section(`*The last ${entries.length} actions in this workspace*, newest first:`),
      ...historyLines(entries),
      context('Kept in the bot’s audit log; older entries are removed after the retention period.'),
    ],
  };
}
