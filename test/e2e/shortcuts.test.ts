/**
 * The shortcuts (issue 21), delivered as Slack sends them (form-encoded `payload=`): "Schedule
 * deletion…" on a message opens the form with the policy IDs the message names (text, blocks,
 * attachments; each once; at most 20) and the request lives in that message's thread; the global
 * shortcut opens it with a channel picker that starts at the last channel the person used.
 */
import { createLogger, Redactor } from '../../src/log.js';
import { createLastChannels } from '../../src/scheduling/last-channel.js';
import { SCHEDULE_VIEW, SHORTCUTS } from '../../src/slack/ids.js';
import { FAKE_TEAM_ID } from '../../support/fakes/slack-api.js';
import {
  CHANNEL,
  type Harness,
  inMinutes,
  MEMBER,
  openedMetadata,
  SIGNING_SECRET,
} from '../../support/harness.js';
import {
  globalShortcutBody,
  messageActionBody,
  postSigned,
  viewSubmissionBody,
} from '../../support/slack-requests.js';
import { poll } from '../helpers/poll.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const shared = useSharedHarness();
let h: Harness;
beforeAll(() => {
  h = shared.h;
});
afterEach(() => {
  expect(h.slack.refusals()).toEqual([]);
});

const OTHER = 'C0OTHER01';
const quiet = createLogger({ level: 'error', redactor: new Redactor(), sink: () => undefined });
/** A Katapult-shaped policy ID: `dbp_` and 16 letters or digits. */
const id = (n: number) => `dbp_${String(n).padStart(16, 'A')}`;
const events = () => `${h.baseUrl}/slack/events`;

interface OpenedForm {
  callback_id: string;
  private_metadata: string;
  blocks: {
    type: string;
    block_id?: string;
    element?: Record<string, unknown>;
    elements?: { text: string }[];
  }[];
}

async function useOnMessage(message: Record<string, unknown> & { ts: string }, userId = MEMBER) {
  const before = h.slack.callsTo('views.open').length;
  const res = await postSigned(
    events(),
    SIGNING_SECRET,
    messageActionBody({
      callbackId: SHORTCUTS.fromMessage,
      channelId: CHANNEL,
      message,
      userId,
      responseUrl: h.slack.responseUrl('shortcut'),
    }),
  );
  expect(res.status).toBe(200);
  const open = (await h.slack.waitFor('views.open', before + 1)).at(-1);
  return open?.args.view as OpenedForm;
}

const pickedIn = (view: OpenedForm) =>
  (
    (view.blocks.find((b) => b.block_id === SCHEDULE_VIEW.pickBlock)?.element?.initial_options ?? []) as {
      value: string;
    }[]
  ).map((o) => o.value);
const metaOf = (view: OpenedForm) =>
  JSON.parse(openedMetadata(h.encryptionKey, view.private_metadata) ?? 'null');

test('the message shortcut fills the form with every policy ID in the text, blocks and attachments, once each', async () => {
  const source = h.slack.addMessage({
    channel: CHANNEL,
    text: `Decommission ${id(1)} and ${id(2)}; ${id(1)} again; not vm_1kpkjQeMEI43tztr nor x${id(9)}`,
    blocks: [
      {
        type: 'rich_text',
        elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: id(3) }] }],
      },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `also \`${id(2)}\`` },
        fields: [{ type: 'mrkdwn', text: id(4) }],
      },
    ],
    attachments: [{ title: 'Ticket', text: `policies: ${id(5)}`, fields: [{ title: 'x', value: id(6) }] }],
  });
  const view = await useOnMessage({
    ts: source.ts,
    text: source.text,
    blocks: source.blocks,
    attachments: source.attachments,
  });
  expect(view.callback_id).toBe(SCHEDULE_VIEW.callbackId);
  expect(pickedIn(view)).toEqual([id(1), id(2), id(3), id(4), id(5), id(6)]);
  expect(JSON.stringify(view.blocks)).toContain('6 disk backup policy IDs found in the message');
  // The request will live in the thread of the message the shortcut was used on.
  expect(metaOf(view)).toEqual({ c: CHANNEL, t: source.ts });
});

test('at most 20 IDs are taken; a reply’s thread is its parent’s', async () => {
  const parent = h.slack.addMessage({ channel: CHANNEL, text: 'the incident' });
  const many = Array.from({ length: 25 }, (_, i) => id(100 + i)).join(' ');
  const reply = h.slack.addMessage({ channel: CHANNEL, text: many, thread_ts: parent.ts });
  const view = await useOnMessage({ ts: reply.ts, thread_ts: parent.ts, text: reply.text });
  expect(pickedIn(view)).toEqual(Array.from({ length: 20 }, (_, i) => id(100 + i)));
  expect(JSON.stringify(view.blocks)).toContain('5 more left out');
  expect(metaOf(view)).toEqual({ c: CHANNEL, t: parent.ts });
});

test('a message with no ID opens the form empty, with a hint', async () => {
  const source = h.slack.addMessage({ channel: CHANNEL, text: 'nothing to see here' });
  const view = await useOnMessage({ ts: source.ts, text: source.text });
  expect(pickedIn(view)).toEqual([]);
  expect(JSON.stringify(view.blocks)).toContain('No disk backup policy ID');
});

test('the request started from a message lives in its thread: its message and follow-ups are replies there', async () => {
  const policyId = h.katapult.policies()[0]?.id as string;
  const source = h.slack.addMessage({ channel: CHANNEL, text: `please remove ${policyId}` });
  const view = await useOnMessage({ ts: source.ts, text: source.text });
  const topBefore = h.slack.topLevel(CHANNEL).length;
  const res = await h.submitSchedule({
    picked: [policyId],
    at: inMinutes(240),
    privateMetadata: view.private_metadata,
  });
  expect(res.text).toBe('');
  await h.slack.waitFor('chat.scheduleMessage', 2);
  await h.bot.idle();
  const [post] = h.slack.callsTo('chat.postMessage');
  expect(post?.args.thread_ts).toBe(source.ts);
  expect(h.slack.callsTo('chat.scheduleMessage').map((c) => c.args.thread_ts)).toEqual([
    source.ts,
    source.ts,
  ]);
  expect(h.slack.topLevel(CHANNEL)).toHaveLength(topBefore);
  expect(h.slack.replies(CHANNEL, source.ts).map((m) => m.user)).toHaveLength(1);
});

test('someone the access policy refuses sees the refusal in the form, privately, and nothing is posted', async () => {
  await h.submitAccess({ who: 'admins' });
  try {
    const source = h.slack.addMessage({ channel: CHANNEL, text: id(7) });
    await useOnMessage({ ts: source.ts, text: source.text });
    const [update] = await h.slack.waitFor('views.update');
    expect(JSON.stringify(update?.args.view)).toContain('admins');
    expect(h.slack.callsTo('chat.postMessage')).toEqual([]);
  } finally {
    await h.submitAccess({ who: 'everyone' });
  }
});

describe('the global shortcut', () => {
  const openGlobal = async (userId: string) => {
    const before = h.slack.callsTo('views.open').length;
    const res = await postSigned(
      events(),
      SIGNING_SECRET,
      globalShortcutBody({ callbackId: SHORTCUTS.global, userId }),
    );
    expect(res.status).toBe(200);
    return (await h.slack.waitFor('views.open', before + 1)).at(-1)?.args.view as OpenedForm;
  };
  const picker = (view: OpenedForm) =>
    view.blocks.find((b) => b.block_id === SCHEDULE_VIEW.channelBlock)?.element;

  test('opens the form with a channel picker, starting at the last channel the person used', async () => {
    const NEWCOMER = 'U0NEWCOME';
    h.slack.users.set(NEWCOMER, { tz: 'UTC' });
    const first = await openGlobal(NEWCOMER);
    expect(picker(first)).toMatchObject({
      type: 'conversations_select',
      action_id: SCHEDULE_VIEW.channelAction,
    });
    expect(picker(first)?.initial_conversation).toBeUndefined();
    expect(metaOf(first)).toEqual({ p: 1 });

    const opened = h.slack.callsTo('views.open').length;
    await h.command({ text: '', user_id: NEWCOMER, channel_id: OTHER });
    await h.slack.waitFor('views.open', opened + 1);
    const kept = createLastChannels({ docs: h.bot.store.docs, logger: quiet, now: Date.now });
    await poll(
      'the channel to be remembered',
      async () => (await kept.recall(FAKE_TEAM_ID, NEWCOMER)) === OTHER,
    );
    const again = await openGlobal(NEWCOMER);
    expect(picker(again)?.initial_conversation).toBe(OTHER);
  });

  test('a submission without a channel is refused inline; with one, the request’s message goes there', async () => {
    const view = await openGlobal(MEMBER);
    const policyId = h.katapult.policies()[1]?.id as string;
    const submit = (channel: string | null) =>
      postSigned(
        events(),
        SIGNING_SECRET,
        viewSubmissionBody({
          callbackId: SCHEDULE_VIEW.callbackId,
          userId: MEMBER,
          privateMetadata: view.private_metadata,
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
    const refused = await submit(null);
    expect(refused.json).toMatchObject({
      response_action: 'errors',
      errors: { [SCHEDULE_VIEW.channelBlock]: expect.any(String) },
    });
    const res = await submit(OTHER);
    expect(res.text).toBe('');
    const [post] = await h.slack.waitFor('chat.postMessage');
    await h.bot.idle();
    expect(post?.args.channel).toBe(OTHER);
    expect(post?.args.thread_ts).toBeUndefined();
    // The picked channel is the next default.
    expect(picker(await openGlobal(MEMBER))?.initial_conversation).toBe(OTHER);
  });
});
