/**
 * The use-case: schedule a disk backup policy's move to the trash, with the workspace's token.
 * Expected failures come back as values (`{ ok: false, failure }`); only bugs throw.
 */
import type { ScheduledDeletion } from '../katapult/client.js';
import { isKatapultError, type KatapultError } from '../katapult/errors.js';
import type { TokenFailure, WorkspaceTokens } from '../tokens/workspace-tokens.js';

export interface KatapultScheduler {
  scheduleDiskBackupPolicyDeletion(token: string, policyId: string, at: number): Promise<ScheduledDeletion>;
}

export interface ScheduleRequest {
  workspaceId: string;
  policyId: string;
  /** Unix seconds, already validated by `checkDeletionTime`. */
  atSeconds: number;
}

export type ScheduleFailure = KatapultError | TokenFailure;
export type ScheduleResult =
  | { ok: true; scheduled: ScheduledDeletion }
  | { ok: false; failure: ScheduleFailure };

export async function scheduleDeletion(
  deps: { tokens: WorkspaceTokens; katapult: KatapultScheduler },
  request: ScheduleRequest,
): Promise<ScheduleResult> {
  const token = await deps.tokens.tokenFor(request.workspaceId);
  if (!token.ok) return { ok: false, failure: token.failure };
  try {
    const scheduled = await deps.katapult.scheduleDiskBackupPolicyDeletion(
      token.token,
      request.policyId,
      request.atSeconds,
    );
    return { ok: true, scheduled };
  } catch (error) {
    if (isKatapultError(error)) return { ok: false, failure: error };
    throw error;
  }
}
