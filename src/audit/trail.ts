/**
 * The audit trail as people read it: the audit log (schedules, restores, token and access changes)
 * and, apart from it, refusals. Refusals live in their own documents, one per person and 10-minute
 * window with a count, capped per workspace on their own, so a member who runs the command again
 * and again can neither flood the history nor evict anyone's real entries from the audit log.
 */
import type { Docs } from '../store/docs.js';
import type { AuditEntry, AuditLog } from '../store/store.js';

const REFUSALS = 'refusal';
/** Refusals of one person within one window are one entry with a count. */
export const REFUSAL_WINDOW_MS = 10 * 60_000;
/** Refusal entries kept per workspace (beyond: the oldest go). */
const REFUSALS_KEPT = 200;

export const isRefusal = (entry: Pick<AuditEntry, 'outcome'>) => entry.outcome.startsWith('refused');

export interface AuditTrail extends Pick<AuditLog, 'append' | 'recent' | 'forget'> {}

export function createAuditTrail(audit: AuditLog, docs: Docs, options: { retentionMs: number }): AuditTrail {
  const appendRefusal = async (entry: AuditEntry) => {
    const key = `${entry.workspace}:${entry.user}:${Math.floor(entry.at / REFUSAL_WINDOW_MS)}`;
    // One atomic write that counts: refusals recorded at the same time (parallel workers,
    // replicas) each add one, where a read then a write would lose some.
    await docs.increment(
      REFUSALS,
      { key, partition: entry.workspace, sort: entry.at, active: false, body: JSON.stringify(entry) },
      'count',
    );
    await docs.trim(REFUSALS, entry.workspace, {
      beforeSort: entry.at - options.retentionMs,
      keep: REFUSALS_KEPT,
    });
  };

  return {
    append: (entry) => (isRefusal(entry) ? appendRefusal(entry) : audit.append(entry)),
    async recent(workspace, limit) {
      const [entries, refusals] = await Promise.all([
        audit.recent(workspace, limit),
        docs.list(REFUSALS, workspace, { limit: REFUSALS_KEPT }),
      ]);
      const merged = [...entries, ...refusals.map((r) => JSON.parse(r.body) as AuditEntry)];
      return merged.sort((a, b) => b.at - a.at).slice(0, limit);
    },
    async forget(workspace) {
      await audit.forget(workspace);
      await docs.removePartition(REFUSALS, workspace);
    },
  };
}
