/**
 * The modal's live parts: pressing Enter in the policy field or picking a policy shows what it backs
 * up (views.update with the view's hash; block and action IDs stay, so what was typed survives), and
 * the picker's search lists the organization's policies ("target name — policy ID").
 */
import type { App, BlockAction, BlockElementAction } from '@slack/bolt';
import type { PolicySummary } from '../../../katapult/client.js';
import { explain } from '../../../messages/explain.js';
import { failureCode } from '../../../scheduling/katapult-call.js';
import { checkPolicyId } from '../../../scheduling/policy-id.js';
import { listPolicies, previewPolicy } from '../../../scheduling/preview.js';
import { clip } from '../../blocks/common.js';
import { buildScheduleModal, decodeMetadata, previewText } from '../../blocks/schedule-modal.js';
import { SCHEDULE_VIEW } from '../../ids.js';
import { slackErrorCode, workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';

const PICKER_CACHE_MS = 60_000;

function selectedValue(action: BlockElementAction): string | undefined {
  if (action.type === 'plain_text_input') return action.value ?? undefined;
  if (action.type === 'external_select') return action.selected_option?.value;
  return undefined;
}

function label(p: PolicySummary): string {
  const name = p.target.name ?? p.target.id ?? 'unknown target';
  return clip(`${name} — ${p.id}`, 75);
}

export function registerPolicyPreview(app: App, deps: ListenerDeps): void {
  const onChoice = async ({
    ack,
    body,
    action,
    client,
    context,
  }: Parameters<Parameters<typeof app.action<BlockAction>>[1]>[0]) => {
    await ack();
    const view = body.view;
    const meta = decodeMetadata(view?.private_metadata);
    const workspaceId = workspaceIdOf(context);
    const policy = checkPolicyId(selectedValue(action as BlockElementAction));
    if (!view || !meta || !workspaceId) return;
    let preview: string;
    if (!policy.ok) {
      preview = `:warning: ${policy.reason}`;
    } else {
      const result = await previewPolicy(deps, { workspaceId, policyId: policy.policyId });
      if (result.ok) {
        preview = previewText(result.value);
      } else {
        const why = explain(result.failure, { command: deps.command, operation: 'schedule' });
        preview = `:warning: ${why.summary} ${why.next}`;
      }
    }
    await client.views
      .update({
        view_id: view.id,
        hash: view.hash,
        view: buildScheduleModal({ channelId: meta.channelId, preview }),
      })
      .catch((error: unknown) =>
        // hash_conflict: the user changed the modal meanwhile; their newer state wins.
        deps.logger.event('info', 'preview_update_skipped', {
          slack_error: slackErrorCode(error) ?? String(error),
        }),
      );
  };
  app.action<BlockAction>(SCHEDULE_VIEW.policyAction, onChoice);
  app.action<BlockAction>(SCHEDULE_VIEW.pickAction, onChoice);

  const cache = new Map<string, { at: number; policies: PolicySummary[] }>();
  app.options(SCHEDULE_VIEW.pickAction, async ({ ack, options, context }) => {
    const workspaceId = workspaceIdOf(context);
    const query = (options.value ?? '').trim().toLowerCase();
    if (!workspaceId) return ack({ options: [] });
    let policies = cache.get(workspaceId);
    if (!policies || deps.now() - policies.at > PICKER_CACHE_MS) {
      const organizationId = await deps.tokens.organizationId(workspaceId).catch(() => null);
      const listed = organizationId ? await listPolicies(deps, { workspaceId, organizationId }) : null;
      if (!listed?.ok) {
        deps.logger.event('warn', 'policy_list_failed', {
          workspace: workspaceId,
          reason: listed ? failureCode(listed.failure) : 'no_organization',
        });
        return ack({ options: [] });
      }
      policies = { at: deps.now(), policies: listed.value };
      cache.set(workspaceId, policies);
    }
    // Names match on any part; IDs only on a longer piece (every policy ID starts with the same prefix).
    const matches = policies.policies.filter(
      (p) =>
        !query ||
        (p.target.name ?? '').toLowerCase().includes(query) ||
        (query.length >= 6 && [p.id, p.target.id ?? ''].some((s) => s.toLowerCase().includes(query))),
    );
    return ack({
      options: matches
        .slice(0, 100)
        .map((p) => ({ text: { type: 'plain_text' as const, text: label(p) }, value: p.id })),
    });
  });
}
