/**
 * Composition root: builds the logger, store, Katapult client and Bolt app from the config, and
 * wires the Slack listeners to them. Nothing else creates these objects.
 */

import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { App, type AppOptions, ErrorCode, webApi } from '@slack/bolt';
import { createAccessPolicies } from './access/access-policy.js';
import { createFreezes } from './access/freeze.js';
import { createAuditRecorder } from './audit/record.js';
import { createAuditTrail } from './audit/trail.js';
import type { Config } from './config.js';
import { within } from './deadline.js';
import { createHealth, listenHealth } from './health.js';
import { DEFAULT_RETRY_POLICY, type FetchLike, KatapultClient } from './katapult/client.js';
import type { KatapultOperation } from './katapult/routes.js';
import { InFlight } from './lifecycle.js';
import { type AppLogger, createLogger, errorText, type LogLevel, type LogSink, Redactor } from './log.js';
import { explain } from './messages/explain.js';
import {
  countingSlackFetch,
  countStoreFailures,
  createMetrics,
  instrumentKatapult,
  type Metrics,
  type MetricsDeps,
} from './metrics.js';
import { type ApprovalDeps, createApprovalHolds, createApprovalSweeper } from './scheduling/approvals.js';
import { createDailyLimit } from './scheduling/daily-limit.js';
import { createRequestIntake } from './scheduling/intake.js';
import { createLocks } from './scheduling/locks.js';
import { createReconciler, type ReconcileSummary } from './scheduling/reconcile.js';
import { createRequestLog } from './scheduling/request-log.js';
import { createRequestWorker } from './scheduling/request-worker.js';
import { runRequest } from './scheduling/run-request.js';
import { carryOverUpcoming, createUpcomingDeletions } from './scheduling/upcoming.js';
import { buildUseCases } from './scheduling/use-cases.js';
import { registerListeners } from './slack/listeners/index.js';
import { mayHaveBeenDone } from './slack/outbound/slack-writes.js';
import { checkApprover, createPeopleChecks } from './slack/people/access.js';
import { createUserDirectory } from './slack/people/users.js';
import { boundClientPools } from './slack/platform/client-pools.js';
import { type BotIdentity, checkBotToken } from './slack/platform/identity.js';
import { createInstallationStore } from './slack/platform/installation-store.js';
import { refuseFutureTimestamps } from './slack/platform/request-time.js';
import { createMetadataSigner } from './slack/platform/signed-metadata.js';
import {
  createRefusalLog,
  type InstalledWorkspace,
  workspaceGuard,
} from './slack/platform/workspace-guard.js';
import { createPolicyCatalogue } from './slack/policy-catalogue.js';
import { createApprovalSurface } from './slack/ports/approval-surface.js';
import { createReconcileSurface } from './slack/ports/reconcile-surface.js';
import { createRequestSurface } from './slack/ports/request-surface.js';
import { BOT_SCOPES } from './slack/scopes.js';
import { slackErrorCode } from './slack/workspace.js';
import { SecretBox } from './store/crypto.js';
import { loadOrCreateKey } from './store/key-file.js';
import { migrate, SCHEMA_VERSION_KEY } from './store/migrations.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import { createTokenStore } from './store/token-store.js';
import { createWorkspaceTokens } from './tokens/workspace-tokens.js';

/** node-fetch, loaded on the first Katapult call rather than at start (it is not needed before). */
let nodeFetch: Promise<FetchLike> | undefined;
const lazyNodeFetch: FetchLike = async (url, init) => {
  nodeFetch ??= import('node-fetch').then((m) => m.default as FetchLike);
  return (await nodeFetch)(url, init);
};

/**
 * The `operation` label of a retried attempt's route: the label of the client call it belongs to
 * (below), so that retries and calls can be compared per operation.
 */
const KATAPULT_ROUTE_LABELS: Record<KatapultOperation, string> = {
  scheduleDiskBackupPolicyDeletion: 'schedule_deletion',
  getDiskBackupPolicy: 'get_policy',
  listOrganizationPolicies: 'list_policies',
  restoreTrashObject: 'restore',
  getCurrentUser: 'identify',
  listOrganizations: 'identify',
};

/** Per attempt of a Slack Web API call made from a request record (and of the listeners' client). */
const SLACK_WRITE_TIMEOUT_MS = 10_000;
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
/** The request record must be written within this, well inside Slack's 3 s, or the modal says so. */
const INTAKE_TIMEOUT_MS = 1_500;
/**
 * Workspaces whose Web clients are kept between requests, by Bolt and by `clientFor`. A client costs
 * about 26 KB to keep and 0.2-0.3 ms of CPU to make (no call to Slack): with traffic spread over
 * thousands of workspaces few are reused, so only the most recent are kept.
 */
const CLIENTS_KEPT = 100;

/** How long a stop waits for the store to close (after the drain, inside the orchestrator's margin). */
const STORE_CLOSE_TIMEOUT_MS = 3_000;

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
  const redactor = new Redactor();
  for (const secret of [
    config.slack.botToken,
    config.slack.signingSecret,
    config.slack.appToken,
    config.katapult.fallbackToken,
    config.slack.oauth?.clientSecret,
    config.slack.oauth?.stateSecret,
  ]) {
    redactor.add(secret);
  }
  const logger = createLogger({
    level: config.logLevel,
    redactor,
    ...(overrides.logSink ? { sink: overrides.logSink } : {}),
  });
  const now = overrides.now ?? Date.now;

  let key = config.encryptionKey;
  if (!key) {
    const loaded = await loadOrCreateKey(config.dataDir);
    key = loaded.key;
    if (loaded.created) {
      logger.event('warn', 'encryption_key_created', {
        file: loaded.file,
        msg: 'Generated a new token encryption key (mode 0600). Back it up: without it, stored tokens cannot be read.',
      });
    }
  }
  redactor.add(key.toString('base64'));
  for (const old of config.oldEncryptionKeys) redactor.add(old.toString('base64'));
  const box = new SecretBox(key, config.oldEncryptionKeys);

  // Read at each scrape; `pendingRequests` is set from the request log below.
  const metricsDeps: MetricsDeps = {
    ...(overrides.pendingRequests ? { pendingRequests: overrides.pendingRequests } : {}),
  };
  const metrics = createMetrics(metricsDeps);
  const openMigratedStore = async (): Promise<Store> => {
    const rawStore = await openStore(config.store.url, {
      retentionMs: config.audit.retentionDays * 86_400_000,
      maxPerWorkspace: config.audit.maxPerWorkspace,
      now,
      onError: (error) => {
        metrics.storeError('connection');
        logger.event('error', 'store_error', { error: errorText(error) });
      },
    });
    const store: Store = countStoreFailures(rawStore, metrics, '', {
      kv: 'kv_',
      audit: 'audit_',
      docs: 'docs_',
    });
    try {
      const migrated = await migrate(store);
      if (migrated.applied.length > 0) logger.event('info', 'store_migrated', { ...migrated });
      if (migrated.ahead) {
        logger.event('warn', 'store_schema_ahead', {
          ...migrated,
          msg: 'The store was migrated by a newer version of the bot; this one may not understand every record.',
        });
      }
    } catch (error) {
      await store.close().catch(() => undefined);
      throw new Error(`could not migrate the store (${errorText(error)})`);
    }
    return store;
  };
  // Single workspace: the bot token is checked (auth.test) while the store opens, as neither needs
  // the other. A store failure is reported first, as when they ran one after the other; a token
  // failure closes the store that was opened.
  const identityChecked = config.slack.oauth
    ? null
    : checkBotToken(config.slack.botToken as string, config.slack.apiUrl, logger);
  identityChecked?.catch(() => undefined); // handled below, unless the store failed first
  const store = await openMigratedStore();
  let identity: BotIdentity | null = null;
  try {
    identity = await identityChecked;
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  const katapult = instrumentKatapult(
    new KatapultClient({
      baseUrl: config.katapult.apiUrl,
      fetch: overrides.fetch ?? lazyNodeFetch,
      timeoutMs: config.katapult.timeoutMs,
      onAttempt: ({ operation, willRetry }) => {
        if (willRetry)
          metrics.katapultRetry(KATAPULT_ROUTE_LABELS[operation as KatapultOperation] ?? operation);
      },
    }),
    metrics,
    {
      scheduleDiskBackupPolicyDeletion: 'schedule_deletion',
      identify: 'identify',
      getDiskBackupPolicy: 'get_policy',
      listOrganizationPolicies: 'list_policies',
      restoreTrashObject: 'restore',
    },
  );
  const tokens = createWorkspaceTokens({
    store: createTokenStore(store.kv, box),
    katapult,
    fallbackToken: config.katapult.fallbackToken,
    redactor,
    onStoreError: (error, operation) =>
      logger.event('error', 'store_failed', {
        operation,
        error: errorText(error),
      }),
  });

  const installations = config.slack.oauth ? createInstallationStore(store.kv, box, redactor) : null;
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
    clientOptions: {
      ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
      // Bounded: a post that cannot get through in ~10 s goes to the fallback instead of waiting 30 min.
      // A call that got no answer (a timeout) may have been done: it is never sent again, so a slow
      // Slack gives one post, not four (slack-writes.ts).
      retryConfig: LISTENER_RETRIES,
      // Per attempt: a connection that never answers must not hold a post (and its fallback) for ever.
      timeout: overrides.slackWriteTimeoutMs ?? SLACK_WRITE_TIMEOUT_MS,
      // Counts failed Web API calls by method and error, for every client Bolt makes.
      fetch: countingSlackFetch(metrics),
    },
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
  const access = createAccessPolicies(store.kv, config.defaultAccess);
  const freezes = createFreezes(store.kv, config.frozen);
  const upcoming = createUpcomingDeletions(store.docs);
  const users = createUserDirectory({ ttlMs: 60_000, groupTtlMs: 60_000, now });
  const trail = createAuditTrail(store.audit, store.docs, {
    retentionMs: config.audit.retentionDays * 86_400_000,
  });
  const record = createAuditRecorder(trail, logger);

  // The request log and its workers: one owner identity per process for leases.
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const requests = createRequestLog(store.docs);
  metricsDeps.pendingRequests ??= async () => {
    const pending = await requests.pending();
    const oldest = pending.oldestCreatedAt;
    return {
      count: pending.count,
      oldestAgeSeconds: oldest === null ? 0 : Math.max(0, (now() - oldest) / 1000),
    };
  };
  const locks = createLocks(store.docs, { ttlMs: config.requests.leaseMs });
  const dailyLimit = createDailyLimit({ docs: store.docs, locks, now });
  const clients = new Map<string, webApi.WebClient>();
  /** A Web client for work that runs outside a Slack request: one attempt per call (slack-writes.ts). */
  const clientFor = async (workspaceId: string): Promise<webApi.WebClient> => {
    const cached = clients.get(workspaceId);
    if (cached) return cached;
    const token = installations
      ? (
          await installations.fetchInstallation({
            teamId: workspaceId,
            enterpriseId: workspaceId,
            isEnterpriseInstall: workspaceId.startsWith('E'),
          })
        ).bot?.token
      : config.slack.botToken;
    if (!token) throw new Error(`no bot token for workspace ${workspaceId}`);
    const client = new webApi.WebClient(token, {
      ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: overrides.slackWriteTimeoutMs ?? SLACK_WRITE_TIMEOUT_MS,
      fetch: countingSlackFetch(metrics),
      logger,
    });
    if (clients.size >= CLIENTS_KEPT) clients.delete(clients.keys().next().value as string);
    clients.set(workspaceId, client);
    return client;
  };
  const surface = createRequestSurface(
    {
      users,
      access,
      logger,
      metrics,
      command: config.slack.command,
      upcoming,
      reminderLeadSeconds: config.reminderLeadMinutes * 60,
      freezes,
      now,
    },
    clientFor,
  );
  const approvalDeps: ApprovalDeps = {
    requests,
    holds: createApprovalHolds(store.docs),
    surface: createApprovalSurface({ logger, tokens, katapult }, clientFor),
    record,
    logger,
    now,
    leaseMs: config.requests.leaseMs,
    dailyLimit,
  };
  const approvalSweeper = createApprovalSweeper({
    deps: approvalDeps,
    owner,
    sweepMs: config.requests.sweepMs,
    track: (work) => inflight.run(work),
  });
  const approvalSettings = { requiredByDefault: config.requireApproval, ttlMs: config.approvalTtlMs };
  // Submissions being recorded right now: while more than the workers can run arrive at once (a
  // burst), the workers wait, so that the acks go out first.
  let taking = 0;
  const worker = createRequestWorker({
    requests,
    logger,
    yieldToIntake: () => taking > config.requests.concurrency,
    sweepMs: config.requests.sweepMs,
    concurrency: config.requests.concurrency,
    track: (work) => inflight.run(work),
    run: (id) =>
      runRequest(
        {
          requests,
          surface,
          tokens,
          katapult,
          upcoming,
          locks,
          dailyLimit,
          record,
          explain: (failure) => explain(failure, { command: config.slack.command, operation: 'schedule' }),
          logger,
          now,
          owner,
          leaseMs: config.requests.leaseMs,
          maxAttempts: config.requests.maxAttempts,
          onOutcome: (outcome) => metrics.submission(outcome),
          approvals: approvalDeps,
        },
        id,
      ),
  });
  const reconciler = createReconciler({
    upcoming,
    locks,
    tokens,
    katapult,
    surface: createReconcileSurface(
      { upcoming, logger, reminderLeadSeconds: config.reminderLeadMinutes * 60, now },
      clientFor,
    ),
    logger,
    now,
    intervalMs: config.reconcileIntervalMinutes * 60_000,
    track: (work) => inflight.run(work),
  });
  metricsDeps.workerQueue = () => worker.stats();
  const intake = createRequestIntake({
    requests: {
      ...requests,
      async create(record, by, leaseMs) {
        taking++;
        try {
          return await requests.create(record, by, leaseMs);
        } finally {
          taking--;
        }
      },
    },
    owner,
    leaseMs: config.requests.leaseMs,
    timeoutMs: INTAKE_TIMEOUT_MS,
    kick: (id) => worker.kick(id),
  });

  registerListeners(app, {
    command: config.slack.command,
    users,
    people: createPeopleChecks({ users, access, logger, approvals: approvalSettings }),
    catalogue: createPolicyCatalogue({ tokens, katapult, logger, now }),
    // Keyed by the encryption key when one is configured (else the signing secret), so every replica agrees.
    metadata: createMetadataSigner({
      current: config.encryptionKey ?? config.slack.signingSecret ?? key,
      old: config.oldEncryptionKeys,
    }),
    logger,
    metrics,
    now,
    ...buildUseCases({
      command: config.slack.command,
      tokens,
      katapult,
      access,
      freezes,
      upcoming,
      requests,
      dailyLimit,
      trail,
      record,
      intake,
      claims: store,
      maxPerUserPerDay: config.maxPerUserPerDay,
      approvals: {
        ...approvalSettings,
        deps: approvalDeps,
        mayDecide: async (r, userId) =>
          checkApprover(
            { users, access, logger, approvals: approvalSettings },
            await clientFor(r.workspace),
            { workspaceId: r.workspace, userId, requesterId: r.user },
          ),
        run: (id) => worker.kick(id),
      },
      async deleteInstallation(workspaceId) {
        // Installations are keyed by the same workspace ID (enterprise for org-wide installs, else team).
        await installations?.deleteInstallation({
          teamId: workspaceId,
          enterpriseId: undefined,
          isEnterpriseInstall: false,
        });
      },
      logger,
      metrics,
      now,
    }),
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

  // Awaited before the bot says it is ready: the carry-over fills the upcoming deletions that the
  // listeners show and the reconciler reads (a one-off; later starts only read one key). The
  // workers' first sweeps are started here, not waited for.
  const startWork = async () => {
    try {
      const copied = await carryOverUpcoming(store.kv, store.audit, upcoming);
      if (copied > 0) logger.event('info', 'upcoming_carried_over', { copied });
    } catch (error) {
      logger.event('error', 'upcoming_carry_over_failed', {
        error: errorText(error),
      });
    }
    worker.start();
    reconciler.start();
    approvalSweeper.start();
    void approvalSweeper.sweep();
  };

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
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            app.start(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error('no connection within 30 s')), 30_000);
            }),
          ]);
        } catch (error) {
          await app.stop().catch(() => undefined);
          const code = slackErrorCode(error);
          throw new Error(
            code
              ? `Slack refused SLACK_APP_TOKEN (${code}); generate an app-level token with connections:write under Basic Information`
              : `could not connect to Slack in Socket Mode (${errorText(error)})`,
          );
        } finally {
          clearTimeout(timer);
        }
        watchSocketConnection(app, (up) => {
          if (up === slackConnected) return;
          slackConnected = up;
          metrics.socketModeConnected(up);
          if (!draining)
            logger.event(up ? 'info' : 'warn', up ? 'slack_reconnected' : 'slack_connection_lost', {});
        });
        metrics.socketModeConnected(true);
        await startWork();
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
      await startWork();
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
    reconcile: () => reconciler.sweep(),
    async stop(graceMs = shutdownGraceMs(config.katapult.timeoutMs)) {
      // /readyz answers 503 from now on, so load balancers stop sending, and no new record is started
      // here. Socket Mode disconnects at once; over HTTP the listener stays open while work under way
      // finishes (bounded), so requests routed here before the balancer noticed are still answered
      // (recorded, and taken over by another replica once their lease expires), then it closes.
      // The store closes last.
      ready = false;
      draining = true;
      worker.stop();
      reconciler.stop();
      approvalSweeper.stop();
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
