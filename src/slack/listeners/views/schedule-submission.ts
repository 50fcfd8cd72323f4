/**
 * Submission of the scheduling modal: validate before any I/O (inline errors), record the request
 * in the store's request log (with its idempotency key) before the ack, then ack and hand it to
 * the worker. A store that cannot record it in time gets an inline error: nothing is acked that is
 * not recorded. The scheduling itself (access, Katapult, post, follow-ups, audit) runs from the
 * record in src/scheduling/run-request.ts, so a crash after the ack loses nothing.
 */
import type { App } from '@slack/bolt';
import { checkPolicyId } from '../../../scheduling/policy-id.js';
import { checkDeletionTime } from '../../../time/when.js';
import { decodeMetadata } from '../../blocks/schedule-modal.js';
import { SCHEDULE_VIEW } from '../../ids.js';
import { submissionGate } from '../../submission-gate.js';
import { workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';

export const STORE_DOWN_INLINE =
  'The bot could not record this request (its storage is not answering), so nothing was done. Try again in a moment.';

export function registerScheduleSubmission(app: App, deps: ListenerDeps): void {
  app.view(SCHEDULE_VIEW.callbackId, async ({ ack, body, view, context }) => {
    const values = view.state.values;
    const typed = values[SCHEDULE_VIEW.policyBlock]?.[SCHEDULE_VIEW.policyAction]?.value?.trim();
    const picked = values[SCHEDULE_VIEW.pickBlock]?.[SCHEDULE_VIEW.pickAction]?.selected_option?.value;
    // Typed or picked; both, and different, is ambiguous for a destructive action: ask.
    const policy =
      typed && picked && typed !== picked
        ? {
            ok: false as const,
            reason: `You typed ${typed.slice(0, 64)} but picked ${picked.slice(0, 64)} below. Clear one of them.`,
          }
        : checkPolicyId(typed || picked);
    const when = values[SCHEDULE_VIEW.whenBlock]?.[SCHEDULE_VIEW.whenAction]?.selected_date_time;
    const time =
      typeof when === 'number'
        ? checkDeletionTime(when, deps.now())
        : { ok: false as const, reason: 'Pick the date and time for the move to the trash.' };
    const meta = decodeMetadata(deps.metadata.open(view.private_metadata));
    const workspaceId = workspaceIdOf(context);

    const errors: Record<string, string> = {};
    if (!policy.ok) errors[SCHEDULE_VIEW.policyBlock] = policy.reason;
    if (!time.ok) errors[SCHEDULE_VIEW.whenBlock] = time.reason;
    if (!meta || !workspaceId) {
      errors[SCHEDULE_VIEW.policyBlock] =
        'This form does not say which channel it came from. Close it and run the command again in the channel.';
    }
    if (!policy.ok || !time.ok || !meta || !workspaceId) {
      deps.metrics.submission('invalid');
      await ack({ response_action: 'errors', errors });
      return;
    }

    // The emergency stop and, with approvals, a channel approvers can see: refused inline.
    const gate = await submissionGate(deps, {
      workspaceId,
      userId: body.user.id,
      channelId: meta.channelId,
      policyIds: [policy.policyId],
      atSeconds: time.atSeconds,
    });
    if (!gate.ok) {
      await ack({
        response_action: 'errors',
        errors: { [SCHEDULE_VIEW.policyBlock]: gate.text ?? STORE_DOWN_INLINE },
      });
      await gate.afterAck?.();
      return;
    }

    let accepted: 'accepted' | 'duplicate';
    const id = `${workspaceId}:${view.id}`;
    try {
      accepted = await deps.intake.accept({
        id,
        workspace: workspaceId,
        user: body.user.id,
        channel: meta.channelId,
        botUserId: context.botUserId ?? null,
        atSeconds: time.atSeconds,
        createdAt: deps.now(),
        retryNum: context.retryNum ?? null,
        state: 'pending',
        attempts: 0,
        policies: [{ policyId: policy.policyId }],
        ...(gate.needsApproval ? { approval: { expiresAt: deps.now() + deps.approvals.ttlMs } } : {}),
      });
    } catch (error) {
      deps.logger.event('error', 'request_not_recorded', {
        error: error instanceof Error ? error.message : String(error),
      });
      deps.metrics.submission('store_error');
      await ack({ response_action: 'errors', errors: { [SCHEDULE_VIEW.policyBlock]: STORE_DOWN_INLINE } });
      return;
    }
    await ack();
    if (accepted === 'duplicate') {
      deps.metrics.submission('duplicate');
      // Slack retried, the user double-clicked, or another replica has it: it is being handled.
      deps.logger.event('info', 'duplicate_submission', {
        workspace: workspaceId,
        user: body.user.id,
        view: view.id,
        retry_num: context.retryNum ?? null,
      });
      return;
    }
    deps.intake.run(id);
  });
}
