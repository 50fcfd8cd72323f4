/**
 * An in-process fake of the Katapult Core API on 127.0.0.1:<random port>, for unit, contract and
 * end-to-end tests. Its default answers copy the real API as documented in
 * shared/katapult/FINDINGS.md: errors in the wrapped envelope `{"error":{code,description,detail}}`
 * with `X-Api-Schema: json-error`, polymorphs as `{type, value}`, `X-Request-Id` and rate-limit
 * headers on every answer, and Apia's order of checks (route, token, scope, arguments, lookup).
 *
 * Every request is recorded; tests can queue scripted replies per route ahead of the defaults.
 *
 * The fake keeps a small catalogue of disk backup policies (45 by default, on VMs and disks with
 * names like `web-1` and `db-primary-data`, all of FAKE_KATAPULT_DEFAULT_ORGANIZATION), which
 * getting a policy, listing an organization's policies, scheduling and restoring from the trash
 * read and change. A policy is visible only to tokens of its organization. Scheduling a policy that
 * is not in the catalogue still succeeds as it always has (unless its id starts with `missing` or
 * `trashed`) and adds it, on FAKE_KATAPULT_TARGET_VM_ID, so a later GET shows it. When the `now`
 * clock passes a policy's `auto_move_to_trash_at` it moves to the trash (kept 48 h), and once the
 * trash object's `keep_until` has passed it is purged (gone for good).
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type AnyErrorFixtureCode, errorFixtures } from '../fixtures/katapult/index.js';

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

export type FakePolicyTargetType = 'VirtualMachine' | 'Disk';

export interface FakePolicySchedule {
  interval: 'hourly' | 'daily' | 'weekly' | 'monthly';
  frequency: number;
  time: number;
  minute: number;
  /** Unix seconds. */
  nextInvocationAt: number;
}

/** What `setPolicy` takes; everything but `id` and `target` has a default. */
export interface FakeDiskBackupPolicyInput {
  /** Any string; the catalogue's own ids look like `dbp_` + 16 alphanumerics. */
  id: string;
  target: { type: FakePolicyTargetType; id: string; name: string };
  /** Owner, by organization name as in `setTokens`. Default FAKE_KATAPULT_DEFAULT_ORGANIZATION. */
  organization?: string;
  /** Default 7. */
  retention?: number;
  /** Katapult's `total_size` (unit undocumented). Default 12.5. */
  totalSize?: number;
  /** Default daily at 02:30, next run one hour after `now`. */
  schedule?: FakePolicySchedule;
  /** Unix seconds; default null. */
  autoMoveToTrashAt?: number | null;
}

/** A policy as the fake holds it (a copy). */
export interface FakeDiskBackupPolicy {
  id: string;
  organization: string;
  retention: number;
  totalSize: number;
  target: { type: FakePolicyTargetType; id: string; name: string };
  schedule: FakePolicySchedule;
  autoMoveToTrashAt: number | null;
  /** Set while the policy is in the trash. */
  trash: { id: string; keepUntil: number } | null;
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
  /** Clears requests and queues (the policy catalogue is kept; see `resetPolicies`). */
  reset(): void;
  /** Adds a policy to the catalogue, or replaces the one with that id (which is then out of the trash). */
  setPolicy(details: FakeDiskBackupPolicyInput): void;
  /**
   * Moves a catalogued policy to the trash until `keepUntil` (Unix seconds): GET and schedule then
   * answer 406 object_in_trash with `detail.trash_object`, the list leaves it out, and restore
   * brings it back until `keepUntil` passes (then it is purged: 404 for everything). Returns the
   * trash object's id. Throws for an id not in the catalogue.
   */
  trashPolicy(id: string, keepUntil: number): string;
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

/** Name of FAKE_KATAPULT_TARGET_VM_ID in the catalogue. */
export const FAKE_KATAPULT_TARGET_VM_NAME = 'web-1';
/** Size of the default catalogue. */
export const FAKE_KATAPULT_POLICY_COUNT = 45;
/** How long a policy stays in the trash when the clock moves it there (docs: 48 h). */
export const FAKE_KATAPULT_TRASH_SECONDS = 48 * 3600;

const API_PREFIX = '/core/v1';
const READ_POLICY_SCOPES = ['disk_backup_policies', 'disk_backup_policies:read'] as const;
const GET_POLICY_ROUTE = 'GET /disk_backup_policies/disk_backup_policy';
const LIST_POLICIES_ROUTE = 'GET /organizations/organization/disk_backup_policies';
const RESTORE_ROUTE = 'POST /trash_objects/trash_object/restore';
const DEFAULT_PER_PAGE = 30;
const GET_POLICY_ARGUMENT = {
  id: 'CoreAPI/Endpoints/DiskBackupPolicies/InfoEndpoint/DiskBackupPolicyArgument',
  name: 'disk_backup_policy',
  description: 'The disk backup policy to get information for',
};
const ORGANIZATION_ARGUMENT = {
  id: 'CoreAPI/Endpoints/DiskBackupPolicies/ListEndpoint/OrganizationArgument',
  name: 'organization',
  description: 'The organization to return disk backup policies for',
};
const RESTORE_ARGUMENT = {
  id: 'CoreAPI/Endpoints/TrashObjects/RestoreEndpoint/TrashObjectArgument',
  name: 'trash_object',
  description: 'The trash object to restore',
};
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
  private catalogue = new Map<string, FakeDiskBackupPolicy>();

  constructor(opts: FakeKatapultOptions) {
    this.latencyMs = opts.latencyMs ?? 0;
    this.now = opts.now ?? Date.now;
    this.setTokens({ [FAKE_KATAPULT_VALID_TOKEN]: FAKE_KATAPULT_DEFAULT_ORGANIZATION });
    this.resetPolicies();
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

  setPolicy(details: FakeDiskBackupPolicyInput): void {
    if (typeof details.id !== 'string' || details.id === '')
      throw new Error('fake katapult: a policy needs an id');
    this.catalogue.set(details.id, {
      id: details.id,
      organization: details.organization ?? FAKE_KATAPULT_DEFAULT_ORGANIZATION,
      retention: details.retention ?? 7,
      totalSize: details.totalSize ?? 12.5,
      target: { ...details.target },
      schedule: details.schedule ? { ...details.schedule } : this.defaultSchedule(),
      autoMoveToTrashAt: details.autoMoveToTrashAt ?? null,
      trash: null,
    });
  }

  trashPolicy(id: string, keepUntil: number): string {
    const policy = this.catalogue.get(id);
    if (!policy) throw new Error(`fake katapult: no policy ${id} in the catalogue`);
    if (!Number.isInteger(keepUntil)) throw new Error('fake katapult: keepUntil must be Unix seconds');
    policy.trash = { id: fakeId('trsh_', `trash:${id}`), keepUntil };
    return policy.trash.id;
  }

  getPolicy(id: string): FakeDiskBackupPolicy | undefined {
    this.applyClock();
    const policy = this.catalogue.get(id);
    return policy ? copyPolicy(policy) : undefined;
  }

  policies(): FakeDiskBackupPolicy[] {
    this.applyClock();
    return [...this.catalogue.values()].map(copyPolicy);
  }

  resetPolicies(): void {
    this.catalogue = new Map();
    for (const details of defaultCatalogue(Math.floor(this.now() / 1000))) this.setPolicy(details);
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
      ? this.answer(method, path, url.searchParams, headers, rawBody, body)
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
    code: AnyErrorFixtureCode,
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

  /** `scope`: the one scope needed, or a list of which any one will do (all are named in `scope_not_granted`). */
  private authenticate(
    headers: Record<string, string | undefined>,
    scope: string | readonly string[] | null,
  ): Authenticated {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
    if (!match?.[1]) return { ok: false, answer: this.error('missing_api_token') };
    const token = this.tokens.get(match[1]);
    if (!token) return { ok: false, answer: this.error('invalid_api_token') };
    const scopes = scope === null ? [] : typeof scope === 'string' ? [scope] : [...scope];
    const granted = token.scopes;
    if (scopes.length > 0 && granted !== null && !scopes.some((s) => granted.has(s))) {
      return { ok: false, answer: this.error('scope_not_granted', { detail: { scopes } }) };
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
        if (rawBody.trim() !== '' && !body.ok) return this.invalidJsonBody();
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
        if (rawBody.trim() !== '' && !body.ok) return this.invalidJsonBody();
        return this.restoreAnswer(body.ok ? body.value : {}, auth.token.organization);
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

  private schedule(args: unknown, organization: string): Answer {
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
    const known = this.visiblePolicy(lookup.id, organization);
    if (known === 'hidden') return this.error('disk_backup_policy_not_found');
    if (known) {
      if (known.trash) return this.objectInTrash(known);
      if (timestamp < Math.floor(this.now() / 1000) + MIN_SCHEDULE_LEAD_SECONDS) {
        return this.error('invalid_timestamp');
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
    // Not catalogued: answer as the fake always has, and catalogue it so a later GET shows it.
    this.setPolicy({
      id: lookup.id,
      organization,
      target: { type: 'VirtualMachine', id: FAKE_KATAPULT_TARGET_VM_ID, name: FAKE_KATAPULT_TARGET_VM_NAME },
      autoMoveToTrashAt: timestamp,
    });
    return this.json(200, {
      disk_backup_policy: {
        id: lookup.id,
        auto_move_to_trash_at: timestamp,
        target: { type: 'VirtualMachine', value: { id: FAKE_KATAPULT_TARGET_VM_ID } },
      },
    });
  }

  private defaultSchedule(): FakePolicySchedule {
    const nowSeconds = Math.floor(this.now() / 1000);
    return { interval: 'daily', frequency: 1, time: 2, minute: 30, nextInvocationAt: nowSeconds + 3600 };
  }

  /**
   * What the clock has done since the last look: a policy whose `auto_move_to_trash_at` has come
   * moves to the trash for FAKE_KATAPULT_TRASH_SECONDS, and one whose `keep_until` has passed is purged.
   */
  private applyClock(): void {
    const nowSeconds = Math.floor(this.now() / 1000);
    for (const policy of [...this.catalogue.values()]) {
      if (!policy.trash && policy.autoMoveToTrashAt !== null && policy.autoMoveToTrashAt <= nowSeconds) {
        this.trashPolicy(policy.id, policy.autoMoveToTrashAt + FAKE_KATAPULT_TRASH_SECONDS);
      }
      if (policy.trash && policy.trash.keepUntil <= nowSeconds) this.catalogue.delete(policy.id);
    }
  }

  /** The catalogued policy, `hidden` when it belongs to another organization, undefined when unknown. */
  private visiblePolicy(id: string, organization: string): FakeDiskBackupPolicy | 'hidden' | undefined {
    this.applyClock();
    const policy = this.catalogue.get(id);
    if (!policy) return undefined;
    return policy.organization === organization ? policy : 'hidden';
  }

  private objectInTrash(policy: FakeDiskBackupPolicy): Answer {
    return this.error('object_in_trash', {
      detail: { trash_object: policy.trash ? trashObject(policy, policy.trash) : null },
    });
  }

  private invalidLookup(
    argument: { id: string; name: string; description: string },
    issue: 'missing_lookup_value' | 'ambiguous_lookup_values',
  ): Answer {
    return this.error('invalid_argument', {
      detail: {
        path: [argument.name],
        index: null,
        issue,
        issue_description:
          issue === 'missing_lookup_value'
            ? 'A lookup argument was provided but no value was given for any of its fields.'
            : 'A lookup argument was provided with values for more than one of its fields, only one may be given.',
        errors: [],
        argument,
      },
    });
  }

  private missingArgument(argument: { id: string; name: string; description: string }): Answer {
    return this.error('missing_required_argument', {
      description: `The '${argument.name}' argument is required but is missing`,
      detail: { path: [argument.name], argument },
    });
  }

  /**
   * Reads an Apia lookup from the query string (`name[field]=value`): exactly one non-empty field,
   * else the framework's error.
   */
  private queryLookup(
    query: URLSearchParams,
    argument: { id: string; name: string; description: string },
    fields: readonly string[],
  ): { ok: true; field: string; value: string } | { ok: false; answer: Answer } {
    const present = [...query.keys()].some((key) => key.startsWith(`${argument.name}[`));
    if (!present) return { ok: false, answer: this.missingArgument(argument) };
    const given = fields
      .map((field) => ({ field, value: query.get(`${argument.name}[${field}]`) ?? '' }))
      .filter((entry) => entry.value !== '');
    const [first] = given;
    if (!first) return { ok: false, answer: this.invalidLookup(argument, 'missing_lookup_value') };
    if (given.length > 1)
      return { ok: false, answer: this.invalidLookup(argument, 'ambiguous_lookup_values') };
    return { ok: true, ...first };
  }

  private getPolicyAnswer(query: URLSearchParams, organization: string): Answer {
    const lookup = this.queryLookup(query, GET_POLICY_ARGUMENT, ['id']);
    if (!lookup.ok) return lookup.answer;
    const id = lookup.value;
    const policy = this.visiblePolicy(id, organization);
    if (policy === 'hidden') return this.error('disk_backup_policy_not_found');
    if (!policy) {
      if (id.startsWith(FAKE_TRASHED_POLICY_PREFIX)) {
        const nowSeconds = Math.floor(this.now() / 1000);
        return this.error('object_in_trash', {
          detail: {
            trash_object: {
              id: 'trsh_47duTKJC6Entt3YN',
              keep_until: nowSeconds + FAKE_KATAPULT_TRASH_SECONDS,
              object_id: id,
              object_type: 'DiskBackupPolicy',
            },
          },
        });
      }
      return this.error('disk_backup_policy_not_found');
    }
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
    const lookup = this.queryLookup(query, ORGANIZATION_ARGUMENT, ['id', 'sub_domain']);
    if (!lookup.ok) return lookup.answer;
    const page = this.integerArgument(query, 'page', 1);
    if (!page.ok) return page.answer;
    const perPage = this.integerArgument(query, 'per_page', DEFAULT_PER_PAGE);
    if (!perPage.ok) return perPage.answer;
    const mine =
      lookup.field === 'id'
        ? lookup.value === fakeOrganizationId(organization)
        : lookup.value === fakeSubDomain(organization);
    if (!mine) return this.error('organization_not_found');
    this.applyClock();
    const all = [...this.catalogue.values()].filter((p) => p.organization === organization && !p.trash);
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

  /** An Apia `Integer` argument from the query string: digits only and at least 1, else 400 invalid_argument. */
  private integerArgument(
    query: URLSearchParams,
    name: string,
    fallback: number,
  ): { ok: true; value: number } | { ok: false; answer: Answer } {
    const raw = query.get(name);
    if (raw === null || raw === '') return { ok: true, value: fallback };
    const value = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isInteger(value) && value >= 1) return { ok: true, value };
    return {
      ok: false,
      answer: this.error('invalid_argument', {
        detail: {
          path: [name],
          index: null,
          issue: 'invalid_scalar',
          issue_description:
            'The value provided was not of an appropriate type for the scalar that was requested.',
          errors: [],
          argument: {
            id: `CoreAPI/Endpoints/DiskBackupPolicies/ListEndpoint/${name}`,
            name,
            description: null,
          },
        },
      }),
    };
  }

  private restoreAnswer(args: unknown, organization: string): Answer {
    const input = isRecord(args) ? args : {};
    const lookup = input.trash_object;
    if (lookup === undefined || lookup === null) return this.missingArgument(RESTORE_ARGUMENT);
    const given = isRecord(lookup)
      ? (['id', 'object_id'] as const)
          .map((field) => ({ field, value: lookup[field] }))
          .filter((entry): entry is { field: 'id' | 'object_id'; value: string } => {
            return typeof entry.value === 'string' && entry.value !== '';
          })
      : [];
    const [first] = given;
    if (!first) return this.invalidLookup(RESTORE_ARGUMENT, 'missing_lookup_value');
    if (given.length > 1) return this.invalidLookup(RESTORE_ARGUMENT, 'ambiguous_lookup_values');
    this.applyClock();
    const policy = [...this.catalogue.values()].find(
      (p) =>
        p.organization === organization &&
        p.trash !== null &&
        (first.field === 'id' ? p.trash.id === first.value : p.id === first.value),
    );
    if (!policy?.trash) return this.error('trash_object_not_found');
    const restored = trashObject(policy, policy.trash);
    policy.trash = null;
    // UNCERTAIN on the real API; the fake clears it, or the policy would go straight back to the trash.
    policy.autoMoveToTrashAt = null;
    return this.json(200, { trash_object: restored });
  }
}

function trashObject(policy: FakeDiskBackupPolicy, trash: { id: string; keepUntil: number }) {
  return { id: trash.id, keep_until: trash.keepUntil, object_id: policy.id, object_type: 'DiskBackupPolicy' };
}

function copyPolicy(policy: FakeDiskBackupPolicy): FakeDiskBackupPolicy {
  return structuredClone(policy);
}

const CATALOGUE_MACHINES = [
  'web-1',
  'web-2',
  'web-3',
  'web-4',
  'db-primary',
  'db-replica',
  'cache-1',
  'cache-2',
  'worker-1',
  'worker-2',
  'worker-3',
  'mail',
  'ci-runner',
  'monitoring',
  'bastion',
] as const;

/**
 * The default catalogue: for each of 15 machines a daily policy on the VM, an hourly one on its
 * `<name>-data` disk and a weekly one on the VM (45 in all), in that order per machine. Ids are
 * stable (derived from the names); next runs are relative to `nowSeconds`.
 */
function defaultCatalogue(nowSeconds: number): FakeDiskBackupPolicyInput[] {
  const hour = Math.floor(nowSeconds / 3600) * 3600;
  const out: FakeDiskBackupPolicyInput[] = [];
  CATALOGUE_MACHINES.forEach((machine, i) => {
    const vm = {
      type: 'VirtualMachine' as const,
      id: i === 0 ? FAKE_KATAPULT_TARGET_VM_ID : fakeId('vm_', `vm:${machine}`),
      name: machine,
    };
    const disk = { type: 'Disk' as const, id: fakeId('disk_', `disk:${machine}`), name: `${machine}-data` };
    out.push(
      {
        id: fakeId('dbp_', `policy:${machine}:daily`),
        target: vm,
        retention: 7,
        totalSize: sizeFor(`${machine}:daily`),
        schedule: {
          interval: 'daily',
          frequency: 1,
          time: 2,
          minute: 30,
          nextInvocationAt: hour + 3600 + i * 60,
        },
      },
      {
        id: fakeId('dbp_', `policy:${machine}:hourly`),
        target: disk,
        retention: 24,
        totalSize: sizeFor(`${machine}:hourly`),
        schedule: { interval: 'hourly', frequency: 6, time: 0, minute: 15, nextInvocationAt: hour + 900 },
      },
      {
        id: fakeId('dbp_', `policy:${machine}:weekly`),
        target: vm,
        retention: 4,
        totalSize: sizeFor(`${machine}:weekly`),
        schedule: {
          interval: 'weekly',
          frequency: 1,
          time: 3,
          minute: 0,
          nextInvocationAt: hour + 86400 * 3,
        },
      },
    );
  });
  return out;
}

/** A stable, made-up `total_size` with two decimals (the unit is undocumented). */
function sizeFor(seed: string): number {
  const digest = createHash('sha256').update(seed).digest();
  return ((digest.readUInt32BE(0) % 500000) + 100) / 100;
}

function fakeId(prefix: string, seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let id = prefix;
  for (let i = 0; i < 16; i++) id += BASE62[(digest[i] ?? 0) % BASE62.length];
  return id;
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
