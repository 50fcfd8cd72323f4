/**
 * What the bot needs to know about Slack users (zone, admin or not, user group membership), from
 * `users.info` and `usergroups.users.list`, cached briefly so a command followed by a submission
 * costs one call. These caches only save calls: nothing in them must be shared between replicas.
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
  /** `fresh`: ask Slack even when cached (admin checks before a change). */
  lookup(
    client: webApi.WebClient,
    workspaceId: string,
    userId: string,
    options?: { fresh?: boolean },
  ): Promise<SlackUserProfile>;
  /** Whether the user is in any of these user groups. */
  memberOfAny(
    client: webApi.WebClient,
    workspaceId: string,
    userId: string,
    groupIds: string[],
  ): Promise<boolean>;
}

class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly max = 5000,
  ) {}

  get(key: string): V | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expires > this.now()) return entry.value;
    this.entries.delete(key);
    return null;
  }

  set(key: string, value: V): V {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
    return value;
  }
}

export function createUserDirectory(options: {
  ttlMs: number;
  groupTtlMs: number;
  now: () => number;
}): UserDirectory {
  const profiles = new TtlCache<SlackUserProfile>(options.ttlMs, options.now);
  const groups = new TtlCache<Set<string>>(options.groupTtlMs, options.now);
  const members = async (client: webApi.WebClient, workspaceId: string, groupId: string) => {
    const hit = groups.get(`${workspaceId}:${groupId}`);
    if (hit) return hit;
    const { users } = await client.usergroups.users.list({ usergroup: groupId });
    return groups.set(`${workspaceId}:${groupId}`, new Set(users ?? []));
  };
  return {
    cached: (workspaceId, userId) => profiles.get(`${workspaceId}:${userId}`),
    async lookup(client, workspaceId, userId, options = {}) {
      const hit = options.fresh ? null : profiles.get(`${workspaceId}:${userId}`);
      if (hit) return hit;
      const { user } = await client.users.info({ user: userId });
      return profiles.set(`${workspaceId}:${userId}`, {
        tz: safeZone(user?.tz),
        isAdmin: Boolean(user?.is_admin || user?.is_owner || user?.is_primary_owner),
      });
    },
    async memberOfAny(client, workspaceId, userId, groupIds) {
      for (const groupId of groupIds) {
        if ((await members(client, workspaceId, groupId)).has(userId)) return true;
      }
      return false;
    },
  };
}
