/**
 * The last channel each person used the bot in (/katapult, a shortcut, the global shortcut's
 * picker), so the global shortcut's channel picker can start there. One small document per person,
 * in their workspace's partition; kept LAST_CHANNEL_DAYS after it was last written (then the
 * retention sweep, src/scheduling/retention.ts, removes it) and at most LAST_CHANNELS_KEPT per
 * workspace (the oldest go first; trimmed now and then as it is written); removed with the
 * workspace. Best effort: a store that fails or is slow only means no default.
 */
import { within } from '../deadline.js';
import { type AppLogger, errorText } from '../log.js';
import type { Docs } from '../store/docs.js';

export const LAST_CHANNELS = 'last-channel';
export const LAST_CHANNEL_DAYS = 90;
/** LAST_CHANNEL_DAYS in ms: older than this, a person's last channel is ignored, then removed. */
export const LAST_CHANNEL_MS = LAST_CHANNEL_DAYS * 86_400_000;
export const LAST_CHANNELS_KEPT = 5_000;
/** A read longer than this gives no default (the form's trigger lasts 3 s). */
const RECALL_BUDGET_MS = 300;
/** One write in this many also trims the workspace's partition. */
const TRIM_EVERY = 50;
/**
 * The same channel again within this long is not written again (a person runs /katapult in the same
 * channel many times in a row): one store write less per command. Another replica's write in
 * between (the same person, another channel) can then stand for up to this long.
 */
const REWRITE_AFTER_MS = 10 * 60_000;
/** People whose last write this process remembers, at most (the oldest go first). */
const WRITES_KEPT = 10_000;

export interface LastChannels {
  remember(workspaceId: string, userId: string, channelId: string): Promise<void>;
  /** The channel, or null (none known, too old, the store slow or failing). */
  recall(workspaceId: string, userId: string): Promise<string | null>;
  forget(workspaceId: string): Promise<void>;
}

/** Public and private channels only: the picker offers nothing else. */
const isChannel = (id: string) => /^[CG][A-Z0-9]{2,}$/.test(id);

export function createLastChannels(deps: { docs: Docs; logger: AppLogger; now: () => number }): LastChannels {
  const { docs, logger, now } = deps;
  const key = (workspaceId: string, userId: string) => `${workspaceId}:${userId}`;
  const keepMs = LAST_CHANNEL_MS;
  let writes = 0;
  /** What this process last wrote per person, and when. */
  const written = new Map<string, { channelId: string; at: number }>();
  return {
    async remember(workspaceId, userId, channelId) {
      if (!isChannel(channelId)) return;
      const k = key(workspaceId, userId);
      const last = written.get(k);
      if (last?.channelId === channelId && now() - last.at < REWRITE_AFTER_MS) return;
      written.delete(k);
      if (written.size >= WRITES_KEPT) written.delete(written.keys().next().value as string);
      written.set(k, { channelId, at: now() });
      try {
        await docs.upsert(LAST_CHANNELS, {
          key: k,
          partition: workspaceId,
          sort: now(),
          active: false,
          body: JSON.stringify({ c: channelId }),
        });
        if (++writes % TRIM_EVERY === 0)
          await docs.trim(LAST_CHANNELS, workspaceId, {
            beforeSort: now() - keepMs,
            keep: LAST_CHANNELS_KEPT,
          });
      } catch (error) {
        written.delete(k);
        logger.event('warn', 'last_channel_not_kept', { error: errorText(error) });
      }
    },
    async recall(workspaceId, userId) {
      const read = docs.get(LAST_CHANNELS, key(workspaceId, userId)).catch(() => null);
      const row = await within(read, RECALL_BUDGET_MS, null);
      if (!row || row.sort < now() - keepMs) return null;
      try {
        const c = (JSON.parse(row.body) as { c?: unknown }).c;
        return typeof c === 'string' && isChannel(c) ? c : null;
      } catch {
        return null;
      }
    },
    forget(workspaceId) {
      for (const k of written.keys()) if (k.startsWith(`${workspaceId}:`)) written.delete(k);
      return docs.removePartition(LAST_CHANNELS, workspaceId);
    },
  };
}
