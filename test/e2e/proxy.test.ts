/**
 * Behind a proxy: the real bot with HTTP_PROXY / HTTPS_PROXY / NO_PROXY set, against the fake Slack
 * and the fake Katapult on 127.0.0.1 and a forward proxy that records what passes through it
 * (test/helpers/forward-proxy.ts). Every Slack Web API call (auth.test at start, the listeners' and
 * the workers' calls, `response_url`), Socket Mode's `apps.connections.open` and WebSocket, and every
 * Katapult call go through the proxy; what NO_PROXY covers does not. The fakes are http://, so it
 * is HTTP_PROXY (or http_proxy) that applies to them.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli.js';
import { KatapultClient } from '../../src/katapult/client.js';
import { KatapultNetworkError } from '../../src/katapult/errors.js';
import { createOutbound } from '../../src/net/proxy.js';
import { SCHEDULE_VIEW, TOKEN_VIEW } from '../../src/slack/ids.js';
import { startFakeKatapult } from '../../support/fakes/katapult-api.js';
import { startFakeSlack } from '../../support/fakes/slack-api.js';
import { startFakeSocketMode } from '../../support/fakes/socket-mode.js';
import {
  ADMIN,
  BOT_TOKEN,
  type Harness,
  inMinutes,
  KATAPULT_TOKEN,
  MEMBER,
  SIGNING_SECRET,
  setWorkspaceToken,
  signedMetadata,
  startHarness,
} from '../../support/harness.js';
import { commandBody, viewSubmissionBody } from '../../support/slack-requests.js';
import { type ForwardProxy, startForwardProxy } from '../helpers/forward-proxy.js';
import { installInTeam } from '../helpers/oauth-install.js';

const hostOf = (url: string) => new URL(url).host;

/** The Slack method (or `response_url`) a request to the fake Slack was for, from its path. */
const slackMethod = (path: string) =>
  path.startsWith('/response/') ? 'response_url' : new URL(path, 'http://x').pathname.replace(/^\/api\//, '');

/** `METHOD /path` of a request to the fake Katapult, without its `/core/v1` prefix and query. */
const katapultRoute = (method: string, path: string) =>
  `${method} ${new URL(path, 'http://x').pathname.replace(/^\/core\/v1/, '')}`;

/** What the fakes recorded, and what the proxy saw going to each, sorted for comparison. */
function traffic(h: Harness, proxy: ForwardProxy) {
  const sorted = (list: string[]) => [...list].sort();
  return {
    slack: sorted(h.slack.calls.map((c) => c.method)),
    slackViaProxy: sorted(proxy.to(hostOf(h.slack.apiUrl)).map((r) => slackMethod(r.path))),
    katapult: sorted(h.katapult.requests.map((r) => `${r.method} ${r.path}`)),
    katapultViaProxy: sorted(
      proxy.to(hostOf(h.katapult.baseUrl)).map((r) => katapultRoute(r.method, r.path)),
    ),
  };
}

/** Sets the token, opens the form, schedules one policy (a post and a held reminder) and reads the history. */
async function someOfEverything(h: Harness): Promise<void> {
  await setWorkspaceToken(h);
  const opened = h.slack.callsTo('views.open').length;
  expect((await h.command({ text: '', user_id: MEMBER })).status).toBe(200);
  await h.slack.waitFor('views.open', opened + 1);
  const posted = h.slack.callsTo('chat.postMessage').length;
  expect((await h.submitSchedule({ policyId: 'dbp_behind_a_proxy', at: inMinutes(90) })).status).toBe(200);
  await h.slack.waitFor('chat.postMessage', posted + 1);
  const replied = h.slack.callsTo('response_url').length;
  await h.command({ text: 'history', user_id: ADMIN, response_url: h.slack.responseUrl('history') });
  await h.slack.waitFor('response_url', replied + 1);
  expect(await h.bot.idle()).toBe(true);
}

describe('HTTPS_PROXY and HTTP_PROXY (upper case), a proxy that asks for credentials', () => {
  const PASSWORD = 'pr0xy-pa55word-not-for-logs';
  let proxy: ForwardProxy;
  let h: Harness;

  beforeAll(async () => {
    proxy = await startForwardProxy({ auth: `ops-bot:${PASSWORD}` });
    const withCredentials = proxy.url.replace('://', `://ops-bot:${PASSWORD}@`);
    h = await startHarness({
      env: { HTTPS_PROXY: withCredentials, HTTP_PROXY: withCredentials, NO_PROXY: 'example.com, 10.0.0.0/8' },
    });
    await someOfEverything(h);
  });

  afterAll(async () => {
    await h?.stop();
    await proxy?.close();
  });

  test('every Slack Web API call (auth.test at start included) and every response_url post passes the proxy', () => {
    const { slack, slackViaProxy } = traffic(h, proxy);
    expect(slack).toEqual(
      expect.arrayContaining(['auth.test', 'views.open', 'chat.postMessage', 'response_url']),
    );
    expect(slackViaProxy).toEqual(slack);
  });

  test('every Katapult call passes the proxy', () => {
    const { katapult, katapultViaProxy } = traffic(h, proxy);
    expect(katapult).toContain('DELETE /disk_backup_policies/disk_backup_policy/schedule');
    expect(katapultViaProxy).toEqual(katapult);
  });

  test("through tunnels to the fakes only, each with the proxy's credentials", () => {
    const fakes = [hostOf(h.slack.apiUrl), hostOf(h.katapult.baseUrl)];
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(proxy.tunnels.every((t) => fakes.includes(t))).toBe(true);
    expect(proxy.refused).toBe(0);
  });

  test('the start says which proxy, without its password; no log line holds the password', () => {
    const line = h.logs.find((l) => l.includes('"event":"outbound_proxy"'));
    expect(line).toContain(`http://[redacted]@${hostOf(proxy.url)}/`);
    expect(line).toContain('10.0.0.0/8');
    expect(h.logs.filter((l) => l.includes(PASSWORD))).toEqual([]);
  });

  test("the CLI's check reaches Slack and Katapult through the proxy too, and names it without the password", async () => {
    const before = { slack: h.slack.calls.length, katapult: h.katapult.requests.length };
    const lines: string[] = [];
    const out = { line: (text: string) => lines.push(text) };
    const code = await runCli(
      ['check'],
      {
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: h.slack.apiUrl,
        KATAPULT_API_URL: h.katapult.baseUrl,
        DATA_DIR: h.dataDir,
        TOKEN_ENCRYPTION_KEY: h.encryptionKey,
        http_proxy: proxy.url.replace('://', `://ops-bot:${PASSWORD}@`),
      },
      out,
      out,
    );
    const text = lines.join('\n');
    expect(text).toMatch(/^ok +proxy +.*http via http:\/\/\[redacted\]@127\.0\.0\.1:\d+\//m);
    expect(text).not.toContain(PASSWORD);
    expect(code).toBe(0);
    expect(h.slack.calls.slice(before.slack).map((c) => c.method)).toContain('auth.test');
    expect(h.katapult.requests.length).toBeGreaterThan(before.katapult);
    const { slack, slackViaProxy, katapult, katapultViaProxy } = traffic(h, proxy);
    expect(slackViaProxy).toEqual(slack);
    expect(katapultViaProxy).toEqual(katapult);
  });
});

describe('Socket Mode with http_proxy and no_proxy (lower case): no_proxy names the Katapult host:port', () => {
  const APP_TOKEN = 'xapp-1-test-app-token-proxied';
  let proxy: ForwardProxy;
  let h: Harness;
  let socketHost: string;
  let socket: Awaited<ReturnType<typeof startFakeSocketMode>>;

  beforeAll(async () => {
    proxy = await startForwardProxy();
    socket = await startFakeSocketMode();
    socketHost = hostOf(socket.wsUrl);
    const slack = await startFakeSlack();
    slack.fail(
      'apps.connections.open',
      ...Array.from({ length: 5 }, () => ({ status: 200, body: { ok: true, url: socket.wsUrl } })),
    );
    const katapult = await startFakeKatapult();
    h = await startHarness({
      env: { SLACK_APP_TOKEN: APP_TOKEN, http_proxy: proxy.url, no_proxy: hostOf(katapult.baseUrl) },
      slack,
      katapult,
    });
    await socket.connected;
  });

  afterAll(async () => {
    // The bot first: a socket closed under a running client makes it reconnect.
    const { slack, katapult } = h ?? {};
    await h?.stop();
    await socket?.close();
    await slack?.close();
    await katapult?.close();
    await proxy?.close();
  });

  test('apps.connections.open and the WebSocket go through the proxy', () => {
    expect(proxy.to(hostOf(h.slack.apiUrl)).map((r) => slackMethod(r.path))).toContain(
      'apps.connections.open',
    );
    expect(proxy.tunnels).toContain(socketHost);
    const upgrade = proxy.to(socketHost);
    expect(upgrade).toHaveLength(1);
    expect(upgrade[0]).toMatchObject({ via: 'tunnel', method: 'GET' });
    expect(upgrade[0]?.path).toMatch(/^\/link\/\?ticket=/);
    expect(socket.connections).toHaveLength(1);
  });

  test('work over the socket: Slack calls through the proxy, Katapult (on no_proxy) directly', async () => {
    const updated = h.slack.callsTo('views.update').length;
    const token = JSON.parse(
      new URLSearchParams(
        viewSubmissionBody({
          callbackId: TOKEN_VIEW.callbackId,
          userId: ADMIN,
          values: {
            [TOKEN_VIEW.tokenBlock]: {
              [TOKEN_VIEW.tokenAction]: { type: 'plain_text_input', value: KATAPULT_TOKEN },
            },
            [TOKEN_VIEW.removeBlock]: {
              [TOKEN_VIEW.removeAction]: { type: 'checkboxes', selected_options: [] },
            },
          },
        }),
      ).get('payload') ?? '{}',
    ) as Record<string, unknown>;
    await socket.send({ type: 'interactive', payload: token });
    await h.slack.waitFor('views.update', updated + 1, 20_000);
    const posted = h.slack.callsTo('chat.postMessage').length;
    const schedule = JSON.parse(
      new URLSearchParams(
        viewSubmissionBody({
          callbackId: SCHEDULE_VIEW.callbackId,
          userId: MEMBER,
          privateMetadata: signedMetadata(h.encryptionKey),
          values: {
            [SCHEDULE_VIEW.policyBlock]: {
              [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: 'dbp_over_the_socket' },
            },
            [SCHEDULE_VIEW.whenBlock]: {
              [SCHEDULE_VIEW.whenAction]: { type: 'datetimepicker', selected_date_time: inMinutes(60) },
            },
          },
        }),
      ).get('payload') ?? '{}',
    ) as Record<string, unknown>;
    await socket.send({ type: 'interactive', payload: schedule });
    await h.slack.waitFor('chat.postMessage', posted + 1);
    const opened = h.slack.callsTo('views.open').length;
    await socket.send({
      type: 'slash_commands',
      payload: Object.fromEntries(
        new URLSearchParams(commandBody({ text: '', user_id: MEMBER, response_url: h.slack.responseUrl() })),
      ),
    });
    await h.slack.waitFor('views.open', opened + 1);
    expect(await h.bot.idle()).toBe(true);

    const { slack, slackViaProxy, katapult, katapultViaProxy } = traffic(h, proxy);
    expect(slack).toEqual(
      expect.arrayContaining(['auth.test', 'views.update', 'chat.postMessage', 'views.open']),
    );
    expect(slackViaProxy).toEqual(slack);
    expect(katapult).toContain('DELETE /disk_backup_policies/disk_backup_policy/schedule');
    expect(katapultViaProxy).toEqual([]);
    expect(proxy.tunnels).not.toContain(hostOf(h.katapult.baseUrl));
  });
});

describe('OAuth (HTTP mode, many workspaces) with HTTP_PROXY', () => {
  let proxy: ForwardProxy;
  let h: Harness;

  beforeAll(async () => {
    proxy = await startForwardProxy();
    h = await startHarness({
      env: {
        SLACK_CLIENT_ID: '123.456',
        SLACK_CLIENT_SECRET: 'client-secret-abcdef',
        SLACK_STATE_SECRET: 'state-secret-0123456789',
        HTTP_PROXY: proxy.url,
      },
    });
  });

  afterAll(async () => {
    await h?.stop();
    await proxy?.close();
  });

  test("an install's oauth.v2.access (and the installer's auth.test) go through the proxy", async () => {
    await installInTeam(h, 'T0PROXIED1');
    expect(await h.bot.idle()).toBe(true);
    const { slack, slackViaProxy } = traffic(h, proxy);
    expect(slack).toContain('oauth.v2.access');
    expect(slackViaProxy).toEqual(slack);
  });
});

describe('NO_PROXY covering 127.0.0.1: nothing goes through the proxy', () => {
  let proxy: ForwardProxy;
  let h: Harness;

  beforeAll(async () => {
    proxy = await startForwardProxy();
    h = await startHarness({
      env: { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' },
    });
    await someOfEverything(h);
  });

  afterAll(async () => {
    await h?.stop();
    await proxy?.close();
  });

  test('the proxy saw no tunnel and no request, while the bot did its work', () => {
    // Not vacuous: the proxy is configured (the start says so) and Slack and Katapult were called.
    expect(h.logs.some((l) => l.includes('"event":"outbound_proxy"'))).toBe(true);
    const { slack, katapult } = traffic(h, proxy);
    expect(slack).toEqual(expect.arrayContaining(['auth.test', 'chat.postMessage', 'response_url']));
    expect(katapult).toContain('DELETE /disk_backup_policies/disk_backup_policy/schedule');
    expect(proxy.tunnels).toEqual([]);
    expect(proxy.requests).toEqual([]);
  });
});

describe('a proxy that refuses, or is not there: said plainly, at once', () => {
  let proxy: ForwardProxy;
  beforeAll(async () => {
    proxy = await startForwardProxy({ auth: 'ops-bot:the-right-password' });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  test('without its credentials the start stops, naming the proxy (not a password) and its 407', async () => {
    const wrong = proxy.url.replace('://', '://ops-bot:a-wrong-password@');
    // Fakes and folder of the test's own: a start that fails leaves them to the test to close.
    const slack = await startFakeSlack();
    const katapult = await startFakeKatapult();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'katapult-chatops-proxy-'));
    try {
      const failed = await startHarness({ env: { HTTP_PROXY: wrong }, slack, katapult, dataDir }).then(
        async (h) => {
          await h.stop();
          return null;
        },
        (error: unknown) => String(error),
      );
      expect(failed).toContain('could not reach the Slack API at');
      expect(failed).toContain(
        `through the proxy http://[redacted]@${hostOf(proxy.url)}/: Proxy response (407)`,
      );
      expect(failed).not.toContain('a-wrong-password');
      expect(proxy.refused).toBeGreaterThan(0);
      expect(slack.calls).toEqual([]);
    } finally {
      await slack.close();
      await katapult.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test("Katapult's client reports the proxy's refusal, and an unreachable proxy, as network failures with their code", async () => {
    const katapult = await startFakeKatapult();
    const closed = await startForwardProxy();
    await closed.close(); // its port is now refused
    try {
      for (const [uri, code] of [
        [proxy.url, 'PROXY_407'],
        [closed.url, 'ECONNREFUSED'],
      ] as const) {
        const outbound = await createOutbound({ https: null, http: uri, noProxy: '' });
        const client = new KatapultClient({
          baseUrl: katapult.baseUrl,
          fetch: outbound?.fetch ?? fetch,
          retry: { maxAttempts: 1 },
        });
        const failed = await client.identify(KATAPULT_TOKEN).catch((error: unknown) => error);
        await outbound?.close();
        expect(failed).toBeInstanceOf(KatapultNetworkError);
        expect((failed as Error).message).toContain(`(${code})`);
      }
      expect(katapult.requests).toEqual([]);
    } finally {
      await katapult.close();
    }
  });
});
