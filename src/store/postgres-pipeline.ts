/**
 * How the PostgreSQL store sends a round trip (src/store/turn-batch.ts): the statements of one turn
 * on one pooled connection, pipelined, in one transaction when more than one of them writes.
 */
import pg from 'pg';
import { type Pending, writesIn } from './turn-batch.js';

/**
 * One round trip on PostgreSQL: a lone statement on any pooled connection; several pipelined on one
 * (pg's pipeline mode: all sent at once, answered in order). With more than one write among them they
 * run in one transaction: one commit (one flush of the WAL) instead of one per write, which cut
 * PostgreSQL's own CPU per submission by 40% at c=16 in the benchmark. Each is answered once the
 * commit is. The transaction is READ COMMITTED whatever the database's default (the level the
 * stores' conditional writes are written for), and waits at most 1 s for a row another holds
 * (`OPENING`). When the server refused one of them (a bad value, a lock wait, a deadlock, a
 * conflict at commit), nothing took effect: each then runs again by itself, so only the one refused
 * fails, as on SQLite. A connection lost before the commit's answer fails them all (whether it
 * committed is unknown), as a lost connection failed each statement before.
 */
export async function inOnePipeline(pool: pg.Pool, batch: Pending[]): Promise<void> {
  const [only] = batch;
  if (only && batch.length === 1) return answer(only, pool.query(only.sql, only.values));
  const client = await pool.connect();
  let lost: Error | undefined;
  // pg-pool listens for a checked-out client's errors only in `pool.query`: a connection that drops
  // mid-batch would otherwise throw an unhandled 'error' event and end the process. Its queries fail.
  const onError = (error: Error) => {
    lost = error;
  };
  client.on('error', onError);
  const eachByItself = async () => {
    await Promise.all(pipelined(client, () => batch.map((p) => answer(p, client.query(p.sql, p.values)))));
  };
  try {
    if (writesIn(batch) <= 1) return await eachByItself();
    const sent = pipelined(client, () => [
      ...OPENING.map((sql) => client.query(sql)),
      ...batch.map((p) => client.query(p.sql, p.values)),
      client.query('COMMIT'),
    ]);
    const settled = await Promise.allSettled(sent);
    const commit = settled.at(-1) as PromiseSettledResult<pg.QueryResult>;
    if (commit.status === 'fulfilled' && commit.value.command === 'COMMIT') {
      batch.forEach((p, i) => {
        const result = settled[OPENING.length + i] as PromiseSettledResult<pg.QueryResult>;
        if (result.status === 'fulfilled') p.resolve(result.value.rows as unknown[]);
        else p.reject(result.reason);
      });
    } else if (commit.status === 'fulfilled' || refused(commit.reason)) {
      // Rolled back (COMMIT answers ROLLBACK after a refusal; or the commit itself was refused).
      await eachByItself();
    } else {
      lost ??= commit.reason instanceof Error ? commit.reason : new Error(String(commit.reason));
      for (const p of batch) p.reject(commit.reason);
    }
  } finally {
    client.removeListener('error', onError);
    // A connection left inside a transaction (it never should be) is not handed to anyone else.
    const status = (client as unknown as { getTransactionStatus?(): string | null }).getTransactionStatus?.();
    client.release(
      lost ?? (status && status !== 'I' ? new Error(`left in transaction state ${status}`) : undefined),
    );
  }
}

/**
 * The server refused the statement and the session goes on (severity ERROR): the transaction was
 * rolled back. A FATAL one ends the connection, maybe after the commit: not a refusal.
 */
const refused = (error: unknown): boolean => error instanceof pg.DatabaseError && error.severity === 'ERROR';

/**
 * A batch's transaction: READ COMMITTED, and at most 1 s of waiting for a row lock before its
 * statements run one by one.
 */
const OPENING = ['BEGIN ISOLATION LEVEL READ COMMITTED', "SET LOCAL lock_timeout = '1s'"];

/** Settles `p` with the rows of `result`, or its error. */
const answer = (p: Pending, result: Promise<pg.QueryResult>): Promise<void> =>
  result.then((r) => p.resolve(r.rows as unknown[]), p.reject);

/** Issues `queries` with the socket corked around them: pg corks it around each, so they go in one write. */
function pipelined<T>(client: pg.PoolClient, queries: () => T[]): T[] {
  const socket = (client as unknown as { connection?: { stream?: Partial<Corkable> } }).connection?.stream;
  socket?.cork?.();
  try {
    return queries();
  } finally {
    socket?.uncork?.();
  }
}

type Corkable = { cork(): void; uncork(): void };
