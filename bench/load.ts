/** Drives bench/load-worker.mjs (autocannon in a worker thread): one request at a time per run. */
import { Worker } from 'node:worker_threads';

export interface LoadSpec {
  /** http://127.0.0.1:<port> */
  url: string;
  path: string;
  secret: string;
  connections: number;
  /** Request i sends bodies[i % bodies.length]. */
  bodies: string[];
  amount: number;
  timeoutSec: number;
}

export interface LoadResult {
  /** Event-loop delay of the load generator's thread during the run. */
  eld: { p99Ms: number; maxMs: number };
  /** hrMs when request i was written (NaN: never sent). */
  sentAt: Float64Array;
  /** hrMs when its response was complete (NaN: none). */
  ackAt: Float64Array;
  status: Uint16Array;
  /** 1 when the response body was empty (a plain ack). */
  emptyBody: Uint8Array;
  /** 1 for the first request of each connection (it includes the connection's setup). */
  firstOnConnection: Uint8Array;
  statusCounts: Record<string, number>;
  unexpectedBodyCount: number;
  unexpectedBodies: string[];
  extraRequests: number;
  autocannon: {
    errors: number;
    timeouts: number;
    non2xx: number;
    resets: number;
    mismatches: number;
    totalRequests: number;
    totalCompleted: number;
  };
}

export class LoadGenerator {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (r: LoadResult) => void; reject: (e: Error) => void }
  >();
  private failed: Error | null = null;

  constructor() {
    this.worker = new Worker(new URL('./load-worker.mjs', import.meta.url));
    this.worker.on('message', (msg: { type: string; id: number; result?: LoadResult; error?: string }) => {
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.type === 'result' && msg.result) waiter.resolve(msg.result);
      else waiter.reject(new Error(`load generator: ${msg.error ?? 'no result'}`));
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`load generator exited (code ${code})`)));
  }

  private fail(error: Error): void {
    this.failed ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }

  run(spec: LoadSpec): Promise<LoadResult> {
    if (this.failed) return Promise.reject(this.failed);
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'run', id, spec });
    });
  }

  async close(): Promise<void> {
    this.fail(new Error('load generator closed'));
    await this.worker.terminate();
  }
}
