/**
 * Typed failures of the Katapult client. Every way a call can fail becomes one of these four
 * classes, each with a `kind` to switch on. No error message or property ever holds the API token.
 */

/** The `detail` object of a Katapult error, per documented code (see shared/katapult/FINDINGS.md). */
export interface KatapultErrorDetails {
  unauthorized_network_for_api_token: { ip_address?: string };
  invalid_api_token: { details?: string | null };
  permission_denied: { details?: string | null };
  scope_not_granted: { scopes?: string[] };
  object_in_trash: {
    trash_object?: { id?: string; keep_until?: number; object_id?: string; object_type?: string } | null;
  };
  rate_limit_reached: { total_permitted?: number };
  invalid_argument: { issue?: string; issue_description?: string; argument?: { name?: string } };
  missing_required_argument: { argument?: { name?: string } };
}

/** Katapult answered with an error envelope (or a non-2xx status). */
export class KatapultApiError extends Error {
  readonly kind = 'api' as const;
  constructor(
    readonly status: number,
    /** Katapult's error code, e.g. `disk_backup_policy_not_found`; `http_<status>` when the body had none. */
    readonly code: string,
    readonly description: string | null,
    readonly detail: Record<string, unknown>,
    readonly requestId: string | null,
    readonly attempts: number,
  ) {
    super(`Katapult API error ${status} ${code}${description ? `: ${description}` : ''}`);
    this.name = 'KatapultApiError';
  }
}

/** No answer within the client's timeout (after any retries). */
export class KatapultTimeoutError extends Error {
  readonly kind = 'timeout' as const;
  constructor(
    readonly timeoutMs: number,
    readonly attempts: number,
  ) {
    super(`Katapult did not answer within ${timeoutMs} ms`);
    this.name = 'KatapultTimeoutError';
  }
}

/** The connection failed (DNS, refused, reset) on every attempt. `cause` holds the last low-level error. */
export class KatapultNetworkError extends Error {
  readonly kind = 'network' as const;
  constructor(
    message: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KatapultNetworkError';
  }
}

/** Katapult (or something in front of it) answered with something that is not the documented shape: an HTML page, bad JSON, missing fields. */
export class KatapultResponseError extends Error {
  readonly kind = 'bad_response' as const;
  constructor(
    readonly status: number,
    /** Short description of what was wrong, e.g. `not JSON (text/html)`; never the raw body. */
    readonly problem: string,
    readonly requestId: string | null,
  ) {
    super(`Unexpected answer from Katapult (HTTP ${status}): ${problem}`);
    this.name = 'KatapultResponseError';
  }
}

export type KatapultError =
  | KatapultApiError
  | KatapultTimeoutError
  | KatapultNetworkError
  | KatapultResponseError;

export function isKatapultError(e: unknown): e is KatapultError {
  return (
    e instanceof KatapultApiError ||
    e instanceof KatapultTimeoutError ||
    e instanceof KatapultNetworkError ||
    e instanceof KatapultResponseError
  );
}
