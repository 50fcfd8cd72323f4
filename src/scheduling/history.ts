/**
 * The use cases that read what happened: the history (`/katapult history`, admins only) and the
 * requests still waiting for a decision (shown with it and in App Home).
 */
import type { AuditEntry, AuditLog } from '../store/store.js';
import type { RequestLog, RequestRecord } from './request-log.js';

export type { AuditEntry, RequestRecord };

const HISTORY_LIMIT = 20;
/** A workspace's requests read to find those still waiting (they are sorted by their expiry). */
const PENDING_READ_LIMIT = 500;

/** Requests of the workspace waiting for a decision, oldest first. */
export type PendingApprovals = (workspaceId: string) => Promise<RequestRecord[]>;

export function createPendingApprovals(deps: {
  requests: Pick<RequestLog, 'since'>;
  now: () => number;
}): PendingApprovals {
  return async (workspaceId) => {
    // A waiting record is sorted by its expiry (request-log.ts): from now on, only those are left.
    const records = await deps.requests.since(workspaceId, deps.now(), PENDING_READ_LIMIT);
    return records.filter(
      (r) => r.state === 'awaiting_approval' && (r.approval?.expiresAt ?? 0) > deps.now(),
    );
  };
}

export type History =
  | { allowed: false }
  /** `entries`: newest first; `pending`: requests waiting for a decision. */
  | { allowed: true; entries: AuditEntry[]; pending: RequestRecord[] };

/** A failure to read (Slack or the store) is thrown: the caller says so and logs it. */
export type ReadHistory = (workspaceId: string, viewer: { isAdmin(): Promise<boolean> }) => Promise<History>;

export function createReadHistory(deps: {
  trail: Pick<AuditLog, 'recent'>;
  pending: PendingApprovals;
}): ReadHistory {
  return async (workspaceId, viewer) => {
    if (!(await viewer.isAdmin())) return { allowed: false };
    const entries = await deps.trail.recent(workspaceId, HISTORY_LIMIT);
    return { allowed: true, entries, pending: await deps.pending(workspaceId) };
  };
}
