/**
 * Bolt's per-workspace Web client pools stay bounded: the most recently seen workspaces are kept,
 * the others dropped (src/slack/platform/client-pools.ts).
 */
import { boundClientPools } from '../../src/slack/platform/client-pools.js';

type Middleware = ReturnType<typeof boundClientPools>;

/** One request from `teamId`, as Bolt would have served it: its pool made before the middleware. */
async function request(app: { clients: Record<string, unknown> }, middleware: Middleware, teamId: string) {
  app.clients[teamId] ??= { client: teamId };
  let nextCalled = false;
  await middleware({
    context: { teamId, isEnterpriseInstall: false },
    next: async () => {
      nextCalled = true;
    },
  } as unknown as Parameters<Middleware>[0]);
  expect(nextCalled).toBe(true);
}

test('keeps the pools of the most recently seen workspaces, at most `max`', async () => {
  const app = { clients: {} as Record<string, unknown> };
  const middleware = boundClientPools(app, 3);
  for (const team of ['T1', 'T2', 'T3', 'T1', 'T2', 'T3']) await request(app, middleware, team);
  await request(app, middleware, 'T1'); // seen again: now the most recent
  for (const team of ['T4', 'T4']) await request(app, middleware, team);
  expect(Object.keys(app.clients).sort()).toEqual(['T1', 'T3', 'T4']);
  for (let i = 0; i < 10_000; i++) await request(app, middleware, `TW${i % 20}`);
  expect(Object.keys(app.clients)).toHaveLength(3);
});

test("a workspace's first request does not keep its pool (it would age in the heap), its second does", async () => {
  const app = { clients: {} as Record<string, unknown> };
  const middleware = boundClientPools(app, 3);
  // 10,000 workspaces one request each, as traffic spread over them: nothing kept, nothing evicted.
  for (let i = 0; i < 10_000; i++) await request(app, middleware, `TW${i}`);
  expect(Object.keys(app.clients)).toEqual([]);
  await request(app, middleware, 'T1');
  expect(Object.keys(app.clients)).toEqual([]);
  await request(app, middleware, 'T1');
  expect(Object.keys(app.clients)).toEqual(['T1']);
  // Seen once long ago (more than max × 10 workspaces since): a first request again.
  await request(app, middleware, 'T2');
  for (let i = 0; i < 31; i++) await request(app, middleware, `TX${i}`);
  await request(app, middleware, 'T2');
  expect(Object.keys(app.clients)).toEqual(['T1']);
});

test('a pool kept under a key it never saw is swept', async () => {
  const app = { clients: { E0STRAY: {} } as Record<string, unknown> };
  const middleware = boundClientPools(app, 1000);
  for (let i = 0; i < 256; i++) await request(app, middleware, 'T1');
  expect(Object.keys(app.clients)).toEqual(['T1']);
});
