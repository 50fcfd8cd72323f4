/**
 * The one place where the outbound proxy is built (from `config.proxy`, src/config.ts): every call
 * the bot makes goes out through what this returns. Slack's Web API (Bolt's clients, the worker
 * clients, `auth.test` at start, OAuth's `oauth.v2.access`, `respond()` to a `response_url`) and
 * Katapult take `fetch`; Socket Mode's WebSocket takes `dispatcher` (its `apps.connections.open`
 * goes through the Web client's `fetch`).
 *
 * Per URL: https:// and wss:// through HTTPS_PROXY, http:// and ws:// through HTTP_PROXY (one is not
 * used for the other's URLs), hosts on the NO_PROXY list (no-proxy.ts) directly. The tunnels
 * (CONNECT) and the proxy's `Proxy-Authorization` from the URL's user and password are undici's
 * `ProxyAgent`; undici is the HTTP client Slack's SDK uses already, loaded here only when a proxy is set.
 *
 * Without a proxy `createOutbound` returns null and the callers keep their defaults (Node's fetch
 * for Slack, node-fetch for Katapult): nothing is loaded and nothing changes.
 */
import type { Dispatcher } from 'undici';
import type { ProxySettings } from '../config.js';
import { type Bypass, noProxyMatcher } from './no-proxy.js';

type FetchFunction = typeof globalThis.fetch;

export interface Outbound {
  /** `fetch` through the proxy that applies to each URL (undici's fetch). */
  readonly fetch: FetchFunction;
  /** The same choice per connection, for Socket Mode's WebSocket. */
  readonly dispatcher: Dispatcher;
  /** The proxy a URL goes through (its URL as configured), or null when the URL goes out directly. */
  proxyFor(url: string | URL): string | null;
  /** The settings as a log line may show them: the proxies without user name and password. */
  describe(): { https_proxy: string | null; http_proxy: string | null; no_proxy: string };
  /** The proxies' passwords, for the log's redactor. */
  readonly secrets: readonly string[];
  /** Drops the connections kept open, at the bot's stop (after the work in flight, so at once). */
  close(): Promise<void>;
}

/** A proxy URL with its user name and password replaced by `[redacted]`, for logs and errors. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return parsed.href;
    parsed.username = '';
    parsed.password = '';
    return parsed.href.replace('://', '://[redacted]@');
  } catch {
    // Not a URL: anything before an @ could be credentials.
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^@/]*@/i, '$1[redacted]@');
  }
}

/** Which proxy, if any, a URL goes through, by its scheme and the NO_PROXY list. */
export function proxyChoice(settings: ProxySettings): (url: URL) => string | null {
  const bypass: Bypass = noProxyMatcher(settings.noProxy);
  return (url) => {
    const secure = url.protocol === 'https:' || url.protocol === 'wss:';
    const proxy = secure
      ? settings.https
      : url.protocol === 'http:' || url.protocol === 'ws:'
        ? settings.http
        : null;
    if (proxy === null) return null;
    const port = Number(url.port) || (secure ? 443 : 80);
    return bypass(url.hostname, port) ? null : proxy;
  };
}

/**
 * undici reports a request that could not be made as `TypeError: fetch failed` with what happened
 * two causes down ("connect ECONNREFUSED …", "Proxy response (407) !== 200 when HTTP Tunneling"). The
 * error thrown instead says it, and by which way (the proxy without its credentials, or directly),
 * and carries the code (`ECONNREFUSED`, `PROXY_407`, …) that the Web client's and Katapult's error
 * handling read. Timeouts and aborts pass unchanged.
 */
function failure(error: unknown, proxy: string | null): unknown {
  // By shape, not instanceof: undici's errors may come from another realm (a test runner's vm).
  const isError = (value: unknown): value is Error & { code?: unknown } =>
    typeof value === 'object' && value !== null && typeof (value as Error).message === 'string';
  if (!isError(error) || error.name !== 'TypeError' || !isError(error.cause)) return error;
  let root = error.cause;
  while (isError(root.cause)) root = root.cause;
  const status = /^Proxy response \((\d{3})\)/.exec(root.message)?.[1];
  const code = status ? `PROXY_${status}` : typeof root.code === 'string' ? root.code : undefined;
  const way = proxy === null ? 'directly' : `through the proxy ${withoutCredentials(proxy)}`;
  const told = new TypeError(`fetch failed ${way}: ${root.message}`, { cause: error.cause });
  return code === undefined ? told : Object.assign(told, { code });
}

function password(url: string | null): string[] {
  const secret = url === null ? '' : decodeURIComponent(new URL(url).password);
  return secret === '' ? [] : [secret];
}

/** The outbound proxy for `settings`, or null (no proxy set): then every call goes out as before. */
export async function createOutbound(settings: ProxySettings | null): Promise<Outbound | null> {
  if (settings === null) return null;
  const undici = await import('undici');
  const choose = proxyChoice(settings);
  const direct = new undici.Agent();
  const agents = new Map<string, Dispatcher>();
  for (const uri of [settings.https, settings.http]) {
    if (uri !== null && !agents.has(uri)) agents.set(uri, new undici.ProxyAgent({ uri }));
  }
  const pick = (origin: URL): Dispatcher => {
    const proxy = choose(origin);
    return (proxy === null ? undefined : agents.get(proxy)) ?? direct;
  };

  /** Hands each request to the proxy's agent or the direct one, by its origin (redirects included). */
  class ProxyChoice extends undici.Dispatcher {
    override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      return pick(new URL(String(options.origin))).dispatch(options, handler);
    }
  }
  const dispatcher = new ProxyChoice();
  const fetch = (async (input, init) => {
    try {
      return await undici.fetch(input as Parameters<typeof undici.fetch>[0], {
        ...(init as Parameters<typeof undici.fetch>[1]),
        dispatcher,
      });
    } catch (error) {
      const url = typeof input === 'object' && 'url' in input ? input.url : String(input);
      throw failure(error, URL.canParse(url) ? choose(new URL(url)) : null);
    }
  }) as FetchFunction;

  return {
    fetch,
    dispatcher,
    proxyFor: (url) => choose(new URL(String(url))),
    describe: () => ({
      https_proxy: settings.https === null ? null : withoutCredentials(settings.https),
      http_proxy: settings.http === null ? null : withoutCredentials(settings.http),
      no_proxy: settings.noProxy,
    }),
    secrets: [...password(settings.https), ...password(settings.http)],
    async close() {
      await Promise.all([direct, ...agents.values()].map((agent) => agent.destroy().catch(() => undefined)));
    },
  };
}
