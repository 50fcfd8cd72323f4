/**
 * A background pass that runs every `intervalMs`, the first time a while after start (between half
 * and all of `firstWithinMs`, capped at the interval), so replicas started together, or a process
 * restarted in a loop, do not all run it at once. The timers never hold the process open.
 */
export interface Periodic {
  start(): void;
  stop(): void;
}

export function periodic(run: () => void, intervalMs: number, firstWithinMs: number): Periodic {
  let timer: NodeJS.Timeout | undefined;
  return {
    start() {
      if (intervalMs <= 0 || timer) return;
      const first = Math.min(intervalMs, firstWithinMs) * (0.5 + Math.random() / 2);
      timer = setTimeout(() => {
        run();
        timer = setInterval(run, intervalMs);
        timer.unref();
      }, first);
      timer.unref();
    },
    stop() {
      clearTimeout(timer);
      clearInterval(timer);
      timer = undefined;
    },
  };
}
