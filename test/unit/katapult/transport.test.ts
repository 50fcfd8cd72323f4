/**
 * The transport, through the client's simplest call: one HTTP attempt at a time against the fake
 * Katapult server over real HTTP on loopback (node-fetch), or against a scripted fetch where only
 * timing matters; error envelopes decoded into typed errors, retries, timeouts, redaction of the
 * token, and the `onAttempt` hook.
 */
import { inspect } from 'node:util';
import {
  DEFAULT_RETRY_POLICY,
  type FetchLike,
  type KatapultAttempt,
  KatapultClient,
} from '../../../src/katapult/client.js';
import {
  KatapultApiError,
  KatapultNetworkError,
  KatapultResponseError,
  KatapultTimeoutError,
} from '../../../src/katapult/errors.js';
import type { FakeKatapultReply } from '../../../support/fakes/katapult-api.js';
import { errorFixture, errorFixtureCodes, errorFixtures } from '../../../support/fixtures/katapult/index.js';
import {
  AT,
  closedPort,
  fake,
  json503,
  makeClient,
  ORG_TOKEN,
  POLICY,
  rejectionOf,
  routes,
  SCHEDULE,
  SCHEDULE_PATH,
  scriptedClient,
  scriptedFetch,
  TOKEN,
  useFakeKatapult,
} from './helpers.js';

useFakeKatapult();

describe('error decoding', () => {
  it.each(errorFixtureCodes)(
    '%s becomes a KatapultApiError with its status, code, description and detail',
    async (code) => {
      const fixture = errorFixture(code);
      fake.enqueue(SCHEDULE, {
        status: fixture.status,
        body: fixture.body,
        headers: { 'X-Request-Id': `req-${code}` },
      });
      const { client } = makeClient({ retry: { maxAttempts: 1 } });
      const error = await rejectionOf(
        client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
        KatapultApiError,
      );
      expect(error).toMatchObject({
        kind: 'api',
        status: fixture.status,
        code,
        description: fixture.body.error.description,
        detail: fixture.body.error.detail,
        requestId: `req-${code}`,
        attempts: 1,
      });
      expect(fake.requests).toHaveLength(1);
    },
  );

  it('falls back to the flat envelope the OpenAPI document shows', async () => {
    const flat = errorFixture('disk_backup_policy_not_found').body.error;
    fake.enqueue(SCHEDULE, { status: 404, body: flat });
    const { client } = makeClient();
    const error = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
      KatapultApiError,
    );
    expect(error).toMatchObject({
      status: 404,
      code: 'disk_backup_policy_not_found',
      description: flat.description,
      detail: {},
    });
  });

  it('keeps the detail of a flat envelope and tolerates a null description', async () => {
    fake.enqueue(SCHEDULE, {
      status: 403,
      body: { code: 'permission_denied', description: null, detail: { details: 'nope' } },
    });
    const { client } = makeClient();
    const error = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
      KatapultApiError,
    );
    expect(error).toMatchObject({
      code: 'permission_denied',
      description: null,
      detail: { details: 'nope' },
    });
  });

  it.each<[string, unknown]>([
    ['without a code', { message: 'I am a teapot' }],
    ['with a non-string code', { error: { code: 418 } }],
    ['as an array', ['error']],
  ])('JSON %s becomes code http_<status>', async (_label, body) => {
    fake.enqueue(SCHEDULE, { status: 418, body });
    const { client } = makeClient();
    const error = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
      KatapultApiError,
    );
    expect(error).toMatchObject({
      status: 418,
      code: 'http_418',
      description: null,
      detail: {},
      attempts: 1,
    });
  });

  it('an error whose detail is not an object gets detail {}', async () => {
    fake.enqueue(SCHEDULE, {
      status: 400,
      body: { error: { code: 'invalid_argument', description: 'x', detail: 'oops' } },
    });
    const { client } = makeClient();
    const error = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
      KatapultApiError,
    );
    expect(error.detail).toEqual({});
  });

  it('an HTML 502 from a proxy is a KatapultResponseError and is not retried', async () => {
    fake.enqueue(SCHEDULE, {
      status: 502,
      rawBody: '<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>',
      headers: { 'Content-Type': 'text/html; charset=utf-8', 'X-Request-Id': 'req-502' },
    });
    const { client, sleeps } = makeClient();
    const error = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
      KatapultResponseError,
    );
    expect(error).toMatchObject({
      kind: 'bad_response',
      status: 502,
      problem: 'not JSON (text/html)',
      requestId: 'req-502',
    });
    expect(error.message).not.toMatch(/nginx|<html/);
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });
});

describe('retries against the fake server', () => {
  it('429 rate_limit_reached then 200 succeeds on the second attempt', async () => {
    const limited = errorFixture('rate_limit_reached');
    fake.enqueue(SCHEDULE, { status: 429, body: limited.body });
    const { client, sleeps } = makeClient();
    const result = await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);
    expect(result.policyId).toBe(POLICY);
    expect(routes()).toEqual([SCHEDULE, SCHEDULE]);
    expect(sleeps).toHaveLength(1);
  });

  it('a Retry-After header is honoured', async () => {
    fake.enqueue(SCHEDULE, {
      status: 429,
      body: errorFixture('rate_limit_reached').body,
      headers: { 'Retry-After': '3' },
    });
    const { client, sleeps } = makeClient();
    await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);
    expect(sleeps).toEqual([3000]);
  });

  it('503 service_unavailable on every attempt gives up after maxAttempts with attempts=4', async () => {
    const unavailable = errorFixture('service_unavailable');
    const replies = Array.from({ length: 4 }, () => ({ status: 503, body: unavailable.body }));
    fake.enqueue(SCHEDULE, ...replies);
    const { client, sleeps } = makeClient();
    const error = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
      KatapultApiError,
    );
    expect(error).toMatchObject({ status: 503, code: 'service_unavailable', attempts: 4 });
    expect(fake.requests).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
  });

  it('a plain (HTML) 503 is retried too, and succeeds when Katapult comes back', async () => {
    fake.enqueue(SCHEDULE, {
      status: 503,
      rawBody: '<html>Service Unavailable</html>',
      headers: { 'Content-Type': 'text/html' },
    });
    const { client, sleeps } = makeClient();
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT)).resolves.toMatchObject({
      policyId: POLICY,
    });
    expect(fake.requests).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('a plain 503 on every attempt ends as a KatapultResponseError after 4 requests', async () => {
    const html = { status: 503, rawBody: '<html>down</html>', headers: { 'Content-Type': 'text/html' } };
    fake.enqueue(SCHEDULE, html, html, html, html);
    const { client } = makeClient();
    const error = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
      KatapultResponseError,
    );
    expect(error).toMatchObject({ status: 503, problem: 'not JSON (text/html)' });
    expect(fake.requests).toHaveLength(4);
  });

  it.each<[string, FakeKatapultReply]>([
    ['400 invalid_timestamp', errorFixture('invalid_timestamp')],
    ['403 invalid_api_token', errorFixture('invalid_api_token')],
    ['404 disk_backup_policy_not_found', errorFixture('disk_backup_policy_not_found')],
    ['406 object_in_trash', errorFixture('object_in_trash')],
    ['500 unhandled_exception', errorFixture('unhandled_exception')],
    ['500 with an empty JSON object', { status: 500, body: {} }],
    ['429 without rate_limit_reached (a proxy page)', { status: 429, rawBody: 'Too Many Requests' }],
    ['502 JSON', { status: 502, body: { error: { code: 'bad_gateway' } } }],
  ])('%s is not retried: exactly one request', async (_label, reply) => {
    fake.enqueue(SCHEDULE, reply, { status: 200, body: {} });
    const { client, sleeps } = makeClient();
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT)).rejects.toThrow();
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('a socket hang-up is retried', async () => {
    fake.enqueue(SCHEDULE, { hangUp: true });
    const { client, sleeps } = makeClient();
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT)).resolves.toMatchObject({
      policyId: POLICY,
    });
    expect(fake.requests).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('hang-ups on every attempt give a KatapultNetworkError with the cause', async () => {
    fake.enqueue(SCHEDULE, { hangUp: true }, { hangUp: true }, { hangUp: true });
    const { client } = makeClient({ retry: { maxAttempts: 3 } });
    const error = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
      KatapultNetworkError,
    );
    expect(error).toMatchObject({ kind: 'network', attempts: 3 });
    expect(error.cause).toBeInstanceOf(Error);
    expect(fake.requests).toHaveLength(3);
  });
});

describe('timeouts and network failures', () => {
  it('an answer slower than timeoutMs is a KatapultTimeoutError after the allowed attempts', async () => {
    const slow = { status: 200, body: {}, delayMs: 2000 };
    fake.enqueue(SCHEDULE, slow, slow);
    const { client, sleeps } = makeClient({ timeoutMs: 100, retry: { maxAttempts: 2 } });
    const started = Date.now();
    const error = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
      KatapultTimeoutError,
    );
    expect(error).toMatchObject({ kind: 'timeout', timeoutMs: 100, attempts: 2 });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(fake.requests).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('a timed-out attempt is retried and the next answer is used', async () => {
    fake.enqueue(SCHEDULE, { status: 200, body: {}, delayMs: 2000 });
    const { client } = makeClient({ timeoutMs: 100 });
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT)).resolves.toMatchObject({
      policyId: POLICY,
    });
    expect(fake.requests).toHaveLength(2);
  });

  it('time spent timing out counts against maxTotalMs', async () => {
    const slow = { status: 200, body: {}, delayMs: 2000 };
    fake.enqueue(SCHEDULE, slow, slow, slow);
    const { client, sleeps } = makeClient({ timeoutMs: 150, retry: { maxTotalMs: 200, baseDelayMs: 100 } });
    const error = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
      KatapultTimeoutError,
    );
    expect(error.attempts).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('a body that stalls after the headers also times out', async () => {
    const stalling: FetchLike = async (_url, init) => ({
      status: 200,
      headers: { get: () => null },
      text: () =>
        new Promise<string>((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    });
    const client = new KatapultClient({
      baseUrl: fake.baseUrl,
      fetch: stalling,
      timeoutMs: 50,
      retry: { maxAttempts: 1 },
    });
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT)).rejects.toBeInstanceOf(
      KatapultTimeoutError,
    );
  });

  it('connection refused is a KatapultNetworkError after maxAttempts', async () => {
    const port = await closedPort();
    const { client, sleeps } = makeClient({ baseUrl: `http://127.0.0.1:${port}/core/v1` });
    const error = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
      KatapultNetworkError,
    );
    expect(error.attempts).toBe(4);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.cause).toBeInstanceOf(Error);
    expect(sleeps).toHaveLength(3);
  });
});

describe('back-off timing (scripted fetch, injected sleep and random)', () => {
  it('is exponential from baseDelayMs with equal jitter: random 0 gives half of each ceiling', async () => {
    const script = scriptedFetch(json503);
    const { client, sleeps } = scriptedClient(script.fetch, { random: () => 0 });
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT)).rejects.toMatchObject({
      attempts: 4,
    });
    expect(sleeps).toEqual([250, 500, 1000]);
    expect(script.calls).toHaveLength(4);
  });

  it('random just under 1 gives (almost) the full ceiling', async () => {
    const script = scriptedFetch(json503);
    const { client, sleeps } = scriptedClient(script.fetch, { random: () => 0.9999 });
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT)).rejects.toBeInstanceOf(
      KatapultApiError,
    );
    expect(sleeps).toEqual([500, 1000, 2000]);
  });

  it('is capped at maxDelayMs', async () => {
    const script = scriptedFetch(json503);
    const { client, sleeps } = scriptedClient(script.fetch, {
      random: () => 0.9999,
      retry: { maxAttempts: 8, maxTotalMs: 1_000_000 },
    });
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT)).rejects.toMatchObject({
      attempts: 8,
    });
    expect(sleeps).toEqual([500, 1000, 2000, 4000, 4000, 4000, 4000]);
  });

  it('is jittered: each delay follows `random` within [ceiling/2, ceiling]', async () => {
    const randoms = [0.1, 0.7, 0.35];
    const script = scriptedFetch(json503);
    const { client, sleeps } = scriptedClient(script.fetch, { random: () => randoms.shift() ?? 0 });
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT)).rejects.toBeInstanceOf(
      KatapultApiError,
    );
    expect(sleeps).toEqual([275, 850, 1350]);
    const ceilings = [500, 1000, 2000];
    sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual((ceilings[i] ?? 0) / 2);
      expect(ms).toBeLessThanOrEqual(ceilings[i] ?? 0);
    });
  });

  it('stops when the next back-off would take the call past maxTotalMs', async () => {
    const script = scriptedFetch(json503);
    const { client, sleeps } = scriptedClient(script.fetch, { random: () => 0, retry: { maxTotalMs: 1000 } });
    const error = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
      KatapultApiError,
    );
    // 250 + 500 = 750 spent; the next 1000 would exceed 1000.
    expect(sleeps).toEqual([250, 500]);
    expect(error.attempts).toBe(3);
    expect(script.calls).toHaveLength(3);
  });

  it('with the defaults the total back-off stays under maxTotalMs whatever the jitter', async () => {
    for (const r of [0, 0.5, 0.9999]) {
      const script = scriptedFetch(json503);
      const { client, sleeps } = scriptedClient(script.fetch, { random: () => r });
      await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT)).rejects.toBeInstanceOf(
        KatapultApiError,
      );
      expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(DEFAULT_RETRY_POLICY.maxTotalMs);
      expect(Math.max(...sleeps)).toBeLessThanOrEqual(DEFAULT_RETRY_POLICY.maxDelayMs);
    }
  });

  it.each([
    ['2', [2000]],
    ['0', [0]],
    ['30', [4000]],
    ['Wed, 21 Oct 2015 07:28:00 GMT', [250]],
    ['soon', [250]],
  ])('Retry-After %j gives the back-off %j (capped; non-numbers ignored)', async (retryAfter, expected) => {
    const script = scriptedFetch((call) =>
      call === 1
        ? {
            status: 429,
            body: JSON.stringify(errorFixtures.rate_limit_reached.body),
            headers: { 'Retry-After': retryAfter },
          }
        : {
            status: 200,
            body: JSON.stringify({ disk_backup_policy: { id: POLICY, auto_move_to_trash_at: AT } }),
          },
    );
    const { client, sleeps } = scriptedClient(script.fetch, { random: () => 0 });
    await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);
    expect(sleeps).toEqual(expected);
  });

  it('a network failure from fetch is retried with the same back-off', async () => {
    const failing: FetchLike = async () => {
      throw Object.assign(new Error('connect ECONNRESET'), { code: 'ECONNRESET' });
    };
    const { client, sleeps } = scriptedClient(failing);
    const error = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
      KatapultNetworkError,
    );
    expect(error.attempts).toBe(4);
    expect(error.message).toContain('ECONNRESET');
    expect(sleeps).toEqual([250, 500, 1000]);
  });

  it('each attempt gets fresh headers and its own abort signal', async () => {
    const script = scriptedFetch((call) =>
      call === 1 ? json503() : { status: 200, body: '{"disk_backup_policy":{"id":"p"}}' },
    );
    const { client } = scriptedClient(script.fetch);
    await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);
    const [first, second] = script.calls;
    expect(first?.url).toBe(`https://api.katapult.io/core/v1${SCHEDULE_PATH}`);
    expect(first?.init.signal).toBeDefined();
    expect(first?.init.signal).not.toBe(second?.init.signal);
    expect(second?.init.headers).toEqual(first?.init.headers);
    expect(second?.init.body).toBe(first?.init.body);
  });
});

describe('the token never leaks into an error', () => {
  async function allFailures(): Promise<unknown[]> {
    const failures: unknown[] = [];
    const collect = async (promise: Promise<unknown>) => {
      try {
        await promise;
      } catch (error) {
        failures.push(error);
      }
    };
    const { client } = makeClient({ retry: { maxAttempts: 1 } });
    fake.enqueue(SCHEDULE, errorFixture('invalid_api_token'));
    await collect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT));
    fake.enqueue(SCHEDULE, { status: 502, rawBody: `<html>${'x'.repeat(50)}</html>` });
    await collect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT));
    // Only this call has the short timeout: 100 ms for every call timed out answers that were there
    // on a loaded machine (the first call also loads the HTTP client).
    const impatient = makeClient({ timeoutMs: 100, retry: { maxAttempts: 1 } }).client;
    fake.enqueue(SCHEDULE, { status: 200, body: {}, delayMs: 1000 });
    await collect(impatient.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT));
    fake.enqueue(SCHEDULE, { hangUp: true });
    await collect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT));
    const refused = makeClient({
      baseUrl: `http://127.0.0.1:${await closedPort()}/core/v1`,
      retry: { maxAttempts: 1 },
    });
    await collect(refused.client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT));
    await collect(refused.client.identify(TOKEN));
    // An injected fetch that (badly) puts the token in its own error.
    const leaky: FetchLike = async (_url, init) => {
      throw new Error(`failed with headers ${JSON.stringify(init.headers)}`);
    };
    await collect(scriptedClient(leaky, { retry: { maxAttempts: 1 } }).client.identify(TOKEN));
    return failures;
  }

  it('not in message, stack, JSON, inspect() or cause, for every kind of failure', async () => {
    const failures = await allFailures();
    expect(failures.map((e) => (e instanceof Error ? e.name : typeof e))).toEqual([
      'KatapultApiError',
      'KatapultResponseError',
      'KatapultTimeoutError',
      'KatapultNetworkError',
      'KatapultNetworkError',
      'KatapultNetworkError',
      'KatapultNetworkError',
    ]);
    for (const failure of failures) {
      const views = [
        String(failure),
        JSON.stringify(failure),
        inspect(failure, { depth: 10, showHidden: true }),
      ];
      if (failure instanceof Error)
        views.push(failure.message, failure.stack ?? '', inspect(failure.cause, { depth: 10 }));
      for (const view of views) expect(view).not.toContain(TOKEN);
    }
    const leaked = failures[6];
    expect(leaked instanceof Error && inspect(leaked.cause)).toContain('[redacted]');
  });
});

describe('onAttempt: one report per HTTP attempt, for metrics', () => {
  function recorder() {
    const attempts: KatapultAttempt[] = [];
    return { attempts, onAttempt: (attempt: KatapultAttempt) => void attempts.push(attempt) };
  }

  it('a call that succeeds at once: one report, outcome ok, no retry', async () => {
    const { attempts, onAttempt } = recorder();
    const { client } = makeClient({ onAttempt });
    await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);
    expect(attempts).toEqual([
      {
        operation: 'scheduleDiskBackupPolicyDeletion',
        attempt: 1,
        durationMs: expect.any(Number),
        outcome: 'ok',
        willRetry: false,
      },
    ]);
    expect(attempts[0]?.durationMs).toBeGreaterThanOrEqual(0);
  });

  it.each<[string, FakeKatapultReply[], { outcome: string; willRetry: boolean }[]]>([
    [
      '429 rate_limit_reached then 503 then 200',
      [errorFixture('rate_limit_reached'), errorFixture('service_unavailable')],
      [
        { outcome: 'rate_limit_reached', willRetry: true },
        { outcome: 'service_unavailable', willRetry: true },
        { outcome: 'ok', willRetry: false },
      ],
    ],
    [
      'an HTML 503 then 200',
      [{ status: 503, rawBody: '<html>down</html>', headers: { 'Content-Type': 'text/html' } }],
      [
        { outcome: 'http_503', willRetry: true },
        { outcome: 'ok', willRetry: false },
      ],
    ],
    [
      '404 disk_backup_policy_not_found',
      [errorFixture('disk_backup_policy_not_found')],
      [{ outcome: 'disk_backup_policy_not_found', willRetry: false }],
    ],
    [
      'JSON without a code',
      [{ status: 418, body: { message: 'teapot' } }],
      [{ outcome: 'http_418', willRetry: false }],
    ],
    [
      'a 200 that cannot be read',
      [{ status: 200, body: { ok: true } }],
      [{ outcome: 'http_200', willRetry: false }],
    ],
    [
      'a hang-up, then 200',
      [{ hangUp: true }],
      [
        { outcome: 'network', willRetry: true },
        { outcome: 'ok', willRetry: false },
      ],
    ],
  ])('%s', async (_label, replies, expected) => {
    fake.enqueue(SCHEDULE, ...replies);
    const { attempts, onAttempt } = recorder();
    const { client } = makeClient({ onAttempt });
    await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT).catch(() => undefined);
    expect(attempts.map(({ outcome, willRetry }) => ({ outcome, willRetry }))).toEqual(expected);
    expect(attempts.map((a) => a.attempt)).toEqual(expected.map((_, i) => i + 1));
    expect(new Set(attempts.map((a) => a.operation))).toEqual(new Set(['scheduleDiskBackupPolicyDeletion']));
  });

  it('the last allowed attempt says it will not retry', async () => {
    const script = scriptedFetch(json503);
    const { attempts, onAttempt } = recorder();
    const { client } = scriptedClient(script.fetch, { onAttempt });
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT)).rejects.toBeInstanceOf(
      KatapultApiError,
    );
    expect(attempts.map((a) => [a.attempt, a.willRetry])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, false],
    ]);
  });

  it('a timeout is reported as timeout', async () => {
    fake.enqueue(SCHEDULE, { status: 200, body: {}, delayMs: 2000 });
    const { attempts, onAttempt } = recorder();
    const { client } = makeClient({ onAttempt, timeoutMs: 100, retry: { maxAttempts: 1 } });
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT)).rejects.toBeInstanceOf(
      KatapultTimeoutError,
    );
    expect(attempts).toMatchObject([{ outcome: 'timeout', willRetry: false }]);
    expect(attempts[0]?.durationMs).toBeGreaterThanOrEqual(90);
  });

  it('identify names each route it calls', async () => {
    const { attempts, onAttempt } = recorder();
    const { client } = makeClient({ onAttempt });
    await client.identify(ORG_TOKEN);
    expect(attempts.map((a) => [a.operation, a.outcome])).toEqual([
      ['getCurrentUser', 'no_user_associated_with_identity'],
      ['listOrganizations', 'ok'],
    ]);
  });

  it('a hook that throws never breaks a call, nor changes its result or error', async () => {
    let calls = 0;
    const onAttempt = () => {
      calls++;
      throw new Error('metrics are down');
    };
    fake.enqueue(SCHEDULE, errorFixture('service_unavailable'));
    const { client, sleeps } = makeClient({ onAttempt });
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT)).resolves.toMatchObject({
      policyId: POLICY,
    });
    expect(calls).toBe(2);
    expect(sleeps).toHaveLength(1);
    fake.enqueue(SCHEDULE, errorFixture('invalid_timestamp'));
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT)).rejects.toMatchObject({
      code: 'invalid_timestamp',
    });
    expect(calls).toBe(3);
  });

  it('no report is made for an argument refused before any request', async () => {
    const { attempts, onAttempt } = recorder();
    const { client } = makeClient({ onAttempt });
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, '', AT)).rejects.toThrow(TypeError);
    expect(attempts).toEqual([]);
  });
});
