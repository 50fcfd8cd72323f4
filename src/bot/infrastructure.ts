/**
 * What every other part of the bot is built on, built first: the redacting logger, the token
 * encryption key, the metrics, the store (opened and migrated while the bot token is checked), the
 * Katapult client, the workspaces' Katapult tokens and, with OAuth, the Slack installations.
 */

import type { Config } from '../config.js';
import { type FetchLike, KatapultClient } from '../katapult/client.js';
import type { KatapultOperation } from '../katapult/routes.js';
import { type AppLogger, createLogger, errorText, type LogSink, Redactor } from '../log.js';
import {
  countStoreFailures,
  createMetrics,
  instrumentKatapult,
  type Metrics,
  type MetricsDeps,
} from '../metrics.js';
import { createOutbound, type Outbound } from '../net/proxy.js';
import { type BotIdentity, checkBotToken } from '../slack/platform/identity.js';
import { createInstallationStore } from '../slack/platform/installation-store.js';
import { SecretBox } from '../store/crypto.js';
import { loadOrCreateKey } from '../store/key-file.js';
import { migrate } from '../store/migrations.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createTokenStore } from '../store/token-store.js';
import { createWorkspaceTokens, type WorkspaceTokens } from '../tokens/workspace-tokens.js';
import type { BotOverrides } from './types.js';

export interface Infrastructure {
  redactor: Redactor;
  logger: AppLogger;
  /** Wall clock in unix ms. */
  now: () => number;
  /** The token encryption key: the configured one, else the data directory's (created if missing). */
  key: Buffer;
  box: SecretBox;
  metrics: Metrics;
  /** Read at each scrape; `pendingRequests` and `workerQueue` are set by the work (work.ts). */
  metricsDeps: MetricsDeps;
  /** The migrated store; failing calls count as store errors. */
  store: Store;
  /** Single workspace: what auth.test said of the bot token. OAuth: null. */
  identity: BotIdentity | null;
  katapult: KatapultClient;
  tokens: WorkspaceTokens;
  /** OAuth: each installation (bot token included), sealed in the store. Single workspace: null. */
  installations: ReturnType<typeof createInstallationStore> | null;
  /**
   * Told of every installation stored (a new install or a reinstall): set by the worker clients
   * (slack-clients.ts) so that the workspace's kept clients, with the old token, are dropped.
   */
  installationHooks: { stored(workspaceId: string): void };
  /** The outbound proxy every Slack and Katapult call goes through (src/net/proxy.ts); null: none set. */
  outbound: Outbound | null;
}

export async function createInfrastructure(config: Config, overrides: BotOverrides): Promise<Infrastructure> {
  const { redactor, logger } = createRedactedLogger(config, overrides.logSink);
  const now = overrides.now ?? Date.now;
  const { key, box } = await loadEncryptionKey(config, redactor, logger);
  const outbound = await createOutbound(config.proxy);
  if (outbound) {
    for (const secret of outbound.secrets) redactor.add(secret);
    logger.event('info', 'outbound_proxy', outbound.describe());
  }
  // Read at each scrape; `pendingRequests` is set from the request log (work.ts).
  const metricsDeps: MetricsDeps = {
    ...(overrides.pendingRequests ? { pendingRequests: overrides.pendingRequests } : {}),
  };
  const metrics = createMetrics(metricsDeps);
  const { store, identity } = await openStoreCheckingToken(config, metrics, logger, now, outbound).catch(
    async (error: unknown) => {
      await outbound?.close();
      throw error;
    },
  );
  const katapult = createKatapult(config, metrics, overrides.fetch ?? outbound?.fetch ?? lazyNodeFetch);
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
  const installationHooks = { stored: (_workspaceId: string) => {} };
  const installations = config.slack.oauth
    ? createInstallationStore(store.kv, box, redactor, { onStored: (id) => installationHooks.stored(id) })
    : null;
  return {
    redactor,
    logger,
    now,
    key,
    box,
    metrics,
    metricsDeps,
    store,
    identity,
    katapult,
    tokens,
    installations,
    installationHooks,
    outbound,
  };
}

/** The bot's logger (JSON lines), redacting every configured secret. */
function createRedactedLogger(
  config: Config,
  sink: LogSink | undefined,
): { redactor: Redactor; logger: AppLogger } {
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
    ...(sink ? { sink } : {}),
  });
  return { redactor, logger };
}

/** The token encryption key (and the old ones, still read), redacted from the log. */
async function loadEncryptionKey(
  config: Config,
  redactor: Redactor,
  logger: AppLogger,
): Promise<{ key: Buffer; box: SecretBox }> {
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
  return { key, box: new SecretBox(key, config.oldEncryptionKeys) };
}

/**
 * Single workspace: the bot token is checked (auth.test) while the store opens, as neither needs
 * the other. A store failure is reported first, as when they ran one after the other; a token
 * failure closes the store that was opened.
 */
async function openStoreCheckingToken(
  config: Config,
  metrics: Metrics,
  logger: AppLogger,
  now: () => number,
  outbound: Outbound | null,
): Promise<{ store: Store; identity: BotIdentity | null }> {
  const identityChecked = config.slack.oauth
    ? null
    : checkBotToken(config.slack.botToken as string, config.slack.apiUrl, logger, outbound?.fetch);
  identityChecked?.catch(() => undefined); // handled below, unless the store failed first
  const store = await openMigratedStore(config, metrics, logger, now);
  let identity: BotIdentity | null = null;
  try {
    identity = await identityChecked;
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return { store, identity };
}

async function openMigratedStore(
  config: Config,
  metrics: Metrics,
  logger: AppLogger,
  now: () => number,
): Promise<Store> {
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
}

/** node-fetch, loaded on the first Katapult call rather than at start (it is not needed before). */
let nodeFetch: Promise<FetchLike> | undefined;
const lazyNodeFetch: FetchLike = async (url, init) => {
  nodeFetch ??= import('node-fetch').then((m) => m.default as FetchLike);
  return (await nodeFetch)(url, init);
};

/**
 * The `operation` label of each Katapult client call and of each route, in one table, so that
 * retries and calls can be compared per operation: a call is counted under its method's label, a
 * retried attempt under its route's, the label of the call it belongs to. `identify` sends to
 * `getCurrentUser` or `listOrganizations`: all three count as 'identify'.
 */
const KATAPULT_LABELS: Record<KatapultOperation | 'identify', string> = {
  scheduleDiskBackupPolicyDeletion: 'schedule_deletion',
  getDiskBackupPolicy: 'get_policy',
  listOrganizationPolicies: 'list_policies',
  restoreTrashObject: 'restore',
  identify: 'identify',
  getCurrentUser: 'identify',
  listOrganizations: 'identify',
};

/** The Katapult client, its calls and retries counted in the metrics. */
function createKatapult(config: Config, metrics: Metrics, fetch: FetchLike): KatapultClient {
  return instrumentKatapult(
    new KatapultClient({
      baseUrl: config.katapult.apiUrl,
      fetch,
      timeoutMs: config.katapult.timeoutMs,
      onAttempt: ({ operation, willRetry }) => {
        if (willRetry) metrics.katapultRetry(KATAPULT_LABELS[operation as KatapultOperation] ?? operation);
      },
    }),
    metrics,
    KATAPULT_LABELS,
  );
}
