/**
 * The Workflow Builder step's pure parts (issue 21, item 4): its inputs as Workflow Builder maps
 * them, and how an ended request completes the step (outputs only when every policy was scheduled,
 * else why, in plain words).
 */
import { plainWords, stepEnd } from '../../src/messages/workflow.js';
import type { RequestRecord } from '../../src/scheduling/request-log.js';
import { WORKFLOW_STEP } from '../../src/slack/ids.js';
import { checkStepInputs } from '../../src/slack/listeners/functions/schedule-step.js';

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);
const AT = NOW / 1000 + 3600;
const inputs = (over: Record<string, unknown> = {}) => ({
  [WORKFLOW_STEP.policyIdsInput]: 'dbp_a, dbp_b\ndbp_a',
  [WORKFLOW_STEP.moveAtInput]: AT,
  [WORKFLOW_STEP.requesterInput]: 'U0ALICE01',
  [WORKFLOW_STEP.channelInput]: 'C0OPS0001',
  ...over,
});

describe('checkStepInputs', () => {
  test('IDs separated by commas, spaces or lines, duplicates once; a timestamp as a number or digits', () => {
    expect(checkStepInputs(inputs(), NOW)).toEqual({
      ok: true,
      policyIds: ['dbp_a', 'dbp_b'],
      atSeconds: AT,
      userId: 'U0ALICE01',
      channelId: 'C0OPS0001',
    });
    expect(checkStepInputs(inputs({ [WORKFLOW_STEP.moveAtInput]: String(AT) }), NOW)).toMatchObject({
      ok: true,
    });
  });

  test.each([
    ['no person', { [WORKFLOW_STEP.requesterInput]: undefined }, 'person who asks'],
    ['a direct message as the channel', { [WORKFLOW_STEP.channelInput]: 'D0DM00001' }, 'channel'],
    ['no IDs', { [WORKFLOW_STEP.policyIdsInput]: ' ' }, 'Enter the ID'],
    ['a bad ID', { [WORKFLOW_STEP.policyIdsInput]: 'dbp_ok, not/ok' }, 'policy ID'],
    [
      '21 IDs',
      { [WORKFLOW_STEP.policyIdsInput]: Array.from({ length: 21 }, (_, i) => `dbp_${i}`).join(' ') },
      'at most 20',
    ],
    ['no time', { [WORKFLOW_STEP.moveAtInput]: 'tomorrow' }, 'time for the move'],
    ['a time in the past', { [WORKFLOW_STEP.moveAtInput]: NOW / 1000 - 60 }, 'already passed'],
  ])('%s: refused, saying what to fix', (_name, over, words) => {
    const checked = checkStepInputs(inputs(over), NOW);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.error).toContain(words);
  });
});

const record = (over: Partial<RequestRecord> = {}): RequestRecord => ({
  id: 'T1:wf:Fx1',
  workspace: 'T1',
  user: 'U0ALICE01',
  channel: 'C0OPS0001',
  botUserId: null,
  atSeconds: AT,
  createdAt: NOW,
  retryNum: null,
  state: 'done',
  attempts: 1,
  policies: [],
  workflow: { executionId: 'Fx1', sealedToken: 'sealed' },
  ...over,
});
const scheduled = (policyId: string, at: number | null = AT) => ({
  policyId,
  result: {
    ok: true as const,
    autoMoveToTrashAt: at,
    target: { type: 'VirtualMachine' as const, id: 'vm_1' },
    requestId: null,
  },
});
const words = { refusal: (reason: string) => `:no_entry: refused (${reason}) *now*` };

describe('stepEnd', () => {
  test('every policy scheduled: the outputs, the time Katapult confirmed and one line per policy', () => {
    const end = stepEnd(
      record({ policies: [scheduled('dbp_a', AT + 60), scheduled('dbp_b', AT + 60)] }),
      words,
    );
    expect(end).toEqual({
      ok: true,
      outputs: {
        scheduled_at: AT + 60,
        outcomes:
          'dbp_a: scheduled to move to the trash at 2026-12-04T13:01:00Z.\ndbp_b: scheduled to move to the trash at 2026-12-04T13:01:00Z.',
      },
    });
  });

  test('a confirmed time past what a date holds reads as an unknown time, not a throw', () => {
    const end = stepEnd(record({ policies: [scheduled('dbp_a', 9e12)] }), words);
    expect(end).toMatchObject({
      ok: true,
      outputs: { outcomes: 'dbp_a: scheduled to move to the trash at an unknown time.' },
    });
  });

  test('one policy not scheduled: the step fails with each policy in plain words', () => {
    const failed = {
      policyId: 'dbp_b',
      result: {
        ok: false as const,
        code: 'disk_backup_policy_not_found',
        explanation: { summary: 'Katapult has *no* such policy.', next: 'Check the ID.', requestId: null },
      },
    };
    const end = stepEnd(record({ policies: [scheduled('dbp_a'), failed] }), words);
    expect(end.ok).toBe(false);
    if (!end.ok) {
      expect(end.error).toContain('dbp_a: scheduled');
      expect(end.error).toContain('dbp_b: not scheduled. Katapult has no such policy. Check the ID.');
    }
  });

  test.each<[string, Partial<RequestRecord>, string]>([
    ['refused', { refused: 'not_in_group' }, 'refused (not_in_group) now'],
    [
      'denied',
      {
        state: 'denied',
        approval: { expiresAt: 0, decision: { by: 'U0BOB', at: 0, approved: false, reason: 'no' } },
      },
      'denied',
    ],
    ['expired', { state: 'expired' }, 'expired'],
    ['failed', { state: 'failed' }, 'could not finish'],
    ['stopped', { state: 'stopped', stopped: { reason: 'frozen', at: 0 } }, 'frozen'],
    [
      'superseded',
      { state: 'superseded', policies: [{ policyId: 'dbp_a', superseded: true }] },
      'newer schedule',
    ],
  ])('%s: fails, in plain words (no emoji codes, no mrkdwn)', (_name, over, text) => {
    const end = stepEnd(record({ policies: [{ policyId: 'dbp_a' }], ...over }), words);
    expect(end.ok).toBe(false);
    if (!end.ok) {
      expect(end.error).toContain(text);
      expect(end.error).not.toMatch(/:[a-z_]+:|[*`]/);
    }
  });
});

test('plainWords keeps times and lines, drops emoji codes and marks', () => {
  expect(plainWords(':warning: *Not* at `09:00:00`\nin <#C0OPS0001>')).toBe('Not at 09:00:00\nin #C0OPS0001');
});
