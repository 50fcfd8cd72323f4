/**
 * A start that cannot work stops with the reason. The bot token is checked (auth.test) while the
 * store opens: a refused token is reported as such, and a store that cannot be opened is reported
 * first, even when the token is refused too; a Redis that never answers stops the start in bounded time.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBot } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { type FakeKatapult, startFakeKatapult } from '../../support/fakes/katapult-api.js';
import { type FakeSlack, startFakeSlack } from '../../support/fakes/slack-api.js';

const BOT_TOKEN = 'xoxb-start-failures-1';
let slack: FakeSlack;
let katapult: FakeKatapult;
let dataDir: string;

beforeEach(async () => {
  slack = await startFakeSlack();
  katapult = await startFakeKatapult();
  dataDir = await mkdtemp(path.join(tmpdir(), 'katapult-chatops-start-'));
});

afterEach(async () => {
  await slack.close();
  await katapult.close();
  await rm(dataDir, { recursive: true, force: true });
});

const start = (env: Record<string, string> = {}) =>
  createBot(
    parseConfig({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: 'start-failures-secret',
      SLACK_API_URL: slack.apiUrl,
      KATAPULT_API_URL: katapult.baseUrl,
      DATA_DIR: dataDir,
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ...env,
    }),
    { logSink: () => undefined },
  );

test('a refused bot token stops the start with Slack’s reason', async () => {
  slack.fail('auth.test', 'invalid_auth');
  await expect(start()).rejects.toThrow('Slack refused SLACK_BOT_TOKEN (invalid_auth)');
  expect(slack.callsTo('auth.test')).toHaveLength(1);
});

test('a store that cannot be opened is reported first, even when the token is refused too', async () => {
  slack.fail('auth.test', 'invalid_auth');
  // A regular file where the store's directory should be: the store cannot be created.
  const notADirectory = path.join(dataDir, 'file');
  await writeFile(notADirectory, '');
  await expect(start({ STORE_URL: `sqlite://${notADirectory}/store.sqlite` })).rejects.toThrow(
    'could not open the store at',
  );
});

test('a Redis that accepts the connection and never answers stops the start with one line, in bounded time', async () => {
  // A black hole: the TCP connection is accepted, nothing is ever answered (a hung Redis, a proxy
  // whose backend is gone). The socket's connect timeout does not cover the handshake.
  const held = new Set<Socket>();
  const server = createServer((socket) => {
    held.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const started = Date.now();
    await expect(start({ STORE_URL: `redis://127.0.0.1:${port}/7` })).rejects.toThrow(
      `could not connect to the store at redis://127.0.0.1:${port}/7 (ETIMEDOUT)`,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  } finally {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}, 20_000);
