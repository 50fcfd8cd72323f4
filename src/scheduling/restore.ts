/** The use-case: restore a disk backup policy from Katapult's trash (the undo of a scheduled move). */
import type { RestoredTrashObject } from '../katapult/client.js';
import { isKatapultError, type KatapultError } from '../katapult/errors.js';
import type { TokenFailure, WorkspaceTokens } from '../tokens/workspace-tokens.js';

export interface KatapultRestorer {
  restoreTrashObject(token: string, objectId: string): Promise<RestoredTrashObject>;
}

export type RestoreResult =
  | { ok: true; restored: RestoredTrashObject }
  | { ok: false; failure: KatapultError | TokenFailure };

export async function restoreFromTrash(
  deps: { tokens: WorkspaceTokens; katapult: KatapultRestorer },
  request: { workspaceId: string; policyId: string },
): Promise<RestoreResult> {
  const token = await deps.tokens.tokenFor(request.workspaceId);
  if (!token.ok) return { ok: false, failure: token.failure };
  try {
    return { ok: true, restored: await deps.katapult.restoreTrashObject(token.token, request.policyId) };
  } catch (error) {
    if (isKatapultError(error)) return { ok: false, failure: error };
    throw error;
  }
}
