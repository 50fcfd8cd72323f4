/**
 * Every use-case that calls Katapult for a workspace does the same thing: find the workspace's
 * token, make the call, and turn Katapult's typed errors into values. Only bugs throw.
 */
import { isKatapultError, type KatapultError } from '../katapult/errors.js';
import type { TokenFailure, WorkspaceTokens } from '../tokens/workspace-tokens.js';

export type KatapultCallResult<T> =
  | { ok: true; value: T }
  | { ok: false; failure: KatapultError | TokenFailure };

/** A workspace's token as `tokenFor` answered: read ahead, with the other reads of a stage. */
export type TokenLookup = Awaited<ReturnType<WorkspaceTokens['tokenFor']>>;

export async function withWorkspaceToken<T>(
  tokens: WorkspaceTokens,
  workspaceId: string,
  call: (token: string) => Promise<T>,
  /** The token, when the caller read it already. */
  read?: TokenLookup,
): Promise<KatapultCallResult<T>> {
  const token = read ?? (await tokens.tokenFor(workspaceId));
  if (!token.ok) return { ok: false, failure: token.failure };
  try {
    return { ok: true, value: await call(token.token) };
  } catch (error) {
    if (isKatapultError(error)) return { ok: false, failure: error };
    throw error;
  }
}

/** A failure as one short code for logs and the audit trail: Katapult's error code, else the failure kind. */
export function failureCode(failure: KatapultError | TokenFailure | { kind: string }): string {
  return 'code' in failure && failure.kind === 'api' ? failure.code : failure.kind;
}
