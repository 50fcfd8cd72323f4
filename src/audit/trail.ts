/**
 * The audit trail as people read it, in parts that volume in one cannot push out of another:
 *
 * - **Activity**: successful schedules and restores, in the audit log (its retention and its cap
 *   per workspace, AUDIT_RETENTION_DAYS and AUDIT_MAX_ENTRIES).
 * - **Refusals**: one document per person and 10-minute window, with a count.
 * - **Failures**: every schedule outcome other than `scheduled` (a Katapult error code, `failed`,
 *   `not_run`, `superseded`, …), one document per person, outcome and 10-minute window, with a
 *   count and the latest entry's details (its policy, request ID, time). A form of 20 policies
 *   Katapult refuses is one entry, not 20.
 * - **Admin entries**: configuration (token set or removed, access changed, freeze, uninstall) and
 *   approval steps, each its own document, with their own retention (AUDIT_ADMIN_RETENTION_DAYS,
 *   400 days by default) and their own caps: configuration up to CONFIG_KEPT entries per workspace
 *   (admins' own changes, at human pace), approvals up to AUDIT_MAX_ENTRIES (members can ask often).
 *
 * The documents are trimmed (age and cap) as their workspace appends, and removed by age by the
 * retention sweep (src/scheduling/retention.ts), so those of a workspace that went quiet or
 * uninstalled go too.
 *
 * Refusals and failures are counted with one atomic write (`docs.increment`), so parallel workers
 * and replicas lose no count. Admin entries written before they were kept apart are still in the
 * audit log: they are read there too (under its retention), and carried over when the rest of a
 * workspace's trail is forgotten.
 */
import { createHash } from 'node:crypto';
import type { Docs } from '../store/docs.js';
import type { AuditEntry, AuditLog, Store } from '../store/store.js';

/** The trail's document collections (the retention sweep, src/scheduling/retention.ts, removes them by age too). */
export const REFUSALS = 'refusal';
export const FAILURES = 'audit_failure';
export const CONFIG = 'audit_admin';
export const APPROVALS = 'audit_approval';
export const DECISIONS = 'audit_decision';
/** Refusals (and failures) of one person within one window are one entry with a count. */
export const REFUSAL_WINDOW_MS = 10 * 60_000;
/** Refusal entries kept per workspace (beyond: the oldest go); the same for failure entries. */
const MERGED_KEPT = 200;
/** Configuration entries kept per workspace (beyond: the oldest go). */
const CONFIG_KEPT = 10_000;
const DAY_MS = 86_400_000;
/** How long admin entries are kept when no setting says (AUDIT_ADMIN_RETENTION_DAYS's default). */
export const ADMIN_RETENTION_MS = 400 * DAY_MS;
/** The read of the whole audit log (legacy admin entries, export): more than any cap it can have. */
const WHOLE_LOG = 1_000_000;
/** Documents read per page when a collection is read whole (export, carry-over). */
const PAGE = 500;

export const isRefusal = (entry: Pick<AuditEntry, 'outcome'>) => entry.outcome.startsWith('refused');

const CONFIG_ACTIONS: ReadonlySet<AuditEntry['action']> = new Set([
  'token_set',
  'token_removed',
  'access_changed',
  'freeze',
  'uninstall',
]);

/** Configuration and admin entries: kept apart from activity, longer, and through an uninstall. */
export const isAdminEntry = (entry: Pick<AuditEntry, 'action'>) =>
  CONFIG_ACTIONS.has(entry.action) || entry.action === 'approval';

/** A schedule that did not end `scheduled` (and was not refused): merged like refusals. */
export const isFailure = (entry: Pick<AuditEntry, 'action' | 'outcome'>) =>
  entry.action === 'schedule' && entry.outcome !== 'scheduled' && !isRefusal(entry);

/** Approval outcomes an approver decided (a click, at human pace), unlike what members cause. */
const DECIDED = new Set(['approved', 'denied']);

/**
 * Where an admin entry is kept: configuration changes (CONFIG_KEPT), approvers' decisions and what
 * members cause (a request for approval, its expiry or refusal) each apart, capped at
 * AUDIT_MAX_ENTRIES: however many requests members make, no decision is pushed out, and however
 * many decisions approvers make, no token, access or freeze change is.
 */
const collectionOf = (entry: AuditEntry): string => {
  if (entry.action !== 'approval') return CONFIG;
  return DECIDED.has(entry.outcome) ? DECISIONS : APPROVALS;
};

export interface AuditTrail {
  append(entry: AuditEntry): Promise<void>;
  /** Every kind, newest first, at most `limit`. */
  recent(workspace: string, limit: number): Promise<AuditEntry[]>;
  /** Configuration and admin entries only (approvals included), newest first, at most `limit`. */
  admin(workspace: string, limit: number): Promise<AuditEntry[]>;
  /** Removes the workspace's entries; with `keepAdmin`, all but its admin entries. */
  forget(workspace: string, options?: { keepAdmin?: boolean }): Promise<void>;
}

export interface AuditTrailOptions {
  /** Activity, refusals and failures older than this are removed. */
  retentionMs: number;
  /** Admin entries older than this are removed (default 400 days). */
  adminRetentionMs?: number;
  /** The cap on approval entries per workspace (default 10,000; AUDIT_MAX_ENTRIES). */
  maxPerWorkspace?: number;
  now?: () => number;
}

/** What makes two entries the same one (the admin documents' key, and duplicates on read). */
function identity(e: AuditEntry): string {
  const fields = [e.at, e.action, e.user, e.outcome, e.policyId, e.decidedBy, e.channel, e.requestId];
  return createHash('sha256')
    .update(JSON.stringify(fields.map((f) => f ?? null)))
    .digest('hex')
    .slice(0, 32);
}

/** A stored body as an entry; null for one this code cannot read. */
function parse(body: string): AuditEntry | null {
  try {
    const value = JSON.parse(body) as unknown;
    const entry = value as AuditEntry;
    return typeof value === 'object' && value !== null && typeof entry.at === 'number' ? entry : null;
  } catch {
    return null;
  }
}

const entriesOf = (rows: { body: string }[]) => rows.flatMap((r) => parse(r.body) ?? []);

/** Newest first, each entry once. */
function newestFirst(lists: AuditEntry[][]): AuditEntry[] {
  const seen = new Set<string>();
  return lists
    .flat()
    .sort((a, b) => b.at - a.at)
    .filter((e) => {
      const id = identity(e);
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
}

/** Every document of a workspace in a collection, page by page. */
async function listWhole(docs: Docs, collection: string, workspace: string): Promise<AuditEntry[]> {
  const found: AuditEntry[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const rows = await docs.list(collection, workspace, { limit: PAGE, offset, newestFirst: true });
    found.push(...entriesOf(rows));
    if (rows.length < PAGE) return found;
  }
}

const adminDoc = (entry: AuditEntry) => ({
  key: `${entry.workspace}:${identity(entry)}`,
  partition: entry.workspace,
  sort: entry.at,
  active: false,
  body: JSON.stringify(entry),
});

export function createAuditTrail(audit: AuditLog, docs: Docs, options: AuditTrailOptions): AuditTrail {
  const now = options.now ?? Date.now;
  const adminRetentionMs = options.adminRetentionMs ?? ADMIN_RETENTION_MS;
  const approvalsKept = options.maxPerWorkspace ?? 10_000;

  /** One atomic write that counts: entries merged at the same time each add one. */
  const appendMerged = async (collection: string, key: string, entry: AuditEntry) => {
    await docs.increment(
      collection,
      { key, partition: entry.workspace, sort: entry.at, active: false, body: JSON.stringify(entry) },
      'count',
    );
    await docs.trim(collection, entry.workspace, {
      beforeSort: now() - options.retentionMs,
      keep: MERGED_KEPT,
    });
  };
  const appendAdmin = async (entry: AuditEntry) => {
    const collection = collectionOf(entry);
    await docs.insert(collection, adminDoc(entry));
    await docs.trim(collection, entry.workspace, {
      beforeSort: now() - adminRetentionMs,
      keep: collection === CONFIG ? CONFIG_KEPT : approvalsKept,
    });
  };
  const window = (entry: AuditEntry) => Math.floor(entry.at / REFUSAL_WINDOW_MS);
  const newest = async (collection: string, workspace: string, limit: number, retentionMs: number) =>
    entriesOf(
      await docs.list(collection, workspace, { minSort: now() - retentionMs, limit, newestFirst: true }),
    );
  const adminNewest = (workspace: string, limit: number) =>
    Promise.all([
      newest(CONFIG, workspace, limit, adminRetentionMs),
      newest(APPROVALS, workspace, limit, adminRetentionMs),
      newest(DECISIONS, workspace, limit, adminRetentionMs),
    ]);
  /** Admin entries written to the audit log before they were kept apart. */
  const legacyAdmin = async (workspace: string) =>
    (await audit.recent(workspace, WHOLE_LOG)).filter(isAdminEntry);

  return {
    async append(entry) {
      const { workspace, user } = entry;
      if (isRefusal(entry)) return appendMerged(REFUSALS, `${workspace}:${user}:${window(entry)}`, entry);
      if (isFailure(entry)) {
        return appendMerged(FAILURES, `${workspace}:${user}:${entry.outcome}:${window(entry)}`, entry);
      }
      if (isAdminEntry(entry)) return appendAdmin(entry);
      return audit.append(entry);
    },
    async recent(workspace, limit) {
      const [activity, refusals, failures, admin] = await Promise.all([
        audit.recent(workspace, limit),
        newest(REFUSALS, workspace, limit, options.retentionMs),
        newest(FAILURES, workspace, limit, options.retentionMs),
        adminNewest(workspace, limit),
      ]);
      return newestFirst([activity, refusals, failures, ...admin]).slice(0, limit);
    },
    async admin(workspace, limit) {
      const [admin, legacy] = await Promise.all([adminNewest(workspace, limit), legacyAdmin(workspace)]);
      return newestFirst([...admin, legacy]).slice(0, limit);
    },
    async forget(workspace, forgetOptions) {
      if (forgetOptions?.keepAdmin) {
        for (const entry of await legacyAdmin(workspace)) await appendAdmin(entry);
      }
      await audit.forget(workspace);
      await docs.removePartition(REFUSALS, workspace);
      await docs.removePartition(FAILURES, workspace);
      if (forgetOptions?.keepAdmin) return;
      await docs.removePartition(CONFIG, workspace);
      await docs.removePartition(APPROVALS, workspace);
      await docs.removePartition(DECISIONS, workspace);
    },
  };
}

/**
 * Everything the trail holds for a workspace, newest first: the audit log (at most `limit`, its
 * cap), refusals, failures (merged, with their counts) and admin entries. What `/katapult history`
 * shows, and more: documents past their retention that neither a write of the workspace nor the
 * retention sweep (every RETENTION_SWEEP_MINUTES) has removed yet are included.
 */
export async function readWholeTrail(
  store: Pick<Store, 'audit' | 'docs'>,
  workspace: string,
  options: { limit: number },
): Promise<AuditEntry[]> {
  const lists = await Promise.all([
    store.audit.recent(workspace, options.limit),
    ...[REFUSALS, FAILURES, CONFIG, APPROVALS, DECISIONS].map((c) => listWhole(store.docs, c, workspace)),
  ]);
  return newestFirst(lists);
}

/**
 * Every workspace the trail holds entries for (the audit log's and each collection's), sorted: a
 * workspace that uninstalled keeps its admin entries, with no other record naming it.
 */
export async function trailWorkspaces(store: Pick<Store, 'audit' | 'docs'>): Promise<string[]> {
  const found = new Set(await store.audit.workspaces());
  for (const collection of [REFUSALS, FAILURES, CONFIG, APPROVALS, DECISIONS]) {
    let afterKey: string | undefined;
    for (;;) {
      const keys = await store.docs.keys(collection, { limit: 500, ...(afterKey ? { afterKey } : {}) });
      for (const key of keys) found.add(key.slice(0, key.indexOf(':')));
      if (keys.length < 500) break;
      afterKey = keys.at(-1);
    }
  }
  return [...found].filter(Boolean).sort();
}
