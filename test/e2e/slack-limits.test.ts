/**
 * Slack refuses what breaks Block Kit's size limits, and so does the fake Slack. A Katapult error
 * with a 4,000-character description still reaches the channel (and the direct-message fallback),
 * clipped; and the fake answers an over-long payload on each method as Slack does.
 */
import { CHANNEL, type Harness, inMinutes, MEMBER } from '../../support/harness.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const shared = useSharedHarness();
let h: Harness;
beforeAll(() => {
  h = shared.h;
});

const SCHEDULE_ROUTE = 'DELETE /disk_backup_policies/disk_backup_policy/schedule';

/** 4,000 characters of what an API might say: prose, escapes-to-be, emoji and a ping. */
const LONG_DESCRIPTION =
  `${'The request could not be processed <!channel> & <b>details</b> 🧯 '.repeat(61)}`.slice(0, 4000);

function enqueueLongError(): void {
  h.katapult.enqueue(SCHEDULE_ROUTE, {
    status: 422,
    body: { error: { code: 'brand_new_error', description: LONG_DESCRIPTION, detail: {} } },
  });
}

test('the description really is 4,000 characters and would overflow a section', () => {
  expect(LONG_DESCRIPTION).toHaveLength(4000);
});

test('a 4,000-character Katapult error still reaches the channel, clipped with a note', async () => {
  enqueueLongError();
  await h.submitSchedule({ policyId: 'dbp_long', at: inMinutes(30) });
  const [post] = await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();
  expect(h.slack.refusals()).toEqual([]);
  expect(h.slack.callsTo('chat.postMessage')).toHaveLength(1);
  expect(post?.args.channel).toBe(CHANNEL);
  const blocks = JSON.stringify(post?.args.blocks);
  expect(blocks).toContain('not* scheduled');
  expect(blocks).toContain('dbp_long');
  expect(blocks).toContain('brand_new_error');
  // Clipped before it is stored (the request record) or when the message is built, with a note either way.
  expect(blocks).toMatch(/…\(clipped\)|\[clipped: \d+ more characters\]/);
  expect(blocks).not.toContain('<!channel>');
  expect(blocks).toContain('*What now:*');
});

test('when the channel post fails, the private fallback with the long error is accepted too', async () => {
  enqueueLongError();
  h.slack.fail('chat.postMessage', 'not_in_channel');
  await h.submitSchedule({ policyId: 'dbp_long_dm', at: inMinutes(30) });
  const posts = await h.slack.waitFor('chat.postMessage', 2);
  await h.bot.idle();
  expect(h.slack.refusals()).toEqual([]);
  expect(posts[1]?.args.channel).toBe(MEMBER);
  const blocks = JSON.stringify(posts[1]?.args.blocks);
  expect(blocks).toContain('/invite');
  expect(blocks).toContain('dbp_long_dm');
  // Clipped before it is stored (the request record) or when the message is built, with a note either way.
  expect(blocks).toMatch(/…\(clipped\)|\[clipped: \d+ more characters\]/);
});

describe('the fake Slack refuses what Slack refuses', () => {
  const call = async (path: string, body: Record<string, unknown>) => {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer xoxb-test' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as { ok: boolean; error?: string } };
  };
  const api = (method: string) => `${h.slack.apiUrl}${method}`;
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
  const modal = (title: string) => ({
    type: 'modal',
    title: { type: 'plain_text', text: title },
    blocks: [section('hi')],
  });

  test.each(['chat.postMessage', 'chat.postEphemeral', 'chat.update', 'chat.scheduleMessage'])(
    '%s: a 3,001-character section is invalid_blocks, 3,000 is accepted',
    async (method) => {
      // chat.update edits a message the bot posted: post one first.
      const posted = (await call(api('chat.postMessage'), { channel: CHANNEL, text: 'x' }))
        .json as unknown as {
        ts: string;
      };
      const base = { channel: CHANNEL, user: MEMBER, ts: posted.ts, post_at: 2_000_000_000, text: 'x' };
      expect((await call(api(method), { ...base, blocks: [section('a'.repeat(3001))] })).json).toMatchObject({
        ok: false,
        error: 'invalid_blocks',
      });
      expect((await call(api(method), { ...base, blocks: [section('a'.repeat(3000))] })).json).toMatchObject({
        ok: true,
      });
    },
  );

  test('chat.update and threads: Slack’s errors for a message that is not there, not the bot’s, or a reply', async () => {
    expect((await call(api('chat.update'), { channel: CHANNEL, ts: '1.2', text: 'x' })).json).toMatchObject({
      ok: false,
      error: 'message_not_found',
    });
    const theirs = h.slack.addMessage({ channel: CHANNEL, text: 'a person wrote this' });
    expect(
      (await call(api('chat.update'), { channel: CHANNEL, ts: theirs.ts, text: 'x' })).json,
    ).toMatchObject({
      ok: false,
      error: 'cant_update_message',
    });
    // A reply in a person's thread is fine; a reply to a reply, or to nothing, is invalid_thread_ts.
    const reply = (await call(api('chat.postMessage'), { channel: CHANNEL, thread_ts: theirs.ts, text: 'r' }))
      .json as unknown as { ok: boolean; ts: string };
    expect(reply.ok).toBe(true);
    expect(h.slack.replies(CHANNEL, theirs.ts).map((m) => m.ts)).toEqual([reply.ts]);
    for (const method of ['chat.postMessage', 'chat.scheduleMessage'])
      for (const thread_ts of [reply.ts, '1.2'])
        expect(
          (await call(api(method), { channel: CHANNEL, thread_ts, post_at: 2_000_000_000, text: 'x' })).json,
        ).toMatchObject({ ok: false, error: 'invalid_thread_ts' });
    // An edit changes the message as the channel sees it.
    expect(
      (await call(api('chat.update'), { channel: CHANNEL, ts: reply.ts, text: 'edited' })).json,
    ).toMatchObject({
      ok: true,
    });
    expect(h.slack.messageAt(CHANNEL, reply.ts)).toMatchObject({ text: 'edited', edits: 1 });
  });

  test('message text over 40,000 characters is msg_too_long; 51 blocks are invalid_blocks', async () => {
    expect(
      (await call(api('chat.postMessage'), { channel: CHANNEL, text: 'a'.repeat(40_001) })).json,
    ).toEqual(expect.objectContaining({ ok: false, error: 'msg_too_long' }));
    const many = Array.from({ length: 51 }, () => section('x'));
    expect((await call(api('chat.postMessage'), { channel: CHANNEL, text: 'x', blocks: many })).json).toEqual(
      expect.objectContaining({ ok: false, error: 'invalid_blocks' }),
    );
  });

  test.each(['views.open', 'views.update', 'views.push', 'views.publish'])(
    '%s: a 25-character modal title or 101 blocks is invalid_arguments',
    async (method) => {
      const args = { trigger_id: '1.2.3', view_id: 'V1', user_id: MEMBER };
      expect((await call(api(method), { ...args, view: modal('x'.repeat(25)) })).json).toMatchObject({
        ok: false,
        error: 'invalid_arguments',
      });
      const home = { type: 'home', blocks: Array.from({ length: 101 }, () => section('x')) };
      expect((await call(api(method), { ...args, view: home })).json).toMatchObject({
        ok: false,
        error: 'invalid_arguments',
      });
      expect((await call(api(method), { ...args, view: modal('x'.repeat(24)) })).json).toMatchObject({
        ok: true,
      });
    },
  );

  test('a response_url refuses an over-long section with HTTP 400 invalid_blocks', async () => {
    const refused = await call(h.slack.responseUrl('limits'), {
      text: 'x',
      blocks: [section('a'.repeat(3001))],
    });
    expect(refused).toEqual({ status: 400, json: expect.objectContaining({ error: 'invalid_blocks' }) });
    expect(h.slack.refusals().map((c) => c.method)).toEqual(['response_url']);
  });
});
