/**
 * The Katapult client against the fake Katapult server over real HTTP on loopback (node-fetch), and
 * against a ten-line scripted fetch where only timing matters. Back-off never really waits: `sleep`
 * is injected and records what it was asked for.
 */
import net from 'node:net';
import { inspect } from 'node:util';
import fetch from 'node-fetch';
import {
  DEFAULT_POLICIES_PER_PAGE,
  DEFAULT_RETRY_POLICY,
  type FetchLike,
  KatapultClient,
  type KatapultClientOptions,
  type RetryPolicy,
} from '../../src/katapult/client.js';
import {
  KatapultApiError,
  KatapultNetworkError,
  KatapultResponseError,
  KatapultTimeoutError,
} from '../../src/katapult/errors.js';
import {
  FAKE_KATAPULT_POLICY_COUNT,
  FAKE_KATAPULT_TARGET_VM_ID,
  FAKE_KATAPULT_TARGET_VM_NAME,
  FAKE_KATAPULT_TRASH_SECONDS,
  type FakeKatapult,
  type FakeKatapultReply,
  fakeOrganizationId,
  startFakeKatapult,
} from '../../support/fakes/katapult-api.js';
import { errorFixture, errorFixtureCodes, errorFixtures } from '../../support/fixtures/katapult/index.js';

// Both node-fetch and the global fetch must fit the client's structural fetch type.
const nodeFetch: FetchLike = fetch;
const globalFetch: FetchLike = globalThis.fetch;

const TOKEN = 'kt-unit-SECRET-7f3c9a1e5b';
const ORG_TOKEN = 'kt-org-SECRET-2b8d4f6a0c';
const NOW_MS = Date.UTC(2026, 0, 15, 9, 30, 0);
const NOW_S = Math.floor(NOW_MS / 1000);
const AT = NOW_S + 3600;
const POLICY = 'dbp_b3DMkzRt8iWqXo4s';
const SCHEDULE = 'DELETE /disk_backup_policies/disk_backup_policy/schedule';
const SCHEDULE_PATH = '/disk_backup_policies/disk_backup_policy/schedule';

let fake: FakeKatapult;

beforeAll(async () => {
  fake = await startFakeKatapult({ now: () => NOW_MS });
});

beforeEach(() => {
  fake.reset();
  fake.resetPolicies();
  fake.setTokens({
    [TOKEN]: 'Acme Ops',
    [ORG_TOKEN]: { organization: 'Acme Ops', user: null },
  });
});

afterAll(async () => {
  await fake.close();
});

function makeClient(overrides: Partial<KatapultClientOptions> = {}) {
  const sleeps: number[] = [];
  const client = new KatapultClient({
    baseUrl: fake.baseUrl,
    fetch: nodeFetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
  return { client, sleeps };
}

/** The rejection of `promise`, checked to be an instance of `cls`. */
async function rejectionOf<T>(
  promise: Promise<unknown>,
  cls: abstract new (...args: never[]) => T,
): Promise<T> {
  let outcome: unknown;
  try {
    await promise;
  } catch (error) {
    outcome = error;
  }
  if (outcome instanceof cls) return outcome;
  throw new Error(`expected a rejection with ${cls.name}, got ${inspect(outcome)}`);
}

function routes(): string[] {
  return fake.requests.map((r) => `${r.method} ${r.path}`);
}

function scheduleReply(target: unknown, extra: Record<string, unknown> = {}): FakeKatapultReply {
  return {
    status: 200,
    body: { disk_backup_policy: { id: POLICY, auto_move_to_trash_at: AT, target, ...extra } },
    headers: { 'X-Request-Id': 'req-fixed-1' },
  };
}

/** A fetch that answers from a script and records each call; no network. */
function scriptedFetch(
  answer: (
    call: number,
    init: Parameters<FetchLike>[1],
  ) => { status: number; body?: string; headers?: Record<string, string> },
) {
  const calls: { url: string; init: Parameters<FetchLike>[1] }[] = [];
  const fetchLike: FetchLike = async (url, init) => {
    calls.push({ url, init });
    const reply = answer(calls.length, init);
    const headers = new Map(Object.entries(reply.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    return {
      status: reply.status,
      headers: { get: (name: string) => headers.get(name.toLowerCase()) ?? null },
      text: async () => reply.body ?? '',
    };
  };
  return { fetch: fetchLike, calls };
}

const json503 = () => ({
  status: 503,
  body: JSON.stringify(errorFixtures.service_unavailable.body),
  headers: { 'content-type': 'application/json' },
});

function scriptedClient(
  fetchLike: FetchLike,
  opts: { random?: () => number; retry?: Partial<RetryPolicy> } = {},
) {
  const sleeps: number[] = [];
  const client = new KatapultClient({
    baseUrl: 'https://api.katapult.io/core/v1',
    fetch: fetchLike,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: opts.random ?? (() => 0),
    retry: { ...opts.retry },
  });
  return { client, sleeps };
}

describe('scheduleDiskBackupPolicyDeletion: the request', () => {
  it('sends exactly one DELETE with the JSON body, bearer token and headers', async () => {
    const { client } = makeClient();
    await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'DELETE', path: SCHEDULE_PATH, query: {} });
    expect(request?.rawBody).toBe(`{"disk_backup_policy":{"id":"${POLICY}"},"timestamp":${AT}}`);
    expect(request?.body).toEqual({ disk_backup_policy: { id: POLICY }, timestamp: AT });
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers.accept).toBe('application/json');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['user-agent']).toBe('katapult-chatops');
  });

  it('tolerates a trailing slash on baseUrl and sends a custom User-Agent', async () => {
    const { client } = makeClient({ baseUrl: `${fake.baseUrl}/`, userAgent: 'katapult-chatops/1.2.3' });
    await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);
    expect(routes()).toEqual([SCHEDULE]);
    expect(fake.requests[0]?.headers['user-agent']).toBe('katapult-chatops/1.2.3');
  });

  it.each([
    ['a fraction', 1.5, TypeError],
    ['NaN', Number.NaN, TypeError],
    ['Infinity', Number.POSITIVE_INFINITY, TypeError],
    ['zero', 0, RangeError],
    ['negative', -AT, RangeError],
    ['milliseconds', NOW_MS + 3_600_000, RangeError],
  ])('rejects `at` that is %s before any request', async (_label, at, errorClass) => {
    const { client } = makeClient();
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, at)).rejects.toThrow(errorClass);
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects an empty policy id or token before any request, without echoing the token', async () => {
    const { client } = makeClient();
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, '', AT)).rejects.toThrow(TypeError);
    await expect(client.scheduleDiskBackupPolicyDeletion('', POLICY, AT)).rejects.toThrow(TypeError);
    const withNewline = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(`${TOKEN}\r\nX-Evil: 1`, POLICY, AT),
      TypeError,
    );
    expect(withNewline.message).not.toContain(TOKEN);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('scheduleDiskBackupPolicyDeletion: success parsing', () => {
  it('reads the default answer of the fake (wire form of target) and the X-Request-Id', async () => {
    const { client } = makeClient();
    const result = await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);
    expect(result).toEqual({
      policyId: POLICY,
      autoMoveToTrashAt: AT,
      target: { type: 'VirtualMachine', id: FAKE_KATAPULT_TARGET_VM_ID },
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it.each<[string, unknown, { type: 'VirtualMachine' | 'Disk' | null; id: string | null }]>([
    [
      'wire VirtualMachine',
      { type: 'VirtualMachine', value: { id: 'vm_1kpkjQeMEI43tztr' } },
      { type: 'VirtualMachine', id: 'vm_1kpkjQeMEI43tztr' },
    ],
    [
      'wire Disk',
      { type: 'Disk', value: { id: 'disk_gJRNxe3h7zi0Hdh5' } },
      { type: 'Disk', id: 'disk_gJRNxe3h7zi0Hdh5' },
    ],
    ['OpenAPI wrapper', { target: { id: 'vm_1kpkjQeMEI43tztr' } }, { type: null, id: 'vm_1kpkjQeMEI43tztr' }],
    ['bare id', { id: 'disk_gJRNxe3h7zi0Hdh5' }, { type: null, id: 'disk_gJRNxe3h7zi0Hdh5' }],
    [
      'unknown polymorph option',
      { type: 'FileStorageVolume', value: { id: 'fsv_x' } },
      { type: null, id: 'fsv_x' },
    ],
    ['null', null, { type: null, id: null }],
    ['a string', 'vm_1kpkjQeMEI43tztr', { type: null, id: null }],
  ])('reads target given as %s', async (_label, target, expected) => {
    fake.enqueue(SCHEDULE, scheduleReply(target));
    const { client } = makeClient();
    const result = await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);
    expect(result.target).toEqual(expected);
    expect(result.requestId).toBe('req-fixed-1');
  });

  it('accepts a missing target and a null auto_move_to_trash_at', async () => {
    fake.enqueue(SCHEDULE, {
      status: 200,
      body: { disk_backup_policy: { id: POLICY, auto_move_to_trash_at: null } },
    });
    const { client } = makeClient();
    const result = await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);
    expect(result).toMatchObject({
      policyId: POLICY,
      autoMoveToTrashAt: null,
      target: { type: null, id: null },
    });
  });

  it.each<[string, FakeKatapultReply, string]>([
    [
      'invalid JSON',
      { status: 200, rawBody: '{"disk_backup_policy":', headers: { 'Content-Type': 'application/json' } },
      'invalid JSON (application/json)',
    ],
    [
      'an HTML page',
      {
        status: 200,
        rawBody: '<html><body>Sign in to the Wi-Fi</body></html>',
        headers: { 'Content-Type': 'text/html' },
      },
      'not JSON (text/html)',
    ],
    ['an empty body', { status: 200, rawBody: '' }, 'empty body'],
    [
      'a wrong id type',
      { status: 200, body: { disk_backup_policy: { id: 42, auto_move_to_trash_at: AT } } },
      'unexpected response shape at disk_backup_policy.id (invalid_type)',
    ],
    [
      'a fractional timestamp',
      { status: 200, body: { disk_backup_policy: { id: POLICY, auto_move_to_trash_at: 1.5 } } },
      'unexpected response shape at disk_backup_policy.auto_move_to_trash_at',
    ],
    ['no policy', { status: 200, body: { ok: true } }, 'unexpected response shape at disk_backup_policy'],
  ])('a 200 with %s is a KatapultResponseError, never retried', async (_label, reply, problem) => {
    fake.enqueue(SCHEDULE, reply);
    const { client, sleeps } = makeClient();
    const error = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
      KatapultResponseError,
    );
    expect(error.status).toBe(200);
    expect(error.problem.startsWith(problem)).toBe(true);
    expect(error.requestId).toEqual(expect.any(String));
    expect(error.message).not.toMatch(/Wi-Fi|<html|"disk_backup_policy":/);
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });
});

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
    const { client } = makeClient({ timeoutMs: 100, retry: { maxAttempts: 1 } });
    fake.enqueue(SCHEDULE, errorFixture('invalid_api_token'));
    await collect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT));
    fake.enqueue(SCHEDULE, { status: 502, rawBody: `<html>${'x'.repeat(50)}</html>` });
    await collect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT));
    fake.enqueue(SCHEDULE, { status: 200, body: {}, delayMs: 1000 });
    await collect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT));
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

describe('identify', () => {
  it('a user token: one GET /users/current, with the user name and organizations', async () => {
    const { client } = makeClient();
    const identity = await client.identify(TOKEN);
    expect(identity).toEqual({
      organizations: [{ id: fakeOrganizationId('Acme Ops'), name: 'Acme Ops', subDomain: 'acme-ops' }],
      userName: 'Ada Lovelace',
    });
    expect(routes()).toEqual(['GET /users/current']);
    const [request] = fake.requests;
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers.accept).toBe('application/json');
    expect(request?.headers['content-type']).toBeUndefined();
    expect(request?.rawBody).toBe('');
  });

  it('an organization token: 404 no_user_associated_with_identity, then GET /organizations', async () => {
    const { client } = makeClient();
    const identity = await client.identify(ORG_TOKEN);
    expect(identity).toEqual({
      organizations: [{ id: fakeOrganizationId('Acme Ops'), name: 'Acme Ops', subDomain: 'acme-ops' }],
      userName: null,
    });
    expect(routes()).toEqual(['GET /users/current', 'GET /organizations']);
  });

  it('403 scope_not_granted on /users/current also falls back to /organizations', async () => {
    fake.enqueue('GET /users/current', errorFixture('scope_not_granted'));
    const { client } = makeClient();
    await expect(client.identify(TOKEN)).resolves.toMatchObject({ userName: null });
    expect(routes()).toEqual(['GET /users/current', 'GET /organizations']);
  });

  it('a user with no name gives userName null', async () => {
    fake.enqueue('GET /users/current', {
      status: 200,
      body: {
        user: { id: 'user_x', first_name: '', last_name: null },
        organizations: [],
        api_token_id: null,
      },
    });
    const { client } = makeClient();
    await expect(client.identify(TOKEN)).resolves.toEqual({ organizations: [], userName: null });
  });

  it('an invalid token: KatapultApiError invalid_api_token, one request, no fallback', async () => {
    const { client } = makeClient();
    const error = await rejectionOf(client.identify('kt-not-a-real-token'), KatapultApiError);
    expect(error).toMatchObject({ status: 403, code: 'invalid_api_token', attempts: 1 });
    expect(routes()).toEqual(['GET /users/current']);
  });

  it('an organization token without organizations:read is valid, with no organization named', async () => {
    fake.setTokens({
      [ORG_TOKEN]: { organization: 'Acme Ops', user: null, scopes: ['disk_backup_policies'] },
    });
    const { client } = makeClient();
    await expect(client.identify(ORG_TOKEN)).resolves.toEqual({ organizations: [], userName: null });
    expect(routes()).toEqual(['GET /users/current', 'GET /organizations']);
  });

  it('an unexpected /organizations body is a KatapultResponseError', async () => {
    fake.enqueue('GET /organizations', { status: 200, body: { organizations: [{ name: 'no id' }] } });
    const { client } = makeClient();
    const error = await rejectionOf(client.identify(ORG_TOKEN), KatapultResponseError);
    expect(error.problem).toBe('unexpected response shape at organizations.0.id (invalid_type)');
  });
});

describe('the fake Katapult server itself', () => {
  async function raw(
    path: string,
    init: { method: string; headers?: Record<string, string>; body?: string },
  ) {
    const res = await nodeFetch(`${fake.baseUrl}${path}`, { headers: {}, ...init });
    const body: unknown = JSON.parse(await res.text());
    return { status: res.status, headers: res.headers, body };
  }
  const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

  it('answers like Apia: wrapped errors with X-Api-Schema, request id and rate-limit headers', async () => {
    const res = await raw(SCHEDULE_PATH, {
      method: 'DELETE',
      body: JSON.stringify({ disk_backup_policy: { id: POLICY }, timestamp: AT }),
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errorFixtures.missing_api_token.body);
    expect(res.headers.get('x-api-schema')).toBe('json-error');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-ratelimit-permitted')).toBe('1000');
    expect(Number(res.headers.get('x-ratelimit-remaining'))).toBeLessThan(1000);
  });

  it.each<[string, unknown, number, string]>([
    [
      'timestamp under 5 minutes ahead',
      { disk_backup_policy: { id: POLICY }, timestamp: NOW_S + 299 },
      400,
      'invalid_timestamp',
    ],
    [
      'timestamp as a string',
      { disk_backup_policy: { id: POLICY }, timestamp: String(AT) },
      400,
      'invalid_argument',
    ],
    [
      'fractional timestamp',
      { disk_backup_policy: { id: POLICY }, timestamp: AT + 0.5 },
      400,
      'invalid_argument',
    ],
    ['no timestamp', { disk_backup_policy: { id: POLICY } }, 400, 'missing_required_argument'],
    ['no disk_backup_policy', { timestamp: AT }, 400, 'missing_required_argument'],
    [
      'an unknown policy',
      { disk_backup_policy: { id: 'missing-policy' }, timestamp: AT },
      404,
      'disk_backup_policy_not_found',
    ],
    [
      'a trashed policy',
      { disk_backup_policy: { id: 'trashed-policy' }, timestamp: AT },
      406,
      'object_in_trash',
    ],
  ])('schedule with %s (%j) → %i %s', async (_label, body, status, code) => {
    const res = await raw(SCHEDULE_PATH, { method: 'DELETE', headers: auth, body: JSON.stringify(body) });
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error: { code } });
  });

  it('a wrong bearer gets 403 invalid_api_token; an unknown route 404 route_not_found', async () => {
    const bad = await raw('/users/current', { method: 'GET', headers: { Authorization: 'Bearer nope' } });
    expect(bad).toMatchObject({ status: 403, body: { error: { code: 'invalid_api_token' } } });
    const unknown = await raw('/disk_backup_policies/disk_backup_policy/schedules', {
      method: 'DELETE',
      headers: auth,
    });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'route_not_found' } } });
  });

  it('queued replies are used in order, then the default behaviour answers again', async () => {
    fake.enqueue('GET /users/current', { status: 418, body: { a: 1 } }, { status: 419, body: { b: 2 } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await raw('/users/current', { method: 'GET', headers: auth })).status);
    expect(statuses).toEqual([418, 419, 200]);
    expect(fake.requests).toHaveLength(3);
    fake.reset();
    expect(fake.requests).toHaveLength(0);
  });

  it('latencyMs delays the default answers', async () => {
    fake.latencyMs = 80;
    try {
      const started = Date.now();
      await raw('/users/current', { method: 'GET', headers: auth });
      expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    } finally {
      fake.latencyMs = 0;
    }
  });

  it('the global fetch fits FetchLike as well', async () => {
    const client = new KatapultClient({ baseUrl: fake.baseUrl, fetch: globalFetch });
    await expect(client.identify(TOKEN)).resolves.toMatchObject({ userName: 'Ada Lovelace' });
  });
});

const GET_POLICY = 'GET /disk_backup_policies/disk_backup_policy';
const GET_POLICY_PATH = '/disk_backup_policies/disk_backup_policy';
const LIST_POLICIES = 'GET /organizations/organization/disk_backup_policies';
const LIST_POLICIES_PATH = '/organizations/organization/disk_backup_policies';
const RESTORE = 'POST /trash_objects/trash_object/restore';
const RESTORE_PATH = '/trash_objects/trash_object/restore';
const ACME_ORG_ID = fakeOrganizationId('Acme Ops');
const OTHER_TOKEN = 'kt-other-SECRET-9e1d3c5b7a';
const READ_ONLY_TOKEN = 'kt-read-SECRET-4c6e8a0b2d';
const NO_POLICY_SCOPE_TOKEN = 'kt-trash-SECRET-1a3c5e7b9d';

/** The catalogue policy at `index`, checked to exist. */
function catalogued(index: number) {
  const policy = fake.policies()[index];
  if (!policy) throw new Error(`no catalogue policy at ${index}`);
  return policy;
}

function withExtraTokens() {
  fake.setTokens({
    [TOKEN]: 'Acme Ops',
    [ORG_TOKEN]: { organization: 'Acme Ops', user: null },
    [OTHER_TOKEN]: 'Globex',
    [READ_ONLY_TOKEN]: { organization: 'Acme Ops', scopes: ['disk_backup_policies:read'] },
    [NO_POLICY_SCOPE_TOKEN]: { organization: 'Acme Ops', scopes: ['trash_objects:restore'] },
  });
}

describe('getDiskBackupPolicy', () => {
  it('sends one GET with the bracket lookup in the query string, bearer token and no body', async () => {
    const policy = catalogued(0);
    const { client } = makeClient();
    await client.getDiskBackupPolicy(TOKEN, policy.id);
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({
      method: 'GET',
      path: GET_POLICY_PATH,
      query: { 'disk_backup_policy[id]': policy.id },
      rawBody: '',
    });
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers.accept).toBe('application/json');
    expect(request?.headers['content-type']).toBeUndefined();
  });

  it('URL-encodes the lookup (brackets and the value)', async () => {
    const script = scriptedFetch(() => ({
      status: 200,
      body: JSON.stringify({ disk_backup_policy: { id: 'dbp_a&b=c d' } }),
    }));
    const { client } = scriptedClient(script.fetch);
    await client.getDiskBackupPolicy(TOKEN, 'dbp_a&b=c d');
    expect(script.calls[0]?.url).toBe(
      'https://api.katapult.io/core/v1/disk_backup_policies/disk_backup_policy?disk_backup_policy%5Bid%5D=dbp_a%26b%3Dc+d',
    );
    expect(script.calls[0]?.init).toMatchObject({ method: 'GET' });
    expect(script.calls[0]?.init.body).toBeUndefined();
  });

  it('reads a VM policy of the catalogue: wire target with name, schedule, retention, size', async () => {
    const policy = catalogued(0);
    const { client } = makeClient();
    const result = await client.getDiskBackupPolicy(TOKEN, policy.id);
    expect(result).toEqual({
      id: policy.id,
      retention: 7,
      totalSize: policy.totalSize,
      target: { type: 'VirtualMachine', id: FAKE_KATAPULT_TARGET_VM_ID, name: FAKE_KATAPULT_TARGET_VM_NAME },
      schedule: {
        interval: 'daily',
        frequency: 1,
        time: 2,
        minute: 30,
        nextInvocationAt: policy.schedule.nextInvocationAt,
      },
      autoMoveToTrashAt: null,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(result.id).toMatch(/^dbp_[0-9A-Za-z]{16}$/);
  });

  it('reads a Disk policy with its name', async () => {
    const policy = catalogued(1);
    const { client } = makeClient();
    const result = await client.getDiskBackupPolicy(TOKEN, policy.id);
    expect(result.target).toEqual({ type: 'Disk', id: policy.target.id, name: 'web-1-data' });
    expect(result.target.id).toMatch(/^disk_[0-9A-Za-z]{16}$/);
    expect(result.schedule).toMatchObject({ interval: 'hourly', frequency: 6 });
    expect(result.retention).toBe(24);
  });

  it('a policy scheduled for deletion shows auto_move_to_trash_at on a later GET', async () => {
    const policy = catalogued(4);
    const { client } = makeClient();
    const scheduled = await client.scheduleDiskBackupPolicyDeletion(TOKEN, policy.id, AT);
    expect(scheduled.target).toEqual({ type: policy.target.type, id: policy.target.id });
    await expect(client.getDiskBackupPolicy(TOKEN, policy.id)).resolves.toMatchObject({
      id: policy.id,
      autoMoveToTrashAt: AT,
    });
    expect(fake.getPolicy(policy.id)?.autoMoveToTrashAt).toBe(AT);
  });

  it('a policy the fake did not know is catalogued by scheduling it, then readable', async () => {
    const { client } = makeClient();
    await expect(client.getDiskBackupPolicy(TOKEN, POLICY)).rejects.toMatchObject({
      code: 'disk_backup_policy_not_found',
    });
    await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);
    await expect(client.getDiskBackupPolicy(TOKEN, POLICY)).resolves.toMatchObject({
      id: POLICY,
      autoMoveToTrashAt: AT,
      target: { type: 'VirtualMachine', id: FAKE_KATAPULT_TARGET_VM_ID, name: FAKE_KATAPULT_TARGET_VM_NAME },
    });
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'the OpenAPI target wrapper and a numeric string size',
      { target: { target: { id: 'vm_x', name: 'vm-x' } }, total_size: '12.50', retention: 3 },
      { target: { type: null, id: 'vm_x', name: 'vm-x' }, totalSize: 12.5, retention: 3 },
    ],
    [
      'a bare target without name',
      { target: { id: 'disk_y' } },
      { target: { type: null, id: 'disk_y', name: null } },
    ],
    [
      'nothing but the id',
      {},
      {
        target: { type: null, id: null, name: null },
        schedule: null,
        retention: null,
        totalSize: null,
        autoMoveToTrashAt: null,
      },
    ],
    [
      'odd informational fields',
      { retention: 'seven', total_size: 'big', schedule: { interval: 5, frequency: 1.5, minute: 0 } },
      {
        retention: null,
        totalSize: null,
        schedule: { interval: null, frequency: null, time: null, minute: 0, nextInvocationAt: null },
      },
    ],
    ['a schedule that is not an object', { schedule: 'daily' }, { schedule: null }],
  ])('tolerates %s', async (_label, fields, expected) => {
    fake.enqueue(GET_POLICY, { status: 200, body: { disk_backup_policy: { id: POLICY, ...fields } } });
    const { client } = makeClient();
    await expect(client.getDiskBackupPolicy(TOKEN, POLICY)).resolves.toMatchObject({
      id: POLICY,
      ...expected,
    });
  });

  it.each<[string, unknown, string]>([
    ['no id', { disk_backup_policy: { retention: 1 } }, 'disk_backup_policy.id'],
    [
      'a fractional auto_move_to_trash_at',
      { disk_backup_policy: { id: POLICY, auto_move_to_trash_at: 1.5 } },
      'disk_backup_policy.auto_move_to_trash_at',
    ],
    ['no policy', { policy: {} }, 'disk_backup_policy'],
  ])('a 200 with %s is a KatapultResponseError', async (_label, body, where) => {
    fake.enqueue(GET_POLICY, { status: 200, body });
    const { client } = makeClient();
    const error = await rejectionOf(client.getDiskBackupPolicy(TOKEN, POLICY), KatapultResponseError);
    expect(error.problem).toContain(`unexpected response shape at ${where}`);
  });

  it('404 disk_backup_policy_not_found for an unknown policy, not retried', async () => {
    const { client, sleeps } = makeClient();
    const error = await rejectionOf(client.getDiskBackupPolicy(TOKEN, 'dbp_nope'), KatapultApiError);
    expect(error).toMatchObject({
      status: 404,
      code: 'disk_backup_policy_not_found',
      description: errorFixtures.disk_backup_policy_not_found.body.error.description,
      attempts: 1,
    });
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("404 for another organization's policy", async () => {
    withExtraTokens();
    const { client } = makeClient();
    await expect(client.getDiskBackupPolicy(OTHER_TOKEN, catalogued(0).id)).rejects.toMatchObject({
      status: 404,
      code: 'disk_backup_policy_not_found',
    });
  });

  it('406 object_in_trash with detail.trash_object once the policy is trashed', async () => {
    const policy = catalogued(2);
    const keepUntil = NOW_S + 7200;
    const trashId = fake.trashPolicy(policy.id, keepUntil);
    const { client } = makeClient();
    const error = await rejectionOf(client.getDiskBackupPolicy(TOKEN, policy.id), KatapultApiError);
    expect(error).toMatchObject({
      status: 406,
      code: 'object_in_trash',
      attempts: 1,
      detail: {
        trash_object: {
          id: trashId,
          keep_until: keepUntil,
          object_id: policy.id,
          object_type: 'DiskBackupPolicy',
        },
      },
    });
    expect(trashId).toMatch(/^trsh_[0-9A-Za-z]{16}$/);
    // Scheduling a trashed policy says the same.
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, policy.id, AT)).rejects.toMatchObject({
      code: 'object_in_trash',
    });
  });

  it('403 scope_not_granted names both read scopes; the read-only scope is enough', async () => {
    withExtraTokens();
    const { client } = makeClient();
    const error = await rejectionOf(
      client.getDiskBackupPolicy(NO_POLICY_SCOPE_TOKEN, catalogued(0).id),
      KatapultApiError,
    );
    expect(error).toMatchObject({
      status: 403,
      code: 'scope_not_granted',
      detail: { scopes: ['disk_backup_policies', 'disk_backup_policies:read'] },
    });
    await expect(client.getDiskBackupPolicy(READ_ONLY_TOKEN, catalogued(0).id)).resolves.toMatchObject({
      id: catalogued(0).id,
    });
  });

  it('is retried like the other calls: 429, 503 and a timeout', async () => {
    const id = catalogued(0).id;
    fake.enqueue(
      GET_POLICY,
      { status: 429, body: errorFixtures.rate_limit_reached.body },
      { status: 503, body: errorFixtures.service_unavailable.body },
      { status: 200, body: {}, delayMs: 2000 },
    );
    const { client, sleeps } = makeClient({ timeoutMs: 150 });
    await expect(client.getDiskBackupPolicy(TOKEN, id)).resolves.toMatchObject({ id });
    expect(routes()).toEqual([GET_POLICY, GET_POLICY, GET_POLICY, GET_POLICY]);
    expect(sleeps).toHaveLength(3);
  });

  it('rejects an empty policy id or a bad token before any request', async () => {
    const { client } = makeClient();
    await expect(client.getDiskBackupPolicy(TOKEN, ' ')).rejects.toThrow(TypeError);
    await expect(client.getDiskBackupPolicy('', POLICY)).rejects.toThrow(TypeError);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('listOrganizationPolicies', () => {
  it('sends one GET with organization[id], page and per_page (defaults 1 and 30)', async () => {
    const { client } = makeClient();
    await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      method: 'GET',
      path: LIST_POLICIES_PATH,
      query: { 'organization[id]': ACME_ORG_ID, page: '1', per_page: String(DEFAULT_POLICIES_PER_PAGE) },
      rawBody: '',
    });
    expect(fake.requests[0]?.headers['content-type']).toBeUndefined();
  });

  it('URL-encodes the query', async () => {
    const script = scriptedFetch(() => ({
      status: 200,
      body: JSON.stringify({ pagination: {}, disk_backup_policies: [] }),
    }));
    const { client } = scriptedClient(script.fetch);
    await client.listOrganizationPolicies(TOKEN, 'org_a&b', 2, 5);
    expect(script.calls[0]?.url).toBe(
      'https://api.katapult.io/core/v1/organizations/organization/disk_backup_policies?organization%5Bid%5D=org_a%26b&page=2&per_page=5',
    );
  });

  it('reads the first page of the catalogue: 30 of 45, with targets and names', async () => {
    const { client } = makeClient();
    const page = await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID);
    expect(page).toMatchObject({
      page: 1,
      totalPages: 2,
      perPage: 30,
      total: FAKE_KATAPULT_POLICY_COUNT,
      largeSet: false,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(page.policies).toHaveLength(30);
    const first = catalogued(0);
    expect(page.policies[0]).toEqual({
      id: first.id,
      target: { type: 'VirtualMachine', id: FAKE_KATAPULT_TARGET_VM_ID, name: 'web-1' },
      retention: 7,
      totalSize: first.totalSize,
      // The list gives only interval and next_invocation_at.
      schedule: {
        interval: 'daily',
        nextInvocationAt: first.schedule.nextInvocationAt,
        frequency: null,
        time: null,
        minute: null,
      },
    });
    expect(page.policies[1]?.target).toMatchObject({ type: 'Disk', name: 'web-1-data' });
    const names = page.policies.map((p) => p.target.name);
    expect(names).toContain('db-primary');
    expect(names).toContain('db-primary-data');
  });

  it('the pages together hold every policy exactly once, in catalogue order', async () => {
    const { client } = makeClient();
    const one = await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, 1);
    const two = await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, 2);
    expect(two).toMatchObject({ page: 2, totalPages: 2, perPage: 30 });
    expect(two.policies).toHaveLength(15);
    const ids = [...one.policies, ...two.policies].map((p) => p.id);
    expect(new Set(ids).size).toBe(FAKE_KATAPULT_POLICY_COUNT);
    expect(ids).toEqual(fake.policies().map((p) => p.id));
  });

  it.each([
    [10, 5, 5, 5],
    [10, 1, 10, 5],
    [10, 6, 0, 5],
    [45, 1, 45, 1],
    [100, 1, 45, 1],
  ])('per_page %i, page %i: %i policies of %i pages', async (perPage, pageNo, count, totalPages) => {
    const { client } = makeClient();
    const page = await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, pageNo, perPage);
    expect(page.policies).toHaveLength(count);
    expect(page).toMatchObject({ page: pageNo, perPage, totalPages, total: FAKE_KATAPULT_POLICY_COUNT });
  });

  it('leaves out trashed policies and shows added ones', async () => {
    fake.trashPolicy(catalogued(0).id, NOW_S + 3600);
    fake.setPolicy({ id: 'dbp_added0000000001', target: { type: 'Disk', id: 'disk_z', name: 'scratch' } });
    const { client } = makeClient();
    const page = await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, 1, 100);
    expect(page.total).toBe(FAKE_KATAPULT_POLICY_COUNT);
    expect(page.policies.map((p) => p.id)).not.toContain(catalogued(0).id);
    expect(page.policies.at(-1)).toMatchObject({
      id: 'dbp_added0000000001',
      target: { type: 'Disk', id: 'disk_z', name: 'scratch' },
    });
  });

  it('another organization sees none of them', async () => {
    withExtraTokens();
    const { client } = makeClient();
    const page = await client.listOrganizationPolicies(OTHER_TOKEN, fakeOrganizationId('Globex'));
    expect(page).toMatchObject({ policies: [], total: 0, totalPages: 1, page: 1 });
  });

  it('a large set: total and total_pages null', async () => {
    fake.enqueue(LIST_POLICIES, {
      status: 200,
      body: {
        pagination: { current_page: 3, total_pages: null, total: null, per_page: 30, large_set: true },
        disk_backup_policies: [{ id: 'dbp_1', target: { type: 'Disk', value: { id: 'disk_1', name: 'd' } } }],
      },
    });
    const { client } = makeClient();
    const page = await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, 3);
    expect(page).toMatchObject({ page: 3, totalPages: null, total: null, perPage: 30, largeSet: true });
    expect(page.policies).toEqual([
      {
        id: 'dbp_1',
        target: { type: 'Disk', id: 'disk_1', name: 'd' },
        retention: null,
        totalSize: null,
        schedule: null,
      },
    ]);
  });

  it('no pagination object: falls back to the page and per_page asked for', async () => {
    fake.enqueue(LIST_POLICIES, { status: 200, body: { disk_backup_policies: [] } });
    const { client } = makeClient();
    await expect(client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, 4, 7)).resolves.toMatchObject({
      policies: [],
      page: 4,
      perPage: 7,
      totalPages: null,
      total: null,
      largeSet: false,
    });
  });

  it.each<[string, unknown, string]>([
    ['no list', { pagination: {} }, 'disk_backup_policies'],
    ['an item without id', { disk_backup_policies: [{ retention: 1 }] }, 'disk_backup_policies.0.id'],
    ['a string page number', { pagination: { current_page: '1' }, disk_backup_policies: [] }, 'pagination'],
  ])('a 200 with %s is a KatapultResponseError', async (_label, body, where) => {
    fake.enqueue(LIST_POLICIES, { status: 200, body });
    const { client } = makeClient();
    const error = await rejectionOf(
      client.listOrganizationPolicies(TOKEN, ACME_ORG_ID),
      KatapultResponseError,
    );
    expect(error.problem).toContain(`unexpected response shape at ${where}`);
  });

  it('404 organization_not_found for an organization that is not the token’s', async () => {
    const { client } = makeClient();
    const error = await rejectionOf(
      client.listOrganizationPolicies(TOKEN, 'org_000000000000000X'),
      KatapultApiError,
    );
    expect(error).toMatchObject({
      status: 404,
      code: 'organization_not_found',
      description: errorFixtures.organization_not_found.body.error.description,
      attempts: 1,
    });
  });

  it.each(['organization_suspended', 'organization_not_activated'] as const)(
    '403 %s is decoded and not retried',
    async (code) => {
      fake.enqueue(LIST_POLICIES, errorFixture(code));
      const { client } = makeClient();
      await expect(client.listOrganizationPolicies(TOKEN, ACME_ORG_ID)).rejects.toMatchObject({
        status: 403,
        code,
        attempts: 1,
      });
      expect(fake.requests).toHaveLength(1);
    },
  );

  it('403 scope_not_granted without a policy scope', async () => {
    withExtraTokens();
    const { client } = makeClient();
    await expect(client.listOrganizationPolicies(NO_POLICY_SCOPE_TOKEN, ACME_ORG_ID)).rejects.toMatchObject({
      status: 403,
      code: 'scope_not_granted',
      detail: { scopes: ['disk_backup_policies', 'disk_backup_policies:read'] },
    });
  });

  it('503 is retried', async () => {
    fake.enqueue(LIST_POLICIES, { status: 503, body: errorFixtures.service_unavailable.body });
    const { client, sleeps } = makeClient();
    await expect(client.listOrganizationPolicies(TOKEN, ACME_ORG_ID)).resolves.toMatchObject({ page: 1 });
    expect(routes()).toEqual([LIST_POLICIES, LIST_POLICIES]);
    expect(sleeps).toHaveLength(1);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects page or perPage %p before any request', async (bad) => {
    const { client } = makeClient();
    await expect(client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, bad)).rejects.toThrow(RangeError);
    await expect(client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, 1, bad)).rejects.toThrow(RangeError);
    await expect(client.listOrganizationPolicies(TOKEN, '')).rejects.toThrow(TypeError);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('restoreTrashObject', () => {
  it('sends one POST with {"trash_object":{"object_id":…}} as JSON', async () => {
    const policy = catalogued(3);
    fake.trashPolicy(policy.id, NOW_S + 3600);
    const { client } = makeClient();
    await client.restoreTrashObject(TOKEN, policy.id);
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', path: RESTORE_PATH, query: {} });
    expect(request?.rawBody).toBe(`{"trash_object":{"object_id":"${policy.id}"}}`);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('restores a trashed policy: the trash object comes back and the policy is readable again', async () => {
    const policy = catalogued(3);
    const keepUntil = NOW_S + 3600;
    const trashId = fake.trashPolicy(policy.id, keepUntil);
    const { client } = makeClient();
    const restored = await client.restoreTrashObject(TOKEN, policy.id);
    expect(restored).toEqual({
      id: trashId,
      objectId: policy.id,
      objectType: 'DiskBackupPolicy',
      keepUntil,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(fake.getPolicy(policy.id)?.trash).toBeNull();
    await expect(client.getDiskBackupPolicy(TOKEN, policy.id)).resolves.toMatchObject({ id: policy.id });
  });

  it('404 trash_object_not_found for a policy not in the trash, and for a second restore', async () => {
    const policy = catalogued(3);
    const { client } = makeClient();
    const error = await rejectionOf(client.restoreTrashObject(TOKEN, policy.id), KatapultApiError);
    expect(error).toMatchObject({
      status: 404,
      code: 'trash_object_not_found',
      description: errorFixtures.trash_object_not_found.body.error.description,
      detail: {},
      attempts: 1,
    });
    fake.trashPolicy(policy.id, NOW_S + 3600);
    await client.restoreTrashObject(TOKEN, policy.id);
    await expect(client.restoreTrashObject(TOKEN, policy.id)).rejects.toMatchObject({
      code: 'trash_object_not_found',
    });
    await expect(client.restoreTrashObject(TOKEN, 'dbp_never')).rejects.toMatchObject({
      code: 'trash_object_not_found',
    });
  });

  it('404 once keep_until has passed: the policy was purged', async () => {
    const policy = catalogued(3);
    fake.trashPolicy(policy.id, NOW_S - 1);
    const { client } = makeClient();
    await expect(client.restoreTrashObject(TOKEN, policy.id)).rejects.toMatchObject({
      status: 404,
      code: 'trash_object_not_found',
    });
    await expect(client.getDiskBackupPolicy(TOKEN, policy.id)).rejects.toMatchObject({
      code: 'disk_backup_policy_not_found',
    });
    expect(fake.getPolicy(policy.id)).toBeUndefined();
  });

  it('403 scope_not_granted with detail.scopes ["trash_objects:restore"]', async () => {
    fake.setTokens({ [TOKEN]: { organization: 'Acme Ops', scopes: ['disk_backup_policies'] } });
    const policy = catalogued(3);
    fake.trashPolicy(policy.id, NOW_S + 3600);
    const { client } = makeClient();
    const error = await rejectionOf(client.restoreTrashObject(TOKEN, policy.id), KatapultApiError);
    expect(error).toMatchObject({
      status: 403,
      code: 'scope_not_granted',
      detail: { scopes: ['trash_objects:restore'] },
      attempts: 1,
    });
    expect(fake.getPolicy(policy.id)?.trash).not.toBeNull();
  });

  it('another organization cannot restore the policy: 404', async () => {
    withExtraTokens();
    const policy = catalogued(3);
    fake.trashPolicy(policy.id, NOW_S + 3600);
    const { client } = makeClient();
    await expect(client.restoreTrashObject(OTHER_TOKEN, policy.id)).rejects.toMatchObject({
      code: 'trash_object_not_found',
    });
  });

  it('tolerates a trash object with missing fields', async () => {
    fake.enqueue(RESTORE, { status: 200, body: { trash_object: {} } });
    const { client } = makeClient();
    await expect(client.restoreTrashObject(TOKEN, POLICY)).resolves.toEqual({
      id: null,
      objectId: null,
      objectType: null,
      keepUntil: null,
      requestId: expect.any(String),
    });
  });

  it('a 200 without trash_object is a KatapultResponseError', async () => {
    fake.enqueue(RESTORE, { status: 200, body: { ok: true } });
    const { client } = makeClient();
    const error = await rejectionOf(client.restoreTrashObject(TOKEN, POLICY), KatapultResponseError);
    expect(error.problem).toContain('unexpected response shape at trash_object');
  });

  it('429 and 503 are retried', async () => {
    const policy = catalogued(3);
    fake.trashPolicy(policy.id, NOW_S + 3600);
    fake.enqueue(
      RESTORE,
      { status: 429, body: errorFixtures.rate_limit_reached.body },
      { status: 503, body: errorFixtures.service_unavailable.body },
    );
    const { client, sleeps } = makeClient();
    await expect(client.restoreTrashObject(TOKEN, policy.id)).resolves.toMatchObject({ objectId: policy.id });
    expect(routes()).toEqual([RESTORE, RESTORE, RESTORE]);
    expect(sleeps).toHaveLength(2);
  });

  it('a timeout is NOT retried (a repeat of a restore that happened would answer 404)', async () => {
    fake.enqueue(RESTORE, { status: 200, body: {}, delayMs: 2000 });
    const { client, sleeps } = makeClient({ timeoutMs: 100 });
    const error = await rejectionOf(client.restoreTrashObject(TOKEN, POLICY), KatapultTimeoutError);
    expect(error.attempts).toBe(1);
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('rejects an empty object id before any request', async () => {
    const { client } = makeClient();
    await expect(client.restoreTrashObject(TOKEN, '')).rejects.toThrow(TypeError);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('the fake catalogue follows its clock', () => {
  let clockMs = NOW_MS;
  let timed: FakeKatapult;

  beforeAll(async () => {
    timed = await startFakeKatapult({ now: () => clockMs });
    timed.setTokens({ [TOKEN]: 'Acme Ops' });
  });

  afterAll(async () => {
    await timed.close();
  });

  it('scheduled → moved to the trash at that time → restored → kept until purged', async () => {
    const client = new KatapultClient({ baseUrl: timed.baseUrl, fetch: nodeFetch, sleep: async () => {} });
    const policy = timed.policies()[5];
    if (!policy) throw new Error('no policy');
    await client.scheduleDiskBackupPolicyDeletion(TOKEN, policy.id, AT);

    clockMs = (AT - 1) * 1000;
    await expect(client.getDiskBackupPolicy(TOKEN, policy.id)).resolves.toMatchObject({
      autoMoveToTrashAt: AT,
    });

    clockMs = AT * 1000;
    const inTrash = await rejectionOf(client.getDiskBackupPolicy(TOKEN, policy.id), KatapultApiError);
    expect(inTrash).toMatchObject({
      code: 'object_in_trash',
      detail: { trash_object: { keep_until: AT + FAKE_KATAPULT_TRASH_SECONDS, object_id: policy.id } },
    });
    const listed = await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, 1, 100);
    expect(listed.total).toBe(FAKE_KATAPULT_POLICY_COUNT - 1);

    const restored = await client.restoreTrashObject(TOKEN, policy.id);
    expect(restored.keepUntil).toBe(AT + FAKE_KATAPULT_TRASH_SECONDS);
    // The fake clears the schedule on restore (UNCERTAIN on the real API), so it stays out of the trash.
    await expect(client.getDiskBackupPolicy(TOKEN, policy.id)).resolves.toMatchObject({
      autoMoveToTrashAt: null,
    });

    await client.scheduleDiskBackupPolicyDeletion(TOKEN, policy.id, AT + 600);
    clockMs = (AT + 600 + FAKE_KATAPULT_TRASH_SECONDS) * 1000;
    await expect(client.restoreTrashObject(TOKEN, policy.id)).rejects.toMatchObject({
      code: 'trash_object_not_found',
    });
    await expect(client.getDiskBackupPolicy(TOKEN, policy.id)).rejects.toMatchObject({
      code: 'disk_backup_policy_not_found',
    });
  });
});

describe('the fake Katapult server: the read and restore routes', () => {
  async function raw(
    path: string,
    init: { method: string; body?: unknown; token?: string } = { method: 'GET' },
  ) {
    const headers: Record<string, string> = { Authorization: `Bearer ${init.token ?? TOKEN}` };
    const options: { method: string; headers: Record<string, string>; body?: string } = {
      method: init.method,
      headers,
    };
    if (init.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      options.body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    }
    const res = await nodeFetch(`${fake.baseUrl}${path}`, options);
    const body: unknown = JSON.parse(await res.text());
    return { status: res.status, body, schema: res.headers.get('x-api-schema') };
  }

  it.each<[string, string, number, string, Record<string, unknown>]>([
    ['no lookup', GET_POLICY_PATH, 400, 'missing_required_argument', { path: ['disk_backup_policy'] }],
    [
      'an empty lookup',
      `${GET_POLICY_PATH}?disk_backup_policy%5Bid%5D=`,
      400,
      'invalid_argument',
      {
        issue: 'missing_lookup_value',
      },
    ],
    [
      'a missing-prefixed id',
      `${GET_POLICY_PATH}?disk_backup_policy[id]=missing-1`,
      404,
      'disk_backup_policy_not_found',
      {},
    ],
    [
      'a trashed-prefixed id',
      `${GET_POLICY_PATH}?disk_backup_policy[id]=trashed-1`,
      406,
      'object_in_trash',
      { trash_object: { object_id: 'trashed-1', object_type: 'DiskBackupPolicy' } },
    ],
    ['no organization', LIST_POLICIES_PATH, 400, 'missing_required_argument', { path: ['organization'] }],
    [
      'both organization lookups',
      `${LIST_POLICIES_PATH}?organization[id]=${ACME_ORG_ID}&organization[sub_domain]=acme-ops`,
      400,
      'invalid_argument',
      { issue: 'ambiguous_lookup_values' },
    ],
    [
      'a page that is not a number',
      `${LIST_POLICIES_PATH}?organization[id]=${ACME_ORG_ID}&page=two`,
      400,
      'invalid_argument',
      { issue: 'invalid_scalar' },
    ],
    [
      'an unknown sub_domain',
      `${LIST_POLICIES_PATH}?organization[sub_domain]=globex`,
      404,
      'organization_not_found',
      {},
    ],
  ])('GET with %s → %i %s', async (_label, path, status, code, detail) => {
    const res = await raw(path);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error: { code, detail } });
    expect(res.schema).toBe('json-error');
  });

  it('the organization can be looked up by sub_domain too', async () => {
    const res = await raw(`${LIST_POLICIES_PATH}?organization[sub_domain]=acme-ops&per_page=2`);
    expect(res).toMatchObject({
      status: 200,
      body: { pagination: { current_page: 1, per_page: 2, total: 45, total_pages: 23, large_set: false } },
    });
  });

  it.each<[string, unknown, number, string]>([
    ['no trash_object', {}, 400, 'missing_required_argument'],
    ['an empty lookup', { trash_object: {} }, 400, 'invalid_argument'],
    ['both lookups', { trash_object: { id: 'trsh_1', object_id: 'dbp_1' } }, 400, 'invalid_argument'],
    ['invalid JSON', '{"trash_object":', 400, 'invalid_json_body'],
    ['an unknown trash id', { trash_object: { id: 'trsh_nope' } }, 404, 'trash_object_not_found'],
  ])('restore with %s → %i %s', async (_label, body, status, code) => {
    const res = await raw(RESTORE_PATH, { method: 'POST', body });
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error: { code } });
  });

  it('restore by trash object id works as well as by object_id', async () => {
    const policy = catalogued(7);
    const trashId = fake.trashPolicy(policy.id, NOW_S + 60);
    const res = await raw(RESTORE_PATH, { method: 'POST', body: { trash_object: { id: trashId } } });
    expect(res).toEqual({
      status: 200,
      body: {
        trash_object: {
          id: trashId,
          keep_until: NOW_S + 60,
          object_id: policy.id,
          object_type: 'DiskBackupPolicy',
        },
      },
      schema: null,
    });
  });

  it('setPolicy replaces a policy (and takes it out of the trash); trashPolicy needs a known id', () => {
    const policy = catalogued(0);
    fake.trashPolicy(policy.id, NOW_S + 60);
    fake.setPolicy({ id: policy.id, target: { type: 'Disk', id: 'disk_q', name: 'q' }, retention: 2 });
    expect(fake.getPolicy(policy.id)).toMatchObject({
      organization: 'Acme Ops',
      retention: 2,
      target: { type: 'Disk', id: 'disk_q', name: 'q' },
      trash: null,
      autoMoveToTrashAt: null,
    });
    expect(fake.policies()).toHaveLength(FAKE_KATAPULT_POLICY_COUNT);
    expect(() => fake.trashPolicy('dbp_unknown', NOW_S)).toThrow(/no policy/);
  });

  it('resetPolicies puts the default catalogue back; reset() alone keeps it', () => {
    fake.setPolicy({ id: 'dbp_extra', target: { type: 'Disk', id: 'disk_e', name: 'e' } });
    fake.reset();
    expect(fake.getPolicy('dbp_extra')).toBeDefined();
    fake.resetPolicies();
    expect(fake.getPolicy('dbp_extra')).toBeUndefined();
    expect(fake.policies()).toHaveLength(FAKE_KATAPULT_POLICY_COUNT);
  });
});

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
