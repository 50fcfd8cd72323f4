/**
 * Debug lines cost nothing when LOG_LEVEL is above debug: the logger the bot gives Bolt and every
 * Web client drops a debug call before it reads its arguments. The Web client itself (@slack/web-api
 * 8.2) builds some of its debug text before the call (JSON of each request's body and headers and of
 * each answer, with their tokens masked) whatever the level: no option turns that off (a `logLevel`
 * is ignored when a logger is given, and only changes which calls print). The last test pins that
 * down, so that it shows when a release stops doing it.
 */
import { oneAttemptClients } from '../../src/bot/slack-clients.js';
import { parseConfig } from '../../src/config.js';
import { createLogger, Redactor } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';

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

test('the Web clients made for work outside a request log through the bot’s logger, at its level', async () => {
  const seen: string[] = [];
  const logger = createLogger({ level: 'info', redactor: new Redactor(), sink: (line) => seen.push(line) });
  const calls: string[] = [];
  const debug = logger.debug;
  logger.debug = (...args: unknown[]) => {
    calls.push(String(args[0]));
    debug(...args);
  };
  const client = oneAttemptClients(
    config,
    {},
    { metrics: createMetrics(), logger, outbound: null },
  )('xoxb-2-x');
  const fetchOk = async () =>
    new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } });
  (client as unknown as { fetchFn: typeof fetch }).fetchFn = fetchOk as unknown as typeof fetch;
  await client.auth.test();
  // The Web client's debug calls reach our logger, which drops them: nothing is written.
  expect(calls.some((c) => c.startsWith('http request body'))).toBe(true);
  expect(seen).toEqual([]);
});

test('the Web client builds the JSON of a request body for its debug line whatever the level (library behaviour)', async () => {
  const logger = createLogger({ level: 'error', redactor: new Redactor(), sink: () => undefined });
  const client = oneAttemptClients(
    config,
    {},
    { metrics: createMetrics(), logger, outbound: null },
  )('xoxb-3-x');
  const fetchOk = async () =>
    new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } });
  (client as unknown as { fetchFn: typeof fetch }).fetchFn = fetchOk as unknown as typeof fetch;
  const { value, reads } = watched();
  await client.apiCall('auth.test', { watched: value });
  // Read by its redact() copy for the debug text (the form body sends it as JSON too: toJSON).
  expect(reads.count).toBeGreaterThan(1);
});
