/**
 * Who may schedule deletions in a workspace, and where. Default-deny: a workspace with no stored
 * policy allows only its admins and owners (unless the deployment sets another default).
 */
import type Keyv from 'keyv';

export type Who = 'admins' | 'groups' | 'everyone';

export interface AccessPolicy {
  who: Who;
  /** Slack user group IDs whose members may schedule (with `who: 'groups'`). Admins always may. */
  groupIds: string[];
  /** Channels where scheduling is allowed; empty means any channel. Applies to everyone. */
  channelIds: string[];
  /** Guests (single- and multi-channel) are refused unless this is set. */
  allowGuests?: boolean;
  /** People from other organizations (Slack Connect) are refused unless this is set. */
  allowExternal?: boolean;
  /** Policies one person may schedule in a rolling 24 hours: absent, the deployment's default; null, unlimited. */
  maxPerUserPerDay?: number | null;
  /** Who must approve a submission before it runs; absent: the deployment default. */
  approval?: ApprovalPolicy;
  updatedBy: string | null;
  updatedAt: number | null;
  // Workflow Builder step (issue 21, item 4): appended here.
  /**
   * Requests started by a Workflow Builder step are refused unless this is set: a workflow's author
   * names who asks, so an admin turns them on. They then follow the rules above for the person named.
   */
  allowWorkflows?: boolean;
}

/**
 * `off`: no approval. `admins`: one workspace admin or owner. `groups`: one member of `groupIds`
 * (admins too). Never the person who asked, never a guest or someone from another organization.
 */
export type ApprovalMode = 'off' | 'admins' | 'groups';
export interface ApprovalPolicy {
  mode: ApprovalMode;
  groupIds: string[];
}

/** The approval that applies: the stored choice, else the deployment's (`KATAPULT_REQUIRE_APPROVAL`). */
export function approvalOf(policy: AccessPolicy, deploymentRequires: boolean): ApprovalPolicy {
  const stored = policy.approval;
  if (stored?.mode === 'groups' && stored.groupIds.length === 0) return { mode: 'admins', groupIds: [] };
  return stored ?? { mode: deploymentRequires ? 'admins' : 'off', groupIds: [] };
}

export type ApproverRefusal = 'not_approver' | 'guest' | 'external' | 'own_request';

/**
 * Whether this person may approve (or deny) someone else's request. With approvals since turned
 * off, admins can still decide the requests left waiting.
 */
export async function mayApprove(
  approval: ApprovalPolicy,
  facts: Omit<AccessFacts, 'channelId'> & { isRequester: boolean },
): Promise<{ allowed: true } | { allowed: false; reason: ApproverRefusal }> {
  if (facts.isRequester) return { allowed: false, reason: 'own_request' };
  if (facts.external) return { allowed: false, reason: 'external' };
  if (facts.guest) return { allowed: false, reason: 'guest' };
  if (facts.isAdmin) return { allowed: true };
  if (approval.mode === 'groups' && (await facts.memberOfAny(approval.groupIds))) return { allowed: true };
  return { allowed: false, reason: 'not_approver' };
}

export const defaultPolicy = (who: Who): AccessPolicy => ({
  who,
  groupIds: [],
  channelIds: [],
  updatedBy: null,
  updatedAt: null,
});

export type Refusal = 'not_admin' | 'not_in_group' | 'channel_not_allowed' | 'guest' | 'external';
export type AccessDecision = { allowed: true } | { allowed: false; reason: Refusal };

export interface AccessFacts {
  isAdmin: boolean;
  guest: boolean;
  external: boolean;
  channelId: string;
  /** Asked only when the policy needs it. */
  memberOfAny(groupIds: string[]): Promise<boolean>;
}

export async function decide(policy: AccessPolicy, facts: AccessFacts): Promise<AccessDecision> {
  // Before anything else: "everyone" means the workspace's members, not its guests or visitors.
  if (facts.external && !policy.allowExternal) return { allowed: false, reason: 'external' };
  if (facts.guest && !policy.allowGuests) return { allowed: false, reason: 'guest' };
  if (policy.channelIds.length > 0 && !policy.channelIds.includes(facts.channelId)) {
    return { allowed: false, reason: 'channel_not_allowed' };
  }
  if (facts.isAdmin || policy.who === 'everyone') return { allowed: true };
  if (policy.who === 'groups' && policy.groupIds.length > 0) {
    return (await facts.memberOfAny(policy.groupIds))
      ? { allowed: true }
      : { allowed: false, reason: 'not_in_group' };
  }
  return { allowed: false, reason: 'not_admin' };
}

const ID = /^[A-Z0-9]{2,}$/;

/** The limit that applies in a workspace: its admins' choice, else the deployment's default. */
export const dailyLimitOf = (policy: AccessPolicy, fallback: number | null): number | null =>
  policy.maxPerUserPerDay === undefined ? fallback : policy.maxPerUserPerDay;

function isPolicy(value: unknown): value is AccessPolicy {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const ids = (x: unknown) => Array.isArray(x) && x.every((i) => typeof i === 'string' && ID.test(i));
  const flag = (x: unknown) => x === undefined || typeof x === 'boolean';
  const limit = (x: unknown) =>
    x === undefined || x === null || (Number.isSafeInteger(x) && (x as number) > 0);
  const approval = (x: unknown) => {
    if (x === undefined) return true;
    if (typeof x !== 'object' || x === null) return false;
    const a = x as Record<string, unknown>;
    return (a.mode === 'off' || a.mode === 'admins' || a.mode === 'groups') && ids(a.groupIds);
  };
  return (
    (v.who === 'admins' || v.who === 'groups' || v.who === 'everyone') &&
    ids(v.groupIds) &&
    ids(v.channelIds) &&
    flag(v.allowGuests) &&
    flag(v.allowExternal) &&
    limit(v.maxPerUserPerDay) &&
    approval(v.approval) &&
    flag(v.allowWorkflows)
  );
}

export interface AccessPolicies {
  get(workspaceId: string): Promise<AccessPolicy>;
  /** What `get` would answer from its cache without reading the store; undefined when it would read. */
  peek(workspaceId: string): AccessPolicy | undefined;
  set(workspaceId: string, policy: AccessPolicy): Promise<void>;
  remove(workspaceId: string): Promise<void>;
}

/**
 * Read-through, with a few seconds' cache per workspace: every command and submission asks, and a
 * change made on another replica reaches this one within `cacheMs` (a change made here, at once).
 */
export function createAccessPolicies(
  kv: Keyv,
  fallback: Who,
  options: { cacheMs?: number; now?: () => number } = {},
): AccessPolicies {
  const key = (w: string) => `access:${w}`;
  const cacheMs = options.cacheMs ?? 5000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { policy: AccessPolicy | null; at: number }>();
  const stored = async (workspaceId: string): Promise<AccessPolicy | null> => {
    const hit = cache.get(workspaceId);
    if (hit && now() - hit.at < cacheMs) return hit.policy;
    const value: unknown = await kv.get(key(workspaceId));
    const policy = isPolicy(value) ? value : null;
    if (cache.size > 10_000) cache.clear();
    cache.set(workspaceId, { policy, at: now() });
    return policy;
  };
  return {
    async get(workspaceId) {
      return (await stored(workspaceId)) ?? defaultPolicy(fallback);
    },
    peek(workspaceId) {
      const hit = cache.get(workspaceId);
      return hit && now() - hit.at < cacheMs ? (hit.policy ?? defaultPolicy(fallback)) : undefined;
    },
    async set(workspaceId, policy) {
      if (!isPolicy(policy)) throw new TypeError('invalid access policy');
      await kv.set(key(workspaceId), policy);
      cache.delete(workspaceId);
    },
    async remove(workspaceId) {
      await kv.delete(key(workspaceId));
      cache.delete(workspaceId);
    },
  };
}
