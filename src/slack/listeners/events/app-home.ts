/**
 * `app_home_opened`, and its pager: publish the viewer's App Home. Each part that cannot be read
 * says so. Upcoming deletions come from their own index, paged, however old or large the audit log,
 * and (with their channels) are shown only to admins and to people the access policy allows in at
 * least one channel: App Home has no channel of its own.
 */
import type { App, BlockAction, ButtonAction, webApi } from '@slack/bolt';
import { approvalOf } from '../../../access/access-policy.js';
import { KEEP_AFTER_MOVE_SECONDS } from '../../../scheduling/upcoming.js';
import { PENDING_SHOWN } from '../../blocks/approval.js';
import { HOME_PAGE_SIZE, homeView } from '../../blocks/home.js';
import { ACTIONS } from '../../ids.js';
import { checkAccess, checkApprover } from '../../people/access.js';
import { slackErrorText, workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';

export function registerAppHome(app: App, deps: ListenerDeps): void {
  app.event('app_home_opened', async ({ event, client, context }) => {
    if (event.tab !== 'home') return;
    const workspaceId = workspaceIdOf(context);
    if (!workspaceId) return;
    await publishHome(deps, client, workspaceId, event.user, 0);
  });
  app.action<BlockAction<ButtonAction>>(ACTIONS.homePage, async ({ ack, action, body, client, context }) => {
    await ack();
    const workspaceId = workspaceIdOf(context);
    const offset = Number.parseInt(action.value ?? '0', 10);
    if (!workspaceId || !Number.isSafeInteger(offset) || offset < 0 || offset > 100_000) return;
    await publishHome(deps, client, workspaceId, body.user.id, offset);
  });
}

async function publishHome(
  deps: ListenerDeps,
  client: webApi.WebClient,
  workspaceId: string,
  userId: string,
  offset: number,
): Promise<void> {
  const event = { user: userId };
  {
    const soft = async <T>(what: string, read: () => Promise<T>): Promise<T | null> => {
      try {
        return await read();
      } catch (error) {
        deps.logger.event('warn', 'app_home_part_failed', {
          part: what,
          error: slackErrorText(error),
        });
        return null;
      }
    };
    const nowSeconds = Math.floor(deps.now() / 1000);
    const [profile, token, access, freeze] = await Promise.all([
      soft('profile', () => deps.users.lookup(client, workspaceId, event.user)),
      soft('token', async () => {
        const s = await deps.tokens.status(workspaceId);
        if (!s.ok) throw new Error(s.failure.kind);
        return { status: s.status, fallback: s.fallback };
      }),
      soft('access', () => deps.access.get(workspaceId)),
      soft('freeze', () => deps.freezes.get(workspaceId)),
    ]);
    // Requests waiting for approval: only to those who may decide them.
    const decides = (
      await checkApprover(deps, client, { workspaceId, userId: event.user, requesterId: null, fresh: false })
    ).allowed;
    const waiting = decides ? await soft('pending', () => deps.approvals.pending(workspaceId)) : null;
    const approvalsOn =
      access !== null && approvalOf(access, deps.approvals.requiredByDefault).mode !== 'off';
    const pending = waiting && (approvalsOn || waiting.length > 0) ? waiting : null;
    const seesSchedules =
      profile?.isAdmin === true ||
      (access !== null &&
        (
          await checkAccess(deps, client, {
            workspaceId,
            userId: event.user,
            channelId: access.channelIds[0] ?? '',
          })
        ).allowed);
    const upcoming = seesSchedules
      ? ((await soft('upcoming', () =>
          deps.upcoming.list(workspaceId, {
            fromSeconds: nowSeconds - KEEP_AFTER_MOVE_SECONDS,
            limit: HOME_PAGE_SIZE + 1,
            offset,
          }),
        )) ?? [])
      : null;
    const history = profile?.isAdmin
      ? await soft('history', () => deps.auditLog.recent(workspaceId, 10))
      : null;
    await client.views
      .publish({
        user_id: event.user,
        view: homeView({
          command: deps.command,
          token,
          access,
          upcoming: upcoming === null ? null : upcoming.slice(0, HOME_PAGE_SIZE),
          upcomingPage: { offset, more: (upcoming ?? []).length > HOME_PAGE_SIZE },
          history: profile?.isAdmin ? (history ?? []) : null,
          nowSeconds,
          freeze,
          pending: pending?.slice(0, PENDING_SHOWN) ?? null,
        }),
      })
      .catch((error: unknown) =>
        deps.logger.event('warn', 'views_publish_failed', {
          slack_error: slackErrorText(error),
        }),
      );
  }
}
