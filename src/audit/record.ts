/**
 * Every attempt goes to the audit log in the store and, as one JSON line, to the log for shippers.
 * A failing store never blocks the outcome: the line is still logged, with the store error beside it.
 */
import { type AppLogger, errorText } from '../log.js';
import type { AuditEntry, AuditLog } from '../store/store.js';
import { auditEntry } from './entry.js';

export type AuditRecorder = (entry: AuditEntry) => Promise<void>;

export function createAuditRecorder(audit: Pick<AuditLog, 'append'>, logger: AppLogger): AuditRecorder {
  return async (entry) => {
    const fields = {
      workspace: entry.workspace,
      user: entry.user,
      channel: entry.channel,
      policy_id: entry.policyId,
      requested_at: entry.requestedAt,
      requested_local: entry.requestedLocal,
      outcome: entry.outcome,
      auto_move_to_trash_at: entry.autoMoveToTrashAt,
      request_id: entry.requestId,
      retry_num: entry.retryNum,
      delivery: entry.delivery,
      ...(entry.via ? { via: entry.via } : {}),
    };
    try {
      await audit.append(entry);
      logger.event(entry.outcome === 'scheduled' ? 'info' : 'warn', `audit_${entry.action}`, fields);
    } catch (error) {
      logger.event('error', `audit_${entry.action}`, {
        ...fields,
        audit_store_error: errorText(error),
      });
    }
  };
}

/** The fields every entry of a submission shares; the rest default to "not known" (auditEntry). */
export type SubmissionAudit = Pick<AuditEntry, 'workspace' | 'user' | 'channel' | 'action' | 'outcome'> &
  Partial<Omit<AuditEntry, 'workspace' | 'user' | 'channel' | 'action' | 'outcome' | 'policyId'>>;

/** One entry per policy of a submission (a refusal, an approval step), at `now`. */
export async function recordEachPolicy(
  record: AuditRecorder,
  now: () => number,
  policyIds: readonly string[],
  entry: SubmissionAudit,
): Promise<void> {
  for (const policyId of policyIds) {
    await record(auditEntry({ at: now(), ...entry, policyId }));
  }
}
