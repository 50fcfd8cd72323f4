/**
 * What the composition root (src/app.ts) takes and gives: the overrides tests and the benchmark pass
 * in, and the running bot. Apart from app.ts so that the parts in src/bot/ can name them without
 * importing the root that imports them.
 */
import type { App } from '@slack/bolt';
import type { FetchLike } from '../katapult/client.js';
import type { AppLogger, LogSink } from '../log.js';
import type { Metrics, MetricsDeps } from '../metrics.js';
import type { ReconcileSummary } from '../scheduling/reconcile.js';
import type { Store } from '../store/store.js';

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
