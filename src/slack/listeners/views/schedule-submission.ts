/**
 * Submission of the scheduling modal: validate before any I/O (inline errors), then the use case
 * (src/scheduling/submit-schedule.ts) records the request before Slack gets its answer, or refuses
 * it inline: nothing is acked that is not recorded. The scheduling itself runs from the record.
 */
import type { webApi } from '@slack/bolt';
import { FORMS } from '../../../messages/forms.js';
import { choosePolicies } from '../../../scheduling/policy-id.js';
import { checkDeletionTime } from '../../../time/local.js';
import { chosenChannel, readScheduleMetadata } from '../../blocks/schedule-modal.js';
import { SCHEDULE_VIEW } from '../../ids.js';
import { METADATA_MAX_AGE_HOURS } from '../../platform/signed-metadata.js';
import { workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';
import type { ListenerApp } from '../router.js';

export function registerScheduleSubmission(app: ListenerApp, deps: ListenerDeps): void {
  app.view(SCHEDULE_VIEW.callbackId, async ({ ack, body, view, context, client }) => {
    // Slack always sends the state; a payload without it gets the form's own errors, not a crash.
    const values = view.state?.values ?? {};
    const typed = values[SCHEDULE_VIEW.policyBlock]?.[SCHEDULE_VIEW.policyAction]?.value;
    const pick = values[SCHEDULE_VIEW.pickBlock]?.[SCHEDULE_VIEW.pickAction];
    // Several picked (multi_external_select), or one from a modal opened before the picker took several.
    const picked = [
      ...(pick?.selected_options ?? []),
      ...(pick?.selected_option ? [pick.selected_option] : []),
    ]
      .map((o) => o.value)
      .filter((v): v is string => typeof v === 'string');
    const policy = choosePolicies(typed, picked);
    const when = values[SCHEDULE_VIEW.whenBlock]?.[SCHEDULE_VIEW.whenAction]?.selected_date_time;
    const time =
      typeof when === 'number'
        ? checkDeletionTime(when, deps.now())
        : { ok: false as const, reason: 'Pick the date and time for the move to the trash.' };
    const workspaceId = workspaceIdOf(context);
    // Signed for this form, this workspace, and not too old: else the form must be opened again.
    const read = readScheduleMetadata(deps, view.private_metadata, workspaceId);

    // The global shortcut's form names the channel in its picker.
    const channelId = read.ok ? chosenChannel(read.meta, values) : null;

    const errors: Record<string, string> = {};
    if (!policy.ok) errors[SCHEDULE_VIEW.policyBlock] = policy.reason;
    if (!time.ok) errors[SCHEDULE_VIEW.whenBlock] = time.reason;
    if (read.ok && !channelId) errors[SCHEDULE_VIEW.channelBlock] = FORMS.pickChannel;
    if (!read.ok) {
      errors[SCHEDULE_VIEW.policyBlock] = FORMS.schedule(read.why, METADATA_MAX_AGE_HOURS, deps.command);
    }
    if (!policy.ok || !time.ok || !read.ok || !workspaceId || !channelId) {
      deps.metrics.submission('invalid');
      await ack({ response_action: 'errors', errors });
      return;
    }

    const userId = body.user.id;
    const errorBlock = picked.length > 0 ? SCHEDULE_VIEW.pickBlock : SCHEDULE_VIEW.policyBlock;
    await deps.submitSchedule(
      {
        workspaceId,
        userId,
        channelId,
        ...(read.meta.threadTs ? { threadTs: read.meta.threadTs } : {}),
        viewId: view.id,
        botUserId: context.botUserId ?? null,
        policyIds: policy.policyIds,
        atSeconds: time.atSeconds,
        retryNum: context.retryNum ?? null,
      },
      {
        zone: () => zoneOf(deps, client, workspaceId, userId),
        answer: (refusal) =>
          refusal === null ? ack() : ack({ response_action: 'errors', errors: { [errorBlock]: refusal } }),
      },
    );
    // The picker's channel is the global shortcut's next default (after Slack has its answer).
    if (read.meta.channelId === null) await deps.lastChannel?.remember(workspaceId, userId, channelId);
  });
}

/** The person's zone for a refusal written before the ack: cached, else asked (the use case bounds the wait). */
async function zoneOf(
  deps: ListenerDeps,
  client: webApi.WebClient,
  workspaceId: string,
  userId: string,
): Promise<string | null> {
  const cached = deps.users.cached(workspaceId, userId);
  if (cached) return cached.tz;
  return deps.users
    .lookup(client, workspaceId, userId)
    .then((p) => p.tz)
    .catch(() => null);
}
