/**
 * The one builder of audit entries: a step says what it knows (when, who, what, how it ended, and
 * whatever else applies to it); every other field is "not known" (null).
 */
import type { AuditEntry } from '../store/store.js';

type Known = 'at' | 'workspace' | 'user' | 'action' | 'outcome';
export type AuditFacts = Pick<AuditEntry, Known> & Partial<Omit<AuditEntry, Known>>;

export function auditEntry(facts: AuditFacts): AuditEntry {
  return {
    at: facts.at,
    workspace: facts.workspace,
    user: facts.user,
    channel: facts.channel ?? null,
    action: facts.action,
    policyId: facts.policyId ?? null,
    requestedAt: facts.requestedAt ?? null,
    requestedLocal: facts.requestedLocal ?? null,
    outcome: facts.outcome,
    autoMoveToTrashAt: facts.autoMoveToTrashAt ?? null,
    requestId: facts.requestId ?? null,
    retryNum: facts.retryNum ?? null,
    delivery: facts.delivery ?? null,
    ...(facts.decidedBy !== undefined ? { decidedBy: facts.decidedBy } : {}),
    ...(facts.count !== undefined ? { count: facts.count } : {}),
    ...(facts.via !== undefined ? { via: facts.via } : {}),
  };
}
