/**
 * `npm run demo` (scripts/demo.ts), run in-process: it plays the one request's story, several
 * policies in one form, an approval and the emergency stop against the fakes, prints what each
 * person sees with its key content, gives Block Kit Builder links only with `--builder-links`, and
 * prints no secret. Plus unit tests of the terminal renderer (scripts/render-surface.ts) and of the
 * transcript of Slack calls (scripts/demo-transcript.ts, scripts/demo-context.ts).
 */

import { BUILDER_LINKS_FLAG, parseDemoArgs, runDemo } from '../../scripts/demo.js';
import { fakeSlackTimestamps, wrapProse } from '../../scripts/demo-context.js';
import { renderTranscript } from '../../scripts/demo-transcript.js';
import {
  blockKitBuilderUrl,
  renderBlocks,
  renderElement,
  renderMessage,
  renderModal,
  renderMrkdwn,
  wrapLine,
} from '../../scripts/render-surface.js';
import { dateToken, escapeMrkdwn } from '../../src/messages/mrkdwn.js';
import { startFakeSlack } from '../../support/fakes/slack-api.js';
import { BOT_TOKEN, SIGNING_SECRET } from '../../support/harness.js';

const LINK = /https:\/\/app\.slack\.com\/block-kit-builder#\S+/g;
const STEPS = 13;

describe('npm run demo', () => {
  const katapultToken = 'kt-demo-smoke-test-0123456789abcdef';
  let output = '';
  let withLinks = '';
  let result: Awaited<ReturnType<typeof runDemo>>;

  beforeAll(async () => {
    const chunks: string[] = [];
    result = await runDemo({ write: (text) => chunks.push(text), color: false, katapultToken });
    output = chunks.join('');
    const linked: string[] = [];
    await runDemo({ write: (text) => linked.push(text), color: false, katapultToken, builderLinks: true });
    withLinks = linked.join('');
  }, 60_000);

  test(`plays all ${STEPS} steps`, () => {
    expect(result.steps).toBe(STEPS);
    for (let n = 1; n <= STEPS; n++) expect(output).toContain(`Step ${n}. `);
    expect(output).not.toContain(`Step ${STEPS + 1}. `);
    expect(output).toContain('─'.repeat(40));
    expect(output).toContain(`Done: ${STEPS} steps`);
  });

  test('the one request’s story: each surface with its key content', () => {
    // 1. token
    expect(output).toContain('Katapult API token  (modal)');
    expect(output).toMatch(/Saved\. Katapult accepted the token for Acme Ops; it ends in `[0-9a-f]{4}`/);
    // 2. help
    expect(output).toContain('Only visible to you');
    expect(output).toContain('`/katapult token` lets workspace admins');
    // 3. modal, prefilled
    expect(output).toContain('Schedule deletion  (modal)');
    expect(output).toMatch(/\[Disk backup policy ID: dbp_\w{16}\]/);
    expect(output).toMatch(/\[Move it to the trash at: \w{3} \d+ \w{3} \d{4}, 09:00 \(Europe\/London\)\]/);
    expect(output).toContain('[ Cancel ] [ Schedule ]');
    // 4. preview
    expect(output).toContain('*Backs up:* virtual machine *db-primary*');
    expect(output).toMatch(/keeps \d+ backups/);
    // 5. picker
    expect(output).toMatch(/○ db-primary — dbp_\w{16}/);
    expect(output).toMatch(/○ db-replica-data — dbp_\w{16}/);
    // 6. channel post, date token readable, and what Slack holds
    expect(output).toMatch(/@dana scheduled disk backup policy `dbp_\w{16}`/);
    expect(output).toMatch(/to move to the trash on \*\d{4}-\d\d-\d\d 09:00 UTC\*/);
    expect(output).not.toContain('<!date^');
    expect(output).toContain('moves to the trash in *1 hour*');
    expect(output).toMatch(/held by Slack, posted at .+ UTC \(60 min before the move\)/);
    expect(output).toContain('[ Restore from trash ]');
    // 7. restore, answered in the held message's thread: indented
    expect(output).toMatch(
      /\n {4}┌─ #ops · thread reply · katapult \(app\)\n {4}│ ♻️ @dana restored disk backup policy/,
    );
    // …in the thread of the request's one message, which now names the state it ended in.
    expect(output).toMatch(/now reads:[\s\S]*Restored:\* disk backup policy `dbp_\w{16}` was restored/);
    // 8. home
    expect(output).toContain('┌─ Home tab of @dana');
    expect(output).toContain('■ Katapult disk backup policies');
    expect(output).toContain('■ Upcoming deletions');
    // 9. failure, in plain words
    expect(output).toContain('`missing_policy_42` for deletion, but it was *not*');
    expect(output).toContain('no disk backup policy with this ID');
    expect(output).toContain('*What now:*');
  });

  const scene = (title: string) => {
    const from = output.indexOf(title);
    expect(from).toBeGreaterThan(-1);
    const next = output.indexOf('\nStep ', from + title.length);
    return output.slice(from, next === -1 ? undefined : next);
  };

  test('several policies in one form: one post with the outcome of each, one refused by Katapult', () => {
    const text = scene('Several policies in one form');
    expect(text).toMatch(
      /▾ db-replica — dbp_\w{16}, db-replica-data —\s+(│\s+)?dbp_\w{16}, web-1 — dbp_\w{16}/,
    );
    expect(text).toContain('asked to schedule 3 disk backup policies');
    expect(text).toContain('2 scheduled, 1 not');
    expect(text.match(/✅ `dbp_\w{16}` \(for/g)).toHaveLength(2);
    expect(text).toMatch(/⚠️ `dbp_\w{16}`: \*not\* scheduled\. This policy is already in the trash/);
    expect(text).toContain('Slack also holds 4 message(s) for later');
  });

  test('an approval: the request, the requester’s own Approve refused, an admin approves, the outcome', () => {
    const asked = scene('Approval: a request that needs a second person');
    expect(asked).toContain('✋ @alice asks to move a disk backup policy to the trash');
    expect(asked).toContain('[ Approve ] [ Deny ]');
    expect(asked).toContain('┌─ #ops · only @alice sees this');
    expect(asked).toContain('waiting for approval');
    expect(asked).toContain('your own request');
    const approved = scene('Approval: an admin approves');
    expect(approved).toContain('Approved by @dana');
    expect(approved).toMatch(/@alice scheduled disk backup policy `dbp_\w{16}`/);
    expect(approved).not.toContain('[ Approve ]');
  });

  test('the emergency stop: frozen, a submission refused in the form only its author sees, unfrozen', () => {
    const text = scene('The emergency stop');
    expect(text).toContain('🧊 Frozen. Nothing can be scheduled or approved');
    expect(text).toMatch(/⚠️ Scheduling is frozen in this workspace \(emergency stop\)/);
    // The form as the member sees it: the time in their own zone.
    expect(text).toMatch(/\[Move it to the trash at: \w{3} \d+ \w{3} \d{4}, \d\d:00 \(America\/New_York\)\]/);
    expect(text).toContain('Unfrozen: scheduling and approvals work again');
  });

  test('no Block Kit Builder links by default, and one line saying how to get them', () => {
    expect(output.match(LINK)).toBeNull();
    expect(output).toContain(
      `Block Kit Builder links for every surface: npm run demo -- ${BUILDER_LINKS_FLAG}`,
    );
    // What a reader reads is the surfaces, not links.
    expect(output.length).toBeLessThan(30_000);
  });

  test(`with ${BUILDER_LINKS_FLAG}: a link under the surfaces, each one a surface Slack takes`, () => {
    const links = withLinks.match(LINK) ?? [];
    expect(links.length).toBeGreaterThanOrEqual(20);
    const payloads = links.map(
      (l) =>
        JSON.parse(decodeURIComponent(l.slice(l.indexOf('#') + 1))) as { type?: string; blocks?: unknown },
    );
    expect(payloads.find((p) => p.type === 'home')).toBeDefined();
    expect(payloads.find((p) => p.type === 'modal')).toBeDefined();
    expect(payloads.every((p) => Array.isArray(p.blocks))).toBe(true);
    expect(withLinks).not.toContain('Block Kit Builder links for every surface');
  });

  test('the command line takes --builder-links and refuses what it does not know', () => {
    expect(parseDemoArgs([])).toEqual({ builderLinks: false });
    expect(parseDemoArgs([BUILDER_LINKS_FLAG])).toEqual({ builderLinks: true });
    expect(parseDemoArgs(['--links'])).toEqual({ usage: expect.stringContaining('unknown option --links') });
  });

  test('prints no secret', () => {
    for (const text of [output, withLinks]) {
      expect(text).not.toContain(katapultToken);
      expect(text).not.toContain(BOT_TOKEN);
      expect(text).not.toContain(SIGNING_SECRET);
      expect(text).not.toContain('xoxb-');
    }
  });
});

describe('the transcript of Slack calls', () => {
  const names = { users: { U0ADMIN01: 'dana', U0ALICE01: 'alice' }, channels: { C0OPS0001: 'ops' } };
  const message = (text: string, extra: Record<string, unknown> = {}) => ({
    method: 'chat.postMessage',
    args: { channel: 'C0OPS0001', text, ...extra },
  });

  test('a thread reply is indented right under its parent, even when it came later', () => {
    const parent = message('the request');
    const other = message('something else');
    const reply = message('the outcome', { thread_ts: '1700000000.000001' });
    const timestamps = new Map([
      [parent, '1700000000.000001'],
      [other, '1700000000.000002'],
      [reply, '1700000000.000003'],
    ]);
    const shown = renderTranscript([parent, other, reply], { ...names, timestamps });
    expect(shown.map((s) => s.text)).toEqual([
      '┌─ #ops · katapult (app)\n│ the request\n└─',
      '    ┌─ #ops · thread reply · katapult (app)\n    │ the outcome\n    └─',
      '┌─ #ops · katapult (app)\n│ something else\n└─',
    ]);
  });

  test('a reply whose parent is not shown stays in its place, indented', () => {
    const first = message('first');
    const reply = message('answer', { thread_ts: '1700000000.000900' });
    const shown = renderTranscript([first, reply], names);
    expect(shown.map((s) => s.text.split('\n')[0])).toEqual([
      '┌─ #ops · katapult (app)',
      '    ┌─ #ops · thread reply · katapult (app)',
    ]);
  });

  test('private notes, edits, held messages, answers at a response_url; unseen and refused calls left out', () => {
    const post = message('asked');
    const calls = [
      { method: 'users.info', args: { user: 'U0ALICE01' } },
      post,
      { method: 'chat.postEphemeral', args: { channel: 'C0OPS0001', user: 'U0ALICE01', text: 'waiting' } },
      { method: 'chat.update', args: { channel: 'C0OPS0001', ts: '1700000000.000001', text: 'done' } },
      { method: 'chat.scheduleMessage', args: { channel: 'C0OPS0001', post_at: 1795852800, text: 'soon' } },
      { method: 'response_url', args: { response_type: 'in_channel', text: 'Frozen' } },
      {
        method: 'chat.postMessage',
        args: { channel: 'C0OPS0001', text: 'too long' },
        refused: { error: 'msg_too_long' },
      },
      { method: 'chat.deleteScheduledMessage', args: { channel: 'C0OPS0001', scheduled_message_id: 'Q1' } },
    ];
    const shown = renderTranscript(calls, {
      ...names,
      channel: 'C0OPS0001',
      timestamps: new Map([[post, '1700000000.000001']]),
      relativeTo: { at: 1795856400, label: 'the move' },
    });
    expect(shown.map((s) => s.text.split('\n')[0])).toEqual([
      '┌─ #ops · katapult (app)',
      '┌─ #ops · only @alice sees this',
      '┌─ #ops · katapult (app) · the message above, edited',
      '┌─ #ops · katapult (app) · held by Slack, posted at 2026-11-28 08:00 UTC (60 min before the move)',
      '┌─ #ops · katapult (app)',
      '· katapult removes a held message in #ops',
    ]);
    expect(shown.at(-1)?.surface).toBeNull();
  });

  test('explanations are wrapped as prose, indentation kept, a long word left whole', () => {
    expect(wrapProse('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc']);
    expect(wrapProse('  aa bb https://x.test/very-long', 8)).toEqual([
      '  aa bb',
      '  https://x.test/very-long',
    ]);
    expect(wrapProse('', 10)).toEqual(['']);
  });

  test('the timestamps the fake Slack answered are the ones the demo works out from its calls', async () => {
    const slack = await startFakeSlack();
    try {
      const answered: string[] = [];
      const call = async (method: string, args: Record<string, unknown>) => {
        const res = await fetch(`${slack.apiUrl}${method}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: 'Bearer xoxb-test' },
          body: JSON.stringify(args),
        });
        const body = (await res.json()) as { ts?: string };
        if (body.ts) answered.push(body.ts);
      };
      await call('chat.postMessage', { channel: 'C1', text: 'a' });
      await call('chat.scheduleMessage', { channel: 'C1', text: 'b', post_at: 1795852800 });
      await call('users.info', { user: 'U1' });
      await call('chat.postEphemeral', { channel: 'C1', user: 'U1', text: 'c' });
      await call('chat.postMessage', { channel: 'C1', text: 'd', thread_ts: answered[0] });
      const worked = fakeSlackTimestamps(slack.calls);
      const posted = slack.calls.filter(
        (c) => c.method !== 'users.info' && c.method !== 'chat.scheduleMessage',
      );
      expect(posted.map((c) => worked.get(c))).toEqual(answered);
      expect(answered).toHaveLength(3);
    } finally {
      await slack.close();
    }
  });
});

describe('render-surface', () => {
  test('a date token becomes its fallback text; one without a fallback becomes UTC', () => {
    expect(renderMrkdwn(`on *${dateToken(1795856400)}*.`)).toBe('on *2026-11-28 09:00 UTC*.');
    expect(renderMrkdwn('<!date^1795856400^{date_short}>')).toBe('2026-11-28 09:00 UTC');
  });

  test('escaped text is shown as typed, and cannot turn into a mention', () => {
    expect(renderMrkdwn(escapeMrkdwn('a <!channel> & b > c'))).toBe('a <!channel> & b > c');
    expect(renderMrkdwn('&amp;lt;')).toBe('&lt;');
    expect(renderMrkdwn('`/katapult <policy-id>`')).toBe('`/katapult <policy-id>`');
  });

  test('mentions, channels, broadcasts and links', () => {
    const names = { users: { U0ADMIN01: 'dana' }, channels: { C0OPS0001: 'ops' } };
    expect(renderMrkdwn('<@U0ADMIN01> in <#C0OPS0001>', names)).toBe('@dana in #ops');
    expect(renderMrkdwn('<@U0OTHER01> in <#C0OTHER01|general>')).toBe('@U0OTHER01 in #general');
    expect(renderMrkdwn('<!here> <!subteam^S1|@oncall>')).toBe('@here @oncall');
    expect(renderMrkdwn('<https://katapult.io|Katapult> <https://x.test/?a=1&amp;b=2>')).toBe(
      'Katapult (https://katapult.io) https://x.test/?a=1&b=2',
    );
    expect(renderMrkdwn(':wastebasket: :unknown_emoji:')).toBe('🗑 :unknown_emoji:');
  });

  test('blocks: header, context, divider, buttons, inputs with values and placeholders, selects', () => {
    const lines = renderBlocks(
      [
        { type: 'header', text: { type: 'plain_text', text: 'Title' } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'small print' }] },
        { type: 'divider' },
        { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Go' } }] },
        {
          type: 'input',
          block_id: 'b',
          label: { type: 'plain_text', text: 'ID' },
          element: {
            type: 'plain_text_input',
            action_id: 'a',
            placeholder: { type: 'plain_text', text: 'e.g. x' },
          },
        },
        {
          type: 'input',
          label: { type: 'plain_text', text: 'When' },
          element: { type: 'datetimepicker', initial_date_time: 1795856400 },
        },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: 'Pick' },
          accessory: { type: 'external_select', placeholder: { type: 'plain_text', text: 'Search' } },
        },
      ],
      { timeZone: 'Europe/London' },
    );
    expect(lines).toEqual([
      '■ Title',
      '· small print',
      '┄'.repeat(40),
      '[ Go ]',
      '[ID: (e.g. x)]',
      '[When: Sat 28 Nov 2026, 09:00 (Europe/London)]',
      'Pick  [▾ Search]',
    ]);
    // What the user typed wins over the (absent) initial value.
    expect(
      renderElement(
        { type: 'plain_text_input', action_id: 'a' },
        { state: { b: { a: { value: 'dbp_1' } } } },
        'b',
      ),
    ).toBe('dbp_1');
  });

  test('a form as filled in: several picked, and an inline error under its field', () => {
    const lines = renderBlocks(
      [
        {
          type: 'input',
          block_id: 'pick',
          label: { type: 'plain_text', text: 'Pick' },
          element: { type: 'multi_external_select', action_id: 'p' },
        },
      ],
      {
        state: { pick: { p: { selected_options: [{ text: { text: 'web-1' } }, { value: 'dbp_2' }] } } },
        errors: { pick: 'Frozen.' },
      },
    );
    expect(lines).toEqual(['[Pick: ▾ web-1, dbp_2]', '  ⚠️ Frozen.']);
  });

  test('modal and message frames, and line wrapping', () => {
    const modal = {
      type: 'modal',
      title: { type: 'plain_text', text: 'Schedule deletion' },
      submit: { type: 'plain_text', text: 'Schedule' },
      close: { type: 'plain_text', text: 'Cancel' },
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'Hello' } }],
    };
    expect(renderModal(modal)).toBe('┌─ Schedule deletion  (modal)\n│ Hello\n└─ [ Cancel ] [ Schedule ]');
    expect(renderMessage({ text: 'only &lt;text&gt;' }, '#ops')).toBe('┌─ #ops\n│ only <text>\n└─');
    expect(wrapLine('aaa bbb ccc', 7)).toEqual(['aaa bbb', '  ccc']);
  });

  test('Block Kit Builder links carry the surface as Slack would take it', () => {
    const blocks = [{ type: 'divider' }];
    const decode = (url: string) => {
      expect(url.startsWith('https://app.slack.com/block-kit-builder#')).toBe(true);
      return JSON.parse(decodeURIComponent(url.split('#')[1] ?? '')) as unknown;
    };
    const title = { type: 'plain_text', text: 'T' };
    expect(decode(blockKitBuilderUrl({ type: 'modal', title, callback_id: 'x', blocks }))).toEqual({
      type: 'modal',
      title,
      blocks,
    });
    expect(decode(blockKitBuilderUrl({ type: 'home', blocks }))).toEqual({ type: 'home', blocks });
    expect(decode(blockKitBuilderUrl({ channel: 'C1', text: 'x', blocks }))).toEqual({ blocks });
    expect(blockKitBuilderUrl({ blocks })).toBe(
      `https://app.slack.com/block-kit-builder#${encodeURIComponent(JSON.stringify({ blocks }))}`,
    );
  });
});
