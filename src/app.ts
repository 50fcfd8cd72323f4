/**
 * Composition root: builds the logger, store, Katapult client and Bolt app from the config, and
 * wires the Slack listeners to them. Nothing else creates these objects.
 */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type AppOptions, ErrorCode } from '@slack/bolt';
import { createInfrastructure } from './bot/infrastructure.js';
import {
  CLIENTS_KEPT,
  createClientFor,
  listenerClientOptions,
  SLACK_WRITE_TIMEOUT_MS,
} from './bot/slack-clients.js';
import { createWork, createWorkspaceState } from './bot/work.js';
import type { Config } from './config.js';
import { within } from './deadline.js';
import { createHealth, listenHealth } from './health.js';
import { DEFAULT_RETRY_POLICY, type FetchLike } from './katapult/client.js';
import { InFlight } from './lifecycle.js';
import { type AppLogger, errorText, type LogLevel, type LogSink } from './log.js';
import type { Metrics, MetricsDeps } from './metrics.js';
import { decide } from './scheduling/approvals.js';
import type { ReconcileSummary } from './scheduling/reconcile.js';
import { registerListeners } from './slack/listeners/index.js';
import { checkApprover } from './slack/people/access.js';
import { boundClientPools } from './slack/platform/client-pools.js';
import type { BotIdentity } from './slack/platform/identity.js';
import { refuseFutureTimestamps } from './slack/platform/request-time.js';
import { createMetadataSigner } from './slack/platform/signed-metadata.js';
import {
  createRefusalLog,
  type InstalledWorkspace,
  workspaceGuard,
} from './slack/platform/workspace-guard.js';
import { createPolicyCatalogue } from './slack/policy-catalogue.js';
import { BOT_SCOPES } from './slack/scopes.js';
import { slackErrorCode } from './slack/workspace.js';
import { SCHEMA_VERSION_KEY } from './store/migrations.js';
import type { Store } from './store/store.js';

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

/** The longest a stop can take after SIGTERM: the drain, then the bounded store close. */
export function stopBudgetMs(katapultTimeoutMs: number): number {
  return shutdownGraceMs(katapultTimeoutMs) + STORE_CLOSE_TIMEOUT_MS;
}

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
  const { logger, now, key, metrics, store, identity, katapult, tokens, installations } = infra;
  // Single workspace: one bot token, checked above. OAuth: each installation's token, sealed in the store.
  let auth: Partial<AppOptions>;
  let installed: InstalledWorkspace | null = null;
  if (config.slack.oauth) {
    auth = {
      clientId: config.slack.oauth.clientId,
      clientSecret: config.slack.oauth.clientSecret,
      stateSecret: config.slack.oauth.stateSecret,
      scopes: [...BOT_SCOPES],
      ...(installations ? { installationStore: installations } : {}),
      installerOptions: { directInstall: false, stateVerification: true },
    };
  } else {
    const { botId, botUserId, workspace } = identity as BotIdentity;
    auth = { token: config.slack.botToken as string, botId, botUserId };
    installed = workspace;
  }

  let ready = false;
  let draining = false;
  const socketMode = config.slack.appToken !== null;
  // Socket Mode: whether the connection to Slack is up. Over HTTP Slack comes to us: always true.
  let slackConnected = true;
  const health = createHealth({
    metrics,
    ready: () => ready && slackConnected,
    draining: () => draining,
    ...(socketMode ? { slackConnected: () => slackConnected } : {}),
    probeStore: () => store.kv.get(SCHEMA_VERSION_KEY),
  });
  // With METRICS_PORT, /metrics is served there only (kept off the public Slack listener).
  const publicRoutes = {
    '/healthz': health['/healthz'],
    '/readyz': health['/readyz'],
    ...(config.http.metricsPort === null ? { '/metrics': health['/metrics'] } : {}),
  };
  const app = new App({
    ...auth,
    ...(config.slack.signingSecret ? { signingSecret: config.slack.signingSecret } : {}),
    ...(socketMode ? { socketMode: true, appToken: config.slack.appToken as string } : {}),
    logger,
    // Without this Bolt resets the shared logger to info.
    logLevel: config.logLevel as LogLevel,
    clientOptions: listenerClientOptions(config, overrides, metrics),
    ...(socketMode
      ? {}
      : {
          customRoutes: Object.entries(publicRoutes).map(([path, handler]) => ({
            path,
            method: ['GET'],
            handler,
          })),
        }),
  });

  const inflight = new InFlight();
  // Before every listener: requests from any workspace but ours are answered with nothing done.
  const refusedWorkspace = createRefusalLog(logger, now);
  app.use(workspaceGuard(installed, refusedWorkspace));
  // Bolt's own Web clients, one per workspace served: the most recent kept (src/slack/platform/client-pools.ts).
  app.use(boundClientPools(app, CLIENTS_KEPT));
  const state = createWorkspaceState(config, infra);
  const { access, freezes, upcoming, users, trail, record } = state;
  const clientFor = createClientFor(config, overrides, infra);
  const work = createWork(config, infra, state, clientFor, inflight);
  const { requests, dailyLimit, approvalDeps, approvalSettings, worker, intake } = work;

  registerListeners(app, {
    command: config.slack.command,
    tokens,
    katapult,
    access,
    upcoming,
    catalogue: createPolicyCatalogue({ tokens, katapult, logger, now }),
    reminderLeadSeconds: config.reminderLeadMinutes * 60,
    maxPerUserPerDay: config.maxPerUserPerDay,
    dailyLimit,
    async forgetWorkspace(workspaceId) {
      // Installations are keyed by the same workspace ID (enterprise for org-wide installs, else team).
      await installations?.deleteInstallation({
        teamId: workspaceId,
        enterpriseId: undefined,
        isEnterpriseInstall: false,
      });
      await tokens.remove(workspaceId);
      await access.remove(workspaceId);
      await freezes.remove(workspaceId);
      await upcoming.forget(workspaceId);
      await requests.forget(workspaceId);
      await dailyLimit.forget(workspaceId);
      await approvalDeps.holds.forget(workspaceId);
      await trail.forget(workspaceId);
    },
    users,
    claims: store,
    intake,
    freezes,
    approvals: {
      ...approvalSettings,
      decide: (input) =>
        decide(
          {
            ...approvalDeps,
            claims: store,
            mayDecide: async (r, userId) =>
              checkApprover(
                { users, access, logger, approvals: approvalSettings },
                await clientFor(r.workspace),
                { workspaceId: r.workspace, userId, requesterId: r.user },
              ),
            frozen: async (workspaceId) => (await freezes.get(workspaceId)).frozen,
            run: (id) => worker.kick(id),
          },
          input,
        ),
      async pending(workspaceId) {
        // A waiting record is sorted by its expiry (request-log.ts): from now on, only those are left.
        const records = await requests.since(workspaceId, now(), 500);
        return records.filter((r) => r.state === 'awaiting_approval' && (r.approval?.expiresAt ?? 0) > now());
      },
    },
    record,
    auditLog: trail,
    // Keyed by the encryption key when one is configured (else the signing secret), so every replica agrees.
    metadata: createMetadataSigner({
      current: config.encryptionKey ?? config.slack.signingSecret ?? key,
      old: config.oldEncryptionKeys,
    }),
    logger,
    metrics,
    now,
  });
  // Every listener's work, including what runs after its ack, is tracked: a shutdown waits for it.
  app.use(async ({ next }) => {
    await inflight.run(next);
  });
  app.error(async (error) => {
    // OAuth: Bolt found no stored installation for the workspace (nothing was done).
    if (error.code === ErrorCode.AuthorizationError) {
      const teamId = /no installation for (\w+)/.exec(error.message)?.[1];
      return refusedWorkspace('no_installation', teamId ? { teamId } : {});
    }
    logger.event('error', 'listener_error', { error: error.message, code: error.code });
  });

  const listeners: { close(): Promise<void> }[] = [];
  const listenMetrics = async (): Promise<number | null> => {
    if (config.http.metricsPort === null) return null;
    const extra = await listenHealth(
      { '/metrics': health['/metrics'], '/readyz': health['/readyz'] },
      config.http.metricsPort,
      overrides.host,
    );
    listeners.push(extra);
    return extra.port;
  };

  return {
    app,
    store,
    metrics,
    logger,
    async start() {
      if (socketMode) {
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
        watchSocketConnection(app, (up) => {
          if (up === slackConnected) return;
          slackConnected = up;
          metrics.socketModeConnected(up);
          if (!draining)
            logger.event(up ? 'info' : 'warn', up ? 'slack_reconnected' : 'slack_connection_lost', {});
        });
        metrics.socketModeConnected(true);
        await work.start();
        // No Slack traffic comes over HTTP in Socket Mode, but probes and scrapes do.
        const server = await listenHealth(publicRoutes, config.http.port, overrides.host);
        listeners.push(server);
        const metricsPort = await listenMetrics();
        ready = true;
        logger.event('info', 'started', {
          mode: 'socket',
          port: server.port,
          metrics_port: metricsPort,
          command: config.slack.command,
        });
        return { port: server.port, metricsPort };
      }
      const server = (await app.start({
        port: config.http.port,
        ...(overrides.host ? { host: overrides.host } : {}),
      })) as Server;
      refuseFutureTimestamps(server, now);
      const port = (server.address() as AddressInfo).port;
      await work.start();
      const metricsPort = await listenMetrics();
      ready = true;
      logger.event('info', 'started', {
        mode: 'http',
        port,
        metrics_port: metricsPort,
        command: config.slack.command,
      });
      return { port, metricsPort };
    },
    idle: (timeoutMs = 10_000) => inflight.drain(timeoutMs),
    reconcile: () => work.reconciler.sweep(),
    async stop(graceMs = shutdownGraceMs(config.katapult.timeoutMs)) {
      // /readyz answers 503 from now on, so load balancers stop sending, and no new record is started
      // here. Socket Mode disconnects at once; over HTTP the listener stays open while work under way
      // finishes (bounded), so requests routed here before the balancer noticed are still answered
      // (recorded, and taken over by another replica once their lease expires), then it closes.
      // The store closes last.
      ready = false;
      draining = true;
      work.stop();
      if (socketMode) await app.stop().catch(() => undefined);
      const pending = inflight.size;
      const drained = await inflight.drain(graceMs);
      if (!socketMode) await app.stop().catch(() => undefined);
      logger.event(drained ? 'info' : 'error', 'stopped', { in_flight_at_stop: pending, drained });
      await Promise.all(listeners.splice(0).map((l) => l.close()));
      // A store that does not answer (a partition, a hung database) would hold its close for ever
      // (the pool waits for its busy clients, Redis for QUIT's reply): the process would outlive the
      // orchestrator's grace and be killed. Nothing is left to write, so the wait is bounded.
      const closed = await within(
        store.close().then(
          () => true,
          () => true,
        ),
        STORE_CLOSE_TIMEOUT_MS,
        false,
      );
      if (!closed) logger.event('warn', 'store_close_timeout', { waited_ms: STORE_CLOSE_TIMEOUT_MS });
    },
  };
}
