/**
 * Taking a submission in: the request record is written, with its idempotency key, before Slack is
 * acked, within a time well inside Slack's 3 s. A write that fails or does not finish in time is
 * refused (the caller says so in the modal); one that finishes late is cancelled, best effort.
 *
 * The write may go out with the submission gate's reads, in the same round trip (`gate`): the
 * record is then created leased to this process, so no other replica can run it, and it is started
 * only once the gate let it through; a gate that refuses removes it again before the answer.
 */
import { within } from '../deadline.js';
import type { RequestLog, RequestRecord } from './request-log.js';

export class IntakeTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the store did not record the request within ${timeoutMs} ms`);
    this.name = 'IntakeTimeoutError';
  }
}

/**
 * 'duplicate': this submission was already recorded (Slack retried, a double click, another replica);
 * 'refused': the gate given with it refused, and what this wrote is removed.
 */
export type IntakeOutcome = 'accepted' | 'duplicate' | 'refused';

export interface AcceptOptions {
  /** Written along with the gate's reads: true lets the record run; false removes it. */
  gate?: Promise<boolean>;
}

export interface RequestIntake {
  accept(record: RequestRecord, options?: AcceptOptions): Promise<IntakeOutcome>;
  /**
   * Starts the work on an accepted record (after the ack). The bot's intake (held-intake.ts) starts
   * it before the ack instead, and this does nothing there.
   */
  run(id: string): void;
}

export function createRequestIntake(deps: {
  requests: Pick<RequestLog, 'create' | 'lease' | 'save' | 'withdraw'>;
  owner: string;
  leaseMs: number;
  timeoutMs: number;
  kick(id: string): void;
}): RequestIntake {
  return {
    async accept(record, options = {}) {
      const deadline = Date.now() + deps.timeoutMs;
      const write = deps.requests.create(record, deps.owner, deps.leaseMs);
      const outcome = await within(write, deps.timeoutMs, 'late' as const);
      // The gate bounds its own reads (it refuses when the store is too slow).
      const refused = options.gate ? !(await options.gate) : false;
      if (outcome === 'late') {
        // The person is told nothing was done: make that true if the write lands after all.
        write
          .then(async (created) => {
            if (!created) return;
            const r = await deps.requests.lease(record.id, deps.owner, deps.leaseMs);
            if (r)
              await deps.requests.save(
                { ...r, state: 'cancelled', error: 'store too slow at intake' },
                deps.owner,
              );
          })
          .catch(() => undefined);
        if (refused) return 'refused';
        throw new IntakeTimeoutError(deps.timeoutMs);
      }
      if (refused) {
        // Removed before the refusal is answered, within the intake's time: nothing stays that the
        // person is told was refused. A removal the store is slow to make goes on after the answer.
        if (outcome) {
          const removal = deps.requests.withdraw(record.id, deps.owner);
          await within(removal, Math.max(0, deadline - Date.now()), undefined);
        }
        return 'refused';
      }
      return outcome ? 'accepted' : 'duplicate';
    },
    run: deps.kick,
  };
}
