/**
 * `app_home_opened`, and its pager: publish the viewer's App Home. What the viewer may see is the
 * use case's (src/scheduling/home.ts); Slack's facts about the viewer come from here.
 */
import type { BlockAction, ButtonAction, webApi } from '@slack/bolt';
import { PENDING_SHOWN } from '../../blocks/approval.js';
import { HOME_PAGE_SIZE, homeView } from '../../blocks/home.js';
import { ACTIONS } from '../../ids.js';
import { PROFILE_TTL_MS } from '../../people/users.js';
import { slackErrorText, workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';
import type { ListenerApp } from '../router.js';

export function registerAppHome(app: ListenerApp, deps: ListenerDeps): void {
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
  const home = await deps.readHome(
    { workspaceId, offset, pageSize: HOME_PAGE_SIZE },
    {
      profile: () => deps.users.lookup(client, workspaceId, userId),
      mayDecide: async () =>
        (await deps.people.mayApprove(client, { workspaceId, userId, requesterId: null, fresh: false }))
          .allowed,
      mayScheduleIn: async (channelId) =>
        (await deps.people.mayUse(client, { workspaceId, userId, channelId, maxAgeMs: PROFILE_TTL_MS }))
          .allowed,
      partFailed: (part, error) =>
        deps.logger.event('warn', 'app_home_part_failed', { part, error: slackErrorText(error) }),
    },
  );
  await client.views
    .publish({
      user_id: userId,
      view: homeView({
        command: deps.command,
        token: home.token,
        access: home.access,
        upcoming: home.upcoming?.items ?? null,
        upcomingPage: { offset, more: home.upcoming?.more ?? false },
        history: home.history,
        nowSeconds: home.nowSeconds,
        freeze: home.freeze,
        pending: home.pending?.slice(0, PENDING_SHOWN) ?? null,
      }),
    })
    .catch((error: unknown) =>
      deps.logger.event('warn', 'views_publish_failed', {
        slack_error: slackErrorText(error),
      }),
    );
}
