/**
 * The Slack side of reconciling with Katapult (the use case's `ReconcileSurface` port): replace or
 * delete the messages Slack holds for a policy, and post a short note where they go. The note is
 * posted once (`writeOnce`); when Slack refuses it, it is logged. A 404 that could not be proven
 * (the token may be another organization's) is told privately to whoever set the token.
 *
 * With the request's message known (issue 21), the note is a reply in its thread and the message
 * is edited to name the new state; the bot's own passes also move it on (reminder due, moved).
 */
import type { webApi } from '@slack/bolt';
import { unprovenNote } from '../../messages/reconcile.js';
import type { ReconcileSurface } from '../../scheduling/reconcile.js';
import type { MessageState, UpcomingDeletion } from '../../scheduling/upcoming.js';
import { message, section } from '../blocks/common.js';
import { reconciledMessage, requestStateMessage } from '../blocks/followups.js';
import { deleteHeld, type FollowupDeps, replaceFollowups } from '../outbound/followups.js';
import { editMessage, replyInThread } from '../outbound/request-message.js';
import { mayHaveBeenDone, writeOnce } from '../outbound/slack-writes.js';
import { slackErrorText } from '../workspace.js';

export function createReconcileSurface(
  deps: FollowupDeps,
  clientFor: (workspaceId: string) => Promise<webApi.WebClient>,
): ReconcileSurface {
  return {
    async rehold(workspaceId, record, at) {
      const { kept } = await replaceFollowups(await clientFor(workspaceId), deps, {
        workspaceId,
        policyId: record.policyId,
        channelId: record.channelId,
        at,
        scheduledBy: record.scheduledBy,
        target: { type: record.targetType, id: record.targetId },
        ...(record.requestCreatedAt !== undefined ? { requestCreatedAt: record.requestCreatedAt } : {}),
        ...(record.message
          ? {
              message: record.message,
              sharedMessage: record.sharedMessage === true,
              shown: 'changed' as const,
            }
          : {}),
      });
      // Not kept (the record changed, or could not be written; the new messages were deleted): no
      // note, and the next pass looks again.
      if (!kept) throw new Error(`the record of ${record.policyId} was not replaced`);
    },
    async dropHeld(workspaceId, record) {
      return deleteHeld(await clientFor(workspaceId), deps.logger, record);
    },
    async note(workspaceId, record, action) {
      const note = reconciledMessage({ policyId: record.policyId, was: record.at }, action);
      const client = await clientFor(workspaceId).catch(() => null);
      if (!client) return;
      await replyInThread(
        client,
        deps.logger,
        { channel: record.message?.channel ?? record.channelId, threadTs: record.message?.threadTs },
        note,
        { event: 'reconcile_note_failed', fields: { policy_id: record.policyId } },
      );
      const state = action.kind === 'moved' ? 'changed' : action.kind;
      await showState(client, deps, record, state, action.kind === 'moved' ? action.at : record.at);
    },
    async showState(workspaceId, record, state) {
      await showState(await clientFor(workspaceId), deps, record, state, record.at);
    },
    async tellUnproven(workspaceId, { record, userId }) {
      const note = unprovenNote({ policyId: record.policyId, was: record.at });
      const told = message(note.plain, note.paragraphs.map(section));
      // Privately to whoever set the token; in the record's channel when nobody did, or when Slack
      // refused the direct message (so it surely was not sent).
      for (const channel of userId ? [userId, record.channelId] : [record.channelId]) {
        try {
          const client = await clientFor(workspaceId);
          await writeOnce(() =>
            client.chat.postMessage({
              channel,
              text: told.text,
              blocks: told.blocks,
              unfurl_links: false,
              unfurl_media: false,
            }),
          );
          return;
        } catch (error) {
          deps.logger.event('warn', 'reconcile_unproven_note_failed', {
            policy_id: record.policyId,
            slack_error: slackErrorText(error),
          });
          if (mayHaveBeenDone(error)) return;
        }
      }
    },
  };
}

/** Edits the request's message (one policy's, never a shared one) to name the policy's state. */
async function showState(
  client: webApi.WebClient,
  deps: FollowupDeps,
  record: UpcomingDeletion,
  state: MessageState,
  at: number,
): Promise<void> {
  if (!record.message || record.sharedMessage) return;
  const content = requestStateMessage(state, {
    policyId: record.policyId,
    at,
    scheduledBy: record.scheduledBy,
  });
  await editMessage(client, deps.logger, record.message, content, { policy_id: record.policyId });
}
