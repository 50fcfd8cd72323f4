/**
 * Owned locks on the store's lease documents: the holder's token goes with the claim, only the
 * holder releases it, and a caller that cannot get the lock in time fails: nobody proceeds unlocked.
 */
import { randomUUID } from 'node:crypto';
import type { Docs } from '../store/docs.js';

export const LOCKS = 'lock';

export class LockBusyError extends Error {
  constructor(readonly lock: string) {
    super(`lock ${lock} is held by another worker`);
    this.name = 'LockBusyError';
  }
}

export interface Locks {
  /** Runs `work` holding `name` (renewed while it runs); throws LockBusyError after `waitMs`. */
  withLock<T>(
    name: string,
    work: () => Promise<T>,
    options?: { waitMs?: number; ttlMs?: number },
  ): Promise<T>;
  /**
   * Takes `name` like `withLock`, and starts `alongside` in the same turn as the first attempt, after
   * it: its store reads share the lock's round trip and run after the lock is written (turn-batch.ts).
   * Its result stands only when that attempt took the lock; else it runs again once the lock is
   * taken. The caller releases the hold, best in the same turn as its last writes. `whenBusy`: asked
   * once when the first attempt did not take the lock; false gives up at once (LockBusyError).
   */
  acquire<T>(
    name: string,
    alongside: () => Promise<T>,
    options?: { waitMs?: number; ttlMs?: number; whenBusy?: () => Promise<boolean> },
  ): Promise<LockHold<T>>;
}

export interface LockHold<T> {
  value: T;
  /** Gives the lock up (removes it); once, later calls do nothing. */
  release(): Promise<void>;
}

/**
 * `ttlMs`: how long a lock outlives a holder that died (it is renewed every third of it while held);
 * a waiter waits a little longer than that by default, so a dead holder never blocks anyone for good.
 */
export function createLocks(docs: Docs, defaults: { ttlMs: number } = { ttlMs: 30_000 }): Locks {
  const take = async (name: string, owner: string, ttlMs: number): Promise<boolean> =>
    (await docs.insert(LOCKS, {
      key: name,
      partition: 'locks',
      sort: 0,
      active: true,
      body: '{}',
      lease: { owner, ttlMs },
    })) || (await docs.lease(LOCKS, name, owner, ttlMs)) !== null;

  /** Waits until `name` is taken (after `first`, the first attempt's answer), or throws LockBusyError. */
  const waitFor = async (
    name: string,
    owner: string,
    ttlMs: number,
    waitMs: number | undefined,
    first: boolean,
  ) => {
    const deadline = Date.now() + (waitMs ?? ttlMs + 5_000);
    let delay = 50;
    let taken = first;
    while (!taken) {
      if (Date.now() + delay > deadline) throw new LockBusyError(name);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 500);
      taken = await take(name, owner, ttlMs);
    }
  };
  /** The hold of a taken lock: renewed every third of its term until released. */
  const hold = (name: string, owner: string, ttlMs: number) => {
    const renew = setInterval(() => {
      docs.lease(LOCKS, name, owner, ttlMs).catch(() => undefined);
    }, ttlMs / 3);
    let released: Promise<void> | null = null;
    return () => {
      clearInterval(renew);
      // Removed, not only released: the next taker's insert then wins at once (one statement, not
      // a failed insert and a lease), and the collection keeps only the locks held now.
      released ??= docs.release(LOCKS, name, owner, { remove: true }).catch(() => undefined);
      return released;
    };
  };

  const acquire: Locks['acquire'] = async (name, alongside, options = {}) => {
    const owner = randomUUID();
    const ttlMs = options.ttlMs ?? defaults.ttlMs;
    const taking = take(name, owner, ttlMs);
    const [first, early] = await Promise.allSettled([taking, alongside()]);
    if (first.status === 'rejected') throw first.reason;
    if (!first.value && options.whenBusy && !(await options.whenBusy())) throw new LockBusyError(name);
    await waitFor(name, owner, ttlMs, options.waitMs, first.value);
    const release = hold(name, owner, ttlMs);
    try {
      const value = first.value && early.status === 'fulfilled' ? early.value : await alongside();
      return { value, release };
    } catch (error) {
      await release();
      throw error;
    }
  };

  return {
    async withLock(name, work, options = {}) {
      const { release } = await acquire(name, async () => undefined, options);
      try {
        return await work();
      } finally {
        await release();
      }
    },
    acquire,
  };
}

/**
 * The lock a policy's Katapult call (a request, a reconcile check) holds: one at a time per policy.
 * A request also replaces the policy's held messages (reminder, restore offer) under it.
 */
export const policyLock = (workspace: string, policyId: string) => `policy:${workspace}:${policyId}`;
/**
 * The lock reconcile takes inside the policy lock to replace or drop a policy's held messages
 * (requests do that under the policy lock itself, which reconcile holds too).
 */
export const followupsLock = (workspace: string, policyId: string) => `followups:${workspace}:${policyId}`;
