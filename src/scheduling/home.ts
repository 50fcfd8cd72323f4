/**
 * The use case behind App Home: what one person may see of the workspace's state. Each part that
 * cannot be read is left out (null) and reported, never fatal. Upcoming deletions come from their
 * own index, paged, and (with their channels) only for admins and people the access policy allows
 * in at least one channel: App Home has no channel of its own. Requests waiting for approval only
 * for those who may decide them; the history only for admins.
 */
import { type AccessPolicies, type AccessPolicy, approvalOf } from '../access/access-policy.js';
import type { FreezeState, Freezes } from '../access/freeze.js';
import type { AuditEntry, AuditLog } from '../store/store.js';
import type { TokenStatus } from '../store/token-store.js';
import type { WorkspaceTokens } from '../tokens/workspace-tokens.js';
import type { PendingApprovals } from './history.js';
import type { RequestRecord } from './request-log.js';
import { KEEP_AFTER_MOVE_SECONDS, type UpcomingDeletion, type UpcomingDeletions } from './upcoming.js';

export interface ReadHomeDeps {
  tokens: Pick<WorkspaceTokens, 'status'>;
  access: Pick<AccessPolicies, 'get'>;
  freezes: Pick<Freezes, 'get'>;
  upcoming: Pick<UpcomingDeletions, 'list'>;
  trail: Pick<AuditLog, 'recent'>;
  pending: PendingApprovals;
  /** The deployment's approval default. */
  requiredByDefault: boolean;
  now: () => number;
}

/** The person looking, as Slack knows them (each asked only when needed). */
export interface HomeViewer {
  profile(): Promise<{ isAdmin: boolean }>;
  /** Whether they may decide this workspace's requests for approval (false when it cannot be told). */
  mayDecide(): Promise<boolean>;
  /** Whether the access policy lets them schedule in this channel. */
  mayScheduleIn(channelId: string): Promise<boolean>;
  /** A part could not be read: it is left out. */
  partFailed(part: string, error: unknown): void;
}

export interface Home {
  nowSeconds: number;
  token: { status: TokenStatus | null; fallback: boolean } | null;
  access: AccessPolicy | null;
  freeze: FreezeState | null;
  /** This page (from `offset`, at most `pageSize`); null when the viewer may not see them. */
  upcoming: { items: UpcomingDeletion[]; more: boolean } | null;
  /** Null when the viewer is not an admin. */
  history: AuditEntry[] | null;
  /** Null when the viewer may not decide them, or approvals are off and none waits. */
  pending: RequestRecord[] | null;
}

export type ReadHome = (
  input: { workspaceId: string; offset: number; pageSize: number },
  viewer: HomeViewer,
) => Promise<Home>;

export function createReadHome(deps: ReadHomeDeps): ReadHome {
  return async ({ workspaceId, offset, pageSize }, viewer) => {
    const soft = async <T>(part: string, read: () => Promise<T>): Promise<T | null> => {
      try {
        return await read();
      } catch (error) {
        viewer.partFailed(part, error);
        return null;
      }
    };
    const nowSeconds = Math.floor(deps.now() / 1000);
    const [profile, token, access, freeze] = await Promise.all([
      soft('profile', () => viewer.profile()),
      soft('token', async () => {
        const s = await deps.tokens.status(workspaceId);
        if (!s.ok) throw new Error(s.failure.kind);
        return { status: s.status, fallback: s.fallback };
      }),
      soft('access', () => deps.access.get(workspaceId)),
      soft('freeze', () => deps.freezes.get(workspaceId)),
    ]);
    const waiting = (await viewer.mayDecide())
      ? await soft('pending', () => deps.pending(workspaceId))
      : null;
    const approvalsOn = access !== null && approvalOf(access, deps.requiredByDefault).mode !== 'off';
    const pending = waiting && (approvalsOn || waiting.length > 0) ? waiting : null;
    const seesSchedules =
      profile?.isAdmin === true ||
      (access !== null && (await viewer.mayScheduleIn(access.channelIds[0] ?? '')));
    const upcoming = seesSchedules
      ? ((await soft('upcoming', () =>
          deps.upcoming.list(workspaceId, {
            fromSeconds: nowSeconds - KEEP_AFTER_MOVE_SECONDS,
            limit: pageSize + 1,
            offset,
          }),
        )) ?? [])
      : null;
    const history = profile?.isAdmin ? await soft('history', () => deps.trail.recent(workspaceId, 10)) : null;
    return {
      nowSeconds,
      token,
      access,
      freeze,
      upcoming:
        upcoming === null ? null : { items: upcoming.slice(0, pageSize), more: upcoming.length > pageSize },
      history: profile?.isAdmin ? (history ?? []) : null,
      pending,
    };
  };
}
