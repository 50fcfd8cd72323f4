import type { AccessPolicies } from '../../access/access-policy.js';
import type { Freezes } from '../../access/freeze.js';
import type { AuditRecorder } from '../../audit/record.js';
import type { AppLogger } from '../../log.js';
import type { Metrics } from '../../metrics.js';
import type { Decision, DecisionRefusal } from '../../scheduling/approvals.js';
import type { DailyLimit } from '../../scheduling/daily-limit.js';
import type { RequestIntake } from '../../scheduling/intake.js';
import type { KatapultReader } from '../../scheduling/preview.js';
import type { RequestRecord } from '../../scheduling/request-log.js';
import type { KatapultRestorer } from '../../scheduling/restore.js';
import type { KatapultScheduler } from '../../scheduling/schedule-deletion.js';
import type { UpcomingDeletions } from '../../scheduling/upcoming.js';
import type { AuditLog, Store } from '../../store/store.js';
import type { WorkspaceTokens } from '../../tokens/workspace-tokens.js';
import type { UserDirectory } from '../people/users.js';
import type { MetadataSigner } from '../platform/signed-metadata.js';
import type { PolicyCatalogue } from '../policy-catalogue.js';

/** What the Slack adapters need; built once in the composition root (src/app.ts). */
export interface ListenerDeps {
  command: string;
  tokens: WorkspaceTokens;
  katapult: KatapultScheduler & KatapultRestorer & KatapultReader;
  access: AccessPolicies;
  users: UserDirectory;
  /** Idempotency keys (restore clicks). */
  claims: Pick<Store, 'claim' | 'release'>;
  /** Records submissions in the request log and starts their work. */
  intake: RequestIntake;
  record: AuditRecorder;
  auditLog: Pick<AuditLog, 'recent'>;
  /** The organization's policies for the modal's picker. */
  catalogue: PolicyCatalogue;
  /** Per-person daily limit: the deployment's default (null: unlimited) and the store's count. */
  maxPerUserPerDay: number | null;
  dailyLimit: DailyLimit;
  /** Deletions scheduled through the bot and the messages Slack holds for them. */
  upcoming: UpcomingDeletions;
  /** How long before the move the reminder is posted; 0 turns reminders off. */
  reminderLeadSeconds: number;
  /** Removes everything stored for a workspace that uninstalled the app. */
  forgetWorkspace(workspaceId: string): Promise<void>;
  /** Signs and verifies modals' private_metadata. */
  metadata: MetadataSigner;
  logger: AppLogger;
  /** Counters for /metrics (commands, submissions by outcome, direct-message fallbacks). */
  metrics: Pick<Metrics, 'command' | 'submission' | 'dmFallback' | 'storeError'>;
  /** The emergency stop, per workspace and for the deployment. */
  freezes: Freezes;
  /** Requests for approval: the deployment default, how long they wait, deciding, listing. */
  approvals: {
    requiredByDefault: boolean;
    ttlMs: number;
    decide(input: {
      workspaceId: string;
      id: string;
      userId: string;
      decision: Decision;
    }): Promise<{ ok: true; record: RequestRecord } | { ok: false; reason: DecisionRefusal }>;
    /** Requests of the workspace waiting for a decision, oldest first. */
    pending(workspaceId: string): Promise<RequestRecord[]>;
  };
  /** Wall clock in unix ms; injected so tests control time. */
  now: () => number;
}
