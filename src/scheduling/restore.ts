/** The use-case: restore a disk backup policy from Katapult's trash (the undo of a scheduled move). */
import type { RestoredTrashObject } from '../katapult/client.js';
import type { WorkspaceTokens } from '../tokens/workspace-tokens.js';
import { type KatapultCallResult, withWorkspaceToken } from './katapult-call.js';

export interface KatapultRestorer {
  restoreTrashObject(token: string, objectId: string): Promise<RestoredTrashObject>;
}

export function restoreFromTrash(
  deps: { tokens: WorkspaceTokens; katapult: KatapultRestorer },
  request: { workspaceId: string; policyId: string },
): Promise<KatapultCallResult<RestoredTrashObject>> {
  return withWorkspaceToken(deps.tokens, request.workspaceId, (token) =>
    deps.katapult.restoreTrashObject(token, request.policyId),
  );
}
