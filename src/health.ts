/**
 * `GET /healthz` (the process is up; the body says how the store is), `GET /readyz` (200 once
 * started, 503 while draining after SIGTERM, and in Socket Mode while the connection to Slack is
 * down: such a replica receives nothing) and `GET /metrics` (Prometheus text). The same
 * handlers serve Bolt's custom routes in HTTP mode and a small server of their own in Socket Mode
 * or on METRICS_PORT. A store outage shows in the bodies and the metrics but never makes the bot
 * unready: every replica would be pulled at once, and Slack would get timeouts instead of the
 * bot's own "storage is down" message.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { within } from './deadline.js';
import type { Metrics } from './metrics.js';

export type Route = '/healthz' | '/readyz' | '/metrics';
export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export type StoreState = 'ok' | 'unavailable';

export interface HealthDeps {
  metrics: Metrics;
  /** started and not draining (in Socket Mode: and connected to Slack) */
  ready(): boolean;
  /** Socket Mode only: whether the connection to Slack is up (shown in the /readyz body). */
  slackConnected?: () => boolean;
  draining(): boolean;
  /** Reads one record; rejects or times out when the store cannot answer. */
  probeStore(): Promise<unknown>;
  now?: () => number;
}

const PROBE_TIMEOUT_MS = 1000;
const PROBE_CACHE_MS = 5000;

export function createHealth(deps: HealthDeps): Record<Route, Handler> {
  const now = deps.now ?? Date.now;
  let last: { at: number; state: Promise<StoreState> } | null = null;
  // Probes are cached briefly: probes from several orchestrators must not become store load.
  const storeState = (): Promise<StoreState> => {
    if (last && now() - last.at < PROBE_CACHE_MS) return last.state;
    const state: Promise<StoreState> = within(
      deps.probeStore().then(() => 'ok' as const),
      PROBE_TIMEOUT_MS,
      'unavailable' as const,
    ).catch(() => 'unavailable' as const);
    last = { at: now(), state };
    return state;
  };
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse) => () => {
    if (!res.headersSent) json(res, 500, { ok: false });
  };
  return {
    '/healthz': (_req, res) => {
      storeState().then((store) => json(res, 200, { ok: true, ready: deps.ready(), store }), fail(res));
    },
    '/readyz': (_req, res) => {
      storeState().then((store) => {
        const ready = deps.ready();
        const slack = deps.slackConnected
          ? { slack: deps.slackConnected() ? 'connected' : 'disconnected' }
          : {};
        json(res, ready ? 200 : 503, { ready, draining: deps.draining(), store, ...slack });
      }, fail(res));
    },
    '/metrics': (_req, res) => {
      deps.metrics.render().then(({ contentType, body }) => {
        res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
        res.end(body);
      }, fail(res));
    },
  };
}

/** A plain HTTP server answering GET on the given routes (404 otherwise). Resolves once listening. */
export async function listenHealth(
  handlers: Partial<Record<Route, Handler>>,
  port: number,
  host?: string,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as Route;
    const handler = handlers[path];
    if (!handler || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(handler ? 405 : 404, { 'Content-Type': 'text/plain' });
      res.end(handler ? 'method not allowed\n' : 'not found\n');
      return;
    }
    handler(req, res);
  });
  // Probes and scrapes hold no long connections worth waiting for at shutdown.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
