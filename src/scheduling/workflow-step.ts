/**
 * The use case: the Workflow Builder step "Schedule disk backup policy deletion" (issue 21, item 4).
 * A workflow's author maps who asks, so the workspace must allow workflow requests first
 * (`/katapult access`). Then the execution is taken in exactly like the modal's submission
 * (submit-schedule.ts: the emergency stop, approvals' channel, the daily limit, the request record
 * with its idempotency key, the execution ID and the execution's token sealed), and the rest runs from
 * the record: the same checks for the named person before every Katapult call, the same approvals.
 * The record completes the step from its end, once (run-request.ts, `completeStep`); a refusal
 * before anything is recorded fails the step at once, in plain words.
 */
import type { AccessPolicies } from '../access/access-policy.js';
import { type AuditRecorder, recordEachPolicy } from '../audit/record.js';
import { within } from '../deadline.js';
import { type AppLogger, errorText } from '../log.js';
import { STORE_DOWN_INLINE } from '../messages/submission.js';
import { plainWords, WORKFLOW } from '../messages/workflow.js';
import type { SubmitSchedule } from './submit-schedule.js';

/** How long the workspace's access policy may take to read (Slack wants the event acked within 3 s). */
const POLICY_READ_MS = 1_000;

/** The request record's id for an execution: one record per execution, whatever Slack retries. */
export const workflowRequestId = (workspaceId: string, executionId: string) =>
  `${workspaceId}:${workflowViewId(executionId)}`;
const workflowViewId = (executionId: string) => `wf:${executionId}`;

/** What a sealed execution token is bound to: its record, and what it is (never opens as another secret). */
export const stepTokenAad = (recordId: string) => `workflow-step-token:${recordId}`;

export interface WorkflowStepDeps {
  command: string;
  access: Pick<AccessPolicies, 'get'>;
  submitSchedule: SubmitSchedule;
  /** Seals the execution's token for the record, bound to `aad` (stepTokenAad of the record's id). */
  seal(token: string, aad: string): string;
  record: AuditRecorder;
  logger: AppLogger;
  metrics: { workflowStep(outcome: string): void };
  now: () => number;
}

/** One execution of the step, its inputs checked by the listener. */
export interface WorkflowStepInput {
  workspaceId: string;
  executionId: string;
  /** The execution's `bot_access_token`: sealed into the record, never logged. */
  token: string;
  /** Who asks, as the workflow's author mapped it. */
  userId: string;
  channelId: string;
  botUserId: string | null;
  policyIds: string[];
  atSeconds: number;
  retryNum: number | null;
}

/** The Slack side of one execution. */
export interface WorkflowStepSurface {
  /** Acknowledges the event (after the record is written, or the refusal decided). */
  ack(): Promise<void>;
  /** Fails the step now with this text (Slack shows it to the person who ran the workflow). */
  fail(error: string): Promise<void>;
  /** The named person's zone, for a refusal that names a time. */
  zone(): Promise<string | null>;
}

export type StartWorkflowStep = (input: WorkflowStepInput, surface: WorkflowStepSurface) => Promise<void>;

export function createStartWorkflowStep(deps: WorkflowStepDeps): StartWorkflowStep {
  return async (input, surface) => {
    const id = workflowRequestId(input.workspaceId, input.executionId);
    const allowed = await workflowsAllowed(deps, input.workspaceId);
    if (allowed !== true) {
      await surface.ack();
      deps.metrics.workflowStep(allowed === 'off' ? 'refused' : 'store_error');
      await surface.fail(plainWords(allowed === 'off' ? WORKFLOW.off(deps.command) : STORE_DOWN_INLINE));
      if (allowed === 'off') await auditRefusal(deps, input, 'refused:workflows_off');
      return;
    }
    let refusal: string | null = null;
    await deps.submitSchedule(
      {
        workspaceId: input.workspaceId,
        userId: input.userId,
        channelId: input.channelId,
        viewId: workflowViewId(input.executionId),
        botUserId: input.botUserId,
        policyIds: input.policyIds,
        atSeconds: input.atSeconds,
        retryNum: input.retryNum,
        workflow: { executionId: input.executionId, sealedToken: deps.seal(input.token, stepTokenAad(id)) },
      },
      {
        zone: surface.zone,
        async answer(text) {
          refusal = text;
          await surface.ack();
        },
      },
    );
    deps.metrics.workflowStep(refusal === null ? 'accepted' : 'refused');
    deps.logger.event('info', 'workflow_step_received', {
      request: id,
      accepted: refusal === null,
      policies: input.policyIds.length,
    });
    if (refusal !== null) await surface.fail(plainWords(refusal));
  };
}

/** Whether the workspace allows workflow requests: true, 'off', or 'unknown' (the store did not answer). */
async function workflowsAllowed(
  deps: WorkflowStepDeps,
  workspaceId: string,
): Promise<true | 'off' | 'unknown'> {
  try {
    const policy = await within(deps.access.get(workspaceId), POLICY_READ_MS, null);
    if (!policy) return 'unknown';
    return policy.allowWorkflows === true ? true : 'off';
  } catch (error) {
    deps.logger.event('error', 'request_not_recorded', { stage: 'workflow_access', error: errorText(error) });
    return 'unknown';
  }
}

/** One audit entry per policy of a refused execution, marked as started by a workflow. */
function auditRefusal(deps: WorkflowStepDeps, input: WorkflowStepInput, outcome: string): Promise<void> {
  return recordEachPolicy(deps.record, deps.now, input.policyIds, {
    workspace: input.workspaceId,
    user: input.userId,
    channel: input.channelId,
    action: 'schedule',
    requestedAt: input.atSeconds,
    outcome,
    retryNum: input.retryNum,
    via: 'workflow',
  });
}
