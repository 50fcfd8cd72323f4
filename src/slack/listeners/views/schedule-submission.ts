/**
 * Submission of the scheduling modal: validate before any I/O (inline errors), close the modal,
 * then schedule with Katapult and post the outcome in the channel.
 */
import type { App } from '@slack/bolt';
import { explain } from '../../../messages/explain.js';
import { checkPolicyId } from '../../../scheduling/policy-id.js';
import { scheduleDeletion } from '../../../scheduling/schedule-deletion.js';
import { checkDeletionTime } from '../../../time/when.js';
import { failureMessage, scheduledMessage } from '../../blocks/messages.js';
import { decodeMetadata } from '../../blocks/schedule-modal.js';
import { deliver } from '../../deliver.js';
import { SCHEDULE_VIEW } from '../../ids.js';
import { workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';

export function registerScheduleSubmission(app: App, deps: ListenerDeps): void {
  app.view(SCHEDULE_VIEW.callbackId, async ({ ack, body, view, client, context }) => {
    const values = view.state.values;
    const policy = checkPolicyId(values[SCHEDULE_VIEW.policyBlock]?.[SCHEDULE_VIEW.policyAction]?.value);
    const picked = values[SCHEDULE_VIEW.whenBlock]?.[SCHEDULE_VIEW.whenAction]?.selected_date_time;
    const time =
      typeof picked === 'number'
        ? checkDeletionTime(picked, deps.now())
        : { ok: false as const, reason: 'Pick the date and time for the move to the trash.' };
    const meta = decodeMetadata(view.private_metadata);
    const workspaceId = workspaceIdOf(context);

    const errors: Record<string, string> = {};
    if (!policy.ok) errors[SCHEDULE_VIEW.policyBlock] = policy.reason;
    if (!time.ok) errors[SCHEDULE_VIEW.whenBlock] = time.reason;
    if (!meta || !workspaceId) {
      errors[SCHEDULE_VIEW.policyBlock] =
        'This form does not say which channel it came from. Close it and run the command again in the channel.';
    }
    if (!policy.ok || !time.ok || !meta || !workspaceId) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    await ack();

    const userId = body.user.id;
    const result = await scheduleDeletion(deps, {
      workspaceId,
      policyId: policy.policyId,
      atSeconds: time.atSeconds,
    });
    const message = result.ok
      ? scheduledMessage({
          userId,
          policyId: policy.policyId,
          requestedAt: time.atSeconds,
          scheduled: result.scheduled,
        })
      : failureMessage({
          userId,
          policyId: policy.policyId,
          explanation: explain(result.failure, { command: deps.command, operation: 'schedule' }),
        });
    const delivery = await deliver(client, deps.logger, {
      channelId: meta.channelId,
      userId,
      botUserId: context.botUserId ?? null,
      message,
    });
    deps.logger.event(result.ok ? 'info' : 'warn', 'schedule_attempt', {
      workspace: workspaceId,
      user: userId,
      channel: meta.channelId,
      policy_id: policy.policyId,
      requested_at: time.atSeconds,
      outcome: result.ok
        ? 'scheduled'
        : result.failure.kind === 'api'
          ? result.failure.code
          : result.failure.kind,
      auto_move_to_trash_at: result.ok ? result.scheduled.autoMoveToTrashAt : null,
      request_id: result.ok
        ? result.scheduled.requestId
        : 'requestId' in result.failure
          ? result.failure.requestId
          : null,
      delivery,
    });
  });
}
