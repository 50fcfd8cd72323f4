/** What the run-request tests share: a pending record, and the use case's deps on a real store. */
import { createLogger, Redactor } from '../../src/log.js';
import { explain } from '../../src/messages/explain.js';
import { createLocks, type Locks } from '../../src/scheduling/locks.js';
import { createRequestLog, type RequestRecord } from '../../src/scheduling/request-log.js';
import type { RequestSurface, RunRequestDeps } from '../../src/scheduling/run-request.js';
import { createUpcomingDeletions } from '../../src/scheduling/upcoming.js';
import type { Docs } from '../../src/store/docs.js';
import type { Store } from '../../src/store/store.js';
import type { WorkspaceTokens } from '../../src/tokens/workspace-tokens.js';

/** The time every record asks for: an hour from when the test file loaded. */
export const AT = Math.floor(Date.now() / 1000) + 3600;

export function pendingRecord(id: string, policyIds: string[]): RequestRecord {
  return {
    id,
    workspace: 'T1',
    user: 'U0ALICE01',
    channel: 'C0OPS0001',
    botUserId: null,
    atSeconds: AT,
    createdAt: Date.now(),
    retryNum: null,
    state: 'pending',
    attempts: 0,
    policies: policyIds.map((policyId) => ({ policyId })),
  };
}

/**
 * The deps of one worker (`owner`) on `store`: Katapult accepts every schedule after `katapult`
 * (which may throw) has run; the lease is short, so a test that moves the store's clock on
 * (test/helpers/clock.ts) past it can take the record over at once.
 */
export function runRequestDeps(
  store: Store,
  parts: {
    surface: RequestSurface;
    katapult?: (policyId: string) => Promise<void>;
    locks?: Locks;
    dailyLimit?: RunRequestDeps['dailyLimit'];
    /** The workers' clock; give the store the same one (default Date.now). */
    now?: () => number;
  },
): (owner: string) => RunRequestDeps {
  const locks = parts.locks ?? createLocks(store.docs, { ttlMs: 2000 });
  return (owner) => ({
    requests: createRequestLog(store.docs),
    surface: parts.surface,
    tokens: { tokenFor: async () => ({ ok: true, token: 'kt' }) } as unknown as WorkspaceTokens,
    katapult: {
      async scheduleDiskBackupPolicyDeletion(_token, policyId, at) {
        await parts.katapult?.(policyId);
        return { policyId, autoMoveToTrashAt: at, target: { type: 'Disk', id: 'disk_1' }, requestId: null };
      },
    },
    upcoming: createUpcomingDeletions(store.docs),
    locks,
    ...(parts.dailyLimit ? { dailyLimit: parts.dailyLimit } : {}),
    record: async () => undefined,
    explain: (failure) => explain(failure, { command: '/katapult', operation: 'schedule' }),
    logger: createLogger({ level: 'error', redactor: new Redactor(), sink: () => undefined }),
    now: parts.now ?? Date.now,
    owner,
    leaseMs: 300,
    maxAttempts: 5,
  });
}

/**
 * The store as one worker sees it: while `state.cut`, it cannot renew a lease (of `collection` only,
 * when given: `lock` for its policy locks; else its record's and its locks').
 */
export function renewalsCut(docs: Docs, collection?: string) {
  const state = { cut: false };
  const seen = new Proxy(docs, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === 'lease')
        return (...args: Parameters<Docs['lease']>) =>
          state.cut && (collection === undefined || args[0] === collection)
            ? Promise.reject(new Error('store unreachable'))
            : target.lease(...args);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { docs: seen, state };
}
