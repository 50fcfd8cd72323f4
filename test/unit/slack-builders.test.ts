/** Builder rules: IDs, lengths, escaping, identifiers-only metadata, no secrets. Not serialized snapshots. */

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { Redactor } from '../../src/log.js';
import { APPROVALS } from '../../src/messages/approvals.js';
import { code, dateToken, escapeMrkdwn, utcFallback } from '../../src/messages/mrkdwn.js';
import { MAX_POLICIES_PER_REQUEST } from '../../src/scheduling/policy-id.js';
import type { RequestRecord } from '../../src/scheduling/request-log.js';
import { accessFormView } from '../../src/slack/blocks/access.js';
import { approvalRequestMessage, policySummary } from '../../src/slack/blocks/approval.js';
import { noticeModal, section } from '../../src/slack/blocks/common.js';
import {
  failureMessage,
  helpMessage,
  scheduledMessage,
  undeliveredMessage,
} from '../../src/slack/blocks/messages.js';
import { requestOutcomeMessage } from '../../src/slack/blocks/request.js';
import {
  buildScheduleModal,
  decodeMetadata,
  encodeMetadata,
  pickerOption,
  previewText,
} from '../../src/slack/blocks/schedule-modal.js';
import { tokenFormView, tokenRefusedView } from '../../src/slack/blocks/token-modal.js';
import { ACCESS_VIEW, SCHEDULE_VIEW, TOKEN_VIEW } from '../../src/slack/ids.js';
import { CLIP_NOTE, clip, fitBlocks, SLACK_LIMITS } from '../../src/slack/limits.js';
import { checkMessage, checkView } from '../../support/slack-limits.js';
import { pendingRecord } from '../helpers/run-request.js';

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

test('a time past what a date holds (an odd Katapult answer) is plain words in every builder, never a throw', () => {
  expect(dateToken(253402300799)).toContain('|9999-12-31 23:59 UTC>');
  for (const absurd of [1e13, 9e15, -1, Number.NaN, Number.POSITIVE_INFINITY, 253402300800]) {
    expect(dateToken(absurd)).toBe('an unknown time');
    expect(utcFallback(absurd)).toBe('an unknown time');
  }
  const preview = previewText({
    id: 'dbp_1',
    retention: null,
    totalSize: null,
    target: { type: 'Disk', id: 'disk_1', name: null },
    schedule: { interval: 'daily', frequency: 1, time: 3, minute: 5, nextInvocationAt: 9e12 },
    autoMoveToTrashAt: 9e12,
    requestId: null,
  });
  expect(preview).toContain('next an unknown time');
  expect(preview).not.toContain('<!date');
  const message = scheduledMessage({
    userId: 'U1',
    policyId: 'dbp_1',
    requestedAt: 1767225600,
    scheduled: { ...scheduled, autoMoveToTrashAt: 9e12 },
  });
  expect(message.text).toContain('at an unknown time');
  const record = pendingRecord('T1:V1', ['dbp_1', 'dbp_2']);
  record.policies = ['dbp_1', 'dbp_2'].map((policyId) => ({
    policyId,
    result: { ok: true, autoMoveToTrashAt: 9e12, target: scheduled.target, requestId: null },
  }));
  expect(JSON.stringify(requestOutcomeMessage(record, () => true))).toContain(
    'scheduled for *an unknown time*',
  );
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
  const picker = view.blocks.find((b) => 'block_id' in b && b.block_id === SCHEDULE_VIEW.pickBlock);
  expect(picker).toMatchObject({ element: { type: 'multi_external_select', max_selected_items: 20 } });
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

test('a 200 with no move time is not shown as confirmed: the time asked for, and a note saying so', () => {
  const asked = 1767225600;
  const confirmed = JSON.stringify(
    scheduledMessage({ userId: 'U1', policyId: 'dbp_1', requestedAt: asked, scheduled }),
  );
  const unconfirmed = JSON.stringify(
    scheduledMessage({
      userId: 'U1',
      policyId: 'dbp_1',
      requestedAt: asked,
      scheduled: { ...scheduled, autoMoveToTrashAt: null },
    }),
  );
  expect(confirmed).not.toContain('gave no move time');
  expect(unconfirmed).toContain(`<!date^${asked}^`);
  expect(unconfirmed).toContain('gave no move time');
  const record = pendingRecord('T1:V1', ['dbp_1', 'dbp_2']);
  record.policies = [
    {
      policyId: 'dbp_1',
      result: { ok: true, autoMoveToTrashAt: null, target: scheduled.target, requestId: null },
    },
    {
      policyId: 'dbp_2',
      result: { ok: true, autoMoveToTrashAt: asked, target: scheduled.target, requestId: null },
    },
  ];
  const several = JSON.stringify(requestOutcomeMessage(record, () => true));
  expect(several.split('gave no move time').length - 1).toBe(1);
});

test('a request for approval names every policy it approves, however long the target names', () => {
  const record = pendingRecord('T1:V1', []);
  record.state = 'awaiting_approval';
  record.approval = { expiresAt: 1_900_000_000_000 } as RequestRecord['approval'];
  record.policies = Array.from({ length: MAX_POLICIES_PER_REQUEST }, (_, i) => ({
    policyId: `dbp_${String(i).padStart(16, '0')}`,
  }));
  // Escaping makes `&` five characters: 20 such names overflow a section many times over.
  const name = `web & db server ${'&'.repeat(400)}`;
  const summaries = record.policies.map((p) =>
    policySummary(p.policyId, {
      id: p.policyId,
      target: { type: 'VirtualMachine', id: 'vm_aaaaaaaaaaaaaaaa', name },
      retention: 7,
      totalSize: 123,
      schedule: null,
      autoMoveToTrashAt: null,
      requestId: null,
    }),
  );
  const message = approvalRequestMessage(record, summaries);
  expect(checkMessage(message as never)).toEqual([]);
  expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.messageBlocks);
  const shown = JSON.stringify(message.blocks);
  for (const { policyId } of record.policies) expect(shown).toContain(`\`${policyId}\`: backs up`);
  // Each name is clipped, so what follows it (retention, size) still shows for every policy.
  expect(shown.split('keeps 7 backups').length - 1).toBe(MAX_POLICIES_PER_REQUEST);
});

test('a deny reason is quoted: escaped, one paragraph, and invisible bidi controls shown, not obeyed', () => {
  const reason = 'no \u202Eydaer ton\u202C <!here>\n\nlater';
  for (const text of [APPROVALS.deniedBy('U1', reason), APPROVALS.deniedForRequester('C1', 'U1', reason)]) {
    expect(text).toContain('Reason: no \uFFFDydaer ton\uFFFD &lt;!here&gt; later');
    expect(text).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
  }
});

test('a picker option keeps the policy ID whatever the target name; controls in it are shown', () => {
  const policy = (name: string | null) => ({
    id: 'dbp_1kpkjQeMEI43tztr',
    target: { type: 'VirtualMachine' as const, id: 'vm_1', name },
    retention: null,
    totalSize: null,
    schedule: null,
  });
  expect(pickerOption(policy('web-1'))).toMatchObject({
    text: { text: 'web-1 — dbp_1kpkjQeMEI43tztr' },
    value: 'dbp_1kpkjQeMEI43tztr',
  });
  const long = pickerOption(policy(`a-very-long-virtual-machine-name-${'x'.repeat(80)}`));
  expect(long.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.optionText);
  expect(long.text.text).toMatch(/… — dbp_1kpkjQeMEI43tztr$/);
  expect(pickerOption(policy('evil\u202Egnp.exe')).text.text).toBe(
    'evil\uFFFDgnp.exe — dbp_1kpkjQeMEI43tztr',
  );
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

test('help names every other way in that manifest.yml declares (both shortcuts, the Workflow Builder step)', () => {
  const manifest = readFileSync('manifest.yml', 'utf8');
  const names = [
    ...[...manifest.matchAll(/^ {4}- name: (.+)$/gm)].map((m) => m[1]?.trim() ?? ''),
    /^functions:\s*\n\s+\w+:\s*\n\s+title: (.+)$/m.exec(manifest)?.[1]?.trim() ?? '',
  ];
  expect(names).toHaveLength(3);
  const json = JSON.stringify(helpMessage('/kp'));
  for (const name of names) expect(json).toContain(name);
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
  // Each select (who may schedule, who approves) offers at most Slack's 100 options.
  const selects = (view.blocks as { element?: { type: string; options?: unknown[] } }[]).flatMap((b) =>
    b.element?.type === 'multi_static_select' ? [b.element] : [],
  );
  expect(selects.length).toBe(2);
  for (const select of selects) expect(select.options?.length ?? 0).toBeLessThanOrEqual(100);
});

test('access modal: chosen approver groups are offered even beyond the first 100', () => {
  const groups = Array.from({ length: 150 }, (_, i) => ({
    id: `S${String(i).padStart(8, '0')}`,
    name: `group-${i}`,
  }));
  const approval = { mode: 'groups' as const, groupIds: ['S00000140'] };
  const view = accessFormView({
    policy: { who: 'admins', groupIds: [], channelIds: [], approval, updatedBy: null, updatedAt: null },
    groups,
    approval,
  });
  const approvers = view.blocks.find((b) => b.block_id === ACCESS_VIEW.approversBlock);
  expect(JSON.stringify(approvers)).toContain(
    '"initial_options":[{"text":{"type":"plain_text","text":"group-140"',
  );
  const mode = view.blocks.find((b) => b.block_id === ACCESS_VIEW.approvalBlock);
  expect(JSON.stringify(mode)).toContain(
    '"initial_option":{"text":{"type":"plain_text","text":"One member of the approver groups',
  );
});

test('the redactor stays bounded and still catches JSON-escaped secrets', () => {
  const r = new Redactor();
  r.add('kt_ab"cd\\efgh1234');
  expect(r.apply(JSON.stringify({ t: 'kt_ab"cd\\efgh1234' }))).toBe('{"t":"[redacted]"}');
  for (let i = 0; i < 5000; i++) r.add(`secret-number-${i}`);
  expect(r.apply('secret-number-4999')).toBe('[redacted]');
});

test('access modal: the daily limit field shows the workspace’s value, and the deployment’s default when empty', () => {
  const base = { who: 'everyone' as const, groupIds: [], channelIds: [], updatedBy: null, updatedAt: null };
  const own = JSON.stringify(
    accessFormView({ policy: { ...base, maxPerUserPerDay: 7 }, groups: [], defaultLimit: 3 }),
  );
  expect(own).toContain('"initial_value":"7"');
  expect(own).toContain('at most 7 policies in any 24 hours');
  const fallback = JSON.stringify(accessFormView({ policy: base, groups: [], defaultLimit: 3 }));
  expect(fallback).not.toContain('initial_value');
  expect(fallback).toContain('this deployment’s default (3)');
  expect(fallback).toContain('at most 3 policies in any 24 hours');
  const none = JSON.stringify(
    accessFormView({ policy: { ...base, maxPerUserPerDay: null }, groups: [], defaultLimit: 3 }),
  );
  expect(none).toContain('"initial_value":"unlimited"');
  expect(none).toContain('There is no limit');
  expect(checkView(accessFormView({ policy: base, groups: [], defaultLimit: 3 }))).toEqual([]);
});

/** No lone surrogate (String.prototype.isWellFormed, which the TypeScript lib here does not declare). */
const wellFormed = (s: string) =>
  !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

describe('clip: cut to a limit with a note, never through a character, an escape or a token', () => {
  const NOTE = CLIP_NOTE;
  const kept = (clipped: string) => clipped.slice(0, clipped.length - NOTE.length);

  test('short text is unchanged; long text ends with the note within the limit', () => {
    expect(clip('hello', 3000)).toBe('hello');
    expect(clip('x'.repeat(3000), 3000)).toBe('x'.repeat(3000));
    const long = clip('x'.repeat(5000), 3000);
    expect(long).toHaveLength(3000);
    expect(long.endsWith(NOTE)).toBe(true);
  });

  test('short fields get a one-character note, and a limit smaller than the note gets none', () => {
    expect(clip('Schedule a deletion of everything', 24)).toBe('Schedule a deletion of …');
    expect(clip('abcdef', 1)).toBe('a');
  });

  test.each(['&amp;', '&lt;', '&gt;'])('%s is kept whole or dropped whole, at every offset', (entity) => {
    for (let pad = 0; pad < 12; pad++) {
      const text = `${'a'.repeat(200 - NOTE.length - pad)}${entity}${'b'.repeat(100)}`;
      const out = kept(clip(text, 200));
      expect(out.length).toBeLessThanOrEqual(200 - NOTE.length);
      expect(text.startsWith(out)).toBe(true);
      const amp = out.lastIndexOf('&');
      if (amp >= 0) expect(out.slice(amp).startsWith(entity)).toBe(true);
    }
  });

  test('a surrogate pair (astral character or emoji) is never split', () => {
    for (const max of [200, 201, 202, 203]) {
      const out = clip(`a${'𝔘🧯'.repeat(300)}`, max);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(wellFormed(out)).toBe(true);
    }
  });

  test('combining marks and emoji sequences stay with their character', () => {
    for (const max of [200, 201, 202, 203]) {
      const accents = kept(clip('e\u0301\u0302'.repeat(300), max));
      expect(accents.endsWith('e\u0301\u0302')).toBe(true);
      const families = kept(clip('👩‍👩‍👧'.repeat(100), max));
      expect(families.endsWith('👩‍👩‍👧')).toBe(true);
    }
  });

  test('a Slack token (mention, date) is kept whole or dropped whole', () => {
    const token = dateToken(1767225600);
    for (let pad = 0; pad < token.length; pad += 7) {
      const out = kept(clip(`${'a'.repeat(200 - NOTE.length - pad)}${token}${'b'.repeat(200)}`, 200));
      expect(out.endsWith('a') || out.endsWith(token)).toBe(true);
    }
  });

  test('for any text and limit: within the limit, a prefix of the text plus the note, well formed', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.integer({ min: 1, max: 400 }),
        (text, max) => {
          const out = clip(text, max);
          expect(out.length).toBeLessThanOrEqual(max);
          expect(wellFormed(out)).toBe(true);
          if (out !== text) expect(text.startsWith(out.replace(/…(\(clipped\))?$/, ''))).toBe(true);
        },
      ),
    );
  });

  test('fitBlocks keeps the count and says how many were left out', () => {
    const blocks = Array.from({ length: 51 }, (_, i) => i);
    const fitted = fitBlocks(blocks, 50, (left) => -left);
    expect(fitted).toHaveLength(50);
    expect(fitted.at(-1)).toBe(-2);
    expect(fitBlocks([1, 2], 50, () => 0)).toEqual([1, 2]);
  });
});

describe("the bot's limits agree with Slack's (the fake's validator)", () => {
  const at = (n: number) => 'x'.repeat(n);
  const messageWith = (block: unknown) => checkMessage({ text: 'x', blocks: [block] });
  test.each([
    [
      'section text',
      SLACK_LIMITS.sectionText,
      (t: string) => messageWith({ ...section('x'), text: { type: 'mrkdwn', text: t } }),
    ],
    [
      'header',
      SLACK_LIMITS.header,
      (t: string) => messageWith({ type: 'header', text: { type: 'plain_text', text: t } }),
    ],
    [
      'context element',
      SLACK_LIMITS.textObject,
      (t: string) => messageWith({ type: 'context', elements: [{ type: 'mrkdwn', text: t }] }),
    ],
    [
      'button text',
      SLACK_LIMITS.buttonText,
      (t: string) =>
        messageWith({
          type: 'actions',
          elements: [{ type: 'button', text: { type: 'plain_text', text: t } }],
        }),
    ],
    [
      'option text',
      SLACK_LIMITS.optionText,
      (t: string) =>
        messageWith({
          type: 'actions',
          elements: [
            { type: 'static_select', options: [{ text: { type: 'plain_text', text: t }, value: 'v' }] },
          ],
        }),
    ],
    [
      'option value',
      SLACK_LIMITS.optionValue,
      (t: string) =>
        messageWith({
          type: 'actions',
          elements: [
            { type: 'static_select', options: [{ text: { type: 'plain_text', text: 't' }, value: t }] },
          ],
        }),
    ],
    ['message text', SLACK_LIMITS.messageText, (t: string) => checkMessage({ text: t })],
    [
      'modal title',
      SLACK_LIMITS.modalTitle,
      (t: string) => checkView({ ...noticeModal('cb', 'x', 'y'), title: { type: 'plain_text', text: t } }),
    ],
    [
      'private_metadata',
      SLACK_LIMITS.privateMetadata,
      (t: string) => checkView({ ...noticeModal('cb', 'x', 'y'), private_metadata: t }),
    ],
  ] as const)('%s: %i characters pass, one more is refused', (_name, limit, check) => {
    expect(check(at(limit))).toEqual([]);
    expect(check(at(limit + 1))).not.toEqual([]);
  });

  test('block counts: 50 in a message, 100 in a view', () => {
    const many = (n: number) => Array.from({ length: n }, () => section('x'));
    expect(checkMessage({ text: 'x', blocks: many(SLACK_LIMITS.messageBlocks) })).toEqual([]);
    expect(checkMessage({ text: 'x', blocks: many(SLACK_LIMITS.messageBlocks + 1) })).not.toEqual([]);
    expect(checkView({ type: 'home', blocks: many(SLACK_LIMITS.viewBlocks) })).toEqual([]);
    expect(checkView({ type: 'home', blocks: many(SLACK_LIMITS.viewBlocks + 1) })).not.toEqual([]);
  });

  test('a 4,000-character Katapult description, escaped, still makes a failure message Slack accepts', () => {
    const description = '<!channel> & <b>'.repeat(250);
    const m = failureMessage({
      userId: 'U1',
      policyId: 'dbp_1',
      explanation: {
        summary: `Katapult said "${escapeMrkdwn(description)}".`,
        next: 'Try again.',
        requestId: 'r',
      },
    });
    expect(checkMessage({ ...m })).toEqual([]);
    expect(JSON.stringify(m.blocks)).toContain(CLIP_NOTE);
    expect(JSON.stringify(m.blocks)).toContain('Try again.');
  });
});
