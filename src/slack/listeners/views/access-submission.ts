/**
 * Submission of the admin access modal: read and check the form (inline errors), then the use case
 * (src/scheduling/change-access.ts) checks the submitter is an admin, saves and audits.
 */
import { MAX_PER_USER_PER_DAY_CEILING } from '../../../config.js';
import { APPROVALS } from '../../../messages/approvals.js';
import type { AccessOutcome, ApprovalMode, Who } from '../../../scheduling/change-access.js';
import { describeApproval, describeDailyLimit, describePolicy } from '../../blocks/access.js';
import { ADMINS_ONLY, noticeModal } from '../../blocks/common.js';
import { ACCESS_VIEW } from '../../ids.js';
import { updateView } from '../../outbound/modals.js';
import { isWorkspaceAdmin } from '../../people/access.js';
import { workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';
import type { ListenerApp } from '../router.js';

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

export function registerAccessSubmission(app: ListenerApp, deps: ListenerDeps): void {
  app.view(ACCESS_VIEW.callbackId, async ({ ack, body, view, client, context }) => {
    const workspaceId = workspaceIdOf(context);
    const userId = body.user.id;
    // Slack always sends the state; a payload without it gets the form's own errors, not a crash.
    const values = view.state?.values ?? {};
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
    const limit = parseDailyLimit(values[ACCESS_VIEW.limitBlock]?.[ACCESS_VIEW.limitAction]?.value);
    const refuse = (block: string, text: string) =>
      ack({ response_action: 'errors', errors: { [block]: text } });
    if (!limit.ok)
      return refuse(
        ACCESS_VIEW.limitBlock,
        `Type a whole number from 1 to ${MAX_PER_USER_PER_DAY_CEILING}, “unlimited”, or leave it empty.`,
      );
    if (!workspaceId || !who) return refuse(ACCESS_VIEW.whoBlock, 'Choose who may schedule deletions.');
    if (who === 'groups' && groupIds.length === 0)
      return refuse(ACCESS_VIEW.whoBlock, 'Choose at least one user group, or another option.');
    if (mode === 'groups' && approverIds.length === 0)
      return refuse(ACCESS_VIEW.approvalBlock, APPROVALS.approversMissing);
    // Everything with I/O happens after the ack: the modal shows "saving…" meanwhile.
    await ack({ response_action: 'update', view: notice(':hourglass_flowing_sand: Saving…') });
    await deps.changeAccess(
      {
        workspaceId,
        userId,
        who,
        groupIds,
        channelIds,
        allowGuests: outsiders.includes(ACCESS_VIEW.allowGuestsValue),
        allowExternal: outsiders.includes(ACCESS_VIEW.allowExternalValue),
        dailyLimit: limit.value,
        // A form opened before the approval question existed leaves the approval as it was.
        approval: mode ? { mode, groupIds: approverIds } : null,
        retryNum: context.retryNum ?? null,
        ...workflowsChoice(values),
      },
      {
        isAdmin: () => isWorkspaceAdmin(deps, client, workspaceId, userId, { fresh: true }),
        show: (outcome) => updateView(client, deps, { id: view.id }, notice(outcomeText(outcome))),
      },
    );
  });
}

function outcomeText(outcome: AccessOutcome): string {
  if (outcome.kind === 'not_admin') return ADMINS_ONLY('change who may schedule deletions');
  if (outcome.kind === 'not_saved')
    return ':warning: The bot could not save this, so nothing changed. Try again shortly.';
  return `:white_check_mark: Saved. ${describePolicy(outcome.policy)} ${describeDailyLimit(outcome.dailyLimit)} ${describeApproval(outcome.approval)}`;
}

/** "Allow Workflow Builder steps": nothing when the form had no such question (it stays as it was). */
function workflowsChoice(
  values: Record<string, Record<string, { selected_options?: { value?: string }[] }>>,
) {
  const block = values[ACCESS_VIEW.workflowsBlock]?.[ACCESS_VIEW.workflowsAction];
  if (!block) return {};
  return {
    allowWorkflows: (block.selected_options ?? []).some((o) => o.value === ACCESS_VIEW.allowWorkflowsValue),
  };
}
