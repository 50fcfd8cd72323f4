/**
 * Debug lines cost nothing when LOG_LEVEL is above debug: the logger the bot gives Bolt and every
 * Web client drops a debug call before it reads its arguments, and the Web client (@slack/web-api
 * 8.2, patched after install by scripts/patch-dependencies.mjs) no longer builds the text of its
 * own (the JSON of each request's body and headers and of each answer) unless its logger is at
 * debug. Without the patch the last tests fail.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
// @ts-expect-error: a plain script, without types
import { PATCHES, patchDependencies } from '../../scripts/patch-dependencies.mjs';
import { oneAttemptClients } from '../../src/bot/slack-clients.js';
import { parseConfig } from '../../src/config.js';
import { createLogger, Redactor } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import type { Outbound } from '../../src/net/proxy.js';

/** A value that counts how often it is serialized or read. */
function watched() {
  const reads = { count: 0 };
  const value = {
    get secret() {
      reads.count++;
      return 'x';
    },
    toJSON() {
      reads.count++;
      return {};
    },
  };
  return { value, reads };
}

test('at info, debug() reads none of its arguments and writes nothing', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', redactor: new Redactor(), sink: (line) => lines.push(line) });
  const { value, reads } = watched();
  logger.debug('http request body:', value);
  logger.debug(value);
  expect(reads.count).toBe(0);
  expect(lines).toEqual([]);
  // At debug it does (so the watch above can see a read).
  logger.setLevel('debug' as never);
  logger.debug('some text', value);
  expect(reads.count).toBeGreaterThan(0);
  expect(lines).toHaveLength(1);
});

const config = parseConfig({
  SLACK_BOT_TOKEN: 'xoxb-1-debug-off',
  SLACK_SIGNING_SECRET: 'signing-secret-debug-off',
  KATAPULT_API_TOKEN: 'kt-debug-off-0123456789',
  TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  SLACK_API_URL: 'http://127.0.0.1:9/api/',
});

/** The Web client of @slack/web-api as the bot's `oneAttemptClients` makes it, answering `ok` without a network. */
function quietClient(logger: ReturnType<typeof createLogger>) {
  const fetchOk = async () =>
    new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } });
  const outbound = { fetch: fetchOk } as unknown as Outbound;
  return oneAttemptClients(config, {}, { metrics: createMetrics(), logger, outbound })('xoxb-3-x');
}

const silent = (level: 'error' | 'debug') =>
  createLogger({ level, redactor: new Redactor(), sink: () => undefined });

test('the Web clients made for work outside a request log use the bot’s logger and its level', async () => {
  const seen: string[] = [];
  const logger = createLogger({ level: 'info', redactor: new Redactor(), sink: (line) => seen.push(line) });
  const calls: string[] = [];
  const debug = logger.debug;
  logger.debug = (...args: unknown[]) => {
    calls.push(String(args[0]));
    debug(...args);
  };
  const client = quietClient(logger);
  await client.auth.test();
  // At info the (patched) Web client asks our logger its level and makes no debug call; nothing is written.
  expect(calls).toEqual([]);
  expect(seen).toEqual([]);
  // At debug its calls reach our logger.
  logger.setLevel('debug' as never);
  await client.auth.test();
  expect(calls.some((c) => c.startsWith('http request body'))).toBe(true);
});

test('the Web client builds no debug text of a request body unless its logger is at debug (patched)', async () => {
  const quiet = watched();
  await quietClient(silent('error')).apiCall('auth.test', { watched: quiet.value });
  // Once: the form body sends it as JSON (toJSON); no copy of it is made for a debug line.
  expect(quiet.reads.count).toBe(1);
  const loud = watched();
  await quietClient(silent('debug')).apiCall('auth.test', { watched: loud.value });
  expect(loud.reads.count).toBeGreaterThan(1);
});

const require = createRequire(import.meta.url);

test('the dependency patches are applied to the installed packages, at the versions they were written for', () => {
  expect(patchDependencies()).toEqual(PATCHES.map((p: { name: string }) => `already applied: ${p.name}`));
});

test('the Web client patch applies once to the file as published, and leaves another version alone', async () => {
  const installed = require.resolve('@slack/web-api/dist/WebClient.js');
  const patched = readFileSync(installed, 'utf8');
  // The file as published: the patch only adds its guard in front of statements.
  const published = patched.replaceAll("if ((this.logger.getLevel?.() ?? 'debug') === 'debug') ", '');
  expect(published).not.toBe(patched);
  const root = await mkdtemp(path.join(tmpdir(), 'katapult-patch-'));
  const dir = path.join(root, 'node_modules', '@slack', 'web-api');
  await mkdir(path.join(dir, 'dist'), { recursive: true });
  await writeFile(path.join(dir, 'dist', 'WebClient.js'), published);
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ version: '8.2.0' }));
  expect(patchDependencies(root)).toContain('applied: Web client debug lines built only at debug');
  expect(readFileSync(path.join(dir, 'dist', 'WebClient.js'), 'utf8')).toBe(patched);
  expect(patchDependencies(root)).toContain('already applied: Web client debug lines built only at debug');
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ version: '8.3.0' }));
  expect(patchDependencies(root)[0]).toMatch(/^warning: not applied \(@slack\/web-api is 8\.3\.0/);
});
