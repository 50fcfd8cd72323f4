/**
 * Deletions scheduled through the bot, with the Slack messages Slack holds for them (the reminder
 * before, the restore offer after). One record per policy, replaced by a new schedule of the same
 * policy so its old held messages can be deleted. Which policies are upcoming is read from the
 * audit log (append-only and atomic on every store), so no shared list has to be rewritten.
 */
import type Keyv from 'keyv';
import type { AuditEntry } from '../store/store.js';

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
}

export interface UpcomingDeletions {
  get(workspaceId: string, policyId: string): Promise<UpcomingDeletion | null>;
  put(workspaceId: string, record: UpcomingDeletion): Promise<void>;
  remove(workspaceId: string, policyId: string): Promise<void>;
}

function isRecord(v: unknown): v is UpcomingDeletion {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.policyId === 'string' && typeof r.channelId === 'string' && typeof r.at === 'number';
}

/** Slack holds messages for at most 120 days, and our deletion times are within a year: keep records a bit longer. */
const RECORD_TTL_MS = 370 * 86_400_000;

export function createUpcomingDeletions(kv: Keyv): UpcomingDeletions {
  const key = (w: string, p: string) => `upcoming:${w}:${p}`;
  return {
    async get(workspaceId, policyId) {
      const v: unknown = await kv.get(key(workspaceId, policyId));
      return isRecord(v) ? v : null;
    },
    async put(workspaceId, record) {
      await kv.set(key(workspaceId, record.policyId), record, RECORD_TTL_MS);
    },
    async remove(workspaceId, policyId) {
      await kv.delete(key(workspaceId, policyId));
    },
  };
}

/**
 * The policies whose latest successful schedule (newest-first audit entries) moves them to the trash
 * after `nowSeconds - keepPastSeconds`, soonest first.
 */
export function upcomingPolicyIds(
  entries: AuditEntry[],
  nowSeconds: number,
  keepPastSeconds = 48 * 3600,
): string[] {
  const latest = new Map<string, number>();
  for (const e of entries) {
    if (e.action !== 'schedule' || e.outcome !== 'scheduled' || !e.policyId || latest.has(e.policyId))
      continue;
    latest.set(e.policyId, e.autoMoveToTrashAt ?? e.requestedAt ?? 0);
  }
  return [...latest]
    .filter(([, at]) => at >= nowSeconds - keepPastSeconds)
    .sort((a, b) => a[1] - b[1])
    .map(([id]) => id);
}
