/**
 * Non-idempotent Slack writes, with the real Web client's errors: a timeout may have posted (never
 * retried, outcome unknown); a refused connection did nothing (retried).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webApi } from '@slack/bolt';
import {
  mayHaveBeenDone,
  nothingWasDone,
  WRITE_ATTEMPTS,
  writeOnce,
} from '../../src/slack/outbound/slack-writes.js';

const client = (port: number) =>
  new webApi.WebClient('xoxb-unit-test', {
    slackApiUrl: `http://127.0.0.1:${port}/api/`,
    retryConfig: { retries: 0 },
    timeout: 200,
    logLevel: webApi.LogLevel.ERROR,
  });

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );

test('a write that times out is sent once and its outcome is unknown', async () => {
  let hits = 0;
  let arrived: () => void = () => undefined;
  const first = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const silent = createServer(() => {
    hits++; // never answers
    arrived();
  });
  const port = await listen(silent);
  try {
    const error = await writeOnce(() => client(port).chat.postMessage({ channel: 'C1', text: 'x' })).catch(
      (e: unknown) => e,
    );
    expect(nothingWasDone(error)).toBeNull();
    expect(mayHaveBeenDone(error)).toBe(true);
    // writeOnce has given up: any second attempt would have been made, and seen, before that.
    await first;
    expect(hits).toBe(1);
  } finally {
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
  }
});

/**
 * How @slack/web-api 8 reports a refused connection under plain Node (seen with a closed loopback
 * port): a request error whose `original` is `TypeError: fetch failed` with the code on its `cause`.
 * Built by hand because under Jest's VM the client cannot tell the TypeError is an Error and drops the cause.
 */
const refused = () =>
  Object.assign(new Error('A request error occurred: fetch failed'), {
    code: 'slack_webapi_request_error',
    original: Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }),
  });

test('a refused connection did nothing: retried, WRITE_ATTEMPTS times in all', async () => {
  expect(nothingWasDone(refused())).toEqual({ wait: 500 });
  expect(mayHaveBeenDone(refused())).toBe(false);
  let attempts = 0;
  await expect(
    writeOnce(() => {
      attempts++;
      return Promise.reject(refused());
    }),
  ).rejects.toMatchObject({ code: 'slack_webapi_request_error' });
  expect(attempts).toBe(WRITE_ATTEMPTS);
});

test('a connection not made within the connect timeout (undici’s) sent nothing: retried too', async () => {
  const { errors } = await import('undici');
  const notConnected = Object.assign(new Error('A request error occurred: fetch failed'), {
    code: 'slack_webapi_request_error',
    original: Object.assign(new TypeError('fetch failed'), { cause: new errors.ConnectTimeoutError() }),
  });
  expect(nothingWasDone(notConnected)).toEqual({ wait: 500 });
  expect(mayHaveBeenDone(notConnected)).toBe(false);
  // The headers not arriving in time is another matter: the request went out.
  const noAnswer = Object.assign(new Error('A request error occurred: fetch failed'), {
    code: 'slack_webapi_request_error',
    original: Object.assign(new TypeError('fetch failed'), { cause: new errors.HeadersTimeoutError() }),
  });
  expect(mayHaveBeenDone(noAnswer)).toBe(true);
});

test('an answer from Slack (not_in_channel) is not unknown and not retried', async () => {
  const answered = Object.assign(new Error('An API error occurred: not_in_channel'), {
    code: 'slack_webapi_platform_error',
    data: { ok: false, error: 'not_in_channel' },
  });
  expect(nothingWasDone(answered)).toBeNull();
  expect(mayHaveBeenDone(answered)).toBe(false);
});
