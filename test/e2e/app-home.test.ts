/** App Home: refreshed on app_home_opened, with and without a token, history for admins only. */
import { ACTIONS } from '../../src/slack/ids.js';
import {
  ADMIN,
  type Harness,
  inMinutes,
  MEMBER,
  SIGNING_SECRET,
  setWorkspaceToken,
  startHarness,
} from '../../support/harness.js';
import { blockActionBody, eventBody, postSigned } from '../../support/slack-requests.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.stop();
});

async function openHome(user: string): Promise<string> {
  const before = h.slack.callsTo('views.publish').length;
  const res = await postSigned(
    `${h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    eventBody({ type: 'app_home_opened', user, channel: 'D0HOME001', tab: 'home', event_ts: '1700000000.1' }),
    {
      contentType: 'application/json',
    },
  );
  expect(res.status).toBe(200);
  const published = await h.slack.waitFor('views.publish', before + 1);
  expect(published.at(-1)?.args.user_id).toBe(user);
  return JSON.stringify(published.at(-1)?.args.view);
}

test('without a token: says so, explains who may schedule, offers the scheduling button', async () => {
  const home = await openHome(MEMBER);
  expect(home).toContain('No token is set yet');
  expect(home).toContain('Everyone in the workspace may schedule deletions');
  expect(home).toContain(ACTIONS.openSchedule);
  expect(home).toContain('Nothing is scheduled through the bot');
  expect(home).toContain('admins and owners see the recent activity');
});

test('with a token and a schedule: token status, the upcoming deletion with Reschedule, history for admins', async () => {
  await setWorkspaceToken(h);
  const at = inMinutes(120);
  await h.submitSchedule({ policyId: 'dbp_home', at, userId: ADMIN });
  await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();
  const home = await openHome(ADMIN);
  expect(home).toContain('Acme Ops');
  expect(home).toContain('dbp_home');
  expect(home).toContain(`<!date^${at}^`);
  expect(home).toContain(ACTIONS.reschedule);
  expect(home).toContain(':white_check_mark: scheduled');
  expect(await openHome(MEMBER)).not.toContain(':white_check_mark: scheduled');
});

test('the Home button opens the scheduling modal; its result goes to the user’s messages with the app', async () => {
  await postSigned(
    `${h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    blockActionBody({ actionId: ACTIONS.openSchedule, value: '', userId: MEMBER }),
  );
  const [open] = await h.slack.waitFor('views.open');
  expect(JSON.stringify(open?.args.view)).toContain(
    JSON.stringify(JSON.stringify({ c: MEMBER })).slice(1, -1),
  );
});
