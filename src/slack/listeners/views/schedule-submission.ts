/**
 * Submission of the scheduling modal: validate before any I/O (inline errors), record the request
 * in the store's request log (with its idempotency key) before the ack, then ack and hand it to
 * the worker. A store that cannot record it in time gets an inline error: nothing is acked that is
 * not recorded. The scheduling itself (access, Katapult, post, follow-ups, audit) runs from the
 * record in src/scheduling/run-request.ts, so a crash after the ack loses nothing.
 */

import type { App, webApi } from '@slack/bolt';
import { dailyLimitOf } from '../../../access/access-policy.js';
import { recordEachPolicy } from '../../../audit/record.js';
import { errorText } from '../../../log.js';
import { dailyLimitRefusal, STORE_DOWN_INLINE } from '../../../messages/submission.js';
import type { Reservation } from '../../../scheduling/daily-limit.js';
import { choosePolicies } from '../../../scheduling/policy-id.js';
import { checkDeletionTime } from '../../../time/local.js';
import { decodeMetadata } from '../../blocks/schedule-modal.js';
import { SCHEDULE_VIEW } from '../../ids.js';
import { submissionGate } from '../../submission-gate.js';
import { workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';

/** How long the daily-limit reservation may take before the submission is refused as store trouble. */
const RESERVE_BUDGET_MS = 1_000;
/** How long a refusal waits for the person's zone (Slack wants the answer within 3 s). */
const ZONE_BUDGET_MS = 700;

export function registerScheduleSubmission(app: App, deps: ListenerDeps): void {
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

    const id = `${workspaceId}:${view.id}`;
    const policyIds = policy.policyIds;
    const errorBlock = picked.length > 0 ? SCHEDULE_VIEW.pickBlock : SCHEDULE_VIEW.policyBlock;
    // The emergency stop and, with approvals, a channel approvers can see: refused inline.
    const gate = await submissionGate(deps, {
      workspaceId,
      userId: body.user.id,
      channelId: meta.channelId,
      policyIds,
      atSeconds: time.atSeconds,
    });
    if (!gate.ok) {
      await ack({ response_action: 'errors', errors: { [errorBlock]: gate.text ?? STORE_DOWN_INLINE } });
      await gate.afterAck?.();
      return;
    }
    // The per-person daily limit: the policies are reserved before anything is recorded or called.
    const who = { workspace: workspaceId, user: body.user.id, requestId: id, policyIds };
    let reserved = false;
    try {
      const limit = dailyLimitOf(gate.policy, deps.maxPerUserPerDay);
      const reservation: Reservation =
        limit === null ? { ok: true } : await reserveInTime(deps, { ...who, limit });
      if (!reservation.ok && limit !== null) {
        deps.metrics.submission('refused');
        await ack({
          response_action: 'errors',
          errors: {
            [errorBlock]: dailyLimitRefusal(
              limit,
              reservation,
              policyIds.length,
              await zoneOf(deps, client, workspaceId, body.user.id),
            ),
          },
        });
        await auditRefusal(
          deps,
          { ...who, channel: meta.channelId, atSeconds: time.atSeconds },
          context.retryNum,
        );
        return;
      }
      reserved = limit !== null;
    } catch (error) {
      deps.logger.event('error', 'request_not_recorded', {
        stage: 'daily_limit',
        error: errorText(error),
      });
      deps.metrics.submission('store_error');
      await ack({ response_action: 'errors', errors: { [errorBlock]: STORE_DOWN_INLINE } });
      return;
    }

    let accepted: 'accepted' | 'duplicate';
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
        policies: policyIds.map((policyId) => ({ policyId })),
        ...(gate.needsApproval ? { approval: { expiresAt: deps.now() + deps.approvals.ttlMs } } : {}),
      });
    } catch (error) {
      deps.logger.event('error', 'request_not_recorded', {
        error: errorText(error),
      });
      // Nothing was recorded, so nothing will be scheduled: give the places back (best effort).
      if (reserved) await deps.dailyLimit.release({ ...who, unrecorded: true }).catch(() => undefined);
      deps.metrics.submission('store_error');
      await ack({ response_action: 'errors', errors: { [errorBlock]: STORE_DOWN_INLINE } });
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

/**
 * Reserves within RESERVE_BUDGET_MS, leaving the rest of Slack's 3 s to the intake; a reservation
 * that lands later is given back, since the person is told nothing was done.
 */
async function reserveInTime(
  deps: ListenerDeps,
  input: Parameters<ListenerDeps['dailyLimit']['reserve']>[0],
): Promise<Reservation> {
  const reserving = deps.dailyLimit.reserve(input);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), RESERVE_BUDGET_MS);
  });
  try {
    const outcome = await Promise.race([reserving, late]);
    if (outcome !== 'late') return outcome;
    reserving
      .then((r) => (r.ok ? deps.dailyLimit.release({ ...input, unrecorded: true }) : undefined))
      .catch(() => undefined);
    throw new Error(`the daily limit was not checked within ${RESERVE_BUDGET_MS} ms`);
  } finally {
    clearTimeout(timer);
  }
}

/** The person's zone for a refusal written before the ack: cached, else asked briefly, else UTC. */
async function zoneOf(
  deps: ListenerDeps,
  client: webApi.WebClient,
  workspaceId: string,
  userId: string,
): Promise<string | null> {
  const cached = deps.users.cached(workspaceId, userId);
  if (cached) return cached.tz;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ZONE_BUDGET_MS);
  });
  const asked = deps.users
    .lookup(client, workspaceId, userId)
    .then((p) => p.tz)
    .catch(() => null);
  try {
    return await Promise.race([asked, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function auditRefusal(
  deps: ListenerDeps,
  input: { workspace: string; user: string; channel: string; policyIds: string[]; atSeconds: number },
  retryNum: number | undefined,
): Promise<void> {
  await recordEachPolicy(deps.record, deps.now, input.policyIds, {
    workspace: input.workspace,
    user: input.user,
    channel: input.channel,
    action: 'schedule',
    requestedAt: input.atSeconds,
    outcome: 'refused:daily_limit',
    retryNum: retryNum ?? null,
  });
}
