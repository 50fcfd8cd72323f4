/**
 * One round trip per turn: the statements issued in the same turn of the event loop (a stage's
 * reads and writes, started together with `Promise.all` or one after another without awaiting)
 * go to the store together, in the order they were issued, when the turn ends (`setImmediate`,
 * after every microtask of the turn). The backend decides what "together" is: one SQLite
 * transaction, one PostgreSQL pipeline. A statement issued after awaiting another's result is,
 * by construction, in a later round trip: batching never reorders what depends on what.
 *
 * Each statement settles on its own: one that fails rejects only its caller (the backend keeps
 * the others' effects, or fails them all when the round trip as a whole failed).
 */
export interface Statement {
  sql: string;
  values: unknown[];
}

export interface Pending extends Statement {
  resolve(rows: unknown[]): void;
  reject(error: unknown): void;
  /** Called as the round trip that holds it is sent: its `values` can no longer change. */
  onSend?: () => void;
}

/** The statements of `batch` that may write (all but plain SELECTs): more than one needs a transaction. */
export const writesIn = (batch: readonly Statement[]): number =>
  batch.filter((p) => !/^\s*SELECT\b/i.test(p.sql)).length;

/** Round trips sent, for tests and the benchmark (statements in each). */
export type RoundTripListener = (statements: readonly Statement[]) => void;

export interface TurnBatcher {
  /**
   * `onSend`: called as the statement's round trip is sent; until then the caller may still add to
   * `values` (a read of several keys that others in the same turn join: postgres-store.ts).
   */
  query(sql: string, values: unknown[], onSend?: () => void): Promise<unknown[]>;
  /** Called with each round trip as it is sent. */
  onRoundTrip(listener: RoundTripListener | null): void;
}

/**
 * `send` runs one round trip and settles every statement of it. `serial`: a round trip waits for
 * the one before it to end (one connection: SQLite); otherwise each turn's goes at once (a pool).
 */
export function turnBatcher(
  send: (batch: Pending[]) => Promise<void>,
  options: { serial: boolean },
): TurnBatcher {
  let pending: Pending[] = [];
  let scheduled = false;
  let sending: Promise<void> | null = null;
  let listener: RoundTripListener | null = null;

  const flush = () => {
    scheduled = false;
    if (options.serial && sending) return; // the round trip under way sends what came since when it ends
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    for (const p of batch) p.onSend?.();
    listener?.(batch);
    const sent = send(batch).catch((error) => {
      for (const p of batch) p.reject(error);
    });
    if (!options.serial) return;
    sending = sent.then(() => {
      sending = null;
      if (pending.length > 0) schedule();
    });
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };
  return {
    query(sql, values, onSend) {
      return new Promise((resolve, reject) => {
        pending.push({ sql, values, resolve, reject, onSend });
        schedule();
      });
    },
    onRoundTrip(next) {
      listener = next;
    },
  };
}
