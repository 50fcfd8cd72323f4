/**
 * The Restore from trash button on the message Slack posts when the move is due: the use case
 * (src/scheduling/restore.ts) checks and restores; this answers in the thread, or privately.
 */
import type { BlockButtonAction, RespondFn, webApi } from '@slack/bolt';
import { explain } from '../../../messages/explain.js';
import { checkPolicyId } from '../../../scheduling/policy-id.js';
import type { RestoreResult, RestoreSurface } from '../../../scheduling/restore.js';
import { refusalText } from '../../blocks/access.js';
import { restoredMessage } from '../../blocks/followups.js';
import { failureText } from '../../blocks/messages.js';
import { ACTIONS } from '../../ids.js';
import { replyInThread, restoreThread, showRestored } from '../../outbound/request-message.js';
import { workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';
import type { ListenerApp } from '../router.js';

export const NOT_SCHEDULED_HERE =
  ':no_entry: This button does not match a deletion scheduled through the bot in this workspace, so nothing was restored.';

export function registerRestoreButton(app: ListenerApp, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTIONS.restore, async ({ ack, body, action, client, context, respond }) => {
    await ack();
    const workspaceId = workspaceIdOf(context);
    const policy = checkPolicyId(action.value);
    const channelId = body.channel?.id;
    if (!workspaceId || !policy.ok || !channelId) return;
    const userId = body.user.id;
    const threadTs = body.message?.thread_ts ?? body.message?.ts ?? null;
    await deps.restorePolicy(
      {
        workspaceId,
        userId,
        channelId,
        policyId: policy.policyId,
        threadTs,
        retryNum: context.retryNum ?? null,
      },
      restoreSurface(deps, client, respond, { workspaceId, userId, channelId, threadTs }),
    );
  });
}

function restoreSurface(
  deps: ListenerDeps,
  client: webApi.WebClient,
  respond: RespondFn,
  where: { workspaceId: string; userId: string; channelId: string; threadTs: string | null },
): RestoreSurface {
  const { userId, channelId, threadTs } = where;
  const privately = (text: string) =>
    respond({ response_type: 'ephemeral', replace_original: false, text }).then(
      () => true,
      () => false,
    );
  return {
    mayRestore: () => deps.people.mayUse(client, where),
    async refuse(reason) {
      await privately(
        reason === 'not_scheduled_here' ? NOT_SCHEDULED_HERE : refusalText(reason, deps.command),
      );
    },
    async busy() {
      await privately('This restore is already under way.');
    },
    async announce(policyId, result, scheduled) {
      const message = outcomeMessage(deps, policyId, userId, result);
      const thread = restoreThread(scheduled, { channelId, ts: threadTs, threadTs: null });
      const sent = await replyInThread(
        client,
        deps.logger,
        { channel: channelId, threadTs: thread },
        message,
      );
      if (result.ok) await showRestored(client, deps.logger, scheduled, userId);
      if (sent === 'posted') return 'channel';
      // No answer came (a timeout): the reply may be in the thread already, so no private copy.
      if (sent === 'unknown') return 'unknown';
      return (await privately(message.text)) ? 'ephemeral' : 'lost';
    },
  };
}

function outcomeMessage(deps: ListenerDeps, policyId: string, userId: string, result: RestoreResult) {
  return result.ok
    ? restoredMessage({ policyId, userId })
    : failureText({
        userId,
        what: `restore disk backup policy \`${policyId}\` from the trash`,
        explanation: explain(result.failure, { command: deps.command, operation: 'restore' }),
      });
}
