/**
 * Retention: every kind of record the bot keeps in the store goes once nothing needs it any more
 * (docs/retention.md has the table). Each kind is judged by its own state, not by age alone:
 * a request that is pending, being called, waiting for approval or approved stays whatever its age,
 * and so does an upcoming deletion whose move is ahead or inside the restore window. Records kept
 * for a time after they were written (the audit trail's documents, a person's last channel, a
 * reconcile notice) are judged by the time they are indexed by, against the window each is kept
 * (the one their own trim and their reads use), whatever their body: past it, nothing reads them.
 *
 * A sweep walks each kind's keys in pages (`docs.keys`, after the last key it saw), reads and judges
 * at most one page's records per batch, removes the ones due one by one, and yields between
 * batches: a store that grew for months is pruned without a long lock, a long transaction or a
 * large read. A record is removed only as it was read (`removeIfUnchanged`), so a version written
 * meanwhile stays; a lock only once its lease lapsed, by taking the lease first. A request,
 * upcoming deletion or hold whose body this code cannot read (an older or unknown shape) is kept and
 * counted, never removed.
 */
import { randomUUID } from 'node:crypto';
import { ADMIN_RETENTION_MS, APPROVALS, CONFIG, DECISIONS, FAILURES, REFUSALS } from '../audit/trail.js';
import { type AppLogger, errorText } from '../log.js';
import type { DocRow, Docs } from '../store/docs.js';
import type { Store } from '../store/store.js';
import { HOLDS } from './approvals.js';
import { DAILY_LIMIT_WINDOW_MS, RESERVATIONS } from './daily-limit.js';
import { LAST_CHANNEL_MS, LAST_CHANNELS } from './last-channel.js';
import { LOCKS } from './locks.js';
import { periodic } from './periodic.js';
import { ENDED, REQUESTS, type RequestState } from './request-log.js';
import { CHECKED, KEEP_AFTER_MOVE_SECONDS, NOTICE_KEEP_MS, NOTICES, UPCOMING } from './upcoming.js';

/** Every kind of record the sweep looks after (the label of `katapult_chatops_stored_records`). */
export const RECORD_KINDS = [
  'approval_holds',
  'requests',
  'upcoming',
  'upcoming_checks',
  'daily_limit',
  'locks',
  'audit_refusals',
  'audit_failures',
  'audit_admin',
  'audit_approvals',
  'audit_decisions',
  'last_channels',
  'upcoming_notices',
  'claims',
] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];
export type KindCounts = Record<RecordKind, number>;

/** The kinds kept as documents, and their collections. */
const COLLECTIONS: Readonly<Record<Exclude<RecordKind, 'claims'>, string>> = {
  approval_holds: HOLDS,
  requests: REQUESTS,
  upcoming: UPCOMING,
  upcoming_checks: CHECKED,
  daily_limit: RESERVATIONS,
  locks: LOCKS,
  audit_refusals: REFUSALS,
  audit_failures: FAILURES,
  audit_admin: CONFIG,
  audit_approvals: APPROVALS,
  audit_decisions: DECISIONS,
  last_channels: LAST_CHANNELS,
  upcoming_notices: NOTICES,
};

export interface RetentionSettings {
  /** A finished request (done, failed, superseded, cancelled, denied, expired) is kept this long after it ended. */
  finishedRequestMs: number;
  /** Refusals and failures in the audit trail are kept this long (AUDIT_RETENTION_DAYS; default 90 days). */
  auditMs?: number;
  /** Admin and approval entries in the audit trail are kept this long (AUDIT_ADMIN_RETENTION_DAYS; default 400 days). */
  adminAuditMs?: number;
  /** Between two periodic sweeps; 0: none (`sweep()` still works). */
  intervalMs: number;
  /** Records read, judged and removed per batch (one page of keys). */
  batchSize: number;
  /** Batches per kind in one sweep (default 20); the next sweep goes on from there. */
  batchesPerSweep?: number;
  /** `counts()` counts at most this many records per kind (default 100,000). */
  countMax?: number;
}

export interface RetentionDeps {
  docs: Docs;
  /** The store itself: lapsed claims are pruned (SQL) and counted through it. */
  claims: Pick<Store, 'pruneClaims' | 'countClaims'>;
  now: () => number;
  settings: RetentionSettings;
  logger: AppLogger;
  /** Every batch goes through it, so a shutdown can wait for the one under way. */
  track?<T>(work: () => Promise<T>): Promise<T>;
}

export interface RetentionPass {
  removed: KindCounts;
  /** Records read and judged (claims: those removed; SQL judges them in the statement). */
  examined: KindCounts;
  /** Kept because their body could not be read (an older or unknown shape): never removed by age. */
  unreadable: KindCounts;
  /** Every kind reached the end of its records in this pass (the next one starts from the beginning). */
  complete: boolean;
}

export interface Retention {
  /** One bounded pass: at most `batchesPerSweep` batches of `batchSize` records per kind. */
  sweep(): Promise<RetentionPass>;
  /** Records stored now per kind, each counted up to `countMax` (claims: absent on Redis). */
  counts(): Promise<Partial<KindCounts>>;
  start(): void;
  stop(): void;
}

/** A reconcile check whose upcoming record is gone is left this long (a check may land just after the removal). */
const ORPHAN_CHECK_MS = 86_400_000;
/** A lock is taken for removal only this long after its lease lapsed (clocks of replicas differ a little). */
const LOCK_GRACE_MS = 60_000;
/** Records judged at once within a batch (a few, not the batch: the pool serves Slack too). */
const PARALLEL = 4;
/** AUDIT_RETENTION_DAYS's default, for a caller that gives no `auditMs`. */
const AUDIT_MS = 90 * 86_400_000;

/**
 * The kinds kept for a time after they were written, judged by the time they are indexed by (unix
 * ms): how long each is kept, the window its own trim and reads use.
 */
const KEPT_FOR = {
  audit_refusals: (s) => s.auditMs ?? AUDIT_MS,
  audit_failures: (s) => s.auditMs ?? AUDIT_MS,
  audit_admin: (s) => s.adminAuditMs ?? ADMIN_RETENTION_MS,
  audit_approvals: (s) => s.adminAuditMs ?? ADMIN_RETENTION_MS,
  audit_decisions: (s) => s.adminAuditMs ?? ADMIN_RETENTION_MS,
  last_channels: () => LAST_CHANNEL_MS,
  upcoming_notices: () => NOTICE_KEEP_MS,
} satisfies Partial<Record<RecordKind, (settings: RetentionSettings) => number>>;

type Verdict = 'keep' | 'unreadable' | 'remove';

function object(body: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

const time = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const fields = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};

/** When a finished request ended, as far as its record says: the latest time it carries. */
function endedAt(row: DocRow, r: Record<string, unknown>): number {
  const approval = fields(r.approval);
  return Math.max(
    row.sort,
    time(r.createdAt),
    time(fields(approval.decision).at),
    r.state === 'expired' ? time(approval.expiresAt) : 0,
  );
}

function judgeRequest(row: DocRow, now: number, keepMs: number): Verdict {
  const r = object(row.body);
  if (!r || typeof r.state !== 'string') return 'unreadable';
  // Pending, calling, waiting for approval, approved (pending again), or a state this code does not know.
  if (!ENDED.has(r.state as RequestState) || row.active) return 'keep';
  // A worker still holds it (writing its end): it goes on a later pass.
  if (row.leaseExpiresAt !== null && row.leaseExpiresAt > now) return 'keep';
  return now - endedAt(row, r) >= keepMs ? 'remove' : 'keep';
}

function judgeUpcoming(row: DocRow, now: number): Verdict {
  const at = object(row.body)?.at;
  if (typeof at !== 'number' || !Number.isFinite(at)) return 'unreadable';
  // The later of the record's move and the time it is indexed by (seconds).
  const move = Math.max(at, row.sort);
  return now / 1000 >= move + KEEP_AFTER_MOVE_SECONDS ? 'remove' : 'keep';
}

/** Judges one document of a kind; the reads it needs besides the document are of that one record. */
async function judge(
  kind: Exclude<RecordKind, 'claims'>,
  row: DocRow,
  deps: RetentionDeps,
): Promise<Verdict> {
  const now = deps.now();
  switch (kind) {
    case 'requests':
      return judgeRequest(row, now, deps.settings.finishedRequestMs);
    case 'upcoming':
      return judgeUpcoming(row, now);
    case 'upcoming_checks':
      if (now - row.sort < ORPHAN_CHECK_MS) return 'keep';
      return (await deps.docs.get(UPCOMING, row.key)) ? 'keep' : 'remove';
    case 'daily_limit':
      // Out of the rolling window: it counts for nothing, and a retry of its request counts afresh.
      return row.sort + DAILY_LIMIT_WINDOW_MS <= now ? 'remove' : 'keep';
    case 'locks':
      return row.active && (row.leaseExpiresAt ?? 0) + LOCK_GRACE_MS <= now ? 'remove' : 'keep';
    case 'approval_holds': {
      // A hold is written before its request is parked, so only an ended (or gone) request frees it.
      const request = await deps.docs.get(REQUESTS, row.key);
      if (!request) return 'remove';
      const state = object(request.body)?.state;
      if (typeof state !== 'string') return 'unreadable';
      return ENDED.has(state as RequestState) ? 'remove' : 'keep';
    }
    default:
      // The timed kinds (KEPT_FOR). Older than its window (as its trim judges: `sort` before now less
      // the window): nothing reads it.
      return row.sort < now - KEPT_FOR[kind](deps.settings) ? 'remove' : 'keep';
  }
}

/** Removes a document judged due; false when it changed (or went) meanwhile. */
async function remove(kind: Exclude<RecordKind, 'claims'>, row: DocRow, deps: RetentionDeps, owner: string) {
  const collection = COLLECTIONS[kind];
  if (kind === 'locks') {
    // Only a lapsed lease can be taken; once taken, nobody else can take it before it is removed.
    if (!(await deps.docs.lease(collection, row.key, owner, 10_000))) return false;
    await deps.docs.release(collection, row.key, owner, { remove: true });
    return true;
  }
  const removed = await deps.docs.removeIfUnchanged(collection, row.key, row);
  // Its reconcile check goes with it (a check written since is removed later, as an orphan).
  if (removed && kind === 'upcoming') await deps.docs.remove(CHECKED, row.key);
  return removed;
}

interface BatchResult {
  examined: number;
  removed: number;
  unreadable: number;
  /** The page was the last one: the walk starts over next time. */
  end: boolean;
}

/** One page of a kind's keys after `afterKey`: each record read once, judged, removed if due. */
async function documentBatch(
  kind: Exclude<RecordKind, 'claims'>,
  afterKey: string | undefined,
  deps: RetentionDeps,
  owner: string,
): Promise<BatchResult & { lastKey: string | undefined }> {
  const { batchSize } = deps.settings;
  const collection = COLLECTIONS[kind];
  const keys = await deps.docs.keys(collection, { ...(afterKey ? { afterKey } : {}), limit: batchSize });
  const result = {
    examined: 0,
    removed: 0,
    unreadable: 0,
    end: keys.length < batchSize,
    lastKey: keys.at(-1),
  };
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const row = await deps.docs.get(collection, keys[next++] as string);
      if (!row) continue;
      result.examined++;
      const verdict = await judge(kind, row, deps);
      if (verdict === 'unreadable') result.unreadable++;
      if (verdict === 'remove' && (await remove(kind, row, deps, owner))) result.removed++;
    }
  };
  // Every worker ends before the batch does (a failure ends the batch only once the others stopped).
  const settled = await Promise.allSettled(Array.from({ length: Math.min(PARALLEL, keys.length) }, worker));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return result;
}

const zero = (): KindCounts => Object.fromEntries(RECORD_KINDS.map((kind) => [kind, 0])) as KindCounts;

/** Lets other work run between two batches. */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createRetention(deps: RetentionDeps): Retention {
  const { settings, logger } = deps;
  const track = deps.track ?? (<T>(work: () => Promise<T>) => work());
  const batches = Math.max(1, settings.batchesPerSweep ?? 20);
  const owner = `retention:${randomUUID()}`;
  /** Where each kind's walk goes on from (the last key seen; undefined: the beginning). */
  const cursors = new Map<RecordKind, string | undefined>();
  let stopped = false;
  let running: Promise<RetentionPass> | null = null;

  const claimsBatch = async (): Promise<BatchResult> => {
    const removed = await deps.claims.pruneClaims(settings.batchSize);
    return { examined: removed, removed, unreadable: 0, end: removed < settings.batchSize };
  };

  const batch = async (kind: RecordKind): Promise<BatchResult> => {
    if (kind === 'claims') return claimsBatch();
    const result = await documentBatch(kind, cursors.get(kind), deps, owner);
    cursors.set(kind, result.end ? undefined : result.lastKey);
    return result;
  };

  /** Up to `batches` batches of one kind; true when its walk reached the end. */
  const sweepKind = async (kind: RecordKind, pass: RetentionPass): Promise<boolean> => {
    for (let i = 0; i < batches && !stopped; i++) {
      const result = await track(() => batch(kind));
      pass.examined[kind] += result.examined;
      pass.removed[kind] += result.removed;
      pass.unreadable[kind] += result.unreadable;
      if (result.end) return true;
      await breathe();
    }
    return false;
  };

  const run = async (): Promise<RetentionPass> => {
    const pass: RetentionPass = { removed: zero(), examined: zero(), unreadable: zero(), complete: true };
    for (const kind of RECORD_KINDS) {
      if (stopped) return { ...pass, complete: false };
      try {
        if (!(await sweepKind(kind, pass))) pass.complete = false;
      } catch (error) {
        pass.complete = false;
        logger.event('error', 'retention_sweep_failed', { kind, error: errorText(error) });
      }
    }
    const removed = RECORD_KINDS.filter((kind) => pass.removed[kind] > 0);
    const unreadable = RECORD_KINDS.reduce((sum, kind) => sum + pass.unreadable[kind], 0);
    if (removed.length > 0 || unreadable > 0) {
      logger.event('info', 'retention_sweep', {
        ...Object.fromEntries(removed.map((kind) => [`removed_${kind}`, pass.removed[kind]])),
        unreadable_kept: unreadable,
        complete: pass.complete,
      });
    }
    return pass;
  };

  const sweep = (): Promise<RetentionPass> => {
    // One pass at a time in this process; a second caller shares it.
    running ??= run().finally(() => {
      running = null;
    });
    return running;
  };

  const timer = periodic(() => void sweep().catch(() => undefined), settings.intervalMs, 60_000);

  return {
    sweep,
    async counts() {
      const max = settings.countMax ?? 100_000;
      const counts: Partial<KindCounts> = {};
      for (const [kind, collection] of Object.entries(COLLECTIONS) as [RecordKind, string][]) {
        counts[kind] = await deps.docs.count(collection, { max });
      }
      const claims = await deps.claims.countClaims(max);
      if (claims !== null) counts.claims = claims;
      return counts;
    },
    start() {
      stopped = false;
      // The first pass within a minute of start, then every interval.
      timer.start();
    },
    stop() {
      stopped = true;
      timer.stop();
    },
  };
}
