/**
 * A request run's lease on its record (the fencing token), as run-request.ts holds it: until when
 * it is surely still the run's own by this machine's clocks, its renewal (one round trip, shared by
 * the checks that need it, and every third of the term while the run goes on), and the check made
 * before a Katapult call or a write outside the record.
 */
import type { RequestLog } from './request-log.js';

/** What the lease functions need of a run. */
export interface Leased {
  id: string;
  lease: LeaseHold;
  deps: { requests: Pick<RequestLog, 'lease'>; owner: string; leaseMs: number; now: () => number };
}

/** Thrown when the lease was lost mid-run (another worker took the record over): stop at once. */
export class LeaseLost extends Error {}

/**
 * What this run knows of its lease (the fencing token): until when it is surely still its own, by
 * this machine's clocks (wall and monotonic, both must agree), with a third of the term to spare;
 * lost once a renewal found another holder (or the record ended).
 */
export interface LeaseHold {
  fromWall: number;
  untilWall: number;
  untilMono: number;
  lost: boolean;
  /** The renewal under way, shared by the checks that need it. */
  renewing: Promise<boolean> | null;
}

/** The lease, taken or renewed by a write sent at `sent`, is surely this run's for `forMs` more. */
export function heldFrom(run: Leased, sent: { wall: number; mono: number }, forMs: number): void {
  const hold = run.lease;
  if (sent.wall + forMs <= hold.untilWall) return;
  hold.fromWall = sent.wall;
  hold.untilWall = sent.wall + forMs;
  hold.untilMono = sent.mono + forMs;
}

/** Renews the lease (one round trip); false, and marked lost, when another worker holds it. */
function renewLease(run: Leased): Promise<boolean> {
  const { deps, lease } = run;
  lease.renewing ??= (async () => {
    const sent = { wall: deps.now(), mono: performance.now() };
    try {
      if (!(await deps.requests.lease(run.id, deps.owner, deps.leaseMs))) {
        lease.lost = true;
        return false;
      }
      heldFrom(run, sent, (deps.leaseMs * 2) / 3);
      return true;
    } finally {
      lease.renewing = null;
    }
  })();
  return lease.renewing;
}

/** Renews the lease every third of its term until the caller clears the interval. */
export function keepLease(run: Leased): NodeJS.Timeout {
  return setInterval(() => {
    renewLease(run).catch(() => undefined);
  }, run.deps.leaseMs / 3);
}

/**
 * The fencing check before a Katapult call or a write outside the record: throws LeaseLost when the
 * lease is gone. Free while the last renewal is recent (they come every third of the term); else
 * one renewal.
 */
export async function checkLease(run: Leased): Promise<void> {
  const { lease, deps } = run;
  if (lease.lost) throw new LeaseLost(`lease of ${run.id} lost`);
  const wall = deps.now();
  if (wall >= lease.fromWall && wall < lease.untilWall && performance.now() < lease.untilMono) return;
  if (!(await renewLease(run))) throw new LeaseLost(`lease of ${run.id} lost`);
}
