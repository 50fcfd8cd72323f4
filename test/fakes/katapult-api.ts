/**
 * An in-process fake of the Katapult Core API on 127.0.0.1:<random port>, for unit, contract and
 * end-to-end tests. Its default answers copy the real API as documented in
 * shared/katapult/FINDINGS.md: errors in the wrapped envelope `{"error":{code,description,detail}}`
 * with `X-Api-Schema: json-error`, polymorphs as `{type, value}`, `X-Request-Id` and rate-limit
 * headers on every answer, and Apia's order of checks (route, token, scope, arguments, lookup).
 *
 * Every request is recorded; tests can queue scripted replies per route ahead of the defaults.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type ErrorFixtureCode, errorFixtures } from '../fixtures/katapult/index.js';

export interface RecordedKatapultRequest {
  method: string;
  /** Without the `/core/v1` prefix. */
  path: string;
  query: Record<string, string>;
  /** Lower-case names, as node:http gives them. */
  headers: Record<string, string | undefined>;
  rawBody: string;
  /** `rawBody` parsed as JSON; undefined when empty or not JSON. */
  body: unknown;
}

export type FakeKatapultReply =
  | { status: number; body?: unknown; rawBody?: string; headers?: Record<string, string>; delayMs?: number }
  | { hangUp: true };

/**
 * What the fake knows about a token. A plain string in `setTokens` is shorthand for
 * `{ organization: <string> }`: a user token, with every scope, belonging to that organization.
 */
export interface FakeKatapultToken {
  organization: string;
  /** The token's user; `null` makes it an organization token (then /users/current answers 404). Default Ada Lovelace. */
  user?: { firstName: string; lastName: string } | null;
  /** Scopes granted; omitted means all. */
  scopes?: string[];
}

export interface FakeKatapult {
  /** http://127.0.0.1:<port>/core/v1 */
  readonly baseUrl: string;
  readonly requests: RecordedKatapultRequest[];
  /** Replies for the next calls to `${method} ${path}` (path without /core/v1), consumed in order; when none are queued the default behaviour answers. */
  enqueue(route: string, ...replies: FakeKatapultReply[]): void;
  /** Tokens the default behaviour accepts, with the organization each belongs to; others get 403 invalid_api_token. Default: {'kt-valid-token': 'Acme Ops'}. */
  setTokens(tokens: Record<string, string | FakeKatapultToken>): void;
  /** Added to every default answer (default 0). */
  latencyMs: number;
  /** Clears requests and queues. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeKatapultOptions {
  latencyMs?: number;
  /** Clock for the `invalid_timestamp` check, in milliseconds like Date.now (the default). */
  now?: () => number;
}

export const FAKE_KATAPULT_VALID_TOKEN = 'kt-valid-token';
export const FAKE_KATAPULT_DEFAULT_ORGANIZATION = 'Acme Ops';
export const FAKE_KATAPULT_TARGET_VM_ID = 'vm_1kpkjQeMEI43tztr';
export const FAKE_KATAPULT_USER = {
  id: 'user_GdKQbGfwlG6iF7a1',
  firstName: 'Ada',
  lastName: 'Lovelace',
  apiTokenId: 'apitoken_6Vz6dMZhWSGoKWYb',
} as const;
export const FAKE_KATAPULT_RATE_LIMIT = 1000;
/** Policy ids starting with this get 404 disk_backup_policy_not_found. */
export const FAKE_MISSING_POLICY_PREFIX = 'missing';
/** Policy ids starting with this get 406 object_in_trash. */
export const FAKE_TRASHED_POLICY_PREFIX = 'trashed';

const API_PREFIX = '/core/v1';
const MIN_SCHEDULE_LEAD_SECONDS = 300;
const SCHEDULE_ROUTE = 'DELETE /disk_backup_policies/disk_backup_policy/schedule';
const TIMESTAMP_ARGUMENT = {
  id: 'CoreAPI/Endpoints/DiskBackupPolicies/ScheduleDelete/TimestampArgument',
  name: 'timestamp',
  description: 'The time the disk backup policy will be moved to the trash automatically.',
};
const POLICY_ARGUMENT = {
  id: 'CoreAPI/Endpoints/DiskBackupPolicies/ScheduleDelete/DiskBackupPolicyArgument',
  name: 'disk_backup_policy',
  description: 'The disk backup policy to delete',
};

interface Answer {
  status: number;
  headers: Record<string, string>;
  payload: string;
}

interface TokenInfo {
  organization: string;
  user: { firstName: string; lastName: string } | null;
  scopes: Set<string> | null;
}

type Authenticated = { ok: true; token: TokenInfo } | { ok: false; answer: Answer };

export async function startFakeKatapult(opts: FakeKatapultOptions = {}): Promise<FakeKatapult> {
  const fake = new FakeKatapultServer(opts);
  await fake.listen();
  return fake;
}

class FakeKatapultServer implements FakeKatapult {
  readonly requests: RecordedKatapultRequest[] = [];
  latencyMs: number;
  private port = 0;
  private readonly now: () => number;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly queues = new Map<string, FakeKatapultReply[]>();
  private tokens = new Map<string, TokenInfo>();
  private remaining = FAKE_KATAPULT_RATE_LIMIT;

  constructor(opts: FakeKatapultOptions) {
    this.latencyMs = opts.latencyMs ?? 0;
    this.now = opts.now ?? Date.now;
    this.setTokens({ [FAKE_KATAPULT_VALID_TOKEN]: FAKE_KATAPULT_DEFAULT_ORGANIZATION });
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('fake katapult failed');
        }
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}${API_PREFIX}`;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        const address: AddressInfo | string | null = this.server.address();
        if (address === null || typeof address === 'string') {
          reject(new Error('fake katapult: no TCP address'));
          return;
        }
        this.port = address.port;
        resolve();
      });
    });
  }

  enqueue(route: string, ...replies: FakeKatapultReply[]): void {
    const key = routeKey(route);
    this.queues.set(key, [...(this.queues.get(key) ?? []), ...replies]);
  }

  setTokens(tokens: Record<string, string | FakeKatapultToken>): void {
    this.tokens = new Map(
      Object.entries(tokens).map(([token, info]) => {
        const spec = typeof info === 'string' ? { organization: info } : info;
        const user = spec.user === undefined ? { firstName: 'Ada', lastName: 'Lovelace' } : spec.user;
        return [
          token,
          { organization: spec.organization, user, scopes: spec.scopes ? new Set(spec.scopes) : null },
        ];
      }),
    );
  }

  reset(): void {
    this.requests.length = 0;
    this.queues.clear();
    this.remaining = FAKE_KATAPULT_RATE_LIMIT;
  }

  close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
      this.sockets.clear();
    });
  }

  private wait(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const hasPrefix = url.pathname === API_PREFIX || url.pathname.startsWith(`${API_PREFIX}/`);
    const path = hasPrefix ? url.pathname.slice(API_PREFIX.length) || '/' : url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const body = parseJson(rawBody);
    this.requests.push({
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      headers,
      rawBody,
      body: body.ok ? body.value : undefined,
    });
    this.remaining = Math.max(0, this.remaining - 1);

    const queued = this.queues.get(`${method} ${path}`)?.shift();
    if (queued && 'hangUp' in queued) {
      req.socket.destroy();
      return;
    }
    if (queued) {
      await this.wait(queued.delayMs ?? 0);
      this.send(res, this.scripted(queued));
      return;
    }
    await this.wait(this.latencyMs);
    const answer = hasPrefix
      ? this.answer(method, path, headers, rawBody, body)
      : this.error('route_not_found', { description: noRoute(method, url.pathname) });
    this.send(res, answer);
  }

  private send(res: http.ServerResponse, answer: Answer): void {
    if (res.destroyed || res.writableEnded) return; // the client gave up (e.g. its timeout)
    res.writeHead(answer.status, {
      'content-length': String(Buffer.byteLength(answer.payload)),
      ...answer.headers,
    });
    res.end(answer.payload);
  }

  private commonHeaders(): Record<string, string> {
    return {
      'x-request-id': randomUUID(),
      'x-ratelimit-permitted': String(FAKE_KATAPULT_RATE_LIMIT),
      'x-ratelimit-remaining': String(this.remaining),
    };
  }

  private scripted(reply: Extract<FakeKatapultReply, { status: number }>): Answer {
    const headers = this.commonHeaders();
    let payload = '';
    if (reply.rawBody !== undefined) {
      payload = reply.rawBody;
      headers['content-type'] = 'text/plain; charset=utf-8';
    } else if (reply.body !== undefined) {
      payload = JSON.stringify(reply.body);
      headers['content-type'] = 'application/json; charset=utf-8';
      if (reply.status >= 400 && isRecord(reply.body) && 'error' in reply.body)
        headers['x-api-schema'] = 'json-error';
    }
    for (const [name, value] of Object.entries(reply.headers ?? {})) headers[name.toLowerCase()] = value;
    return { status: reply.status, headers, payload };
  }

  private json(status: number, body: unknown): Answer {
    return {
      status,
      headers: { ...this.commonHeaders(), 'content-type': 'application/json; charset=utf-8' },
      payload: JSON.stringify(body),
    };
  }

  /** An error in the real wrapped envelope, with the fixture's status and description unless overridden. */
  private error(
    code: ErrorFixtureCode,
    override: { detail?: Record<string, unknown>; description?: string } = {},
  ): Answer {
    const fixture = errorFixtures[code];
    const answer = this.json(fixture.status, {
      error: {
        code,
        description: override.description ?? fixture.body.error.description,
        detail: override.detail ?? fixture.body.error.detail,
      },
    });
    answer.headers['x-api-schema'] = 'json-error';
    return answer;
  }

  private authenticate(headers: Record<string, string | undefined>, scope: string | null): Authenticated {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
    if (!match?.[1]) return { ok: false, answer: this.error('missing_api_token') };
    const token = this.tokens.get(match[1]);
    if (!token) return { ok: false, answer: this.error('invalid_api_token') };
    if (scope !== null && token.scopes !== null && !token.scopes.has(scope)) {
      return { ok: false, answer: this.error('scope_not_granted', { detail: { scopes: [scope] } }) };
    }
    return { ok: true, token };
  }

  private answer(
    method: string,
    path: string,
    headers: Record<string, string | undefined>,
    rawBody: string,
    body: { ok: true; value: unknown } | { ok: false },
  ): Answer {
    const route = `${method} ${path.replace(/\/+$/, '')}`;
    switch (route) {
      case SCHEDULE_ROUTE: {
        const auth = this.authenticate(headers, 'disk_backup_policies');
        if (!auth.ok) return auth.answer;
        if (rawBody.trim() !== '' && !body.ok) return this.invalidJsonBody();
        return this.schedule(body.ok ? body.value : {});
      }
      case 'GET /users/current': {
        const auth = this.authenticate(headers, null);
        if (!auth.ok) return auth.answer;
        const { token } = auth;
        if (token.user === null) return this.error('no_user_associated_with_identity');
        return this.json(200, {
          user: {
            id: FAKE_KATAPULT_USER.id,
            first_name: token.user.firstName,
            last_name: token.user.lastName,
            avatar_url:
              'https://secure.gravatar.com/avatar/00000000000000000000000000000000?rating=PG&size=120&d=mm',
          },
          organizations: [summary(token.organization)],
          api_token_id: FAKE_KATAPULT_USER.apiTokenId,
        });
      }
      case 'GET /organizations': {
        const auth = this.authenticate(headers, 'organizations:read');
        if (!auth.ok) return auth.answer;
        return this.json(200, { organizations: [fullOrganization(auth.token.organization)] });
      }
      default:
        return this.error('route_not_found', { description: noRoute(method, `${API_PREFIX}${path}`) });
    }
  }

  private invalidJsonBody(): Answer {
    const answer = this.json(400, {
      error: {
        code: 'invalid_json_body',
        description: 'The JSON body provided with this request is invalid',
        detail: { details: 'unexpected token' },
      },
    });
    answer.headers['x-api-schema'] = 'json-error';
    return answer;
  }

  private schedule(args: unknown): Answer {
    const input = isRecord(args) ? args : {};
    const lookup = input.disk_backup_policy;
    if (lookup === undefined || lookup === null) {
      return this.error('missing_required_argument', {
        description: `The '${POLICY_ARGUMENT.name}' argument is required but is missing`,
        detail: { path: [POLICY_ARGUMENT.name], argument: POLICY_ARGUMENT },
      });
    }
    if (!isRecord(lookup) || typeof lookup.id !== 'string' || lookup.id === '') {
      return this.error('invalid_argument', {
        detail: {
          path: [POLICY_ARGUMENT.name],
          index: null,
          issue: 'missing_lookup_value',
          issue_description: 'A lookup argument was provided but no value was given for any of its fields.',
          errors: [],
          argument: POLICY_ARGUMENT,
        },
      });
    }
    const timestamp = input.timestamp;
    if (timestamp === undefined || timestamp === null) {
      return this.error('missing_required_argument', {
        detail: { path: [TIMESTAMP_ARGUMENT.name], argument: TIMESTAMP_ARGUMENT },
      });
    }
    if (typeof timestamp !== 'number' || !Number.isInteger(timestamp) || timestamp < 0) {
      return this.error('invalid_argument');
    }
    if (lookup.id.startsWith(FAKE_MISSING_POLICY_PREFIX)) return this.error('disk_backup_policy_not_found');
    if (lookup.id.startsWith(FAKE_TRASHED_POLICY_PREFIX)) {
      const nowSeconds = Math.floor(this.now() / 1000);
      return this.error('object_in_trash', {
        detail: {
          trash_object: {
            id: 'trsh_47duTKJC6Entt3YN',
            keep_until: nowSeconds + 48 * 3600,
            object_id: lookup.id,
            object_type: 'DiskBackupPolicy',
          },
        },
      });
    }
    if (timestamp < Math.floor(this.now() / 1000) + MIN_SCHEDULE_LEAD_SECONDS) {
      return this.error('invalid_timestamp');
    }
    return this.json(200, {
      disk_backup_policy: {
        id: lookup.id,
        auto_move_to_trash_at: timestamp,
        target: { type: 'VirtualMachine', value: { id: FAKE_KATAPULT_TARGET_VM_ID } },
      },
    });
  }
}

function routeKey(route: string): string {
  const match = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(route);
  if (!match?.[1] || !match[2])
    throw new Error(`fake katapult: route must look like "GET /path", got "${route}"`);
  const path = match[2].startsWith(API_PREFIX) ? match[2].slice(API_PREFIX.length) : match[2];
  return `${match[1].toUpperCase()} ${path}`;
}

function noRoute(method: string, fullPath: string): string {
  return `No route matches '${fullPath.replace(/^\/+/, '')}' for ${method}`;
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A stable Katapult-looking id (`org_` + 16 alphanumerics) for a name. */
export function fakeOrganizationId(name: string): string {
  const digest = createHash('sha256').update(name).digest();
  let id = 'org_';
  for (let i = 0; i < 16; i++) id += BASE62[(digest[i] ?? 0) % BASE62.length];
  return id;
}

export function fakeSubDomain(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function summary(name: string) {
  return { id: fakeOrganizationId(name), name, sub_domain: fakeSubDomain(name) };
}

function fullOrganization(name: string) {
  return {
    ...summary(name),
    infrastructure_domain: `${fakeSubDomain(name)}.kpult.io`,
    created_at: 1672531200,
    activated_at: 1672531260,
    suspended: false,
    managed: false,
  };
}
