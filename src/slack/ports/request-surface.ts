/**
 * The Slack side of running a request record (the use case's `RequestSurface` port): the emergency
 * stop and access check asked before every Katapult call, the outcome post with its fallback (or,
 * for a request that stopped, why), private notes and the held follow-ups, all with a Web client for
 * the record's workspace that never retries a write after a timeout (see slack-writes.ts).
 */
import type { webApi } from '@slack/bolt';
import type { Freezes } from '../../access/freeze.js';
import { FAILED_STATE, RESCHEDULED_REPLY } from '../../messages/request-state.js';
import { STOPPED } from '../../messages/stopped.js';
import type { Metrics } from '../../metrics.js';
import { orderOf, type RequestRecord, requestMessageOf } from '../../scheduling/request-log.js';
import type { RequestSurface } from '../../scheduling/run-request.js';
import { isLive, type UpcomingDeletion } from '../../scheduling/upcoming.js';
import { refusalText } from '../blocks/access.js';
import { approvedOutcomeMessage } from '../blocks/approval.js';
import { clip, context, message, type SlackMessage, section } from '../blocks/common.js';
import { requestOutcomeMessage } from '../blocks/request.js';
import { markedMessage, markedText } from '../blocks/workflow.js';
import { deliverMessage, tellPrivately } from '../outbound/deliver.js';
import { deleteHeld, type FollowupDeps, followupsFit, replaceFollowups } from '../outbound/followups.js';
import { editMessage, replyInThread } from '../outbound/request-message.js';
import { checkAccess, type PeopleDeps } from '../people/access.js';
import { tellRequester } from './approval-surface.js';

export function createRequestSurface(
  deps: PeopleDeps &
    FollowupDeps & {
      metrics: Pick<Metrics, 'dmFallback'>;
      freezes: Pick<Freezes, 'get'>;
      command: string;
    },
  clientFor: (workspaceId: string) => Promise<webApi.WebClient>,
): RequestSurface {
  return {
    async checkAccess(r) {
      // Asked before every Katapult call: the emergency stop (one store read) and the access policy
      // (cached for seconds) with the requester's Slack profile (used while at most a minute old:
      // DECISION_MAX_AGE_MS, users.ts).
      const checked = clientFor(r.workspace).then((client) =>
        checkAccess(deps, client, { workspaceId: r.workspace, userId: r.user, channelId: r.channel }),
      );
      // Awaited below unless the freeze answers first: never an unhandled rejection.
      checked.catch(() => undefined);
      // The emergency stop wins, whatever the access check says (or if it cannot be made).
      if ((await deps.freezes.get(r.workspace)).frozen) return { allowed: false, reason: 'frozen' };
      // A workflow's request, once the workspace no longer allows them (issue 21, item 4).
      if (r.workflow && !(await deps.access.get(r.workspace)).allowWorkflows)
        return { allowed: false, reason: 'workflows_off' };
      const access = await checked;
      return access.allowed
        ? { allowed: true, zone: access.profile.tz ?? 'UTC' }
        : { allowed: false, reason: access.reason };
    },
    async refuse(r, reason) {
      await tellPrivately(await clientFor(r.workspace), deps.logger, {
        channelId: r.channel,
        userId: r.user,
        text: markedText(r, refusalText(reason, deps.command)),
      });
    },
    async announce(r, indexed) {
      const nowSeconds = Math.floor(deps.now() / 1000);
      const client = await clientFor(r.workspace);
      const outcome = markedMessage(
        r,
        r.stopped
          ? stoppedMessage(r, deps.command)
          : requestOutcomeMessage(r, (at) => followupsFit(at, nowSeconds)),
      );
      // An approved request: its message in the channel turns into the outcome (else, a new post).
      const asked = requestMessageOf(r);
      if (
        r.approval?.decision?.approved &&
        asked &&
        (await editMessage(client, deps.logger, asked, approvedOutcomeMessage(r, outcome), { request: r.id }))
      ) {
        r.message = asked;
        return 'channel';
      }
      // A reschedule of a policy whose message is still live in this channel continues it.
      if (indexed && (await continueMessage(client, deps, r, outcome, indexed))) return 'channel';
      const sent = await deliverMessage(
        client,
        deps.logger,
        {
          channelId: r.channel,
          userId: r.user,
          botUserId: r.botUserId,
          message: outcome,
          ...(r.threadTs ? { threadTs: r.threadTs } : {}),
        },
        deps.metrics,
      );
      if (sent.posted) {
        const inChannel = sent.delivery === 'channel';
        r.message = {
          ...sent.posted,
          threadTs: (inChannel ? r.threadTs : undefined) ?? sent.posted.ts,
        };
      }
      return sent.delivery;
    },
    tell: (r, text) => tellRequester(deps.logger, clientFor, r, text),
    async holdFollowups(r, step, channelId, indexed, handOver) {
      if (!step.result?.ok) return;
      await replaceFollowups(await clientFor(r.workspace), deps, {
        workspaceId: r.workspace,
        policyId: step.policyId,
        channelId,
        at: step.result.autoMoveToTrashAt ?? r.atSeconds,
        scheduledBy: r.user,
        target: step.result.target,
        requestCreatedAt: orderOf(r),
        ...(indexed ? { indexed } : {}),
        ...(r.message ? { message: r.message, sharedMessage: r.policies.length > 1 } : {}),
        ...(handOver ? { handOver } : {}),
      });
    },
    async dropHeld(r, held) {
      return deleteHeld(await clientFor(r.workspace), deps.logger, held);
    },
    async showFailed(r) {
      const where = requestMessageOf(r);
      if (!where) return;
      const text = FAILED_STATE(r.policies.map((p) => p.policyId));
      await editMessage(await clientFor(r.workspace), deps.logger, where, message(text, [section(text)]), {
        request: r.id,
      });
    },
  };
}

/**
 * A new request for one policy whose message (from an earlier request, in the same channel) still
 * tells a live story (scheduled, reminder due, changed): that message shows the new outcome and a
 * reply in its thread says it was rescheduled; the record takes the message over. `indexed`: the
 * policy's index record the run just wrote (with the earlier request's message). False: post anew.
 */
async function continueMessage(
  client: webApi.WebClient,
  deps: FollowupDeps,
  r: RequestRecord,
  outcome: SlackMessage,
  indexed: UpcomingDeletion,
): Promise<boolean> {
  const [only, ...more] = r.policies;
  if (!only?.result?.ok || more.length > 0 || r.threadTs || r.stopped) return false;
  const earlier = indexed.message;
  if (!earlier || indexed.channelId !== r.channel || indexed.sharedMessage || !isLive(indexed.shown))
    return false;
  if (!(await editMessage(client, deps.logger, earlier, outcome, { request: r.id }))) return false;
  const at = only.result.autoMoveToTrashAt ?? r.atSeconds;
  const text = RESCHEDULED_REPLY(r.user, only.policyId, at);
  await replyInThread(
    client,
    deps.logger,
    { channel: earlier.channel, threadTs: earlier.threadTs },
    message(text, [section(text)]),
    {
      fields: { request: r.id },
    },
  );
  r.message = earlier;
  return true;
}

/** Characters per policy's line: 20 policies with long errors still fit one message. */
const PER_POLICY_MAX = 1000;

/** A request that stopped before it finished: why, and where each policy stands. */
function stoppedMessage(r: RequestRecord, command: string): SlackMessage {
  const reason = r.stopped?.reason ?? 'frozen';
  const lines = r.policies.map((p) => {
    const result = p.result;
    if (p.superseded) return STOPPED.superseded(p.policyId);
    if (!result) return STOPPED.notCalled(p.policyId, r.stopped?.unsure === true);
    return result.ok
      ? STOPPED.scheduled(p.policyId, result.autoMoveToTrashAt ?? r.atSeconds)
      : STOPPED.failed(p.policyId, clip(result.explanation.summary, PER_POLICY_MAX / 2));
  });
  const scheduled = r.policies.filter((p) => p.result?.ok && !p.superseded).length;
  return message(STOPPED.summary(scheduled, r.policies.length), [
    section(STOPPED.headline(r.user, reason)),
    ...lines.map((line) => section(clip(line, PER_POLICY_MAX))),
    context(STOPPED.footer(reason, command)),
  ]);
}
