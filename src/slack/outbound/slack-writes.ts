/**
 * Slack writes that are not idempotent (`chat.postMessage`, `chat.scheduleMessage`): a retry after
 * a timeout can post twice, so they are retried only after an answer that says nothing was done:
 * rate limited (429, after its Retry-After), a 5xx with no body, or a connection that was refused or
 * not made in time (nothing was sent). The Web client that runs them makes one attempt per call
 * (`retryConfig: { retries: 0 }`).
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Attempts per write, and the longest Retry-After honoured (longer: give up, the fallback takes over). */
export const WRITE_ATTEMPTS = 3;
const MAX_RETRY_AFTER_MS = 5_000;
/** No connection, so no request sent: refused, or not made within the connect timeout (undici's). */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT']);

/** Whether Slack's answer says the write was not done, and how long to wait before trying again. */
export function nothingWasDone(error: unknown): { wait: number } | null {
  const e = error as {
    code?: string;
    retryAfter?: number;
    statusCode?: number;
    body?: unknown;
    original?: { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  } | null;
  if (e?.code === 'slack_webapi_rate_limited_error') {
    const wait = (e.retryAfter ?? 1) * 1000;
    return wait <= MAX_RETRY_AFTER_MS ? { wait } : null;
  }
  if (e?.code === 'slack_webapi_http_error' && (e.statusCode ?? 0) >= 500 && !e.body) return { wait: 500 };
  if (e?.code !== 'slack_webapi_request_error') return null;
  // The Web client's fetch reports a refused connection as `TypeError: fetch failed` with the code on its cause.
  if (NOT_CONNECTED.has(String(e.original?.code ?? e.original?.cause?.code))) return { wait: 500 };
  // A client that waits out a 429 itself (a kept workspace's listener client) reports it as a request
  // error with this message; the others (src/slack/platform/token-client.ts) as rate-limited, above.
  if (String(e.original?.message).startsWith('A rate limit was exceeded')) return { wait: 0 };
  return null;
}

/**
 * Whether a failed write may have been done all the same: the request went out and no answer came
 * back (a timeout, a connection cut). Its outcome is unknown; it must not be written again.
 */
export function mayHaveBeenDone(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'slack_webapi_request_error' && !nothingWasDone(error);
}

export async function writeOnce<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const retry = attempt < WRITE_ATTEMPTS ? nothingWasDone(error) : null;
      if (!retry) throw error;
      await sleep(retry.wait);
    }
  }
}
