/**
 * The one module that calls `fetch`. It sends one logical call to Katapult: each HTTP attempt under
 * its own timeout, the retries that retry.ts decides, the success body checked against a schema,
 * and every failure turned into one of the typed errors of errors.ts. The API token only ever
 * travels in the Authorization header: it is never put into an error message, an error property
 * or a URL, and a low-level error that holds it anyway is redacted here.
 */
import type { z } from 'zod';
import {
  KatapultApiError,
  KatapultNetworkError,
  KatapultResponseError,
  KatapultTimeoutError,
} from './errors.js';
import { lazySchema } from './lazy-schema.js';
import { decideRetry, type FailedAttempt, type RetryPolicy, resolveRetryPolicy } from './retry.js';
import type { KatapultOperation, KatapultRoute } from './routes.js';

/** The part of `fetch` the client uses. node-fetch's default export and the global `fetch` both fit. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

/** One HTTP attempt as reported to `onAttempt`. */
export interface KatapultAttempt {
  /** The route's name in KATAPULT_ROUTES, e.g. `scheduleDiskBackupPolicyDeletion`. */
  operation: string;
  /** 1 for the first attempt of a call. */
  attempt: number;
  durationMs: number;
  /** `ok`, Katapult's error code, `timeout`, `network`, or `http_<status>` for an answer that could not be read. */
  outcome: string;
  /** Whether the client will try again after this attempt. */
  willRetry: boolean;
}

export const DEFAULT_TIMEOUT_MS = 10000;
export const DEFAULT_USER_AGENT = 'katapult-chatops';

export interface TransportOptions {
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
  /** Called once per HTTP attempt, e.g. for metrics. If it throws, the error is ignored. */
  onAttempt?: (attempt: KatapultAttempt) => void;
}

/** One call: a route with its query string and JSON body. */
export interface CallSpec<T> {
  operation: KatapultOperation;
  route: KatapultRoute;
  query?: URLSearchParams;
  body?: unknown;
  schema: z.ZodType<T>;
  /** False for a call that must not be repeated after a lost answer (it is not idempotent). Default true. */
  retryTimeouts?: boolean;
}

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

export class KatapultTransport {
  private readonly baseUrl: string;
  private readonly fetch: FetchLike;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly userAgent: string;
  private readonly onAttempt: ((attempt: KatapultAttempt) => void) | undefined;

  constructor(opts: TransportOptions) {
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
    this.retry = resolveRetryPolicy(opts.retry);
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = opts.random ?? Math.random;
    this.userAgent = opts.userAgent ?? DEFAULT_USER_AGENT;
    this.onAttempt = opts.onAttempt;
  }

  /**
   * One logical call, with the retries retry.ts allows. The token must have been checked
   * (assertToken) by the caller.
   */
  async call<T>(token: string, spec: CallSpec<T>): Promise<{ data: T; requestId: string | null }> {
    const url = `${this.baseUrl}${spec.route.path}${spec.query ? `?${spec.query}` : ''}`;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      Accept: 'application/json',
      'User-Agent': this.userAgent,
    };
    const payload = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    if (payload !== undefined) headers['Content-Type'] = 'application/json';

    // Time spent on this call: attempts as measured plus back-offs as requested. Counting the
    // requested back-off (rather than reading a clock around it) keeps the budget honest when a
    // test injects an instant sleep.
    let spentMs = 0;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      const outcome = await this.attempt(url, spec.route.method, headers, payload, token);
      const durationMs = performance.now() - started;
      spentMs += durationMs;

      if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
        // A 2xx is final: its body is either what was asked for or an answer that cannot be read.
        const decoded = decodeSuccess(outcome, spec.schema);
        const ok = !(decoded instanceof KatapultResponseError);
        const label = ok ? 'ok' : outcomeLabel(decoded);
        this.report({ operation: spec.operation, attempt, durationMs, outcome: label, willRetry: false });
        if (!ok) throw decoded;
        return { data: decoded.data, requestId: outcome.requestId };
      }
      const error = this.failure(outcome, attempt, token);
      const decision = decideRetry(
        this.retry,
        {
          attempt,
          failure: failedAttempt(outcome, error),
          spentMs,
          retryTimeouts: spec.retryTimeouts ?? true,
        },
        this.random,
      );
      this.report({
        operation: spec.operation,
        attempt,
        durationMs,
        outcome: outcomeLabel(error),
        willRetry: decision.retry,
      });
      if (!decision.retry) throw error;
      await this.sleep(decision.delayMs);
      spentMs += decision.delayMs;
    }
  }

  private report(attempt: KatapultAttempt): void {
    try {
      this.onAttempt?.(attempt);
    } catch {
      // A metrics hook must never break a call.
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

  private failure(outcome: Attempt, attempts: number, token: string): Error {
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
        return decodeError(outcome, attempts, token);
    }
  }
}

/** The attempt as retry.ts sees it. */
function failedAttempt(outcome: Attempt, error: Error): FailedAttempt {
  if (outcome.kind !== 'response') return { kind: outcome.kind };
  const code = error instanceof KatapultApiError ? error.code : null;
  return { kind: 'response', status: outcome.status, code, retryAfter: outcome.retryAfter };
}

function outcomeLabel(error: Error): string {
  if (error instanceof KatapultApiError) return error.code;
  if (error instanceof KatapultTimeoutError) return 'timeout';
  if (error instanceof KatapultNetworkError) return 'network';
  if (error instanceof KatapultResponseError) return `http_${error.status}`;
  return 'error';
}

/** The body of one Katapult error: `code` is required, the rest is tolerated when missing. */
const errorBodySchema = lazySchema((z) =>
  z.object({
    code: z.string().min(1),
    description: z.string().nullish(),
    detail: z.unknown().optional(),
  }),
);

/** What Katapult really sends: `{"error":{"code":…,"description":…,"detail":{…}}}`. */
const wrappedErrorEnvelopeSchema = lazySchema((z) => z.object({ error: errorBodySchema() }));

/** What the OpenAPI document claims (and the generated clients expect): the same fields at the top level. */
const flatErrorEnvelopeSchema = errorBodySchema;

const detailSchema = lazySchema((z) => z.record(z.string(), z.unknown()));

/** Keeps `detail` only when it is a JSON object; anything else becomes `{}`. */
function errorDetail(value: unknown): Record<string, unknown> {
  const parsed = detailSchema().safeParse(value);
  return parsed.success ? parsed.data : {};
}

function decodeSuccess<T>(
  outcome: ResponseAttempt,
  schema: z.ZodType<T>,
): { data: T } | KatapultResponseError {
  const json = parseJson(outcome.text);
  if (!json.ok) return new KatapultResponseError(outcome.status, notJsonProblem(outcome), outcome.requestId);
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    return new KatapultResponseError(
      outcome.status,
      `unexpected response shape at ${where}${issue ? ` (${issue.code})` : ''}`,
      outcome.requestId,
    );
  }
  return { data: parsed.data };
}

/**
 * Real envelope first, then the flat form the OpenAPI document shows, then a bare `http_<status>`.
 * An error's description and detail end up in Slack messages (escaped, but not otherwise filtered),
 * so the token the call sent is blanked out of every string in them, should Katapult or a proxy
 * echo it back.
 */
function decodeError(
  outcome: ResponseAttempt,
  attempts: number,
  token: string,
): KatapultApiError | KatapultResponseError {
  const json = parseJson(outcome.text, (_key, value) =>
    typeof value === 'string' && token !== '' ? value.split(token).join('[redacted]') : value,
  );
  if (!json.ok) return new KatapultResponseError(outcome.status, notJsonProblem(outcome), outcome.requestId);
  const wrapped = wrappedErrorEnvelopeSchema().safeParse(json.value);
  const flat = wrapped.success ? null : flatErrorEnvelopeSchema().safeParse(json.value);
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

function parseJson(
  text: string,
  reviver?: (key: string, value: unknown) => unknown,
): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === '') return { ok: false };
  try {
    const value: unknown = JSON.parse(text, reviver);
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

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`KatapultClient: ${name} must be positive`);
  return value;
}
