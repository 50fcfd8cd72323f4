/**
 * The emergency stop: while a workspace is frozen (by an admin, `/katapult freeze`) or the whole
 * deployment is (`KATAPULT_FROZEN=true`), nothing is scheduled and no request can be approved.
 * Read from the store at every check (no cache): a freeze on one replica holds on all at once.
 */
import type Keyv from 'keyv';

export type FreezeState =
  | { frozen: false }
  | { frozen: true; by: 'deployment' }
  | { frozen: true; by: 'admin'; userId: string; at: number };

export interface Freezes {
  /** The whole deployment is frozen (`KATAPULT_FROZEN=true`): `get` answers so without the store. */
  readonly deployment: boolean;
  get(workspaceId: string): Promise<FreezeState>;
  freeze(workspaceId: string, userId: string, at: number): Promise<void>;
  unfreeze(workspaceId: string): Promise<void>;
  remove(workspaceId: string): Promise<void>;
}

export function createFreezes(kv: Keyv, deploymentFrozen: boolean): Freezes {
  const key = (w: string) => `freeze:${w}`;
  return {
    deployment: deploymentFrozen,
    async get(workspaceId) {
      if (deploymentFrozen) return { frozen: true, by: 'deployment' };
      const value: unknown = await kv.get(key(workspaceId));
      if (typeof value !== 'object' || value === null) return { frozen: false };
      const v = value as { userId?: unknown; at?: unknown };
      return {
        frozen: true,
        by: 'admin',
        userId: typeof v.userId === 'string' ? v.userId : '',
        at: typeof v.at === 'number' ? v.at : 0,
      };
    },
    async freeze(workspaceId, userId, at) {
      await kv.set(key(workspaceId), { userId, at });
    },
    async unfreeze(workspaceId) {
      await kv.delete(key(workspaceId));
    },
    async remove(workspaceId) {
      await kv.delete(key(workspaceId));
    },
  };
}
