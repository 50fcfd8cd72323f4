/**
 * The organization a workspace's token belongs to (src/tokens/workspace-tokens.ts), which the policy
 * picker keeps: "none" is an answer, a failure to ask Katapult is not.
 */
import type { KatapultIdentity } from '../../src/katapult/client.js';
import { Redactor } from '../../src/log.js';
import type { TokenStore } from '../../src/store/token-store.js';
import { createWorkspaceTokens } from '../../src/tokens/workspace-tokens.js';

const noStoredToken: TokenStore = {
  get: async () => null,
  status: async () => null,
  set: async () => undefined,
  remove: async () => false,
};

function withFallback(fallbackToken: string | null, identify: () => Promise<KatapultIdentity>) {
  return createWorkspaceTokens({
    store: noStoredToken,
    katapult: { identify },
    fallbackToken,
    redactor: new Redactor(),
    onStoreError: () => undefined,
  });
}

test("the fallback token's organization: a failed identify rejects, and is asked again next time", async () => {
  const answers = [
    () => Promise.reject(new Error('katapult down')),
    () =>
      Promise.resolve({ organizations: [{ id: 'org_1', name: 'Acme', subDomain: null }], userName: null }),
  ];
  let calls = 0;
  const tokens = withFallback('kt-fallback-token', () =>
    (answers[calls++] as () => Promise<KatapultIdentity>)(),
  );
  await expect(tokens.organizationId('T1')).rejects.toThrow('katapult down');
  await expect(tokens.organizationId('T1')).resolves.toBe('org_1');
  await expect(tokens.organizationId('T2')).resolves.toBe('org_1');
  expect(calls).toBe(2);
});

test('no stored token and no fallback: no organization (null), without asking Katapult', async () => {
  const tokens = withFallback(null, () => Promise.reject(new Error('not asked')));
  await expect(tokens.organizationId('T1')).resolves.toBeNull();
});
