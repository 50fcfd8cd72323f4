/**
 * Bolt's per-workspace Web clients stay bounded (src/slack/platform/client-pools.ts): the most
 * recently seen workspaces keep a client of their own, from their second request; other requests get
 * one that calls through a shared client, with their workspace's token. Checked on a real Bolt App
 * and the fake Slack.
 */
import { App } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { sharedClients } from '../../src/bot/slack-clients.js';
import { boundClientPools, dropClientPool } from '../../src/slack/platform/client-pools.js';
import { type FakeSlack, startFakeSlack } from '../../support/fakes/slack-api.js';

let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(() => slack.close());
beforeEach(() => slack.reset());

/** A Bolt App serving any workspace `T…` with the bot token `xoxb-T…`; `post` answers with a message. */
function boltApp(max: number) {
  const app = new App({
    signingSecret: 'test-signing-secret',
    authorize: async ({ teamId }) => ({ botToken: `xoxb-${teamId}`, teamId, botId: 'B1', botUserId: 'U1' }),
    clientOptions: { slackApiUrl: slack.apiUrl },
  });
  app.use(boundClientPools(app, max, sharedClients({ slackApiUrl: slack.apiUrl }, 0)));
  const clients: { team: string; client: WebClient }[] = [];
  app.action('post', async ({ ack, client, body }) => {
    await ack();
    clients.push({ team: body.team?.id ?? '', client });
    await client.chat.postMessage({ channel: 'C1', text: `for ${body.team?.id}` });
  });
  const request = (team: string) =>
    app.processEvent({
      body: {
        type: 'block_actions',
        team: { id: team },
        user: { id: 'U9' },
        trigger_id: 't',
        actions: [{ type: 'button', action_id: 'post', block_id: 'b', action_ts: '1' }],
      },
      ack: async () => undefined,
    });
  const kept = () => Object.keys((app as unknown as { clients: object }).clients).sort();
  return { app, request, clients, kept };
}

/** A Web client's request queue: one for all the clients that call through the shared one. */
const queueOf = (client: WebClient) => (client as unknown as { requestQueue: object }).requestQueue;

test('keeps a client for the most recently seen workspaces, at most `max`, each with its own token', async () => {
  const { request, clients, kept } = boltApp(3);
  for (const team of ['T1', 'T2', 'T3', 'T1', 'T2', 'T3']) await request(team);
  await request('T1'); // seen again: now the most recent
  for (const team of ['T4', 'T4']) await request(team);
  expect(kept()).toEqual(['T1', 'T3', 'T4']);
  await request('T4');
  await request('T4');
  const t4 = clients.filter((c) => c.team === 'T4').map((c) => c.client);
  // Its first two requests: calls through the shared client; then one Web client of its own, kept.
  expect(t4.map((c) => c instanceof WebClient && c.constructor === WebClient)).toEqual([
    false,
    false,
    true,
    true,
  ]);
  expect(t4[2]).toBe(t4[3]);
  for (const call of slack.callsTo('chat.postMessage')) {
    expect(call.args.text).toBe(`for ${call.token?.slice(5)}`);
    expect(call.args.team_id).toBe(call.token?.slice(5));
  }
  for (let i = 0; i < 600; i++) await request(`TW${i % 20}`);
  expect(kept()).toHaveLength(3);
});

test("a workspace's first request keeps nothing and makes no Web client; its second keeps one", async () => {
  const { request, clients, kept } = boltApp(3);
  // Traffic spread over many workspaces, one request each: nothing kept.
  for (let i = 0; i < 200; i++) await request(`TW${i}`);
  expect(kept()).toEqual([]);
  expect(new Set(clients.map(({ client }) => queueOf(client))).size).toBe(1);
  expect(new Set(slack.callsTo('chat.postMessage').map((c) => c.token)).size).toBe(200);
  await request('T1');
  expect(kept()).toEqual([]);
  await request('T1');
  expect(kept()).toEqual(['T1']);
  // Seen once long ago (more than max × 10 workspaces since): a first request again.
  await request('T2');
  for (let i = 0; i < 31; i++) await request(`TX${i}`);
  await request('T2');
  expect(kept()).toEqual(['T1']);
});

test('a team ID that names an Object property is a workspace like any other', async () => {
  const { request, clients, kept } = boltApp(3);
  for (const team of ['__proto__', 'constructor', '__proto__', 'constructor', '__proto__'])
    await request(team);
  expect(kept()).toEqual(['__proto__', 'constructor']);
  expect(clients.map((c) => c.team)).toEqual([
    '__proto__',
    'constructor',
    '__proto__',
    'constructor',
    '__proto__',
  ]);
  expect(slack.callsTo('chat.postMessage').map((c) => c.token)).toEqual(
    ['__proto__', 'constructor', '__proto__', 'constructor', '__proto__'].map((t) => `xoxb-${t}`),
  );
});

test("a dropped workspace's next request gets a new client (a reinstall's token)", async () => {
  const { app, request, clients, kept } = boltApp(3);
  for (let i = 0; i < 3; i++) await request('T1');
  dropClientPool(app, 'T1');
  expect(kept()).toEqual([]);
  await request('T1');
  await request('T1');
  const t1 = clients.map((c) => c.client);
  // Right after the drop: a call through the shared client; then a Web client of its own, a new one.
  const queues = t1.map(queueOf);
  expect(queues[3]).toBe(queues[0]);
  expect(new Set(queues).size).toBe(3);
  expect(t1[4]).not.toBe(t1[2]);
});
