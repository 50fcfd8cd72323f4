/**
 * Taking a submission in: the request record is written, with its idempotency key, before Slack is
 * acked, within a time well inside Slack's 3 s. A write that fails or does not finish in time is
 * refused (the caller says so in the modal); one that finishes late is cancelled, best effort.
 */
import { within } from '../deadline.js';
import type { RequestLog, RequestRecord } from './request-log.js';

export class IntakeTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the store did not record the request within ${timeoutMs} ms`);
    this.name = 'IntakeTimeoutError';
  }
}

export interface RequestIntake {
  /** 'duplicate': this submission was already recorded (Slack retried, a double click, another replica). */
  accept(record: RequestRecord): Promise<'accepted' | 'duplicate'>;
  /**
   * Starts the work on an accepted record (after the ack). The bot's intake (held-intake.ts) starts
   * it before the ack instead, and this does nothing there.
   */
  run(id: string): void;
}

export function createRequestIntake(deps: {
  requests: Pick<RequestLog, 'create' | 'lease' | 'save' | 'release'>;
  owner: string;
  leaseMs: number;
  timeoutMs: number;
  kick(id: string): void;
}): RequestIntake {
  return {
    async accept(record) {
      const write = deps.requests.create(record, deps.owner, deps.leaseMs);
      const outcome = await within(write, deps.timeoutMs, 'late' as const);
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
        throw new IntakeTimeoutError(deps.timeoutMs);
      }
      return outcome ? 'accepted' : 'duplicate';
    },
    run: deps.kick,
  };
}
