/** Builder rules: IDs, lengths, escaping, identifiers-only metadata, no secrets. Not serialized snapshots. */

import { Redactor } from '../../src/log.js';
import { accessFormView } from '../../src/slack/blocks/access.js';
import {
  failureMessage,
  helpMessage,
  scheduledMessage,
  undeliveredMessage,
} from '../../src/slack/blocks/messages.js';
import {
  buildScheduleModal,
  decodeMetadata,
  encodeMetadata,
  previewText,
} from '../../src/slack/blocks/schedule-modal.js';
import { tokenFormView, tokenRefusedView } from '../../src/slack/blocks/token-modal.js';
import { SCHEDULE_VIEW, TOKEN_VIEW } from '../../src/slack/ids.js';
import { code, dateToken, escapeMrkdwn } from '../../src/slack/mrkdwn.js';

const HOSTILE = '<!channel> <@U123> <https://evil.example|click> & `tick`';

test('escapeMrkdwn neutralises Slack control sequences', () => {
  expect(escapeMrkdwn(HOSTILE)).toBe(
    '&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; &amp; `tick`',
  );
  expect(code('a`b<c')).toBe("`a'b&lt;c`");
});

test('date tokens carry a UTC fallback', () => {
  expect(dateToken(1767225600)).toBe('<!date^1767225600^{date_long_pretty} at {time}|2026-01-01 00:00 UTC>');
});

test('schedule modal: IDs from ids.ts, title within 24 chars, metadata is the channel only', () => {
  const view = buildScheduleModal({ channelId: 'C123ABC', policyId: 'dbp_x', initialAt: 1767225600 });
  expect(view.callback_id).toBe(SCHEDULE_VIEW.callbackId);
  expect(view.title.text.length).toBeLessThanOrEqual(24);
  expect(view.submit?.text.length).toBeLessThanOrEqual(24);
  const blockIds = view.blocks.map((b) => ('block_id' in b ? b.block_id : undefined)).filter(Boolean);
  expect(blockIds).toEqual([SCHEDULE_VIEW.policyBlock, SCHEDULE_VIEW.pickBlock, SCHEDULE_VIEW.whenBlock]);
  expect(JSON.parse(view.private_metadata ?? '')).toEqual({ c: 'C123ABC' });
  expect((view.private_metadata ?? '').length).toBeLessThan(3000);
  expect(JSON.stringify(view)).toContain('"initial_date_time":1767225600');
  expect(JSON.stringify(view)).toContain('moves to the trash'.slice(0, 5));
});

test('metadata round-trips and rejects anything that is not a channel ID', () => {
  expect(decodeMetadata(encodeMetadata({ channelId: 'G0PRIVATE' }))).toEqual({ channelId: 'G0PRIVATE' });
  for (const raw of ['', 'x', '{"c":"<!channel>"}', '{"c":1}', 'null', undefined])
    expect(decodeMetadata(raw)).toBeNull();
});

test('a hostile pre-filled ID is plain text in the modal and clipped to the field length', () => {
  const view = buildScheduleModal({ channelId: 'C1', policyId: 'x'.repeat(500) });
  const input = JSON.stringify(view);
  expect(input).toContain(`"initial_value":"${'x'.repeat(63)}…"`);
});

const scheduled = {
  policyId: 'p',
  autoMoveToTrashAt: 1767225600,
  target: { type: 'VirtualMachine' as const, id: 'vm_1' },
  requestId: 'r1',
};

test('scheduled message: who, what, target, date token; user and API text escaped', () => {
  const m = scheduledMessage({
    userId: 'U1',
    policyId: HOSTILE,
    requestedAt: 1767225600,
    scheduled: { ...scheduled, target: { type: 'Disk', id: '<!here>' } },
  });
  const json = JSON.stringify(m);
  expect(json).toContain('<@U1>');
  expect(json).toContain('<!date^1767225600^');
  expect(json).toContain('disk `&lt;!here&gt;`');
  expect(json).not.toContain('<!channel>');
  expect(json).not.toContain('<!here>');
  expect(m.text).toContain('2026-01-01 00:00 UTC');
});

test('failure message carries the explanation and the request ID; undelivered message says how to invite', () => {
  const m = failureMessage({
    userId: 'U1',
    policyId: 'dbp_1',
    explanation: { summary: 'S.', next: 'N.', requestId: 'req-9' },
  });
  expect(JSON.stringify(m)).toMatch(/not\* scheduled.*S\..*N\..*req-9/);
  const dm = undeliveredMessage({
    channelId: 'C1',
    botUserId: 'UB',
    slackError: 'not_in_channel',
    outcome: m,
  });
  expect(JSON.stringify(dm)).toMatch(/\/invite.*<@UB>/);
  const other = undeliveredMessage({
    channelId: 'C1',
    botUserId: 'UB',
    slackError: 'internal_error',
    outcome: m,
  });
  expect(JSON.stringify(other)).toContain('internal_error');
});

test('help names every subcommand with the configured command', () => {
  const json = JSON.stringify(helpMessage('/kp'));
  for (const part of ['`/kp`', '/kp token', '/kp help', 'in 90m', 'tomorrow 09:00'])
    expect(json).toContain(part);
});

test('token modal shows only the last four characters and never an initial value', () => {
  const view = tokenFormView({
    status: { last4: 'wxyz', setBy: 'UADMIN', setAt: 1767225600, organizationName: '<Acme>' },
    fallback: false,
  });
  const json = JSON.stringify(view);
  expect(json).toContain('`wxyz`');
  expect(json).toContain('&lt;Acme&gt;');
  expect(json).not.toContain('initial_value');
  expect(view.callback_id).toBe(TOKEN_VIEW.callbackId);
  expect(JSON.stringify(tokenRefusedView())).toContain('admins and owners');
});

test('preview: target by name, retention, schedule, size; an existing schedule is called out; API text escaped', () => {
  const text = previewText({
    id: 'dbp_1',
    retention: 7,
    totalSize: 12.5,
    target: { type: 'VirtualMachine', id: 'vm_1', name: '<!here> web' },
    schedule: { interval: 'daily', frequency: 1, time: 3, minute: 5, nextInvocationAt: 1767225600 },
    autoMoveToTrashAt: 1767312000,
    requestId: null,
  });
  expect(text).toContain('virtual machine *&lt;!here&gt; web* `vm_1`');
  expect(text).toContain('keeps 7 backups');
  expect(text).toContain('runs daily at 03:05, next <!date^1767225600^');
  expect(text).toContain('total size 12.5');
  expect(text).toContain('<!date^1767312000^');
  expect(text).toContain('Submitting replaces that time');
  const modal = buildScheduleModal({ channelId: 'C1', preview: text });
  expect(JSON.stringify(modal)).toContain(`"block_id":"${SCHEDULE_VIEW.previewBlock}"`);
});

test('access modal: chosen user groups are offered even beyond the first 100', () => {
  const groups = Array.from({ length: 150 }, (_, i) => ({
    id: `S${String(i).padStart(8, '0')}`,
    name: `group-${i}`,
  }));
  const view = accessFormView({
    policy: { who: 'groups', groupIds: ['S00000149'], channelIds: [], updatedBy: null, updatedAt: null },
    groups,
  });
  const json = JSON.stringify(view);
  expect(json).toContain('"initial_options":[{"text":{"type":"plain_text","text":"group-149"');
  expect((json.match(/"value":"S\d{8}"/g) ?? []).length).toBeLessThanOrEqual(101);
});

test('the redactor stays bounded and still catches JSON-escaped secrets', () => {
  const r = new Redactor();
  r.add('kt_ab"cd\\efgh1234');
  expect(r.apply(JSON.stringify({ t: 'kt_ab"cd\\efgh1234' }))).toBe('{"t":"[redacted]"}');
  for (let i = 0; i < 5000; i++) r.add(`secret-number-${i}`);
  expect(r.apply('secret-number-4999')).toBe('[redacted]');
});
