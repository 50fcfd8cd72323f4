/**
 * Composition root: builds the logger, store, Katapult client and Bolt app from the config, and
 * wires the Slack listeners to them. Nothing else creates these objects.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type AppOptions, ErrorCode } from '@slack/bolt';
import nodeFetch from 'node-fetch';
import { createAccessPolicies } from './access/access-policy.js';
import { createAuditRecorder } from './audit/record.js';
import type { Config } from './config.js';
import { type FetchLike, KatapultClient } from './katapult/client.js';
import { InFlight } from './lifecycle.js';
import { createLogger, type LogLevel, type LogSink, Redactor } from './log.js';
import { createUpcomingDeletions, upcomingPolicyIds } from './scheduling/upcoming.js';
import { checkBotToken } from './slack/identity.js';
import { createInstallationStore } from './slack/installation-store.js';
import { registerListeners } from './slack/listeners/index.js';
import { createPolicyCatalogue } from './slack/policy-catalogue.js';
import { refuseFutureTimestamps } from './slack/request-time.js';
import { BOT_SCOPES } from './slack/scopes.js';
import { createMetadataSigner } from './slack/signed-metadata.js';
import { createUserDirectory } from './slack/users.js';
import { slackErrorCode } from './slack/workspace.js';
import { createRefusalLog, type InstalledWorkspace, workspaceGuard } from './slack/workspace-guard.js';
import { SecretBox } from './store/crypto.js';
import { loadOrCreateKey } from './store/key-file.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import { createTokenStore } from './store/token-store.js';
import { createWorkspaceTokens } from './tokens/workspace-tokens.js';

export interface BotOverrides {
  /** Replaces node-fetch for Katapult calls. */
  fetch?: FetchLike;
  /** Receives every (already redacted) log line. */
  logSink?: LogSink;
  /** Wall clock in unix ms. */
  now?: () => number;
  /** Interface the HTTP receiver binds to (default: all). */
  host?: string;
}

export interface Bot {
  app: App;
  /** Starts receiving; in HTTP mode resolves with the bound port. */
  start(): Promise<{ port: number | null }>;
  /** Graceful: waits up to `graceMs` for in-flight schedules and posts. */
  stop(graceMs?: number): Promise<void>;
  /** The state store (exposed for operations and tests). */
  store: Store;
  /** Resolves when no schedule or post is under way (tests use it to let follow-up work settle). */
  idle(timeoutMs?: number): Promise<boolean>;
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
  const box = new SecretBox(key);

  const store: Store = await openStore(config.store.url, {
    retentionMs: config.audit.retentionDays * 86_400_000,
    maxPerWorkspace: config.audit.maxPerWorkspace,
    onError: (error) =>
      logger.event('error', 'store_error', { error: error instanceof Error ? error.message : String(error) }),
  });
  const katapult = new KatapultClient({
    baseUrl: config.katapult.apiUrl,
    fetch: overrides.fetch ?? (nodeFetch as FetchLike),
    timeoutMs: config.katapult.timeoutMs,
  });
  const tokens = createWorkspaceTokens({
    store: createTokenStore(store.kv, box),
    katapult,
    fallbackToken: config.katapult.fallbackToken,
    redactor,
    onStoreError: (error, operation) =>
      logger.event('error', 'store_failed', {
        operation,
        error: error instanceof Error ? error.message : String(error),
      }),
  });

  const installations = config.slack.oauth ? createInstallationStore(store.kv, box, redactor) : null;
  // Single workspace: one bot token, checked now. OAuth: each installation's token, sealed in the store.
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
    try {
      const botToken = config.slack.botToken as string;
      const identity = await checkBotToken(botToken, config.slack.apiUrl, logger);
      auth = { token: botToken, botId: identity.botId, botUserId: identity.botUserId };
      installed = identity.workspace;
    } catch (error) {
      await store.close().catch(() => undefined);
      throw error;
    }
  }

  let ready = false;
  const socketMode = config.slack.appToken !== null;
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
      retryConfig: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 4000 },
      // Per attempt: a connection that never answers must not hold a post (and its fallback) for ever.
      timeout: 10_000,
    },
    ...(socketMode
      ? {}
      : {
          customRoutes: [
            {
              path: '/healthz',
              method: ['GET'],
              handler: (_req, res) => {
                res.writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json' });
                res.end(JSON.stringify({ ok: ready }));
              },
            },
          ],
        }),
  });

  const inflight = new InFlight();
  // Before every listener: requests from any workspace but ours are answered with nothing done.
  const refusedWorkspace = createRefusalLog(logger, now);
  app.use(workspaceGuard(installed, refusedWorkspace));
  const access = createAccessPolicies(store.kv, config.defaultAccess);
  const upcoming = createUpcomingDeletions(store.kv);
  registerListeners(app, {
    command: config.slack.command,
    tokens,
    katapult,
    access,
    upcoming,
    catalogue: createPolicyCatalogue({ tokens, katapult, logger, now }),
    reminderLeadSeconds: config.reminderLeadMinutes * 60,
    async forgetWorkspace(workspaceId) {
      // Installations are keyed by the same workspace ID (enterprise for org-wide installs, else team).
      await installations?.deleteInstallation({
        teamId: workspaceId,
        enterpriseId: undefined,
        isEnterpriseInstall: false,
      });
      await tokens.remove(workspaceId);
      await access.remove(workspaceId);
      for (const policyId of upcomingPolicyIds(await store.audit.recent(workspaceId, 10_000), 0, Infinity)) {
        await upcoming.remove(workspaceId, policyId);
      }
      await store.audit.forget(workspaceId);
    },
    users: createUserDirectory({ ttlMs: 60_000, groupTtlMs: 60_000, now }),
    claims: store,
    record: createAuditRecorder(store.audit, logger),
    auditLog: store.audit,
    // Keyed by the encryption key when one is configured (else the signing secret), so every replica agrees.
    metadata: createMetadataSigner({
      current: config.encryptionKey ?? config.slack.signingSecret ?? key,
      old: config.oldEncryptionKeys,
    }),
    logger,
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

  return {
    app,
    store,
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
              : `could not connect to Slack in Socket Mode (${error instanceof Error ? error.message : String(error)})`,
          );
        } finally {
          clearTimeout(timer);
        }
        ready = true;
        logger.event('info', 'started', { mode: 'socket', command: config.slack.command });
        return { port: null };
      }
      const server = (await app.start({
        port: config.http.port,
        ...(overrides.host ? { host: overrides.host } : {}),
      })) as Server;
      refuseFutureTimestamps(server, now);
      const port = (server.address() as AddressInfo).port;
      ready = true;
      logger.event('info', 'started', { mode: 'http', port, command: config.slack.command });
      return { port };
    },
    idle: (timeoutMs = 10_000) => inflight.drain(timeoutMs),
    // Long enough for a schedule that started just before the signal: Katapult's retries (15 s)
    // plus one timeout, then the post with its retries and fallback.
    async stop(graceMs = 15_000 + config.katapult.timeoutMs + 20_000) {
      // Stop taking requests, let schedules and posts already under way finish (bounded), then close the store.
      ready = false;
      await app.stop().catch(() => undefined);
      const pending = inflight.size;
      const drained = await inflight.drain(graceMs);
      logger.event(drained ? 'info' : 'error', 'stopped', { in_flight_at_stop: pending, drained });
      await store.close().catch(() => undefined);
    },
  };
}
