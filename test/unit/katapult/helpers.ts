/**
 * What the Katapult client's tests share: the fake Katapult server on loopback (one per test file,
 * reset before each test), a client on it whose back-off never really waits (`sleep` is injected
 * and records what it was asked for), a ten-line scripted fetch for when only timing matters, and
 * the routes by name from the one route table.
 */
import net from 'node:net';
import { inspect } from 'node:util';
import fetch from 'node-fetch';
import {
  type FetchLike,
  KatapultClient,
  type KatapultClientOptions,
  type RetryPolicy,
} from '../../../src/katapult/client.js';
import { KATAPULT_ROUTES, routeKey } from '../../../src/katapult/routes.js';
import {
  type FakeKatapult,
  type FakeKatapultReply,
  startFakeKatapult,
} from '../../../support/fakes/katapult-api.js';
import { fakeOrganizationId } from '../../../support/fakes/katapult-catalogue.js';
import { errorFixtures } from '../../../support/fixtures/katapult/index.js';

// Both node-fetch and the global fetch must fit the client's structural fetch type.
export const nodeFetch: FetchLike = fetch;
export const globalFetch: FetchLike = globalThis.fetch;

export const TOKEN = 'kt-unit-SECRET-7f3c9a1e5b';
export const ORG_TOKEN = 'kt-org-SECRET-2b8d4f6a0c';
export const OTHER_TOKEN = 'kt-other-SECRET-9e1d3c5b7a';
export const READ_ONLY_TOKEN = 'kt-read-SECRET-4c6e8a0b2d';
export const NO_POLICY_SCOPE_TOKEN = 'kt-trash-SECRET-1a3c5e7b9d';
export const NOW_MS = Date.UTC(2026, 0, 15, 9, 30, 0);
export const NOW_S = Math.floor(NOW_MS / 1000);
export const AT = NOW_S + 3600;
export const POLICY = 'dbp_b3DMkzRt8iWqXo4s';
export const ACME_ORG_ID = fakeOrganizationId('Acme Ops');

export const SCHEDULE = routeKey(KATAPULT_ROUTES.scheduleDiskBackupPolicyDeletion);
export const SCHEDULE_PATH = KATAPULT_ROUTES.scheduleDiskBackupPolicyDeletion.path;
export const GET_POLICY = routeKey(KATAPULT_ROUTES.getDiskBackupPolicy);
export const GET_POLICY_PATH = KATAPULT_ROUTES.getDiskBackupPolicy.path;
export const LIST_POLICIES = routeKey(KATAPULT_ROUTES.listOrganizationPolicies);
export const LIST_POLICIES_PATH = KATAPULT_ROUTES.listOrganizationPolicies.path;
export const RESTORE = routeKey(KATAPULT_ROUTES.restoreTrashObject);
export const RESTORE_PATH = KATAPULT_ROUTES.restoreTrashObject.path;
export const CURRENT_USER = routeKey(KATAPULT_ROUTES.getCurrentUser);
export const ORGANIZATIONS = routeKey(KATAPULT_ROUTES.listOrganizations);

/** The fake server of the current test file, from useFakeKatapult(). */
export let fake: FakeKatapult;

/** Starts the fake for this test file (clock at NOW_MS), resets it and its tokens before each test, stops it after. */
export function useFakeKatapult(): void {
  beforeAll(async () => {
    fake = await startFakeKatapult({ now: () => NOW_MS });
  });

  beforeEach(() => {
    fake.reset();
    fake.resetPolicies();
    fake.setTokens({
      [TOKEN]: 'Acme Ops',
      [ORG_TOKEN]: { organization: 'Acme Ops', user: null },
    });
  });

  afterAll(async () => {
    await fake.close();
  });
}

export function makeClient(overrides: Partial<KatapultClientOptions> = {}) {
  const sleeps: number[] = [];
  const client = new KatapultClient({
    baseUrl: fake.baseUrl,
    fetch: nodeFetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
  return { client, sleeps };
}

/** The rejection of `promise`, checked to be an instance of `cls`. */
export async function rejectionOf<T>(
  promise: Promise<unknown>,
  cls: abstract new (...args: never[]) => T,
): Promise<T> {
  let outcome: unknown;
  try {
    await promise;
  } catch (error) {
    outcome = error;
  }
  if (outcome instanceof cls) return outcome;
  throw new Error(`expected a rejection with ${cls.name}, got ${inspect(outcome)}`);
}

/** `"METHOD /path"` of every request the fake received, in order. */
export function routes(): string[] {
  return fake.requests.map((r) => `${r.method} ${r.path}`);
}

export function scheduleReply(target: unknown, extra: Record<string, unknown> = {}): FakeKatapultReply {
  return {
    status: 200,
    body: { disk_backup_policy: { id: POLICY, auto_move_to_trash_at: AT, target, ...extra } },
    headers: { 'X-Request-Id': 'req-fixed-1' },
  };
}

/** A fetch that answers from a script and records each call; no network. */
export function scriptedFetch(
  answer: (
    call: number,
    init: Parameters<FetchLike>[1],
  ) => { status: number; body?: string; headers?: Record<string, string> },
) {
  const calls: { url: string; init: Parameters<FetchLike>[1] }[] = [];
  const fetchLike: FetchLike = async (url, init) => {
    calls.push({ url, init });
    const reply = answer(calls.length, init);
    const headers = new Map(Object.entries(reply.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    return {
      status: reply.status,
      headers: { get: (name: string) => headers.get(name.toLowerCase()) ?? null },
      text: async () => reply.body ?? '',
    };
  };
  return { fetch: fetchLike, calls };
}

export const json503 = () => ({
  status: 503,
  body: JSON.stringify(errorFixtures.service_unavailable.body),
  headers: { 'content-type': 'application/json' },
});

export function scriptedClient(
  fetchLike: FetchLike,
  opts: Pick<KatapultClientOptions, 'onAttempt'> & {
    random?: () => number;
    retry?: Partial<RetryPolicy>;
  } = {},
) {
  const sleeps: number[] = [];
  const client = new KatapultClient({
    baseUrl: 'https://api.katapult.io/core/v1',
    fetch: fetchLike,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: opts.random ?? (() => 0),
    retry: { ...opts.retry },
    ...(opts.onAttempt ? { onAttempt: opts.onAttempt } : {}),
  });
  return { client, sleeps };
}

/** The catalogue policy at `index`, checked to exist. */
export function catalogued(index: number) {
  const policy = fake.policies()[index];
  if (!policy) throw new Error(`no catalogue policy at ${index}`);
  return policy;
}

/** Adds a token of another organization, a read-only one and one without any policy scope. */
export function withExtraTokens() {
  fake.setTokens({
    [TOKEN]: 'Acme Ops',
    [ORG_TOKEN]: { organization: 'Acme Ops', user: null },
    [OTHER_TOKEN]: 'Globex',
    [READ_ONLY_TOKEN]: { organization: 'Acme Ops', scopes: ['disk_backup_policies:read'] },
    [NO_POLICY_SCOPE_TOKEN]: { organization: 'Acme Ops', scopes: ['trash_objects:restore'] },
  });
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
