/**
 * The one place that reads the environment. `parseConfig` turns it into a typed object or throws a
 * `ConfigError` that lists every mistake at once: each names the variable and what is expected
 * (`problems`, one per variable; `message` is all of them on one line).
 *
 * How mistakes are collected: the readers below never throw on a bad value, they call `mistake()`,
 * which notes it and hands back a stand-in (usually the default) so that reading carries on and the
 * next variable is checked too. A check that depends on another variable skips when that one is
 * already wrong (`isWrong()`), so one mistake is not reported twice under two names.
 */
import path from 'node:path';

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

export interface Config {
  slack: {
    /** The single workspace's bot token; null with OAuth (each installation brings its own). */
    botToken: string | null;
    /** Multi-workspace distribution: present when SLACK_CLIENT_ID is set (HTTP mode only). */
    oauth: { clientId: string; clientSecret: string; stateSecret: string } | null;
    /** Required in HTTP mode (it verifies every request); unused in Socket Mode. */
    signingSecret: string | null;
    /** Present: Socket Mode. Absent: HTTP mode on `http.port`. */
    appToken: string | null;
    /** Base URL of the Slack Web API, ending in `/` (null: Slack's own). */
    apiUrl: string | null;
    /** The slash command, e.g. `/katapult`. */
    command: string;
  };
  http: {
    port: number;
    /** A separate listener for /metrics and /readyz (kept off the public Slack port); null: none. */
    metricsPort: number | null;
  };
  katapult: {
    apiUrl: string;
    /** Token for a workspace that has none stored (single-workspace installs). */
    fallbackToken: string | null;
    timeoutMs: number;
  };
  store: { url: string };
  /** Who may schedule in a workspace with no stored access policy. */
  defaultAccess: 'admins' | 'everyone';
  /** Policies one person may schedule in a rolling 24 hours; null: unlimited. A workspace's admins can override it. */
  maxPerUserPerDay: number | null;
  /** Approvals in a workspace whose admins have not chosen: off, or one approval by any admin. */
  requireApproval: boolean;
  /** How long a request waits for a decision before it expires (ms). */
  approvalTtlMs: number;
  /** Emergency stop for the whole deployment: no scheduling, no approvals. */
  frozen: boolean;
  /**
   * The audit trail: activity (schedules, restores, merged refusals and failures) is kept
   * `retentionDays` and at most `maxPerWorkspace` entries; configuration and admin entries (token,
   * access, freeze, approvals, uninstall) apart from it, `adminRetentionDays`.
   */
  audit: { retentionDays: number; maxPerWorkspace: number; adminRetentionDays: number };
  /** Minutes before the move that the channel is reminded; 0 turns reminders off. */
  reminderLeadMinutes: number;
  /** The request log's workers: lease length, sweep interval, attempts, parallel runs. */
  requests: {
    leaseMs: number;
    sweepMs: number;
    maxAttempts: number;
    concurrency: number;
  };
  /** Minutes between comparisons of the upcoming deletions with Katapult's schedule; 0: never. */
  reconcileIntervalMinutes: number;
  /**
   * Removal of records nothing needs any more (src/scheduling/retention.ts, docs/retention.md): how
   * long a finished request is kept, the time between sweeps (0: none) and the records per batch;
   * the audit trail's windows (`audit`, in ms), by which the sweep removes its documents too.
   */
  retention: {
    finishedRequestMs: number;
    intervalMs: number;
    batchSize: number;
    auditMs: number;
    adminAuditMs: number;
  };
  /** Where the default SQLite file and a generated encryption key live. */
  dataDir: string;
  /** 32-byte AES key from TOKEN_ENCRYPTION_KEY; null means "load or generate one in dataDir". */
  encryptionKey: Buffer | null;
  /** Keys from TOKEN_ENCRYPTION_OLD_KEYS: they only open values sealed before a key rotation. */
  oldEncryptionKeys: Buffer[];
  logLevel: LogLevelName;
  /**
   * The outbound proxy of every call the bot makes (Slack's Web API and Socket Mode, OAuth,
   * `response_url`, Katapult), from HTTPS_PROXY, HTTP_PROXY and NO_PROXY (lower case first, as curl
   * reads them); null when neither proxy is set: every call goes out directly, as without this.
   */
  proxy: ProxySettings | null;
}

/** Proxy URLs (normalized, with any credentials: they are sent to the proxy) and the raw NO_PROXY list. */
export interface ProxySettings {
  /** For https:// and wss:// URLs (Slack, Katapult); null: those go out directly. */
  https: string | null;
  /** For http:// and ws:// URLs (only loopback ones here: tests, a local relay); null: directly. */
  http: string | null;
  /** Hosts reached directly (comma or space separated): host, .domain, *.domain, host:port, IP, CIDR, `*`. */
  noProxy: string;
}

/** One wrong setting: the variable, and what is wrong or expected (never the value: it may be a secret). */
export interface ConfigProblem {
  readonly variable: string;
  readonly expected: string;
}

export class ConfigError extends Error {
  /** The first wrong variable (the only one when there is one mistake). */
  readonly variable: string;
  /** Every mistake, in the order they were found, one per variable. */
  readonly problems: readonly ConfigProblem[];

  constructor(variable: string, expected: string, more: readonly ConfigProblem[] = []) {
    const problems = [{ variable, expected }, ...more];
    super(problems.map(describeProblem).join(' | '));
    this.name = 'ConfigError';
    this.variable = variable;
    this.problems = problems;
  }

  /** One line per mistake, `VARIABLE: what is expected`, for a report on several lines. */
  lines(): string[] {
    return this.problems.map(describeProblem);
  }
}

function describeProblem(problem: ConfigProblem): string {
  return `${problem.variable}: ${problem.expected}`;
}

/**
 * The mistakes found by the `parseConfig` call under way. It is synchronous, so one collection is
 * open at a time; outside it (null) a mistake throws at once.
 */
let found: ConfigProblem[] | null = null;

/** Notes a mistake (the first one per variable counts) and returns `standIn` so reading goes on. */
function mistake<T>(variable: string, expected: string, standIn: T): T {
  if (found === null) throw new ConfigError(variable, expected);
  if (!isWrong(variable)) found.push({ variable, expected });
  return standIn;
}

/** Whether a mistake was already noted for this variable (checks that depend on it then skip). */
function isWrong(variable: string): boolean {
  return found?.some((p) => p.variable === variable) ?? false;
}

type Env = Record<string, string | undefined>;

/** Values shipped in .env.example (`xoxb-your-bot-token`, `<...>`, `changeme`) are not settings. */
const PLACEHOLDER = /^(?:x[a-z]+-)?your[-_]|^<.*>$|^changeme$|^replace[-_ ]?me$/i;

function optional(env: Env, name: string): string | null {
  const value = env[name]?.trim();
  if (value && PLACEHOLDER.test(value)) {
    return mistake(
      name,
      'still holds the placeholder from .env.example; put the real value in, or leave it empty',
      null,
    );
  }
  return value ? value : null;
}

function required(env: Env, name: string, expected: string): string {
  const value = optional(env, name);
  if (value === null) return mistake(name, `missing; expected ${expected}`, '');
  return value;
}

function prefixed(env: Env, name: string, prefix: string, what: string, isRequired: boolean): string | null {
  const value = isRequired ? required(env, name, `${what} starting with "${prefix}"`) : optional(env, name);
  if (value !== null && value !== '' && !value.startsWith(prefix)) {
    return mistake(name, `expected ${what} starting with "${prefix}"`, null);
  }
  return value;
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

function httpUrl(env: Env, name: string, fallback: string | null): string | null {
  const value = optional(env, name) ?? fallback;
  if (value === null) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return mistake(name, 'expected an absolute http(s) URL, e.g. https://example.com/api/', fallback);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return mistake(name, `expected an http(s) URL, got a ${url.protocol} URL`, fallback);
  }
  // Tokens travel in these requests: plain http only to this machine (tests, a local proxy).
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
    return mistake(name, 'expected an https:// URL (http:// only for 127.0.0.1, ::1 or localhost)', fallback);
  }
  return url.toString();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    return mistake(name, `expected a whole number from ${min} to ${max}`, fallback);
  }
  return value;
}

function base64Key(name: string, raw: string): Buffer {
  const key = Buffer.from(raw, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw) || key.length !== 32) {
    return mistake(
      name,
      'expected 32 random bytes in base64 (44 characters); make one with `openssl rand -base64 32`',
      Buffer.alloc(32),
    );
  }
  return key;
}

function encryptionKey(env: Env): Buffer | null {
  const raw = optional(env, 'TOKEN_ENCRYPTION_KEY');
  return raw === null ? null : base64Key('TOKEN_ENCRYPTION_KEY', raw);
}

function oldEncryptionKeys(env: Env, current: Buffer | null): Buffer[] {
  const raw = optional(env, 'TOKEN_ENCRYPTION_OLD_KEYS');
  if (raw === null) return [];
  if (current === null) {
    if (isWrong('TOKEN_ENCRYPTION_KEY')) return [];
    return mistake(
      'TOKEN_ENCRYPTION_OLD_KEYS',
      'set only together with TOKEN_ENCRYPTION_KEY (the new key)',
      [],
    );
  }
  return raw
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '')
    .map((k) => base64Key('TOKEN_ENCRYPTION_OLD_KEYS', k));
}

function optionalPort(env: Env, name: string): number | null {
  return optional(env, name) === null ? null : integer(env, name, 0, 0, 65535);
}

const STORE_SCHEMES = ['sqlite://', 'redis://', 'rediss://', 'postgres://', 'postgresql://'];

function storeUrl(env: Env, dataDir: string): string {
  const value = optional(env, 'STORE_URL') ?? `sqlite://${path.join(dataDir, 'katapult-chatops.sqlite')}`;
  const scheme = STORE_SCHEMES.find((s) => value.startsWith(s));
  if (!scheme || value.length <= scheme.length) {
    return mistake(
      'STORE_URL',
      'expected sqlite://<file>, redis://<host>:<port> or postgres://<user>@<host>/<database>',
      value,
    );
  }
  return value;
}

function oauth(env: Env): Config['slack']['oauth'] {
  const clientId = optional(env, 'SLACK_CLIENT_ID');
  if (clientId === null) return null;
  const expected = 'set with SLACK_CLIENT_ID: the value from Basic Information > App Credentials';
  const clientSecret = required(env, 'SLACK_CLIENT_SECRET', `${expected}`);
  const stateSecret = required(
    env,
    'SLACK_STATE_SECRET',
    'set with SLACK_CLIENT_ID: any long random string (`openssl rand -hex 32`)',
  );
  if (optional(env, 'SLACK_APP_TOKEN') !== null) {
    mistake(
      'SLACK_APP_TOKEN',
      'not used with OAuth (SLACK_CLIENT_ID): multi-workspace installs run in HTTP mode',
      null,
    );
  }
  if (optional(env, 'SLACK_BOT_TOKEN') !== null) {
    mistake(
      'SLACK_BOT_TOKEN',
      'not used with OAuth (SLACK_CLIENT_ID): each workspace gets its own token when it installs',
      null,
    );
  }
  if (optional(env, 'KATAPULT_API_TOKEN') !== null) {
    mistake(
      'KATAPULT_API_TOKEN',
      'not allowed with OAuth (SLACK_CLIENT_ID): each workspace must set its own token with /katapult token',
      null,
    );
  }
  return { clientId, clientSecret, stateSecret };
}

function defaultAccess(env: Env): 'admins' | 'everyone' {
  const value = (optional(env, 'KATAPULT_DEFAULT_ACCESS') ?? 'admins').toLowerCase();
  if (value !== 'admins' && value !== 'everyone') {
    return mistake('KATAPULT_DEFAULT_ACCESS', 'expected "admins" or "everyone"', 'admins');
  }
  return value;
}

/** The most a per-person daily limit can be (deployment or workspace setting). */
export const MAX_PER_USER_PER_DAY_CEILING = 10_000;

function maxPerUserPerDay(env: Env): number | null {
  const raw = optional(env, 'KATAPULT_MAX_PER_USER_PER_DAY');
  if (raw === null || raw.toLowerCase() === 'unlimited') return null;
  return integer(env, 'KATAPULT_MAX_PER_USER_PER_DAY', 0, 1, MAX_PER_USER_PER_DAY_CEILING);
}

function onOff(env: Env, name: string, on: string, off: string): boolean {
  const value = (optional(env, name) ?? off).toLowerCase();
  if (value !== on && value !== off) return mistake(name, `expected "${off}" or "${on}"`, false);
  return value === on;
}

/** Hours, decimals allowed (0.5 = 30 minutes), at most a week (request records are kept a week). */
function approvalTtlMs(env: Env): number {
  const raw = optional(env, 'APPROVAL_TTL_HOURS') ?? '24';
  const hours = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(hours > 0) || hours > 168) {
    return mistake('APPROVAL_TTL_HOURS', 'expected a number of hours above 0 and up to 168', 24 * 3_600_000);
  }
  return Math.max(1000, Math.round(hours * 3_600_000));
}

const LOG_LEVELS: readonly LogLevelName[] = ['debug', 'info', 'warn', 'error'];

/**
 * The configuration, or a `ConfigError` listing every mistake in `env` (not only the first), so that
 * an operator fixes them all before the next start.
 */
export function parseConfig(env: Env): Config {
  const outer = found;
  const problems: ConfigProblem[] = [];
  found = problems;
  let config: Config | undefined;
  try {
    config = readConfig(env);
  } catch (error) {
    // A reader that throws instead of calling mistake() stops the reading there: its mistake joins
    // those found before it.
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) if (!isWrong(problem.variable)) problems.push(problem);
  } finally {
    found = outer;
  }
  const [first, ...more] = problems;
  if (first) throw new ConfigError(first.variable, first.expected, more);
  // Undefined only when a ConfigError stopped the reading, and that left a problem above.
  return config as Config;
}

function readConfig(env: Env): Config {
  const oauthConfig = oauth(env);
  if (oauthConfig === null && !isWrong('SLACK_CLIENT_ID') && optional(env, 'SLACK_BOT_TOKEN') === null) {
    mistake(
      'SLACK_BOT_TOKEN',
      'missing; expected a bot token starting with "xoxb-" (see README "Set up"). To see the bot without a Slack workspace, run `npm run demo`',
      null,
    );
  }
  const botToken = prefixed(env, 'SLACK_BOT_TOKEN', 'xoxb-', 'a bot token', oauthConfig === null);
  const appToken = prefixed(env, 'SLACK_APP_TOKEN', 'xapp-', 'an app-level token', false);
  const signingSecret = optional(env, 'SLACK_SIGNING_SECRET');
  // A wrong SLACK_APP_TOKEN says nothing about the mode meant: then the signing secret is not asked for.
  const httpMode = (appToken === null && !isWrong('SLACK_APP_TOKEN')) || oauthConfig !== null;
  if (httpMode && signingSecret === null) {
    mistake(
      'SLACK_SIGNING_SECRET',
      'missing; HTTP mode (no SLACK_APP_TOKEN) needs the signing secret from Basic Information in the app settings. To see the bot without a Slack workspace, run `npm run demo`',
      null,
    );
  }
  let command = optional(env, 'SLACK_COMMAND') ?? '/katapult';
  if (!/^\/[a-z0-9_-]{1,31}$/.test(command)) {
    command = mistake(
      'SLACK_COMMAND',
      'expected a slash command such as /katapult (lower case, up to 32 characters)',
      '/katapult',
    );
  }
  let logLevel = (optional(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevelName)) {
    logLevel = mistake('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}`, 'info');
  }
  const dataDir = path.resolve(optional(env, 'DATA_DIR') ?? 'data');
  const store = storeUrl(env, dataDir);
  const key = encryptionKey(env);
  // A key generated into one machine's data folder is unknown to the other replicas (and to
  // installations stored centrally): a shared store needs the key set, the same everywhere.
  const sharedStore = !store.startsWith('sqlite://') && !isWrong('STORE_URL');
  if (key === null && (sharedStore || oauthConfig !== null)) {
    mistake(
      'TOKEN_ENCRYPTION_KEY',
      'required with a shared store (Redis, PostgreSQL) or OAuth; set the same 32-byte base64 key on every replica (`openssl rand -base64 32`)',
      null,
    );
  }
  const slackApiUrl = httpUrl(env, 'SLACK_API_URL', null);
  const audit = {
    retentionDays: integer(env, 'AUDIT_RETENTION_DAYS', 90, 1, 3650),
    maxPerWorkspace: integer(env, 'AUDIT_MAX_ENTRIES', 10_000, 20, 1_000_000),
    adminRetentionDays: integer(env, 'AUDIT_ADMIN_RETENTION_DAYS', 400, 1, 3650),
  };
  return {
    slack: {
      botToken,
      oauth: oauthConfig,
      signingSecret,
      appToken,
      apiUrl: slackApiUrl === null || slackApiUrl.endsWith('/') ? slackApiUrl : `${slackApiUrl}/`,
      command,
    },
    http: { port: integer(env, 'PORT', 3000, 0, 65535), metricsPort: optionalPort(env, 'METRICS_PORT') },
    katapult: {
      apiUrl: (httpUrl(env, 'KATAPULT_API_URL', 'https://api.katapult.io/core/v1') as string).replace(
        /\/+$/,
        '',
      ),
      fallbackToken: optional(env, 'KATAPULT_API_TOKEN'),
      timeoutMs: integer(env, 'KATAPULT_TIMEOUT_MS', 10_000, 100, 120_000),
    },
    store: { url: store },
    defaultAccess: defaultAccess(env),
    maxPerUserPerDay: maxPerUserPerDay(env),
    requireApproval: onOff(env, 'KATAPULT_REQUIRE_APPROVAL', 'on', 'off'),
    approvalTtlMs: approvalTtlMs(env),
    frozen: onOff(env, 'KATAPULT_FROZEN', 'true', 'false'),
    reminderLeadMinutes: integer(env, 'REMINDER_LEAD_MINUTES', 60, 0, 7 * 24 * 60),
    requests: {
      leaseMs: integer(env, 'REQUEST_LEASE_MS', 30_000, 500, 600_000),
      sweepMs: integer(env, 'REQUEST_SWEEP_MS', 10_000, 100, 600_000),
      maxAttempts: integer(env, 'REQUEST_MAX_ATTEMPTS', 5, 1, 100),
      concurrency: integer(env, 'REQUEST_CONCURRENCY', 64, 1, 256),
    },
    reconcileIntervalMinutes: integer(env, 'RECONCILE_INTERVAL_MINUTES', 60, 0, 7 * 24 * 60),
    retention: {
      finishedRequestMs: integer(env, 'REQUEST_RETENTION_DAYS', 7, 1, 3650) * 86_400_000,
      intervalMs: integer(env, 'RETENTION_SWEEP_MINUTES', 10, 0, 24 * 60) * 60_000,
      batchSize: integer(env, 'RETENTION_BATCH_SIZE', 200, 10, 5000),
      auditMs: audit.retentionDays * 86_400_000,
      adminAuditMs: audit.adminRetentionDays * 86_400_000,
    },
    audit,
    dataDir,
    encryptionKey: key,
    oldEncryptionKeys: oldEncryptionKeys(env, key),
    logLevel: logLevel as LogLevelName,
    proxy: proxySettings(env),
  };
}

/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY, each read lower case first (as curl does), upper case when the
 * lower-case one is unset or empty. A mistake names the variable as it was set and never shows the
 * value: a proxy URL may carry a user name and password.
 */
function proxySettings(env: Env): ProxySettings | null {
  const https = env.https_proxy?.trim() ? proxyUrl(env, 'https_proxy') : proxyUrl(env, 'HTTPS_PROXY');
  const http = env.http_proxy?.trim() ? proxyUrl(env, 'http_proxy') : proxyUrl(env, 'HTTP_PROXY');
  if (https === null && http === null) return null;
  const noProxy = optional(env, 'no_proxy') ?? optional(env, 'NO_PROXY') ?? '';
  return { https, http, noProxy };
}

/** A proxy's URL; `host:port` alone means `http://host:port` (as curl reads it). */
function proxyUrl(env: Env, name: string): string | null {
  const value = optional(env, name);
  if (value === null) return null;
  const expected = 'expected a proxy URL such as http://proxy.example.com:3128 (http:// or https://)';
  let url: URL;
  try {
    url = new URL(value.includes('://') ? value : `http://${value}`);
  } catch {
    return mistake(name, expected, null);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return mistake(name, `${expected}; other schemes (socks, …) are not supported`, null);
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    return mistake(name, `${expected}, without a path`, null);
  }
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    return mistake(name, `${expected}; percent-encode a "%" in the user name or password as %25`, null);
  }
  return url.href;
}
