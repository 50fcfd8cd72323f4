/**
 * The use case: an admin sets (checked with Katapult first) or removes the workspace's Katapult API
 * token. The submitter is checked again here (the form only opens for admins, but the submission is
 * what changes things); every change is audited.
 */
import { auditEntry } from '../audit/entry.js';
import type { AuditRecorder } from '../audit/record.js';
import type { AppLogger } from '../log.js';
import type { SetTokenResult, TokenFailure, WorkspaceTokens } from '../tokens/workspace-tokens.js';
import { failureCode } from './katapult-call.js';

export interface SetTokenDeps {
  tokens: Pick<WorkspaceTokens, 'set' | 'remove' | 'status'>;
  record: AuditRecorder;
  logger: AppLogger;
  now: () => number;
}

export interface TokenChange {
  workspaceId: string;
  userId: string;
  /** A new token, or null to remove the stored one. */
  token: string | null;
  retryNum: number | null;
}

export type TokenStatusRead = Awaited<ReturnType<WorkspaceTokens['status']>>;

export type TokenOutcome =
  /** The submitter is not (or no longer) an admin: nothing changed. */
  | { kind: 'refused' }
  | { kind: 'removed' }
  | { kind: 'not_removed'; failure: TokenFailure }
  | { kind: 'saved'; organizationName: string | null; last4: string }
  /** `status`: the token as it stands, to show the form again. */
  | {
      kind: 'not_saved';
      failure: Extract<SetTokenResult, { ok: false }>['failure'];
      status: TokenStatusRead;
    };

/** The Slack side of one submission. */
export interface TokenSurface {
  /** Asked fresh: whether the submitter is a workspace admin or owner. */
  isAdmin(): Promise<boolean>;
  /** The stored token changed: what was cached for the old one goes. */
  changed(): void;
  show(outcome: TokenOutcome): Promise<void>;
}

export type SetToken = (change: TokenChange, surface: TokenSurface) => Promise<void>;

export function createSetToken(deps: SetTokenDeps): SetToken {
  return async (change, surface) => {
    const { workspaceId, userId } = change;
    if (!(await surface.isAdmin())) {
      deps.logger.event('warn', 'token_change_refused', { workspace: workspaceId, user: userId });
      await surface.show({ kind: 'refused' });
      return;
    }
    const audit = (action: 'token_set' | 'token_removed', outcome: string) =>
      deps.record(
        auditEntry({
          at: deps.now(),
          workspace: workspaceId,
          user: userId,
          action,
          outcome,
          retryNum: change.retryNum,
        }),
      );
    if (change.token === null) {
      const removed = await deps.tokens.remove(workspaceId);
      if (removed.ok) surface.changed();
      await surface.show(
        removed.ok ? { kind: 'removed' } : { kind: 'not_removed', failure: removed.failure },
      );
      await audit('token_removed', removed.ok ? 'removed' : removed.failure.kind);
      return;
    }
    const result = await deps.tokens.set(workspaceId, change.token, userId, deps.now());
    if (result.ok) surface.changed();
    await audit('token_set', result.ok ? 'saved' : failureCode(result.failure));
    await surface.show(
      result.ok
        ? { kind: 'saved', organizationName: result.organizationName, last4: result.last4 }
        : { kind: 'not_saved', failure: result.failure, status: await deps.tokens.status(workspaceId) },
    );
  };
}
