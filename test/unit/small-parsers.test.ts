import { Redactor } from '../../src/log.js';
import { escapeMrkdwn } from '../../src/messages/mrkdwn.js';
import { dailyLimitRefusal } from '../../src/messages/submission.js';
import { checkPolicyId, choosePolicies, policyIdsIn } from '../../src/scheduling/policy-id.js';
import { decodeMetadata, encodeMetadata } from '../../src/slack/blocks/schedule-modal.js';
import { parseCommandText } from '../../src/slack/listeners/commands/command-text.js';
import { messageTexts } from '../../src/slack/message-text.js';
import { quoteAtMost } from '../../src/text.js';
import { parseWhen } from '../../src/time/when.js';

test.each([
  ['', { kind: 'schedule', policyId: null, when: null }],
  ['  help ', { kind: 'help' }],
  ['HELP', { kind: 'help' }],
  ['token', { kind: 'token' }],
  ['history', { kind: 'history', admin: false }],
  ['History  ADMIN', { kind: 'history', admin: true }],
  ['history of everything', { kind: 'history', admin: false }],
  ['dbp_1', { kind: 'schedule', policyId: 'dbp_1', when: null }],
  ['dbp_1   tomorrow   09:00', { kind: 'schedule', policyId: 'dbp_1', when: 'tomorrow 09:00' }],
])('command text %j', (text, intent) => {
  expect(parseCommandText(text)).toEqual(intent);
});

test.each([
  ['dbp_1kpkjQeMEI43tztr', true],
  ['  dbp_1  ', true],
  ['', false],
  ['<!channel>', false],
  ['dbp 1', false],
  ['_leading', false],
  ['x'.repeat(64), true],
  ['x'.repeat(65), false],
])('policy ID %j valid=%s', (raw, ok) => {
  expect(checkPolicyId(raw).ok).toBe(ok);
});

test.each([
  ['typed only', ' dbp_1 ', [], { ok: true, policyIds: ['dbp_1'] }],
  [
    'picked, duplicates dropped',
    '',
    ['dbp_1', 'dbp_2', 'dbp_1'],
    { ok: true, policyIds: ['dbp_1', 'dbp_2'] },
  ],
  ['typed and picked the same one', 'dbp_1', ['dbp_1'], { ok: true, policyIds: ['dbp_1'] }],
  ['typed one, picked another', 'dbp_1', ['dbp_2'], { ok: false }],
  ['typed one, picked several', 'dbp_1', ['dbp_1', 'dbp_2'], { ok: false }],
  ['nothing', null, [], { ok: false }],
  ['a malformed pick', '', ['dbp_1', '<!channel>'], { ok: false }],
  ['21 picked', '', Array.from({ length: 21 }, (_, i) => `dbp_${i}`), { ok: false }],
])('choosePolicies: %s', (_name, typed, picked, expected) => {
  expect(choosePolicies(typed, picked)).toMatchObject(expected);
});

test('a policy field that is not text (Slack always sends text) is refused as empty, not a crash', () => {
  const notText = 42 as unknown as string;
  expect(checkPolicyId(notText)).toEqual({ ok: false, reason: expect.stringContaining('Enter the ID') });
  expect(choosePolicies(notText, [7 as unknown as string, 'dbp_1'])).toEqual({
    ok: true,
    policyIds: ['dbp_1'],
  });
});

describe('text shown back cannot display reordered', () => {
  const rlo = '\u202E';
  test('bidirectional controls become a visible mark in mrkdwn, in the time hint and in the policy echo', () => {
    expect(escapeMrkdwn(`dbp_${rlo}1kpk <x>`)).toBe('dbp_\uFFFD1kpk &lt;x&gt;');
    const hint = parseWhen(`dbp_${rlo}1kpk`, 'UTC', Date.UTC(2026, 10, 27));
    expect(hint).toMatchObject({ ok: false, reason: expect.stringContaining('"dbp_\uFFFD1kpk"') });
    const echo = choosePolicies(`dbp_${rlo}1`, ['dbp_2']);
    expect(echo).toMatchObject({ ok: false, reason: expect.stringContaining('dbp_\uFFFD1') });
    for (const text of [escapeMrkdwn(rlo), JSON.stringify(hint), JSON.stringify(echo)])
      expect(text).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
  });

  test('right-to-left text, marks and emoji joiners are left as they are', () => {
    const text = 'שלום \u200F 👩\u200D💻';
    expect(escapeMrkdwn(text)).toBe(text);
  });

  test('a quote is cut by characters, never inside a surrogate pair', () => {
    expect(quoteAtMost('😀'.repeat(70), 64)).toBe(`${'😀'.repeat(63)}…`);
    expect(quoteAtMost('short', 64)).toBe('short');
  });
});

test('the daily-limit refusal says how many, the limit, and when there is room, in the person’s zone', () => {
  const roomAt = Date.UTC(2026, 10, 28, 9, 30);
  expect(dailyLimitRefusal(5, { ok: false, used: 4, roomAt }, 3, 'Europe/Paris')).toBe(
    'You have scheduled 4 policies in the last 24 hours, and one person may schedule at most 5 here. ' +
      'There is room for these 3 from Sat 28 Nov 2026, 10:30 (Europe/Paris).',
  );
  expect(dailyLimitRefusal(2, { ok: false, used: 0, roomAt: Number.POSITIVE_INFINITY }, 3, null)).toContain(
    'this form has 3. Pick fewer.',
  );
});

test('the redactor removes Slack tokens by shape, bearer values and registered secrets', () => {
  const r = new Redactor();
  r.add('kt-registered-secret');
  r.add('short');
  const out = r.apply('xoxb-123-abc xapp-1-A Bearer abc.def kt-registered-secret short');
  expect(out).toBe('[redacted] [redacted] Bearer [redacted] [redacted] short');
});

describe('policy IDs in a message (the message shortcut)', () => {
  const id = (n: number) => `dbp_${String(n).padStart(16, 'x')}`;
  test('found in order, each once, never inside a longer word or with another prefix', () => {
    const text = `${id(1)}, (${id(2)}) \`${id(1)}\` x${id(3)} ${id(4)}y vm_1kpkjQeMEI43tztr dbp_short`;
    expect(policyIdsIn([text, `<https://k.example/${id(5)}|${id(5)}>`])).toEqual({
      policyIds: [id(1), id(2), id(5)],
      more: 0,
    });
  });
  test('at most 20, and how many were left out', () => {
    const many = Array.from({ length: 23 }, (_, i) => id(i)).join(' ');
    const found = policyIdsIn([many]);
    expect(found.policyIds).toHaveLength(20);
    expect(found.more).toBe(3);
  });
  test('every string of the text, blocks and attachments is read; Slack’s own IDs are not', () => {
    const texts = messageTexts({
      text: 'a',
      blocks: [
        { type: 'section', block_id: id(9), text: { type: 'mrkdwn', text: 'b' }, fields: [{ text: 'c' }] },
      ],
      attachments: [{ title: 'd', fields: [{ value: 'e' }], ts: id(8) }],
    });
    expect(texts).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});

describe('the scheduling form’s metadata', () => {
  test.each([
    [{ channelId: 'C0OPS0001' }, '{"c":"C0OPS0001"}'],
    [{ channelId: 'C0OPS0001', threadTs: '1700000000.000100' }, '{"c":"C0OPS0001","t":"1700000000.000100"}'],
    [{ channelId: null }, '{"p":1}'],
  ] as const)('%j round-trips as %s', (meta, encoded) => {
    expect(encodeMetadata(meta)).toBe(encoded);
    expect(decodeMetadata(encoded)).toEqual(meta);
  });
  test.each(['{"c":"C0OPS0001","t":"not a ts"}', '{"p":1,"c":"C0OPS0001"}', '{"p":2}', '{}'])(
    '%s is refused',
    (raw) => expect(decodeMetadata(raw)).toBeNull(),
  );
});
