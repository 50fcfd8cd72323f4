/**
 * Prometheus metrics, one registry per bot (tests run several bots in one process). Labels are
 * bounded sets (outcomes, operations, Slack methods and error codes): never a workspace or a user.
 * An outcome that carries a Katapult error code is one of a closed set (`outcomeLabel`): a code
 * Katapult does not document for the operations the bot uses counts as `other`.
 */
import { readFileSync } from 'node:fs';
import type { Counter, Gauge, Registry } from 'prom-client';
import { within } from './deadline.js';
import { isKatapultError } from './katapult/errors.js';

export interface PendingRequests {
  count: number;
  oldestAgeSeconds: number;
}

export interface MetricsDeps {
  /**
   * Requests accepted but not finished (the request log), read at each scrape. Read lazily from
   * this object, so the composition root may set it after the store is open.
   */
  pendingRequests?: () => Promise<PendingRequests>;
  /** This process's request worker queue, read at each scrape. */
  workerQueue?: () => { queued: number; running: number; oldestQueuedMs: number };
  /** Stored records per kind (src/scheduling/retention.ts), counted up to a bound; read at a scrape. */
  storedRecords?: () => Promise<Partial<Record<string, number>>>;
}

export interface Metrics {
  /** A slash command was handled: `outcome` is what it did (help, schedule, token, …). */
  command(outcome: string): void;
  /** A scheduling submission ended: scheduled, a Katapult error code, refused, invalid, duplicate, store_error. */
  submission(outcome: string): void;
  katapultRequest(operation: string, outcome: string, seconds: number): void;
  katapultRetry(operation: string): void;
  slackApiError(method: string, error: string): void;
  storeError(operation: string): void;
  dmFallback(): void;
  /** Reconcile kept a record Katapult answered 404 for, as the 404 was not proven (another organization's token?). */
  reconcileUnproven(): void;
  /** A request record that could not be read was ended `failed` (run-request.ts). */
  requestUnreadable(): void;
  /** Socket Mode only: the connection to Slack went up (true) or down (false). */
  socketModeConnected(up: boolean): void;
  /**
   * Workflow Builder steps (issue 21, item 4): an execution taken in (`accepted`, `refused`,
   * `invalid`, `store_error`) or completed (`completed`, `token_refused`, `gone`).
   */
  workflowStep(outcome: string): void;
  /** Prometheus text exposition. */
  render(): Promise<{ contentType: string; body: string }>;
}

export const PREFIX = 'katapult_chatops_';

/**
 * Every error code Katapult documents for the operations the bot uses (scheduling, reading and
 * listing policies, restoring from the trash, identifying a token: vendor/katapult/, checked against
 * the OpenAPI document by test/contract through support/fixtures/katapult), plus the Apia
 * framework's own codes.
 */
export const KATAPULT_ERROR_CODES: ReadonlySet<string> = new Set([
  'missing_api_token',
  'invalid_timestamp',
  'unauthorized_network_for_api_token',
  'invalid_api_token',
  'invalid_capabilities_token',
  'scope_not_granted',
  'permission_denied',
  'disk_backup_policy_not_found',
  'object_in_trash',
  'rate_limit_reached',
  'service_unavailable',
  'no_user_associated_with_identity',
  'trash_object_not_found',
  'organization_not_found',
  'organization_suspended',
  'organization_not_activated',
  'invalid_argument',
  'missing_required_argument',
  'invalid_json_body',
  'route_not_found',
  'unhandled_exception',
]);

/**
 * The bot's own outcomes: a Katapult call (`ok`, the failure kinds), a policy of a request
 * (run-request.ts), a submission turned away before it was recorded (submit-schedule.ts and its listener).
 */
export const OWN_OUTCOMES: ReadonlySet<string> = new Set([
  'ok',
  'error',
  'timeout',
  'network',
  'bad_response',
  'no_token',
  'store_unavailable',
  'invalid_format',
  'scheduled',
  'refused',
  'failed',
  'superseded',
  'not_run',
  'stopped',
  'invalid',
  'duplicate',
  'store_error',
]);

/**
 * An outcome as a label value, from a closed set: the bot's own outcomes, Katapult's documented
 * error codes, `http_<status>` (an answer without a code: at most 500 values), else `other`.
 */
export function outcomeLabel(outcome: string): string {
  if (OWN_OUTCOMES.has(outcome) || KATAPULT_ERROR_CODES.has(outcome)) return outcome;
  return /^http_[1-5]\d\d$/.test(outcome) ? outcome : 'other';
}

/** How long a scrape waits for the request log's pending count before it answers without it. */
const PENDING_READ_TIMEOUT_MS = 1000;

/** The package version, read from package.json beside src/ or dist/. */
export function packageVersion(): string {
  try {
    const raw = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(raw) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

type PromClient = typeof import('prom-client');

/** Calls recorded before prom-client is loaded; at this many it is loaded without waiting for a scrape. */
const CALLS_BEFORE_LOAD = 1_000;

/**
 * The bot's metrics. prom-client is loaded at the first scrape, not at start: loading it costs
 * ~40 ms of CPU, 25 of them for `@opentelemetry/api`, which it requires for exemplars the bot does
 * not use, and no request needs it. Until then each call is kept and replayed in order once it is
 * loaded, so no count is lost; `CALLS_BEFORE_LOAD` bounds what is kept (it is loaded then).
 * Node's default metrics (GC, event loop) start at that load.
 */
export function createMetrics(deps: MetricsDeps = {}): Metrics {
  type Recorder = Exclude<keyof Metrics, 'render'>;
  let real: Metrics | null = null;
  let loading: Promise<Metrics> | null = null;
  const kept: [Recorder, unknown[]][] = [];
  const load = () => {
    loading ??= import('prom-client').then((prom) => {
      const metrics = promMetrics(prom, deps);
      for (const [name, args] of kept.splice(0)) (metrics[name] as (...a: unknown[]) => void)(...args);
      real = metrics;
      return metrics;
    });
    return loading;
  };
  const record =
    <R extends Recorder>(name: R) =>
    (...args: Parameters<Metrics[R]>) => {
      if (real) (real[name] as (...a: unknown[]) => void)(...args);
      else if (kept.push([name, args]) === CALLS_BEFORE_LOAD) void load();
    };
  return {
    command: record('command'),
    submission: record('submission'),
    katapultRequest: record('katapultRequest'),
    katapultRetry: record('katapultRetry'),
    slackApiError: record('slackApiError'),
    storeError: record('storeError'),
    dmFallback: record('dmFallback'),
    reconcileUnproven: record('reconcileUnproven'),
    requestUnreadable: record('requestUnreadable'),
    socketModeConnected: record('socketModeConnected'),
    workflowStep: record('workflowStep'),
    render: async () => (await load()).render(),
  };
}

/** The metrics on prom-client's registry: one per bot (tests run several bots in one process). */
function promMetrics(prom: PromClient, deps: MetricsDeps): Metrics {
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry });
  const counters = registerCounters(prom, registry);
  registerRequestGauges(prom, registry, deps, pendingReader(deps, counters.storeErrors));
  registerStoredRecords(prom, registry, deps);
  new prom.Gauge({
    name: `${PREFIX}build_info`,
    help: 'Always 1; the labels say which build runs.',
    labelNames: ['version', 'node'],
    registers: [registry],
  }).set({ version: packageVersion(), node: process.versions.node }, 1);

  // Made on first use: in HTTP mode there is no connection to report, and a 0 would read as down.
  let socketConnected: Gauge | undefined;
  // Made on first use, like the Socket Mode gauge: most deployments have no workflow step.
  let workflowSteps: Counter | undefined;

  return {
    socketModeConnected(up) {
      socketConnected ??= new prom.Gauge({
        name: `${PREFIX}socket_mode_connected`,
        help: 'Socket Mode only: 1 while the connection to Slack is up, 0 while it is down or reconnecting.',
        registers: [registry],
      });
      socketConnected.set(up ? 1 : 0);
    },
    command: (outcome) => counters.commands.inc({ outcome }),
    submission: (outcome) => counters.submissions.inc({ outcome: outcomeLabel(outcome) }),
    katapultRequest(operation, outcome, seconds) {
      counters.katapultRequests.inc({ operation, outcome: outcomeLabel(outcome) });
      counters.katapultDuration.observe({ operation }, seconds);
    },
    katapultRetry: (operation) => counters.katapultRetries.inc({ operation }),
    slackApiError: (method, error) => counters.slackErrors.inc({ method, error }),
    storeError: (operation) => counters.storeErrors.inc({ operation }),
    dmFallback: () => counters.dmFallbacks.inc(),
    reconcileUnproven: () => counters.reconcileUnproven.inc(),
    workflowStep(outcome) {
      workflowSteps ??= new prom.Counter({
        name: `${PREFIX}workflow_steps_total`,
        help: 'Workflow Builder step executions, by outcome (accepted, refused, invalid, store_error; then completed, token_refused, gone).',
        labelNames: ['outcome'],
        registers: [registry],
      });
      workflowSteps.inc({ outcome });
    },
    requestUnreadable: () => counters.requestsUnreadable.inc(),
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/** The counters (and the Katapult duration histogram) every bot has. */
function registerCounters({ Counter, Histogram }: PromClient, registry: Registry) {
  const commands = new Counter({
    name: `${PREFIX}commands_total`,
    help: 'Slash commands and shortcuts handled, by outcome (shortcut_message, shortcut_global for the shortcuts).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const submissions = new Counter({
    name: `${PREFIX}submissions_total`,
    help: 'Scheduling submissions, by outcome (scheduled, a Katapult error code or other, refused, stopped, invalid, duplicate, store_error).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const katapultRequests = new Counter({
    name: `${PREFIX}katapult_requests_total`,
    help: 'Katapult API calls (after retries), by operation and outcome (ok, the error code, or other for a code Katapult does not document).',
    labelNames: ['operation', 'outcome'],
    registers: [registry],
  });
  const katapultDuration = new Histogram({
    name: `${PREFIX}katapult_request_duration_seconds`,
    help: 'Duration of Katapult API calls, retries included.',
    labelNames: ['operation'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40],
    registers: [registry],
  });
  const katapultRetries = new Counter({
    name: `${PREFIX}katapult_retries_total`,
    help: 'Katapult API attempts that were retried.',
    labelNames: ['operation'],
    registers: [registry],
  });
  const slackErrors = new Counter({
    name: `${PREFIX}slack_api_errors_total`,
    help: 'Slack Web API calls that failed, by method and error (Slack error code, http_<status>, ratelimited, request_error).',
    labelNames: ['method', 'error'],
    registers: [registry],
  });
  const storeErrors = new Counter({
    name: `${PREFIX}store_errors_total`,
    help: 'Store operations that failed, by operation.',
    labelNames: ['operation'],
    registers: [registry],
  });
  const dmFallbacks = new Counter({
    name: `${PREFIX}dm_fallbacks_total`,
    help: 'Outcomes sent as a direct message because the channel post failed.',
    registers: [registry],
  });
  const reconcileUnproven = new Counter({
    name: `${PREFIX}reconcile_unproven_total`,
    help: 'Katapult 404s reconcile could not prove mean the policy is gone (the token may belong to another organization): the record was kept. One per policy per pass.',
    registers: [registry],
  });
  const requestsUnreadable = new Counter({
    name: `${PREFIX}request_unreadable_total`,
    help: 'Request records that could not be read and were ended failed (see the request_unreadable_failed log line).',
    registers: [registry],
  });
  return {
    reconcileUnproven,
    commands,
    submissions,
    katapultRequests,
    katapultDuration,
    katapultRetries,
    slackErrors,
    storeErrors,
    dmFallbacks,
    requestsUnreadable,
  };
}

/**
 * The request log's pending count for a scrape: read once per scrape, within
 * PENDING_READ_TIMEOUT_MS; null (and a store error counted) when the store fails or is late.
 */
function pendingReader(deps: MetricsDeps, storeErrors: Counter): () => Promise<PendingRequests | null> {
  let pending: Promise<PendingRequests | null> | null = null;
  // The store read itself, while it is outstanding: a store that does not answer (a network
  // partition, a hung database) must not hold a scrape, nor pile up one more read per scrape.
  let reading: Promise<PendingRequests | null> | null = null;
  // Both gauges ask once per scrape: the first collect starts the read, the second reuses it.
  return (): Promise<PendingRequests | null> => {
    if (!pending) {
      const source = deps.pendingRequests;
      if (source && !reading) {
        const read: Promise<PendingRequests | null> = source()
          .catch(() => {
            storeErrors.inc({ operation: 'pending_requests' });
            return null;
          })
          .finally(() => {
            if (reading === read) reading = null;
          });
        reading = read;
      }
      const bounded = reading
        ? within(reading, PENDING_READ_TIMEOUT_MS, 'late' as const).then((answer) => {
            if (answer !== 'late') return answer;
            // No answer in time: the scrape goes on without it, and the store error shows.
            storeErrors.inc({ operation: 'pending_requests' });
            return null;
          })
        : Promise.resolve(null);
      pending = bounded.finally(() => {
        setImmediate(() => {
          pending = null;
        });
      });
    }
    return pending;
  };
}

/** The gauges of requests not yet finished (the request log) and of this process's worker queue. */
function registerRequestGauges(
  { Gauge }: PromClient,
  registry: Registry,
  deps: MetricsDeps,
  readPending: () => Promise<PendingRequests | null>,
): void {
  new Gauge({
    name: `${PREFIX}requests_pending`,
    help: 'Requests accepted and not yet finished.',
    registers: [registry],
    async collect() {
      this.set((await readPending())?.count ?? 0);
    },
  });
  new Gauge({
    name: `${PREFIX}requests_oldest_pending_age_seconds`,
    help: 'Age of the oldest request not yet finished (0 when none).',
    registers: [registry],
    async collect() {
      this.set((await readPending())?.oldestAgeSeconds ?? 0);
    },
  });
  new Gauge({
    name: `${PREFIX}request_queue_size`,
    help: "Requests waiting in this process's worker queue (bounded; beyond it the sweep picks them up).",
    registers: [registry],
    collect() {
      this.set(deps.workerQueue?.().queued ?? 0);
    },
  });
  new Gauge({
    name: `${PREFIX}request_queue_oldest_age_seconds`,
    help: "How long the oldest request in this process's worker queue has waited (0 when none).",
    registers: [registry],
    collect() {
      this.set((deps.workerQueue?.().oldestQueuedMs ?? 0) / 1000);
    },
  });
  new Gauge({
    name: `${PREFIX}requests_running`,
    help: 'Requests this process is running now (at most REQUEST_CONCURRENCY).',
    registers: [registry],
    collect() {
      this.set(deps.workerQueue?.().running ?? 0);
    },
  });
}

/** A Katapult failure as a label value: Katapult's error code, else the failure kind. */
function katapultOutcome(error: unknown): string {
  if (!isKatapultError(error)) return 'error';
  return error.kind === 'api' ? error.code : error.kind;
}

/**
 * The Katapult client with each named method timed and counted (`operations` maps method name to
 * the `operation` label). Other properties pass through untouched.
 */
export function instrumentKatapult<T extends object>(
  client: T,
  metrics: Metrics,
  operations: Partial<Record<keyof T & string, string>>,
  clock: () => number = () => performance.now(),
): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      const operation = typeof property === 'string' ? operations[property as keyof T & string] : undefined;
      if (typeof value !== 'function' || operation === undefined) {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (...args: unknown[]) => {
        const started = clock();
        try {
          const result: unknown = await value.apply(target, args);
          metrics.katapultRequest(operation, 'ok', (clock() - started) / 1000);
          return result;
        } catch (error) {
          metrics.katapultRequest(operation, katapultOutcome(error), (clock() - started) / 1000);
          throw error;
        }
      };
    },
  });
}

type FetchFunction = typeof globalThis.fetch;

const NOT_OK = /"ok"\s*:\s*false/;

function countPlatformError(metrics: Metrics, method: string, text: string): void {
  try {
    const body = JSON.parse(text) as { ok?: unknown; error?: unknown };
    if (body.ok === false) {
      metrics.slackApiError(method, typeof body.error === 'string' ? body.error.slice(0, 64) : 'unknown');
    }
  } catch {
    // Not JSON after all: the WebClient reports it.
  }
}

/**
 * A `fetch` for the Slack WebClient that counts failed Web API calls by method and error: a
 * non-200 status, an `ok: false` body, or no answer. Every attempt counts (retries included).
 */
export function countingSlackFetch(metrics: Metrics, inner: FetchFunction = globalThis.fetch): FetchFunction {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = /\/([a-zA-Z][\w.]*)\/?(?:\?.*)?$/.exec(url)?.[1] ?? 'unknown';
    let response: Response;
    try {
      response = await inner(input, init);
    } catch (error) {
      metrics.slackApiError(method, 'request_error');
      throw error;
    }
    if (response.status === 429) {
      metrics.slackApiError(method, 'ratelimited');
    } else if (response.status !== 200) {
      metrics.slackApiError(method, `http_${response.status}`);
    } else if (response.headers.get('content-type')?.includes('json')) {
      // Counted when the Web client reads the body (it calls text() once): no second read, no copy
      // of the response. The body is parsed here only when it says `"ok": false`.
      const read = response.text.bind(response);
      Object.defineProperty(response, 'text', {
        value: async () => {
          const text = await read();
          if (NOT_OK.test(text)) countPlatformError(metrics, method, text);
          return text;
        },
      });
    }
    return response;
  };
}

/**
 * Wraps every method of `target` (the store, its audit log, its Keyv) so a failing call counts a
 * store error labelled `<prefix><method>`. Methods the interface gains later are covered too.
 */
export function countStoreFailures<T extends object>(
  target: T,
  metrics: Metrics,
  prefix: string,
  /** Properties holding objects to wrap too, with their label prefix (e.g. `{ kv: 'kv_' }`). */
  nested: Record<string, string> = {},
): T {
  const wrapped = new Map<string, unknown>();
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof property === 'string' && property in nested && typeof value === 'object' && value !== null) {
        if (!wrapped.has(property)) {
          wrapped.set(property, countStoreFailures(value, metrics, nested[property] as string));
        }
        return wrapped.get(property);
      }
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const operation = `${prefix}${property}`;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = value.apply(object, args);
        } catch (error) {
          metrics.storeError(operation);
          throw error;
        }
        if (result instanceof Promise) {
          return result.catch((error: unknown) => {
            metrics.storeError(operation);
            throw error;
          });
        }
        return result;
      };
    },
  });
}

/**
 * Stored records per kind: what retention keeps. Growth between releases, not a level, is the
 * signal (deploy/prometheus/alerts.yml KatapultChatopsStoredRecordsGrowing). A read that fails or
 * takes over a second leaves the last values.
 */
function registerStoredRecords({ Gauge }: PromClient, registry: Registry, deps: MetricsDeps): void {
  new Gauge({
    name: `${PREFIX}stored_records`,
    help: 'Records kept in the store, per kind (requests, upcoming, locks, …), counted up to 100,000.',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      const read = deps.storedRecords;
      if (!read) return;
      const counts = await within(
        read().catch(() => null),
        1_000,
        null,
      );
      for (const [kind, count] of Object.entries(counts ?? {})) {
        if (count !== undefined) this.set({ kind }, count);
      }
    },
  });
}
