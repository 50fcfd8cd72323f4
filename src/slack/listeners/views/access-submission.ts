/** Submission of the admin access modal: check the submitter is an admin, save, audit. */
import type { App } from '@slack/bolt';
import { type ApprovalMode, approvalOf, type Who } from '../../../access/access-policy.js';
import { MAX_PER_USER_PER_DAY_CEILING } from '../../../config.js';
import { errorText } from '../../../log.js';
import { APPROVALS } from '../../../messages/approvals.js';
import { describeApproval, describeDailyLimit, describePolicy } from '../../blocks/access.js';
import { ADMINS_ONLY, noticeModal } from '../../blocks/common.js';
import { ACCESS_VIEW } from '../../ids.js';
import { updateView } from '../../outbound/modals.js';
import { isWorkspaceAdmin } from '../../people/access.js';
import { workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';

const notice = (text: string) => noticeModal(ACCESS_VIEW.callbackId, 'Who may schedule', text);
const ID = /^[A-Z0-9]{2,}$/;

/** The limit field: empty, the deployment's default (undefined); "unlimited" (null); or a whole number. */
function parseDailyLimit(
  raw: string | null | undefined,
): { ok: true; value: number | null | undefined } | { ok: false } {
  const text = (raw ?? '').trim().toLowerCase();
  if (text === '') return { ok: true, value: undefined };
  if (text === 'unlimited') return { ok: true, value: null };
  const n = Number(text);
  return /^\d+$/.test(text) && n >= 1 && n <= MAX_PER_USER_PER_DAY_CEILING
    ? { ok: true, value: n }
    : { ok: false };
}

export function registerAccessSubmission(app: App, deps: ListenerDeps): void {
  app.view(ACCESS_VIEW.callbackId, async ({ ack, body, view, client, context }) => {
    const workspaceId = workspaceIdOf(context);
    const userId = body.user.id;
    const values = view.state.values;
    const whoRaw = values[ACCESS_VIEW.whoBlock]?.[ACCESS_VIEW.whoAction]?.selected_option?.value;
    const who: Who | null =
      whoRaw === 'admins' || whoRaw === 'groups' || whoRaw === 'everyone' ? whoRaw : null;
    const groupIds = (values[ACCESS_VIEW.groupsBlock]?.[ACCESS_VIEW.groupsAction]?.selected_options ?? [])
      .map((o) => o.value)
      .filter((v): v is string => typeof v === 'string' && ID.test(v));
    const channelIds = (
      values[ACCESS_VIEW.channelsBlock]?.[ACCESS_VIEW.channelsAction]?.selected_conversations ?? []
    ).filter((c) => ID.test(c));
    const outsiders = (
      values[ACCESS_VIEW.outsidersBlock]?.[ACCESS_VIEW.outsidersAction]?.selected_options ?? []
    ).map((o) => o.value);
    const modeRaw = values[ACCESS_VIEW.approvalBlock]?.[ACCESS_VIEW.approvalAction]?.selected_option?.value;
    const mode: ApprovalMode | null =
      modeRaw === 'off' || modeRaw === 'admins' || modeRaw === 'groups' ? modeRaw : null;
    const approverIds = (
      values[ACCESS_VIEW.approversBlock]?.[ACCESS_VIEW.approversAction]?.selected_options ?? []
    )
      .map((o) => o.value)
      .filter((v): v is string => typeof v === 'string' && ID.test(v));
    const allowGuests = outsiders.includes(ACCESS_VIEW.allowGuestsValue);
    const allowExternal = outsiders.includes(ACCESS_VIEW.allowExternalValue);
    const limit = parseDailyLimit(values[ACCESS_VIEW.limitBlock]?.[ACCESS_VIEW.limitAction]?.value);
    if (!limit.ok) {
      await ack({
        response_action: 'errors',
        errors: {
          [ACCESS_VIEW.limitBlock]: `Type a whole number from 1 to ${MAX_PER_USER_PER_DAY_CEILING}, “unlimited”, or leave it empty.`,
        },
      });
      return;
    }
    if (!workspaceId || !who) {
      await ack({
        response_action: 'errors',
        errors: { [ACCESS_VIEW.whoBlock]: 'Choose who may schedule deletions.' },
      });
      return;
    }
    if (who === 'groups' && groupIds.length === 0) {
      await ack({
        response_action: 'errors',
        errors: { [ACCESS_VIEW.whoBlock]: 'Choose at least one user group, or another option.' },
      });
      return;
    }
    if (mode === 'groups' && approverIds.length === 0) {
      await ack({
        response_action: 'errors',
        errors: { [ACCESS_VIEW.approvalBlock]: APPROVALS.approversMissing },
      });
      return;
    }
    // Everything with I/O happens after the ack: the modal shows "saving…" meanwhile.
    await ack({ response_action: 'update', view: notice(':hourglass_flowing_sand: Saving…') });
    const show = (text: string) => updateView(client, deps, { id: view.id }, notice(text));
    if (!(await isWorkspaceAdmin(deps, client, workspaceId, userId, { fresh: true }))) {
      await show(ADMINS_ONLY('change who may schedule deletions'));
      return;
    }
    // A form opened before the approval question existed leaves the approval as it was.
    const approvalChoice = mode
      ? { mode, groupIds: mode === 'groups' ? approverIds : [] }
      : (await deps.access.get(workspaceId).catch(() => null))?.approval;
    const policy = {
      who,
      groupIds: who === 'groups' ? groupIds : [],
      channelIds,
      allowGuests,
      allowExternal,
      ...(limit.value !== undefined ? { maxPerUserPerDay: limit.value } : {}),
      ...(approvalChoice ? { approval: approvalChoice } : {}),
      updatedBy: userId,
      updatedAt: deps.now(),
    };
    try {
      await deps.access.set(workspaceId, policy);
    } catch (error) {
      deps.logger.event('error', 'store_failed', {
        operation: 'save access policy',
        error: errorText(error),
      });
      await show(':warning: The bot could not save this, so nothing changed. Try again shortly.');
      return;
    }
    const approval = approvalOf(policy, deps.approvals.requiredByDefault);
    await show(
      `:white_check_mark: Saved. ${describePolicy(policy)} ${describeDailyLimit(limit.value === undefined ? deps.maxPerUserPerDay : limit.value)} ${describeApproval(approval)}`,
    );
    await deps.record({
      at: deps.now(),
      workspace: workspaceId,
      user: userId,
      channel: null,
      action: 'access_changed',
      policyId: null,
      requestedAt: null,
      requestedLocal: null,
      outcome: `${who}${policy.groupIds.length ? `:${policy.groupIds.join(',')}` : ''}${channelIds.length ? ` in ${channelIds.join(',')}` : ''}${allowGuests ? ' +guests' : ''}${allowExternal ? ' +external' : ''}${limit.value !== undefined ? ` max/day:${limit.value ?? 'unlimited'}` : ''}${approval.mode === 'off' ? '' : ` approval:${approval.mode}${approval.groupIds.length ? `:${approval.groupIds.join(',')}` : ''}`}`,
      autoMoveToTrashAt: null,
      requestId: null,
      retryNum: context.retryNum ?? null,
      delivery: null,
    });
  });
}
