/** Whom a token belongs to, against the fake Katapult server. */
import { KatapultApiError, KatapultResponseError } from '../../../src/katapult/errors.js';
import { fakeOrganizationId } from '../../../support/fakes/katapult-catalogue.js';
import { errorFixture } from '../../../support/fixtures/katapult/index.js';
import { fake, makeClient, ORG_TOKEN, rejectionOf, routes, TOKEN, useFakeKatapult } from './helpers.js';

useFakeKatapult();

describe('identify', () => {
  it('a user token: one GET /users/current, with the user name and organizations', async () => {
    const { client } = makeClient();
    const identity = await client.identify(TOKEN);
    expect(identity).toEqual({
      organizations: [{ id: fakeOrganizationId('Acme Ops'), name: 'Acme Ops', subDomain: 'acme-ops' }],
      userName: 'Ada Lovelace',
    });
    expect(routes()).toEqual(['GET /users/current']);
    const [request] = fake.requests;
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers.accept).toBe('application/json');
    expect(request?.headers['content-type']).toBeUndefined();
    expect(request?.rawBody).toBe('');
  });

  it('an organization token: 404 no_user_associated_with_identity, then GET /organizations', async () => {
    const { client } = makeClient();
    const identity = await client.identify(ORG_TOKEN);
    expect(identity).toEqual({
      organizations: [{ id: fakeOrganizationId('Acme Ops'), name: 'Acme Ops', subDomain: 'acme-ops' }],
      userName: null,
    });
    expect(routes()).toEqual(['GET /users/current', 'GET /organizations']);
  });

  it('403 scope_not_granted on /users/current also falls back to /organizations', async () => {
    fake.enqueue('GET /users/current', errorFixture('scope_not_granted'));
    const { client } = makeClient();
    await expect(client.identify(TOKEN)).resolves.toMatchObject({ userName: null });
    expect(routes()).toEqual(['GET /users/current', 'GET /organizations']);
  });

  it('a user with no name gives userName null', async () => {
    fake.enqueue('GET /users/current', {
      status: 200,
      body: {
        user: { id: 'user_x', first_name: '', last_name: null },
        organizations: [],
        api_token_id: null,
      },
    });
    const { client } = makeClient();
    await expect(client.identify(TOKEN)).resolves.toEqual({ organizations: [], userName: null });
  });

  it('an invalid token: KatapultApiError invalid_api_token, one request, no fallback', async () => {
    const { client } = makeClient();
    const error = await rejectionOf(client.identify('kt-not-a-real-token'), KatapultApiError);
    expect(error).toMatchObject({ status: 403, code: 'invalid_api_token', attempts: 1 });
    expect(routes()).toEqual(['GET /users/current']);
  });

  it('an organization token without organizations:read is valid, with no organization named', async () => {
    fake.setTokens({
      [ORG_TOKEN]: { organization: 'Acme Ops', user: null, scopes: ['disk_backup_policies'] },
    });
    const { client } = makeClient();
    await expect(client.identify(ORG_TOKEN)).resolves.toEqual({ organizations: [], userName: null });
    expect(routes()).toEqual(['GET /users/current', 'GET /organizations']);
  });

  it('an unexpected /organizations body is a KatapultResponseError', async () => {
    fake.enqueue('GET /organizations', { status: 200, body: { organizations: [{ name: 'no id' }] } });
    const { client } = makeClient();
    const error = await rejectionOf(client.identify(ORG_TOKEN), KatapultResponseError);
    expect(error.problem).toBe('unexpected response shape at organizations.0.id (invalid_type)');
  });
});
