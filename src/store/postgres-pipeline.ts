/**
 * How the PostgreSQL store sends a round trip (src/store/turn-batch.ts): the statements of one turn
 * on one pooled connection, pipelined, in one transaction when more than one of them writes.
 */
import { createHash } from 'node:crypto';
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
  // A name the server did not keep: pg's record of what this connection prepared is wrong, so the
  // connection is dropped.
  let nameLost = false;
  const eachByItself = async (named: boolean) => {
    if (await inTurn(client, batch, names, named)) nameLost = true;
  };
  try {
    if (writesIn(batch) <= 1) return await eachByItself(true);
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
      // or the commit itself was refused). Run again unnamed: with more than one write, a re-run of
      // one whose name was lost would come after a later one.
      if (settled.some((r) => r.status === 'rejected' && names.lost(r.reason))) nameLost = true;
      await eachByItself(false);
    } else {
      lost ??= commit.reason instanceof Error ? commit.reason : new Error(String(commit.reason));
      for (const p of batch) p.reject(commit.reason);
    }
  } finally {
    client.removeListener('error', onError);
    // A connection left inside a transaction (it never should be) is not handed to anyone else.
    const status = (client as unknown as { getTransactionStatus?(): string | null }).getTransactionStatus?.();
    client.release(
      lost ??
        (status && status !== 'I' ? new Error(`left in transaction state ${status}`) : undefined) ??
        (nameLost ? new Error('a prepared statement was not kept') : undefined),
    );
  }
}

/**
 * The server refused the statement and the session goes on (severity ERROR): the transaction was
 * rolled back. A FATAL one ends the connection, maybe after the commit: not a refusal. The severity
 * pg reports is translated where the server's `lc_messages` is not English: then the class of the
 * code tells (connection exceptions 08, operator intervention 57P, internal errors XX may be FATAL).
 */
export const refused = (error: unknown): boolean =>
  error instanceof pg.DatabaseError &&
  (error.severity === 'ERROR' ||
    (error.severity !== 'FATAL' && error.severity !== 'PANIC' && !/^(08|57P|XX)/.test(error.code ?? '')));

/**
 * A batch's transaction: READ COMMITTED, and at most 1 s of waiting for a row lock before its
 * statements run one by one.
 */
const OPENING = ['BEGIN ISOLATION LEVEL READ COMMITTED', "SET LOCAL lock_timeout = '1s'"];

/**
 * Named (prepared) statements: the server parses and plans a statement's text once per connection
 * instead of at every use, which cut PostgreSQL's own CPU per submission by about 40% in the
 * benchmark. A name is drawn from the text (a hash), so it means the same statement in every
 * process and after every restart: even a pooler that hands a name to another connection reaches
 * the same text. Up to `limit` texts are named; the others go unnamed. The server may answer that a
 * name does not exist or already exists (a pooler in transaction mode that does not keep prepared
 * statements: PgBouncer before 1.21, or with `max_prepared_statements = 0`), or that a column's
 * type changed under it ("cached plan must not change result type"): what failed for that runs
 * again unnamed, the connection is dropped, and after `strikes` such answers naming stops for good.
 */
export interface StatementNames {
  config(p: Statement, named?: boolean): pg.QueryConfig;
  /** Whether `error` says the server did not keep a statement's name (counted: StatementNames). */
  lost(error: unknown): boolean;
}

export function statementNames(prefix = 'katapult_', limit = 200, strikes = 3): StatementNames {
  const names = new Map<string, string>();
  let lostSoFar = 0;
  return {
    config({ sql, values }, named = true) {
      if (!named || lostSoFar >= strikes || values.length === 0) return { text: sql, values };
      let name = names.get(sql);
      if (name === undefined && names.size < limit) {
        name = `${prefix}${createHash('sha256').update(sql).digest('hex').slice(0, 40)}`;
        names.set(sql, name);
      }
      return name === undefined ? { text: sql, values } : { name, text: sql, values };
    },
    lost(error) {
      if (!(error instanceof pg.DatabaseError)) return false;
      // The routine, not the message (which the server translates), says a cached plan went stale.
      const stale = error.code === '0A000' && error.routine === 'RevalidateCachedQuery';
      if (!(error.code === '26000' || error.code === '42P05' || stale)) return false;
      lostSoFar++;
      return true;
    },
  };
}

/** One statement on `on`, named; run again unnamed if the name was not kept (pg-pool drops that connection). */
const once = (on: pg.Pool, p: Pending, names: StatementNames) =>
  on.query(names.config(p)).catch((error: unknown) => {
    if (names.lost(error)) return on.query(names.config(p, false));
    throw error;
  });

/**
 * The statements of a round trip, pipelined, each committed by itself (at most one write among them,
 * or `named` false: they then run unnamed). If a name was not kept, the statements from the first
 * that failed for it on run again, in order and unnamed: each that failed for it, and every read (a
 * read re-run comes after the round trip's write, whichever was issued first), so a lock's reads
 * still run after it is taken. A write that succeeded stands. Returns whether a name was not kept.
 */
async function inTurn(
  client: pg.PoolClient,
  batch: Pending[],
  names: StatementNames,
  named = true,
): Promise<boolean> {
  const sent = pipelined(client, () =>
    batch.map((p) =>
      client.query(names.config(p, named)).then(
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
      pipelined(client, () => again.map((p) => answer(p, client.query(names.config(p, false))))),
    );
  return again.length > 0;
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
