/**
 * `app_home_opened`: publish the viewer's App Home. Each part that cannot be read says so. Upcoming
 * deletions (and their channels) are shown only to admins and to people the access policy allows
 * in at least one channel: App Home has no channel of its own.
 */
import type { App } from '@slack/bolt';
import { type UpcomingDeletion, upcomingPolicyIds } from '../../../scheduling/upcoming.js';
import { checkAccess } from '../../access.js';
import { homeView } from '../../blocks/home.js';
import { slackErrorCode, workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';

export function registerAppHome(app: App, deps: ListenerDeps): void {
  app.event('app_home_opened', async ({ event, client, context }) => {
    if (event.tab !== 'home') return;
    const workspaceId = workspaceIdOf(context);
    if (!workspaceId) return;
    const soft = async <T>(what: string, read: () => Promise<T>): Promise<T | null> => {
      try {
        return await read();
      } catch (error) {
        deps.logger.event('warn', 'app_home_part_failed', {
          part: what,
          error: slackErrorCode(error) ?? String(error),
        });
        return null;
      }
    };
    const nowSeconds = Math.floor(deps.now() / 1000);
    const [profile, token, access] = await Promise.all([
      soft('profile', () => deps.users.lookup(client, workspaceId, event.user)),
      soft('token', async () => {
        const s = await deps.tokens.status(workspaceId);
        if (!s.ok) throw new Error(s.failure.kind);
        return { status: s.status, fallback: s.fallback };
      }),
      soft('access', () => deps.access.get(workspaceId)),
    ]);
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
      ? await soft('upcoming', async () => {
          const ids = upcomingPolicyIds(await deps.auditLog.recent(workspaceId, 500), nowSeconds).slice(
            0,
            20,
          );
          const records = await Promise.all(ids.map((id) => deps.upcoming.get(workspaceId, id)));
          return records.filter((r): r is UpcomingDeletion => r !== null);
        })
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
          upcoming: seesSchedules ? (upcoming ?? []) : null,
          history: profile?.isAdmin ? (history ?? []) : null,
          nowSeconds,
        }),
      })
      .catch((error: unknown) =>
        deps.logger.event('warn', 'views_publish_failed', {
          slack_error: slackErrorCode(error) ?? String(error),
        }),
      );
  });
}
