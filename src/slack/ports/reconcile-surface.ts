/**
 * The Slack side of reconciling with Katapult (the use case's `ReconcileSurface` port): replace or
 * delete the messages Slack holds for a policy, and post a short note where they go. The note is
 * posted once (`writeOnce`); when Slack refuses it, it is logged. A 404 that could not be proven
 * (the token may be another organization's) is told privately to whoever set the token.
 */
import type { webApi } from '@slack/bolt';
import { unprovenNote } from '../../messages/reconcile.js';
import type { ReconcileSurface } from '../../scheduling/reconcile.js';
import { message, section } from '../blocks/common.js';
import { reconciledMessage } from '../blocks/followups.js';
import { deleteHeld, type FollowupDeps, replaceFollowups } from '../outbound/followups.js';
import { mayHaveBeenDone, writeOnce } from '../outbound/slack-writes.js';
import { slackErrorText } from '../workspace.js';

export function createReconcileSurface(
  deps: FollowupDeps,
  clientFor: (workspaceId: string) => Promise<webApi.WebClient>,
): ReconcileSurface {
  return {
    async rehold(workspaceId, record, at) {
      await replaceFollowups(await clientFor(workspaceId), deps, {
        workspaceId,
        policyId: record.policyId,
        channelId: record.channelId,
        at,
        scheduledBy: record.scheduledBy,
        target: { type: record.targetType, id: record.targetId },
        ...(record.requestCreatedAt !== undefined ? { requestCreatedAt: record.requestCreatedAt } : {}),
      });
    },
    async dropHeld(workspaceId, record) {
      await deleteHeld(await clientFor(workspaceId), deps.logger, record);
    },
    async note(workspaceId, record, action) {
      const note = reconciledMessage({ policyId: record.policyId, was: record.at }, action);
      try {
        const client = await clientFor(workspaceId);
        await writeOnce(() =>
          client.chat.postMessage({
            channel: record.channelId,
            text: note.text,
            blocks: note.blocks,
            unfurl_links: false,
            unfurl_media: false,
          }),
        );
      } catch (error) {
        deps.logger.event('warn', 'reconcile_note_failed', {
          policy_id: record.policyId,
          slack_error: slackErrorText(error),
        });
      }
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
