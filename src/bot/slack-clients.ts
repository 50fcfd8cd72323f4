/**
 * The bot's Slack Web clients: `clientFor`, for work that runs outside a Slack request (one attempt
 * per call), and the options of the clients Bolt makes for the listeners (a few bounded retries).
 */

import type * as Undici from 'undici';
import type { Config } from '../config.js';
import { loadLater } from '../load-later.js';
import { countingSlackFetch } from '../metrics.js';
import type { Outbound } from '../net/proxy.js';
import { type App, webApi } from '../slack/bolt.js';
import { mayHaveBeenDone } from '../slack/outbound/slack-writes.js';
import { dropClientPool } from '../slack/platform/client-pools.js';
import { installedBotToken } from '../slack/platform/installation-store.js';
import { type TokenClient, tokenClients } from '../slack/platform/token-client.js';
import { createWorkerClients, type WorkerClients } from '../slack/platform/worker-clients.js';
import type { Infrastructure } from './infrastructure.js';
import type { BotOverrides } from './types.js';

/** Per attempt of a Slack Web API call made from a request record (and of the listeners' client). */
export const SLACK_WRITE_TIMEOUT_MS = 10_000;
/**
 * Retries of the listeners' Web client. The Web client hands these options to p-retry, whose
 * `onFailedAttempt` (not in the Web client's type) stops the retries by throwing.
 */
const LISTENER_RETRIES: webApi.RetryOptions & { onFailedAttempt(error: unknown): void } = {
  retries: 3,
  factor: 2,
  minTimeout: 500,
  maxTimeout: 4000,
  onFailedAttempt(error) {
    if (mayHaveBeenDone(error)) throw error;
  },
};
/**
 * Workspaces whose Web clients are kept between requests, by Bolt and by `clientFor`. A client costs
 * about 26 KB to keep and 0.2-0.3 ms of CPU to make (no call to Slack): with traffic spread over
 * thousands of workspaces few are reused, so only the most recent are kept.
 */
export const CLIENTS_KEPT = 100;

const undici = loadLater<typeof Undici>('undici');

/** undici's connection pools for Slack, by timeout: one for every Web client of the process. */
const slackAgents = new Map<number, Undici.Dispatcher>();

/**
 * How every Slack Web client calls Slack: its `fetch`, counted, and its per-attempt `timeout`. The
 * `fetch` is the outbound proxy's, or else undici's own (the package Socket Mode and the proxy load
 * anyway) rather than Node's global one, whose bundled copy cost about 30 µs more CPU per call (5-7%
 * of a command, 5% of a submission, in the benchmark's A/B runs). Without a proxy the timeout is
 * kept by undici's dispatcher (a quarter of `timeoutMs` to connect, the rest for the headers, and
 * as much for each pause in the body), whose coarse timers cost next to nothing; the Web client's
 * own `timeout` makes an `AbortSignal.timeout` per call, whose timer and listeners cost about 25 µs
 * of CPU per call, and which fires 10 s later unless collected first. Through the proxy, the Web
 * client keeps the timeout itself, as before. Either way a call that gets no answer fails as a
 * request error (slack-writes.ts: it may have been done; never sent again).
 */
export function slackHttp(
  outbound: Outbound | null,
  metrics: Infrastructure['metrics'],
  timeoutMs: number,
): Pick<webApi.WebClientOptions, 'fetch' | 'timeout'> {
  if (outbound) return { timeout: timeoutMs, fetch: countingSlackFetch(metrics, outbound.fetch) };
  // Connecting and waiting for the answer share the attempt's time, so an attempt stays within it
  // (shutdownGraceMs counts on that); a connection not made in its quarter sent nothing, and a write
  // tries again (slack-writes.ts).
  const connectMs = Math.ceil(timeoutMs / 4);
  const timed: typeof globalThis.fetch = (input, init) => {
    let dispatcher = slackAgents.get(timeoutMs);
    if (!dispatcher) {
      dispatcher = new (undici().Agent)({
        connect: { timeout: connectMs },
        headersTimeout: timeoutMs - connectMs,
        bodyTimeout: timeoutMs - connectMs,
      });
      slackAgents.set(timeoutMs, dispatcher);
    }
    return undici().fetch(input as Parameters<typeof Undici.fetch>[0], {
      ...(init as Parameters<typeof Undici.fetch>[1]),
      dispatcher,
    }) as unknown as Promise<Response>;
  };
  return { timeout: 0, fetch: countingSlackFetch(metrics, timed) };
}

/** A workspace's Web client for work outside a Slack request. */
export type ClientFor = (workspaceId: string) => Promise<webApi.WebClient>;

/**
 * Web clients for work that runs outside a Slack request: one attempt per call (slack-writes.ts).
 * Each follows the workspace's installation (src/slack/platform/worker-clients.ts): a reinstall,
 * uninstall or revoked token is picked up at the next use, and a stored installation drops the
 * workspace's kept clients (Bolt's pool too) at once.
 */
export function createSlackClients(
  config: Config,
  overrides: BotOverrides,
  app: App,
  {
    installations,
    installationHooks,
    metrics,
    logger,
    outbound,
  }: Pick<Infrastructure, 'installations' | 'installationHooks' | 'metrics' | 'logger' | 'outbound'>,
): WorkerClients<webApi.WebClient> & { clientWith(token: string): webApi.WebClient } {
  const clientWith = oneAttemptClients(config, overrides, { metrics, logger, outbound });
  const clients = createWorkerClients({
    tokenFor: async (id) => (installations ? installedBotToken(installations, id) : config.slack.botToken),
    makeClient: clientWith,
    max: CLIENTS_KEPT,
    onForget: (id) => dropClientPool(app, id),
  });
  installationHooks.stored = (id) => clients.forget(id);
  return Object.assign(clients, { clientWith });
}

/**
 * A Web client for a token, one attempt per call: the workspace's (kept by `clientFor`) or a
 * workflow step's execution token (made for each use, never kept: src/slack/ports/workflow-step.ts).
 */
export function oneAttemptClients(
  config: Config,
  overrides: BotOverrides,
  { metrics, logger, outbound }: Pick<Infrastructure, 'metrics' | 'logger' | 'outbound'>,
): (token: string) => webApi.WebClient {
  return sharedClients(
    {
      ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
      retryConfig: { retries: 0 },
      ...slackHttp(outbound, metrics, overrides.slackWriteTimeoutMs ?? SLACK_WRITE_TIMEOUT_MS),
      logger,
    },
    0,
  );
}

/**
 * Clients for any token over one Web client made with `options` (src/slack/platform/token-client.ts):
 * a 429 fails only the call it answered, which is sent again after its Retry-After at most
 * `rateLimitRetries` times. Its queue is not bounded: each caller bounds its own calls.
 */
export function sharedClients(options: webApi.WebClientOptions, rateLimitRetries: number): TokenClient {
  const shared = new webApi.WebClient(undefined, {
    ...options,
    rejectRateLimitedCalls: true,
    maxRequestConcurrency: Number.POSITIVE_INFINITY,
  });
  return tokenClients(shared, { rateLimitRetries });
}

/** Bolt's clients for workspaces it keeps none for (src/slack/platform/client-pools.ts). */
export function coldListenerClients(options: webApi.WebClientOptions): TokenClient {
  return sharedClients(options, LISTENER_RETRIES.retries ?? 0);
}

/**
 * The options of every Web client Bolt makes for the listeners; Bolt gives them to OAuth's installer
 * (`oauth.v2.access`) and to Socket Mode's `apps.connections.open` too, and `respond()` posts to a
 * `response_url` with their `fetch`.
 */
export function listenerClientOptions(
  config: Config,
  overrides: BotOverrides,
  { metrics, outbound }: Pick<Infrastructure, 'metrics' | 'outbound'>,
): webApi.WebClientOptions {
  return {
    ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
    // Bounded: a post that cannot get through in ~10 s goes to the fallback instead of waiting 30 min.
    // A call that got no answer (a timeout) may have been done: it is never sent again, so a slow
    // Slack gives one post, not four (slack-writes.ts).
    retryConfig: LISTENER_RETRIES,
    // Per attempt: a connection that never answers must not hold a post (and its fallback) for ever.
    // Counts failed Web API calls by method and error, for every client Bolt makes; through the
    // outbound proxy when one is set (src/net/proxy.ts).
    ...slackHttp(outbound, metrics, overrides.slackWriteTimeoutMs ?? SLACK_WRITE_TIMEOUT_MS),
  };
}
