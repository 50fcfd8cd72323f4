/**
 * Submission of the scheduling modal: validate before any I/O (inline errors), close the modal,
 * then claim the submission (a duplicate delivery does nothing), check access, schedule with
 * Katapult, post the outcome and audit it. Work after the ack is tracked, so a shutdown waits for it.
 */
import type { App } from '@slack/bolt';
import { DateTime } from 'luxon';
import { explain } from '../../../messages/explain.js';
import { failureCode } from '../../../scheduling/katapult-call.js';
import { checkPolicyId } from '../../../scheduling/policy-id.js';
import { scheduleDeletion } from '../../../scheduling/schedule-deletion.js';
import { checkDeletionTime } from '../../../time/when.js';
import { checkAccess } from '../../access.js';
import { refusalText } from '../../blocks/access.js';
import { failureMessage, scheduledMessage } from '../../blocks/messages.js';
import { decodeMetadata } from '../../blocks/schedule-modal.js';
import { deliver, tellPrivately } from '../../deliver.js';
import { followupsFit, replaceFollowups } from '../../followups.js';
import { SCHEDULE_VIEW } from '../../ids.js';
import { workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';

/** How long a submission's idempotency key is kept: far longer than Slack retries or a double click. */
export const SUBMISSION_CLAIM_TTL_MS = 24 * 60 * 60 * 1000;

const STORE_DOWN = 'The bot could not use its storage, so nothing was done. Try again in a moment.';

export function registerScheduleSubmission(app: App, deps: ListenerDeps): void {
  app.view(SCHEDULE_VIEW.callbackId, async ({ ack, body, view, client, context }) => {
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
      await ack({ response_action: 'errors', errors });
      return;
    }

    // Everything past validation happens after the ack, so Slack's 3 seconds are never at risk and
    // the modal closes at once. Whatever happens next reaches the user as a message.
    await ack();
    const userId = body.user.id;
    const retryNum = context.retryNum ?? null;
    const tell = (text: string) =>
      tellPrivately(client, deps.logger, {
        channelId: meta.channelId,
        userId,
        text,
      });

    let first: boolean;
    try {
      first = await deps.claims.claim(`submission:${workspaceId}:${view.id}`, SUBMISSION_CLAIM_TTL_MS);
    } catch (error) {
      deps.logger.event('error', 'claim_failed', {
        error: error instanceof Error ? error.message : String(error),
      });
      await tell(`:warning: ${STORE_DOWN}`);
      return;
    }
    if (!first) {
      // Slack retried, the user double-clicked, or another replica has it: it is being handled.
      deps.logger.event('info', 'duplicate_submission', {
        workspace: workspaceId,
        user: userId,
        view: view.id,
        retry_num: retryNum,
      });
      return;
    }

    const access = await checkAccess(deps, client, { workspaceId, userId, channelId: meta.channelId });
    const audit = {
      at: deps.now(),
      workspace: workspaceId,
      user: userId,
      channel: meta.channelId,
      action: 'schedule' as const,
      policyId: policy.policyId,
      requestedAt: time.atSeconds,
      // Cheap tokens only: a zone-name token (ZZZZ) builds an Intl formatter on every call.
      requestedLocal: `${DateTime.fromSeconds(time.atSeconds, { zone: access.profile?.tz ?? 'utc' }).toFormat('yyyy-LL-dd HH:mm ZZ')} ${access.profile?.tz ?? 'UTC'}`,
      retryNum,
    };
    if (!access.allowed) {
      await tell(refusalText(access.reason, deps.command));
      await deps.record({
        ...audit,
        outcome: `refused:${access.reason}`,
        autoMoveToTrashAt: null,
        requestId: null,
        delivery: null,
      });
      return;
    }

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
          scheduled: result.value,
          followupsHeld: followupsFit(
            result.value.autoMoveToTrashAt ?? time.atSeconds,
            Math.floor(deps.now() / 1000),
          ),
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
    if (result.ok && delivery !== 'lost') {
      await replaceFollowups(client, deps, {
        workspaceId,
        policyId: policy.policyId,
        channelId: delivery === 'channel' ? meta.channelId : userId,
        at: result.value.autoMoveToTrashAt ?? time.atSeconds,
        scheduledBy: userId,
        target: result.value.target,
      });
    }
    await deps.record({
      ...audit,
      outcome: result.ok ? 'scheduled' : failureCode(result.failure),
      autoMoveToTrashAt: result.ok ? result.value.autoMoveToTrashAt : null,
      requestId: result.ok
        ? result.value.requestId
        : 'requestId' in result.failure
          ? result.failure.requestId
          : null,
      delivery,
    });
  });
}
