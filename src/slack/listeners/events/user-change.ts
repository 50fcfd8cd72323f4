/**
 * `user_change`: Slack says a person's profile changed (made a guest or an admin, moved, renamed,
 * a new time zone). Their cached profile is dropped, so the next check asks `users.info`: the cache
 * can keep profiles for minutes (src/slack/people/users.ts) without acting on an old role here.
 */
import { workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';
import type { ListenerApp } from '../router.js';

export function registerUserChange(app: ListenerApp, deps: Pick<ListenerDeps, 'users'>): void {
  app.event('user_change', async ({ event, context }) => {
    const workspaceId = workspaceIdOf(context);
    const userId = (event.user as { id?: unknown } | undefined)?.id;
    if (workspaceId && typeof userId === 'string') deps.users.forget(workspaceId, userId);
  });
}
