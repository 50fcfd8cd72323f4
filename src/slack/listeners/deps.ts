import type { AppLogger } from '../../log.js';
import type { KatapultScheduler } from '../../scheduling/schedule-deletion.js';
import type { WorkspaceTokens } from '../../tokens/workspace-tokens.js';
import type { UserDirectory } from '../users.js';

/** What the Slack adapters need; built once in the composition root (src/app.ts). */
export interface ListenerDeps {
  command: string;
  tokens: WorkspaceTokens;
  katapult: KatapultScheduler;
  users: UserDirectory;
  logger: AppLogger;
  /** Wall clock in unix ms; injected so tests control time. */
  now: () => number;
}
