/**
 * The policy picker's cache is bounded by the policies it keeps over all workspaces, not only by
 * the number of workspaces (src/slack/policy-catalogue.ts).
 */
import type { PolicySummary } from '../../src/katapult/client.js';
import type { AppLogger } from '../../src/log.js';
import { createPolicyCatalogue } from '../../src/slack/policy-catalogue.js';
import type { WorkspaceTokens } from '../../src/tokens/workspace-tokens.js';

const policy = (workspace: string, i: number): PolicySummary => ({
  id: `dbp_${workspace}${i}`,
  target: { type: 'VirtualMachine', id: `vm_${i}`, name: `vm-${i}` },
  retention: null,
  totalSize: null,
  schedule: null,
});

function catalogue(maxPolicies: number) {
  const listings: string[] = [];
  const tokens = {
    tokenFor: async (workspaceId: string) => ({ ok: true as const, token: `kt-${workspaceId}` }),
    organizationId: async () => 'org_1',
  } as unknown as WorkspaceTokens;
  const katapult = {
    getDiskBackupPolicy: async () => {
      throw new Error('not used');
    },
    listOrganizationPolicies: async (token: string) => {
      const workspace = token.slice(3);
      listings.push(workspace);
      return { policies: Array.from({ length: 40 }, (_, i) => policy(workspace, i)), totalPages: 1, page: 1 };
    },
  };
  const logger = { event: () => undefined } as unknown as AppLogger;
  return {
    listings,
    cat: createPolicyCatalogue({ tokens, katapult, logger, now: () => 0 }, { maxPolicies }),
  };
}

test('a new listing that would pass the policy bound drops the oldest listings first', async () => {
  const { cat, listings } = catalogue(100);
  for (const w of ['T1', 'T2', 'T3']) expect(await cat.search(w, '', 1000)).toHaveLength(40);
  expect(listings).toEqual(['T1', 'T2', 'T3']);
  // 120 policies would not fit: T1's listing went when T3's came; T2 and T3 are still cached.
  await cat.search('T2', '', 1000);
  await cat.search('T3', '', 1000);
  expect(listings).toEqual(['T1', 'T2', 'T3']);
  await cat.search('T1', '', 1000);
  expect(listings).toEqual(['T1', 'T2', 'T3', 'T1']);
});

test('a listing replaced or forgotten no longer counts against the bound', async () => {
  const { cat, listings } = catalogue(80);
  await cat.search('T1', '', 1000);
  cat.forget('T1');
  await cat.search('T1', '', 1000);
  await cat.search('T2', '', 1000);
  // 40 + 40 fit in 80 once the forgotten listing is no longer counted.
  await cat.search('T1', '', 1000);
  expect(listings).toEqual(['T1', 'T1', 'T2']);
});

function withoutOrganization(organizationId: () => Promise<string | null>) {
  let reads = 0;
  const events: string[] = [];
  const tokens = {
    organizationId: async () => {
      reads++;
      return organizationId();
    },
  } as unknown as WorkspaceTokens;
  const katapult = {
    getDiskBackupPolicy: async () => {
      throw new Error('not used');
    },
    listOrganizationPolicies: async () => {
      throw new Error('not used');
    },
  };
  const levels: string[] = [];
  const logger = {
    event: (level: string, event: string) => {
      levels.push(level);
      events.push(event);
    },
  } as unknown as AppLogger;
  let now = 0;
  const cat = createPolicyCatalogue({ tokens, katapult, logger, now: () => now });
  return { cat, events, levels, reads: () => reads, later: (ms: number) => (now += ms) };
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('a workspace with no organization is read and logged once per TTL, in each of 10,000 workspaces, until a token is set', async () => {
  const { cat, events, levels, reads, later } = withoutOrganization(async () => null);
  const team = (i: number) => `T${i}`;
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 10_000; i++) cat.warm(team(i));
    await settle();
  }
  expect(reads()).toBe(10_000);
  expect(events.length).toBe(10_000);
  expect(new Set(levels)).toEqual(new Set(['debug'])); // not set up yet is not a fault
  expect(await cat.search(team(1), '', 100)).toEqual([]);
  cat.forget(team(1));
  cat.warm(team(1));
  await settle();
  expect(reads()).toBe(10_001);
  later(60_001);
  cat.warm(team(2));
  await settle();
  expect(reads()).toBe(10_002);
});

test('a store that failed is not kept: the next modal reads again', async () => {
  const { cat, events, levels, reads } = withoutOrganization(async () => {
    throw new Error('store down');
  });
  cat.warm('T1');
  await settle();
  cat.warm('T1');
  await settle();
  expect(reads()).toBe(2);
  expect(events).toEqual(['policy_list_failed', 'policy_list_failed']);
  expect(levels).toEqual(['warn', 'warn']);
});
