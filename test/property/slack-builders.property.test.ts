/**
 * Every Block Kit builder, fed long, unicode (astral, emoji sequences, combining marks) and hostile
 * (`<!channel>`, `&`, `<`, `>`, mrkdwn) input, gives a payload the fake Slack accepts: the same
 * validator (support/slack-limits.ts) decides. Text that reaches mrkdwn escaped never pings anyone.
 */
import fc from 'fast-check';
import type { AccessPolicy } from '../../src/access/access-policy.js';
import type { DiskBackupPolicyDetails, ScheduledDeletion } from '../../src/katapult/client.js';
import type { Explanation } from '../../src/messages/explain.js';
import { escapeMrkdwn } from '../../src/messages/mrkdwn.js';
import type { PolicyStep, RequestRecord } from '../../src/scheduling/request-log.js';
import type { UpcomingDeletion } from '../../src/scheduling/upcoming.js';
import { accessFormView } from '../../src/slack/blocks/access.js';
import {
  approvalClosedMessage,
  approvalRequestMessage,
  approvedOutcomeMessage,
  denyModal,
  policySummary,
} from '../../src/slack/blocks/approval.js';
import { noticeModal } from '../../src/slack/blocks/common.js';
import {
  movedMessage,
  reconciledMessage,
  reminderMessage,
  restoredMessage,
} from '../../src/slack/blocks/followups.js';
import { historyMessage } from '../../src/slack/blocks/history.js';
import { homeView } from '../../src/slack/blocks/home.js';
import {
  failureMessage,
  failureText,
  helpMessage,
  plainEphemeral,
  type SlackMessage,
  scheduledMessage,
  undeliveredMessage,
} from '../../src/slack/blocks/messages.js';
import { requestOutcomeMessage } from '../../src/slack/blocks/request.js';
import {
  buildScheduleModal,
  previewText,
  scheduleNoticeView,
} from '../../src/slack/blocks/schedule-modal.js';
import {
  tokenCheckingView,
  tokenDoneView,
  tokenFormView,
  tokenRefusedView,
} from '../../src/slack/blocks/token-modal.js';
import type { AuditEntry } from '../../src/store/store.js';
import type { TokenStatus } from '../../src/store/token-store.js';
import { checkMessage, checkView } from '../../support/slack-limits.js';

const RUNS = { numRuns: 100 };

const PIECES = [
  '<!channel>',
  '<!here>',
  '<@U0ALICE01>',
  '<https://evil.example|click>',
  '&',
  '<',
  '>',
  '&amp;',
  '&lt;',
  '*bold*',
  '_',
  '~',
  '`',
  '```',
  ':wastebasket:',
  '🧯',
  '👩‍👩‍👧',
  '🇬🇧',
  'e\u0301',
  '\u0301\u0302',
  '𝔘',
  'a',
  ' ',
  '\n',
];

/** Anything a person or Katapult might type, from empty to far beyond every limit. */
const text = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 200 }), weight: 1 },
  { arbitrary: fc.array(fc.constantFrom(...PIECES), { maxLength: 600 }).map((a) => a.join('')), weight: 2 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...PIECES), fc.integer({ min: 1, max: 15_000 }))
      .map(([piece, n]) => piece.repeat(n).slice(0, 60_000)),
    weight: 3,
  },
);
const nonEmpty = text.filter((s) => s.length > 0);
/** Mrkdwn the bot composed around such text: escaped, as explain.ts and the listeners do. */
const escaped = nonEmpty.map(escapeMrkdwn);
const slackId = (prefix: string) => fc.stringMatching(new RegExp(`^${prefix}[A-Z0-9]{8,10}$`));
const userId = slackId('U');
const channelId = slackId('[CGD]');
/** The slash command, as config.ts accepts it. */
const command = fc.stringMatching(/^\/[a-z0-9_-]{1,31}$/);
const unix = fc.integer({ min: 0, max: 4_102_444_800 });
const explanation: fc.Arbitrary<Explanation> = fc.record({
  summary: escaped,
  next: escaped,
  requestId: fc.option(text),
});
const targetType = fc.constantFrom('VirtualMachine' as const, 'Disk' as const, null);
const scheduled: fc.Arbitrary<ScheduledDeletion> = fc.record({
  policyId: text,
  autoMoveToTrashAt: fc.option(unix),
  target: fc.record({ type: targetType, id: fc.option(text) }),
  requestId: fc.option(text),
});
const details: fc.Arbitrary<DiskBackupPolicyDetails> = fc.record({
  id: text,
  retention: fc.option(fc.integer()),
  totalSize: fc.option(fc.double({ noNaN: true })),
  target: fc.record({ type: targetType, id: fc.option(text), name: fc.option(text) }),
  schedule: fc.option(
    fc.record({
      interval: fc.option(text),
      frequency: fc.option(fc.integer()),
      time: fc.option(fc.integer()),
      minute: fc.option(fc.integer()),
      nextInvocationAt: fc.option(unix),
    }),
  ),
  autoMoveToTrashAt: fc.option(unix),
  requestId: fc.option(text),
});
const auditEntry: fc.Arbitrary<AuditEntry> = fc.record({
  at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  workspace: slackId('T'),
  user: userId,
  channel: fc.option(channelId),
  action: fc.constantFrom(
    'schedule',
    'restore',
    'token_set',
    'token_removed',
    'access_changed',
    'approval',
    'freeze',
  ),
  decidedBy: fc.option(userId),
  policyId: fc.option(text),
  requestedAt: fc.option(unix),
  requestedLocal: fc.option(text),
  outcome: text,
  autoMoveToTrashAt: fc.option(unix),
  requestId: fc.option(text),
  retryNum: fc.option(fc.nat()),
  delivery: fc.option(text),
});
const tokenStatus: fc.Arbitrary<TokenStatus> = fc.record({
  last4: text,
  setBy: userId,
  setAt: unix,
  organizationName: fc.option(text),
});
const groupId = slackId('S');
const accessPolicy: fc.Arbitrary<AccessPolicy> = fc.record({
  who: fc.constantFrom('admins' as const, 'groups' as const, 'everyone' as const),
  groupIds: fc.array(groupId, { maxLength: 150 }),
  channelIds: fc.array(channelId, { maxLength: 300 }),
  approval: fc.option(
    fc.record({
      mode: fc.constantFrom('off' as const, 'admins' as const, 'groups' as const),
      groupIds: fc.array(groupId, { maxLength: 150 }),
    }),
    { nil: undefined },
  ),
  updatedBy: fc.option(userId),
  updatedAt: fc.option(unix),
});
/** A request waiting for approval, of one to twenty policies. */
const awaiting: fc.Arbitrary<RequestRecord> = fc
  .tuple(userId, channelId, unix, fc.array(text, { minLength: 1, maxLength: 20 }), unix)
  .map(([user, channel, atSeconds, ids, expires]) => ({
    id: `T1:${'V'.repeat(40)}`,
    workspace: 'T1',
    user,
    channel,
    botUserId: null,
    atSeconds,
    createdAt: 0,
    retryNum: null,
    state: 'awaiting_approval',
    attempts: 1,
    policies: ids.map((policyId) => ({ policyId })),
    approval: { expiresAt: expires * 1000, messageTs: '1700000000.000100' },
  }));
const upcoming: fc.Arbitrary<UpcomingDeletion> = fc.record({
  policyId: text,
  channelId,
  at: unix,
  scheduledBy: userId,
  targetType: fc.option(fc.constantFrom('Disk', 'VirtualMachine')),
  targetId: fc.option(text),
  reminderMessageId: fc.constant(null),
  restoreMessageId: fc.constant(null),
});

/** The mrkdwn text objects in a payload, where `<!channel>` would ping. */
function mrkdwnTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(mrkdwnTexts);
  if (typeof value !== 'object' || value === null) return [];
  const o = value as Record<string, unknown>;
  const own = o.type === 'mrkdwn' && typeof o.text === 'string' ? [o.text] : [];
  return [...own, ...Object.values(o).flatMap(mrkdwnTexts)];
}

const PINGS = /<!(channel|here|everyone)>|<@U0ALICE01>|<https:\/\/evil/;

function expectAcceptedMessage(message: SlackMessage): void {
  expect(checkMessage({ ...message })).toEqual([]);
  for (const t of [message.text, ...mrkdwnTexts(message.blocks)]) expect(t).not.toMatch(PINGS);
}

function expectAcceptedView(view: unknown): void {
  expect(checkView(view)).toEqual([]);
  for (const t of mrkdwnTexts(view)) expect(t).not.toMatch(PINGS);
}

describe('messages', () => {
  test('scheduled', () => {
    fc.assert(
      fc.property(
        userId,
        text,
        unix,
        scheduled,
        fc.option(fc.boolean(), { nil: undefined }),
        (u, p, at, s, held) =>
          expectAcceptedMessage(
            scheduledMessage({ userId: u, policyId: p, requestedAt: at, scheduled: s, followupsHeld: held }),
          ),
      ),
      RUNS,
    );
  });

  test('failure (schedule) and failure (any action)', () => {
    fc.assert(
      fc.property(userId, text, escaped, explanation, (u, p, what, e) => {
        expectAcceptedMessage(failureMessage({ userId: u, policyId: p, explanation: e }));
        expectAcceptedMessage(failureText({ userId: u, what, explanation: e }));
      }),
      RUNS,
    );
  });

  test('undelivered, around any outcome, even one already at the block limit', () => {
    const fullOutcome = fc.tuple(escaped, fc.integer({ min: 1, max: 50 })).map(([t, n]): SlackMessage => {
      const { text, blocks } = plainEphemeral(t);
      return { text, blocks: Array.from({ length: n }, () => blocks).flat() };
    });
    const outcome = fc.oneof(
      fc
        .tuple(userId, text, explanation)
        .map(([u, p, e]) => failureMessage({ userId: u, policyId: p, explanation: e })),
      fullOutcome,
    );
    fc.assert(
      fc.property(channelId, fc.option(userId), fc.option(text), outcome, (c, bot, err, o) =>
        expectAcceptedMessage(
          undeliveredMessage({ channelId: c, botUserId: bot, slackError: err, outcome: o }),
        ),
      ),
      RUNS,
    );
  });

  test('help, and a plain private note', () => {
    fc.assert(
      fc.property(command, escaped, (c, note) => {
        expectAcceptedMessage(helpMessage(c));
        expectAcceptedMessage(plainEphemeral(note));
      }),
      RUNS,
    );
  });

  test('reminder, moved to the trash, restored', () => {
    fc.assert(
      fc.property(text, unix, fc.integer({ min: 60, max: 30 * 86_400 }), userId, (p, at, lead, u) => {
        expectAcceptedMessage(reminderMessage({ policyId: p, at, leadSeconds: lead, scheduledBy: u }));
        expectAcceptedMessage(movedMessage({ policyId: p, at }));
        expectAcceptedMessage(restoredMessage({ policyId: p, userId: u }));
      }),
      RUNS,
    );
  });

  test('the note of a schedule changed outside Slack (reconcile): moved, cleared, gone, trashed early', () => {
    const action = fc.oneof(
      unix.map((at) => ({ kind: 'moved' as const, at })),
      fc.constantFrom(
        { kind: 'cleared' as const },
        { kind: 'gone' as const },
        { kind: 'trashed_early' as const },
      ),
    );
    fc.assert(
      fc.property(text, unix, action, (p, was, a) =>
        expectAcceptedMessage(reconciledMessage({ policyId: p, was }, a)),
      ),
      RUNS,
    );
  });

  test('the outcome of a request, for one policy or many', () => {
    const step: fc.Arbitrary<PolicyStep> = fc.record(
      {
        policyId: text,
        result: fc.oneof(
          scheduled.map(({ autoMoveToTrashAt, target, requestId }) => ({
            ok: true as const,
            autoMoveToTrashAt,
            target,
            requestId,
          })),
          fc.record({ ok: fc.constant(false as const), code: text, explanation }),
        ),
        superseded: fc.boolean(),
      },
      { requiredKeys: ['policyId'] },
    );
    const record = fc.tuple(userId, channelId, unix, fc.array(step, { minLength: 1, maxLength: 60 })).map(
      ([user, channel, atSeconds, policies]): RequestRecord => ({
        id: 'T1:V1',
        workspace: 'T1',
        user,
        channel,
        botUserId: null,
        atSeconds,
        createdAt: 0,
        retryNum: null,
        state: 'done',
        attempts: 1,
        policies,
      }),
    );
    fc.assert(
      fc.property(record, fc.boolean(), (r, held) =>
        expectAcceptedMessage(requestOutcomeMessage(r, () => held)),
      ),
      { numRuns: 30 },
    );
  });

  test('history, with any requests waiting for approval', () => {
    fc.assert(
      fc.property(
        fc.array(auditEntry, { maxLength: 25 }),
        fc.array(awaiting, { maxLength: 80 }),
        (entries, pending) => expectAcceptedMessage(historyMessage(entries, pending)),
      ),
      { numRuns: 30 },
    );
  });

  test('a request for approval: posted (any previews), denied (any reason), expired, approved', () => {
    fc.assert(
      fc.property(
        awaiting,
        fc.array(fc.option(details), { minLength: 20, maxLength: 20 }),
        fc.option(text, { nil: undefined }),
        (r, previews, reason) => {
          const summaries = r.policies.map((p, i) => policySummary(p.policyId, previews[i] ?? null));
          expectAcceptedMessage(approvalRequestMessage(r, summaries));
          expectAcceptedMessage(approvalClosedMessage(r));
          const denied: RequestRecord = {
            ...r,
            state: 'denied',
            approval: {
              expiresAt: 0,
              decision: { by: 'U0BOB0001', at: 0, approved: false, ...(reason ? { reason } : {}) },
            },
          };
          const closed = approvalClosedMessage(denied);
          expectAcceptedMessage(closed);
          const approved: RequestRecord = {
            ...r,
            approval: { expiresAt: 0, decision: { by: 'U0BOB0001', at: 0, approved: true } },
          };
          expectAcceptedMessage(
            approvedOutcomeMessage(
              approved,
              requestOutcomeMessage(approved, () => true),
            ),
          );
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('views', () => {
  test('App Home', () => {
    fc.assert(
      fc.property(
        command,
        fc.option(fc.record({ status: fc.option(tokenStatus), fallback: fc.boolean() })),
        fc.option(accessPolicy),
        fc.array(upcoming, { maxLength: 30 }),
        fc.option(fc.array(auditEntry, { maxLength: 12 })),
        unix,
        fc.option(fc.array(awaiting, { maxLength: 50 })),
        fc.option(
          fc.oneof(
            fc.constant({ frozen: false as const }),
            fc.constant({ frozen: true as const, by: 'deployment' as const }),
            userId.map((u) => ({ frozen: true as const, by: 'admin' as const, userId: u, at: 0 })),
          ),
        ),
        (c, token, access, up, history, now, pending, freeze) =>
          expectAcceptedView(
            homeView({ command: c, token, access, upcoming: up, history, nowSeconds: now, pending, freeze }),
          ),
      ),
      { numRuns: 30 },
    );
  });

  test('the scheduling modal, with any prefill, time problem and preview', () => {
    fc.assert(
      fc.property(
        channelId,
        fc.option(text, { nil: undefined }),
        fc.option(unix, { nil: undefined }),
        fc.option(text, { nil: undefined }),
        fc.option(fc.oneof(escaped, details.map(previewText)), { nil: undefined }),
        (c, policyId, initialAt, whenProblem, preview) =>
          expectAcceptedView(buildScheduleModal({ channelId: c, policyId, initialAt, whenProblem, preview })),
      ),
      RUNS,
    );
  });

  test('notices: scheduling, token, any modal', () => {
    fc.assert(
      fc.property(escaped, nonEmpty, (note, title) => {
        expectAcceptedView(scheduleNoticeView(note));
        expectAcceptedView(tokenDoneView(note));
        expectAcceptedView(noticeModal('any_callback', title, note));
      }),
      RUNS,
    );
    expectAcceptedView(tokenRefusedView());
    expectAcceptedView(tokenCheckingView());
  });

  test('the token form', () => {
    fc.assert(
      fc.property(
        fc.option(tokenStatus),
        fc.boolean(),
        fc.option(escaped, { nil: undefined }),
        (s, f, problem) => expectAcceptedView(tokenFormView({ status: s, fallback: f, problem })),
      ),
      RUNS,
    );
  });

  test('the access form, with any groups and channels', () => {
    fc.assert(
      fc.property(
        accessPolicy,
        fc.array(fc.record({ id: groupId, name: text }), { maxLength: 150 }),
        fc.option(escaped, { nil: undefined }),
        (policy, groups, problem) => expectAcceptedView(accessFormView({ policy, groups, problem })),
      ),
      { numRuns: 30 },
    );
  });

  test('the deny modal', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 3000 }), (meta) =>
        expectAcceptedView(denyModal(meta.slice(0, 2000))),
      ),
      { numRuns: 30 },
    );
  });
});
