/**
 * The use case: restore a disk backup policy from Katapult's trash (the undo of a scheduled move),
 * from the Restore button. The button only names which of this workspace's scheduled deletions is
 * meant: the object restored is the policy found in the store, so a payload carrying any other
 * object ID (a VM's, another workspace's policy) restores nothing. Every end but a double click is
 * audited.
 */
import { auditEntry } from '../audit/entry.js';
import type { AuditRecorder } from '../audit/record.js';
import type { RestoredTrashObject } from '../katapult/client.js';
import { type AppLogger, errorText } from '../log.js';
import type { WorkspaceTokens } from '../tokens/workspace-tokens.js';
import { failureCode, type KatapultCallResult, withWorkspaceToken } from './katapult-call.js';
import type { UpcomingDeletion, UpcomingDeletions } from './upcoming.js';

export interface KatapultRestorer {
  restoreTrashObject(token: string, objectId: string): Promise<RestoredTrashObject>;
}

/** The Katapult call alone (restoring what the store says was scheduled). */
export function restoreFromTrash(
  deps: { tokens: WorkspaceTokens; katapult: KatapultRestorer },
  request: { workspaceId: string; policyId: string },
): Promise<KatapultCallResult<RestoredTrashObject>> {
  return withWorkspaceToken(deps.tokens, request.workspaceId, (token) =>
    deps.katapult.restoreTrashObject(token, request.policyId),
  );
}

export type RestoreResult = KatapultCallResult<RestoredTrashObject>;

export interface RestorePolicyDeps {
  tokens: WorkspaceTokens;
  katapult: KatapultRestorer;
  upcoming: Pick<UpcomingDeletions, 'get'> & Partial<Pick<UpcomingDeletions, 'read' | 'putIfUnchanged'>>;
  /** Idempotency keys: one restore per click, across replicas. */
  claims: { claim(key: string, ttlMs: number): Promise<boolean> };
  record: AuditRecorder;
  logger: AppLogger;
  now: () => number;
}

export interface RestoreRequest {
  workspaceId: string;
  userId: string;
  channelId: string;
  /** The button's policy ID (already checked to look like one). */
  policyId: string;
  /** The message the button is on: the reply goes in its thread. */
  threadTs: string | null;
  retryNum: number | null;
}

/** Why a restore was refused: the store, a button that matches nothing, or the access policy. */
export type RestoreRefusal = 'store_unavailable' | 'not_scheduled_here' | (string & {});

/** The Slack side of one click. */
export interface RestoreSurface {
  /** Whether the person may schedule (and so restore) in the channel; `reason` when not. */
  mayRestore(): Promise<{ allowed: true } | { allowed: false; reason: string }>;
  /** Tells the person why nothing was restored. */
  refuse(reason: RestoreRefusal): Promise<void>;
  /** Tells the person this restore is already under way (a double click, two people at once). */
  busy(): Promise<void>;
  /**
   * Tells the channel how it went (in the request's thread when `scheduled` has its message, and
   * the message then names the state); says where it was told (for the audit).
   */
  announce(policyId: string, result: RestoreResult, scheduled?: UpcomingDeletion): Promise<string>;
}

export type RestorePolicy = (request: RestoreRequest, surface: RestoreSurface) => Promise<void>;

export function createRestorePolicy(deps: RestorePolicyDeps): RestorePolicy {
  return async (request, surface) => {
    const { workspaceId } = request;
    const at = deps.now();
    const audit = (outcome: string, requestId: string | null, delivery: string | null) =>
      deps.record(
        auditEntry({
          at,
          workspace: workspaceId,
          user: request.userId,
          channel: request.channelId,
          action: 'restore',
          policyId: request.policyId,
          outcome,
          requestId,
          retryNum: request.retryNum,
          delivery,
        }),
      );
    const refuse = async (reason: RestoreRefusal) => {
      await surface.refuse(reason);
      await audit(`refused:${reason}`, null, null);
    };
    let scheduled: UpcomingDeletion | null;
    try {
      scheduled = await deps.upcoming.get(workspaceId, request.policyId);
    } catch (error) {
      deps.logger.event('error', 'store_failed', {
        operation: 'read upcoming deletion',
        error: errorText(error),
      });
      return refuse('store_unavailable');
    }
    if (!scheduled) return refuse('not_scheduled_here');
    const policyId = scheduled.policyId;

    const access = await surface.mayRestore();
    if (!access.allowed) return refuse(access.reason);
    // A double click, or a second person pressing at the same time: one restore is enough.
    const first = await deps.claims
      .claim(`restore:${workspaceId}:${policyId}:${request.threadTs ?? ''}`, 60_000)
      .catch(() => true);
    if (!first) return surface.busy();

    const result = await restoreFromTrash(deps, { workspaceId, policyId });
    const delivery = await surface.announce(policyId, result, scheduled);
    if (result.ok && scheduled.message) await markRestored(deps, workspaceId, scheduled);
    await audit(
      result.ok ? 'restored' : failureCode(result.failure),
      result.ok ? result.value.requestId : 'requestId' in result.failure ? result.failure.requestId : null,
      delivery,
    );
  };
}

/**
 * The index keeps that the request's message now says "restored" (so the reconcile pass does not
 * move it back to "moved"), unless the record changed since it was read (a reschedule meanwhile).
 */
async function markRestored(
  deps: RestorePolicyDeps,
  workspaceId: string,
  scheduled: UpcomingDeletion,
): Promise<void> {
  const { read, putIfUnchanged } = deps.upcoming;
  if (!read || !putIfUnchanged) return;
  try {
    const now = await read(workspaceId, scheduled.policyId);
    const same =
      now.record?.requestCreatedAt === scheduled.requestCreatedAt && now.record?.at === scheduled.at;
    if (now.record && same)
      await putIfUnchanged(workspaceId, { ...now.record, shown: 'restored' }, now.version);
  } catch (error) {
    deps.logger.event('warn', 'store_failed', { operation: 'mark restored', error: errorText(error) });
  }
}
