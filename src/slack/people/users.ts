/**
 * What the bot needs to know about Slack users (zone, admin or not, guest or external, user group membership), from
 * `users.info` and `usergroups.users.list`, cached so a command followed by a submission costs one
 * call. These caches only save calls: nothing in them must be shared between replicas.
 *
 * A profile is kept for PROFILE_TTL_MS, and dropped as soon as Slack says the person changed (the
 * `user_change` event, src/slack/listeners/events/user-change.ts) on the replica that receives it.
 * Decisions read it only while it is DECISION_MAX_AGE_MS old at most, so on other replicas a change
 * counts within that, as before profiles were kept longer; admin checks ask Slack (`fresh`). Only
 * what the forms show (opening the scheduling form, App Home) may read it for the full 10 minutes.
 */
import type { webApi } from '@slack/bolt';
import { safeZone } from '../../time/local.js';

export interface SlackUserProfile {
  tz: string;
  /** A member admin or owner of the workspace (of the organization, for an org-wide install). */
  isAdmin: boolean;
  /** A single- or multi-channel guest. */
  guest: boolean;
  /** Not a member of this workspace: a Slack Connect user from another organization, or a stranger. */
  external: boolean;
}

type SlackUser = NonNullable<webApi.UsersInfoResponse['user']>;

/** Org-wide installs are kept under the enterprise ID (`E…`), team installs under the team (`T…`). */
const isOrgWide = (workspaceId: string) => workspaceId.startsWith('E');

/**
 * Whether the user belongs to the workspace. On Enterprise Grid `team_id` may be the org's `E…`
 * ID, so the enterprise and the user's list of workspaces count too.
 */
function isMember(user: SlackUser, workspaceId: string): boolean {
  if (user.is_stranger) return false;
  const org = user.enterprise_user;
  return (
    user.team_id === workspaceId ||
    (org?.enterprise_id !== undefined && org.enterprise_id === workspaceId) ||
    (org?.teams ?? []).includes(workspaceId)
  );
}

export function profileOf(user: SlackUser | undefined, workspaceId: string): SlackUserProfile {
  const member = user !== undefined && isMember(user, workspaceId);
  const guest = Boolean(user?.is_restricted || user?.is_ultra_restricted);
  // An org-wide install answers to the organization's admins; a workspace-level admin of one
  // workspace is not one. Someone from another organization is never an admin here.
  const admin = isOrgWide(workspaceId)
    ? Boolean(
        user?.enterprise_user?.is_admin ||
          user?.enterprise_user?.is_owner ||
          user?.enterprise_user?.is_primary_owner,
      )
    : Boolean(user?.is_admin || user?.is_owner || user?.is_primary_owner);
  return { tz: safeZone(user?.tz), isAdmin: member && !guest && admin, guest, external: !member };
}

export interface UserDirectory {
  /** Cached profile, if one is kept: lets the command skip a network call before `views.open`. */
  cached(workspaceId: string, userId: string): SlackUserProfile | null;
  /**
   * `fresh`: ask Slack even when cached (admin checks). `maxAgeMs`: the oldest cached profile this
   * caller accepts (default PROFILE_TTL_MS; decisions pass DECISION_MAX_AGE_MS).
   */
  lookup(
    client: webApi.WebClient,
    workspaceId: string,
    userId: string,
    options?: { fresh?: boolean; maxAgeMs?: number },
  ): Promise<SlackUserProfile>;
  /**
   * Slack said the person changed (`user_change`): their next lookup, in any workspace, asks
   * `users.info` again (a user ID names one person across an Enterprise Grid organization).
   */
  forget(userId: string): void;
  /** Whether the user is in any of these user groups. */
  memberOfAny(
    client: webApi.WebClient,
    workspaceId: string,
    userId: string,
    groupIds: string[],
  ): Promise<boolean>;
}

/**
 * Profiles kept (per workspace and person), at most: enough for a person in each of 10,000
 * workspaces and more, so that with traffic spread over that many a profile is still there when its
 * person comes back within the TTL (with 5,000, a round of 10,000 workspaces found none). About 200
 * bytes each: 4 MB when full.
 */
const PROFILES_KEPT = 20_000;
/**
 * How long a profile is kept without a `user_change` from Slack: 10 minutes. Longer than one pass of
 * a busy deployment over 10,000 workspaces (60–80 s on the benchmark machine), so a person coming
 * back costs no `users.info` (a Tier 4 method, rate-limited per workspace).
 */
export const PROFILE_TTL_MS = 10 * 60_000;
/** The oldest profile an access decision accepts: a change seen on another replica counts within it. */
export const DECISION_MAX_AGE_MS = 60_000;
/** People marked changed whose marks are kept; past it, every kept profile is dropped instead. */
const CHANGES_KEPT = 20_000;
/** How long a user group's member list is kept (no event is subscribed for group changes). */
export const GROUP_TTL_MS = 60_000;
/** Group member lists kept (per workspace and group): each can hold thousands of IDs. */
const GROUPS_KEPT = 5000;

/** Entries kept for `ttlMs` at most, `max` of them (the oldest written go first). */
class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly max: number,
  ) {}

  /** The value if kept and younger than `maxAgeMs`; one past the TTL, or `stale`, is dropped. */
  get(key: string, maxAgeMs = this.ttlMs, stale?: (value: V) => boolean): V | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    const age = this.now() - entry.at;
    if (age >= this.ttlMs || stale?.(entry.value)) {
      this.entries.delete(key);
      return null;
    }
    return age < maxAgeMs ? entry.value : null;
  }

  set(key: string, value: V): V {
    this.entries.delete(key);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, at: this.now() });
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}

export function createUserDirectory(options: {
  ttlMs?: number;
  groupTtlMs?: number;
  now: () => number;
}): UserDirectory {
  const { now } = options;
  const ttlMs = options.ttlMs ?? PROFILE_TTL_MS;
  /** By `workspace:user`; `seq`: the `changes` count when users.info was asked. */
  const profiles = new TtlCache<{ profile: SlackUserProfile; seq: number }>(ttlMs, now, PROFILES_KEPT);
  /** The `changes` count at each person's last user_change. */
  const changed = new Map<string, number>();
  const groups = new TtlCache<Set<string>>(options.groupTtlMs ?? GROUP_TTL_MS, now, GROUPS_KEPT);
  /** `user_change` events seen; the count when the marks were last cleared (CHANGES_KEPT): a mark is above it. */
  let changes = 0;
  let cleared = 0;
  // Stale: Slack said the person changed after users.info was asked (or the marks were cleared).
  const kept = (workspaceId: string, userId: string, maxAgeMs: number) =>
    profiles.get(`${workspaceId}:${userId}`, maxAgeMs, (v) => v.seq < (changed.get(userId) ?? cleared))
      ?.profile ?? null;
  const members = async (client: webApi.WebClient, workspaceId: string, groupId: string) => {
    const hit = groups.get(`${workspaceId}:${groupId}`);
    if (hit) return hit;
    const { users } = await client.usergroups.users.list({ usergroup: groupId });
    return groups.set(`${workspaceId}:${groupId}`, new Set(users ?? []));
  };
  return {
    cached: (workspaceId, userId) => kept(workspaceId, userId, ttlMs),
    async lookup(client, workspaceId, userId, options = {}) {
      const hit = options.fresh ? null : kept(workspaceId, userId, options.maxAgeMs ?? ttlMs);
      if (hit) return hit;
      const asked = changes;
      const { user } = await client.users.info({ user: userId });
      const profile = profileOf(user, workspaceId);
      // Kept with the count it was asked at: a change announced meanwhile makes it stale (above).
      return profiles.set(`${workspaceId}:${userId}`, { profile, seq: asked }).profile;
    },
    forget(userId) {
      changes++;
      changed.set(userId, changes);
      // Too many marks to keep: dropping every profile is as safe, and bounded.
      if (changed.size > CHANGES_KEPT) {
        changed.clear();
        profiles.clear();
        cleared = changes;
      }
    },
    async memberOfAny(client, workspaceId, userId, groupIds) {
      for (const groupId of groupIds) {
        if ((await members(client, workspaceId, groupId)).has(userId)) return true;
      }
      return false;
    },
  };
}
