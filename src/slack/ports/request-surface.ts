/**
 * The Slack side of running a request record (the use case's `RequestSurface` port): the emergency
 * stop and access check asked before every Katapult call, the outcome post with its fallback (or,
 * for a request that stopped, why), private notes and the held follow-ups, all with a Web client for
 * the record's workspace that never retries a write after a timeout (see slack-writes.ts).
 */
import type { webApi } from '@slack/bolt';
import type { Freezes } from '../../access/freeze.js';
import { STOPPED } from '../../messages/stopped.js';
import type { Metrics } from '../../metrics.js';
import { orderOf, type RequestRecord } from '../../scheduling/request-log.js';
import type { RequestSurface } from '../../scheduling/run-request.js';
import { refusalText } from '../blocks/access.js';
import { approvedOutcomeMessage } from '../blocks/approval.js';
import { clip, context, message, type SlackMessage, section } from '../blocks/common.js';
import { requestOutcomeMessage } from '../blocks/request.js';
import { markedMessage, markedText } from '../blocks/workflow.js';
import { deliver, tellPrivately } from '../outbound/deliver.js';
import { type FollowupDeps, followupsFit, replaceFollowups } from '../outbound/followups.js';
import { checkAccess, type PeopleDeps } from '../people/access.js';
import { editRequestMessage, tellRequester } from './approval-surface.js';

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
      // (cached for seconds) with the requester's Slack profile (cached for a minute), read together.
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
    async announce(r) {
      const nowSeconds = Math.floor(deps.now() / 1000);
      const client = await clientFor(r.workspace);
      const outcome = markedMessage(
        r,
        r.stopped
          ? stoppedMessage(r, deps.command)
          : requestOutcomeMessage(r, (at) => followupsFit(at, nowSeconds)),
      );
      // An approved request: its message in the channel turns into the outcome (else, a new post).
      if (
        r.approval?.decision?.approved &&
        (await editRequestMessage(client, deps, r, approvedOutcomeMessage(r, outcome)))
      )
        return 'channel';
      return deliver(
        client,
        deps.logger,
        { channelId: r.channel, userId: r.user, botUserId: r.botUserId, message: outcome },
        deps.metrics,
      );
    },
    tell: (r, text) => tellRequester(deps.logger, clientFor, r, text),
    async holdFollowups(r, step, channelId, indexed) {
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
      });
    },
  };
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
