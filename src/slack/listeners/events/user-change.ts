/**
 * `user_change`: Slack says a person's profile changed (made a guest or an admin, moved, renamed,
 * a new time zone). Their cached profiles are dropped, so the next check asks `users.info`: the cache
 * can keep profiles for minutes (src/slack/people/users.ts) without acting on an old role here.
 */
import type { ListenerDeps } from '../deps.js';
import type { ListenerApp } from '../router.js';

export function registerUserChange(app: ListenerApp, deps: Pick<ListenerDeps, 'users'>): void {
  app.event('user_change', async ({ event }) => {
    // Not only this installation's copy: on Enterprise Grid the event comes once, naming one of the
    // organization's workspaces, and the same person may be cached under several.
    const userId = (event.user as { id?: unknown } | undefined)?.id;
    if (typeof userId === 'string') deps.users.forget(userId);
  });
}
