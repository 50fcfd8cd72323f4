/**
 * The Katapult Core API client: a thin facade over one file per resource (disk-backup-policies.ts,
 * trash-objects.ts, identity.ts), which send their calls through transport.ts (the only module
 * that calls `fetch`) with the retry rules of retry.ts. Every response is checked at run time,
 * every failure becomes one of the typed errors in errors.ts, and the API token never reaches an
 * error message, an error property or a URL.
 */
import {
  type DiskBackupPolicyDetails,
  getDiskBackupPolicy,
  listOrganizationPolicies,
  type PolicyPage,
  type ScheduledDeletion,
  scheduleDiskBackupPolicyDeletion,
} from './disk-backup-policies.js';
import { identify, type KatapultIdentity } from './identity.js';
import { KatapultTransport, type TransportOptions } from './transport.js';
import { type RestoredTrashObject, restoreTrashObject } from './trash-objects.js';

export {
  DEFAULT_POLICIES_PER_PAGE,
  type DiskBackupPolicyDetails,
  type NamedTarget,
  type PolicyPage,
  type PolicySchedule,
  type PolicySummary,
  type ScheduledDeletion,
} from './disk-backup-policies.js';
export type { KatapultIdentity } from './identity.js';
export { DEFAULT_RETRY_POLICY, type RetryPolicy, retryPolicies } from './retry.js';
export {
  DEFAULT_TIMEOUT_MS,
  DEFAULT_USER_AGENT,
  type FetchLike,
  type KatapultAttempt,
} from './transport.js';
export type { RestoredTrashObject } from './trash-objects.js';

export type KatapultClientOptions = TransportOptions;

export class KatapultClient {
  private readonly transport: KatapultTransport;

  constructor(opts: KatapultClientOptions) {
    this.transport = new KatapultTransport(opts);
  }

  /** See disk-backup-policies.ts: `at` is Unix **seconds**, at least five minutes ahead. */
  scheduleDiskBackupPolicyDeletion(token: string, policyId: string, at: number): Promise<ScheduledDeletion> {
    return scheduleDiskBackupPolicyDeletion(this.transport, token, policyId, at);
  }

  /** See identity.ts: user tokens by `/users/current`, organization tokens by `/organizations`. */
  identify(token: string): Promise<KatapultIdentity> {
    return identify(this.transport, token);
  }

  /** See disk-backup-policies.ts. */
  getDiskBackupPolicy(token: string, policyId: string): Promise<DiskBackupPolicyDetails> {
    return getDiskBackupPolicy(this.transport, token, policyId);
  }

  /** See disk-backup-policies.ts: `page` from 1, `perPage` default 30. */
  listOrganizationPolicies(
    token: string,
    organizationId: string,
    page?: number,
    perPage?: number,
  ): Promise<PolicyPage> {
    return listOrganizationPolicies(this.transport, token, organizationId, page, perPage);
  }

  /** See trash-objects.ts: not retried after a timeout (restoring is not idempotent). */
  restoreTrashObject(token: string, objectId: string): Promise<RestoredTrashObject> {
    return restoreTrashObject(this.transport, token, objectId);
  }
}
