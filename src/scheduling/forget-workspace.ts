/**
 * The use case: a workspace uninstalled the app (or revoked its bot token), so what is stored for
 * it goes: its Slack installation first (no more events come in for it), then each store. The audit
 * trail is not erased by it: an `uninstall` admin entry is written first, then
 *
 * - single workspace (a bot token in the config): the whole trail stays (activity, refusals,
 *   failures, admin entries), under its retention as before; the request log, the queue of work,
 *   goes, so that nothing runs for a workspace that removed the app;
 * - OAuth (many workspaces): the workspace's activity, refusals and failures go with its data; its
 *   admin trail (token, access, freeze, approvals, uninstalls) stays for its own retention, so a
 *   reinstall, or the operator, can still see who configured what.
 *
 * A log line (`workspace_trail_kept`) says which.
 */
import type { AccessPolicies } from '../access/access-policy.js';
import type { Freezes } from '../access/freeze.js';
import { auditEntry } from '../audit/entry.js';
import type { AuditTrail } from '../audit/trail.js';
import type { AppLogger } from '../log.js';
import type { AuditEntry } from '../store/store.js';
import type { WorkspaceTokens } from '../tokens/workspace-tokens.js';
import type { ApprovalHolds } from './approvals.js';
import type { DailyLimit } from './daily-limit.js';
import type { LastChannels } from './last-channel.js';
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
  trail: Pick<AuditTrail, 'forget'>;
  /** Writes the `uninstall` admin entry (never throws: a store failure is logged). */
  /** Writes the audit entry (src/audit/record.ts's recorder). */
  record(entry: AuditEntry): Promise<void>;
  /** True for a single workspace (SLACK_BOT_TOKEN), false with OAuth (SLACK_CLIENT_ID). */
  singleWorkspace: boolean;
  logger: AppLogger;
  now: () => number;
  // --- Issue 21. ---
  lastChannels?: Pick<LastChannels, 'forget'>;
}

export type ForgetWorkspace = (workspaceId: string) => Promise<void>;

/** The first failure stops it (and is thrown): the caller logs it; what was removed stays removed. */
export function createForgetWorkspace(deps: ForgetWorkspaceDeps): ForgetWorkspace {
  return async (workspaceId) => {
    const outcome = deps.singleWorkspace ? 'trail_kept' : 'activity_forgotten';
    // Written first: it stays whatever step fails later. Slack names no person for an uninstall.
    await deps.record(
      auditEntry({ at: deps.now(), workspace: workspaceId, user: '', action: 'uninstall', outcome }),
    );
    await deps.deleteInstallation(workspaceId);
    await deps.tokens.remove(workspaceId);
    await deps.access.remove(workspaceId);
    await deps.freezes.remove(workspaceId);
    await deps.upcoming.forget(workspaceId);
    await deps.requests.forget(workspaceId);
    await deps.dailyLimit.forget(workspaceId);
    await deps.holds.forget(workspaceId);
    await deps.lastChannels?.forget(workspaceId);
    if (!deps.singleWorkspace) await deps.trail.forget(workspaceId, { keepAdmin: true });
    deps.logger.event('info', 'workspace_trail_kept', {
      workspace: workspaceId,
      kept: deps.singleWorkspace ? 'whole_trail' : 'admin_entries',
    });
  };
}
