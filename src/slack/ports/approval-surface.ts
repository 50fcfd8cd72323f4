/**
 * The Slack side of approvals (the use case's `ApprovalSurface` port): the request is posted in the
 * record's channel only (approvers must see it: no private fallback), and edited in place when it
 * ends. `chat.update` is idempotent, so it may be repeated; `chat.postMessage` goes through writeOnce.
 * A request that started from a message is posted in that message's thread; decisions are replies
 * in the request's thread.
 */
import type { webApi } from '@slack/bolt';
import type { AppLogger } from '../../log.js';
import { APPROVALS } from '../../messages/approvals.js';
import type { ApprovalSurface } from '../../scheduling/approvals.js';
import { type KatapultReader, previewPolicy } from '../../scheduling/preview.js';
import { type RequestRecord, requestMessageOf } from '../../scheduling/request-log.js';
import type { WorkspaceTokens } from '../../tokens/workspace-tokens.js';
import { approvalClosedMessage, approvalRequestMessage, policySummary } from '../blocks/approval.js';
import { message, type SlackMessage, section } from '../blocks/common.js';
import { markedText } from '../blocks/workflow.js';
import { tellPrivately } from '../outbound/deliver.js';
import { editMessage, replyInThread } from '../outbound/request-message.js';
import { writeOnce } from '../outbound/slack-writes.js';
import { slackErrorCode } from '../workspace.js';

/** Edits the request message; a failure is logged (the outcome is also told to the people concerned). */
export async function editRequestMessage(
  client: webApi.WebClient,
  deps: { logger: AppLogger },
  r: RequestRecord,
  content: SlackMessage,
): Promise<boolean> {
  const where = requestMessageOf(r);
  return where ? editMessage(client, deps.logger, where, content, { request: r.id }) : false;
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
        const base = {
          channel: r.channel,
          text: content.text,
          blocks: content.blocks,
          unfurl_links: false,
          unfurl_media: false,
        };
        // In a thread (a request started from a message), approvers in the channel see it too.
        const args: webApi.ChatPostMessageArguments = r.threadTs
          ? { ...base, thread_ts: r.threadTs, reply_broadcast: true }
          : base;
        const posted = await writeOnce(() => client.chat.postMessage(args));
        return posted.ts ? { ok: true, ts: posted.ts } : { ok: false, slackError: null };
      } catch (error) {
        return { ok: false, slackError: slackErrorCode(error) };
      }
    },
    async closeRequest(r) {
      await editRequestMessage(await clientFor(r.workspace), deps, r, approvalClosedMessage(r));
    },
    async decided(r) {
      const d = r.approval?.decision;
      const where = requestMessageOf(r);
      if (!d || !where) return;
      const text = d.approved ? APPROVALS.approvedBy(d.by) : APPROVALS.deniedBy(d.by, d.reason);
      await replyInThread(await clientFor(r.workspace), deps.logger, where, message(text, [section(text)]), {
        fields: { request: r.id },
      });
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
