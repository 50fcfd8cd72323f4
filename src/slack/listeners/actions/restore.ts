/** The Restore from trash button on the message Slack posts when the move is due. Answers in the thread. */
import type { App, BlockButtonAction } from '@slack/bolt';
import { explain } from '../../../messages/explain.js';
import { failureCode } from '../../../scheduling/katapult-call.js';
import { checkPolicyId } from '../../../scheduling/policy-id.js';
import { restoreFromTrash } from '../../../scheduling/restore.js';
import { checkAccess } from '../../access.js';
import { refusalText } from '../../blocks/access.js';
import { restoredMessage } from '../../blocks/followups.js';
import { failureText } from '../../blocks/messages.js';
import { ACTIONS } from '../../ids.js';
import { slackErrorCode, workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';

export function registerRestoreButton(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTIONS.restore, async ({ ack, body, action, client, context, respond }) => {
    await ack();
    const workspaceId = workspaceIdOf(context);
    const policy = checkPolicyId(action.value);
    const channelId = body.channel?.id;
    if (!workspaceId || !policy.ok || !channelId) return;
    const userId = body.user.id;
    const threadTs = body.message?.ts;

    const access = await checkAccess(deps, client, { workspaceId, userId, channelId });
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
      .claim(`restore:${workspaceId}:${policy.policyId}:${threadTs ?? ''}`, 60_000)
      .catch(() => true);
    if (!first) {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: 'This restore is already under way.',
      }).catch(() => undefined);
      return;
    }

    const result = await restoreFromTrash(deps, { workspaceId, policyId: policy.policyId });
    const message = result.ok
      ? restoredMessage({ policyId: policy.policyId, userId })
      : failureText({
          userId,
          what: `restore disk backup policy \`${policy.policyId}\` from the trash`,
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
        slack_error: slackErrorCode(error) ?? String(error),
      });
      delivery = (await respond({
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
