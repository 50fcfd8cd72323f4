/** Restoring from the trash against the fake Katapult server. */
import {
  KatapultApiError,
  KatapultResponseError,
  KatapultTimeoutError,
} from '../../../src/katapult/errors.js';
import { errorFixtures } from '../../../support/fixtures/katapult/index.js';
import {
  catalogued,
  fake,
  makeClient,
  NOW_S,
  OTHER_TOKEN,
  POLICY,
  RESTORE,
  RESTORE_PATH,
  rejectionOf,
  routes,
  TOKEN,
  useFakeKatapult,
  withExtraTokens,
} from './helpers.js';

useFakeKatapult();

describe('restoreTrashObject', () => {
  it('sends one POST with {"trash_object":{"object_id":…}} as JSON', async () => {
    const policy = catalogued(3);
    fake.trashPolicy(policy.id, NOW_S + 3600);
    const { client } = makeClient();
    await client.restoreTrashObject(TOKEN, policy.id);
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', path: RESTORE_PATH, query: {} });
    expect(request?.rawBody).toBe(`{"trash_object":{"object_id":"${policy.id}"}}`);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('restores a trashed policy: the trash object comes back and the policy is readable again', async () => {
    const policy = catalogued(3);
    const keepUntil = NOW_S + 3600;
    const trashId = fake.trashPolicy(policy.id, keepUntil);
    const { client } = makeClient();
    const restored = await client.restoreTrashObject(TOKEN, policy.id);
    expect(restored).toEqual({
      id: trashId,
      objectId: policy.id,
      objectType: 'DiskBackupPolicy',
      keepUntil,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(fake.getPolicy(policy.id)?.trash).toBeNull();
    await expect(client.getDiskBackupPolicy(TOKEN, policy.id)).resolves.toMatchObject({ id: policy.id });
  });

  it('404 trash_object_not_found for a policy not in the trash, and for a second restore', async () => {
    const policy = catalogued(3);
    const { client } = makeClient();
    const error = await rejectionOf(client.restoreTrashObject(TOKEN, policy.id), KatapultApiError);
    expect(error).toMatchObject({
      status: 404,
      code: 'trash_object_not_found',
      description: errorFixtures.trash_object_not_found.body.error.description,
      detail: {},
      attempts: 1,
    });
    fake.trashPolicy(policy.id, NOW_S + 3600);
    await client.restoreTrashObject(TOKEN, policy.id);
    await expect(client.restoreTrashObject(TOKEN, policy.id)).rejects.toMatchObject({
      code: 'trash_object_not_found',
    });
    await expect(client.restoreTrashObject(TOKEN, 'dbp_never')).rejects.toMatchObject({
      code: 'trash_object_not_found',
    });
  });

  it('404 once keep_until has passed: the policy was purged', async () => {
    const policy = catalogued(3);
    fake.trashPolicy(policy.id, NOW_S - 1);
    const { client } = makeClient();
    await expect(client.restoreTrashObject(TOKEN, policy.id)).rejects.toMatchObject({
      status: 404,
      code: 'trash_object_not_found',
    });
    await expect(client.getDiskBackupPolicy(TOKEN, policy.id)).rejects.toMatchObject({
      code: 'disk_backup_policy_not_found',
    });
    expect(fake.getPolicy(policy.id)).toBeUndefined();
  });

  it('403 scope_not_granted with detail.scopes ["trash_objects:restore"]', async () => {
    fake.setTokens({ [TOKEN]: { organization: 'Acme Ops', scopes: ['disk_backup_policies'] } });
    const policy = catalogued(3);
    fake.trashPolicy(policy.id, NOW_S + 3600);
    const { client } = makeClient();
    const error = await rejectionOf(client.restoreTrashObject(TOKEN, policy.id), KatapultApiError);
    expect(error).toMatchObject({
      status: 403,
      code: 'scope_not_granted',
      detail: { scopes: ['trash_objects:restore'] },
      attempts: 1,
    });
    expect(fake.getPolicy(policy.id)?.trash).not.toBeNull();
  });

  it('another organization cannot restore the policy: 404', async () => {
    withExtraTokens();
    const policy = catalogued(3);
    fake.trashPolicy(policy.id, NOW_S + 3600);
    const { client } = makeClient();
    await expect(client.restoreTrashObject(OTHER_TOKEN, policy.id)).rejects.toMatchObject({
      code: 'trash_object_not_found',
    });
  });

  it('tolerates a trash object with missing fields', async () => {
    fake.enqueue(RESTORE, { status: 200, body: { trash_object: {} } });
    const { client } = makeClient();
    await expect(client.restoreTrashObject(TOKEN, POLICY)).resolves.toEqual({
      id: null,
      objectId: null,
      objectType: null,
      keepUntil: null,
      requestId: expect.any(String),
    });
  });

  it('a keep_until past what a date holds reads as none: the restore that happened still counts', async () => {
    fake.enqueue(RESTORE, { status: 200, body: { trash_object: { id: 'trsh_1', keep_until: 9e12 } } });
    const { client } = makeClient();
    await expect(client.restoreTrashObject(TOKEN, POLICY)).resolves.toMatchObject({
      id: 'trsh_1',
      keepUntil: null,
    });
  });

  it('a 200 without trash_object is a KatapultResponseError', async () => {
    fake.enqueue(RESTORE, { status: 200, body: { ok: true } });
    const { client } = makeClient();
    const error = await rejectionOf(client.restoreTrashObject(TOKEN, POLICY), KatapultResponseError);
    expect(error.problem).toContain('unexpected response shape at trash_object');
  });

  it('429 and 503 are retried', async () => {
    const policy = catalogued(3);
    fake.trashPolicy(policy.id, NOW_S + 3600);
    fake.enqueue(
      RESTORE,
      { status: 429, body: errorFixtures.rate_limit_reached.body },
      { status: 503, body: errorFixtures.service_unavailable.body },
    );
    const { client, sleeps } = makeClient();
    await expect(client.restoreTrashObject(TOKEN, policy.id)).resolves.toMatchObject({ objectId: policy.id });
    expect(routes()).toEqual([RESTORE, RESTORE, RESTORE]);
    expect(sleeps).toHaveLength(2);
  });

  it('a timeout is NOT retried (a repeat of a restore that happened would answer 404)', async () => {
    fake.enqueue(RESTORE, { status: 200, body: {}, delayMs: 2000 });
    const { client, sleeps } = makeClient({ timeoutMs: 100 });
    const error = await rejectionOf(client.restoreTrashObject(TOKEN, POLICY), KatapultTimeoutError);
    expect(error.attempts).toBe(1);
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('rejects an empty object id before any request', async () => {
    const { client } = makeClient();
    await expect(client.restoreTrashObject(TOKEN, '')).rejects.toThrow(TypeError);
    expect(fake.requests).toHaveLength(0);
  });
});
