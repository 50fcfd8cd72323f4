/**
 * The Slack side of running a request record (the use case's `RequestSurface` port): access check,
 * the outcome post with its fallback, private notes and the held follow-ups, all with a Web client
 * for the record's workspace that never retries a write after a timeout (see slack-writes.ts).
 */
import type { webApi } from '@slack/bolt';
import type { Freezes } from '../../access/freeze.js';
import type { Metrics } from '../../metrics.js';
import type { RequestSurface } from '../../scheduling/run-request.js';
import { refusalText } from '../blocks/access.js';
import { approvedOutcomeMessage } from '../blocks/approval.js';
import { requestOutcomeMessage } from '../blocks/request.js';
import { deliver, tellPrivately } from '../outbound/deliver.js';
import { type FollowupDeps, followupsFit, replaceFollowups } from '../outbound/followups.js';
import { checkAccess, type PeopleDeps } from '../people/access.js';
import { editRequestMessage } from './approval-surface.js';

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
      // The emergency stop also catches what was accepted just before it.
      if ((await deps.freezes.get(r.workspace)).frozen) return { allowed: false, reason: 'frozen' };
      const access = await checkAccess(deps, await clientFor(r.workspace), {
        workspaceId: r.workspace,
        userId: r.user,
        channelId: r.channel,
      });
      return access.allowed
        ? { allowed: true, zone: access.profile.tz ?? 'UTC' }
        : { allowed: false, reason: access.reason };
    },
    async refuse(r, reason) {
      await tellPrivately(await clientFor(r.workspace), deps.logger, {
        channelId: r.channel,
        userId: r.user,
        text: refusalText(reason, deps.command),
      });
    },
    async announce(r) {
      const nowSeconds = Math.floor(deps.now() / 1000);
      const client = await clientFor(r.workspace);
      const outcome = requestOutcomeMessage(r, (at) => followupsFit(at, nowSeconds));
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
    async tell(r, text) {
      await tellPrivately(await clientFor(r.workspace), deps.logger, {
        channelId: r.channel,
        userId: r.user,
        text,
      });
    },
    async holdFollowups(r, step, channelId, indexed) {
      if (!step.result?.ok) return;
      await replaceFollowups(await clientFor(r.workspace), deps, {
        workspaceId: r.workspace,
        policyId: step.policyId,
        channelId,
        at: step.result.autoMoveToTrashAt ?? r.atSeconds,
        scheduledBy: r.user,
        target: step.result.target,
        requestCreatedAt: r.createdAt,
        ...(indexed ? { indexed } : {}),
      });
    },
  };
}
