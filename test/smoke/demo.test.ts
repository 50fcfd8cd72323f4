/**
 * `npm run demo` (scripts/demo.ts), run in-process: it plays the whole flow against the fakes,
 * prints every surface with its key content and a Block Kit Builder link, and prints no secret.
 * Plus unit tests of the terminal renderer (scripts/render-surface.ts).
 */
import { runDemo } from '../../scripts/demo.js';
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
import { BOT_TOKEN, SIGNING_SECRET } from '../../support/harness.js';

describe('npm run demo', () => {
  const katapultToken = 'kt-demo-smoke-test-0123456789abcdef';
  let output = '';
  let result: Awaited<ReturnType<typeof runDemo>>;

  beforeAll(async () => {
    const chunks: string[] = [];
    result = await runDemo({ write: (text) => chunks.push(text), color: false, katapultToken });
    output = chunks.join('');
  }, 30_000);

  test('plays all ten steps', () => {
    expect(result.steps).toBe(10);
    for (let n = 1; n <= 10; n++) expect(output).toContain(`Step ${n}. `);
    expect(output).toContain('─'.repeat(40));
    expect(output).toContain('Done: 10 steps');
  });

  test('shows each surface with its key content', () => {
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
    // 6. channel post, date token readable
    expect(output).toMatch(/@dana scheduled disk backup policy `dbp_\w{16}`/);
    expect(output).toMatch(/to move to the trash on \*\d{4}-\d\d-\d\d 09:00 UTC\*/);
    expect(output).not.toContain('<!date^');
    // 7. held messages
    expect(output).toContain('moves to the trash in *1 hour*');
    expect(output).toMatch(/Posted by Slack at .+ \(post_at \d+, 60 minutes before the move\)/);
    expect(output).toContain('[ Restore from trash ]');
    // 8. restore
    expect(output).toMatch(/@dana restored disk backup policy `dbp_\w{16}` from the trash/);
    // …in the thread of the request's one message, which now names the state it ended in.
    expect(output).toMatch(/now reads:[\s\S]*Restored:\* disk backup policy `dbp_\w{16}` was restored/);
    // 9. home
    expect(output).toContain('┌─ Home tab');
    expect(output).toContain('■ Katapult disk backup policies');
    expect(output).toContain('■ Upcoming deletions');
    // 10. failure, in plain words
    expect(output).toContain('`missing_policy_42` for deletion, but it was *not*');
    expect(output).toContain('no disk backup policy with this ID');
    expect(output).toContain('*What now:*');
  });

  test('gives Block Kit Builder links', () => {
    const links = output.match(/https:\/\/app\.slack\.com\/block-kit-builder#\S+/g) ?? [];
    expect(links.length).toBeGreaterThanOrEqual(10);
    const home = links
      .map((l) => JSON.parse(decodeURIComponent(l.slice(l.indexOf('#') + 1))) as { type?: string })
      .find((p) => p.type === 'home');
    expect(home).toBeDefined();
  });

  test('prints no secret', () => {
    expect(output).not.toContain(katapultToken);
    expect(output).not.toContain(BOT_TOKEN);
    expect(output).not.toContain(SIGNING_SECRET);
    expect(output).not.toContain('xoxb-');
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
