/**
 * The modal's live parts: pressing Enter in the policy field or picking a policy shows what it backs
 * up (views.update with the view's hash; block and action IDs stay, so what was typed survives), and
 * the picker's search lists the organization's policies ("target name — policy ID").
 */
import type {
  AllMiddlewareArgs,
  BlockAction,
  BlockElementAction,
  SlackActionMiddlewareArgs,
} from '@slack/bolt';
import { explain } from '../../../messages/explain.js';
import { checkPolicyId } from '../../../scheduling/policy-id.js';
import { refusalText } from '../../blocks/access.js';
import {
  chosenChannel,
  formOf,
  pickedPreviewText,
  pickerOption,
  previewText,
  readScheduleMetadata,
} from '../../blocks/schedule-modal.js';
import { SCHEDULE_VIEW } from '../../ids.js';
import { scheduleForm, updateView } from '../../outbound/modals.js';
import { workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';
import type { ListenerApp } from '../router.js';

/** Slack waits 3 s for options; what is not listed by then comes on the next keystroke. */
const OPTIONS_BUDGET_MS = 2000;

function selectedValues(action: BlockElementAction): string[] {
  const values =
    action.type === 'plain_text_input'
      ? [action.value]
      : action.type === 'external_select'
        ? [action.selected_option?.value]
        : action.type === 'multi_external_select'
          ? (action.selected_options ?? []).map((o) => o.value)
          : [];
  return values.filter((v): v is string => typeof v === 'string');
}

export function registerPolicyPreview(app: ListenerApp, deps: ListenerDeps): void {
  const onChoice = async ({
    ack,
    body,
    action,
    client,
    context,
  }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction>) => {
    await ack();
    const view = body.view;
    const workspaceId = workspaceIdOf(context);
    const read = readScheduleMetadata(deps, view?.private_metadata, workspaceId);
    const meta = read.ok ? read.meta : null;
    const chosen = selectedValues(action);
    const policy = checkPolicyId(chosen[0]);
    if (!view || !meta || !workspaceId) return;
    let preview: string;
    const channelId = chosenChannel(meta, view.state?.values) ?? body.user.id;
    const access = await deps.people.mayUse(client, { workspaceId, userId: body.user.id, channelId });
    // With a channel picker, the channel is checked once picked, at submission.
    if (!access.allowed && !(meta.channelId === null && access.reason === 'channel_not_allowed')) {
      preview = refusalText(access.reason, deps.command);
    } else if (chosen.length > 1) {
      const listed = await deps.catalogue.search(workspaceId, '', OPTIONS_BUDGET_MS);
      const names = new Map(listed.map((p) => [p.id, p.target.name ?? p.target.id]));
      preview = pickedPreviewText(chosen.map((id) => ({ id, name: names.get(id) ?? null })));
    } else if (!policy.ok) {
      preview = `:warning: ${policy.reason}`;
    } else {
      const result = await deps.previewPolicy({ workspaceId, policyId: policy.policyId });
      if (result.ok) {
        preview = previewText(result.value);
      } else {
        const why = explain(result.failure, { command: deps.command, operation: 'preview' });
        preview = `:warning: ${why.summary} ${why.next}`;
      }
    }
    // With the view's hash: if the user changed the modal meanwhile (hash_conflict), their newer state wins.
    // Signed again: the form, redrawn now, can be sent for another day.
    await updateView(
      client,
      deps,
      { id: view.id, hash: view.hash },
      scheduleForm(deps, workspaceId, { ...formOf(meta), preview }),
      { level: 'info', event: 'preview_update_skipped' },
    );
  };
  app.action<BlockAction>(SCHEDULE_VIEW.policyAction, onChoice);
  app.action<BlockAction>(SCHEDULE_VIEW.pickAction, onChoice);

  app.options(SCHEDULE_VIEW.pickAction, async ({ ack, options, body, client, context }) => {
    const workspaceId = workspaceIdOf(context);
    const read = readScheduleMetadata(deps, body.view?.private_metadata, workspaceId);
    if (!workspaceId || !read.ok) return ack({ options: [] });
    const meta = read.meta;
    // Only people allowed to schedule may browse what the organization's policies back up.
    const channelId = chosenChannel(meta, body.view?.state?.values) ?? body.user.id;
    const access = await deps.people.mayUse(client, { workspaceId, userId: body.user.id, channelId });
    if (!access.allowed && !(meta.channelId === null && access.reason === 'channel_not_allowed'))
      return ack({ options: [] });
    const matches = await deps.catalogue.search(workspaceId, options.value ?? '', OPTIONS_BUDGET_MS);
    return ack({ options: matches.slice(0, 100).map(pickerOption) });
  });
}
