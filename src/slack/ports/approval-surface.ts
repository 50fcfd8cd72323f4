/**
 * The Slack side of approvals (the use case's `ApprovalSurface` port): the request is posted in the
 * record's channel only (approvers must see it: no private fallback), and edited in place when it
 * ends. `chat.update` is idempotent, so it may be repeated; `chat.postMessage` goes through writeOnce.
 */
import type { webApi } from '@slack/bolt';
import type { AppLogger } from '../../log.js';
import type { ApprovalSurface } from '../../scheduling/approvals.js';
import { type KatapultReader, previewPolicy } from '../../scheduling/preview.js';
import type { RequestRecord } from '../../scheduling/request-log.js';
import type { WorkspaceTokens } from '../../tokens/workspace-tokens.js';
import { approvalClosedMessage, approvalRequestMessage, policySummary } from '../blocks/approval.js';
import type { SlackMessage } from '../blocks/common.js';
import { markedText } from '../blocks/workflow.js';
import { tellPrivately } from '../outbound/deliver.js';
import { writeOnce } from '../outbound/slack-writes.js';
import { slackErrorCode, slackErrorText } from '../workspace.js';

/** Edits the request message; a failure is logged (the outcome is also told to the people concerned). */
export async function editRequestMessage(
  client: webApi.WebClient,
  deps: { logger: AppLogger },
  r: RequestRecord,
  content: SlackMessage,
): Promise<boolean> {
  const ts = r.approval?.messageTs;
  if (!ts) return false;
  try {
    await client.chat.update({ channel: r.channel, ts, text: content.text, blocks: content.blocks });
    return true;
  } catch (error) {
    deps.logger.event('warn', 'approval_message_update_failed', {
      request: r.id,
      slack_error: slackErrorText(error),
    });
    return false;
  }
}

export function createApprovalSurface(
  deps: { logger: AppLogger; tokens: WorkspaceTokens; katapult: KatapultReader },
  clientFor: (workspaceId: string) => Promise<webApi.WebClient>,
): ApprovalSurface {
  return {
    async postRequest(r) {
      // The preview is best effort: a request whose details cannot be read still shows its IDs.
      const summaries = await Promise.all(
        r.policies.map(async (p) => {
          const details = await previewPolicy(deps, { workspaceId: r.workspace, policyId: p.policyId }).catch(
            () => null,
          );
          return policySummary(p.policyId, details?.ok ? details.value : null);
        }),
      );
      const content = approvalRequestMessage(r, summaries);
      try {
        const client = await clientFor(r.workspace);
        const posted = await writeOnce(() =>
          client.chat.postMessage({
            channel: r.channel,
            text: content.text,
            blocks: content.blocks,
            unfurl_links: false,
            unfurl_media: false,
          }),
        );
        return posted.ts ? { ok: true, ts: posted.ts } : { ok: false, slackError: null };
      } catch (error) {
        return { ok: false, slackError: slackErrorCode(error) };
      }
    },
    async closeRequest(r) {
      await editRequestMessage(await clientFor(r.workspace), deps, r, approvalClosedMessage(r));
    },
    tell: (r, text) => tellRequester(deps.logger, clientFor, r, text),
  };
}

/** A private note to the person who asked (marked when a workflow started the request). */
export async function tellRequester(
  logger: AppLogger,
  clientFor: (workspaceId: string) => Promise<webApi.WebClient>,
  r: RequestRecord,
  text: string,
): Promise<void> {
  await tellPrivately(await clientFor(r.workspace), logger, {
    channelId: r.channel,
    userId: r.user,
    text: markedText(r, text),
  });
}
