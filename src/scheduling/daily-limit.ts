/**
 * The per-person daily limit: how many policies one person may schedule in a rolling 24 hours.
 *
 * Each policy of a submission is reserved in the store (one lease document per policy, sorted by
 * the time it was reserved) before the request is recorded, under an owned lock per person, so two
 * submissions at the limit, on one replica or two, cannot both pass. A reservation counts until the
 * window has passed it, unless the policy was not scheduled (refused, failed, superseded): then it
 * is released. Reserving again for the same request (Slack retried the submission) changes nothing:
 * a marker of the request (not counted) stays for the window, even when all its policies failed.
 *
 * The markers live in a partition of their own, apart from the counted reservations, so the count
 * reads only what counts, in full, however many failed submissions a person made today (markers
 * written before they had their own partition are skipped, and leave with the window). The
 * retention sweep (retention.ts) removes whatever the window has passed.
 */
import { type AppLogger, errorText } from '../log.js';
import type { Docs } from '../store/docs.js';
import type { Locks } from './locks.js';

export const DAILY_LIMIT_WINDOW_MS = 24 * 60 * 60 * 1000;
/** The collection of reservations and request markers. */
export const RESERVATIONS = 'daily';
/** The counted reservations in one window are read in pages of this many. */
const PAGE = 1000;

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

/**
 * Gives back a request's places (`release`) after its end and the person's note, best effort: a
 * place that could not be given back lapses with its window. Nothing to do without a limit.
 */
export async function giveBackPlaces(
  deps: { dailyLimit?: Pick<DailyLimit, 'release'> | undefined; logger: AppLogger },
  r: { workspace: string; user: string; id: string },
  policyIds: string[],
): Promise<void> {
  if (!deps.dailyLimit || policyIds.length === 0) return;
  await deps.dailyLimit
    .release({ workspace: r.workspace, user: r.user, requestId: r.id, policyIds })
    .catch((error: unknown) =>
      deps.logger.event('warn', 'daily_limit_release_failed', { request: r.id, error: errorText(error) }),
    );
}

const partition = (workspace: string, user: string) => `${workspace}:${user}`;
/** Where a person's request markers live: never listed, only read by key. */
const markerPartition = (part: string) => `${part}|requests`;
const docKey = (requestId: string, policyId: string) => `${requestId}|${policyId}`;
/** The request's marker: policy IDs are never empty, so it never names a policy. */
const markerKey = (requestId: string) => docKey(requestId, '');

/** The times of a person's counted reservations from `minSort` on, oldest first: all of them. */
async function countedSince(docs: Docs, part: string, minSort: number): Promise<number[]> {
  const counted: number[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const rows = await docs.list(RESERVATIONS, part, { minSort, limit: PAGE, offset });
    // A marker written here before markers had their own partition is not a place.
    for (const r of rows) if (!r.key.endsWith('|')) counted.push(r.sort);
    if (rows.length < PAGE) return counted;
  }
}

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
          const marker = await docs.get(RESERVATIONS, markerKey(requestId));
          if (marker && marker.sort > from) return { ok: true };
          await docs.trim(RESERVATIONS, part, { beforeSort: from + 1, keep: Number.MAX_SAFE_INTEGER });
          const counted = await countedSince(docs, part, from + 1);
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
              docs.upsert(RESERVATIONS, {
                key: docKey(requestId, policyId),
                partition: policyId === '' ? markerPartition(part) : part,
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
        [...keys, ...(unrecorded ? [markerKey(requestId)] : [])].map((k) => docs.remove(RESERVATIONS, k)),
      );
    },
    async forget(workspace) {
      // Keys start with the request ID, which starts with the workspace: `<workspace>:<view>|<policy>`.
      const prefix = `${workspace}:`;
      for (;;) {
        const keys = (await docs.keys(RESERVATIONS, { afterKey: prefix, limit: 500 })).filter((k) =>
          k.startsWith(prefix),
        );
        if (keys.length === 0) return;
        await Promise.all(keys.map((k) => docs.remove(RESERVATIONS, k)));
      }
    },
  };
}
