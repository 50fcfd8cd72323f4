/**
 * Approve and Deny on a request for approval. A button carries only the request record's ID: who
 * may decide, whether the request still waits, and what runs all come from the store and a fresh
 * `users.info` (src/scheduling/approvals.ts). Deny opens a modal for an optional reason first.
 */
import type { BlockButtonAction } from '@slack/bolt';
import { APPROVALS } from '../../../messages/approvals.js';
import { FORMS } from '../../../messages/forms.js';
import { denyModal, REASON_MAX } from '../../blocks/approval.js';
import { clip, noticeModal } from '../../blocks/common.js';
import { ACTIONS, DENY_VIEW } from '../../ids.js';
import { tellPrivately } from '../../outbound/deliver.js';
import { openView } from '../../outbound/modals.js';
import { METADATA_MAX_AGE_HOURS, withSignedMetadata } from '../../platform/signed-metadata.js';
import { slackErrorText, workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';
import type { ListenerApp } from '../router.js';

const notice = (text: string) => noticeModal(DENY_VIEW.callbackId, APPROVALS.denyTitle, text);

export function registerApprovalButtons(app: ListenerApp, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTIONS.approve, async ({ ack, body, action, client, context }) => {
    await ack();
    const workspaceId = workspaceIdOf(context);
    if (!workspaceId || !action.value) return;
    const result = await deps.decideApproval({
      workspaceId,
      id: action.value,
      userId: body.user.id,
      decision: { approve: true },
    });
    deps.logger.event(result.ok ? 'info' : 'warn', 'approval_click', {
      user: body.user.id,
      decision: 'approve',
      outcome: result.ok ? 'approved' : result.reason,
    });
    if (!result.ok) {
      await tellPrivately(client, deps.logger, {
        channelId: body.channel?.id ?? body.user.id,
        userId: body.user.id,
        text: APPROVALS.refusal(result.reason, deps.command),
      });
    }
  });

  app.action<BlockButtonAction>(ACTIONS.deny, async ({ ack, body, action, client, context }) => {
    await ack();
    const workspaceId = workspaceIdOf(context);
    if (!workspaceId || !action.value) return;
    // The modal opens first (its trigger lasts 3 s); the decision is checked when it is submitted.
    const form = denyModal(JSON.stringify({ r: action.value, c: body.channel?.id ?? null }));
    await openView(
      client,
      deps,
      body.trigger_id,
      withSignedMetadata(deps.metadata, form, workspaceId, deps.now()),
    );
  });

  app.view(DENY_VIEW.callbackId, async ({ ack, body, view, client, context }) => {
    const workspaceId = workspaceIdOf(context);
    const binding = { form: DENY_VIEW.callbackId, workspaceId: workspaceId ?? '' };
    const opened = deps.metadata.open(view.private_metadata, binding, deps.now());
    if (!opened.ok && opened.why === 'too_old') {
      const errors = { [DENY_VIEW.reasonBlock]: FORMS.denyTooOld(METADATA_MAX_AGE_HOURS) };
      await ack({ response_action: 'errors', errors });
      return;
    }
    const meta = readMetadata(opened.ok ? opened.payload : undefined);
    const id = typeof meta?.r === 'string' ? meta.r : null;
    const channelId = typeof meta?.c === 'string' ? meta.c : body.user.id;
    if (!workspaceId || !id) {
      await ack({ response_action: 'update', view: notice(APPROVALS.refusal('not_found', deps.command)) });
      return;
    }
    const typed = view.state?.values?.[DENY_VIEW.reasonBlock]?.[DENY_VIEW.reasonAction]?.value?.trim();
    // Cut as every text is (never inside a character): Slack's max_length may count differently.
    const reason = typed ? clip(typed, REASON_MAX) : undefined;
    await ack({ response_action: 'update', view: notice(':hourglass_flowing_sand: Denying…') });
    const result = await deps.decideApproval({
      workspaceId,
      id,
      userId: body.user.id,
      decision: { approve: false, ...(reason ? { reason } : {}) },
    });
    deps.logger.event(result.ok ? 'info' : 'warn', 'approval_click', {
      user: body.user.id,
      decision: 'deny',
      outcome: result.ok ? 'denied' : result.reason,
    });
    const text = result.ok
      ? APPROVALS.deniedBy(body.user.id, reason)
      : APPROVALS.refusal(result.reason, deps.command);
    await client.views.update({ view_id: view.id, view: notice(text) }).catch(async (error: unknown) => {
      deps.logger.event('warn', 'views_update_failed', {
        slack_error: slackErrorText(error),
      });
      await tellPrivately(client, deps.logger, { channelId, userId: body.user.id, text });
    });
  });
}

function readMetadata(raw: string | undefined): { r?: unknown; c?: unknown } | null {
  try {
    const parsed: unknown = JSON.parse(raw ?? 'null');
    return typeof parsed === 'object' && parsed !== null ? parsed : null;
  } catch {
    return null;
  }
}
