/**
 * When the Katapult client tries again, and after how long. Pure: no clock, no timer, no I/O; the
 * caller passes in the time already spent and a jitter source, and does the waiting itself.
 *
 * Retried: 429 `rate_limit_reached`, any 503, a failed connection, and an attempt that timed out
 * (unless the call says a timeout must not be repeated). Nothing else: a 400/403/404/406 will not
 * change, a 500 may have done the work, and a 502 from a proxy says nothing about whether Katapult
 * acted. The time budget counts attempts as measured plus back-offs as requested, so after a
 * timeout of `timeoutMs` there is room for few further attempts: the worst case for one call is
 * about `maxTotalMs + timeoutMs`.
 */

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  /** Ceiling of the first back-off; it doubles for each further retry. */
  baseDelayMs: number;
  /** No single back-off (nor an honoured Retry-After) is longer than this. */
  maxDelayMs: number;
  /** No retry is made if its back-off would take the time spent on the call past this. */
  maxTotalMs: number;
}

/** Named policies, as data (after node-slack-sdk's `retryPolicies`). */
export const retryPolicies = Object.freeze({
  /** The default: up to four attempts, back-offs of about 0.5, 1 and 2 s, within 15 s. */
  fourAttemptsInFifteenSeconds: Object.freeze<RetryPolicy>({
    maxAttempts: 4,
    baseDelayMs: 500,
    maxDelayMs: 4000,
    maxTotalMs: 15000,
  }),
  /** One attempt, never a retry. */
  noRetries: Object.freeze<RetryPolicy>({ maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxTotalMs: 0 }),
});

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = retryPolicies.fourAttemptsInFifteenSeconds;

/** The default policy with `overrides`, checked: throws RangeError naming the bad field. */
export function resolveRetryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const retry = { ...DEFAULT_RETRY_POLICY, ...overrides };
  if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) {
    throw new RangeError('KatapultClient: retry.maxAttempts must be an integer of at least 1');
  }
  return {
    maxAttempts: retry.maxAttempts,
    baseDelayMs: nonNegative('retry.baseDelayMs', retry.baseDelayMs),
    maxDelayMs: nonNegative('retry.maxDelayMs', retry.maxDelayMs),
    maxTotalMs: nonNegative('retry.maxTotalMs', retry.maxTotalMs),
  };
}

/** What went wrong with one attempt, as far as retrying is concerned. */
export type FailedAttempt =
  | { kind: 'timeout' }
  | { kind: 'network' }
  /** `code`: Katapult's error code when the body had one, else null. */
  | { kind: 'response'; status: number; code: string | null; retryAfter: string | null };

/** Whether this failure may be tried again at all. `retryTimeouts: false` is for calls that are not idempotent. */
export function isRetryable(failure: FailedAttempt, retryTimeouts = true): boolean {
  switch (failure.kind) {
    case 'timeout':
      return retryTimeouts;
    case 'network':
      return true;
    case 'response':
      return failure.status === 503 || (failure.status === 429 && failure.code === 'rate_limit_reached');
  }
}

/** Delta-seconds only; an HTTP-date or anything else is ignored (Katapult has never been seen to send either). */
export function parseRetryAfterMs(value: string | null): number | null {
  if (value === null || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return null;
  return Math.round(Number(value) * 1000);
}

/**
 * Back-off before retry number `retry` (1 = the first retry). A `Retry-After` of delta-seconds is
 * honoured as given, capped at `maxDelayMs`. Otherwise capped exponential with "equal jitter":
 * ceiling = min(maxDelayMs, baseDelayMs * 2^(retry-1)), delay uniform in [ceiling/2, ceiling].
 * Equal rather than full jitter so that a rate-limited client always waits a little. `random` is
 * called only when there is no usable Retry-After.
 */
export function backoffMs(
  policy: RetryPolicy,
  retry: number,
  retryAfter: string | null,
  random: () => number,
): number {
  const askedMs = parseRetryAfterMs(retryAfter);
  if (askedMs !== null) return Math.min(policy.maxDelayMs, askedMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling / 2 + (r * ceiling) / 2);
}

export type RetryDecision = { retry: false } | { retry: true; delayMs: number };

/**
 * After failed attempt number `attempt`, with `spentMs` already spent on the call: give up, or wait
 * `delayMs` and try again. Gives up when the failure is not retryable, when no attempt is left, or
 * when the back-off would take the call past `maxTotalMs`.
 */
export function decideRetry(
  policy: RetryPolicy,
  step: { attempt: number; failure: FailedAttempt; spentMs: number; retryTimeouts: boolean },
  random: () => number,
): RetryDecision {
  const { attempt, failure, spentMs, retryTimeouts } = step;
  if (!isRetryable(failure, retryTimeouts) || attempt >= policy.maxAttempts) return { retry: false };
  const delayMs = backoffMs(policy, attempt, failure.kind === 'response' ? failure.retryAfter : null, random);
  if (spentMs + delayMs > policy.maxTotalMs) return { retry: false };
  return { retry: true, delayMs };
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`KatapultClient: ${name} must not be negative`);
  return value;
}
