/**
 * The intake with back-pressure: a submission's ack is held until its run has started
 * (`RequestWorker.admit`), for at most `holdMs` and never past the intake's own time (`timeoutMs`,
 * counted from the start of the write), so acks keep the pace of the runs. Without it a client
 * that sends its next submission once the last is acked (a busy channel, a script, the benchmark's
 * closed loop) is acked faster than the work is done, and every later result waits behind the
 * backlog; a listener that does the work itself is slowed the same way by sharing the process.
 *
 * The run is started before the ack here, so `run` (called after the ack) has nothing left to start:
 * a second start could run a record that already ended again.
 */
import type { RequestIntake } from './intake.js';
import type { RequestWorker } from './request-worker.js';

export function createHeldIntake(
  intake: Pick<RequestIntake, 'accept'>,
  worker: Pick<RequestWorker, 'admit'>,
  { holdMs, timeoutMs }: { holdMs: number; timeoutMs: number },
): RequestIntake {
  return {
    async accept(record, options) {
      const deadline = Date.now() + timeoutMs;
      const outcome = await intake.accept(record, options);
      if (outcome === 'accepted') await worker.admit(record.id, Math.min(holdMs, deadline - Date.now()));
      return outcome;
    },
    run: () => undefined,
  };
}
