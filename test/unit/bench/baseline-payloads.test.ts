/**
 * The baselines send the bot's own payloads, written by hand (bench/baseline-payloads.mjs), so
 * that the benchmark charges the bot only for its overhead, not for the size of what it says.
 * These tests fail when the bot's builders change and the copies are not brought along.
 */
import type { RequestRecord } from '../../../src/scheduling/request-log.js';
import { movedMessage, reminderMessage } from '../../../src/slack/blocks/followups.js';
import { failureMessage } from '../../../src/slack/blocks/messages.js';
import { requestOutcomeMessage } from '../../../src/slack/blocks/request.js';
import { buildScheduleModal } from '../../../src/slack/blocks/schedule-modal.js';
import { createMetadataSigner, withSignedMetadata } from '../../../src/slack/platform/signed-metadata.js';

type Payload = { text: string; blocks: unknown[] };
interface Payloads {
  scheduleModal(privateMetadata: string): Record<string, unknown>;
  scheduledMessage(input: {
    user: string;
    policyId: string;
    at: number;
    targetId: string;
    requestId: string;
  }): Payload;
  refusedMessage(input: { user: string; policyId: string; summary: string; next: string }): Payload;
  reminderMessage(input: { user: string; policyId: string; at: number }): Payload;
  restoreOfferMessage(input: { policyId: string; at: number }): Payload;
}

// A specifier the compiler does not follow: the module is plain JavaScript with no types.
const payloadsFile = '../../../bench/baseline-payloads.mjs';
const copies = (await import(payloadsFile)) as Payloads;

const CHANNEL = 'C0OPS0001';
const policyId = 'dbp_bench12n345';
const user = 'U0BENCH01';
const at = 1_795_814_194;
const refusal = { summary: 'Katapult refused (policy_not_found).', next: 'Check the policy ID.' };

test('bare Bolt opens the same scheduling modal as the bot, with metadata as long as the signed one', () => {
  const bot = withSignedMetadata(
    createMetadataSigner({ current: 'bench-key' }),
    buildScheduleModal({ channelId: CHANNEL }),
    'T0FAKE001',
    Date.now(),
  );
  const copy = copies.scheduleModal(
    `v2.${'0'.repeat(43)}.${'0'.repeat(10)}.${JSON.stringify({ c: CHANNEL })}`,
  );
  expect({ ...copy, private_metadata: null }).toEqual({ ...bot, private_metadata: null });
  expect(String(copy.private_metadata).length).toBe(String(bot.private_metadata).length);
});

test('the same-work baseline posts and holds the same messages as the bot', () => {
  const record: RequestRecord = {
    id: 'T0BENCH01:V1',
    workspace: 'T0BENCH01',
    user,
    channel: CHANNEL,
    botUserId: null,
    atSeconds: at,
    createdAt: 0,
    retryNum: null,
    state: 'done',
    attempts: 1,
    policies: [
      {
        policyId,
        result: {
          ok: true,
          autoMoveToTrashAt: at,
          target: { type: 'VirtualMachine', id: 'vm_bench0001' },
          requestId: 'req_bench0001',
        },
      },
    ],
  };
  const pairs: [Payload, Payload][] = [
    [
      requestOutcomeMessage(record, () => true) as Payload,
      copies.scheduledMessage({ user, policyId, at, targetId: 'vm_bench0001', requestId: 'req_bench0001' }),
    ],
    [
      reminderMessage({ policyId, at, leadSeconds: 3600, scheduledBy: user }) as Payload,
      copies.reminderMessage({ user, policyId, at }),
    ],
    [movedMessage({ policyId, at }) as Payload, copies.restoreOfferMessage({ policyId, at })],
    [
      failureMessage({ userId: user, policyId, explanation: { ...refusal, requestId: null } }) as Payload,
      copies.refusedMessage({ user, policyId, ...refusal }),
    ],
  ];
  for (const [bot, copy] of pairs) expect(copy).toEqual(bot);
});
