/**
 * Taking a submission in: the request record is written, with its idempotency key, before Slack is
 * acked, within a time well inside Slack's 3 s. A write that fails or does not finish in time is
 * refused (the caller says so in the modal); one that finishes late is taken back, best effort.
 *
 * The write may go out with the submission gate's reads, in the same round trip (`gate`): the
 * record is then created leased to this process, so no other replica can run it, and it is started
 * only once the gate let it through; a gate that refuses takes it back (removed, else cancelled).
 * Its run may start along with them (`startEarly`), so that its reads before the Katapult call go in
 * that round trip too: it then calls nothing until this intake says the record was taken.
 */
import { within } from '../deadline.js';
import type { RequestLog, RequestRecord } from './request-log.js';
import { type EarlyStart, startsWithIntake } from './run-request.js';

export class IntakeTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the store did not record the request within ${timeoutMs} ms`);
    this.name = 'IntakeTimeoutError';
  }
}

/**
 * 'duplicate': this submission was already recorded (Slack retried, a double click, another replica);
 * 'refused': the gate given with it refused, and what this wrote is taken back.
 */
export type IntakeOutcome = 'accepted' | 'duplicate' | 'refused';

export interface AcceptOptions {
  /** Written along with the gate's reads: true lets the record run; false takes it back. */
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

/**
 * A lease shorter than this many intake times could lapse while the gate is still deciding (then
 * another replica could take the record): the gate answers first instead.
 */
const SHORT_LEASE_INTAKES = 3;

export function createRequestIntake(deps: {
  requests: Pick<RequestLog, 'create' | 'lease' | 'save' | 'withdraw'>;
  owner: string;
  leaseMs: number;
  timeoutMs: number;
  kick(id: string): void;
  /**
   * Starts the record's run now, along with the write and the gate (false: it could not start at
   * once; it is kicked once accepted, as without). `admission` settles with this intake's answer.
   */
  startEarly?(record: RequestRecord, admission: EarlyStart['admission']): boolean;
  /** A record the person was told was not taken that could not be removed nor cancelled. */
  onLeftBehind?(id: string, error: unknown): void;
}): RequestIntake {
  /**
   * Makes a record this intake wrote, and the person is told was not taken, never run: removed, or
   * else cancelled, while its lease (this intake's) keeps every other replica off it.
   */
  const takeBack = async (id: string, why: string): Promise<void> => {
    try {
      await deps.requests.withdraw(id, deps.owner);
    } catch {
      try {
        const r = await deps.requests.lease(id, deps.owner, deps.leaseMs);
        if (r) await deps.requests.save({ ...r, state: 'cancelled', error: why }, deps.owner);
      } catch (error) {
        deps.onLeftBehind?.(id, error);
      }
    }
  };
  const accept = async (
    record: RequestRecord,
    gate: Promise<boolean> | undefined,
    startRun?: () => void,
  ): Promise<IntakeOutcome> => {
    const deadline = Date.now() + deps.timeoutMs;
    const write = deps.requests.create(record, deps.owner, deps.leaseMs);
    startRun?.();
    const outcome = await within(write, deps.timeoutMs, 'late' as const);
    // The gate bounds its own reads (it refuses when the store is too slow).
    const refused = gate ? !(await gate) : false;
    if (outcome === 'late') {
      // The person is told nothing was done: make that true if the write lands after all.
      write
        .then((created) => (created ? takeBack(record.id, 'store too slow at intake') : undefined))
        .catch(() => undefined);
      if (refused) return 'refused';
      throw new IntakeTimeoutError(deps.timeoutMs);
    }
    if (refused) {
      // Taken back before the refusal is answered, within the intake's time: nothing stays that the
      // person is told was refused. What the store is slow to do goes on after the answer.
      if (outcome) {
        const removal = takeBack(record.id, 'refused at the submission gate');
        await within(removal, Math.max(0, deadline - Date.now()), undefined);
      }
      return 'refused';
    }
    return outcome ? 'accepted' : 'duplicate';
  };
  return {
    async accept(record, options = {}) {
      let gate = options.gate;
      if (gate && deps.leaseMs < SHORT_LEASE_INTAKES * deps.timeoutMs) {
        if (!(await gate)) return 'refused';
        gate = undefined;
      }
      if (!gate || !deps.startEarly || !startsWithIntake(record)) return accept(record, gate);
      // The run starts in the same turn as the write (after it: the write's statement comes first).
      let answer: (taken: boolean) => void = () => undefined;
      const admission = new Promise<boolean>((resolve) => {
        answer = resolve;
      });
      const { startEarly } = deps;
      try {
        const outcome = await accept(record, gate, () => startEarly(record, admission));
        answer(outcome === 'accepted');
        return outcome;
      } finally {
        answer(false);
      }
    },
    run: deps.kick,
  };
}
