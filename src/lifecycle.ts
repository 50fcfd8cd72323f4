/** Work that must finish before the process exits: schedules and posts that started after an ack. */
import { within } from './deadline.js';

export class InFlight {
  private readonly running = new Set<Promise<unknown>>();

  get size(): number {
    return this.running.size;
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    const p = work();
    this.running.add(p);
    const forget = () => this.running.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** Resolves true when everything finished, false when `timeoutMs` ran out first. */
  drain(timeoutMs: number): Promise<boolean> {
    const all = (async () => {
      while (this.running.size > 0) await Promise.allSettled([...this.running]);
      return true;
    })();
    return within(all, timeoutMs, false);
  }
}
