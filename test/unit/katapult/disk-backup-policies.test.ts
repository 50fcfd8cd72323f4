/**
 * Disk backup policies (schedule a deletion, get one, list an organization's) against the fake
 * Katapult server, whose catalogue they read and change.
 */
import { DEFAULT_POLICIES_PER_PAGE } from '../../../src/katapult/client.js';
import { KatapultApiError, KatapultResponseError } from '../../../src/katapult/errors.js';
import type { FakeKatapultReply } from '../../../support/fakes/katapult-api.js';
import {
  FAKE_KATAPULT_POLICY_COUNT,
  FAKE_KATAPULT_TARGET_VM_ID,
  FAKE_KATAPULT_TARGET_VM_NAME,
  fakeOrganizationId,
} from '../../../support/fakes/katapult-catalogue.js';
import { errorFixture, errorFixtures } from '../../../support/fixtures/katapult/index.js';
import {
  ACME_ORG_ID,
  AT,
  catalogued,
  fake,
  GET_POLICY,
  GET_POLICY_PATH,
  LIST_POLICIES,
  LIST_POLICIES_PATH,
  makeClient,
  NO_POLICY_SCOPE_TOKEN,
  NOW_MS,
  NOW_S,
  OTHER_TOKEN,
  POLICY,
  READ_ONLY_TOKEN,
  rejectionOf,
  routes,
  SCHEDULE,
  SCHEDULE_PATH,
  scheduleReply,
  scriptedClient,
  scriptedFetch,
  TOKEN,
  useFakeKatapult,
  withExtraTokens,
} from './helpers.js';

useFakeKatapult();

describe('scheduleDiskBackupPolicyDeletion: the request', () => {
  it('sends exactly one DELETE with the JSON body, bearer token and headers', async () => {
    const { client } = makeClient();
    await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'DELETE', path: SCHEDULE_PATH, query: {} });
    expect(request?.rawBody).toBe(`{"disk_backup_policy":{"id":"${POLICY}"},"timestamp":${AT}}`);
    expect(request?.body).toEqual({ disk_backup_policy: { id: POLICY }, timestamp: AT });
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers.accept).toBe('application/json');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['user-agent']).toBe('katapult-chatops');
  });

  it('tolerates a trailing slash on baseUrl and sends a custom User-Agent', async () => {
    const { client } = makeClient({ baseUrl: `${fake.baseUrl}/`, userAgent: 'katapult-chatops/1.2.3' });
    await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);
    expect(routes()).toEqual([SCHEDULE]);
    expect(fake.requests[0]?.headers['user-agent']).toBe('katapult-chatops/1.2.3');
  });

  it.each([
    ['a fraction', 1.5, TypeError],
    ['NaN', Number.NaN, TypeError],
    ['Infinity', Number.POSITIVE_INFINITY, TypeError],
    ['zero', 0, RangeError],
    ['negative', -AT, RangeError],
    ['milliseconds', NOW_MS + 3_600_000, RangeError],
  ])('rejects `at` that is %s before any request', async (_label, at, errorClass) => {
    const { client } = makeClient();
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, at)).rejects.toThrow(errorClass);
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects an empty policy id or token before any request, without echoing the token', async () => {
    const { client } = makeClient();
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, '', AT)).rejects.toThrow(TypeError);
    await expect(client.scheduleDiskBackupPolicyDeletion('', POLICY, AT)).rejects.toThrow(TypeError);
    const withNewline = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(`${TOKEN}\r\nX-Evil: 1`, POLICY, AT),
      TypeError,
    );
    expect(withNewline.message).not.toContain(TOKEN);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('scheduleDiskBackupPolicyDeletion: success parsing', () => {
  it('reads the default answer of the fake (wire form of target) and the X-Request-Id', async () => {
    const { client } = makeClient();
    const result = await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);
    expect(result).toEqual({
      policyId: POLICY,
      autoMoveToTrashAt: AT,
      target: { type: 'VirtualMachine', id: FAKE_KATAPULT_TARGET_VM_ID },
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it.each<[string, unknown, { type: 'VirtualMachine' | 'Disk' | null; id: string | null }]>([
    [
      'wire VirtualMachine',
      { type: 'VirtualMachine', value: { id: 'vm_1kpkjQeMEI43tztr' } },
      { type: 'VirtualMachine', id: 'vm_1kpkjQeMEI43tztr' },
    ],
    [
      'wire Disk',
      { type: 'Disk', value: { id: 'disk_gJRNxe3h7zi0Hdh5' } },
      { type: 'Disk', id: 'disk_gJRNxe3h7zi0Hdh5' },
    ],
    ['OpenAPI wrapper', { target: { id: 'vm_1kpkjQeMEI43tztr' } }, { type: null, id: 'vm_1kpkjQeMEI43tztr' }],
    ['bare id', { id: 'disk_gJRNxe3h7zi0Hdh5' }, { type: null, id: 'disk_gJRNxe3h7zi0Hdh5' }],
    [
      'unknown polymorph option',
      { type: 'FileStorageVolume', value: { id: 'fsv_x' } },
      { type: null, id: 'fsv_x' },
    ],
    ['null', null, { type: null, id: null }],
    ['a string', 'vm_1kpkjQeMEI43tztr', { type: null, id: null }],
  ])('reads target given as %s', async (_label, target, expected) => {
    fake.enqueue(SCHEDULE, scheduleReply(target));
    const { client } = makeClient();
    const result = await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);
    expect(result.target).toEqual(expected);
    expect(result.requestId).toBe('req-fixed-1');
  });

  it('accepts a missing target and a null auto_move_to_trash_at', async () => {
    fake.enqueue(SCHEDULE, {
      status: 200,
      body: { disk_backup_policy: { id: POLICY, auto_move_to_trash_at: null } },
    });
    const { client } = makeClient();
    const result = await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);
    expect(result).toMatchObject({
      policyId: POLICY,
      autoMoveToTrashAt: null,
      target: { type: null, id: null },
    });
  });

  it.each<[string, FakeKatapultReply, string]>([
    [
      'invalid JSON',
      { status: 200, rawBody: '{"disk_backup_policy":', headers: { 'Content-Type': 'application/json' } },
      'invalid JSON (application/json)',
    ],
    [
      'an HTML page',
      {
        status: 200,
        rawBody: '<html><body>Sign in to the Wi-Fi</body></html>',
        headers: { 'Content-Type': 'text/html' },
      },
      'not JSON (text/html)',
    ],
    ['an empty body', { status: 200, rawBody: '' }, 'empty body'],
    [
      'a wrong id type',
      { status: 200, body: { disk_backup_policy: { id: 42, auto_move_to_trash_at: AT } } },
      'unexpected response shape at disk_backup_policy.id (invalid_type)',
    ],
    [
      'a fractional timestamp',
      { status: 200, body: { disk_backup_policy: { id: POLICY, auto_move_to_trash_at: 1.5 } } },
      'unexpected response shape at disk_backup_policy.auto_move_to_trash_at',
    ],
    [
      'a timestamp past what a date holds',
      { status: 200, body: { disk_backup_policy: { id: POLICY, auto_move_to_trash_at: 9e12 } } },
      'unexpected response shape at disk_backup_policy.auto_move_to_trash_at (too_big)',
    ],
    ['no policy', { status: 200, body: { ok: true } }, 'unexpected response shape at disk_backup_policy'],
  ])('a 200 with %s is a KatapultResponseError, never retried', async (_label, reply, problem) => {
    fake.enqueue(SCHEDULE, reply);
    const { client, sleeps } = makeClient();
    const error = await rejectionOf(
      client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT),
      KatapultResponseError,
    );
    expect(error.status).toBe(200);
    expect(error.problem.startsWith(problem)).toBe(true);
    expect(error.requestId).toEqual(expect.any(String));
    expect(error.message).not.toMatch(/Wi-Fi|<html|"disk_backup_policy":/);
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });
});

describe('getDiskBackupPolicy', () => {
  it('sends one GET with the bracket lookup in the query string, bearer token and no body', async () => {
    const policy = catalogued(0);
    const { client } = makeClient();
    await client.getDiskBackupPolicy(TOKEN, policy.id);
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({
      method: 'GET',
      path: GET_POLICY_PATH,
      query: { 'disk_backup_policy[id]': policy.id },
      rawBody: '',
    });
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers.accept).toBe('application/json');
    expect(request?.headers['content-type']).toBeUndefined();
  });

  it('URL-encodes the lookup (brackets and the value)', async () => {
    const script = scriptedFetch(() => ({
      status: 200,
      body: JSON.stringify({ disk_backup_policy: { id: 'dbp_a&b=c d' } }),
    }));
    const { client } = scriptedClient(script.fetch);
    await client.getDiskBackupPolicy(TOKEN, 'dbp_a&b=c d');
    expect(script.calls[0]?.url).toBe(
      'https://api.katapult.io/core/v1/disk_backup_policies/disk_backup_policy?disk_backup_policy%5Bid%5D=dbp_a%26b%3Dc+d',
    );
    expect(script.calls[0]?.init).toMatchObject({ method: 'GET' });
    expect(script.calls[0]?.init.body).toBeUndefined();
  });

  it('reads a VM policy of the catalogue: wire target with name, schedule, retention, size', async () => {
    const policy = catalogued(0);
    const { client } = makeClient();
    const result = await client.getDiskBackupPolicy(TOKEN, policy.id);
    expect(result).toEqual({
      id: policy.id,
      retention: 7,
      totalSize: policy.totalSize,
      target: { type: 'VirtualMachine', id: FAKE_KATAPULT_TARGET_VM_ID, name: FAKE_KATAPULT_TARGET_VM_NAME },
      schedule: {
        interval: 'daily',
        frequency: 1,
        time: 2,
        minute: 30,
        nextInvocationAt: policy.schedule.nextInvocationAt,
      },
      autoMoveToTrashAt: null,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(result.id).toMatch(/^dbp_[0-9A-Za-z]{16}$/);
  });

  it('reads a Disk policy with its name', async () => {
    const policy = catalogued(1);
    const { client } = makeClient();
    const result = await client.getDiskBackupPolicy(TOKEN, policy.id);
    expect(result.target).toEqual({ type: 'Disk', id: policy.target.id, name: 'web-1-data' });
    expect(result.target.id).toMatch(/^disk_[0-9A-Za-z]{16}$/);
    expect(result.schedule).toMatchObject({ interval: 'hourly', frequency: 6 });
    expect(result.retention).toBe(24);
  });

  it('a policy scheduled for deletion shows auto_move_to_trash_at on a later GET', async () => {
    const policy = catalogued(4);
    const { client } = makeClient();
    const scheduled = await client.scheduleDiskBackupPolicyDeletion(TOKEN, policy.id, AT);
    expect(scheduled.target).toEqual({ type: policy.target.type, id: policy.target.id });
    await expect(client.getDiskBackupPolicy(TOKEN, policy.id)).resolves.toMatchObject({
      id: policy.id,
      autoMoveToTrashAt: AT,
    });
    expect(fake.getPolicy(policy.id)?.autoMoveToTrashAt).toBe(AT);
  });

  it('a policy the fake did not know is catalogued by scheduling it, then readable', async () => {
    const { client } = makeClient();
    await expect(client.getDiskBackupPolicy(TOKEN, POLICY)).rejects.toMatchObject({
      code: 'disk_backup_policy_not_found',
    });
    await client.scheduleDiskBackupPolicyDeletion(TOKEN, POLICY, AT);
    await expect(client.getDiskBackupPolicy(TOKEN, POLICY)).resolves.toMatchObject({
      id: POLICY,
      autoMoveToTrashAt: AT,
      target: { type: 'VirtualMachine', id: FAKE_KATAPULT_TARGET_VM_ID, name: FAKE_KATAPULT_TARGET_VM_NAME },
    });
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'the OpenAPI target wrapper and a numeric string size',
      { target: { target: { id: 'vm_x', name: 'vm-x' } }, total_size: '12.50', retention: 3 },
      { target: { type: null, id: 'vm_x', name: 'vm-x' }, totalSize: 12.5, retention: 3 },
    ],
    [
      'a bare target without name',
      { target: { id: 'disk_y' } },
      { target: { type: null, id: 'disk_y', name: null } },
    ],
    [
      'nothing but the id',
      {},
      {
        target: { type: null, id: null, name: null },
        schedule: null,
        retention: null,
        totalSize: null,
        autoMoveToTrashAt: null,
      },
    ],
    [
      'odd informational fields',
      { retention: 'seven', total_size: 'big', schedule: { interval: 5, frequency: 1.5, minute: 0 } },
      {
        retention: null,
        totalSize: null,
        schedule: { interval: null, frequency: null, time: null, minute: 0, nextInvocationAt: null },
      },
    ],
    ['a schedule that is not an object', { schedule: 'daily' }, { schedule: null }],
    [
      'a next invocation past what a date holds (read as none)',
      { schedule: { interval: 'daily', next_invocation_at: 9e12 } },
      { schedule: { interval: 'daily', frequency: null, time: null, minute: null, nextInvocationAt: null } },
    ],
  ])('tolerates %s', async (_label, fields, expected) => {
    fake.enqueue(GET_POLICY, { status: 200, body: { disk_backup_policy: { id: POLICY, ...fields } } });
    const { client } = makeClient();
    await expect(client.getDiskBackupPolicy(TOKEN, POLICY)).resolves.toMatchObject({
      id: POLICY,
      ...expected,
    });
  });

  it.each<[string, unknown, string]>([
    ['no id', { disk_backup_policy: { retention: 1 } }, 'disk_backup_policy.id'],
    [
      'a fractional auto_move_to_trash_at',
      { disk_backup_policy: { id: POLICY, auto_move_to_trash_at: 1.5 } },
      'disk_backup_policy.auto_move_to_trash_at',
    ],
    [
      'a negative auto_move_to_trash_at',
      { disk_backup_policy: { id: POLICY, auto_move_to_trash_at: -1 } },
      'disk_backup_policy.auto_move_to_trash_at',
    ],
    ['no policy', { policy: {} }, 'disk_backup_policy'],
  ])('a 200 with %s is a KatapultResponseError', async (_label, body, where) => {
    fake.enqueue(GET_POLICY, { status: 200, body });
    const { client } = makeClient();
    const error = await rejectionOf(client.getDiskBackupPolicy(TOKEN, POLICY), KatapultResponseError);
    expect(error.problem).toContain(`unexpected response shape at ${where}`);
  });

  it('404 disk_backup_policy_not_found for an unknown policy, not retried', async () => {
    const { client, sleeps } = makeClient();
    const error = await rejectionOf(client.getDiskBackupPolicy(TOKEN, 'dbp_nope'), KatapultApiError);
    expect(error).toMatchObject({
      status: 404,
      code: 'disk_backup_policy_not_found',
      description: errorFixtures.disk_backup_policy_not_found.body.error.description,
      attempts: 1,
    });
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("404 for another organization's policy", async () => {
    withExtraTokens();
    const { client } = makeClient();
    await expect(client.getDiskBackupPolicy(OTHER_TOKEN, catalogued(0).id)).rejects.toMatchObject({
      status: 404,
      code: 'disk_backup_policy_not_found',
    });
  });

  it('406 object_in_trash with detail.trash_object once the policy is trashed', async () => {
    const policy = catalogued(2);
    const keepUntil = NOW_S + 7200;
    const trashId = fake.trashPolicy(policy.id, keepUntil);
    const { client } = makeClient();
    const error = await rejectionOf(client.getDiskBackupPolicy(TOKEN, policy.id), KatapultApiError);
    expect(error).toMatchObject({
      status: 406,
      code: 'object_in_trash',
      attempts: 1,
      detail: {
        trash_object: {
          id: trashId,
          keep_until: keepUntil,
          object_id: policy.id,
          object_type: 'DiskBackupPolicy',
        },
      },
    });
    expect(trashId).toMatch(/^trsh_[0-9A-Za-z]{16}$/);
    // Scheduling a trashed policy says the same.
    await expect(client.scheduleDiskBackupPolicyDeletion(TOKEN, policy.id, AT)).rejects.toMatchObject({
      code: 'object_in_trash',
    });
  });

  it('403 scope_not_granted names both read scopes; the read-only scope is enough', async () => {
    withExtraTokens();
    const { client } = makeClient();
    const error = await rejectionOf(
      client.getDiskBackupPolicy(NO_POLICY_SCOPE_TOKEN, catalogued(0).id),
      KatapultApiError,
    );
    expect(error).toMatchObject({
      status: 403,
      code: 'scope_not_granted',
      detail: { scopes: ['disk_backup_policies', 'disk_backup_policies:read'] },
    });
    await expect(client.getDiskBackupPolicy(READ_ONLY_TOKEN, catalogued(0).id)).resolves.toMatchObject({
      id: catalogued(0).id,
    });
  });

  it('is retried like the other calls: 429, 503 and a timeout', async () => {
    const id = catalogued(0).id;
    fake.enqueue(
      GET_POLICY,
      { status: 429, body: errorFixtures.rate_limit_reached.body },
      { status: 503, body: errorFixtures.service_unavailable.body },
      { status: 200, body: {}, delayMs: 2000 },
    );
    const { client, sleeps } = makeClient({ timeoutMs: 150 });
    await expect(client.getDiskBackupPolicy(TOKEN, id)).resolves.toMatchObject({ id });
    expect(routes()).toEqual([GET_POLICY, GET_POLICY, GET_POLICY, GET_POLICY]);
    expect(sleeps).toHaveLength(3);
  });

  it('rejects an empty policy id or a bad token before any request', async () => {
    const { client } = makeClient();
    await expect(client.getDiskBackupPolicy(TOKEN, ' ')).rejects.toThrow(TypeError);
    await expect(client.getDiskBackupPolicy('', POLICY)).rejects.toThrow(TypeError);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('listOrganizationPolicies', () => {
  it('sends one GET with organization[id], page and per_page (defaults 1 and 30)', async () => {
    const { client } = makeClient();
    await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      method: 'GET',
      path: LIST_POLICIES_PATH,
      query: { 'organization[id]': ACME_ORG_ID, page: '1', per_page: String(DEFAULT_POLICIES_PER_PAGE) },
      rawBody: '',
    });
    expect(fake.requests[0]?.headers['content-type']).toBeUndefined();
  });

  it('URL-encodes the query', async () => {
    const script = scriptedFetch(() => ({
      status: 200,
      body: JSON.stringify({ pagination: {}, disk_backup_policies: [] }),
    }));
    const { client } = scriptedClient(script.fetch);
    await client.listOrganizationPolicies(TOKEN, 'org_a&b', 2, 5);
    expect(script.calls[0]?.url).toBe(
      'https://api.katapult.io/core/v1/organizations/organization/disk_backup_policies?organization%5Bid%5D=org_a%26b&page=2&per_page=5',
    );
  });

  it('reads the first page of the catalogue: 30 of 45, with targets and names', async () => {
    const { client } = makeClient();
    const page = await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID);
    expect(page).toMatchObject({
      page: 1,
      totalPages: 2,
      perPage: 30,
      total: FAKE_KATAPULT_POLICY_COUNT,
      largeSet: false,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(page.policies).toHaveLength(30);
    const first = catalogued(0);
    expect(page.policies[0]).toEqual({
      id: first.id,
      target: { type: 'VirtualMachine', id: FAKE_KATAPULT_TARGET_VM_ID, name: 'web-1' },
      retention: 7,
      totalSize: first.totalSize,
      // The list gives only interval and next_invocation_at.
      schedule: {
        interval: 'daily',
        nextInvocationAt: first.schedule.nextInvocationAt,
        frequency: null,
        time: null,
        minute: null,
      },
    });
    expect(page.policies[1]?.target).toMatchObject({ type: 'Disk', name: 'web-1-data' });
    const names = page.policies.map((p) => p.target.name);
    expect(names).toContain('db-primary');
    expect(names).toContain('db-primary-data');
  });

  it('the pages together hold every policy exactly once, in catalogue order', async () => {
    const { client } = makeClient();
    const one = await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, 1);
    const two = await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, 2);
    expect(two).toMatchObject({ page: 2, totalPages: 2, perPage: 30 });
    expect(two.policies).toHaveLength(15);
    const ids = [...one.policies, ...two.policies].map((p) => p.id);
    expect(new Set(ids).size).toBe(FAKE_KATAPULT_POLICY_COUNT);
    expect(ids).toEqual(fake.policies().map((p) => p.id));
  });

  it.each([
    [10, 5, 5, 5],
    [10, 1, 10, 5],
    [10, 6, 0, 5],
    [45, 1, 45, 1],
    [100, 1, 45, 1],
  ])('per_page %i, page %i: %i policies of %i pages', async (perPage, pageNo, count, totalPages) => {
    const { client } = makeClient();
    const page = await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, pageNo, perPage);
    expect(page.policies).toHaveLength(count);
    expect(page).toMatchObject({ page: pageNo, perPage, totalPages, total: FAKE_KATAPULT_POLICY_COUNT });
  });

  it('leaves out trashed policies and shows added ones', async () => {
    fake.trashPolicy(catalogued(0).id, NOW_S + 3600);
    fake.setPolicy({ id: 'dbp_added0000000001', target: { type: 'Disk', id: 'disk_z', name: 'scratch' } });
    const { client } = makeClient();
    const page = await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, 1, 100);
    expect(page.total).toBe(FAKE_KATAPULT_POLICY_COUNT);
    expect(page.policies.map((p) => p.id)).not.toContain(catalogued(0).id);
    expect(page.policies.at(-1)).toMatchObject({
      id: 'dbp_added0000000001',
      target: { type: 'Disk', id: 'disk_z', name: 'scratch' },
    });
  });

  it('another organization sees none of them', async () => {
    withExtraTokens();
    const { client } = makeClient();
    const page = await client.listOrganizationPolicies(OTHER_TOKEN, fakeOrganizationId('Globex'));
    expect(page).toMatchObject({ policies: [], total: 0, totalPages: 1, page: 1 });
  });

  it('a large set: total and total_pages null', async () => {
    fake.enqueue(LIST_POLICIES, {
      status: 200,
      body: {
        pagination: { current_page: 3, total_pages: null, total: null, per_page: 30, large_set: true },
        disk_backup_policies: [{ id: 'dbp_1', target: { type: 'Disk', value: { id: 'disk_1', name: 'd' } } }],
      },
    });
    const { client } = makeClient();
    const page = await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, 3);
    expect(page).toMatchObject({ page: 3, totalPages: null, total: null, perPage: 30, largeSet: true });
    expect(page.policies).toEqual([
      {
        id: 'dbp_1',
        target: { type: 'Disk', id: 'disk_1', name: 'd' },
        retention: null,
        totalSize: null,
        schedule: null,
      },
    ]);
  });

  it('no pagination object: falls back to the page and per_page asked for', async () => {
    fake.enqueue(LIST_POLICIES, { status: 200, body: { disk_backup_policies: [] } });
    const { client } = makeClient();
    await expect(client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, 4, 7)).resolves.toMatchObject({
      policies: [],
      page: 4,
      perPage: 7,
      totalPages: null,
      total: null,
      largeSet: false,
    });
  });

  it.each<[string, unknown, string]>([
    ['no list', { pagination: {} }, 'disk_backup_policies'],
    ['an item without id', { disk_backup_policies: [{ retention: 1 }] }, 'disk_backup_policies.0.id'],
    ['a string page number', { pagination: { current_page: '1' }, disk_backup_policies: [] }, 'pagination'],
  ])('a 200 with %s is a KatapultResponseError', async (_label, body, where) => {
    fake.enqueue(LIST_POLICIES, { status: 200, body });
    const { client } = makeClient();
    const error = await rejectionOf(
      client.listOrganizationPolicies(TOKEN, ACME_ORG_ID),
      KatapultResponseError,
    );
    expect(error.problem).toContain(`unexpected response shape at ${where}`);
  });

  it('404 organization_not_found for an organization that is not the token’s', async () => {
    const { client } = makeClient();
    const error = await rejectionOf(
      client.listOrganizationPolicies(TOKEN, 'org_000000000000000X'),
      KatapultApiError,
    );
    expect(error).toMatchObject({
      status: 404,
      code: 'organization_not_found',
      description: errorFixtures.organization_not_found.body.error.description,
      attempts: 1,
    });
  });

  it.each(['organization_suspended', 'organization_not_activated'] as const)(
    '403 %s is decoded and not retried',
    async (code) => {
      fake.enqueue(LIST_POLICIES, errorFixture(code));
      const { client } = makeClient();
      await expect(client.listOrganizationPolicies(TOKEN, ACME_ORG_ID)).rejects.toMatchObject({
        status: 403,
        code,
        attempts: 1,
      });
      expect(fake.requests).toHaveLength(1);
    },
  );

  it('403 scope_not_granted without a policy scope', async () => {
    withExtraTokens();
    const { client } = makeClient();
    await expect(client.listOrganizationPolicies(NO_POLICY_SCOPE_TOKEN, ACME_ORG_ID)).rejects.toMatchObject({
      status: 403,
      code: 'scope_not_granted',
      detail: { scopes: ['disk_backup_policies', 'disk_backup_policies:read'] },
    });
  });

  it('503 is retried', async () => {
    fake.enqueue(LIST_POLICIES, { status: 503, body: errorFixtures.service_unavailable.body });
    const { client, sleeps } = makeClient();
    await expect(client.listOrganizationPolicies(TOKEN, ACME_ORG_ID)).resolves.toMatchObject({ page: 1 });
    expect(routes()).toEqual([LIST_POLICIES, LIST_POLICIES]);
    expect(sleeps).toHaveLength(1);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects page or perPage %p before any request', async (bad) => {
    const { client } = makeClient();
    await expect(client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, bad)).rejects.toThrow(RangeError);
    await expect(client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, 1, bad)).rejects.toThrow(RangeError);
    await expect(client.listOrganizationPolicies(TOKEN, '')).rejects.toThrow(TypeError);
    expect(fake.requests).toHaveLength(0);
  });
});
