/**
 * The client facade: each method reaches its resource through one transport, the global fetch
 * fits as well as node-fetch, and a policy's whole life (scheduled, trashed by the clock,
 * restored, purged) reads the same through every method.
 */
import { KatapultClient } from '../../../src/katapult/client.js';
import { KatapultApiError } from '../../../src/katapult/errors.js';
import { type FakeKatapult, startFakeKatapult } from '../../../support/fakes/katapult-api.js';
import {
  FAKE_KATAPULT_POLICY_COUNT,
  FAKE_KATAPULT_TRASH_SECONDS,
} from '../../../support/fakes/katapult-catalogue.js';
import {
  ACME_ORG_ID,
  AT,
  catalogued,
  fake,
  globalFetch,
  makeClient,
  NOW_MS,
  nodeFetch,
  rejectionOf,
  routes,
  TOKEN,
  useFakeKatapult,
} from './helpers.js';

useFakeKatapult();

describe('the facade', () => {
  it('the global fetch fits FetchLike as well', async () => {
    const client = new KatapultClient({ baseUrl: fake.baseUrl, fetch: globalFetch });
    await expect(client.identify(TOKEN)).resolves.toMatchObject({ userName: 'Ada Lovelace' });
  });

  it('each method sends its own route, one request each', async () => {
    const policy = catalogued(3);
    fake.trashPolicy(policy.id, AT);
    const { client } = makeClient();
    await client.identify(TOKEN);
    await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID);
    await client.restoreTrashObject(TOKEN, policy.id);
    await client.getDiskBackupPolicy(TOKEN, policy.id);
    await client.scheduleDiskBackupPolicyDeletion(TOKEN, policy.id, AT);
    expect(routes()).toEqual([
      'GET /users/current',
      'GET /organizations/organization/disk_backup_policies',
      'POST /trash_objects/trash_object/restore',
      'GET /disk_backup_policies/disk_backup_policy',
      'DELETE /disk_backup_policies/disk_backup_policy/schedule',
    ]);
  });

  it.each<[string, Record<string, unknown>, ErrorConstructor]>([
    ['a relative baseUrl', { baseUrl: '/core/v1' }, TypeError],
    ['an ftp baseUrl', { baseUrl: 'ftp://api.katapult.io/core/v1' }, TypeError],
    ['a zero timeout', { timeoutMs: 0 }, RangeError],
    ['no attempt at all', { retry: { maxAttempts: 0 } }, RangeError],
    ['a negative back-off', { retry: { baseDelayMs: -1 } }, RangeError],
  ])('refuses %s when built', (_label, options, errorClass) => {
    expect(() => new KatapultClient({ baseUrl: fake.baseUrl, fetch: nodeFetch, ...options })).toThrow(
      errorClass,
    );
  });
});

describe('the fake catalogue follows its clock', () => {
  let clockMs = NOW_MS;
  let timed: FakeKatapult;

  beforeAll(async () => {
    timed = await startFakeKatapult({ now: () => clockMs });
    timed.setTokens({ [TOKEN]: 'Acme Ops' });
  });

  afterAll(async () => {
    await timed.close();
  });

  it('scheduled → moved to the trash at that time → restored → kept until purged', async () => {
    const client = new KatapultClient({ baseUrl: timed.baseUrl, fetch: nodeFetch, sleep: async () => {} });
    const policy = timed.policies()[5];
    if (!policy) throw new Error('no policy');
    await client.scheduleDiskBackupPolicyDeletion(TOKEN, policy.id, AT);

    clockMs = (AT - 1) * 1000;
    await expect(client.getDiskBackupPolicy(TOKEN, policy.id)).resolves.toMatchObject({
      autoMoveToTrashAt: AT,
    });

    clockMs = AT * 1000;
    const inTrash = await rejectionOf(client.getDiskBackupPolicy(TOKEN, policy.id), KatapultApiError);
    expect(inTrash).toMatchObject({
      code: 'object_in_trash',
      detail: { trash_object: { keep_until: AT + FAKE_KATAPULT_TRASH_SECONDS, object_id: policy.id } },
    });
    const listed = await client.listOrganizationPolicies(TOKEN, ACME_ORG_ID, 1, 100);
    expect(listed.total).toBe(FAKE_KATAPULT_POLICY_COUNT - 1);

    const restored = await client.restoreTrashObject(TOKEN, policy.id);
    expect(restored.keepUntil).toBe(AT + FAKE_KATAPULT_TRASH_SECONDS);
    // The fake clears the schedule on restore (UNCERTAIN on the real API), so it stays out of the trash.
    await expect(client.getDiskBackupPolicy(TOKEN, policy.id)).resolves.toMatchObject({
      autoMoveToTrashAt: null,
    });

    await client.scheduleDiskBackupPolicyDeletion(TOKEN, policy.id, AT + 600);
    clockMs = (AT + 600 + FAKE_KATAPULT_TRASH_SECONDS) * 1000;
    await expect(client.restoreTrashObject(TOKEN, policy.id)).rejects.toMatchObject({
      code: 'trash_object_not_found',
    });
    await expect(client.getDiskBackupPolicy(TOKEN, policy.id)).rejects.toMatchObject({
      code: 'disk_backup_policy_not_found',
    });
  });
});
