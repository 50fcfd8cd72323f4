/**
 * Clients for a token over one shared Web client (src/slack/platform/token-client.ts), against the
 * fake Slack: each call carries its client's token and team, nested methods and `apiCall` work, and
 * a 429 holds only the call it answered. And the `fetch` every Slack client uses.
 */
import { ErrorCode, WebClient } from '@slack/web-api';
import { sharedClients, slackHttp } from '../../src/bot/slack-clients.js';
import type { Metrics } from '../../src/metrics.js';
import type { Outbound } from '../../src/net/proxy.js';
import { mayHaveBeenDone } from '../../src/slack/outbound/slack-writes.js';
import { tokenClients } from '../../src/slack/platform/token-client.js';
import { type FakeSlack, startFakeSlack } from '../../support/fakes/slack-api.js';

let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(() => slack.close());
beforeEach(() => slack.reset());

test("every call carries its own client's token and team, however the calls interleave", async () => {
  const clients = sharedClients({ slackApiUrl: slack.apiUrl }, 0);
  const teams = Array.from({ length: 20 }, (_, i) => `T${i}`);
  await Promise.all(
    teams.flatMap((team) => {
      const client = clients(`xoxb-${team}`, { teamId: team });
      return [
        client.chat.postMessage({ channel: 'C1', text: `from ${team}` }),
        client.usergroups.users.list({ usergroup: 'S1' }).catch(() => undefined),
        client.apiCall('auth.test'),
      ];
    }),
  );
  expect(slack.calls).toHaveLength(60);
  for (const call of slack.calls) {
    expect(call.token).toBe(`xoxb-${String(call.args.team_id)}`);
    // In the Authorization header only, as a client's own token: never in the body.
    expect(call.raw).not.toContain('xoxb-');
  }
  expect(slack.callsTo('chat.postMessage').map((c) => c.args.text)).toEqual(
    expect.arrayContaining(teams.map((t) => `from ${t}`)),
  );
  expect(slack.callsTo('usergroups.users.list')).toHaveLength(20);
});

test("a token given to one call wins, as with a client of its own; the client reads as its token's", async () => {
  const client = sharedClients({ slackApiUrl: slack.apiUrl }, 0)('xoxb-workspace');
  await client.chat.postMessage({ channel: 'C1', text: 'x', token: 'xoxb-execution' });
  expect(slack.calls.map((c) => c.token)).toEqual(['xoxb-execution']);
  expect(client.token).toBe('xoxb-workspace');
  expect((client as unknown as Record<string, unknown>).notAMethod).toBeUndefined();
});

test("a 429 holds only the call it answered: it is sent again after Retry-After; others' calls go on", async () => {
  const clients = sharedClients({ slackApiUrl: slack.apiUrl }, 2);
  slack.fail('chat.postMessage', { status: 429, headers: { 'retry-after': '1' } });
  const t0 = Date.now();
  const limited = clients('xoxb-A', { teamId: 'TA' })
    .chat.postMessage({ channel: 'C1', text: 'a' })
    .then(() => Date.now() - t0);
  await slack.waitFor('chat.postMessage', 1);
  const other = await clients('xoxb-B', { teamId: 'TB' }).chat.postMessage({ channel: 'C1', text: 'b' });
  expect(other.ok).toBe(true);
  const otherMs = Date.now() - t0;
  const limitedMs = await limited;
  expect(otherMs).toBeLessThan(500);
  expect(limitedMs).toBeGreaterThanOrEqual(1000);
  expect(slack.callsTo('chat.postMessage').map((c) => c.token)).toEqual(['xoxb-A', 'xoxb-B', 'xoxb-A']);
  for (const call of slack.calls) expect(call.raw).not.toContain('xoxb-');
});

test('a call that names no token of its own (absent, undefined, empty) uses the client’s, in the header', async () => {
  const client = sharedClients({ slackApiUrl: slack.apiUrl }, 0)('xoxb-A');
  // As Bolt's sayStream and the Web client's chatStream call: `token: this.token`, often undefined.
  await client.chat.postMessage({ channel: 'C1', text: 'a', token: undefined });
  await client.apiCall('chat.postMessage', { channel: 'C1', text: 'b', token: '' });
  expect(slack.calls.map((c) => c.token)).toEqual(['xoxb-A', 'xoxb-A']);
  for (const call of slack.calls) expect(call.raw).not.toContain('xoxb-');
});

test('offers every Web API method of the Web client, by the same name; nothing that would cross tokens', async () => {
  const shared = new WebClient(undefined, { slackApiUrl: slack.apiUrl, rejectRateLimitedCalls: true });
  const called: string[] = [];
  shared.apiCall = (async (method: string) => {
    called.push(method);
    return { ok: true };
  }) as WebClient['apiCall'];
  const client = tokenClients(shared, { rateLimitRetries: 0 })('xoxb-A');
  const expected: string[] = [];
  const walk = (node: object, facade: Record<string, unknown>, path: string[]) => {
    for (const [key, value] of Object.entries(node)) {
      const at = [...path, key].join('.');
      if (typeof value === 'function' && value.name === 'bound apiCall') {
        expected.push(at);
        void (facade[key] as () => Promise<unknown>)();
      } else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
        walk(value, facade[key] as Record<string, unknown>, [...path, key]);
    }
  };
  walk(new WebClient(), client as unknown as Record<string, unknown>, []);
  expect(expected.length).toBeGreaterThan(250);
  expect(called).toEqual(expected);
  // files.uploadV2's helpers copy the token into request bodies; the emitter's events carry every
  // workspace's calls: not offered. Nothing can be set on the client (it would land on the shared one).
  expect(client.files.uploadV2).toBeUndefined();
  expect(client.filesUploadV2).toBeUndefined();
  await expect(client.apiCall('files.uploadV2', {})).rejects.toThrow(/own/);
  expect(client.on).toBeUndefined();
  expect(() => Object.assign(client, { token: 'xoxb-B' })).toThrow(TypeError);
  expect(() => Object.defineProperty(client.chat, 'postMessage', { value: null })).toThrow(TypeError);
  expect(client.token).toBe('xoxb-A');
  expect(shared.token).toBeUndefined();
});

test('with no retries a 429 fails the call at once, as a rate-limited error', async () => {
  const client = sharedClients({ slackApiUrl: slack.apiUrl }, 0)('xoxb-A');
  slack.fail('views.open', { status: 429, headers: { 'retry-after': '30' } });
  await expect(
    client.views.open({
      trigger_id: 't',
      view: { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] },
    }),
  ).rejects.toMatchObject({
    code: ErrorCode.RateLimitedError,
    retryAfter: 30,
  });
});

test('a shared client that would pause its queue on a 429, or has a token of its own, is refused', () => {
  const url = { slackApiUrl: slack.apiUrl, rejectRateLimitedCalls: true };
  expect(() => tokenClients(new WebClient('xoxb-own', url), { rateLimitRetries: 0 })).toThrow(/no token/);
  expect(() =>
    tokenClients(new WebClient(undefined, { slackApiUrl: slack.apiUrl }), { rateLimitRetries: 0 }),
  ).toThrow(/reject rate-limited calls/);
});

test("Slack calls go through undici's own fetch, or the outbound proxy's when one is set", async () => {
  const metrics = { slackApiError: () => undefined } as unknown as Metrics;
  const { Response: UndiciResponse } = await import('undici');
  const direct = slackHttp(null, metrics, 10_000);
  const answer = await direct.fetch?.(`${slack.apiUrl}auth.test`, { method: 'POST', body: '' });
  expect(answer).toBeInstanceOf(UndiciResponse);
  expect(answer).not.toBeInstanceOf(globalThis.Response);
  // undici's dispatcher keeps the timeout: the Web client makes no abort signal per call.
  expect(direct.timeout).toBe(0);

  const proxiedCalls: string[] = [];
  const proxied = async (input: unknown) => {
    proxiedCalls.push(String(input));
    return new Response('{}');
  };
  const viaProxy = slackHttp({ fetch: proxied } as unknown as Outbound, metrics, 10_000);
  await viaProxy.fetch?.(`${slack.apiUrl}auth.test`, { method: 'POST', body: '' });
  expect(proxiedCalls).toEqual([`${slack.apiUrl}auth.test`]);
  expect(viaProxy.timeout).toBe(10_000);
});

test('a Slack call that gets no answer fails after the timeout as a request error that may have been done', async () => {
  const metrics = { slackApiError: () => undefined } as unknown as Metrics;
  const release = slack.hold('chat.postMessage');
  try {
    const client = new WebClient('xoxb-timeout', {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 0 },
      ...slackHttp(null, metrics, 300),
    });
    const started = Date.now();
    const failed = await client.chat.postMessage({ channel: 'C1', text: 'hi' }).then(
      () => null,
      (error: unknown) => error,
    );
    const took = Date.now() - started;
    expect(failed).toMatchObject({ code: ErrorCode.RequestError });
    expect(mayHaveBeenDone(failed)).toBe(true);
    // The answer is waited for three quarters of the attempt (a quarter is for connecting).
    expect(took).toBeGreaterThanOrEqual(200);
    expect(took).toBeLessThan(5_000);
  } finally {
    release();
  }
});
