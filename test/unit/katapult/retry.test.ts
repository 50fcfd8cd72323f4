/** The retry rules as pure functions: tables in, decisions out; no client, no server, no clock. */
import {
  backoffMs,
  DEFAULT_RETRY_POLICY,
  decideRetry,
  type FailedAttempt,
  isRetryable,
  parseRetryAfterMs,
  type RetryPolicy,
  resolveRetryPolicy,
  retryPolicies,
} from '../../../src/katapult/retry.js';

const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY };
const response = (
  status: number,
  code: string | null = null,
  retryAfter: string | null = null,
): FailedAttempt => ({
  kind: 'response',
  status,
  code,
  retryAfter,
});

/** A jitter source that always gives `value` and counts its calls. */
function countingRandom(value: number) {
  const random = Object.assign(
    () => {
      random.calls++;
      return value;
    },
    { calls: 0 },
  );
  return random;
}

describe('the named policies', () => {
  it('the default is four attempts in fifteen seconds, frozen', () => {
    expect(DEFAULT_RETRY_POLICY).toBe(retryPolicies.fourAttemptsInFifteenSeconds);
    expect(DEFAULT_RETRY_POLICY).toEqual({
      maxAttempts: 4,
      baseDelayMs: 500,
      maxDelayMs: 4000,
      maxTotalMs: 15000,
    });
    expect(Object.isFrozen(DEFAULT_RETRY_POLICY)).toBe(true);
    expect(Object.isFrozen(retryPolicies)).toBe(true);
  });

  it('noRetries never retries even what is retryable', () => {
    expect(
      decideRetry(
        retryPolicies.noRetries,
        { attempt: 1, failure: response(503), spentMs: 0, retryTimeouts: true },
        () => 0,
      ),
    ).toEqual({ retry: false });
  });
});

describe('resolveRetryPolicy', () => {
  it('fills in the default for what is not given', () => {
    expect(resolveRetryPolicy({ maxAttempts: 2 })).toEqual({ ...DEFAULT_RETRY_POLICY, maxAttempts: 2 });
    expect(resolveRetryPolicy()).toEqual(DEFAULT_RETRY_POLICY);
  });

  it.each<[Partial<RetryPolicy>, RegExp]>([
    [{ maxAttempts: 0 }, /maxAttempts/],
    [{ maxAttempts: 1.5 }, /maxAttempts/],
    [{ baseDelayMs: -1 }, /baseDelayMs/],
    [{ maxDelayMs: Number.NaN }, /maxDelayMs/],
    [{ maxTotalMs: Number.POSITIVE_INFINITY }, /maxTotalMs/],
  ])('refuses %j', (overrides, message) => {
    expect(() => resolveRetryPolicy(overrides)).toThrow(RangeError);
    expect(() => resolveRetryPolicy(overrides)).toThrow(message);
  });
});

describe('isRetryable', () => {
  it.each<[string, FailedAttempt, boolean, boolean]>([
    ['a timeout', { kind: 'timeout' }, true, true],
    ['a timeout of a call that must not repeat', { kind: 'timeout' }, false, false],
    ['a failed connection', { kind: 'network' }, true, true],
    ['a failed connection of a call that must not repeat', { kind: 'network' }, false, true],
    ['429 rate_limit_reached', response(429, 'rate_limit_reached'), true, true],
    ['429 without that code (a proxy)', response(429), true, false],
    ['429 with another code', response(429, 'too_many'), true, false],
    ['503 service_unavailable', response(503, 'service_unavailable'), true, true],
    ['a plain 503', response(503), true, true],
    ['400 invalid_timestamp', response(400, 'invalid_timestamp'), true, false],
    ['403 invalid_api_token', response(403, 'invalid_api_token'), true, false],
    ['404', response(404, 'disk_backup_policy_not_found'), true, false],
    ['406 object_in_trash', response(406, 'object_in_trash'), true, false],
    ['500 (may have done the work)', response(500, 'unhandled_exception'), true, false],
    ['502 from a proxy', response(502), true, false],
    ['504', response(504), true, false],
  ])('%s → %s/%s', (_label, failure, retryTimeouts, expected) => {
    expect(isRetryable(failure, retryTimeouts)).toBe(expected);
  });
});

describe('parseRetryAfterMs', () => {
  it.each<[string | null, number | null]>([
    [null, null],
    ['2', 2000],
    ['0', 0],
    [' 1.5 ', 1500],
    ['30', 30000],
    ['Wed, 21 Oct 2015 07:28:00 GMT', null],
    ['soon', null],
    ['-1', null],
    ['', null],
  ])('%j → %j', (header, expected) => {
    expect(parseRetryAfterMs(header)).toBe(expected);
  });
});

describe('backoffMs', () => {
  it.each<[number, number, number]>([
    // retry, random, delay: ceiling 500 · 2^(retry-1), equal jitter in [ceiling/2, ceiling]
    [1, 0, 250],
    [2, 0, 500],
    [3, 0, 1000],
    [1, 0.5, 375],
    [1, 0.9999, 500],
    [2, 0.7, 850],
    [3, 0.35, 1350],
    [4, 0.9999, 4000],
    [6, 0.9999, 4000], // capped at maxDelayMs
    [6, 0, 2000],
    [1, -1, 250], // a random out of [0, 1) is clamped
    [1, 7, 500],
  ])('retry %i with random %d waits %i ms', (retry, random, expected) => {
    expect(backoffMs(policy, retry, null, () => random)).toBe(expected);
  });

  it.each<[string, number]>([
    ['2', 2000],
    ['0', 0],
    ['30', 4000],
  ])('Retry-After %j is honoured, capped: %i ms, without calling random', (retryAfter, expected) => {
    const random = countingRandom(0.5);
    expect(backoffMs(policy, 1, retryAfter, random)).toBe(expected);
    expect(random.calls).toBe(0);
  });

  it('an unusable Retry-After falls back to the jittered back-off', () => {
    expect(backoffMs(policy, 1, 'soon', () => 0)).toBe(250);
  });

  it('stays within [ceiling/2, ceiling] for any random', () => {
    for (let retry = 1; retry <= 8; retry++) {
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
      for (const r of [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.9999]) {
        const delay = backoffMs(policy, retry, null, () => r);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});

describe('decideRetry', () => {
  it.each<
    [
      string,
      { attempt: number; failure: FailedAttempt; spentMs: number; retryTimeouts?: boolean },
      ReturnType<typeof decideRetry>,
    ]
  >([
    [
      'a 503 on the first attempt',
      { attempt: 1, failure: response(503), spentMs: 10 },
      { retry: true, delayMs: 250 },
    ],
    [
      'a 503 on the third attempt',
      { attempt: 3, failure: response(503), spentMs: 10 },
      { retry: true, delayMs: 1000 },
    ],
    ['a 503 on the last attempt', { attempt: 4, failure: response(503), spentMs: 10 }, { retry: false }],
    [
      'a 404',
      { attempt: 1, failure: response(404, 'disk_backup_policy_not_found'), spentMs: 10 },
      { retry: false },
    ],
    [
      'a 429 with Retry-After',
      { attempt: 1, failure: response(429, 'rate_limit_reached', '3'), spentMs: 10 },
      { retry: true, delayMs: 3000 },
    ],
    [
      'a timeout',
      { attempt: 1, failure: { kind: 'timeout' }, spentMs: 10_000 },
      { retry: true, delayMs: 250 },
    ],
    [
      'a timeout of a call that must not repeat',
      { attempt: 1, failure: { kind: 'timeout' }, spentMs: 10_000, retryTimeouts: false },
      { retry: false },
    ],
    [
      'a back-off that would pass the budget',
      { attempt: 2, failure: { kind: 'network' }, spentMs: 14_600 },
      { retry: false },
    ],
    [
      'a back-off that just fits the budget',
      { attempt: 2, failure: { kind: 'network' }, spentMs: 14_500 },
      { retry: true, delayMs: 500 },
    ],
  ])('%s', (_label, step, expected) => {
    expect(decideRetry(policy, { retryTimeouts: true, ...step }, () => 0)).toEqual(expected);
  });

  it('calls random only when it will wait for a jittered back-off', () => {
    const random = countingRandom(0);
    decideRetry(policy, { attempt: 4, failure: response(503), spentMs: 0, retryTimeouts: true }, random);
    decideRetry(policy, { attempt: 1, failure: response(404), spentMs: 0, retryTimeouts: true }, random);
    expect(random.calls).toBe(0);
    decideRetry(policy, { attempt: 1, failure: response(503), spentMs: 0, retryTimeouts: true }, random);
    expect(random.calls).toBe(1);
  });

  it('with the defaults, the waits of a call that always fails stay within the budget', () => {
    for (const r of [0, 0.5, 0.9999]) {
      let spentMs = 0;
      const waits: number[] = [];
      for (let attempt = 1; ; attempt++) {
        const decision = decideRetry(
          policy,
          { attempt, failure: response(503), spentMs, retryTimeouts: true },
          () => r,
        );
        if (!decision.retry) break;
        waits.push(decision.delayMs);
        spentMs += decision.delayMs;
      }
      expect(waits.length).toBeLessThanOrEqual(policy.maxAttempts - 1);
      expect(spentMs).toBeLessThanOrEqual(policy.maxTotalMs);
    }
  });
});
