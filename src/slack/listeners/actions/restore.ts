/**
 * The Restore from trash button on the message Slack posts when the move is due. Answers in the
 * thread. The button's value only names which of this workspace's scheduled deletions is meant:
 * the object restored is the policy found in the store, so a payload carrying any other object ID
 * (a VM's, another workspace's policy) restores nothing.
 */
import type { App, BlockButtonAction } from '@slack/bolt';
import { errorText } from '../../../log.js';
import { explain } from '../../../messages/explain.js';
import { failureCode } from '../../../scheduling/katapult-call.js';
import { checkPolicyId } from '../../../scheduling/policy-id.js';
import { restoreFromTrash } from '../../../scheduling/restore.js';
import type { UpcomingDeletion } from '../../../scheduling/upcoming.js';
import { refusalText } from '../../blocks/access.js';
import { restoredMessage } from '../../blocks/followups.js';
import { failureText } from '../../blocks/messages.js';
import { ACTIONS } from '../../ids.js';
import { mayHaveBeenDone } from '../../outbound/slack-writes.js';
import { checkAccess } from '../../people/access.js';
import { slackErrorText, workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';

export const NOT_SCHEDULED_HERE =
  ':no_entry: This button does not match a deletion scheduled through the bot in this workspace, so nothing was restored.';

export function registerRestoreButton(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTIONS.restore, async ({ ack, body, action, client, context, respond }) => {
    await ack();
    const workspaceId = workspaceIdOf(context);
    const policy = checkPolicyId(action.value);
    const channelId = body.channel?.id;
    if (!workspaceId || !policy.ok || !channelId) return;
    const userId = body.user.id;
    const threadTs = body.message?.ts;

    const base = {
      at: deps.now(),
      workspace: workspaceId,
      user: userId,
      channel: channelId,
      action: 'restore' as const,
      policyId: policy.policyId,
      requestedAt: null,
      requestedLocal: null,
      autoMoveToTrashAt: null,
      retryNum: context.retryNum ?? null,
    };
    const refuse = async (text: string, reason: string) => {
      await respond({ response_type: 'ephemeral', replace_original: false, text }).catch(() => undefined);
      await deps.record({ ...base, outcome: `refused:${reason}`, requestId: null, delivery: null });
    };
    let scheduled: UpcomingDeletion | null;
    try {
      scheduled = await deps.upcoming.get(workspaceId, policy.policyId);
    } catch (error) {
      deps.logger.event('error', 'store_failed', {
        operation: 'read upcoming deletion',
        error: errorText(error),
      });
      return refuse(refusalText('store_unavailable', deps.command), 'store_unavailable');
    }
    if (!scheduled) return refuse(NOT_SCHEDULED_HERE, 'not_scheduled_here');
    const policyId = scheduled.policyId;

    const access = await checkAccess(deps, client, { workspaceId, userId, channelId });
    if (!access.allowed) {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: refusalText(access.reason, deps.command),
      }).catch(() => undefined);
      await deps.record({ ...base, outcome: `refused:${access.reason}`, requestId: null, delivery: null });
      return;
    }
    // A double click, or a second person pressing at the same time: one restore is enough.
    const first = await deps.claims
      .claim(`restore:${workspaceId}:${policyId}:${threadTs ?? ''}`, 60_000)
      .catch(() => true);
    if (!first) {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: 'This restore is already under way.',
      }).catch(() => undefined);
      return;
    }

    const result = await restoreFromTrash(deps, { workspaceId, policyId });
    const message = result.ok
      ? restoredMessage({ policyId, userId })
      : failureText({
          userId,
          what: `restore disk backup policy \`${policyId}\` from the trash`,
          explanation: explain(result.failure, { command: deps.command, operation: 'restore' }),
        });
    let delivery = 'channel';
    try {
      await client.chat.postMessage({
        channel: channelId,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        text: message.text,
        blocks: message.blocks,
      });
    } catch (error) {
      deps.logger.event('warn', 'thread_reply_failed', {
        slack_error: slackErrorText(error),
      });
      // No answer came (a timeout): the reply may be in the thread already, so no private copy.
      delivery = mayHaveBeenDone(error)
        ? 'unknown'
        : (await respond({
              response_type: 'ephemeral',
              replace_original: false,
              text: message.text,
            }).then(
              () => true,
              () => false,
            ))
          ? 'ephemeral'
          : 'lost';
    }
    await deps.record({
      ...base,
      outcome: result.ok ? 'restored' : failureCode(result.failure),
      requestId: result.ok
        ? result.value.requestId
        : 'requestId' in result.failure
          ? result.failure.requestId
          : null,
      delivery,
    });
  });
}
