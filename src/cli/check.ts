/**
 * `katapult-chatops check`: every start-up check and a few more, one line each
 * (`ok`, `warn` or `FAIL`, the check's name, what was found). Exits non-zero when any check fails.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import nodeFetch from 'node-fetch';
import type { Config } from '../config.js';
import { type FetchLike, KatapultClient } from '../katapult/client.js';
import { isKatapultError } from '../katapult/errors.js';
import { createOutbound, type Outbound } from '../net/proxy.js';
import { LogLevel, webApi } from '../slack/bolt.js';
import { BOT_SCOPES } from '../slack/scopes.js';
import { slackErrorCode } from '../slack/workspace.js';
import { LATEST_SCHEMA_VERSION, schemaVersion } from '../store/migrations.js';
import type { Store } from '../store/store.js';
import { createTokenStore } from '../store/token-store.js';
import { describeError, type Output, openBox, openConfiguredStore, sealedRecords } from './context.js';

type Level = 'ok' | 'warn' | 'FAIL';

export interface CheckOptions {
  fetch?: FetchLike;
}

export async function runCheck(config: Config, out: Output, options: CheckOptions = {}): Promise<number> {
  // Slack and Katapult are reached as the bot reaches them: through the proxy when one is set.
  const outbound = await createOutbound(config.proxy);
  try {
    return await checkAll(config, out, options, outbound);
  } finally {
    await outbound?.close();
  }
}

async function checkAll(
  config: Config,
  out: Output,
  options: CheckOptions,
  outbound: Outbound | null,
): Promise<number> {
  const fetch = options.fetch ?? outbound?.fetch;
  const failed: string[] = [];
  let warnings = 0;
  const report = (level: Level, name: string, detail: string) => {
    if (level === 'FAIL') failed.push(name);
    if (level === 'warn') warnings += 1;
    out.line(`${level.padEnd(4)} ${name.padEnd(18)} ${detail}`);
  };
  /** The last line, and the exit code. */
  const finish = (note = ''): number => {
    const warned = warnings > 0 ? ` with ${warnings} warning${warnings > 1 ? 's' : ''}` : '';
    out.line(failed.length > 0 ? `check failed: ${failed.join(', ')}` : `check passed${warned}${note}`);
    return failed.length > 0 ? 1 : 0;
  };
  report(
    'ok',
    'config',
    `${config.slack.appToken ? 'Socket Mode' : 'HTTP mode'}, store ${storeKind(config)}`,
  );

  if (outbound) {
    const { https_proxy, http_proxy, no_proxy } = outbound.describe();
    report(
      'ok',
      'proxy',
      `https via ${https_proxy ?? 'direct'}, http via ${http_proxy ?? 'direct'}, NO_PROXY ${no_proxy || '(empty)'}`,
    );
  }
  await checkSlack(config, report, outbound?.fetch);

  // `check` looks, it does not create: a SQLite file that is not there yet is reported, not made.
  const sqliteFile = config.store.url.startsWith('sqlite://')
    ? path.resolve(config.store.url.slice('sqlite://'.length))
    : null;
  if (sqliteFile !== null && !existsSync(sqliteFile)) {
    report(
      'warn',
      'store',
      `no SQLite database at ${sqliteFile} yet: the bot creates it on its first start (is STORE_URL the one the bot uses?)`,
    );
    // KATAPULT_API_TOKEN needs no store: it is checked all the same.
    if (config.katapult.fallbackToken) await checkKatapultTokens(config, null, null, report, fetch);
    return finish('; the store checks were skipped');
  }
  let store: Store;
  try {
    store = await openConfiguredStore(config);
  } catch (error) {
    report('FAIL', 'store', describeError(error));
    return finish();
  }
  try {
    report('ok', 'store', 'reachable');
    await checkSchema(store, report);
    const box = await checkKey(config, store, report);
    if (box) await checkKatapultTokens(config, store, box, report, fetch);
    await checkRedisPersistence(store, report);
  } finally {
    await store.close().catch(() => undefined);
  }
  return finish();
}

type Report = (level: Level, name: string, detail: string) => void;

function storeKind(config: Config): string {
  return config.store.url.split(':')[0] ?? 'unknown';
}

/**
 * The Web client's own logger writes raw lines to stderr (`[WARN]  web-api:WebClient:0 http request
 * failed …`) for what `check` reports in its own words: the CLI's clients log nothing.
 */
const SILENT: NonNullable<webApi.WebClientOptions['logger']> = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

function slackClient(config: Config, token: string, fetch?: typeof globalThis.fetch): webApi.WebClient {
  return new webApi.WebClient(token, {
    ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
    ...(fetch ? { fetch } : {}),
    retryConfig: { retries: 1, factor: 2, minTimeout: 500, maxTimeout: 1000 },
    timeout: 10_000,
    logger: SILENT,
  });
}

/** The single-workspace install's team ID (null with OAuth). */
export async function slackTeam(config: Config): Promise<string | null> {
  if (!config.slack.botToken) return null;
  const outbound = await createOutbound(config.proxy);
  try {
    return (await slackClient(config, config.slack.botToken, outbound?.fetch).auth.test()).team_id ?? null;
  } finally {
    await outbound?.close();
  }
}

async function checkSlack(config: Config, report: Report, fetch?: typeof globalThis.fetch): Promise<void> {
  if (config.slack.oauth || !config.slack.botToken) {
    report('ok', 'slack', 'OAuth: each installation brings its own bot token (opened under "key")');
    return;
  }
  try {
    const auth = await slackClient(config, config.slack.botToken, fetch).auth.test();
    report(
      'ok',
      'slack',
      `bot token accepted (team ${auth.team_id ?? '?'}, bot user ${auth.user_id ?? '?'})`,
    );
    const granted = auth.response_metadata?.scopes;
    if (!granted) {
      report('warn', 'slack scopes', "Slack did not list the token's scopes (no x-oauth-scopes header)");
      return;
    }
    const missing = BOT_SCOPES.filter((scope) => !granted.includes(scope));
    if (missing.length > 0) {
      report(
        'FAIL',
        'slack scopes',
        `missing ${missing.join(', ')}: add them as in manifest.yml (OAuth & Permissions) and reinstall the app`,
      );
    } else {
      report('ok', 'slack scopes', `all ${BOT_SCOPES.length} scopes of manifest.yml granted`);
    }
  } catch (error) {
    const code = slackErrorCode(error);
    report(
      'FAIL',
      'slack',
      code
        ? `Slack refused SLACK_BOT_TOKEN (${code})`
        : `could not reach the Slack API (${describeError(error)})`,
    );
  }
}

async function checkSchema(store: Store, report: Report): Promise<void> {
  const version = await schemaVersion(store);
  if (version === LATEST_SCHEMA_VERSION) {
    report('ok', 'schema', `version ${version}`);
  } else if (version < LATEST_SCHEMA_VERSION) {
    report(
      'warn',
      'schema',
      `version ${version}, this release migrates to ${LATEST_SCHEMA_VERSION} on start or with \`katapult-chatops migrate\``,
    );
  } else {
    report(
      'warn',
      'schema',
      `version ${version} is newer than this release knows (${LATEST_SCHEMA_VERSION}): a newer release ran here`,
    );
  }
}

async function checkKey(
  config: Config,
  store: Store,
  report: Report,
): Promise<Awaited<ReturnType<typeof openBox>>> {
  const opened = await openBox(config).catch((error: unknown) => {
    report('FAIL', 'key', describeError(error));
    return undefined;
  });
  if (opened === undefined) return null;
  if (opened === null) {
    report('FAIL', 'key', `no TOKEN_ENCRYPTION_KEY and no key file in ${config.dataDir}`);
    return null;
  }
  let total = 0;
  let stale = 0;
  const broken: string[] = [];
  for await (const { key, record } of sealedRecords(store)) {
    total += 1;
    try {
      opened.box.open(record.sealed, key);
      if (opened.box.isStale(record.sealed)) stale += 1;
    } catch {
      broken.push(key);
    }
  }
  if (broken.length > 0) {
    report(
      'FAIL',
      'key',
      `${broken.length} of ${total} sealed values do not open with ${opened.source} (${broken.slice(0, 5).join(', ')}${broken.length > 5 ? ', …' : ''}): wrong key, or set the previous one in TOKEN_ENCRYPTION_OLD_KEYS`,
    );
    return null;
  }
  report(
    stale > 0 ? 'warn' : 'ok',
    'key',
    `opens all ${total} sealed values (key ${opened.box.currentKeyId})${stale > 0 ? `; ${stale} sealed with an older key or format: run \`katapult-chatops rotate-key\`` : ''}`,
  );
  return opened;
}

async function checkKatapultTokens(
  config: Config,
  /** Null when there is no store yet: only KATAPULT_API_TOKEN is checked. */
  store: Store | null,
  opened: NonNullable<Awaited<ReturnType<typeof openBox>>> | null,
  report: Report,
  fetch: FetchLike = nodeFetch as FetchLike,
): Promise<void> {
  const katapult = new KatapultClient({
    baseUrl: config.katapult.apiUrl,
    fetch,
    timeoutMs: config.katapult.timeoutMs,
  });
  const toCheck: { who: string; token: () => Promise<string | null> }[] = [];
  if (store && opened) {
    const tokens = createTokenStore(store.kv, opened.box);
    for await (const { key } of sealedRecords(store)) {
      if (!key.startsWith('token:')) continue;
      const workspace = key.slice('token:'.length);
      toCheck.push({
        who: `workspace ${workspace}`,
        token: async () => (await tokens.get(workspace))?.token ?? null,
      });
    }
  }
  if (config.katapult.fallbackToken) {
    const fallback = config.katapult.fallbackToken;
    toCheck.push({ who: 'KATAPULT_API_TOKEN', token: async () => fallback });
  }
  if (toCheck.length === 0) {
    report(
      'warn',
      'katapult',
      'no Katapult token stored or configured yet (an admin sets one with the token command)',
    );
    return;
  }
  for (const { who, token } of toCheck) {
    const value = await token();
    if (!value) continue;
    try {
      const identity = await katapult.identify(value);
      const orgs = identity.organizations.map((o) => o.name).join(', ');
      report('ok', 'katapult', `${who}: token accepted${orgs ? ` (${orgs})` : ''}`);
    } catch (error) {
      const reason = isKatapultError(error)
        ? error.kind === 'api'
          ? error.code
          : error.kind
        : describeError(error);
      report('FAIL', 'katapult', `${who}: token refused or unusable (${reason})`);
    }
  }
}

interface RedisLike {
  configGet(parameter: string): Promise<Record<string, string>>;
  info(section: string): Promise<string>;
}

async function checkRedisPersistence(store: Store, report: Report): Promise<void> {
  const client = (store.kv.store as { client?: unknown } | undefined)?.client as RedisLike | undefined;
  if (!/redis/i.test(store.kv.store?.constructor?.name ?? '') || !client) return;
  let aof: boolean | null = null;
  let policy: string | null = null;
  try {
    aof = (await client.configGet('appendonly')).appendonly === 'yes';
    policy = (await client.configGet('maxmemory-policy'))['maxmemory-policy'] ?? null;
  } catch {
    // CONFIG is often disabled on managed Redis; INFO says whether AOF is on.
    try {
      aof = /aof_enabled:1/.test(await client.info('persistence'));
    } catch {
      aof = null;
    }
  }
  if (aof === null) {
    report('warn', 'redis persistence', 'could not read CONFIG or INFO persistence; make sure AOF is on');
  } else if (!aof) {
    report(
      'warn',
      'redis persistence',
      'AOF is off: a Redis restart can lose tokens, access policies and the audit log (set appendonly yes)',
    );
  } else {
    report('ok', 'redis persistence', 'AOF is on');
  }
  if (policy !== null && policy !== 'noeviction') {
    report(
      'warn',
      'redis eviction',
      `maxmemory-policy is ${policy}: Redis may evict the bot's records; use noeviction`,
    );
  }
}
