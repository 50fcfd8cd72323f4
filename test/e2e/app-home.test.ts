/**
 * App Home: refreshed on app_home_opened, with and without a token, history for admins only; its
 * buttons open the form with the channel picker (App Home is no conversation).
 */
import type { types } from '@slack/bolt';
import { ACTIONS, SCHEDULE_VIEW } from '../../src/slack/ids.js';
import {
  ADMIN,
  CHANNEL,
  type Harness,
  inMinutes,
  MEMBER,
  openedMetadata,
  SIGNING_SECRET,
  setWorkspaceToken,
  startHarness,
} from '../../support/harness.js';
import { blockActionBody, eventBody, postSigned, viewSubmissionBody } from '../../support/slack-requests.js';

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

/** The form a button of App Home (no conversation) opened, once its access check has run. */
async function pressInHome(actionId: string, value: string, user: string, blockId?: string) {
  const opened = h.slack.callsTo('views.open').length;
  await postSigned(
    `${h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    blockActionBody({ actionId, value, userId: user, ...(blockId ? { blockId } : {}) }),
  );
  const open = (await h.slack.waitFor('views.open', opened + 1)).at(-1);
  await h.bot.idle();
  return open?.args.view as types.ModalView;
}

const channelPicker = (view: types.ModalView) =>
  view.blocks.find((b) => b.block_id === SCHEDULE_VIEW.channelBlock) as types.InputBlock | undefined;

test('the Home button opens the scheduling modal with a channel picker, as the global shortcut does', async () => {
  const view = await pressInHome(ACTIONS.openSchedule, '', MEMBER);
  expect(JSON.parse(openedMetadata(h.encryptionKey, view.private_metadata ?? '') ?? 'null')).toEqual({
    p: 1,
  });
  expect(channelPicker(view)?.element).toMatchObject({ type: 'conversations_select' });
});

test('with channels restricted, App Home’s buttons open the form (no refusal): the channel picked is checked at submission', async () => {
  await setWorkspaceToken(h);
  await h.submitAccess({ who: 'admins', channels: [CHANNEL] }, ADMIN);
  const policyId = h.katapult.policies()[0]?.id as string;
  await h.submitSchedule({ policyId, at: inMinutes(120), userId: ADMIN, channelId: CHANNEL });
  await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();
  const home = JSON.parse(await openHome(ADMIN)) as types.HomeView;
  const [reschedule, blockId] = home.blocks.flatMap((b) => {
    const button = b.type === 'section' ? (b as types.SectionBlock).accessory : undefined;
    return button?.type === 'button' && button.action_id === ACTIONS.reschedule ? [[button, b.block_id]] : [];
  })[0] as [types.Button, string];
  // The value stays the policy ID alone, which every version reads; the block names the channel.
  expect(reschedule?.value).toBe(policyId);
  h.slack.reset();

  const fresh = await pressInHome(ACTIONS.openSchedule, '', ADMIN);
  const again = await pressInHome(ACTIONS.reschedule, reschedule?.value ?? '', ADMIN, blockId);
  expect(h.slack.callsTo('views.update')).toEqual([]);
  expect(channelPicker(fresh)).toBeDefined();
  // Reschedule starts at the deletion's channel, with the policy filled in.
  expect(channelPicker(again)?.element).toMatchObject({ initial_conversation: CHANNEL });
  expect(JSON.stringify(again)).toContain(`"initial_value":"${policyId}"`);

  const submit = (channel: string) =>
    postSigned(
      `${h.baseUrl}/slack/events`,
      SIGNING_SECRET,
      viewSubmissionBody({
        callbackId: SCHEDULE_VIEW.callbackId,
        userId: ADMIN,
        privateMetadata: again.private_metadata,
        values: {
          [SCHEDULE_VIEW.policyBlock]: {
            [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: policyId },
          },
          [SCHEDULE_VIEW.whenBlock]: {
            [SCHEDULE_VIEW.whenAction]: { type: 'datetimepicker', selected_date_time: inMinutes(240) },
          },
          [SCHEDULE_VIEW.channelBlock]: {
            [SCHEDULE_VIEW.channelAction]: { type: 'conversations_select', selected_conversation: channel },
          },
        },
      }),
    );
  expect((await submit('C0ELSEWHR')).text).toBe('');
  const [note] = await h.slack.waitFor('chat.postEphemeral');
  expect(JSON.stringify(note?.args)).toContain('cannot be scheduled from this channel');
  await h.bot.idle();
  expect(h.slack.callsTo('chat.postMessage')).toEqual([]);
  expect((await submit(CHANNEL)).text).toBe('');
  const [post] = await h.slack.waitFor('chat.postMessage');
  expect(post?.args.channel).toBe(CHANNEL);
});
