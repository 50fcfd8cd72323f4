/**
 * The request log: every accepted submission is one record in the store, written (with its
 * idempotency key) before Slack is acked. A worker leases the record, runs it step by step and
 * writes each step's outcome back, so that after a crash another worker repeats only what did not
 * finish. Records end `done`, `failed`, `superseded` or `stopped` (or `cancelled`, `denied`,
 * `expired`), and
 * are kept for history until the retention sweep (retention.ts) removes them, a week after they
 * ended by default (REQUEST_RETENTION_DAYS); a record that has not ended is never removed.
 */
import type { ScheduledDeletion } from '../katapult/client.js';
import type { Explanation } from '../messages/explain.js';
import { clipStored } from '../messages/stored.js';
import type { DocRow, Docs } from '../store/docs.js';

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
  | 'expired'
  /**
   * Stopped before it finished: the emergency stop or the requester's access, checked again before
   * a Katapult call, refused it (`stopped` says why). Nothing more was called.
   */
  | 'stopped';
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
  /** Unix ms, on the clock of the replica that took the submission in. */
  createdAt: number;
  /**
   * Unix ms on the store's clock when the record was written at intake (Docs.insertStamped): which
   * of two requests is newer is decided by it (`orderOf`), the same for every replica whatever its
   * clock. Absent on records written before it existed.
   */
  storedAt?: number;
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
  /**
   * Why the record stopped (the state `stopped`): `frozen`, or the access refusal; when (unix ms);
   * `unsure`: an earlier run (before a restart) may have sent the policies that have no outcome.
   */
  stopped?: { reason: string; at: number; unsure?: boolean };
  /** A record that could not be read ended `failed`: its body as it was (clipped), for a person to look at. */
  unreadableBody?: string;
  // Workflow Builder step (issue 21, item 4): appended here, see src/scheduling/workflow-step.ts.
  /** Started by a Workflow Builder step: the step is completed from the record's end, once. */
  workflow?: WorkflowStep;
  // --- The request's one message and its thread (issue 21). Absent on records from before it. ---
  /**
   * The thread the request lives in, when it started from a message (a message shortcut): its
   * message and every follow-up are replies there. Absent: the request's message starts its own thread.
   */
  threadTs?: string;
  /**
   * The request's one message, once posted (written by the surface's `announce`, or with the
   * approval request): edited in place as the request's state changes; its thread holds the rest.
   */
  message?: RequestMessage;
}

/**
 * Where a request's message is: the conversation as Slack reported it (a DM's D… ID for the private
 * fallback), its ts, and the thread its replies go in (its own ts, or the thread it was posted in).
 */
export interface RequestMessage {
  channel: string;
  ts: string;
  threadTs: string;
}

/** The request's message: the one recorded, else (a record from before it) its approval request's. */
export function requestMessageOf(r: RequestRecord): RequestMessage | null {
  if (r.message) return r.message;
  const ts = r.approval?.messageTs;
  return ts ? { channel: r.channel, ts, threadTs: r.threadTs ?? ts } : null;
}

/** The Workflow Builder step a request was started by (src/scheduling/workflow-step.ts). */
export interface WorkflowStep {
  /** Slack's `function_execution_id`. */
  executionId: string;
  /** The execution's `bot_access_token`, sealed like every stored token (its AAD is the record's id). */
  sealedToken: string;
  /**
   * `sending`: written (under the lease) before the completion call; a takeover sends it again (Slack
   * refuses a second completion of the same execution, so at most one takes effect). `sent`: done,
   * with how it went (`completed`, `token_refused`, `gone`: Slack no longer knows the execution).
   */
  completion?: { state: 'sending' } | { state: 'sent'; outcome: 'completed' | 'token_refused' | 'gone' };
}

/** States a record ends in. */
export const ENDED: ReadonlySet<RequestState> = new Set([
  'done',
  'failed',
  'superseded',
  'cancelled',
  'denied',
  'expired',
  'stopped',
]);

/** An ended record whose Workflow Builder step is still to be completed: it stays active until then. */
export const stepOwed = (r: RequestRecord): boolean =>
  r.workflow !== undefined && r.workflow.completion?.state !== 'sent' && ENDED.has(r.state);

/**
 * A request's place in the order of requests (newer-than): the store's clock when it was recorded,
 * else (a record from before that) its creation time. An upcoming deletion keeps its request's in
 * `requestCreatedAt`, so records and index entries of either kind compare with each other.
 */
export const orderOf = (r: Pick<RequestRecord, 'storedAt' | 'createdAt'>): number =>
  r.storedAt ?? r.createdAt;

/** A record whose body this version cannot read (not JSON, or not the shape of a request). */
export interface UnreadableRequest {
  id: string;
  workspace: string;
  sort: number;
  body: string;
  /** Not even JSON: no version of the bot can do anything with it. */
  corrupt: boolean;
  /** How many times this process has leased it and could not read it (this one included). */
  attempts: number;
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
/** Active: to be run, or ended with its workflow step still to complete. */
const isActive = (r: RequestRecord): boolean => ACTIVE.has(r.state) || stepOwed(r);

export interface RequestLog {
  /** Writes a new record with this worker's lease; false when the id exists (a duplicate delivery). */
  create(record: RequestRecord, owner: string, leaseMs: number): Promise<boolean>;
  get(id: string): Promise<RequestRecord | null>;
  /** Takes or renews the lease; null when another worker holds it or the record has ended. */
  lease(id: string, owner: string, leaseMs: number): Promise<RequestRecord | null>;
  /**
   * Like `lease`, and says when the leased record could not be read (instead of null), so that it
   * can be ended rather than leased and dropped for ever.
   */
  take(
    id: string,
    owner: string,
    leaseMs: number,
  ): Promise<RequestRecord | { unreadable: UnreadableRequest } | null>;
  /**
   * Ends an unreadable record while `owner` holds its lease: `failed`, no longer active, its body
   * kept (clipped) in `unreadableBody`. False when the lease was lost.
   */
  endUnreadable(record: UnreadableRequest, owner: string): Promise<boolean>;
  /** Writes the record while `owner` holds the lease; false when the lease was lost. */
  save(record: RequestRecord, owner: string): Promise<boolean>;
  /** Writes the record without a lease: only for a decision on a waiting record, under its hold. */
  put(record: RequestRecord): Promise<void>;
  release(id: string, owner: string): Promise<void>;
  /**
   * Removes a record `owner` created and still holds (a submission refused after its record was
   * written in the same round trip as the gate's reads); nothing when the lease is another's.
   */
  withdraw(id: string, owner: string): Promise<void>;
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

type Parsed = { ok: true; record: RequestRecord } | { ok: false; corrupt: boolean };

function read(body: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, corrupt: true };
  }
  const r = value as RequestRecord | null;
  return typeof r === 'object' && r !== null && typeof r.id === 'string' && Array.isArray(r.policies)
    ? { ok: true, record: r }
    : { ok: false, corrupt: typeof r !== 'object' || r === null };
}

function parse(body: string): RequestRecord | null {
  const parsed = read(body);
  return parsed.ok ? parsed.record : null;
}

/**
 * A leased record: a worker's save writes `storedAt` with the first attempt; until then (a takeover
 * of a record nobody ran yet) the row's `sort` is still the store's clock at the insert.
 */
function leased(row: DocRow): RequestRecord | null {
  const r = parse(row.body);
  if (r && r.storedAt === undefined && r.attempts === 0) r.storedAt = row.sort;
  return r;
}

/** Unreadable records seen by this process, with how many times: at most this many are remembered. */
const UNREADABLE_KEPT = 1_000;

/** Records created here and not yet taken by a worker, at most this many (the oldest go first). */
const FRESH_KEPT = 1_000;

export function createRequestLog(docs: Docs, now: () => number = Date.now): RequestLog {
  const fresh = new Map<string, { record: RequestRecord; owner: string; until: number }>();
  const unreadable = new Map<string, number>();
  return {
    async create(record, owner, leaseMs) {
      // The store's clock at the insert orders this request among others (`orderOf`): it is kept in
      // the row's sort until the first save writes it into the record.
      const body = JSON.stringify(record);
      // From before the insert was sent: its answer may come well after the row was written (with
      // a round trip's other statements), and the lease runs from then.
      const issued = now();
      const storedAt = await docs.insertStamped(REQUESTS, {
        key: record.id,
        partition: record.workspace,
        active: isActive(record),
        body,
        lease: { owner, ttlMs: leaseMs },
      });
      if (storedAt !== null) {
        if (fresh.size >= FRESH_KEPT) fresh.delete(fresh.keys().next().value as string);
        fresh.set(record.id, {
          // A copy as the store holds it (parsing the body written costs less than structuredClone).
          record: { ...(JSON.parse(body) as RequestRecord), storedAt },
          owner,
          until: issued + leaseMs / 3,
        });
      }
      return storedAt !== null;
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
      return row ? leased(row) : null;
    },
    async take(id, owner, leaseMs) {
      const row = await docs.lease(REQUESTS, id, owner, leaseMs);
      if (!row) return null;
      const parsed = read(row.body);
      if (parsed.ok) return leased(row);
      const attempts = (unreadable.get(id) ?? 0) + 1;
      unreadable.delete(id);
      if (unreadable.size >= UNREADABLE_KEPT) unreadable.delete(unreadable.keys().next().value as string);
      unreadable.set(id, attempts);
      return {
        unreadable: {
          id,
          workspace: row.partition,
          sort: row.sort,
          body: row.body,
          corrupt: parsed.corrupt,
          attempts,
        },
      };
    },
    async endUnreadable(u, owner) {
      const ended: RequestRecord = {
        id: u.id,
        workspace: u.workspace,
        user: '',
        channel: '',
        botUserId: null,
        atSeconds: 0,
        createdAt: u.sort,
        retryNum: null,
        state: 'failed',
        attempts: u.attempts,
        policies: [],
        error: u.corrupt
          ? 'unreadable record (not JSON)'
          : 'unreadable record (not a request this version knows)',
        unreadableBody: clipStored(u.body),
      };
      const written = await docs.update(REQUESTS, u.id, owner, {
        body: JSON.stringify(ended),
        active: false,
        sort: u.sort,
      });
      if (written) unreadable.delete(u.id);
      return written;
    },
    save(record, owner) {
      return docs.update(REQUESTS, record.id, owner, {
        body: JSON.stringify(record),
        active: isActive(record),
        sort: sortOf(record),
      });
    },
    put(record) {
      return docs.upsert(REQUESTS, {
        key: record.id,
        partition: record.workspace,
        sort: sortOf(record),
        active: isActive(record),
        body: JSON.stringify(record),
      });
    },
    release: (id, owner) => docs.release(REQUESTS, id, owner),
    withdraw(id, owner) {
      fresh.delete(id);
      return docs.release(REQUESTS, id, owner, { remove: true });
    },
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
