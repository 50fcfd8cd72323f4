/**
 * The Katapult Core API client: the only module that calls `fetch`.
 *
 * Every response is checked at run time (see schemas.ts), every failure becomes one of the typed
 * errors in errors.ts, and the API token only ever travels in the Authorization header: it is never
 * put into an error message, an error property or a URL.
 */
import type { z } from 'zod';
import {
  KatapultApiError,
  KatapultNetworkError,
  KatapultResponseError,
  KatapultTimeoutError,
} from './errors.js';
import {
  currentUserResponseSchema,
  diskBackupPolicyResponseSchema,
  errorDetail,
  flatErrorEnvelopeSchema,
  type NamedTarget,
  normalizeNamedTarget,
  normalizeRetention,
  normalizeSchedule,
  normalizeTarget,
  normalizeTotalSize,
  organizationPoliciesResponseSchema,
  organizationsResponseSchema,
  type PolicySchedule,
  scheduleDeletionResponseSchema,
  type TargetType,
  trashObjectResponseSchema,
  wrappedErrorEnvelopeSchema,
} from './schemas.js';

export type { NamedTarget, PolicySchedule } from './schemas.js';

/** The part of `fetch` the client uses. node-fetch's default export and the global `fetch` both fit. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  /** Ceiling of the first back-off; it doubles for each further retry. */
  baseDelayMs: number;
  /** No single back-off (nor an honoured Retry-After) is longer than this. */
  maxDelayMs: number;
  /** No retry is made if its back-off would take the time spent on the call past this. */
  maxTotalMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 4000,
  maxTotalMs: 15000,
});
export const DEFAULT_TIMEOUT_MS = 10000;
export const DEFAULT_USER_AGENT = 'katapult-chatops';

export interface KatapultClientOptions {
  /** e.g. `https://api.katapult.io/core/v1`; a trailing slash is tolerated. */
  baseUrl: string;
  fetch: FetchLike;
  /** Per attempt, default 10000. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Injectable for tests; default is a real timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number;
  /** Default `katapult-chatops`. */
  userAgent?: string;
}

export interface ScheduledDeletion {
  policyId: string;
  /** Unix seconds. */
  autoMoveToTrashAt: number | null;
  target: { type: TargetType | null; id: string | null };
  /** Katapult's X-Request-Id header. */
  requestId: string | null;
}

export interface KatapultIdentity {
  organizations: { id: string; name: string; subDomain: string | null }[];
  /** "First Last" from /users/current; null for organization tokens. */
  userName: string | null;
}

/**
 * One disk backup policy as `GET /disk_backup_policies/disk_backup_policy` gives it.
 *
 * About `totalSize`: Katapult documents `total_size` only as an Apia `Decimal` (OpenAPI: `number`,
 * format `float`) with no description, and no recording of it was found, so its unit is UNKNOWN
 * (it is not named `…_in_gb` like the API's other sizes, and it may well be bytes or GB). It is
 * passed through unconverted; show it with that caveat or not at all.
 */
export interface DiskBackupPolicyDetails {
  id: string;
  /** Number of backups kept. */
  retention: number | null;
  /** Katapult's `total_size`, unconverted; unit undocumented (see above). */
  totalSize: number | null;
  target: NamedTarget;
  schedule: PolicySchedule | null;
  /** Unix seconds; null when no deletion is scheduled. */
  autoMoveToTrashAt: number | null;
  /** Katapult's X-Request-Id header. */
  requestId: string | null;
}

export interface PolicySummary {
  id: string;
  target: NamedTarget;
  retention: number | null;
  /** Unconverted, unit undocumented (see DiskBackupPolicyDetails). */
  totalSize: number | null;
  /** The list gives only `interval` and `next_invocation_at`; the other fields are null. Null when absent. */
  schedule: PolicySchedule | null;
}

/**
 * One page of an organization's policies. List items carry no `auto_move_to_trash_at`: to know
 * whether a policy is scheduled for deletion, get it with getDiskBackupPolicy.
 */
export interface PolicyPage {
  policies: PolicySummary[];
  /** Katapult's `current_page`, or the page asked for when it gave none. */
  page: number;
  /** Null when Katapult does not count (`large_set`) or gave none. */
  totalPages: number | null;
  /** Katapult's `per_page`, or the value asked for when it gave none. */
  perPage: number;
  /** Number of policies across all pages; null when not counted. */
  total: number | null;
  /** Katapult's `large_set`: true when it does not count the set (total and totalPages then null). */
  largeSet: boolean;
  requestId: string | null;
}

export interface RestoredTrashObject {
  /** The trash object's id (`trsh_…`). */
  id: string | null;
  /** The restored object's id, e.g. the policy id. */
  objectId: string | null;
  /** e.g. `DiskBackupPolicy` (UNCERTAIN: the exact string for a policy has not been seen). */
  objectType: string | null;
  /** Unix seconds until which it would have been kept in the trash. */
  keepUntil: number | null;
  requestId: string | null;
}

/** `per_page` Katapult uses when none is given. */
export const DEFAULT_POLICIES_PER_PAGE = 30;

/** Anything at or above this is surely milliseconds (it is the year 5138 in seconds). */
const FIRST_MILLISECOND_LOOKING_TIMESTAMP = 100_000_000_000;

/** Codes for which identify() falls back from /users/current to /organizations. */
const NOT_A_USER_TOKEN_CODES = new Set(['no_user_associated_with_identity', 'scope_not_granted']);

type Attempt =
  | {
      kind: 'response';
      status: number;
      text: string;
      requestId: string | null;
      contentType: string | null;
      retryAfter: string | null;
    }
  | { kind: 'timeout' }
  | { kind: 'network'; cause: unknown };

type ResponseAttempt = Extract<Attempt, { kind: 'response' }>;

export class KatapultClient {
  private readonly baseUrl: string;
  private readonly fetch: FetchLike;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly userAgent: string;

  constructor(opts: KatapultClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(opts.baseUrl);
    } catch {
      throw new TypeError('KatapultClient: baseUrl must be an absolute URL');
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new TypeError('KatapultClient: baseUrl must be an http(s) URL');
    }
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.fetch = opts.fetch;
    this.timeoutMs = positive('timeoutMs', opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const retry = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) {
      throw new RangeError('KatapultClient: retry.maxAttempts must be an integer of at least 1');
    }
    this.retry = {
      maxAttempts: retry.maxAttempts,
      baseDelayMs: nonNegative('retry.baseDelayMs', retry.baseDelayMs),
      maxDelayMs: nonNegative('retry.maxDelayMs', retry.maxDelayMs),
      maxTotalMs: nonNegative('retry.maxTotalMs', retry.maxTotalMs),
    };
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = opts.random ?? Math.random;
    this.userAgent = opts.userAgent ?? DEFAULT_USER_AGENT;
  }

  /**
   * Asks Katapult to move a disk backup policy to the trash at `at` (Unix **seconds**, at least five
   * minutes ahead; Katapult checks that and answers 400 `invalid_timestamp` otherwise).
   * `DELETE {base}/disk_backup_policies/disk_backup_policy/schedule` with
   * `{"disk_backup_policy":{"id":policyId},"timestamp":at}`.
   */
  async scheduleDiskBackupPolicyDeletion(
    token: string,
    policyId: string,
    at: number,
  ): Promise<ScheduledDeletion> {
    assertToken(token);
    if (typeof policyId !== 'string' || policyId.trim() === '') {
      throw new TypeError('policyId must be a non-empty string');
    }
    if (typeof at !== 'number' || !Number.isInteger(at)) {
      throw new TypeError('at must be an integer number of Unix seconds');
    }
    if (at <= 0) throw new RangeError('at must be a positive number of Unix seconds');
    if (at >= FIRST_MILLISECOND_LOOKING_TIMESTAMP) {
      throw new RangeError('at looks like milliseconds; pass Unix seconds');
    }

    const { data, requestId } = await this.call(
      token,
      'DELETE',
      '/disk_backup_policies/disk_backup_policy/schedule',
      { disk_backup_policy: { id: policyId }, timestamp: at },
      scheduleDeletionResponseSchema,
    );
    const policy = data.disk_backup_policy;
    return {
      policyId: policy.id,
      autoMoveToTrashAt: policy.auto_move_to_trash_at ?? null,
      target: normalizeTarget(policy.target),
      requestId,
    };
  }

  /**
   * Checks a token and says whom it belongs to. `GET /users/current` needs no scope but only works
   * for user tokens; when Katapult answers `no_user_associated_with_identity` (an organization
   * token) or `scope_not_granted`, this asks `GET /organizations` instead. Any other failure
   * (for example 403 `invalid_api_token`) is thrown as is.
   */
  async identify(token: string): Promise<KatapultIdentity> {
    assertToken(token);
    try {
      const { data } = await this.call(token, 'GET', '/users/current', undefined, currentUserResponseSchema);
      return { organizations: data.organizations.map(toOrganization), userName: fullName(data.user) };
    } catch (error) {
      if (!(error instanceof KatapultApiError && NOT_A_USER_TOKEN_CODES.has(error.code))) throw error;
    }
    try {
      const { data } = await this.call(
        token,
        'GET',
        '/organizations',
        undefined,
        organizationsResponseSchema,
      );
      return { organizations: data.organizations.map(toOrganization), userName: null };
    } catch (error) {
      // Katapult authenticates before it checks scopes: a scope refusal means the token itself is
      // good, only its organization cannot be named (no organizations:read).
      if (error instanceof KatapultApiError && error.code === 'scope_not_granted') {
        return { organizations: [], userName: null };
      }
      throw error;
    }
  }

  /**
   * One policy with its schedule, retention, target (with name) and `auto_move_to_trash_at`.
   * `GET {base}/disk_backup_policies/disk_backup_policy?disk_backup_policy%5Bid%5D=<policyId>`
   * (Apia's bracket lookup, URL-encoded). Needs scope `disk_backup_policies` or
   * `disk_backup_policies:read`. Errors as for scheduling, notably 404
   * `disk_backup_policy_not_found` and 406 `object_in_trash` (with `detail.trash_object`).
   */
  async getDiskBackupPolicy(token: string, policyId: string): Promise<DiskBackupPolicyDetails> {
    assertToken(token);
    assertId('policyId', policyId);
    const query = new URLSearchParams({ 'disk_backup_policy[id]': policyId });
    const { data, requestId } = await this.call(
      token,
      'GET',
      `/disk_backup_policies/disk_backup_policy?${query}`,
      undefined,
      diskBackupPolicyResponseSchema,
    );
    const policy = data.disk_backup_policy;
    return {
      id: policy.id,
      retention: normalizeRetention(policy.retention),
      totalSize: normalizeTotalSize(policy.total_size),
      target: normalizeNamedTarget(policy.target),
      schedule: normalizeSchedule(policy.schedule),
      autoMoveToTrashAt: policy.auto_move_to_trash_at ?? null,
      requestId,
    };
  }

  /**
   * One page of an organization's disk backup policies.
   * `GET {base}/organizations/organization/disk_backup_policies?organization%5Bid%5D=…&page=…&per_page=…`.
   * `page` starts at 1; `perPage` defaults to Katapult's own default, 30. Errors include 404
   * `organization_not_found` and 403 `organization_suspended` / `organization_not_activated`.
   */
  async listOrganizationPolicies(
    token: string,
    organizationId: string,
    page = 1,
    perPage = DEFAULT_POLICIES_PER_PAGE,
  ): Promise<PolicyPage> {
    assertToken(token);
    assertId('organizationId', organizationId);
    assertPositiveInteger('page', page);
    assertPositiveInteger('perPage', perPage);
    const query = new URLSearchParams({
      'organization[id]': organizationId,
      page: String(page),
      per_page: String(perPage),
    });
    const { data, requestId } = await this.call(
      token,
      'GET',
      `/organizations/organization/disk_backup_policies?${query}`,
      undefined,
      organizationPoliciesResponseSchema,
    );
    const pagination = data.pagination ?? {};
    return {
      policies: data.disk_backup_policies.map((policy) => ({
        id: policy.id,
        target: normalizeNamedTarget(policy.target),
        retention: normalizeRetention(policy.retention),
        totalSize: normalizeTotalSize(policy.total_size),
        schedule: normalizeSchedule(policy.schedule),
      })),
      page: pagination.current_page ?? page,
      totalPages: pagination.total_pages ?? null,
      perPage: pagination.per_page ?? perPage,
      total: pagination.total ?? null,
      largeSet: pagination.large_set ?? false,
      requestId,
    };
  }

  /**
   * Takes an object (here: a disk backup policy moved to the trash) back out of the trash, which
   * Katapult allows until the trash object's `keep_until`.
   * `POST {base}/trash_objects/trash_object/restore` with `{"trash_object":{"object_id":objectId}}`.
   * Needs scope `trash_objects:restore` (403 `scope_not_granted` otherwise); 404
   * `trash_object_not_found` when the object is not in the trash (never trashed, already restored,
   * or purged).
   *
   * Retries as the other calls, except after a timeout: restoring is not idempotent (a repeat of a
   * restore that did happen answers 404 `trash_object_not_found`), so a lost answer is reported
   * as a KatapultTimeoutError rather than turned into a misleading 404.
   */
  async restoreTrashObject(token: string, objectId: string): Promise<RestoredTrashObject> {
    assertToken(token);
    assertId('objectId', objectId);
    const { data, requestId } = await this.call(
      token,
      'POST',
      '/trash_objects/trash_object/restore',
      { trash_object: { object_id: objectId } },
      trashObjectResponseSchema,
      { retryTimeouts: false },
    );
    const trash = data.trash_object;
    return {
      id: trash.id ?? null,
      objectId: trash.object_id ?? null,
      objectType: trash.object_type ?? null,
      keepUntil: trash.keep_until ?? null,
      requestId,
    };
  }

  /**
   * One logical call, with retries.
   *
   * Retried: 429 `rate_limit_reached`, any 503, a failed connection, and an attempt that timed out.
   * A timeout is retried because both operations are idempotent (scheduling the same policy for the
   * same second twice leaves the same state) and a lost answer is most often a transient network
   * problem. The retry budget still bounds it: the time spent in attempts counts against
   * `maxTotalMs`, so after a timeout of `timeoutMs` there is room for few (with the defaults, one)
   * further attempts. The worst case for one call is therefore about `maxTotalMs + timeoutMs`.
   * Nothing else is retried: a 400/403/404/406 will not change, a 500 may have done the work, and
   * a 502 from a proxy says nothing about whether Katapult acted. The GETs are retried on the same
   * conditions; `retryTimeouts: false` (restoring from the trash, which is not idempotent) leaves
   * out the timeout.
   */
  private async call<T>(
    token: string,
    method: string,
    path: string,
    body: unknown,
    schema: z.ZodType<T>,
    options: { retryTimeouts?: boolean } = {},
  ): Promise<{ data: T; requestId: string | null }> {
    const url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      Accept: 'application/json',
      'User-Agent': this.userAgent,
    };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers['Content-Type'] = 'application/json';

    // Time spent on this call: attempts as measured plus back-offs as requested. Counting the
    // requested back-off (rather than reading a clock around it) keeps the budget honest when a
    // test injects an instant sleep.
    let spentMs = 0;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      const outcome = await this.attempt(url, method, headers, payload, token);
      spentMs += performance.now() - started;

      if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
        return { data: decodeSuccess(outcome, schema), requestId: outcome.requestId };
      }
      const error = this.failure(outcome, attempt);
      const retryable =
        isRetryable(outcome, error) && (outcome.kind !== 'timeout' || options.retryTimeouts !== false);
      if (!retryable || attempt >= this.retry.maxAttempts) throw error;
      const delay = this.backoffMs(attempt, outcome.kind === 'response' ? outcome.retryAfter : null);
      if (spentMs + delay > this.retry.maxTotalMs) throw error;
      await this.sleep(delay);
      spentMs += delay;
    }
  }

  private async attempt(
    url: string,
    method: string,
    headers: Record<string, string>,
    payload: string | undefined,
    token: string,
  ): Promise<Attempt> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      const init: Parameters<FetchLike>[1] = { method, headers: { ...headers }, signal: controller.signal };
      if (payload !== undefined) init.body = payload;
      const res = await this.fetch(url, init);
      // The body is read under the same timer: a server that sends headers and then stalls times out too.
      const text = await res.text();
      return {
        kind: 'response',
        status: res.status,
        text,
        requestId: res.headers.get('x-request-id'),
        contentType: res.headers.get('content-type'),
        retryAfter: res.headers.get('retry-after'),
      };
    } catch (cause) {
      if (controller.signal.aborted) return { kind: 'timeout' };
      return { kind: 'network', cause: redact(cause, token) };
    } finally {
      clearTimeout(timer);
    }
  }

  private failure(outcome: Attempt, attempts: number): Error {
    switch (outcome.kind) {
      case 'timeout':
        return new KatapultTimeoutError(this.timeoutMs, attempts);
      case 'network':
        return new KatapultNetworkError(
          `Could not reach Katapult (${describeNetworkFailure(outcome.cause)}) after ${attempts} attempt${
            attempts === 1 ? '' : 's'
          }`,
          attempts,
          { cause: outcome.cause },
        );
      case 'response':
        return decodeError(outcome, attempts);
    }
  }

  /**
   * Back-off before retry number `retry` (1 = the first retry). A `Retry-After` of delta-seconds is
   * honoured as given, capped at `maxDelayMs`. Otherwise capped exponential with "equal jitter":
   * ceiling = min(maxDelayMs, baseDelayMs * 2^(retry-1)), delay uniform in [ceiling/2, ceiling].
   * Equal rather than full jitter so that a rate-limited client always waits a little.
   */
  private backoffMs(retry: number, retryAfter: string | null): number {
    const { baseDelayMs, maxDelayMs } = this.retry;
    const askedMs = parseRetryAfterMs(retryAfter);
    if (askedMs !== null) return Math.min(maxDelayMs, askedMs);
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1));
    const r = Math.min(1, Math.max(0, this.random()));
    return Math.round(ceiling / 2 + (r * ceiling) / 2);
  }
}

function isRetryable(outcome: Attempt, error: Error): boolean {
  if (outcome.kind !== 'response') return true;
  if (outcome.status === 503) return true;
  return outcome.status === 429 && error instanceof KatapultApiError && error.code === 'rate_limit_reached';
}

function decodeSuccess<T>(outcome: ResponseAttempt, schema: z.ZodType<T>): T {
  const json = parseJson(outcome.text);
  if (!json.ok) {
    throw new KatapultResponseError(outcome.status, notJsonProblem(outcome), outcome.requestId);
  }
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    throw new KatapultResponseError(
      outcome.status,
      `unexpected response shape at ${where}${issue ? ` (${issue.code})` : ''}`,
      outcome.requestId,
    );
  }
  return parsed.data;
}

/** Real envelope first, then the flat form the OpenAPI document shows, then a bare `http_<status>`. */
function decodeError(outcome: ResponseAttempt, attempts: number): KatapultApiError | KatapultResponseError {
  const json = parseJson(outcome.text);
  if (!json.ok) return new KatapultResponseError(outcome.status, notJsonProblem(outcome), outcome.requestId);
  const wrapped = wrappedErrorEnvelopeSchema.safeParse(json.value);
  const flat = wrapped.success ? null : flatErrorEnvelopeSchema.safeParse(json.value);
  const body = wrapped.success ? wrapped.data.error : flat?.success ? flat.data : null;
  if (body === null) {
    return new KatapultApiError(
      outcome.status,
      `http_${outcome.status}`,
      null,
      {},
      outcome.requestId,
      attempts,
    );
  }
  return new KatapultApiError(
    outcome.status,
    body.code,
    body.description ?? null,
    errorDetail(body.detail),
    outcome.requestId,
    attempts,
  );
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === '') return { ok: false };
  try {
    const value: unknown = JSON.parse(text);
    return { ok: true, value };
  } catch {
    return { ok: false };
  }
}

/** A short description of a body that is not JSON; never the body itself. */
function notJsonProblem(outcome: ResponseAttempt): string {
  if (outcome.text.trim() === '') return 'empty body';
  const mime = (outcome.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const safeMime = /^[\w.+-]+\/[\w.+-]+$/.test(mime) ? mime.slice(0, 80) : null;
  if (safeMime?.endsWith('json')) return `invalid JSON (${safeMime})`;
  return `not JSON (${safeMime ?? 'no content type'})`;
}

/** Delta-seconds only; an HTTP-date or anything else is ignored (Katapult has never been seen to send either). */
function parseRetryAfterMs(value: string | null): number | null {
  if (value === null || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return null;
  return Math.round(Number(value) * 1000);
}

function describeNetworkFailure(cause: unknown): string {
  if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string') {
    return cause.code.slice(0, 40);
  }
  return cause instanceof Error ? cause.name : 'unknown error';
}

/**
 * A low-level error should not hold the token (node-fetch's do not: they name the URL, never the
 * headers), but an injected fetch could do anything. If the token shows up anyway, the cause is
 * replaced by a copy with it blanked out.
 */
function redact(cause: unknown, token: string): unknown {
  if (!(cause instanceof Error))
    return typeof cause === 'string' ? cause.split(token).join('[redacted]') : cause;
  const leaks = [cause.message, cause.stack ?? '', safeStringify(cause)].some((s) => s.includes(token));
  if (!leaks) return cause;
  const copy = new Error(cause.message.split(token).join('[redacted]'));
  copy.name = cause.name;
  copy.stack = (cause.stack ?? '').split(token).join('[redacted]');
  return copy;
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

function assertToken(token: string): void {
  const unsafe = [...String(token)].some((ch) => ch.charCodeAt(0) <= 0x20 || ch.charCodeAt(0) === 0x7f);
  if (typeof token !== 'string' || token === '' || unsafe) {
    throw new TypeError('token must be a non-empty string without whitespace or control characters');
  }
}

function assertId(name: string, value: string): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`${name} must be a non-empty string`);
  }
}

function assertPositiveInteger(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer`);
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`KatapultClient: ${name} must be positive`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`KatapultClient: ${name} must not be negative`);
  return value;
}

function toOrganization(org: { id: string; name: string; sub_domain?: string | null | undefined }) {
  return { id: org.id, name: org.name, subDomain: org.sub_domain ?? null };
}

function fullName(user: { first_name?: string | null | undefined; last_name?: string | null | undefined }) {
  const name = [user.first_name, user.last_name]
    .filter((part) => typeof part === 'string' && part.trim() !== '')
    .join(' ')
    .trim();
  return name === '' ? null : name;
}
