/**
 * Deletions scheduled through the bot: an index of its own in the store, one record per policy,
 * written when Katapult accepts a schedule, replaced by a reschedule, kept after the move for as
 * long as a restore can still be offered (then the retention sweep, retention.ts, removes it),
 * removed on uninstall. It carries the Slack messages Slack
 * holds for the policy (the reminder before, the restore offer after) so they can be replaced.
 */
import type Keyv from 'keyv';
import { type AppLogger, errorText } from '../log.js';
import type { Docs } from '../store/docs.js';
import type { AuditEntry, AuditLog } from '../store/store.js';
import type { RequestMessage } from './request-log.js';

export interface UpcomingDeletion {
  policyId: string;
  /** Where the outcome and the held messages go (the channel, or the user's DM as a fallback). */
  channelId: string;
  /** Unix seconds. */
  at: number;
  scheduledBy: string;
  targetType: string | null;
  targetId: string | null;
  reminderMessageId: string | null;
  restoreMessageId: string | null;
  /** The channel Slack reports for the held messages (a DM's D… ID when sent to a user): needed to delete them. */
  heldIn?: string | null;
  /**
   * The place in time (unix ms) of the request that set this schedule, `orderOf` its record: the
   * store's clock when it was recorded (its creation time on its replica's clock for requests from
   * before that). An older request never overwrites it.
   */
  requestCreatedAt?: number;
  // --- The request's message (issue 21). Absent on records from before it: follow-ups go top level. ---
  /** The message of the request that set this schedule: follow-ups are replies in its thread. */
  message?: RequestMessage;
  /** The message covers several policies: one policy's later state is a reply, not an edit of it. */
  sharedMessage?: boolean;
  /** The state the message shows now, as the bot last set it (its timers move it on). */
  shown?: MessageState;
}

/**
 * What a request's message says of its policy over time: set by the request, then moved on by the
 * bot's own durable passes (reconcile), a restore, or a change seen in Katapult.
 */
export type MessageState =
  | 'scheduled'
  | 'reminder_due'
  | 'moved'
  | 'restored'
  | 'changed'
  | 'cleared'
  | 'gone'
  | 'trashed_early'
  /** A newer request for the policy has a message of its own (another channel, or it needed approval). */
  | 'rescheduled';

/** States in which a message still tells a live story (a reschedule continues or retires it). */
export const isLive = (shown: MessageState | undefined): boolean =>
  shown === undefined || shown === 'scheduled' || shown === 'reminder_due' || shown === 'changed';

/** When reconcile last looked (unix ms), and since when Katapult has not known the policy (unix ms). */
export interface ReconcileCheck {
  at: number;
  missingSince: number | null;
  /**
   * The Katapult organizations (IDs) the policy is known to be in one of: those of a token that
   * Katapult showed the policy to. Absent (null) until then, and in checks written before it was kept.
   */
  organizations?: string[] | null;
}

/** A record as read, with the stored version it was read as (null: there was none), for `putIfUnchanged`. */
export interface VersionedUpcoming {
  record: UpcomingDeletion | null;
  version: string | null;
}

export interface UpcomingDeletions {
  get(workspaceId: string, policyId: string): Promise<UpcomingDeletion | null>;
  /** `get`, with the version read (one read, like `get`). */
  read(workspaceId: string, policyId: string): Promise<VersionedUpcoming>;
  /**
   * Writes the record only if the stored one is still the `version` that was read (null: still
   * none); false when it changed since: read it again, and never write over a newer request's.
   */
  putIfUnchanged(workspaceId: string, record: UpcomingDeletion, version: string | null): Promise<boolean>;
  put(workspaceId: string, record: UpcomingDeletion): Promise<void>;
  remove(workspaceId: string, policyId: string): Promise<void>;
  /** A workspace's records moving at or after `fromSeconds`, soonest first. */
  list(
    workspaceId: string,
    options: { fromSeconds: number; limit: number; offset?: number },
  ): Promise<UpcomingDeletion[]>;
  forget(workspaceId: string): Promise<void>;
  /** reconcile.ts's last look at the policy in Katapult, or null. */
  lastCheck(workspaceId: string, policyId: string): Promise<ReconcileCheck | null>;
  markChecked(workspaceId: string, policyId: string, check: ReconcileCheck): Promise<void>;
  /**
   * Claims a note that must go out once per workspace (e.g. once per Katapult token): true for the
   * first claim only, on any replica. Removed with the workspace (`forget`), or by the retention
   * sweep NOTICE_KEEP_MS after it was claimed.
   */
  claimNotice(workspaceId: string, notice: string, atMs: number): Promise<boolean>;
  /** Every record's `(workspace, policy)`, in pages (for the reconcile sweep). */
  page(
    afterKey: string | undefined,
    limit: number,
  ): Promise<{ workspaceId: string; policyId: string; key: string }[]>;
}

/** After the move, a record stays this long: the restore offer is still useful while the trash keeps it. */
export const KEEP_AFTER_MOVE_SECONDS = 7 * 86_400;

export const UPCOMING = 'upcoming';
/** Kept apart from the records, so marking a check never races with replacing the held messages. */
export const CHECKED = 'upcoming-checked';
/** Notes reconcile sends once (claimNotice). */
export const NOTICES = 'upcoming-notices';
/**
 * A claimed notice is kept this long (then the retention sweep removes it). A notice is claimed once
 * per Katapult token (the time it was set and its last four characters): a year covers the life of
 * a token, and a token that still lacks its proof after a year is told about once more, at most once
 * a year. It bounds the notices of tokens replaced since, which nothing else removes but uninstall.
 */
export const NOTICE_KEEP_MS = 365 * 86_400_000;

function isRecord(v: unknown): v is UpcomingDeletion {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.policyId === 'string' && typeof r.channelId === 'string' && typeof r.at === 'number';
}

function parse(body: string): UpcomingDeletion | null {
  try {
    const v: unknown = JSON.parse(body);
    return isRecord(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * Slack may still hold a policy's earlier messages (their delete failed): nothing new was held, and
 * the record still names them, so a later attempt deletes them first.
 */
export class HeldMessagesLeft extends Error {
  constructor(readonly policyId: string) {
    super(`Slack may still hold the earlier messages of ${policyId}`);
    this.name = 'HeldMessagesLeft';
  }
}

/**
 * Held messages nothing names and Slack may still post (their record could not be kept, and their
 * delete failed as well): logged with their IDs, for an operator to delete (chat.deleteScheduledMessage).
 */
export function unnamedHeld(logger: AppLogger, held: UpcomingDeletion): void {
  logger.event('error', 'held_messages_unnamed', {
    policy_id: held.policyId,
    channel: held.heldIn ?? held.channelId,
    reminder: held.reminderMessageId,
    restore_offer: held.restoreMessageId,
  });
}

/**
 * Writes a record with new held messages over `version` (the one they replaced): false, logged, when
 * it changed since (someone else's write stands) or could not be written. The caller then deletes the
 * new messages, so none goes out unnamed.
 */
export async function keepHeld(
  upcoming: Pick<UpcomingDeletions, 'putIfUnchanged'>,
  logger: AppLogger,
  workspaceId: string,
  record: UpcomingDeletion,
  version: string | null,
  fields: Record<string, unknown> = {},
): Promise<boolean> {
  const kept = await upcoming.putIfUnchanged(workspaceId, record, version).catch((error: unknown) => {
    logger.event('warn', 'upcoming_write_failed', {
      ...fields,
      policy_id: record.policyId,
      error: errorText(error),
    });
    return false;
  });
  if (!kept) logger.event('warn', 'followups_not_kept', { ...fields, policy_id: record.policyId });
  return kept;
}

/** The version a record is stored as (`read`'s `version`), for `putIfUnchanged` after one's own write. */
export const versionOf = (record: UpcomingDeletion): string => JSON.stringify(record);

export function createUpcomingDeletions(docs: Docs): UpcomingDeletions {
  const key = (w: string, p: string) => `${w}:${p}`;
  const row = (workspaceId: string, record: UpcomingDeletion) => ({
    key: key(workspaceId, record.policyId),
    partition: workspaceId,
    sort: record.at,
    active: false,
    body: versionOf(record),
  });
  return {
    async get(workspaceId, policyId) {
      const row = await docs.get(UPCOMING, key(workspaceId, policyId));
      return row ? parse(row.body) : null;
    },
    async put(workspaceId, record) {
      await docs.upsert(UPCOMING, row(workspaceId, record));
    },
    async read(workspaceId, policyId) {
      const stored = await docs.get(UPCOMING, key(workspaceId, policyId));
      return { record: stored ? parse(stored.body) : null, version: stored?.body ?? null };
    },
    putIfUnchanged(workspaceId, record, version) {
      return docs.replaceIfUnchanged(
        UPCOMING,
        row(workspaceId, record),
        version === null ? null : { body: version },
      );
    },
    async remove(workspaceId, policyId) {
      await docs.remove(UPCOMING, key(workspaceId, policyId));
      await docs.remove(CHECKED, key(workspaceId, policyId));
    },
    async list(workspaceId, options) {
      const rows = await docs.list(UPCOMING, workspaceId, {
        minSort: options.fromSeconds,
        limit: options.limit,
        offset: options.offset ?? 0,
      });
      return rows.map((r) => parse(r.body)).filter((r): r is UpcomingDeletion => r !== null);
    },
    async forget(workspaceId) {
      await docs.removePartition(UPCOMING, workspaceId);
      await docs.removePartition(CHECKED, workspaceId);
      await docs.removePartition(NOTICES, workspaceId);
    },
    async lastCheck(workspaceId, policyId) {
      const row = await docs.get(CHECKED, key(workspaceId, policyId));
      if (!row) return null;
      try {
        const body = JSON.parse(row.body) as { missingSince?: unknown; organizations?: unknown };
        const { missingSince, organizations } = body;
        return {
          at: row.sort,
          missingSince: typeof missingSince === 'number' ? missingSince : null,
          organizations:
            Array.isArray(organizations) && organizations.every((o) => typeof o === 'string')
              ? organizations
              : null,
        };
      } catch {
        return { at: row.sort, missingSince: null, organizations: null };
      }
    },
    async markChecked(workspaceId, policyId, check) {
      await docs.upsert(CHECKED, {
        key: key(workspaceId, policyId),
        partition: workspaceId,
        sort: check.at,
        active: false,
        body: JSON.stringify({
          missingSince: check.missingSince,
          ...(check.organizations ? { organizations: check.organizations } : {}),
        }),
      });
    },
    async claimNotice(workspaceId, notice, atMs) {
      return docs.insert(NOTICES, {
        key: key(workspaceId, notice),
        partition: workspaceId,
        sort: atMs,
        active: false,
        body: '{}',
      });
    },
    async page(afterKey, limit) {
      const keys = await docs.keys(UPCOMING, { ...(afterKey ? { afterKey } : {}), limit });
      return keys.flatMap((k) => {
        const i = k.lastIndexOf(':');
        return i > 0 ? [{ workspaceId: k.slice(0, i), policyId: k.slice(i + 1), key: k }] : [];
      });
    },
  };
}

/** The policies whose latest successful schedule (newest-first audit entries) is in the entries. */
function scheduledPolicyIds(entries: AuditEntry[]): string[] {
  const seen = new Set<string>();
  for (const e of entries) {
    if (e.action === 'schedule' && e.outcome === 'scheduled' && e.policyId) seen.add(e.policyId);
  }
  return [...seen];
}

const CARRIED_OVER = 'migration:upcoming-index-v1';

/**
 * Upgrade from the releases that kept `upcoming:<workspace>:<policy>` Keyv records and found them
 * through the audit log: copies every such record into the index, once (a marker records it).
 */
export async function carryOverUpcoming(
  kv: Keyv,
  audit: Pick<AuditLog, 'recent' | 'workspaces'>,
  upcoming: UpcomingDeletions,
): Promise<number> {
  if (await kv.get(CARRIED_OVER)) return 0;
  let copied = 0;
  for (const workspaceId of await audit.workspaces()) {
    for (const policyId of scheduledPolicyIds(await audit.recent(workspaceId, 10_000))) {
      const old: unknown = await kv.get(`upcoming:${workspaceId}:${policyId}`);
      if (!isRecord(old) || (await upcoming.get(workspaceId, policyId))) continue;
      await upcoming.put(workspaceId, old);
      copied++;
    }
  }
  await kv.set(CARRIED_OVER, { at: Date.now(), copied });
  return copied;
}
