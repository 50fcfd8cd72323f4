/**
 * The listener router (src/slack/listeners/router.ts): one Bolt listener per kind for plain IDs,
 * each request handed to the listener of its ID with Bolt's own arguments; anything else goes to
 * Bolt unchanged. Checked on a real Bolt App (its listener count and its matching).
 */
import { App, type AppOptions } from '@slack/bolt';
import { listenerRouter } from '../../src/slack/listeners/router.js';

function boltApp() {
  const options: AppOptions = {
    token: 'xoxb-test',
    signingSecret: 'test-signing-secret',
    tokenVerificationEnabled: false,
    botId: 'B1',
    botUserId: 'U1',
  };
  const app = new App(options);
  const listeners = () => (app as unknown as { listeners: unknown[] }).listeners.length;
  return { app, listeners };
}

/** Sends a body through Bolt as a receiver would; resolves with what was acked. */
async function dispatch(app: App, body: Record<string, unknown>): Promise<unknown> {
  let acked: unknown = 'not acked';
  await app.processEvent({
    body,
    ack: async (response?: unknown) => {
      acked = response ?? null;
    },
  });
  return acked;
}

const action = (actionId: string) => ({
  type: 'block_actions',
  team: { id: 'T1' },
  user: { id: 'U9' },
  trigger_id: 't',
  actions: [{ type: 'button', action_id: actionId, block_id: 'b', action_ts: '1' }],
});
const submission = (callbackId: string) => ({
  type: 'view_submission',
  team: { id: 'T1' },
  user: { id: 'U9' },
  view: { id: 'V1', callback_id: callbackId, type: 'modal', state: { values: {} } },
});

test('plain IDs become one Bolt listener per kind; each request reaches the listener of its ID only', async () => {
  const { app, listeners } = boltApp();
  const router = listenerRouter(app);
  const seen: string[] = [];
  for (const id of ['approve', 'deny', 'a.b+c']) {
    router.action(id, async ({ ack, action }) => {
      seen.push(`action ${id} ${(action as { action_id: string }).action_id}`);
      await ack();
    });
  }
  for (const id of ['form_one', 'form_two']) {
    router.view(id, async ({ ack, view }) => {
      seen.push(`view ${id} ${view.callback_id}`);
      await ack();
    });
  }
  router.event('app_uninstalled', async () => void seen.push('event app_uninstalled'));
  router.event('user_change', async () => void seen.push('event user_change'));
  router.mount();
  expect(listeners()).toBe(3);

  expect(await dispatch(app, action('deny'))).toBeNull();
  expect(await dispatch(app, action('a.b+c'))).toBeNull();
  // Only the IDs registered match, exactly: not a prefix, not a regular expression's reading.
  expect(await dispatch(app, action('approve_all'))).toBe('not acked');
  expect(await dispatch(app, action('aXbbc'))).toBe('not acked');
  expect(await dispatch(app, submission('form_two'))).toBeNull();
  expect(await dispatch(app, submission('form_three'))).toBe('not acked');
  await dispatch(app, {
    type: 'event_callback',
    team_id: 'T1',
    event: { type: 'user_change', user: { id: 'U9' } },
  });
  expect(seen).toEqual([
    'action deny deny',
    'action a.b+c a.b+c',
    'view form_two form_two',
    'event user_change',
  ]);
});

test('constraints that are not plain IDs, and commands, go to Bolt as they are', async () => {
  const { app, listeners } = boltApp();
  const router = listenerRouter(app);
  const seen: string[] = [];
  router.action({ action_id: 'approve', type: 'block_actions' }, async ({ ack }) => {
    seen.push('object constraint');
    await ack();
  });
  router.view(/^form_/, async ({ ack }) => {
    seen.push('regex constraint');
    await ack();
  });
  router.command('/katapult', async ({ ack }) => ack());
  router.mount();
  expect(listeners()).toBe(3);
  await dispatch(app, action('approve'));
  await dispatch(app, submission('form_any'));
  expect(seen).toEqual(['object constraint', 'regex constraint']);
});

test('a second listener for the same ID is refused at start, not left to run twice', () => {
  const router = listenerRouter(boltApp().app);
  router.action('approve', async ({ ack }) => ack());
  expect(() => router.action('approve', async ({ ack }) => ack())).toThrow(
    'action approve has a listener already',
  );
});
