/** Applies the workspace's access policy to a Slack user, with the facts fetched from Slack. */
import type { webApi } from '@slack/bolt';
import {
  type AccessDecision,
  approvalOf,
  decide,
  mayApprove,
  type Refusal,
} from '../../access/access-policy.js';
import { errorText } from '../../log.js';
import type { DecisionRefusal } from '../../scheduling/approvals.js';
import type { ListenerDeps } from '../listeners/deps.js';
import { slackErrorCode, slackErrorText } from '../workspace.js';
import type { SlackUserProfile } from './users.js';

export type AccessCheck =
  | { allowed: true; profile: SlackUserProfile }
  | {
      allowed: false;
      reason: Refusal | 'lookup_failed' | 'store_unavailable';
      profile: SlackUserProfile | null;
    };

export async function checkAccess(
  deps: Pick<ListenerDeps, 'users' | 'access' | 'logger'>,
  client: webApi.WebClient,
  input: { workspaceId: string; userId: string; channelId: string },
): Promise<AccessCheck> {
  let profile: SlackUserProfile;
  try {
    profile = await deps.users.lookup(client, input.workspaceId, input.userId);
  } catch (error) {
    deps.logger.event('warn', 'access_lookup_failed', {
      slack_error: slackErrorText(error),
    });
    return { allowed: false, reason: 'lookup_failed', profile: null };
  }
  let decision: AccessDecision;
  try {
    const policy = await deps.access.get(input.workspaceId);
    decision = await decide(policy, {
      isAdmin: profile.isAdmin,
      guest: profile.guest,
      external: profile.external,
      channelId: input.channelId,
      memberOfAny: (groupIds) => deps.users.memberOfAny(client, input.workspaceId, input.userId, groupIds),
    });
  } catch (error) {
    const code = slackErrorCode(error);
    deps.logger.event('error', 'access_check_failed', {
      error: code ?? errorText(error),
    });
    return { allowed: false, reason: code ? 'lookup_failed' : 'store_unavailable', profile };
  }
  return decision.allowed ? { allowed: true, profile } : { allowed: false, reason: decision.reason, profile };
}

/** Whether the user is a workspace admin or owner; false (and a warning) when Slack cannot say. */
export async function isWorkspaceAdmin(
  deps: Pick<ListenerDeps, 'users' | 'logger'>,
  client: webApi.WebClient,
  workspaceId: string,
  userId: string,
  options: { fresh?: boolean } = {},
): Promise<boolean> {
  try {
    return (await deps.users.lookup(client, workspaceId, userId, options)).isAdmin;
  } catch (error) {
    deps.logger.event('warn', 'admin_check_failed', { slack_error: slackErrorText(error) });
    return false;
  }
}

/**
 * Whether the user may approve or deny a request of `requesterId`, asked at the click: a fresh
 * `users.info` and the stored approval policy (never what a button or a modal carried).
 */
export async function checkApprover(
  deps: Pick<ListenerDeps, 'users' | 'access' | 'logger'> & {
    approvals: Pick<ListenerDeps['approvals'], 'requiredByDefault'>;
  },
  client: webApi.WebClient,
  input: { workspaceId: string; userId: string; requesterId: string | null; fresh?: boolean },
): Promise<{ allowed: true } | { allowed: false; reason: DecisionRefusal }> {
  let profile: SlackUserProfile;
  try {
    profile = await deps.users.lookup(client, input.workspaceId, input.userId, {
      fresh: input.fresh ?? true,
    });
  } catch (error) {
    deps.logger.event('warn', 'approver_lookup_failed', {
      slack_error: slackErrorText(error),
    });
    return { allowed: false, reason: 'lookup_failed' };
  }
  try {
    const approval = approvalOf(await deps.access.get(input.workspaceId), deps.approvals.requiredByDefault);
    return await mayApprove(approval, {
      isAdmin: profile.isAdmin,
      guest: profile.guest,
      external: profile.external,
      isRequester: input.userId === input.requesterId,
      memberOfAny: (groupIds) => deps.users.memberOfAny(client, input.workspaceId, input.userId, groupIds),
    });
  } catch (error) {
    const code = slackErrorCode(error);
    deps.logger.event('error', 'approver_check_failed', {
      error: code ?? errorText(error),
    });
    return { allowed: false, reason: code ? 'lookup_failed' : 'store_unavailable' };
  }
}
