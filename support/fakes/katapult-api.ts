/**
 * An in-process fake of the Katapult Core API on 127.0.0.1:<random port>, for unit, contract and
 * end-to-end tests. Its default answers copy the real API as documented in
 * shared/katapult/FINDINGS.md: errors in the wrapped envelope `{"error":{code,description,detail}}`
 * with `X-Api-Schema: json-error`, polymorphs as `{type, value}`, `X-Request-Id` and rate-limit
 * headers on every answer, and Apia's order of checks (route, token, scope, arguments, lookup).
 *
 * Every request is recorded; tests can queue scripted replies per route ahead of the defaults.
 *
 * The fake keeps a small catalogue of disk backup policies (katapult-catalogue.ts), which getting a
 * policy, listing an organization's policies, scheduling and restoring from the trash read and
 * change; the framework's argument errors are in katapult-apia-errors.ts. A policy is visible only
 * to tokens of its organization. Scheduling a policy that
 * is not in the catalogue still succeeds as it always has (unless its id starts with `missing` or
 * `trashed`) and adds it, on FAKE_KATAPULT_TARGET_VM_ID, so a later GET shows it.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KATAPULT_ROUTES, routeKey as tableRouteKey } from '../../src/katapult/routes.js';
import {
  type ApiaError,
  apiaError,
  bodyLookup,
  GET_POLICY_ARGUMENT,
  integerArgument,
  invalidJsonBody,
  isRecord,
  missingArgument,
  ORGANIZATION_ARGUMENT,
  queryLookup,
  RESTORE_ARGUMENT,
  routeNotFound,
  SCHEDULE_POLICY_ARGUMENT,
  TIMESTAMP_ARGUMENT,
} from './katapult-apia-errors.js';
import {
  FAKE_KATAPULT_DEFAULT_ORGANIZATION,
  FAKE_KATAPULT_TARGET_VM_ID,
  FAKE_KATAPULT_TARGET_VM_NAME,
  FAKE_KATAPULT_TRASH_SECONDS,
  type FakeDiskBackupPolicy,
  type FakeDiskBackupPolicyInput,
  FakePolicyCatalogue,
  fakeOrganizationId,
  fakeSubDomain,
  fullOrganization,
  organizationSummary,
  trashObject,
} from './katapult-catalogue.js';

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
  | {
      status: number;
      body?: unknown;
      rawBody?: string;
      headers?: Record<string, string>;
      delayMs?: number;
      /** Answered only once this settles (after `delayMs`): the test decides when the call ends. */
      heldUntil?: Promise<unknown>;
    }
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
  /**
   * Resolves once `count` recorded requests match (rejects after `timeoutMs`, default 10 s), with every matching
   * request so far. Requests are recorded when they arrive, before any latency or scripted delay. A
   * string is a route, `METHOD /path` (path without /core/v1), counted since the last reset.
   */
  waitFor(
    match: string | ((request: RecordedKatapultRequest) => boolean),
    count?: number,
    timeoutMs?: number,
  ): Promise<RecordedKatapultRequest[]>;
  /** Clears requests and queues, and lets held answers go (the policy catalogue is kept; see `resetPolicies`). */
  reset(): void;
  /**
   * Holds the answers to `route` from its `after`-th request on (0: every one; counted since the
   * last reset) until the returned function is called: each request is recorded as it arrives, its
   * answer waits. For a test that acts while calls are under way.
   */
  hold(route: string, after?: number): () => void;
  /** Adds a policy to the catalogue, or replaces the one with that id (which is then out of the trash). */
  setPolicy(details: FakeDiskBackupPolicyInput): void;
  /**
   * Moves a catalogued policy to the trash until `keepUntil` (Unix seconds): GET and schedule then
   * answer 406 object_in_trash with `detail.trash_object`, the list leaves it out, and restore
   * brings it back until `keepUntil` passes (then it is purged: 404 for everything). Returns the
   * trash object's id. Throws for an id not in the catalogue.
   */
  trashPolicy(id: string, keepUntil: number): string;
  /**
   * Changes a catalogued policy's `auto_move_to_trash_at` behind the bot's back (as Katapult's UI
   * or another API client would); null cancels the move. Throws for an id not in the catalogue.
   */
  setAutoMoveToTrashAt(id: string, at: number | null): void;
  /** Deletes a policy from the catalogue (GET then answers 404 disk_backup_policy_not_found). */
  removePolicy(id: string): void;
  /** A copy of one policy as the fake holds it now (after applying the clock), or undefined. */
  getPolicy(id: string): FakeDiskBackupPolicy | undefined;
  /** Copies of every policy in the catalogue, in list order, trashed ones included. */
  policies(): FakeDiskBackupPolicy[];
  /** Puts back the default catalogue (FAKE_KATAPULT_POLICY_COUNT policies), dropping all changes. */
  resetPolicies(): void;
  close(): Promise<void>;
}

export interface FakeKatapultOptions {
  latencyMs?: number;
  /** Clock for the `invalid_timestamp` check, in milliseconds like Date.now (the default). */
  now?: () => number;
}

export const FAKE_KATAPULT_VALID_TOKEN = 'kt-valid-token';
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
const READ_POLICY_SCOPES = ['disk_backup_policies', 'disk_backup_policies:read'] as const;
const SCHEDULE_ROUTE = tableRouteKey(KATAPULT_ROUTES.scheduleDiskBackupPolicyDeletion);
const GET_POLICY_ROUTE = tableRouteKey(KATAPULT_ROUTES.getDiskBackupPolicy);
const LIST_POLICIES_ROUTE = tableRouteKey(KATAPULT_ROUTES.listOrganizationPolicies);
const RESTORE_ROUTE = tableRouteKey(KATAPULT_ROUTES.restoreTrashObject);
const CURRENT_USER_ROUTE = tableRouteKey(KATAPULT_ROUTES.getCurrentUser);
const ORGANIZATIONS_ROUTE = tableRouteKey(KATAPULT_ROUTES.listOrganizations);
const DEFAULT_PER_PAGE = 30;
const MIN_SCHEDULE_LEAD_SECONDS = 300;
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
  private readonly waiters = new Set<() => void>();
  private readonly holds: { route: string; after: number; released: Promise<void>; release(): void }[] = [];
  private tokens = new Map<string, TokenInfo>();
  private remaining = FAKE_KATAPULT_RATE_LIMIT;
  private readonly catalogue: FakePolicyCatalogue;

  constructor(opts: FakeKatapultOptions) {
    this.latencyMs = opts.latencyMs ?? 0;
    this.now = opts.now ?? Date.now;
    this.catalogue = new FakePolicyCatalogue(this.now);
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

  waitFor(
    match: string | ((request: RecordedKatapultRequest) => boolean),
    count = 1,
    timeoutMs = 10_000,
  ): Promise<RecordedKatapultRequest[]> {
    const matches =
      typeof match === 'string'
        ? (r: RecordedKatapultRequest) => `${r.method} ${r.path}` === routeKey(match)
        : match;
    const done = () => this.requests.filter(matches);
    if (done().length >= count) return Promise.resolve(done());
    return new Promise((resolve, reject) => {
      const check = () => {
        if (done().length < count) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(done());
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`fake katapult: expected ${count} matching request(s), saw ${done().length}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  reset(): void {
    this.requests.length = 0;
    this.queues.clear();
    this.remaining = FAKE_KATAPULT_RATE_LIMIT;
    for (const held of this.holds.splice(0)) held.release();
  }

  hold(route: string, after = 0): () => void {
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = { route: routeKey(route), after, released, release };
    this.holds.push(held);
    return () => {
      const i = this.holds.indexOf(held);
      if (i >= 0) this.holds.splice(i, 1);
      release();
    };
  }

  /** After a request is recorded: its hold, if any. */
  private arrived(method: string, path: string): Promise<void> | undefined {
    const key = `${method} ${path}`;
    const seen = this.requests.filter((r) => `${r.method} ${r.path}` === key).length;
    return this.holds.find((h) => h.route === key && seen > h.after)?.released;
  }

  setPolicy(details: FakeDiskBackupPolicyInput): void {
    this.catalogue.set(details);
  }

  trashPolicy(id: string, keepUntil: number): string {
    return this.catalogue.trash(id, keepUntil);
  }

  setAutoMoveToTrashAt(id: string, at: number | null): void {
    this.catalogue.setAutoMoveToTrashAt(id, at);
  }

  removePolicy(id: string): void {
    this.catalogue.remove(id);
  }

  getPolicy(id: string): FakeDiskBackupPolicy | undefined {
    return this.catalogue.copyOf(id);
  }

  policies(): FakeDiskBackupPolicy[] {
    return this.catalogue.copies();
  }

  resetPolicies(): void {
    this.catalogue.reset();
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
    for (const check of [...this.waiters]) check();
    this.remaining = Math.max(0, this.remaining - 1);
    await this.arrived(method, path);

    const queued = this.queues.get(`${method} ${path}`)?.shift();
    if (queued && 'hangUp' in queued) {
      req.socket.destroy();
      return;
    }
    if (queued) {
      await this.wait(queued.delayMs ?? 0);
      await queued.heldUntil?.catch(() => undefined);
      this.send(res, this.scripted(queued));
      return;
    }
    await this.wait(this.latencyMs);
    const answer = hasPrefix
      ? this.answer(method, path, url.searchParams, headers, rawBody, body)
      : this.error(routeNotFound(method, url.pathname));
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

  /** An error in the real wrapped envelope, with `X-Api-Schema: json-error`. */
  private error(error: ApiaError): Answer {
    const answer = this.json(error.status, error.body);
    answer.headers['x-api-schema'] = 'json-error';
    return answer;
  }

  /** `scope`: the one scope needed, or a list of which any one will do (all are named in `scope_not_granted`). */
  private authenticate(
    headers: Record<string, string | undefined>,
    scope: string | readonly string[] | null,
  ): Authenticated {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
    if (!match?.[1]) return { ok: false, answer: this.error(apiaError('missing_api_token')) };
    const token = this.tokens.get(match[1]);
    if (!token) return { ok: false, answer: this.error(apiaError('invalid_api_token')) };
    const scopes = scope === null ? [] : typeof scope === 'string' ? [scope] : [...scope];
    const granted = token.scopes;
    if (scopes.length > 0 && granted !== null && !scopes.some((s) => granted.has(s))) {
      return { ok: false, answer: this.error(apiaError('scope_not_granted', { detail: { scopes } })) };
    }
    return { ok: true, token };
  }

  private answer(
    method: string,
    path: string,
    query: URLSearchParams,
    headers: Record<string, string | undefined>,
    rawBody: string,
    body: { ok: true; value: unknown } | { ok: false },
  ): Answer {
    const route = `${method} ${path.replace(/\/+$/, '')}`;
    switch (route) {
      case SCHEDULE_ROUTE: {
        const auth = this.authenticate(headers, 'disk_backup_policies');
        if (!auth.ok) return auth.answer;
        if (rawBody.trim() !== '' && !body.ok) return this.error(invalidJsonBody());
        return this.schedule(body.ok ? body.value : {}, auth.token.organization);
      }
      case GET_POLICY_ROUTE: {
        const auth = this.authenticate(headers, READ_POLICY_SCOPES);
        if (!auth.ok) return auth.answer;
        return this.getPolicyAnswer(query, auth.token.organization);
      }
      case LIST_POLICIES_ROUTE: {
        const auth = this.authenticate(headers, READ_POLICY_SCOPES);
        if (!auth.ok) return auth.answer;
        return this.listPoliciesAnswer(query, auth.token.organization);
      }
      case RESTORE_ROUTE: {
        const auth = this.authenticate(headers, 'trash_objects:restore');
        if (!auth.ok) return auth.answer;
        if (rawBody.trim() !== '' && !body.ok) return this.error(invalidJsonBody());
        return this.restoreAnswer(body.ok ? body.value : {}, auth.token.organization);
      }
      case CURRENT_USER_ROUTE: {
        const auth = this.authenticate(headers, null);
        if (!auth.ok) return auth.answer;
        const { token } = auth;
        if (token.user === null) return this.error(apiaError('no_user_associated_with_identity'));
        return this.json(200, {
          user: {
            id: FAKE_KATAPULT_USER.id,
            first_name: token.user.firstName,
            last_name: token.user.lastName,
            avatar_url:
              'https://secure.gravatar.com/avatar/00000000000000000000000000000000?rating=PG&size=120&d=mm',
          },
          organizations: [organizationSummary(token.organization)],
          api_token_id: FAKE_KATAPULT_USER.apiTokenId,
        });
      }
      case ORGANIZATIONS_ROUTE: {
        const auth = this.authenticate(headers, 'organizations:read');
        if (!auth.ok) return auth.answer;
        return this.json(200, { organizations: [fullOrganization(auth.token.organization)] });
      }
      default:
        return this.error(routeNotFound(method, `${API_PREFIX}${path}`));
    }
  }

  private schedule(args: unknown, organization: string): Answer {
    const input = isRecord(args) ? args : {};
    const lookupArgument = input.disk_backup_policy;
    if (lookupArgument === undefined || lookupArgument === null) {
      return this.error(missingArgument(SCHEDULE_POLICY_ARGUMENT));
    }
    const lookup = bodyLookup(lookupArgument, SCHEDULE_POLICY_ARGUMENT, ['id']);
    if (!lookup.ok) return this.error(lookup.error);
    const id = lookup.value;
    const timestamp = input.timestamp;
    if (timestamp === undefined || timestamp === null) return this.error(missingArgument(TIMESTAMP_ARGUMENT));
    if (typeof timestamp !== 'number' || !Number.isInteger(timestamp) || timestamp < 0) {
      return this.error(apiaError('invalid_argument'));
    }
    const known = this.catalogue.visible(id, organization);
    if (known === 'hidden') return this.error(apiaError('disk_backup_policy_not_found'));
    if (known) {
      if (known.trash) return this.objectInTrash(known);
      if (timestamp < this.catalogue.nowSeconds() + MIN_SCHEDULE_LEAD_SECONDS) {
        return this.error(apiaError('invalid_timestamp'));
      }
      known.autoMoveToTrashAt = timestamp;
      return this.json(200, {
        disk_backup_policy: {
          id: known.id,
          auto_move_to_trash_at: timestamp,
          target: { type: known.target.type, value: { id: known.target.id } },
        },
      });
    }
    const unknown = this.unknownPolicy(id);
    if (unknown) return unknown;
    if (timestamp < this.catalogue.nowSeconds() + MIN_SCHEDULE_LEAD_SECONDS) {
      return this.error(apiaError('invalid_timestamp'));
    }
    // Not catalogued: answer as the fake always has, and catalogue it so a later GET shows it.
    this.catalogue.set({
      id,
      organization,
      target: { type: 'VirtualMachine', id: FAKE_KATAPULT_TARGET_VM_ID, name: FAKE_KATAPULT_TARGET_VM_NAME },
      autoMoveToTrashAt: timestamp,
    });
    return this.json(200, {
      disk_backup_policy: {
        id,
        auto_move_to_trash_at: timestamp,
        target: { type: 'VirtualMachine', value: { id: FAKE_KATAPULT_TARGET_VM_ID } },
      },
    });
  }

  /**
   * The answer for a policy id the catalogue does not hold, when its prefix asks for one: 404 for
   * FAKE_MISSING_POLICY_PREFIX, 406 object_in_trash for FAKE_TRASHED_POLICY_PREFIX.
   */
  private unknownPolicy(id: string): Answer | null {
    if (id.startsWith(FAKE_MISSING_POLICY_PREFIX))
      return this.error(apiaError('disk_backup_policy_not_found'));
    if (!id.startsWith(FAKE_TRASHED_POLICY_PREFIX)) return null;
    return this.error(
      apiaError('object_in_trash', {
        detail: {
          trash_object: {
            id: 'trsh_47duTKJC6Entt3YN',
            keep_until: this.catalogue.nowSeconds() + FAKE_KATAPULT_TRASH_SECONDS,
            object_id: id,
            object_type: 'DiskBackupPolicy',
          },
        },
      }),
    );
  }

  private objectInTrash(policy: FakeDiskBackupPolicy): Answer {
    return this.error(
      apiaError('object_in_trash', {
        detail: { trash_object: policy.trash ? trashObject(policy, policy.trash) : null },
      }),
    );
  }

  private getPolicyAnswer(query: URLSearchParams, organization: string): Answer {
    const lookup = queryLookup(query, GET_POLICY_ARGUMENT, ['id']);
    if (!lookup.ok) return this.error(lookup.error);
    const id = lookup.value;
    const policy = this.catalogue.visible(id, organization);
    if (policy === 'hidden') return this.error(apiaError('disk_backup_policy_not_found'));
    if (!policy) return this.unknownPolicy(id) ?? this.error(apiaError('disk_backup_policy_not_found'));
    if (policy.trash) return this.objectInTrash(policy);
    return this.json(200, {
      disk_backup_policy: {
        id: policy.id,
        retention: policy.retention,
        total_size: policy.totalSize,
        target: { type: policy.target.type, value: { id: policy.target.id, name: policy.target.name } },
        schedule: {
          frequency: policy.schedule.frequency,
          interval: policy.schedule.interval,
          minute: policy.schedule.minute,
          next_invocation_at: policy.schedule.nextInvocationAt,
          time: policy.schedule.time,
        },
        auto_move_to_trash_at: policy.autoMoveToTrashAt,
      },
    });
  }

  private listPoliciesAnswer(query: URLSearchParams, organization: string): Answer {
    const lookup = queryLookup(query, ORGANIZATION_ARGUMENT, ['id', 'sub_domain']);
    if (!lookup.ok) return this.error(lookup.error);
    const page = integerArgument(query, 'page', 1);
    if (!page.ok) return this.error(page.error);
    const perPage = integerArgument(query, 'per_page', DEFAULT_PER_PAGE);
    if (!perPage.ok) return this.error(perPage.error);
    const mine =
      lookup.field === 'id'
        ? lookup.value === fakeOrganizationId(organization)
        : lookup.value === fakeSubDomain(organization);
    if (!mine) return this.error(apiaError('organization_not_found'));
    const all = this.catalogue.listed(organization);
    const start = (page.value - 1) * perPage.value;
    return this.json(200, {
      pagination: {
        current_page: page.value,
        total_pages: Math.max(1, Math.ceil(all.length / perPage.value)),
        total: all.length,
        per_page: perPage.value,
        large_set: false,
      },
      disk_backup_policies: all.slice(start, start + perPage.value).map((policy) => ({
        id: policy.id,
        retention: policy.retention,
        total_size: policy.totalSize,
        target: { type: policy.target.type, value: { id: policy.target.id, name: policy.target.name } },
        schedule: {
          interval: policy.schedule.interval,
          next_invocation_at: policy.schedule.nextInvocationAt,
        },
      })),
    });
  }

  private restoreAnswer(args: unknown, organization: string): Answer {
    const input = isRecord(args) ? args : {};
    if (input.trash_object === undefined || input.trash_object === null) {
      return this.error(missingArgument(RESTORE_ARGUMENT));
    }
    const lookup = bodyLookup(input.trash_object, RESTORE_ARGUMENT, ['id', 'object_id'] as const);
    if (!lookup.ok) return this.error(lookup.error);
    const policy = this.catalogue.inTrash(organization, lookup.field, lookup.value);
    if (!policy?.trash) return this.error(apiaError('trash_object_not_found'));
    const restored = trashObject(policy, policy.trash);
    policy.trash = null;
    // UNCERTAIN on the real API; the fake clears it, or the policy would go straight back to the trash.
    policy.autoMoveToTrashAt = null;
    return this.json(200, { trash_object: restored });
  }
}

/** `"METHOD /path"` of `enqueue`, upper-cased and without the `/core/v1` prefix. */
function routeKey(route: string): string {
  const match = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(route);
  if (!match?.[1] || !match[2])
    throw new Error(`fake katapult: route must look like "GET /path", got "${route}"`);
  const path = match[2].startsWith(API_PREFIX) ? match[2].slice(API_PREFIX.length) : match[2];
  return `${match[1].toUpperCase()} ${path}`;
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
