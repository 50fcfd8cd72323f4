/**
 * The request log: every accepted submission is one record in the store, written (with its
 * idempotency key) before Slack is acked. A worker leases the record, runs it step by step and
 * writes each step's outcome back, so that after a crash another worker repeats only what did not
 * finish. Records end `done`, `failed` or `superseded` (or `cancelled`, `denied`, `expired`), and
 * are kept for history until the retention sweep (retention.ts) removes them, a week after they
 * ended by default (REQUEST_RETENTION_DAYS); a record that has not ended is never removed.
 */
import type { ScheduledDeletion } from '../katapult/client.js';
import type { Explanation } from '../messages/explain.js';
import type { Docs } from '../store/docs.js';

export const REQUESTS = 'request';

export type RequestState =
  | 'pending'
  | 'calling'
  | 'done'
  | 'failed'
  | 'superseded'
  | 'cancelled'
  /** Posted for approval; held (see approvals.ts) until decided or expired. */
  | 'awaiting_approval'
  | 'denied'
  | 'expired';
export type Delivery = 'channel' | 'direct_message' | 'lost' | 'unknown';

/** What Katapult answered for one policy. */
export type PolicyResult =
  | {
      ok: true;
      autoMoveToTrashAt: number | null;
      target: ScheduledDeletion['target'];
      requestId: string | null;
    }
  | { ok: false; code: string; explanation: Explanation };

export interface PolicyStep {
  policyId: string;
  result?: PolicyResult;
  /** A newer schedule of the same policy was made since this request: it was not applied. */
  superseded?: boolean;
  /** The held reminder and restore offer were replaced. */
  followups?: boolean;
}

export interface RequestRecord {
  /** `<workspace>:<view id>`: Slack's own idempotency key for the submission. */
  id: string;
  workspace: string;
  user: string;
  channel: string;
  botUserId: string | null;
  /** Unix seconds. */
  atSeconds: number;
  /** Unix ms. */
  createdAt: number;
  retryNum: number | null;
  state: RequestState;
  attempts: number;
  policies: PolicyStep[];
  /** The requester's zone when the access check read it. */
  zone?: string | null;
  refused?: string;
  post?: { state: 'sending' } | { state: 'sent'; delivery: Delivery };
  audited?: boolean;
  /** Why the record ended `failed`. */
  error?: string;
  /** Set at submission when someone else must approve; covers every policy of the record at once. */
  approval?: ApprovalStep;
}

export interface ApprovalStep {
  /** Unix ms: after this the request can no longer be approved and the sweep closes it. */
  expiresAt: number;
  /** The request message in the channel (with its buttons), once posted. */
  messageTs?: string;
  /** The request was recorded in the audit log. */
  audited?: boolean;
  decision?: { by: string; at: number; approved: boolean; reason?: string };
}

/** A record waiting for approval is not active: no worker runs it (its hold, approvals.ts, expires it). */
const ACTIVE: ReadonlySet<RequestState> = new Set(['pending', 'calling']);

export interface RequestLog {
  /** Writes a new record with this worker's lease; false when the id exists (a duplicate delivery). */
  create(record: RequestRecord, owner: string, leaseMs: number): Promise<boolean>;
  get(id: string): Promise<RequestRecord | null>;
  /** Takes or renews the lease; null when another worker holds it or the record has ended. */
  lease(id: string, owner: string, leaseMs: number): Promise<RequestRecord | null>;
  /** Writes the record while `owner` holds the lease; false when the lease was lost. */
  save(record: RequestRecord, owner: string): Promise<boolean>;
  /** Writes the record without a lease: only for a decision on a waiting record, under its hold. */
  put(record: RequestRecord): Promise<void>;
  release(id: string, owner: string): Promise<void>;
  /**
   * The record as `create` wrote it, once, when `owner` created it here within the first third of
   * its lease (so the lease is surely still its own); null otherwise (then `lease` it).
   */
  takeFresh?(id: string, owner: string): RequestRecord | null;
  /** Records whose worker is gone (lease expired), oldest first. */
  abandoned(limit: number): Promise<string[]>;
  pending(): Promise<{ count: number; oldestCreatedAt: number | null }>;
  forget(workspace: string): Promise<void>;
  /** A workspace's requests created since `sinceMs` (newest last), at most `limit`. */
  since(workspace: string, sinceMs: number, limit: number): Promise<RequestRecord[]>;
}

/**
 * The record's place in time: its creation; while it waits for a decision, its expiry (so the
 * waiting ones are those from now on); once decided, the decision (the pending-age gauge reads the
 * oldest active record: an approved request counts from its approval).
 */
function sortOf(r: RequestRecord): number {
  if (r.state === 'awaiting_approval' && r.approval) return r.approval.expiresAt;
  return r.approval?.decision?.at ?? r.createdAt;
}

function parse(body: string): RequestRecord | null {
  try {
    const r = JSON.parse(body) as RequestRecord;
    return typeof r.id === 'string' && Array.isArray(r.policies) ? r : null;
  } catch {
    return null;
  }
}

/** Records created here and not yet taken by a worker, at most this many (the oldest go first). */
const FRESH_KEPT = 1_000;

export function createRequestLog(docs: Docs, now: () => number = Date.now): RequestLog {
  const fresh = new Map<string, { record: RequestRecord; owner: string; until: number }>();
  return {
    async create(record, owner, leaseMs) {
      const created = await docs.insert(REQUESTS, {
        key: record.id,
        partition: record.workspace,
        sort: record.createdAt,
        active: ACTIVE.has(record.state),
        body: JSON.stringify(record),
        lease: { owner, ttlMs: leaseMs },
      });
      if (created) {
        if (fresh.size >= FRESH_KEPT) fresh.delete(fresh.keys().next().value as string);
        fresh.set(record.id, { record: structuredClone(record), owner, until: now() + leaseMs / 3 });
      }
      return created;
    },
    takeFresh(id, owner) {
      const entry = fresh.get(id);
      if (!entry) return null;
      fresh.delete(id);
      return entry.owner === owner && now() < entry.until ? entry.record : null;
    },
    async get(id) {
      const row = await docs.get(REQUESTS, id);
      return row ? parse(row.body) : null;
    },
    async lease(id, owner, leaseMs) {
      const row = await docs.lease(REQUESTS, id, owner, leaseMs);
      return row ? parse(row.body) : null;
    },
    save(record, owner) {
      return docs.update(REQUESTS, record.id, owner, {
        body: JSON.stringify(record),
        active: ACTIVE.has(record.state),
        sort: sortOf(record),
      });
    },
    put(record) {
      return docs.upsert(REQUESTS, {
        key: record.id,
        partition: record.workspace,
        sort: sortOf(record),
        active: ACTIVE.has(record.state),
        body: JSON.stringify(record),
      });
    },
    release: (id, owner) => docs.release(REQUESTS, id, owner),
    abandoned: (limit) => docs.expired(REQUESTS, limit),
    async pending() {
      const stats = await docs.activeStats(REQUESTS);
      return { count: stats.count, oldestCreatedAt: stats.oldestSort };
    },
    forget: (workspace) => docs.removePartition(REQUESTS, workspace),
    async since(workspace, sinceMs, limit) {
      const rows = await docs.list(REQUESTS, workspace, { minSort: sinceMs, limit });
      return rows.flatMap((row) => parse(row.body) ?? []);
    },
  };
}
