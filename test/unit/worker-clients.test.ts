/**
 * The workers' Web clients follow the installation: a kept client is reused only while it carries
 * the workspace's current bot token, `forget` drops it, and only the most recent are kept
 * (src/slack/platform/worker-clients.ts).
 */
import { createWorkerClients } from '../../src/slack/platform/worker-clients.js';

interface FakeClient {
  token: string;
  serial: number;
}

function setup(max = 100) {
  const tokens = new Map<string, string>();
  const made: FakeClient[] = [];
  const forgotten: string[] = [];
  const clients = createWorkerClients<FakeClient>({
    tokenFor: async (workspaceId) => tokens.get(workspaceId) ?? null,
    makeClient: (token) => {
      const client = { token, serial: made.length };
      made.push(client);
      return client;
    },
    max,
    onForget: (workspaceId) => forgotten.push(workspaceId),
  });
  return { tokens, made, forgotten, clients };
}

test('a kept client is reused while the token is the same; a new token gets a new client', async () => {
  const { tokens, made, clients } = setup();
  tokens.set('T1', 'xoxb-old');
  const first = await clients.clientFor('T1');
  expect(await clients.clientFor('T1')).toBe(first);
  expect(made).toHaveLength(1);

  // Reinstalled (here or on another replica): the store now holds another token.
  tokens.set('T1', 'xoxb-new');
  const second = await clients.clientFor('T1');
  expect(second.token).toBe('xoxb-new');
  expect(second).not.toBe(first);
  expect(await clients.clientFor('T1')).toBe(second);
  expect(clients.size).toBe(1);
});

test('a workspace with no token gets no client, and its kept client is dropped', async () => {
  const { tokens, clients } = setup();
  tokens.set('T1', 'xoxb-one');
  await clients.clientFor('T1');
  tokens.delete('T1');
  await expect(clients.clientFor('T1')).rejects.toThrow('no bot token for workspace T1');
  expect(clients.size).toBe(0);
});

test('forget drops the workspace’s client (and tells onForget); others are kept', async () => {
  const { tokens, made, forgotten, clients } = setup();
  tokens.set('T1', 'xoxb-one');
  tokens.set('T2', 'xoxb-two');
  const one = await clients.clientFor('T1');
  const two = await clients.clientFor('T2');
  clients.forget('T1');
  expect(forgotten).toEqual(['T1']);
  expect(clients.size).toBe(1);
  // Same token (single-workspace mode reads the configured one): still a new client.
  expect(await clients.clientFor('T1')).not.toBe(one);
  expect(await clients.clientFor('T2')).toBe(two);
  expect(made).toHaveLength(3);
});

test('a client made while a forget ran is used once but not kept', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const made: string[] = [];
  const clients = createWorkerClients({
    tokenFor: async () => {
      await gate;
      return 'xoxb-read-before-the-uninstall';
    },
    makeClient: (token) => {
      made.push(token);
      return { token };
    },
    max: 10,
  });
  const pending = clients.clientFor('T1');
  clients.forget('T1');
  release();
  await pending;
  expect(clients.size).toBe(0);
});

test('only the `max` workspaces used most recently are kept', async () => {
  const { tokens, made, clients } = setup(3);
  for (const team of ['T1', 'T2', 'T3', 'T4']) tokens.set(team, `xoxb-${team}`);
  const t1 = await clients.clientFor('T1');
  const t2 = await clients.clientFor('T2');
  await clients.clientFor('T3');
  expect(await clients.clientFor('T1')).toBe(t1); // used again: now the most recent
  await clients.clientFor('T4'); // T2, the least recent, goes
  expect(clients.size).toBe(3);
  expect(await clients.clientFor('T1')).toBe(t1);
  expect(await clients.clientFor('T2')).not.toBe(t2);
  for (let i = 0; i < 1000; i++) {
    tokens.set(`TW${i}`, `xoxb-w${i}`);
    await clients.clientFor(`TW${i}`);
  }
  expect(clients.size).toBe(3);
  expect(made.length).toBe(1005);
});
