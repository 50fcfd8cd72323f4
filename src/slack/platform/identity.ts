/**
 * `auth.test` at start for a single-workspace install: a wrong token or an unreachable Slack stops
 * the start with the reason, instead of Bolt retrying in the background for half an hour. It also
 * says which workspace (or, for an org-wide install, which enterprise) the bot belongs to.
 */
import { type AppLogger, errorText } from '../../log.js';
import { webApi } from '../bolt.js';
import { slackErrorCode } from '../workspace.js';
import type { InstalledWorkspace } from './workspace-guard.js';

/** What `auth.test` says of the bot token. */
export interface BotIdentity {
  botId: string;
  botUserId: string;
  workspace: InstalledWorkspace;
}

export async function checkBotToken(
  botToken: string,
  apiUrl: string | null,
  logger: AppLogger,
  /** Through the outbound proxy (src/net/proxy.ts) when one is set; else Node's own. */
  fetch?: typeof globalThis.fetch,
): Promise<BotIdentity> {
  try {
    const auth = await new webApi.WebClient(botToken, {
      ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
      ...(fetch ? { fetch } : {}),
      retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2000 },
      timeout: 10_000,
      logger,
    }).auth.test();
    const workspace: InstalledWorkspace = {
      teamId: auth.team_id ?? null,
      enterpriseId: auth.enterprise_id ?? null,
      isEnterpriseInstall: auth.is_enterprise_install === true,
    };
    logger.event('info', 'slack_identity', {
      team: auth.team ?? null,
      team_id: workspace.teamId,
      enterprise_id: workspace.enterpriseId,
      org_wide: workspace.isEnterpriseInstall,
      bot_user: auth.user_id ?? null,
    });
    return { botId: auth.bot_id ?? '', botUserId: auth.user_id ?? '', workspace };
  } catch (error) {
    const code = slackErrorCode(error);
    throw new Error(
      code
        ? `Slack refused SLACK_BOT_TOKEN (${code}); copy the Bot User OAuth Token again from the app's OAuth & Permissions page`
        : `could not reach the Slack API at ${apiUrl ?? 'https://slack.com/api/'} (${errorText(error)})`,
    );
  }
}
