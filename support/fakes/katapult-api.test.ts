/**
 * The fake Katapult server itself, over raw HTTP: Apia's envelope and headers, its order of checks,
 * scripted replies, latency, the argument errors of each route and the catalogue's own methods.
 */
import fetch from 'node-fetch';
import { KATAPULT_ROUTES } from '../../src/katapult/routes.js';
import { errorFixtures } from '../fixtures/katapult/index.js';
import { type FakeKatapult, startFakeKatapult } from './katapult-api.js';
import { FAKE_KATAPULT_POLICY_COUNT, fakeOrganizationId } from './katapult-catalogue.js';

const nodeFetch = fetch;
const TOKEN = 'kt-fake-SECRET-5d7f9b1c3e';
const NOW_MS = Date.UTC(2026, 0, 15, 9, 30, 0);
const NOW_S = Math.floor(NOW_MS / 1000);
const AT = NOW_S + 3600;
const POLICY = 'dbp_b3DMkzRt8iWqXo4s';
const ACME_ORG_ID = fakeOrganizationId('Acme Ops');
const SCHEDULE_PATH = KATAPULT_ROUTES.scheduleDiskBackupPolicyDeletion.path;
const GET_POLICY_PATH = KATAPULT_ROUTES.getDiskBackupPolicy.path;
const LIST_POLICIES_PATH = KATAPULT_ROUTES.listOrganizationPolicies.path;
const RESTORE_PATH = KATAPULT_ROUTES.restoreTrashObject.path;

let fake: FakeKatapult;

beforeAll(async () => {
  fake = await startFakeKatapult({ now: () => NOW_MS });
});

beforeEach(() => {
  fake.reset();
  fake.resetPolicies();
  fake.setTokens({ [TOKEN]: 'Acme Ops' });
});

afterAll(async () => {
  await fake.close();
});

/** The catalogue policy at `index`, checked to exist. */
function catalogued(index: number) {
  const policy = fake.policies()[index];
  if (!policy) throw new Error(`no catalogue policy at ${index}`);
  return policy;
}

describe('the fake Katapult server itself', () => {
  async function raw(
    path: string,
    init: { method: string; headers?: Record<string, string>; body?: string },
  ) {
    const res = await nodeFetch(`${fake.baseUrl}${path}`, { headers: {}, ...init });
    const body: unknown = JSON.parse(await res.text());
    return { status: res.status, headers: res.headers, body };
  }
  const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

  it('answers like Apia: wrapped errors with X-Api-Schema, request id and rate-limit headers', async () => {
    const res = await raw(SCHEDULE_PATH, {
      method: 'DELETE',
      body: JSON.stringify({ disk_backup_policy: { id: POLICY }, timestamp: AT }),
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errorFixtures.missing_api_token.body);
    expect(res.headers.get('x-api-schema')).toBe('json-error');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-ratelimit-permitted')).toBe('1000');
    expect(Number(res.headers.get('x-ratelimit-remaining'))).toBeLessThan(1000);
  });

  it.each<[string, unknown, number, string]>([
    [
      'timestamp under 5 minutes ahead',
      { disk_backup_policy: { id: POLICY }, timestamp: NOW_S + 299 },
      400,
      'invalid_timestamp',
    ],
    [
      'timestamp as a string',
      { disk_backup_policy: { id: POLICY }, timestamp: String(AT) },
      400,
      'invalid_argument',
    ],
    [
      'fractional timestamp',
      { disk_backup_policy: { id: POLICY }, timestamp: AT + 0.5 },
      400,
      'invalid_argument',
    ],
    ['no timestamp', { disk_backup_policy: { id: POLICY } }, 400, 'missing_required_argument'],
    ['no disk_backup_policy', { timestamp: AT }, 400, 'missing_required_argument'],
    [
      'an unknown policy',
      { disk_backup_policy: { id: 'missing-policy' }, timestamp: AT },
      404,
      'disk_backup_policy_not_found',
    ],
    [
      'a trashed policy',
      { disk_backup_policy: { id: 'trashed-policy' }, timestamp: AT },
      406,
      'object_in_trash',
    ],
  ])('schedule with %s (%j) → %i %s', async (_label, body, status, code) => {
    const res = await raw(SCHEDULE_PATH, { method: 'DELETE', headers: auth, body: JSON.stringify(body) });
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error: { code } });
  });

  it('a wrong bearer gets 403 invalid_api_token; an unknown route 404 route_not_found', async () => {
    const bad = await raw('/users/current', { method: 'GET', headers: { Authorization: 'Bearer nope' } });
    expect(bad).toMatchObject({ status: 403, body: { error: { code: 'invalid_api_token' } } });
    const unknown = await raw('/disk_backup_policies/disk_backup_policy/schedules', {
      method: 'DELETE',
      headers: auth,
    });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'route_not_found' } } });
  });

  it('queued replies are used in order, then the default behaviour answers again', async () => {
    fake.enqueue('GET /users/current', { status: 418, body: { a: 1 } }, { status: 419, body: { b: 2 } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await raw('/users/current', { method: 'GET', headers: auth })).status);
    expect(statuses).toEqual([418, 419, 200]);
    expect(fake.requests).toHaveLength(3);
    fake.reset();
    expect(fake.requests).toHaveLength(0);
  });

  it('latencyMs delays the default answers', async () => {
    fake.latencyMs = 80;
    try {
      const started = Date.now();
      await raw('/users/current', { method: 'GET', headers: auth });
      expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    } finally {
      fake.latencyMs = 0;
    }
  });

  it('a reply heldUntil a promise is answered once it settles', async () => {
    let release: () => void = () => undefined;
    fake.enqueue('GET /users/current', {
      status: 418,
      body: { held: true },
      heldUntil: new Promise<void>((resolve) => {
        release = resolve;
      }),
    });
    let answered = false;
    const res = raw('/users/current', { method: 'GET', headers: auth }).finally(() => {
      answered = true;
    });
    await fake.waitFor((r) => r.path === '/users/current');
    expect(answered).toBe(false);
    release();
    expect((await res).status).toBe(418);
  });

  it('waitFor resolves when a matching request arrives (before its latency), and fails clearly', async () => {
    fake.latencyMs = 60_000;
    try {
      const arrived = fake.waitFor((r) => r.path === '/users/current');
      void raw('/users/current', { method: 'GET', headers: auth }).catch(() => undefined);
      expect((await arrived).map((r) => r.method)).toEqual(['GET']);
      await expect(fake.waitFor((r) => r.method === 'PATCH', 1, 20)).rejects.toThrow(
        'expected 1 matching request(s), saw 0',
      );
    } finally {
      fake.latencyMs = 0;
    }
  });
});

describe('the fake Katapult server: the read and restore routes', () => {
  async function raw(
    path: string,
    init: { method: string; body?: unknown; token?: string } = { method: 'GET' },
  ) {
    const headers: Record<string, string> = { Authorization: `Bearer ${init.token ?? TOKEN}` };
    const options: { method: string; headers: Record<string, string>; body?: string } = {
      method: init.method,
      headers,
    };
    if (init.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      options.body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    }
    const res = await nodeFetch(`${fake.baseUrl}${path}`, options);
    const body: unknown = JSON.parse(await res.text());
    return { status: res.status, body, schema: res.headers.get('x-api-schema') };
  }

  it.each<[string, string, number, string, Record<string, unknown>]>([
    ['no lookup', GET_POLICY_PATH, 400, 'missing_required_argument', { path: ['disk_backup_policy'] }],
    [
      'an empty lookup',
      `${GET_POLICY_PATH}?disk_backup_policy%5Bid%5D=`,
      400,
      'invalid_argument',
      {
        issue: 'missing_lookup_value',
      },
    ],
    [
      'a missing-prefixed id',
      `${GET_POLICY_PATH}?disk_backup_policy[id]=missing-1`,
      404,
      'disk_backup_policy_not_found',
      {},
    ],
    [
      'a trashed-prefixed id',
      `${GET_POLICY_PATH}?disk_backup_policy[id]=trashed-1`,
      406,
      'object_in_trash',
      { trash_object: { object_id: 'trashed-1', object_type: 'DiskBackupPolicy' } },
    ],
    ['no organization', LIST_POLICIES_PATH, 400, 'missing_required_argument', { path: ['organization'] }],
    [
      'both organization lookups',
      `${LIST_POLICIES_PATH}?organization[id]=${ACME_ORG_ID}&organization[sub_domain]=acme-ops`,
      400,
      'invalid_argument',
      { issue: 'ambiguous_lookup_values' },
    ],
    [
      'a page that is not a number',
      `${LIST_POLICIES_PATH}?organization[id]=${ACME_ORG_ID}&page=two`,
      400,
      'invalid_argument',
      { issue: 'invalid_scalar' },
    ],
    [
      'an unknown sub_domain',
      `${LIST_POLICIES_PATH}?organization[sub_domain]=globex`,
      404,
      'organization_not_found',
      {},
    ],
  ])('GET with %s → %i %s', async (_label, path, status, code, detail) => {
    const res = await raw(path);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error: { code, detail } });
    expect(res.schema).toBe('json-error');
  });

  it('the organization can be looked up by sub_domain too', async () => {
    const res = await raw(`${LIST_POLICIES_PATH}?organization[sub_domain]=acme-ops&per_page=2`);
    expect(res).toMatchObject({
      status: 200,
      body: { pagination: { current_page: 1, per_page: 2, total: 45, total_pages: 23, large_set: false } },
    });
  });

  it.each<[string, unknown, number, string]>([
    ['no trash_object', {}, 400, 'missing_required_argument'],
    ['an empty lookup', { trash_object: {} }, 400, 'invalid_argument'],
    ['both lookups', { trash_object: { id: 'trsh_1', object_id: 'dbp_1' } }, 400, 'invalid_argument'],
    ['invalid JSON', '{"trash_object":', 400, 'invalid_json_body'],
    ['an unknown trash id', { trash_object: { id: 'trsh_nope' } }, 404, 'trash_object_not_found'],
  ])('restore with %s → %i %s', async (_label, body, status, code) => {
    const res = await raw(RESTORE_PATH, { method: 'POST', body });
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error: { code } });
  });

  it('restore by trash object id works as well as by object_id', async () => {
    const policy = catalogued(7);
    const trashId = fake.trashPolicy(policy.id, NOW_S + 60);
    const res = await raw(RESTORE_PATH, { method: 'POST', body: { trash_object: { id: trashId } } });
    expect(res).toEqual({
      status: 200,
      body: {
        trash_object: {
          id: trashId,
          keep_until: NOW_S + 60,
          object_id: policy.id,
          object_type: 'DiskBackupPolicy',
        },
      },
      schema: null,
    });
  });

  it('setPolicy replaces a policy (and takes it out of the trash); trashPolicy needs a known id', () => {
    const policy = catalogued(0);
    fake.trashPolicy(policy.id, NOW_S + 60);
    fake.setPolicy({ id: policy.id, target: { type: 'Disk', id: 'disk_q', name: 'q' }, retention: 2 });
    expect(fake.getPolicy(policy.id)).toMatchObject({
      organization: 'Acme Ops',
      retention: 2,
      target: { type: 'Disk', id: 'disk_q', name: 'q' },
      trash: null,
      autoMoveToTrashAt: null,
    });
    expect(fake.policies()).toHaveLength(FAKE_KATAPULT_POLICY_COUNT);
    expect(() => fake.trashPolicy('dbp_unknown', NOW_S)).toThrow(/no policy/);
  });

  it('resetPolicies puts the default catalogue back; reset() alone keeps it', () => {
    fake.setPolicy({ id: 'dbp_extra', target: { type: 'Disk', id: 'disk_e', name: 'e' } });
    fake.reset();
    expect(fake.getPolicy('dbp_extra')).toBeDefined();
    fake.resetPolicies();
    expect(fake.getPolicy('dbp_extra')).toBeUndefined();
    expect(fake.policies()).toHaveLength(FAKE_KATAPULT_POLICY_COUNT);
  });
});
