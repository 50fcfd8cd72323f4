/**
 * The per-person daily limit: how many policies one person may schedule in a rolling 24 hours.
 *
 * Each policy of a submission is reserved in the store (one lease document per policy, sorted by
 * the time it was reserved) before the request is recorded, under an owned lock per person, so two
 * submissions at the limit, on one replica or two, cannot both pass. A reservation counts until the
 * window has passed it, unless the policy was not scheduled (refused, failed, superseded): then it
 * is released. Reserving again for the same request (Slack retried the submission) changes nothing:
 * a marker of the request (not counted) stays for the window, even when all its policies failed.
 */
import type { Docs } from '../store/docs.js';
import type { Locks } from './locks.js';

export const DAILY_LIMIT_WINDOW_MS = 24 * 60 * 60 * 1000;
const COLLECTION = 'daily';

export type Reservation =
  | { ok: true }
  /** `used`: policies counted in the window now; `roomAt`: unix ms when enough of them have left it. */
  | { ok: false; used: number; roomAt: number };

export interface DailyLimit {
  reserve(input: {
    workspace: string;
    user: string;
    requestId: string;
    policyIds: string[];
    limit: number;
  }): Promise<Reservation>;
  /**
   * Gives back the reservations of policies that were not scheduled (idempotent). `unrecorded`: the
   * request itself was never recorded, so its marker goes too and a retry of it is counted afresh.
   */
  release(input: {
    workspace: string;
    user: string;
    requestId: string;
    policyIds: string[];
    unrecorded?: boolean;
  }): Promise<void>;
  /** Removes a workspace's counts (it uninstalled the app). */
  forget(workspace: string): Promise<void>;
}

const partition = (workspace: string, user: string) => `${workspace}:${user}`;
const docKey = (requestId: string, policyId: string) => `${requestId}|${policyId}`;
/** The request's marker: policy IDs are never empty, so it never names a policy. */
const markerKey = (requestId: string) => docKey(requestId, '');

export function createDailyLimit(deps: { docs: Docs; locks: Locks; now: () => number }): DailyLimit {
  const { docs } = deps;
  return {
    async reserve({ workspace, user, requestId, policyIds, limit }) {
      const part = partition(workspace, user);
      return deps.locks.withLock(
        `daily:${part}`,
        async () => {
          const now = deps.now();
          const from = now - DAILY_LIMIT_WINDOW_MS;
          await docs.trim(COLLECTION, part, { beforeSort: from + 1, keep: Number.MAX_SAFE_INTEGER });
          const rows = await docs.list(COLLECTION, part, { minSort: from + 1, limit: limit + 1000 });
          if (rows.some((r) => r.key === markerKey(requestId))) return { ok: true };
          const counted = rows
            .filter((r) => !r.key.endsWith('|'))
            .map((r) => r.sort)
            .sort((a, b) => a - b);
          const over = counted.length + policyIds.length - limit;
          if (over > 0) {
            // Room comes when `over` of the counted ones have left the window (the oldest first).
            const leaving = counted[Math.min(over, counted.length) - 1];
            return {
              ok: false,
              used: counted.length,
              roomAt: leaving === undefined ? Number.POSITIVE_INFINITY : leaving + DAILY_LIMIT_WINDOW_MS,
            };
          }
          await Promise.all(
            ['', ...policyIds].map((policyId) =>
              docs.upsert(COLLECTION, {
                key: docKey(requestId, policyId),
                partition: part,
                sort: now,
                active: false,
                body: '{}',
              }),
            ),
          );
          return { ok: true };
        },
        { waitMs: 700, ttlMs: 5_000 },
      );
    },
    async release({ requestId, policyIds, unrecorded }) {
      const keys = policyIds.map((policyId) => docKey(requestId, policyId));
      await Promise.all(
        [...keys, ...(unrecorded ? [markerKey(requestId)] : [])].map((k) => docs.remove(COLLECTION, k)),
      );
    },
    async forget(workspace) {
      // Keys start with the request ID, which starts with the workspace: `<workspace>:<view>|<policy>`.
      const prefix = `${workspace}:`;
      for (;;) {
        const keys = (await docs.keys(COLLECTION, { afterKey: prefix, limit: 500 })).filter((k) =>
          k.startsWith(prefix),
        );
        if (keys.length === 0) return;
        await Promise.all(keys.map((k) => docs.remove(COLLECTION, k)));
      }
    },
  };
}
