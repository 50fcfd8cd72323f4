/**
 * Deletions scheduled through the bot, per workspace, with the Slack messages Slack holds for them
 * (the reminder before, the restore offer after). A new schedule of the same policy replaces the
 * record, so its old held messages can be deleted. Kept in the store, shared by every replica.
 */
import type Keyv from 'keyv';

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
}

export interface UpcomingDeletions {
  get(workspaceId: string, policyId: string): Promise<UpcomingDeletion | null>;
  put(workspaceId: string, record: UpcomingDeletion): Promise<void>;
  /** Soonest first; those moved to the trash more than `keepPastSeconds` ago are left out. */
  list(workspaceId: string, nowSeconds: number, keepPastSeconds?: number): Promise<UpcomingDeletion[]>;
  forget(workspaceId: string): Promise<void>;
}

function isRecord(v: unknown): v is UpcomingDeletion {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.policyId === 'string' && typeof r.channelId === 'string' && typeof r.at === 'number';
}

export function createUpcomingDeletions(kv: Keyv): UpcomingDeletions {
  const recordKey = (w: string, p: string) => `upcoming:${w}:${p}`;
  const indexKey = (w: string) => `upcoming-index:${w}`;
  const index = async (w: string): Promise<string[]> => {
    const v: unknown = await kv.get(indexKey(w));
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  };
  const get = async (w: string, p: string) => {
    const v: unknown = await kv.get(recordKey(w, p));
    return isRecord(v) ? v : null;
  };
  return {
    get,
    async put(workspaceId, record) {
      // The record is written first: the index (read-modify-write) only serves listings.
      await kv.set(recordKey(workspaceId, record.policyId), record, 130 * 86_400_000);
      const ids = await index(workspaceId);
      if (!ids.includes(record.policyId))
        await kv.set(indexKey(workspaceId), [...ids, record.policyId].slice(-500));
    },
    async list(workspaceId, nowSeconds, keepPastSeconds = 48 * 3600) {
      const records = await Promise.all((await index(workspaceId)).map((p) => get(workspaceId, p)));
      return records
        .filter((r): r is UpcomingDeletion => r !== null && r.at >= nowSeconds - keepPastSeconds)
        .sort((a, b) => a.at - b.at);
    },
    async forget(workspaceId) {
      for (const p of await index(workspaceId)) await kv.delete(recordKey(workspaceId, p));
      await kv.delete(indexKey(workspaceId));
    },
  };
}
