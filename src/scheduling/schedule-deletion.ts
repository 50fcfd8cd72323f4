/**
 * The use-case: schedule a disk backup policy's move to the trash, with the workspace's token.
 * Expected failures come back as values (`{ ok: false, failure }`); only bugs throw.
 */
import type { ScheduledDeletion } from '../katapult/client.js';
import type { WorkspaceTokens } from '../tokens/workspace-tokens.js';
import { type KatapultCallResult, type TokenLookup, withWorkspaceToken } from './katapult-call.js';

export interface KatapultScheduler {
  scheduleDiskBackupPolicyDeletion(token: string, policyId: string, at: number): Promise<ScheduledDeletion>;
}

export interface ScheduleRequest {
  workspaceId: string;
  policyId: string;
  /** Unix seconds, already validated by `checkDeletionTime`. */
  atSeconds: number;
}

export type ScheduleResult = KatapultCallResult<ScheduledDeletion>;

export function scheduleDeletion(
  deps: { tokens: WorkspaceTokens; katapult: KatapultScheduler },
  request: ScheduleRequest,
  /** The workspace's token, when the caller read it already. */
  token?: TokenLookup,
): Promise<ScheduleResult> {
  return withWorkspaceToken(
    deps.tokens,
    request.workspaceId,
    (token) => deps.katapult.scheduleDiskBackupPolicyDeletion(token, request.policyId, request.atSeconds),
    token,
  );
}
