/**
 * The use case: the emergency stop (`freeze`, `unfreeze`). Admins only, checked fresh; a freeze of
 * the whole deployment wins over the workspace's; a change is logged, announced in the channel and
 * audited.
 */

import type { Freezes } from '../access/freeze.js';
import { auditEntry } from '../audit/entry.js';
import type { AuditRecorder } from '../audit/record.js';
import { type AppLogger, errorText } from '../log.js';
import { FREEZE } from '../messages/approvals.js';

export interface SetFreezeDeps {
  command: string;
  freezes: Pick<Freezes, 'get' | 'freeze' | 'unfreeze'>;
  record: AuditRecorder;
  logger: AppLogger;
  now: () => number;
}

export interface FreezeChange {
  workspaceId: string;
  userId: string;
  channelId: string;
  /** true: freeze; false: unfreeze. */
  freeze: boolean;
  retryNum: number | null;
}

/** The Slack side of one command. */
export interface FreezeSurface {
  /** Asked fresh: whether the person is a workspace admin or owner. */
  isAdmin(): Promise<boolean>;
  /** `inChannel`: for everyone in the channel (else only the person sees it). */
  say(text: string, inChannel?: boolean): Promise<void>;
}

export type SetFreeze = (change: FreezeChange, surface: FreezeSurface) => Promise<void>;

export function createSetFreeze(deps: SetFreezeDeps): SetFreeze {
  return async (change, surface) => {
    const { workspaceId, userId, freeze } = change;
    if (!(await surface.isAdmin())) return surface.say(FREEZE.adminsOnly(deps.command));
    try {
      const before = await deps.freezes.get(workspaceId);
      if (before.frozen && before.by === 'deployment') return surface.say(FREEZE.deploymentWins);
      if (before.frozen === freeze) return surface.say(freeze ? FREEZE.alreadyFrozen : FREEZE.notFrozen);
      if (freeze) await deps.freezes.freeze(workspaceId, userId, deps.now());
      else await deps.freezes.unfreeze(workspaceId);
    } catch (error) {
      deps.logger.event('error', 'store_failed', {
        operation: freeze ? 'freeze' : 'unfreeze',
        error: errorText(error),
      });
      return surface.say(FREEZE.storeDown);
    }
    deps.logger.event('warn', freeze ? 'workspace_frozen' : 'workspace_unfrozen', {
      workspace: workspaceId,
      user: userId,
    });
    await surface.say(freeze ? FREEZE.frozenNow(deps.command) : FREEZE.unfrozenNow, true);
    await deps.record(
      auditEntry({
        at: deps.now(),
        workspace: workspaceId,
        user: userId,
        channel: change.channelId,
        action: 'freeze',
        outcome: freeze ? 'frozen' : 'unfrozen',
        retryNum: change.retryNum,
      }),
    );
  };
}
