/**
 * Composition root: builds the logger, store, Katapult client and Bolt app from the config, and
 * wires the Slack listeners to them. Nothing else creates these objects. Each part is built in
 * src/bot/: infrastructure.ts (logger, key, metrics, store, Katapult, tokens), slack-clients.ts,
 * work.ts (workspace state, request log, workers, approvals, reconcile, intake), bolt-app.ts
 * (the Bolt app, its middleware and listeners) and lifecycle.ts (health, start, stop).
 */

import type { App } from '@slack/bolt';
import { createBoltApp, registerBotListeners } from './bot/bolt-app.js';
import { createInfrastructure } from './bot/infrastructure.js';
import { createHealthWiring, createLifecycle } from './bot/lifecycle.js';
import { createSlackClients } from './bot/slack-clients.js';
import { createWork, createWorkspaceState } from './bot/work.js';
import type { Config } from './config.js';
import type { FetchLike } from './katapult/client.js';
import { InFlight } from './lifecycle.js';
import type { AppLogger, LogSink } from './log.js';
import type { Metrics, MetricsDeps } from './metrics.js';
import type { ReconcileSummary } from './scheduling/reconcile.js';
import type { Store } from './store/store.js';

export { shutdownGraceMs, stopBudgetMs } from './bot/lifecycle.js';

export interface BotOverrides {
  /** Replaces node-fetch for Katapult calls. */
  fetch?: FetchLike;
  /** Receives every (already redacted) log line. */
  logSink?: LogSink;
  /** Wall clock in unix ms. */
  now?: () => number;
  /** Interface the HTTP receiver binds to (default: all). */
  host?: string;
  /** Requests accepted and not finished, for the pending-request gauges. */
  pendingRequests?: MetricsDeps['pendingRequests'];
  /** Per-attempt timeout of Slack Web API calls (default SLACK_WRITE_TIMEOUT_MS; tests shorten it). */
  slackWriteTimeoutMs?: number;
}

export interface Bot {
  app: App;
  /**
   * Starts receiving. `port`: the HTTP listener (Slack requests in HTTP mode; /healthz, /readyz and
   * /metrics in both modes); `metricsPort`: the METRICS_PORT listener, when set.
   */
  start(): Promise<{ port: number; metricsPort: number | null }>;
  /** Graceful: waits up to `graceMs` for in-flight schedules and posts. */
  stop(graceMs?: number): Promise<void>;
  /** The state store (exposed for operations and tests); failing calls count as store errors. */
  store: Store;
  /** This bot's metrics (its own registry). */
  metrics: Metrics;
  /** The bot's logger (redacting, JSON lines): the entry point logs through it too. */
  logger: AppLogger;
  /** Resolves when no schedule or post is under way (tests use it to let follow-up work settle). */
  idle(timeoutMs?: number): Promise<boolean>;
  /** Compares every upcoming deletion with Katapult now (it also runs every RECONCILE_INTERVAL_MINUTES). */
  reconcile(): Promise<ReconcileSummary>;
}

export async function createBot(config: Config, overrides: BotOverrides = {}): Promise<Bot> {
  // Logger, key, metrics, then the store (opened while the bot token is checked), Katapult, tokens.
  const infra = await createInfrastructure(config, overrides);
  const health = createHealthWiring(config, infra);
  const inflight = new InFlight();
  const app = createBoltApp(config, overrides, infra, health, inflight);
  const state = createWorkspaceState(config, infra);
  const clients = createSlackClients(config, overrides, app, infra);
  const work = createWork(config, infra, state, clients.clientFor, inflight, clients.clientWith);
  registerBotListeners(app, config, infra, state, work, clients);
  const lifecycle = createLifecycle(config, overrides, { app, infra, health, work, inflight });
  const { store, metrics, logger } = infra;
  return { app, store, metrics, logger, ...lifecycle };
}
