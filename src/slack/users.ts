/**
 * What the bot needs to know about a Slack user (zone, admin or not), from `users.info`, cached
 * briefly so a command followed by a submission costs one call.
 */
import type { webApi } from '@slack/bolt';
import { safeZone } from '../time/when.js';

export interface SlackUserProfile {
  tz: string;
  isAdmin: boolean;
}

export interface UserDirectory {
  /** Cached profile, if one is fresh: lets the command skip a network call before `views.open`. */
  cached(workspaceId: string, userId: string): SlackUserProfile | null;
  lookup(client: webApi.WebClient, workspaceId: string, userId: string): Promise<SlackUserProfile>;
}

export function createUserDirectory(options: {
  ttlMs: number;
  now: () => number;
  maxEntries?: number;
}): UserDirectory {
  const entries = new Map<string, { profile: SlackUserProfile; expires: number }>();
  const max = options.maxEntries ?? 5000;
  const key = (w: string, u: string) => `${w}:${u}`;
  const cached = (workspaceId: string, userId: string) => {
    const entry = entries.get(key(workspaceId, userId));
    if (!entry) return null;
    if (entry.expires <= options.now()) {
      entries.delete(key(workspaceId, userId));
      return null;
    }
    return entry.profile;
  };
  return {
    cached,
    async lookup(client, workspaceId, userId) {
      const hit = cached(workspaceId, userId);
      if (hit) return hit;
      const { user } = await client.users.info({ user: userId });
      const profile: SlackUserProfile = {
        tz: safeZone(user?.tz),
        isAdmin: Boolean(user?.is_admin || user?.is_owner || user?.is_primary_owner),
      };
      if (entries.size >= max) entries.delete(entries.keys().next().value as string);
      entries.set(key(workspaceId, userId), { profile, expires: options.now() + options.ttlMs });
      return profile;
    },
  };
}
