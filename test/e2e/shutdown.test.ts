/**
 * The real entry point as its own process: SIGTERM while a Katapult call is in flight turns /readyz
 * to 503 and lets the call finish and its result be posted before the process exits 0; a bad
 * setting stops it with one line; a stop while Socket Mode reconnects exits 0; a store that does not
 * answer does not hold the stop (in process).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SCHEDULE_VIEW } from '../../src/slack/ids.js';
import { type FakeKatapult, startFakeKatapult } from '../../support/fakes/katapult-api.js';
import { type FakeSlack, startFakeSlack } from '../../support/fakes/slack-api.js';
import { startFakeSocketMode } from '../../support/fakes/socket-mode.js';
import {
  ADMIN,
  BOT_TOKEN,
  KATAPULT_TOKEN,
  SIGNING_SECRET,
  signedMetadata,
  startHarness,
} from '../../support/harness.js';
import { postSigned, viewSubmissionBody } from '../../support/slack-requests.js';
import { startBotProcess } from '../helpers/bot-process.js';
import { poll } from '../helpers/poll.js';

const ENCRYPTION_KEY = randomBytes(32).toString('base64');

let slack: FakeSlack;
let katapult: FakeKatapult;
let dataDir: string;
beforeAll(async () => {
  slack = await startFakeSlack();
  katapult = await startFakeKatapult();
  slack.users.set(ADMIN, { is_admin: true });
  dataDir = await mkdtemp(path.join(tmpdir(), 'katapult-chatops-proc-'));
});
afterAll(async () => {
  await slack.close();
  await katapult.close();
  await rm(dataDir, { recursive: true, force: true });
});

const startBot = (env: Record<string, string>) => startBotProcess(env, dataDir);
/** The bot in Socket Mode, with its Web API (and apps.connections.open) at the fake Slack. */
const startSocketBot = (appToken: string) =>
  startBot({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_APP_TOKEN: appToken,
    SLACK_API_URL: slack.apiUrl,
    KATAPULT_API_URL: katapult.baseUrl,
    DATA_DIR: dataDir,
    TOKEN_ENCRYPTION_KEY: ENCRYPTION_KEY,
    PORT: '0',
  });

test('SIGTERM during an in-flight Katapult call: the call completes, the result is posted, exit 0', async () => {
  const bot = startBot({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    KATAPULT_API_URL: katapult.baseUrl,
    KATAPULT_API_TOKEN: KATAPULT_TOKEN,
    DATA_DIR: dataDir,
    TOKEN_ENCRYPTION_KEY: ENCRYPTION_KEY,
    PORT: '0',
  });
  try {
    const port = await bot.port();
    // The call ends when the test says: the drain must wait for it however long it takes.
    let answer: () => void = () => undefined;
    katapult.enqueue('DELETE /disk_backup_policies/disk_backup_policy/schedule', {
      status: 200,
      heldUntil: new Promise<void>((resolve) => {
        answer = resolve;
      }),
      body: {
        disk_backup_policy: {
          id: 'dbp_sigterm',
          auto_move_to_trash_at: 1900000000,
          target: { type: 'Disk', value: { id: 'disk_1' } },
        },
      },
    });
    const res = await postSigned(
      `http://127.0.0.1:${port}/slack/events`,
      SIGNING_SECRET,
      viewSubmissionBody({
        callbackId: SCHEDULE_VIEW.callbackId,
        userId: ADMIN,
        privateMetadata: signedMetadata(ENCRYPTION_KEY, 'C0OPS0001'),
        values: {
          [SCHEDULE_VIEW.policyBlock]: {
            [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: 'dbp_sigterm' },
          },
          [SCHEDULE_VIEW.whenBlock]: {
            [SCHEDULE_VIEW.whenAction]: {
              type: 'datetimepicker',
              selected_date_time: Math.floor(Date.now() / 1000) + 3600,
            },
          },
        },
      }),
    );
    expect(res.status).toBe(200);
    await katapult.waitFor((r) => r.method === 'DELETE');
    bot.child.kill('SIGTERM');
    // While the call under way finishes, /readyz says 503 so that load balancers stop sending (the
    // signal reaches the child when it does: polled).
    await poll(
      '/readyz to say 503',
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 503,
    );
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
    answer();
    const [post] = await slack.waitFor('chat.postMessage', 1, 10_000);
    expect(JSON.stringify(post?.args.blocks)).toContain('dbp_sigterm');
    expect(await bot.exited).toBe(0);
    expect(bot.output()).toContain('"drained":true');
    expect(bot.output()).not.toContain(KATAPULT_TOKEN);
  } finally {
    bot.child.kill('SIGKILL');
  }
}, 30_000);

test('a malformed setting stops the process with one line naming the variable', async () => {
  const bot = startBot({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    PORT: 'eighty',
    DATA_DIR: dataDir,
  });
  expect(await bot.exited).toBe(1);
  expect(bot.output().trim()).toBe(
    'katapult-chatops: configuration error: PORT: expected a whole number from 0 to 65535',
  );
}, 20_000);

test('a store that does not answer (a partition, a hung database) does not hold the stop past a few seconds', async () => {
  const h = await startHarness({ slack, katapult });
  const store = h.bot.store as unknown as { close(): Promise<void> };
  const realClose = store.close;
  try {
    // What a black-holed PostgreSQL pool or Redis client does on close: wait for an answer that never comes.
    store.close = () => new Promise(() => undefined);
    const started = Date.now();
    await h.stop();
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(h.logs.some((l) => l.includes('"event":"store_close_timeout"'))).toBe(true);
  } finally {
    await realClose().catch(() => undefined);
  }
}, 20_000);

test('SIGTERM while Socket Mode is reconnecting (the connection dropped, the new one fails): exit 0', async () => {
  const socket = await startFakeSocketMode();
  // The first URL works; the reconnects get one nobody listens on, as when Slack's edge is unreachable.
  slack.fail(
    'apps.connections.open',
    { status: 200, body: { ok: true, url: socket.wsUrl } },
    ...Array.from({ length: 5 }, () => ({ status: 200, body: { ok: true, url: 'ws://127.0.0.1:9/link/' } })),
  );
  const bot = startSocketBot('xapp-1-A0FAKE001-1-shutdownreconnect');
  try {
    await bot.port();
    await socket.close();
    // At least one reconnect has been tried (a second apps.connections.open) and has failed (the
    // client logged its second WebSocket error): the client is waiting to try again when the stop
    // disconnects it.
    await slack.waitFor('apps.connections.open', 2, 20_000);
    await bot.waitForOutput(/WebSocket error occurred[\s\S]*WebSocket error occurred/, 20_000);
    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    expect(bot.output()).not.toContain('ERR_UNHANDLED_REJECTION');
    expect(bot.output()).toContain('"event":"stopped"');
  } finally {
    bot.child.kill('SIGKILL');
  }
}, 40_000);

test('Slack refuses the app token on a reconnect: one clear line, a clean stop and exit 1 (to be restarted), no stack trace', async () => {
  const socket = await startFakeSocketMode();
  const appToken = 'xapp-1-A0FAKE001-1-revokedonreconnect';
  slack.reset(); // drops answers an earlier test queued and did not use
  slack.fail('apps.connections.open', { status: 200, body: { ok: true, url: socket.wsUrl } }, 'invalid_auth');
  const bot = startSocketBot(appToken);
  try {
    await bot.port();
    // Slack recycles the connection; the client reconnects after about 5 s and is refused for good.
    socket.disconnect('refresh_requested');
    expect(await bot.exited).toBe(1);
    const out = bot.output();
    expect(out).toMatch(/"event":"unhandled_rejection".*"slack_error":"invalid_auth"/);
    expect(out).toContain('"event":"stopped"');
    // Every line is a JSON log line: no stack trace, no Node crash banner.
    for (const line of out.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    expect(out).not.toContain('Node.js v');
    expect(out).not.toContain(appToken);
  } finally {
    bot.child.kill('SIGKILL');
    await socket.close();
  }
}, 40_000);

test('Slack answers a reconnect with an HTTP error: the line names it (http_<status>), exit 1', async () => {
  const socket = await startFakeSocketMode();
  slack.reset();
  // The Web client's retries (3) get the same answer.
  slack.fail(
    'apps.connections.open',
    { status: 200, body: { ok: true, url: socket.wsUrl } },
    ...Array.from({ length: 4 }, () => ({ status: 403 })),
  );
  const bot = startSocketBot('xapp-1-A0FAKE001-1-httperroronreconnect');
  try {
    await bot.port();
    socket.disconnect('refresh_requested');
    expect(await bot.exited).toBe(1);
    expect(bot.output()).toMatch(/"event":"unhandled_rejection".*"slack_error":"http_403"/);
  } finally {
    bot.child.kill('SIGKILL');
    await socket.close();
  }
}, 40_000);
