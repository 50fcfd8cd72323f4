/**
 * Composition root: builds the logger, store, Katapult client and Bolt app from the config, and
 * wires the Slack listeners to them. Nothing else creates these objects.
 */

import { App, type AppOptions, ErrorCode } from '@slack/bolt';
import { createInfrastructure } from './bot/infrastructure.js';
import { createHealthWiring, createLifecycle } from './bot/lifecycle.js';
import { CLIENTS_KEPT, createClientFor, listenerClientOptions } from './bot/slack-clients.js';
import { createWork, createWorkspaceState } from './bot/work.js';
import type { Config } from './config.js';
import type { FetchLike } from './katapult/client.js';
import { InFlight } from './lifecycle.js';
import type { AppLogger, LogLevel, LogSink } from './log.js';
import type { Metrics, MetricsDeps } from './metrics.js';
import { decide } from './scheduling/approvals.js';
import type { ReconcileSummary } from './scheduling/reconcile.js';
import { registerListeners } from './slack/listeners/index.js';
import { checkApprover } from './slack/people/access.js';
import { boundClientPools } from './slack/platform/client-pools.js';
import type { BotIdentity } from './slack/platform/identity.js';
import { createMetadataSigner } from './slack/platform/signed-metadata.js';
import {
  createRefusalLog,
  type InstalledWorkspace,
  workspaceGuard,
} from './slack/platform/workspace-guard.js';
import { createPolicyCatalogue } from './slack/policy-catalogue.js';
import { BOT_SCOPES } from './slack/scopes.js';
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

  const health = createHealthWiring(config, infra);
  const { socketMode } = health.state;
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
          customRoutes: Object.entries(health.publicRoutes).map(([path, handler]) => ({
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

  const lifecycle = createLifecycle(config, overrides, { app, infra, health, work, inflight });
  return { app, store, metrics, logger, ...lifecycle };
}
