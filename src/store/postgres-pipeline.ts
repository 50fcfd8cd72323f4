/**
 * How the PostgreSQL store sends a round trip (src/store/turn-batch.ts): the statements of one turn
 * on one pooled connection, pipelined, in one transaction when more than one of them writes.
 */
import pg from 'pg';
import { type Pending, type Statement, writesIn } from './turn-batch.js';

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
export async function inOnePipeline(pool: pg.Pool, batch: Pending[], names: StatementNames): Promise<void> {
  const [only] = batch;
  if (only && batch.length === 1) return answer(only, once(pool, only, names));
  const client = await pool.connect();
  let lost: Error | undefined;
  // pg-pool listens for a checked-out client's errors only in `pool.query`: a connection that drops
  // mid-batch would otherwise throw an unhandled 'error' event and end the process. Its queries fail.
  const onError = (error: Error) => {
    lost = error;
  };
  client.on('error', onError);
  const eachByItself = () => inTurn(client, batch, names);
  try {
    if (writesIn(batch) <= 1) return await eachByItself();
    const sent = pipelined(client, () => [
      ...OPENING.map((sql) => client.query(sql)),
      ...batch.map((p) => client.query(names.config(p))),
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
      // Rolled back (COMMIT answers ROLLBACK after a refusal, such as a name the server did not keep;
      // or the commit itself was refused).
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

/**
 * Named (prepared) statements: the server parses and plans a statement's text once per connection
 * instead of at every use, which cut PostgreSQL's own CPU per submission by a third in the
 * benchmark. The names are the store's own (a name per text, up to `limit` texts; the others go
 * unnamed). A pooler in transaction mode that does not keep prepared statements (PgBouncer before
 * 1.21, or with `max_prepared_statements = 0`) answers that a name does not exist, or already
 * exists: naming then stops for good in this store, and what failed for that runs again unnamed. The
 * same when a column's type changed under a prepared statement ("cached plan must not change result
 * type"); the statements name their columns, so a column added leaves their results as they were.
 */
export interface StatementNames {
  config(p: Statement): pg.QueryConfig;
  /** Whether `error` says the server did not keep a name (naming is off from then on). */
  lost(error: unknown): boolean;
}

export function statementNames(prefix: string, limit = 200): StatementNames {
  const names = new Map<string, string>();
  let naming = true;
  return {
    config({ sql, values }) {
      let name = naming && values.length > 0 ? names.get(sql) : undefined;
      if (naming && values.length > 0 && name === undefined && names.size < limit) {
        name = `${prefix}${names.size}`;
        names.set(sql, name);
      }
      return name === undefined ? { text: sql, values } : { name, text: sql, values };
    },
    lost(error) {
      const code = (error as { code?: unknown } | null)?.code;
      const lostName = code === '26000' || code === '42P05';
      // A column's type changed under a statement prepared before (another replica's upgrade).
      const changed = code === '0A000' && /cached plan/.test((error as Error).message);
      if (!(error instanceof pg.DatabaseError) || !(lostName || changed)) return false;
      naming = false;
      return true;
    },
  };
}

/** One statement on `on`, named; run again unnamed if the name was not kept. */
const once = (on: pg.Pool | pg.PoolClient, p: Pending, names: StatementNames) =>
  on.query(names.config(p)).catch((error: unknown) => {
    if (names.lost(error)) return on.query({ text: p.sql, values: p.values });
    throw error;
  });

/**
 * The statements of a round trip with at most one write, pipelined, each committed by itself. If a
 * name was not kept, the statements from the first that failed for it on run again, in order and
 * unnamed: each that failed for it and every read (a read issued after a write sees it, as it
 * would have), so a lock's reads still run after it is taken. A write that succeeded stands.
 */
async function inTurn(client: pg.PoolClient, batch: Pending[], names: StatementNames): Promise<void> {
  const sent = pipelined(client, () =>
    batch.map((p) =>
      client.query(names.config(p)).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      ),
    ),
  );
  const again: Pending[] = [];
  // Answered in order, each as it comes (a statement waiting for a row does not hold the ones before it).
  for (const [i, p] of batch.entries()) {
    const got = await (sent[i] as (typeof sent)[number]);
    const lost = 'error' in got && names.lost(got.error);
    if (lost || (again.length > 0 && writesIn([p]) === 0)) again.push(p);
    else if ('error' in got) p.reject(got.error);
    else p.resolve(got.result.rows as unknown[]);
  }
  if (again.length > 0)
    await Promise.all(
      pipelined(client, () => again.map((p) => answer(p, client.query({ text: p.sql, values: p.values })))),
    );
}

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
