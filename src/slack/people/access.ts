/** Applies the workspace's access policy to a Slack user, with the facts fetched from Slack. */
import type { webApi } from '@slack/bolt';
import {
  type AccessDecision,
  type AccessPolicies,
  approvalOf,
  decide,
  mayApprove,
  type Refusal,
} from '../../access/access-policy.js';
import { type AppLogger, errorText } from '../../log.js';
import type { DecisionRefusal } from '../../scheduling/approvals.js';
import { slackErrorCode, slackErrorText } from '../workspace.js';
import { DECISION_MAX_AGE_MS, type SlackUserProfile, type UserDirectory } from './users.js';

/** What the checks read: Slack's facts about a person (cached briefly), and the stored policy. */
export interface PeopleDeps {
  users: UserDirectory;
  access: Pick<AccessPolicies, 'get'>;
  logger: AppLogger;
}

/**
 * Who, where, and the oldest cached profile the check accepts: a decision's (DECISION_MAX_AGE_MS) by
 * default; what only shapes a form may pass PROFILE_TTL_MS.
 */
export interface AccessInput {
  workspaceId: string;
  userId: string;
  channelId: string;
  maxAgeMs?: number;
}

type ApproverCheck = { allowed: true } | { allowed: false; reason: DecisionRefusal };

export type AccessCheck =
  | { allowed: true; profile: SlackUserProfile }
  | {
      allowed: false;
      reason: Refusal | 'lookup_failed' | 'store_unavailable';
      profile: SlackUserProfile | null;
    };

export async function checkAccess(
  deps: PeopleDeps,
  client: webApi.WebClient,
  input: AccessInput,
): Promise<AccessCheck> {
  let profile: SlackUserProfile;
  try {
    profile = await deps.users.lookup(client, input.workspaceId, input.userId, {
      maxAgeMs: input.maxAgeMs ?? DECISION_MAX_AGE_MS,
    });
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
  deps: Pick<PeopleDeps, 'users' | 'logger'>,
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
  deps: PeopleDeps & { approvals: { requiredByDefault: boolean } },
  client: webApi.WebClient,
  input: { workspaceId: string; userId: string; requesterId: string | null; fresh?: boolean },
): Promise<ApproverCheck> {
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

/** The checks above, bound to their parts: what the listeners are given (they never see the store). */
export interface PeopleChecks {
  /** Whether the user may schedule (and restore) in the channel. */
  mayUse(client: webApi.WebClient, input: AccessInput): Promise<AccessCheck>;
  /** Whether the user may decide requests of `requesterId` (null: anyone's). */
  mayApprove(
    client: webApi.WebClient,
    input: { workspaceId: string; userId: string; requesterId: string | null; fresh?: boolean },
  ): Promise<ApproverCheck>;
}

export function createPeopleChecks(
  deps: PeopleDeps & { approvals: { requiredByDefault: boolean } },
): PeopleChecks {
  return {
    mayUse: (client, input) => checkAccess(deps, client, input),
    mayApprove: (client, input) => checkApprover(deps, client, input),
  };
}
