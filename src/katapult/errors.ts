/**
 * Typed failures of the Katapult client. Every way a call can fail becomes one of these four
 * classes, each with a `kind` to switch on. No error message or property ever holds the API token.
 */
import type { z } from 'zod';
import { MAX_UNIX_SECONDS } from '../time/instant.js';
import { lazySchema } from './lazy-schema.js';

/**
 * The `detail` object of a Katapult error, per documented code (see shared/katapult/FINDINGS.md).
 * `invalid_argument` and `missing_required_argument` are the Apia framework's argument errors and
 * share one shape. Read one with `readErrorDetail`, never by hand.
 */
export interface KatapultErrorDetails {
  unauthorized_network_for_api_token: { ip_address?: string };
  invalid_api_token: { details?: string | null };
  permission_denied: { details?: string | null };
  scope_not_granted: { scopes?: string[] };
  object_in_trash: {
    trash_object?: { id?: string; keep_until?: number; object_id?: string; object_type?: string } | null;
  };
  rate_limit_reached: { total_permitted?: number };
  invalid_argument: ArgumentErrorDetail;
  missing_required_argument: ArgumentErrorDetail;
}

/** The Apia framework's detail for an argument it refused. */
export interface ArgumentErrorDetail {
  issue?: string;
  issue_description?: string;
  argument?: { name?: string };
}

/** A code whose `detail` has a documented shape. */
export type KatapultErrorDetailCode = keyof KatapultErrorDetails;

/** A field that reads as absent (undefined) when it is missing or of another type. */
const tolerant = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

/** Runtime readers of each shape: every field is optional and one of another type reads as absent. */
const detailSchemas = lazySchema(
  (z): { [C in KatapultErrorDetailCode]: z.ZodType<KatapultErrorDetails[C]> } => {
    const text = tolerant(z.string());
    const argumentDetailSchema = z.object({
      issue: text,
      issue_description: text,
      argument: tolerant(z.object({ name: text })),
    });
    return {
      unauthorized_network_for_api_token: z.object({ ip_address: text }),
      invalid_api_token: z.object({ details: tolerant(z.string().nullable()) }),
      permission_denied: z.object({ details: tolerant(z.string().nullable()) }),
      scope_not_granted: z.object({
        scopes: tolerant(z.array(z.unknown()).transform((all) => all.filter((s) => typeof s === 'string'))),
      }),
      object_in_trash: z.object({
        trash_object: tolerant(
          z
            .object({
              id: text,
              keep_until: tolerant(z.number().min(0).max(MAX_UNIX_SECONDS)),
              object_id: text,
              object_type: text,
            })
            .nullable(),
        ),
      }),
      rate_limit_reached: z.object({ total_permitted: tolerant(z.number()) }),
      invalid_argument: argumentDetailSchema,
      missing_required_argument: argumentDetailSchema,
    };
  },
);

/**
 * `error.detail` read as the shape documented for `code` (usually `error.code`; the argument
 * errors share one shape). Never fails: a field that is missing or of another type is undefined,
 * and `scopes` keeps only its strings. Values are as Katapult sent them: not yet escaped for Slack.
 */
export function readErrorDetail<C extends KatapultErrorDetailCode>(
  error: KatapultApiError,
  code: C,
): KatapultErrorDetails[C] {
  const parsed = detailSchemas()[code].safeParse(error.detail);
  return parsed.success ? parsed.data : ({} as KatapultErrorDetails[C]);
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
