/**
 * Runs request records: at once when a submission is accepted here (`kick`), and from a periodic
 * sweep that takes over records whose worker is gone (their lease expired: a crash, a lost node).
 * At most `concurrency` records run at a time in this process; the rest wait in a bounded queue
 * (a burst is drained, not piled up as promises), and the sweep finds whatever did not fit. While a
 * burst is being taken in, no new run starts (for at most `maxDeferMs`), so the acks go out first.
 *
 * Outside a burst, acks wait for the work instead (`admit`): a submission's ack is held, for a
 * bounded time, until its run has started. A client that sends its next submission when the last
 * one is acked (a busy channel, a script, the benchmark's closed loop) is then slowed to the pace
 * the runs keep, as it would be by a listener that does the work itself, instead of piling up a
 * backlog behind the workers that every later result waits for.
 */
import { type AppLogger, errorText } from '../log.js';
import type { RequestLog } from './request-log.js';
import type { EarlyStart } from './run-request.js';

export interface RequestWorkerOptions {
  requests: Pick<RequestLog, 'abandoned'>;
  /** `early`: started with its intake (`startNow`). */
  run(id: string, early?: EarlyStart): Promise<boolean>;
  logger: AppLogger;
  sweepMs: number;
  concurrency: number;
  /** Longest queue kept in memory; beyond it, records wait for the sweep. */
  maxQueue?: number;
  /** Every run goes through it, so a shutdown can wait for the runs under way. */
  track<T>(work: () => Promise<T>): Promise<T>;
  /**
   * True while the process is taking a burst in (acks come first): no new run starts then, unless
   * the oldest waiting record has waited `maxDeferMs` (so runs never starve).
   */
  yieldToIntake?: () => boolean;
  maxDeferMs?: number;
}

export interface RequestWorker {
  kick(id: string): void;
  /**
   * Kicks the record and resolves once its run has started, at the latest after `maxWaitMs` (it
   * then stays queued and runs in turn). At once when it cannot wait in the queue (full: the sweep
   * finds it) or while the process takes a burst in; held ones are let go when runs are deferred
   * for a burst (acks first) and when the worker stops. Never rejects.
   */
  admit(id: string, maxWaitMs: number): Promise<void>;
  /**
   * Starts the record's run now, with its intake still under way (run-request.ts, `EarlyStart`),
   * when a run can start at once: room, nobody waiting before it, no burst being taken in. False
   * otherwise (the intake then kicks it as usual).
   */
  startNow(id: string, early: EarlyStart): boolean;
  /** One sweep now (also runs every `sweepMs` once started). */
  sweep(): Promise<void>;
  start(): void;
  stop(): void;
  /** Records queued or running in this process. */
  readonly size: number;
  /** This process's queue now: waiting, running, and how long the oldest waiting one has waited. */
  stats(): WorkerStats;
}

export interface WorkerStats {
  queued: number;
  running: number;
  oldestQueuedMs: number;
}

export function createRequestWorker(options: RequestWorkerOptions): RequestWorker {
  const queued = new Set<string>();
  /** Waiting records, oldest first, with when each was queued (unix ms). */
  const queue: { id: string; at: number }[] = [];
  /** Acks held until their record's run starts (`admit`), by record. */
  const holds = new Map<string, () => void>();
  const release = (id: string) => {
    holds.get(id)?.();
    holds.delete(id);
  };
  const releaseAll = () => {
    for (const id of [...holds.keys()]) release(id);
  };
  let running = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const maxQueue = options.maxQueue ?? 10_000;
  const maxDeferMs = options.maxDeferMs ?? 2_000;
  let retry: NodeJS.Timeout | undefined;

  const deferring = () => {
    if (!options.yieldToIntake?.() || Date.now() - (queue[0]?.at ?? 0) >= maxDeferMs) return false;
    // A burst: its acks go out now, not when their runs start.
    releaseAll();
    retry ??= setTimeout(() => {
      retry = undefined;
      pump();
    }, 20);
    return true;
  };

  /** Records whose run started with an intake (`startNow`), and those of them kicked meanwhile. */
  const early = new Set<string>();
  const kickedEarly = new Set<string>();

  const start = (id: string, from?: EarlyStart) => {
    running++;
    if (from) early.add(id);
    // The next run starts within this one's tracked work, so that a drain never sees a gap.
    void options.track(async () => {
      let ran = true;
      try {
        ran = await options.run(id, from);
      } catch (error) {
        options.logger.event('error', 'request_run_failed', { request: id, error: errorText(error) });
      } finally {
        running--;
        queued.delete(id);
        // Abandoned, its intake having not taken the record: another delivery of the same
        // submission may have, and was kicked while this ran. It runs now.
        const again = from !== undefined && !ran && kickedEarly.has(id);
        early.delete(id);
        kickedEarly.delete(id);
        if (again) kick(id);
        pump();
      }
    });
  };

  const pump = () => {
    while (!stopped && running < options.concurrency && queue.length > 0 && !deferring()) {
      const { id } = queue.shift() as { id: string };
      release(id);
      start(id);
    }
  };

  const kick = (id: string) => {
    if (early.has(id)) kickedEarly.add(id);
    if (stopped || queued.has(id) || queue.length >= maxQueue) return;
    queued.add(id);
    queue.push({ id, at: Date.now() });
    pump();
  };

  const sweep = async () => {
    try {
      const room = Math.max(0, Math.min(100, maxQueue - queue.length));
      if (room === 0) return;
      for (const id of await options.requests.abandoned(room)) kick(id);
    } catch (error) {
      options.logger.event('error', 'request_sweep_failed', {
        error: errorText(error),
      });
    }
  };

  const admit = (id: string, maxWaitMs: number) => {
    kick(id);
    // Started at once, not queued (full: left to the sweep; stopped), held already, or a burst: no hold.
    if (maxWaitMs <= 0 || holds.has(id) || options.yieldToIntake?.() || !queue.some((q) => q.id === id))
      return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => release(id), maxWaitMs);
      holds.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  };

  const startNow = (id: string, early: EarlyStart) => {
    if (stopped || queued.has(id) || running >= options.concurrency || queue.length > 0) return false;
    if (options.yieldToIntake?.()) return false;
    queued.add(id);
    start(id, early);
    return true;
  };

  return {
    kick,
    admit,
    startNow,
    sweep,
    start() {
      stopped = false;
      void sweep();
      timer = setInterval(() => void sweep(), options.sweepMs);
      timer.unref();
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(retry);
      releaseAll();
    },
    get size() {
      return queue.length + running;
    },
    stats() {
      const oldest = queue[0];
      return { queued: queue.length, running, oldestQueuedMs: oldest ? Date.now() - oldest.at : 0 };
    },
  };
}
