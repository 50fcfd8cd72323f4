/**
 * The bot's life: its health routes and the state they report, the start (over HTTP or in Socket
 * Mode), and the stop that drains the work under way before the store closes.
 */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '@slack/bolt';
import type { Config } from '../config.js';
import { within } from '../deadline.js';
import { createHealth, type Handler, listenHealth, type Route } from '../health.js';
import { DEFAULT_RETRY_POLICY } from '../katapult/client.js';
import type { InFlight } from '../lifecycle.js';
import { errorText } from '../log.js';
import { refuseFutureTimestamps } from '../slack/platform/request-time.js';
import { slackErrorCode } from '../slack/workspace.js';
import { SCHEMA_VERSION_KEY } from '../store/migrations.js';
import type { Infrastructure } from './infrastructure.js';
import { SLACK_WRITE_TIMEOUT_MS } from './slack-clients.js';
import type { Bot, BotOverrides } from './types.js';
import type { Work } from './work.js';

/** How long a stop waits for the store to close (after the drain, inside the orchestrator's margin). */
const STORE_CLOSE_TIMEOUT_MS = 3_000;
/** How long a Socket Mode start waits for its connection to Slack. */
const SOCKET_CONNECT_TIMEOUT_MS = 30_000;

/**
 * How long a shutdown waits for records under way: one Katapult call at its worst (retry budget
 * plus one timeout), then the outcome post and its fallback (each up to WRITE_ATTEMPTS attempts
 * when Slack says nothing was done, but one attempt after a timeout) and a margin. What does not
 * finish is not lost: the record's lease expires and another replica, or this one after its
 * restart, finishes it.
 */
export function shutdownGraceMs(katapultTimeoutMs: number): number {
  return DEFAULT_RETRY_POLICY.maxTotalMs + katapultTimeoutMs + 2 * SLACK_WRITE_TIMEOUT_MS + 5_000;
}

/** The longest a stop can take after SIGTERM: the drain, then the bounded store close. */
export function stopBudgetMs(katapultTimeoutMs: number): number {
  return shutdownGraceMs(katapultTimeoutMs) + STORE_CLOSE_TIMEOUT_MS;
}

/** What the health routes report, set by the start and the stop. */
export interface RunState {
  readonly socketMode: boolean;
  ready: boolean;
  draining: boolean;
  /** Socket Mode: whether the connection to Slack is up. Over HTTP Slack comes to us: always true. */
  slackConnected: boolean;
}

export interface HealthWiring {
  state: RunState;
  routes: Record<Route, Handler>;
  /** The routes served on the public listener (Bolt's in HTTP mode, a small one in Socket Mode). */
  publicRoutes: Partial<Record<Route, Handler>>;
}

export function createHealthWiring(
  config: Config,
  { metrics, store }: Pick<Infrastructure, 'metrics' | 'store'>,
): HealthWiring {
  const state: RunState = {
    socketMode: config.slack.appToken !== null,
    ready: false,
    draining: false,
    slackConnected: true,
  };
  const routes = createHealth({
    metrics,
    ready: () => state.ready && state.slackConnected,
    draining: () => state.draining,
    ...(state.socketMode ? { slackConnected: () => state.slackConnected } : {}),
    probeStore: () => store.kv.get(SCHEMA_VERSION_KEY),
  });
  // With METRICS_PORT, /metrics is served there only (kept off the public Slack listener).
  const publicRoutes = {
    '/healthz': routes['/healthz'],
    '/readyz': routes['/readyz'],
    ...(config.http.metricsPort === null ? { '/metrics': routes['/metrics'] } : {}),
  };
  return { state, routes, publicRoutes };
}

export interface LifecycleParts {
  app: App;
  infra: Pick<Infrastructure, 'store' | 'metrics' | 'logger' | 'now' | 'outbound'>;
  health: HealthWiring;
  work: Work;
  inflight: InFlight;
}

/** The Bot's start, stop, idle and reconcile. */
export function createLifecycle(
  config: Config,
  overrides: BotOverrides,
  parts: LifecycleParts,
): Pick<Bot, 'start' | 'stop' | 'idle' | 'reconcile'> {
  const { health, work, inflight } = parts;
  const { logger } = parts.infra;
  const listeners: { close(): Promise<void> }[] = [];
  const listenMetrics = async (): Promise<number | null> => {
    if (config.http.metricsPort === null) return null;
    const extra = await listenHealth(
      { '/metrics': health.routes['/metrics'], '/readyz': health.routes['/readyz'] },
      config.http.metricsPort,
      overrides.host,
    );
    listeners.push(extra);
    return extra.port;
  };
  return {
    async start() {
      const port = health.state.socketMode
        ? await startSocketMode(config, overrides, parts, listeners)
        : await startHttp(config, overrides, parts);
      const metricsPort = await listenMetrics();
      health.state.ready = true;
      logger.event('info', 'started', {
        mode: health.state.socketMode ? 'socket' : 'http',
        port,
        metrics_port: metricsPort,
        command: config.slack.command,
      });
      return { port, metricsPort };
    },
    idle: (timeoutMs = 10_000) => inflight.drain(timeoutMs),
    reconcile: () => work.reconciler.sweep(),
    stop: (graceMs = shutdownGraceMs(config.katapult.timeoutMs)) => stop(parts, listeners, graceMs),
  };
}

/** Connects to Slack, starts the work, then opens the health listener; resolves with its port. */
async function startSocketMode(
  config: Config,
  overrides: BotOverrides,
  { app, infra, health, work }: LifecycleParts,
  listeners: { close(): Promise<void> }[],
): Promise<number> {
  // Bolt retries some failures forever; a start that cannot connect says why, naming the token.
  try {
    const connected = await within(
      app.start().then(() => true),
      SOCKET_CONNECT_TIMEOUT_MS,
      false,
    );
    if (!connected) throw new Error('no connection within 30 s');
  } catch (error) {
    await app.stop().catch(() => undefined);
    const code = slackErrorCode(error);
    throw new Error(
      code
        ? `Slack refused SLACK_APP_TOKEN (${code}); generate an app-level token with connections:write under Basic Information`
        : `could not connect to Slack in Socket Mode (${errorText(error)})`,
    );
  }
  const { state } = health;
  watchSocketConnection(app, (up) => {
    if (up === state.slackConnected) return;
    state.slackConnected = up;
    infra.metrics.socketModeConnected(up);
    if (!state.draining)
      infra.logger.event(up ? 'info' : 'warn', up ? 'slack_reconnected' : 'slack_connection_lost', {});
  });
  infra.metrics.socketModeConnected(true);
  await work.start();
  // No Slack traffic comes over HTTP in Socket Mode, but probes and scrapes do.
  const server = await listenHealth(health.publicRoutes, config.http.port, overrides.host);
  listeners.push(server);
  return server.port;
}

/** Starts Bolt's HTTP listener (Slack requests and the health routes), then the work; its port. */
async function startHttp(
  config: Config,
  overrides: BotOverrides,
  { app, infra, work }: LifecycleParts,
): Promise<number> {
  const server = (await app.start({
    port: config.http.port,
    ...(overrides.host ? { host: overrides.host } : {}),
  })) as Server;
  refuseFutureTimestamps(server, infra.now);
  const port = (server.address() as AddressInfo).port;
  await work.start();
  return port;
}

async function stop(
  { app, infra, health, work, inflight }: LifecycleParts,
  listeners: { close(): Promise<void> }[],
  graceMs: number,
): Promise<void> {
  const { state } = health;
  // /readyz answers 503 from now on, so load balancers stop sending, and no new record is started
  // here. Socket Mode disconnects at once; over HTTP the listener stays open while work under way
  // finishes (bounded), so requests routed here before the balancer noticed are still answered
  // (recorded, and taken over by another replica once their lease expires), then it closes.
  // The store closes last.
  state.ready = false;
  state.draining = true;
  work.stop();
  if (state.socketMode) await app.stop().catch(() => undefined);
  const pending = inflight.size;
  const drained = await inflight.drain(graceMs);
  if (!state.socketMode) await app.stop().catch(() => undefined);
  infra.logger.event(drained ? 'info' : 'error', 'stopped', { in_flight_at_stop: pending, drained });
  await Promise.all(listeners.splice(0).map((l) => l.close()));
  await infra.outbound?.close();
  // A store that does not answer (a partition, a hung database) would hold its close for ever
  // (the pool waits for its busy clients, Redis for QUIT's reply): the process would outlive the
  // orchestrator's grace and be killed. Nothing is left to write, so the wait is bounded.
  const closed = await within(
    infra.store.close().then(
      () => true,
      () => true,
    ),
    STORE_CLOSE_TIMEOUT_MS,
    false,
  );
  if (!closed) infra.logger.event('warn', 'store_close_timeout', { waited_ms: STORE_CLOSE_TIMEOUT_MS });
}

/**
 * Calls `changed` when the Socket Mode connection to Slack drops (`close`, `disconnected`) or comes
 * back (`connected`). Bolt keeps its SocketModeReceiver (whose `client` is public) in a private
 * field: if a Bolt release moves it, nothing is watched and readiness stays as at start.
 */
function watchSocketConnection(app: App, changed: (up: boolean) => void): void {
  type Emitter = { on(event: string, listener: () => void): unknown };
  const client = (app as unknown as { receiver?: { client?: Partial<Emitter> } }).receiver?.client;
  if (typeof client?.on !== 'function') return;
  client.on('connected', () => changed(true));
  client.on('close', () => changed(false));
  client.on('disconnected', () => changed(false));
}
