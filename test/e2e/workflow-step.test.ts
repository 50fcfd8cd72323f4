/**
 * The Workflow Builder step "Schedule disk backup policy deletion" (issue 21, item 4), end to end
 * over HTTP with the fakes: `function_executed` as Slack sends it; refused (completeError, plain
 * words) until an admin allows workflows in `/katapult access`; once allowed, the named person's
 * rules apply (the emergency stop, approvals); the step is completed exactly once per execution
 * with its outputs; an execution token Slack no longer accepts leaves the request finished and the
 * channel told; the token never reaches a log line.
 */
import { createAuditTrail } from '../../src/audit/trail.js';
import { createRequestLog } from '../../src/scheduling/request-log.js';
import { workflowRequestId } from '../../src/scheduling/workflow-step.js';
import { ACCESS_VIEW, ACTIONS, WORKFLOW_STEP } from '../../src/slack/ids.js';
import type { SlackCall } from '../../support/fakes/slack-api.js';
import {
  ADMIN,
  accessFormValues,
  CHANNEL,
  type Harness,
  inMinutes,
  MEMBER,
  SIGNING_SECRET,
  setWorkspaceToken,
  startHarness,
} from '../../support/harness.js';
import { functionExecutedBody, postSigned, viewSubmissionBody } from '../../support/slack-requests.js';
import { pressButton } from '../helpers/approvals.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const TEAM = 'T0FAKE001';
const shared = useSharedHarness();
let h: Harness;
beforeAll(() => {
  h = shared.h;
});

let executions = 0;
/** A new execution: its ID and its own token (Slack makes one per execution). */
function newExecution(): { id: string; token: string } {
  executions += 1;
  const id = `Fx0WF${String(executions).padStart(5, '0')}${Date.now().toString(36).toUpperCase()}`;
  return { id, token: `wfexec-${executions}-${Date.now()}-execution-secret-token` };
}

/** A workflow runs the step: Slack knows the execution, then sends `function_executed`. */
async function runStep(
  inputs: Record<string, unknown>,
  execution = newExecution(),
  options: { revoked?: boolean } = {},
  on: Harness = h,
) {
  const h = on;
  h.slack.startExecution(execution.id, execution.token);
  const known = h.slack.executions.get(execution.id);
  if (known && options.revoked) known.revoked = true;
  const res = await postSigned(
    `${h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    functionExecutedBody({
      callbackId: WORKFLOW_STEP.callbackId,
      executionId: execution.id,
      token: execution.token,
      inputs,
    }),
    { contentType: 'application/json' },
  );
  expect(res.status).toBe(200);
  return execution;
}

const stepInputs = (policyIds: string, over: Record<string, unknown> = {}) => ({
  [WORKFLOW_STEP.policyIdsInput]: policyIds,
  [WORKFLOW_STEP.moveAtInput]: inMinutes(60),
  [WORKFLOW_STEP.requesterInput]: MEMBER,
  [WORKFLOW_STEP.channelInput]: CHANNEL,
  ...over,
});

/** The completions the bot sent for an execution (accepted or not). */
const completionCalls = (executionId: string) =>
  h.slack.calls.filter(
    (c) => c.method.startsWith('functions.complete') && c.args.function_execution_id === executionId,
  );

/** Waits until Slack accepted a completion of the execution; returns it. */
async function completed(executionId: string, on: Harness = h) {
  const h = on;
  await h.slack.waitFor(
    (c: SlackCall) =>
      c.method.startsWith('functions.complete') && c.args.function_execution_id === executionId,
    1,
    20_000,
  );
  const end = Date.now() + 20_000;
  while (!h.slack.executions.get(executionId)?.completed) {
    if (Date.now() > end) throw new Error('no completion accepted');
    await new Promise((r) => setTimeout(r, 20));
  }
  return h.slack.executions.get(executionId)?.completed;
}

/** `/katapult access` saved by an admin, with the workflow question answered. */
async function setAccess(
  allowWorkflows: boolean,
  approval = 'off',
  on: Harness = h,
  who = 'everyone',
  limit = '',
) {
  const h = on;
  const before = h.slack.callsTo('views.update').length;
  const values = {
    ...accessFormValues({ who, approval, limit }),
    [ACCESS_VIEW.workflowsBlock]: {
      [ACCESS_VIEW.workflowsAction]: {
        type: 'checkboxes',
        selected_options: allowWorkflows ? [{ value: ACCESS_VIEW.allowWorkflowsValue }] : [],
      },
    },
  };
  await postSigned(
    `${h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    viewSubmissionBody({ callbackId: ACCESS_VIEW.callbackId, userId: ADMIN, values }),
  );
  const saved = (await h.slack.waitFor('views.update', before + 1)).at(-1);
  expect(JSON.stringify(saved?.args)).toContain('Saved');
  // The bot reads the policy through a cache of a few seconds: a change made here clears it.
}

const scheduleCalls = () =>
  h.katapult.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith('/disk_backup_policy/schedule'));
const audit = () =>
  createAuditTrail(h.bot.store.audit, h.bot.store.docs, { retentionMs: 86_400_000 }).recent(TEAM, 100);

afterAll(() => {
  // No execution token in any log line.
  const tokens = [...Array(executions).keys()].map((i) => `wfexec-${i + 1}-`);
  expect(h.logs.filter((line) => tokens.some((t) => line.includes(t)))).toEqual([]);
});

describe('Workflow Builder step', () => {
  test('refused until an admin allows workflows: completeError in plain words, nothing called, audited as a workflow', async () => {
    await setAccess(false);
    const run = await runStep(stepInputs('dbp_wf_refused'));
    const done = await completed(run.id);
    expect(done?.method).toBe('functions.completeError');
    expect(String(done?.args.error)).toContain('Workflow Builder steps may not schedule deletions');
    expect(String(done?.args.error)).not.toMatch(/:[a-z_]+:/); // plain words, no emoji codes
    expect(await h.bot.idle()).toBe(true);
    expect(scheduleCalls()).toEqual([]);
    const entry = (await audit()).find((e) => e.policyId === 'dbp_wf_refused');
    expect(entry).toMatchObject({ outcome: 'refused:workflows_off', via: 'workflow', user: MEMBER });
  });

  test('allowed: schedules once, posts marked as started by a workflow, completes once with the outputs', async () => {
    await setAccess(true);
    const run = await runStep(stepInputs('dbp_wf_one, dbp_wf_two'));
    const done = await completed(run.id);
    expect(done?.method).toBe('functions.completeSuccess');
    const outputs = done?.args.outputs as Record<string, unknown>;
    expect(typeof outputs[WORKFLOW_STEP.scheduledAtOutput]).toBe('number');
    expect(String(outputs[WORKFLOW_STEP.outcomesOutput])).toMatch(
      /dbp_wf_one: scheduled[^\n]*\ndbp_wf_two: scheduled/,
    );
    expect(await h.bot.idle()).toBe(true);
    expect(scheduleCalls()).toHaveLength(2);
    expect(completionCalls(run.id)).toHaveLength(1);
    // Made with the execution's own token, never the workspace's.
    expect(completionCalls(run.id)[0]?.token).toBe(run.token);
    const post = h.slack
      .callsTo('chat.postMessage')
      .find((c) => JSON.stringify(c.args).includes('dbp_wf_one'));
    expect(JSON.stringify(post?.args)).toContain('Started by a workflow');
    const entries = (await audit()).filter((e) => e.policyId === 'dbp_wf_one');
    expect(entries[0]).toMatchObject({ outcome: 'scheduled', via: 'workflow', user: MEMBER });
    const record = await createRequestLog(h.bot.store.docs).get(workflowRequestId(TEAM, run.id));
    expect(record?.workflow?.completion).toEqual({ state: 'sent', outcome: 'completed' });
    // Sealed in the store, never in the clear.
    expect(JSON.stringify(record)).not.toContain(run.token);
  });

  test('the named person may not schedule: the step fails with the refusal, nothing called, told privately', async () => {
    await setAccess(true, 'off', h, 'admins');
    try {
      const run = await runStep(stepInputs('dbp_wf_not_allowed'));
      const done = await completed(run.id);
      expect(done?.method).toBe('functions.completeError');
      expect(String(done?.args.error)).toContain('only admins and owners may schedule');
      expect(await h.bot.idle()).toBe(true);
      expect(scheduleCalls()).toEqual([]);
      const note = h.slack.callsTo('chat.postEphemeral').at(-1);
      expect(note?.args.user).toBe(MEMBER);
      expect(String(note?.args.text)).toContain('Started by a workflow');
    } finally {
      await setAccess(true);
    }
  });

  test('the daily limit of the named person: the step over it fails, saying so', async () => {
    await setAccess(true, 'off', h, 'everyone', '1');
    h.slack.users.set('U0LIMIT01', { tz: 'UTC' });
    try {
      const first = await runStep(
        stepInputs('dbp_wf_limit_1', { [WORKFLOW_STEP.requesterInput]: 'U0LIMIT01' }),
      );
      expect((await completed(first.id))?.method).toBe('functions.completeSuccess');
      const second = await runStep(
        stepInputs('dbp_wf_limit_2', { [WORKFLOW_STEP.requesterInput]: 'U0LIMIT01' }),
      );
      const done = await completed(second.id);
      expect(done?.method).toBe('functions.completeError');
      expect(String(done?.args.error)).toMatch(/at most 1\b/);
      expect(scheduleCalls().filter((r) => JSON.stringify(r).includes('dbp_wf_limit_2'))).toEqual([]);
    } finally {
      await setAccess(true);
    }
  });

  test('Slack delivers the event twice: one request, one completion', async () => {
    await setAccess(true);
    const execution = newExecution();
    await runStep(stepInputs('dbp_wf_twice'), execution);
    await runStep(stepInputs('dbp_wf_twice'), execution);
    await completed(execution.id);
    expect(await h.bot.idle()).toBe(true);
    expect(scheduleCalls()).toHaveLength(1);
    expect(completionCalls(execution.id)).toHaveLength(1);
  });

  test('inputs that cannot be scheduled: completeError at once, in plain words', async () => {
    await setAccess(true);
    const run = await runStep(stepInputs('not a policy!', { [WORKFLOW_STEP.moveAtInput]: inMinutes(60) }));
    const done = await completed(run.id);
    expect(done?.method).toBe('functions.completeError');
    expect(String(done?.args.error)).toContain('policy ID');
    expect(scheduleCalls()).toEqual([]);
  });

  test('the emergency stop: completeError, nothing called', async () => {
    await setAccess(true);
    const before = h.slack.callsTo('response_url').length;
    await h.command({ text: 'freeze', user_id: ADMIN, response_url: h.slack.responseUrl() });
    await h.slack.waitFor('response_url', before + 1);
    try {
      const run = await runStep(stepInputs('dbp_wf_frozen'));
      const done = await completed(run.id);
      expect(done?.method).toBe('functions.completeError');
      expect(String(done?.args.error)).toMatch(/frozen|freeze/i);
      expect(scheduleCalls()).toEqual([]);
    } finally {
      const n = h.slack.callsTo('response_url').length;
      await h.command({ text: 'unfreeze', user_id: ADMIN, response_url: h.slack.responseUrl() });
      await h.slack.waitFor('response_url', n + 1);
    }
  });

  test('approvals on: completes when approved; fails when denied', async () => {
    await setAccess(true, 'admins');
    const approvedRun = await runStep(stepInputs('dbp_wf_approved'));
    const deniedRun = await runStep(stepInputs('dbp_wf_denied'));
    const approveOf = async (policyId: string) => {
      const post = (
        await h.slack.waitFor(
          (c: SlackCall) => c.method === 'chat.postMessage' && JSON.stringify(c.args).includes(policyId),
          1,
          20_000,
        )
      ).at(-1);
      expect(JSON.stringify(post?.args)).toContain('Started by a workflow');
      const blocks = (post?.args.blocks ?? []) as {
        type: string;
        elements?: { action_id: string; value: string }[];
      }[];
      const button = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === ACTIONS.approve);
      if (!button) throw new Error('no Approve button');
      return button.value;
    };
    const approveId = await approveOf('dbp_wf_approved');
    const denyId = await approveOf('dbp_wf_denied');
    expect(await h.bot.idle()).toBe(true);
    // Waiting for a decision: no completion yet.
    expect(completionCalls(approvedRun.id)).toEqual([]);
    await pressButton(h, ACTIONS.approve, approveId, ADMIN);
    const approved = await completed(approvedRun.id);
    expect(approved?.method).toBe('functions.completeSuccess');
    await pressButton(h, ACTIONS.deny, denyId, ADMIN);
    // Deny opens a form for an optional reason; submitting it decides.
    const form = (await h.slack.waitFor('views.open', 1)).at(-1);
    const { submitDenyReason } = await import('../helpers/approvals.js');
    const view = form?.args.view as { private_metadata: string };
    await submitDenyReason(h, view.private_metadata, ADMIN, 'not this one');
    const denied = await completed(deniedRun.id);
    expect(denied?.method).toBe('functions.completeError');
    expect(String(denied?.args.error)).toContain('denied');
    expect(scheduleCalls().filter((r) => JSON.stringify(r).includes('dbp_wf_denied'))).toEqual([]);
    await setAccess(true, 'off');
  });

  test('Slack no longer accepts the execution token: the request still finishes and the channel is told', async () => {
    await setAccess(true);
    const run = await runStep(stepInputs('dbp_wf_expired'), newExecution(), { revoked: true });
    await h.slack.waitFor(
      (c: SlackCall) =>
        c.method === 'chat.postMessage' && JSON.stringify(c.args).includes('was not told how it ended'),
      1,
      20_000,
    );
    expect(await h.bot.idle()).toBe(true);
    expect(scheduleCalls()).toHaveLength(1);
    expect(h.slack.executions.get(run.id)?.completed).toBeNull();
    const record = await createRequestLog(h.bot.store.docs).get(workflowRequestId(TEAM, run.id));
    expect(record?.state).toBe('done');
    expect(record?.workflow?.completion).toEqual({ state: 'sent', outcome: 'token_refused' });
    expect(h.logs.some((l) => l.includes('workflow_step_token_refused'))).toBe(true);
  });
});

describe('Workflow Builder step, approval expiry', () => {
  let e: Harness;
  beforeAll(async () => {
    // 0.0005 hours: 1.8 seconds, swept every 200 ms.
    e = await startHarness({ env: { APPROVAL_TTL_HOURS: '0.0005', REQUEST_SWEEP_MS: '200' } });
    await setWorkspaceToken(e);
  });
  afterAll(async () => {
    expect(e.logs.filter((line) => line.includes('wfexec-'))).toEqual([]);
    await e?.stop();
  });

  test('nobody decides in time: the step fails, saying the request expired', async () => {
    await setAccess(true, 'admins', e);
    const run = await runStep(stepInputs('dbp_wf_expiry'), newExecution(), {}, e);
    const done = await completed(run.id, e);
    expect(done?.method).toBe('functions.completeError');
    expect(String(done?.args.error)).toContain('expired');
    const record = await createRequestLog(e.bot.store.docs).get(workflowRequestId(TEAM, run.id));
    expect(record?.state).toBe('expired');
    expect(record?.workflow?.completion).toEqual({ state: 'sent', outcome: 'completed' });
  });
});
