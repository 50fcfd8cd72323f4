/**
 * The Katapult client against the fake Katapult server over real HTTP on loopback (node-fetch), and
 * against a ten-line scripted fetch where only timing matters. Back-off never really waits: `sleep`
 * is injected and records what it was asked for.
 */
import net from 'node:net';
import { inspect } from 'node:util';
import fetch from 'node-fetch';
import {
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
  FAKE_KATAPULT_TARGET_VM_ID,
  type FakeKatapult,
  type FakeKatapultReply,
  fakeOrganizationId,
  startFakeKatapult,
} from '../fakes/katapult-api.js';
import { errorFixture, errorFixtureCodes, errorFixtures } from '../fixtures/katapult/index.js';

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

  it('an organization token without organizations:read: scope_not_granted from /organizations', async () => {
    fake.setTokens({
      [ORG_TOKEN]: { organization: 'Acme Ops', user: null, scopes: ['disk_backup_policies'] },
    });
    const { client } = makeClient();
    const error = await rejectionOf(client.identify(ORG_TOKEN), KatapultApiError);
    expect(error).toMatchObject({
      status: 403,
      code: 'scope_not_granted',
      detail: { scopes: ['organizations:read'] },
    });
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

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
