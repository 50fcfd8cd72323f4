/**
 * End to end in Socket Mode: the real bot with SLACK_APP_TOKEN set, so Bolt's real SocketModeClient
 * calls `apps.connections.open` on the fake Slack Web API with the app token, opens a WebSocket to the
 * fake Socket Mode endpoint, waits for `hello`, and then receives commands and modal submissions as
 * envelopes and acks them over the socket. Katapult and the Web API are the same fakes as over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LogLevel } from '@slack/bolt';
import { createBot } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { SCHEDULE_VIEW, TOKEN_VIEW } from '../../src/slack/ids.js';
import { startFakeKatapult } from '../../support/fakes/katapult-api.js';
import { type FakeSlack, type SlackCall, startFakeSlack } from '../../support/fakes/slack-api.js';
import { type FakeSocketMode, startFakeSocketMode } from '../../support/fakes/socket-mode.js';
import {
  ADMIN,
  BOT_TOKEN,
  CHANNEL,
  type Harness,
  inMinutes,
  KATAPULT_TOKEN,
  MEMBER,
  openedMetadata,
  SIGNING_SECRET,
  signedMetadata,
  startHarness,
} from '../../support/harness.js';
import { type CommandFields, commandBody, viewSubmissionBody } from '../../support/slack-requests.js';
import { leaksOf } from '../helpers/secrets.js';

const APP_TOKEN = 'xapp-1-test-app-token-abcdef';

let socket: FakeSocketMode;
let slack: FakeSlack;
let h: Harness;

beforeAll(async () => {
  socket = await startFakeSocketMode();
  slack = await startFakeSlack();
  // The fake Web API answers unknown methods with a bare {ok:true}; Socket Mode needs the URL. A few
  // spare answers cover a reconnect.
  slack.fail(
    'apps.connections.open',
    ...Array.from({ length: 5 }, () => ({ status: 200, body: { ok: true, url: socket.wsUrl } })),
  );
  h = await startHarness({ env: { SLACK_APP_TOKEN: APP_TOKEN }, slack });
  await socket.connected;
});

afterAll(async () => {
  // Stop the bot first: a socket closed under a running client makes it reconnect.
  await h?.stop();
  await socket?.close();
  await slack?.close();
});

/** The form fields of a slash command, as the object Socket Mode carries instead of a form. */
function commandPayload(fields: CommandFields): Record<string, string> {
  return Object.fromEntries(
    new URLSearchParams(commandBody({ response_url: slack.responseUrl(), ...fields })),
  );
}

/** The same view_submission payload the HTTP tests post, as an object. */
function submissionPayload(fields: Parameters<typeof viewSubmissionBody>[0]): Record<string, unknown> {
  return JSON.parse(new URLSearchParams(viewSubmissionBody(fields)).get('payload') ?? '{}') as Record<
    string,
    unknown
  >;
}

function schedulePayload(input: { policyId: string | null; at: number | null; viewId?: string }) {
  return submissionPayload({
    callbackId: SCHEDULE_VIEW.callbackId,
    userId: MEMBER,
    privateMetadata: signedMetadata(h.encryptionKey),
    ...(input.viewId ? { viewId: input.viewId } : {}),
    values: {
      [SCHEDULE_VIEW.policyBlock]: {
        [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: input.policyId },
      },
      [SCHEDULE_VIEW.whenBlock]: {
        [SCHEDULE_VIEW.whenAction]: { type: 'datetimepicker', selected_date_time: input.at },
      },
    },
  });
}

/** The admin's token modal, filled in with `token`. */
function tokenPayload(token: string) {
  return submissionPayload({
    callbackId: TOKEN_VIEW.callbackId,
    userId: ADMIN,
    values: {
      [TOKEN_VIEW.tokenBlock]: { [TOKEN_VIEW.tokenAction]: { type: 'plain_text_input', value: token } },
      [TOKEN_VIEW.removeBlock]: { [TOKEN_VIEW.removeAction]: { type: 'checkboxes', selected_options: [] } },
    },
  });
}

const command = (fields: CommandFields) =>
  socket.send({ type: 'slash_commands', payload: commandPayload(fields) });

/** Slack Web API calls made from index `from` on (the fake's log is never reset in this file). */
const callsSince = (from: number, method: string): SlackCall[] =>
  slack.calls.slice(from).filter((c) => c.method === method);

const scheduleCalls = () =>
  h.katapult.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith('/disk_backup_policy/schedule'));

async function waitForCall(from: number, method: string, timeoutMs = 5000): Promise<SlackCall> {
  const [call] = await slack.waitFor(
    (c) => c.method === method && slack.calls.indexOf(c) >= from,
    1,
    timeoutMs,
  );
  return call as SlackCall;
}

describe('connecting', () => {
  test('asks apps.connections.open with the app token, opens the socket it names, and says so', () => {
    const opens = slack.callsTo('apps.connections.open');
    expect(opens).toHaveLength(1);
    expect(opens[0]?.token).toBe(APP_TOKEN);
    expect(socket.connections).toHaveLength(1);
    expect(socket.wsUrl).toContain(socket.connections[0]?.url);
    expect(h.logs.some((l) => l.includes('"event":"started"') && l.includes('"mode":"socket"'))).toBe(true);
  });
});

describe('over the socket', () => {
  beforeAll(async () => {
    // The admin sets the workspace's Katapult token through the token modal, over the socket too.
    const from = slack.calls.length;
    const ack = await socket.send({ type: 'interactive', payload: tokenPayload(KATAPULT_TOKEN) });
    // The ack's payload is the response: the modal turns into "checking…".
    expect(ack).toMatchObject({ response_action: 'update', view: { type: 'modal' } });
    await waitForCall(from, 'views.update');
  });
  beforeEach(() => h.katapult.reset());

  test('(a) /katapult acks empty at once, then opens the modal with the trigger', async () => {
    const from = slack.calls.length;
    const ack = await command({ text: '', trigger_id: '333.444.socket-trigger', user_id: MEMBER });
    expect(ack).toEqual({});
    const open = await waitForCall(from, 'views.open');
    expect(open.args.trigger_id).toBe('333.444.socket-trigger');
    expect(open.token).toBe(BOT_TOKEN);
    const view = open.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe(SCHEDULE_VIEW.callbackId);
    // Signed for this form and workspace, and dated: compared by what it opens to, not byte for byte.
    expect(openedMetadata(h.encryptionKey, view.private_metadata)).toBe(JSON.stringify({ c: CHANNEL }));
  });

  test('(b) /katapult help: the help text travels in the ack, nothing is opened', async () => {
    const from = slack.calls.length;
    const ack = await command({ text: 'help' });
    expect(ack).toMatchObject({ response_type: 'ephemeral' });
    expect(JSON.stringify(ack)).toContain('/katapult token');
    expect(await h.bot.idle()).toBe(true);
    expect(callsSince(from, 'views.open')).toHaveLength(0);
    expect(callsSince(from, 'response_url')).toHaveLength(0);
  });

  test('(c) a submission schedules with one Katapult call and posts in the channel', async () => {
    const from = slack.calls.length;
    const at = inMinutes(60);
    const ack = await socket.send({
      type: 'interactive',
      payload: schedulePayload({ policyId: 'dbp_1kpkjQeMEI43tztr', at }),
    });
    expect(ack).toEqual({});
    const post = await waitForCall(from, 'chat.postMessage');
    expect(post.args.channel).toBe(CHANNEL);
    expect(JSON.stringify(post.args.blocks)).toContain('dbp_1kpkjQeMEI43tztr');
    const calls = scheduleCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toEqual({ disk_backup_policy: { id: 'dbp_1kpkjQeMEI43tztr' }, timestamp: at });
    expect(calls[0]?.headers.authorization).toBe(`Bearer ${KATAPULT_TOKEN}`);
  });

  test('an invalid submission gets its inline errors in the ack, and nothing else happens', async () => {
    const from = slack.calls.length;
    const ack = await socket.send({
      type: 'interactive',
      payload: schedulePayload({ policyId: '<!channel>', at: inMinutes(2) }),
    });
    expect(ack).toMatchObject({
      response_action: 'errors',
      errors: {
        [SCHEDULE_VIEW.policyBlock]: expect.any(String),
        [SCHEDULE_VIEW.whenBlock]: expect.any(String),
      },
    });
    expect(await h.bot.idle()).toBe(true);
    expect(scheduleCalls()).toHaveLength(0);
    expect(callsSince(from, 'chat.postMessage')).toHaveLength(0);
  });

  test('a redelivered envelope (retry_attempt) is acked but schedules nothing twice', async () => {
    const from = slack.calls.length;
    const payload = schedulePayload({ policyId: 'dbp_retried', at: inMinutes(45), viewId: 'VSOCKETRETRY' });
    expect(await socket.send({ type: 'interactive', payload, envelope_id: 'env-retry-1' })).toEqual({});
    await waitForCall(from, 'chat.postMessage');
    const again = await socket.send({
      type: 'interactive',
      payload,
      envelope_id: 'env-retry-1',
      retry_attempt: 1,
      retry_reason: 'timeout',
    });
    expect(again).toEqual({});
    expect(await h.bot.idle()).toBe(true);
    expect(scheduleCalls()).toHaveLength(1);
    expect(callsSince(from, 'chat.postMessage')).toHaveLength(1);
    const duplicate = h.logs.find((l) => l.includes('"event":"duplicate_submission"'));
    expect(duplicate).toContain('"retry_num":1');
  });
});

describe('(d) the app token', () => {
  test('is the credential of apps.connections.open and of nothing else', () => {
    const withAppToken = slack.calls.filter((c) => c.token === APP_TOKEN).map((c) => c.method);
    expect(withAppToken).toEqual(['apps.connections.open']);
    // Everything else the bot does with the bot token.
    expect(slack.calls.filter((c) => c.method !== 'response_url').every((c) => c.token !== null)).toBe(true);
  });

  test('appears in no log line, no recorded Slack call, no WebSocket traffic', () => {
    // Not vacuous: the logs hold the work done over the socket, and the socket carried acks.
    expect(h.logs.some((l) => l.includes('"event":"audit_schedule"'))).toBe(true);
    expect(socket.received.length).toBeGreaterThan(0);
    const secrets = [APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, KATAPULT_TOKEN, h.encryptionKey];
    expect(leaksOf(h, secrets)).toEqual([]);
    const raw = [
      ...slack.calls.filter((c) => c.method !== 'apps.connections.open').map((c) => c.raw),
      ...socket.received,
      ...socket.connections.map((c) => JSON.stringify(c)),
    ];
    for (const secret of secrets) expect(raw.filter((text) => text.includes(secret))).toEqual([]);
  });
});

/**
 * LOG_LEVEL=debug does not reach Bolt's logger today: `new App({ logger })` without `logLevel` resets
 * the shared logger to info. These tests put it back to debug, as LOG_LEVEL=debug means to, and look
 * at what Socket Mode then writes: every frame in and every ack out, verbatim.
 */
describe('at debug level', () => {
  const NEW_TOKEN = 'kt-replacement-secret-0123456789';
  beforeAll(async () => {
    h.bot.app.logger.setLevel(LogLevel.DEBUG);
    h.katapult.setTokens({ [KATAPULT_TOKEN]: 'Acme Ops', [NEW_TOKEN]: 'Acme Ops' });
    const from = slack.calls.length;
    await socket.send({ type: 'interactive', payload: tokenPayload(NEW_TOKEN) });
    await waitForCall(from, 'views.update');
  });

  test('raw socket traffic (which can hold what users typed) is not logged; nor is the app token', () => {
    expect(h.logs.some((l) => l.includes('"level":"debug"'))).toBe(true);
    expect(h.logs.some((l) => l.includes('Received a message on the WebSocket'))).toBe(false);
    expect(leaksOf(h, [APP_TOKEN, BOT_TOKEN])).toEqual([]);
  });

  // The SocketModeClient logs each envelope at debug level before any listener runs; src/log.ts drops
  // those lines, so a Katapult token typed into the token modal never reaches the log.
  test('a Katapult token typed into the token modal is not logged', () => {
    expect(leaksOf(h, [NEW_TOKEN])).toEqual([]);
  });
});

describe('a refused app token', () => {
  test('stops the start with Slack’s reason instead of retrying', async () => {
    const refusing = await startFakeSlack();
    const katapult = await startFakeKatapult();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'katapult-chatops-socket-'));
    const logs: string[] = [];
    refusing.fail('apps.connections.open', 'invalid_auth');
    try {
      const config = parseConfig({
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_APP_TOKEN: APP_TOKEN,
        SLACK_API_URL: refusing.apiUrl,
        KATAPULT_API_URL: katapult.baseUrl,
        DATA_DIR: dataDir,
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        LOG_LEVEL: 'debug',
      });
      const bot = await createBot(config, { logSink: (line) => logs.push(line) });
      const started = bot.start();
      await expect(started).rejects.toThrow('Slack refused SLACK_APP_TOKEN (invalid_auth)');
      await bot.stop(0);
      expect(refusing.callsTo('apps.connections.open')).toHaveLength(1);
      expect(logs.filter((l) => l.includes(APP_TOKEN))).toEqual([]);
    } finally {
      await refusing.close();
      await katapult.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
