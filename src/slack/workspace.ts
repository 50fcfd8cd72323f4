import type { Context } from '@slack/bolt';

/** Data is kept per workspace: the enterprise for an org-wide install, else the team. */
export function workspaceIdOf(context: Context): string | null {
  if (context.isEnterpriseInstall && context.enterpriseId) return context.enterpriseId;
  return context.teamId ?? context.enterpriseId ?? null;
}

/** The Slack error code of a failed Web API call (`not_in_channel`, `expired_trigger_id`, …), if any. */
export function slackErrorCode(error: unknown): string | null {
  const data = (error as { data?: { error?: unknown } } | null)?.data;
  return typeof data?.error === 'string' ? data.error : null;
}

/** A failed Slack call for a log field: its Slack error code, else the thrown value as a string. */
export function slackErrorText(error: unknown): string {
  return slackErrorCode(error) ?? String(error);
}
