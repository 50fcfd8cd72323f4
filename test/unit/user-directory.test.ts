/**
 * The user directory's profile cache (src/slack/people/users.ts): with traffic spread over 10,000
 * workspaces, a person seen again within the TTL costs no `users.info`; a fresh lookup always asks.
 */
import type { webApi } from '@slack/bolt';
import { createUserDirectory } from '../../src/slack/people/users.js';

function slack() {
  const calls: string[] = [];
  const client = {
    users: {
      info: async ({ user }: { user: string }) => {
        calls.push(user);
        return { ok: true, user: { id: user, team_id: 'T', tz: 'Europe/London', is_admin: true } };
      },
    },
  } as unknown as webApi.WebClient;
  return { calls, client };
}
const team = (i: number) => `T${String(i).padStart(8, '0')}`;

test('a person in each of 10,000 workspaces, seen again within the TTL, costs one users.info each', async () => {
  let now = 1_000_000;
  const users = createUserDirectory({ ttlMs: 60_000, groupTtlMs: 60_000, now: () => now });
  const { calls, client } = slack();
  for (let i = 0; i < 10_000; i++) await users.lookup(client, team(i), 'U1');
  now += 59_000;
  for (let i = 0; i < 10_000; i++) await users.lookup(client, team(i), 'U1');
  expect(calls.length).toBe(10_000);
  expect(users.cached(team(0), 'U1')?.tz).toBe('Europe/London');
});

test('past the TTL, or asked fresh, a profile is read from Slack again', async () => {
  let now = 1_000_000;
  const users = createUserDirectory({ ttlMs: 60_000, groupTtlMs: 60_000, now: () => now });
  const { calls, client } = slack();
  await users.lookup(client, team(1), 'U1');
  await users.lookup(client, team(1), 'U1', { fresh: true });
  now += 60_001;
  expect(users.cached(team(1), 'U1')).toBeNull();
  await users.lookup(client, team(1), 'U1');
  expect(calls.length).toBe(3);
});

test('a profile is kept 10 minutes by default; a user_change drops it, for that person and workspace only', async () => {
  let now = 1_000_000;
  const users = createUserDirectory({ now: () => now });
  const { calls, client } = slack();
  await users.lookup(client, team(1), 'U1');
  await users.lookup(client, team(1), 'U2');
  await users.lookup(client, team(2), 'U1');
  now += 9 * 60_000;
  expect(users.cached(team(1), 'U1')).not.toBeNull();
  users.forget(team(1), 'U1');
  expect(users.cached(team(1), 'U1')).toBeNull();
  expect(users.cached(team(1), 'U2')).not.toBeNull();
  expect(users.cached(team(2), 'U1')).not.toBeNull();
  await users.lookup(client, team(1), 'U1');
  expect(calls).toEqual(['U1', 'U2', 'U1', 'U1']);
  now += 60_001;
  expect(users.cached(team(1), 'U2')).toBeNull();
  expect(users.cached(team(1), 'U1')).not.toBeNull();
});

test('a users.info answer that overlapped a user_change is used but not kept (it may predate the change)', async () => {
  const users = createUserDirectory({ now: () => 1_000_000 });
  let answer: (() => void) | undefined;
  const client = {
    users: {
      info: async ({ user }: { user: string }) => {
        await new Promise<void>((resolve) => {
          answer = resolve;
        });
        return { ok: true, user: { id: user, team_id: team(1), tz: 'Europe/Paris', is_admin: true } };
      },
    },
  } as unknown as webApi.WebClient;
  const pending = users.lookup(client, team(1), 'U1');
  await new Promise((resolve) => setImmediate(resolve));
  users.forget(team(1), 'U1');
  answer?.();
  expect((await pending).isAdmin).toBe(true);
  expect(users.cached(team(1), 'U1')).toBeNull();
});
