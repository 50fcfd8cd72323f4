/**
 * The user directory's profile cache (src/slack/people/users.ts): with traffic spread over 10,000
 * workspaces, a person seen again within the TTL costs no `users.info`; a fresh lookup always asks.
 */
import type { webApi } from '@slack/bolt';
import { defaultPolicy } from '../../src/access/access-policy.js';
import type { AppLogger } from '../../src/log.js';
import { checkAccess } from '../../src/slack/people/access.js';
import { createUserDirectory, DECISION_MAX_AGE_MS, PROFILE_TTL_MS } from '../../src/slack/people/users.js';

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
/** A Slack whose users.info answers (an admin) only when `answer()` is called, for the last call made. */
function heldSlack() {
  let release: (() => void) | undefined;
  const client = {
    users: {
      info: async ({ user }: { user: string }) => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return { ok: true, user: { id: user, team_id: 'T00000001', tz: 'Europe/Paris', is_admin: true } };
      },
    },
  } as unknown as webApi.WebClient;
  return { client, answer: () => release?.() };
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

test('a profile is kept 10 minutes; a decision accepts it for 1 minute; a user_change drops the person everywhere', async () => {
  let now = 1_000_000;
  const users = createUserDirectory({ now: () => now });
  const { calls, client } = slack();
  await users.lookup(client, team(1), 'U1');
  await users.lookup(client, team(1), 'U2');
  await users.lookup(client, team(2), 'U1');
  now += 59_000;
  await users.lookup(client, team(1), 'U2', { maxAgeMs: DECISION_MAX_AGE_MS });
  expect(calls).toEqual(['U1', 'U2', 'U1']);
  now += 2_000;
  // 61 s old: still shown in a form, no longer good for a decision.
  await users.lookup(client, team(1), 'U2');
  expect(calls).toHaveLength(3);
  await users.lookup(client, team(1), 'U2', { maxAgeMs: DECISION_MAX_AGE_MS });
  expect(calls).toEqual(['U1', 'U2', 'U1', 'U2']);
  now += 8 * 60_000;
  expect(users.cached(team(1), 'U1')).not.toBeNull();
  // Slack says U1 changed: in every workspace (one person across an Enterprise Grid organization).
  users.forget('U1');
  expect(users.cached(team(1), 'U1')).toBeNull();
  expect(users.cached(team(2), 'U1')).toBeNull();
  expect(users.cached(team(1), 'U2')).not.toBeNull();
  await users.lookup(client, team(1), 'U1');
  expect(calls).toEqual(['U1', 'U2', 'U1', 'U2', 'U1']);
  expect(users.cached(team(1), 'U1')).not.toBeNull();
  now += 60_000;
  // U2's first answer is now over 10 minutes old; its second, 9 minutes: kept, for another minute.
  expect(users.cached(team(1), 'U2')).not.toBeNull();
  now += 61_000;
  expect(users.cached(team(1), 'U2')).toBeNull();
});

test('a users.info answer that overlapped a user_change is used but not kept (it may predate the change)', async () => {
  const users = createUserDirectory({ now: () => 1_000_000 });
  const { client, answer } = heldSlack();
  const pending = users.lookup(client, team(1), 'U1');
  await new Promise((resolve) => setImmediate(resolve));
  users.forget('U1');
  answer();
  expect((await pending).isAdmin).toBe(true);
  expect(users.cached(team(1), 'U1')).toBeNull();
  // Someone else's change meanwhile does not stop it being kept.
  const other = users.lookup(client, team(1), 'U2');
  await new Promise((resolve) => setImmediate(resolve));
  users.forget('U3');
  answer();
  await other;
  expect(users.cached(team(1), 'U2')).not.toBeNull();
});

test('access decisions read a profile at most a minute old; what only shapes a form, up to 10 minutes', async () => {
  let now = 1_000_000;
  const users = createUserDirectory({ now: () => now });
  const { calls, client } = slack();
  const deps = {
    users,
    access: { get: async () => defaultPolicy('everyone') },
    logger: { event: () => undefined } as unknown as AppLogger,
  };
  const where = { workspaceId: team(1), userId: 'U1', channelId: 'C1' };
  await checkAccess(deps, client, where);
  now += 90_000;
  await checkAccess(deps, client, { ...where, maxAgeMs: PROFILE_TTL_MS });
  expect(calls).toHaveLength(1);
  await checkAccess(deps, client, where);
  expect(calls).toHaveLength(2);
});

test('past 20,000 people marked changed, every kept profile goes, and one asked before then is not kept', async () => {
  const users = createUserDirectory({ now: () => 1_000_000 });
  const { client } = slack();
  await users.lookup(client, team(1), 'U1');
  const slow = heldSlack();
  const pending = users.lookup(slow.client, team(1), 'U2');
  await new Promise((resolve) => setImmediate(resolve));
  for (let i = 0; i < 20_001; i++) users.forget(`UCHANGED${i}`);
  slow.answer();
  await pending;
  expect(users.cached(team(1), 'U1')).toBeNull();
  expect(users.cached(team(1), 'U2')).toBeNull();
  await users.lookup(client, team(1), 'U1');
  expect(users.cached(team(1), 'U1')).not.toBeNull();
});
