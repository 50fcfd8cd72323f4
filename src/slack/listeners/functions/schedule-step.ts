/**
 * The Workflow Builder step "Schedule disk backup policy deletion" (`function_executed`): its inputs
 * checked before any I/O (a step that cannot be scheduled fails at once, in plain words), then the
 * use case (src/scheduling/workflow-step.ts) records the request before the event is acknowledged,
 * or refuses it. The step is completed from the request's end, by the request's worker.
 */
import { WORKFLOW } from '../../../messages/workflow.js';
import { choosePolicies } from '../../../scheduling/policy-id.js';
import { checkDeletionTime } from '../../../time/local.js';
import { WORKFLOW_STEP } from '../../ids.js';
import { slackErrorText, workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';
import type { ListenerApp } from '../router.js';

const USER = /^[UW][A-Z0-9]{2,}$/;
const CHANNEL = /^[CG][A-Z0-9]{2,}$/;

type Checked =
  | { ok: true; policyIds: string[]; atSeconds: number; userId: string; channelId: string }
  | { ok: false; error: string };

/** The step's inputs as Workflow Builder maps them: IDs separated by spaces, commas or lines; a timestamp. */
export function checkStepInputs(inputs: Record<string, unknown>, nowMs: number): Checked {
  const ids = inputs[WORKFLOW_STEP.policyIdsInput];
  const rawAt = inputs[WORKFLOW_STEP.moveAtInput];
  const user = inputs[WORKFLOW_STEP.requesterInput];
  const channel = inputs[WORKFLOW_STEP.channelInput];
  if (typeof user !== 'string' || !USER.test(user))
    return { ok: false, error: WORKFLOW.missingInput('person who asks') };
  if (typeof channel !== 'string' || !CHANNEL.test(channel))
    return { ok: false, error: WORKFLOW.missingInput('channel (a public or private channel)') };
  const list = typeof ids === 'string' ? ids.split(/[\s,;]+/).filter((id) => id !== '') : [];
  const policies = list.length === 1 ? choosePolicies(list[0], []) : choosePolicies('', list);
  if (!policies.ok) return { ok: false, error: WORKFLOW.badInput(policies.reason) };
  const at =
    typeof rawAt === 'number'
      ? rawAt
      : typeof rawAt === 'string' && /^\d+$/.test(rawAt)
        ? Number(rawAt)
        : NaN;
  if (Number.isNaN(at)) return { ok: false, error: WORKFLOW.missingInput('time for the move to the trash') };
  const time = checkDeletionTime(at, nowMs);
  if (!time.ok) return { ok: false, error: WORKFLOW.badInput(time.reason) };
  return {
    ok: true,
    policyIds: policies.policyIds,
    atSeconds: time.atSeconds,
    userId: user,
    channelId: channel,
  };
}

export function registerScheduleStep(app: ListenerApp, deps: ListenerDeps): void {
  app.function(
    WORKFLOW_STEP.callbackId,
    { autoAcknowledge: false },
    async ({ ack, fail, event, context }) => {
      // Fails the step now; Slack refusing that (a retried delivery already failed it) is only logged.
      const failStep = (error: string) =>
        fail({ error }).then(
          () => undefined,
          (e: unknown) =>
            deps.logger.event('warn', 'workflow_step_not_completed', {
              execution: event.function_execution_id,
              slack_error: slackErrorText(e),
            }),
        );
      const workspaceId = workspaceIdOf(context);
      const token = event.bot_access_token;
      const checked = checkStepInputs(event.inputs ?? {}, deps.now());
      if (!checked.ok || !workspaceId || typeof token !== 'string' || !event.function_execution_id) {
        await ack();
        deps.metrics.workflowStep('invalid');
        await failStep(checked.ok ? WORKFLOW.missingInput('workspace') : checked.error);
        return;
      }
      await deps.startWorkflowStep(
        {
          workspaceId,
          executionId: event.function_execution_id,
          token,
          userId: checked.userId,
          channelId: checked.channelId,
          botUserId: context.botUserId ?? null,
          policyIds: checked.policyIds,
          atSeconds: checked.atSeconds,
          retryNum: context.retryNum ?? null,
        },
        {
          ack: () => ack(),
          fail: failStep,
          zone: async () => deps.users.cached(workspaceId, checked.userId)?.tz ?? null,
        },
      );
    },
  );
}
