import type { AppLogger } from '../../log.js';
import type { Metrics } from '../../metrics.js';
import type { UseCases } from '../../scheduling/use-cases.js';
import type { PeopleChecks } from '../people/access.js';
import type { UserDirectory } from '../people/users.js';
import type { MetadataSigner } from '../platform/signed-metadata.js';
import type { PolicyCatalogue } from '../policy-catalogue.js';

/**
 * What the Slack adapters need, built once in the composition root (src/app.ts): the use cases
 * (buildUseCases, src/scheduling/use-cases.ts) and the Slack side. Nothing here reaches the store.
 */
export interface ListenerDeps extends UseCases {
  command: string;
  users: UserDirectory;
  /** The workspace's access and approval policies applied to a Slack user (src/slack/people/access.ts). */
  people: PeopleChecks;
  /** The organization's policies for the modal's picker. */
  catalogue: PolicyCatalogue;
  /** Signs and verifies modals' private_metadata. */
  metadata: MetadataSigner;
  logger: AppLogger;
  /** Counters for /metrics (commands, invalid submissions). */
  metrics: Pick<Metrics, 'command' | 'submission' | 'workflowStep'>;
  /** Wall clock in unix ms; injected so tests control time. */
  now: () => number;
}
