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
 *
 * The queue of work (requests, approval holds) goes right after the installation, before the tokens
 * and the freeze, so nothing queued can run in between. Slack sends the event once: a step that
 * fails (the store briefly unavailable) is tried again, from that step, a few times over about 20
 * seconds before the failure is thrown.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AccessPolicies } from '../access/access-policy.js';
import type { Freezes } from '../access/freeze.js';
import { auditEntry } from '../audit/entry.js';
import type { AuditTrail } from '../audit/trail.js';
import { type AppLogger, errorText } from '../log.js';
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
  /** Waits before each further try of a failed step (default 1, 4 and 15 s). */
  retryDelaysMs?: readonly number[];
}

const RETRY_DELAYS_MS = [1_000, 4_000, 15_000];

export type ForgetWorkspace = (workspaceId: string) => Promise<void>;

/**
 * A failure is tried again from the step that failed (`retryDelaysMs`); the last one is thrown: the
 * caller logs it; what was removed stays removed.
 */
export function createForgetWorkspace(deps: ForgetWorkspaceDeps): ForgetWorkspace {
  return async (workspaceId) => {
    const outcome = deps.singleWorkspace ? 'trail_kept' : 'activity_forgotten';
    // Written first: it stays whatever step fails later. Slack names no person for an uninstall.
    await deps.record(
      auditEntry({ at: deps.now(), workspace: workspaceId, user: '', action: 'uninstall', outcome }),
    );
    const steps: (() => Promise<unknown>)[] = [
      () => deps.deleteInstallation(workspaceId),
      () => deps.requests.forget(workspaceId),
      () => deps.holds.forget(workspaceId),
      () => deps.tokens.remove(workspaceId),
      () => deps.access.remove(workspaceId),
      () => deps.freezes.remove(workspaceId),
      () => deps.upcoming.forget(workspaceId),
      () => deps.dailyLimit.forget(workspaceId),
      async () => deps.lastChannels?.forget(workspaceId),
      async () => (deps.singleWorkspace ? undefined : deps.trail.forget(workspaceId, { keepAdmin: true })),
    ];
    const delays = deps.retryDelaysMs ?? RETRY_DELAYS_MS;
    for (const step of steps) {
      for (let tries = 0; ; tries++) {
        try {
          await step();
          break;
        } catch (error) {
          const delay = delays[tries];
          if (delay === undefined) throw error;
          deps.logger.event('warn', 'workspace_forget_retry', {
            workspace: workspaceId,
            error: errorText(error),
          });
          await sleep(delay);
        }
      }
    }
    deps.logger.event('info', 'workspace_trail_kept', {
      workspace: workspaceId,
      kept: deps.singleWorkspace ? 'whole_trail' : 'admin_entries',
    });
  };
}
