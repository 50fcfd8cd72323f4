/** The audit trail as `/katapult history` reads it: the audit log and the merged refusals, newest first. */
import { createAuditTrail } from '../../src/audit/trail.js';
import type { AuditEntry } from '../../src/store/store.js';
import { FAKE_TEAM_ID } from '../../support/fakes/slack-api.js';
import type { Harness } from '../../support/harness.js';

/** Reading only: the retention matters when entries are appended, not here. */
const RETENTION_MS = 90 * 86_400_000;

export function auditTrailOf(h: Harness, workspace = FAKE_TEAM_ID, limit = 50): Promise<AuditEntry[]> {
  return createAuditTrail(h.bot.store.audit, h.bot.store.docs, { retentionMs: RETENTION_MS }).recent(
    workspace,
    limit,
  );
}
