/**
 * The use case: a workspace uninstalled the app (or revoked its bot token), so everything stored
 * for it goes: its Slack installation first (no more events come in for it), then each store.
 */
import type { AccessPolicies } from '../access/access-policy.js';
import type { Freezes } from '../access/freeze.js';
import type { AuditLog } from '../store/store.js';
import type { WorkspaceTokens } from '../tokens/workspace-tokens.js';
import type { ApprovalHolds } from './approvals.js';
import type { DailyLimit } from './daily-limit.js';
import type { RequestLog } from './request-log.js';
import type { UpcomingDeletions } from './upcoming.js';

export interface ForgetWorkspaceDeps {
  /** Deletes the workspace's Slack installation (OAuth; nothing to do with a single workspace). */
  deleteInstallation(workspaceId: string): Promise<void>;
  tokens: Pick<WorkspaceTokens, 'remove'>;
  access: Pick<AccessPolicies, 'remove'>;
  freezes: Pick<Freezes, 'remove'>;
  upcoming: Pick<UpcomingDeletions, 'forget'>;
  requests: Pick<RequestLog, 'forget'>;
  dailyLimit: Pick<DailyLimit, 'forget'>;
  holds: Pick<ApprovalHolds, 'forget'>;
  trail: Pick<AuditLog, 'forget'>;
}

export type ForgetWorkspace = (workspaceId: string) => Promise<void>;

/** The first failure stops it (and is thrown): the caller logs it; what was removed stays removed. */
export function createForgetWorkspace(deps: ForgetWorkspaceDeps): ForgetWorkspace {
  return async (workspaceId) => {
    await deps.deleteInstallation(workspaceId);
    await deps.tokens.remove(workspaceId);
    await deps.access.remove(workspaceId);
    await deps.freezes.remove(workspaceId);
    await deps.upcoming.forget(workspaceId);
    await deps.requests.forget(workspaceId);
    await deps.dailyLimit.forget(workspaceId);
    await deps.holds.forget(workspaceId);
    await deps.trail.forget(workspaceId);
  };
}
