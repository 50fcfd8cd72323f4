/**
 * The SQLite backend: Keyv's table for records, plus tables of our own in the same file (claims,
 * the audit log, the lease documents). Claims use one `INSERT … ON CONFLICT DO UPDATE … WHERE
 * expired … RETURNING`, which SQLite runs atomically, so two processes on the same file cannot both
 * win.
 *
 * Every query, Keyv's included, runs on one connection of Node's own `node:sqlite`, each statement
 * prepared once and reused. Its calls are synchronous: a statement in WAL mode takes microseconds,
 * where the `sqlite3` driver handed each one to libuv's thread pool and back (a thread woken, a
 * callback scheduled), which cost about ten times the CPU of the statement itself, and a submission
 * runs about a dozen. A write lock held by another process (another replica on the same file) is
 * not waited for inside SQLite, which would hold the event loop (busy timeout 0): the round trip is
 * tried again a few milliseconds later, for up to 5 s. The commit that fills the WAL to 1,000 pages
 * copies them into the file and syncs it (SQLite's automatic checkpoint): 3-7 ms, once every few
 * hundred submissions.
 *
 * No `sqlite3` connection may open the file in this process: two copies of SQLite in one process
 * each take POSIX locks on it unaware of the other's, and a close by one drops the other's locks
 * (https://www.sqlite.org/howtocorrupt.html, 2.2.1). Keyv's adapter, which opens a connection of
 * its own, gets an in-memory database, and its queries come here.
 *
 * The statements issued in one turn of the event loop run as one transaction (turn-batch.ts): a
 * request's stage (its reads before the Katapult call, its writes after) is one round trip, and
 * under load other requests' statements share it (one commit for many).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import { createSqlDocs, docsSchema } from './sql-docs.js';
import { sqlKvCompareAndSet } from './sql-kv.js';
import type { AuditEntry, AuditLog, Store } from './store.js';
import { type Pending, turnBatcher, writesIn } from './turn-batch.js';

export async function openSqliteStore(
  url: string,
  options: {
    retentionMs: number;
    maxPerWorkspace: number;
    onError: (error: unknown) => void;
    now?: () => number;
  },
): Promise<Store> {
  const now = options.now ?? Date.now;
  const file = path.resolve(url.slice('sqlite://'.length));
  await mkdir(path.dirname(file), { recursive: true });
  const { DatabaseSync } = await loadNodeSqlite();
  const db = new DatabaseSync(file);
  const exec = async (sql: string) => {
    await untilFree(() => db.exec(sql));
  };
  const statements = preparedStatements(db);
  const batcher = turnBatcher((batch) => inOneTransaction(statements.run, batch), { serial: true });
  const query: Query = (sql, ...params) => batcher.query(sql, params);

  await exec('PRAGMA busy_timeout = 0');
  await exec('PRAGMA journal_mode = WAL');
  // With WAL, NORMAL is crash-safe (no corruption) and skips an fsync per commit on the request path.
  await exec('PRAGMA synchronous = NORMAL');
  await exec('CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)');
  await exec('CREATE INDEX IF NOT EXISTS claims_expires ON claims (expires_at)');
  await exec(
    'CREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT NOT NULL, at INTEGER NOT NULL, entry TEXT NOT NULL)',
  );
  await exec('CREATE INDEX IF NOT EXISTS audit_log_workspace ON audit_log (workspace, id)');
  await exec('CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at)');
  for (const sql of docsSchema('docs', 'docs')) await exec(sql);
  // Keyv's table, as its adapter defines it.
  await exec('CREATE TABLE IF NOT EXISTS keyv(key VARCHAR(255) PRIMARY KEY, value TEXT )');
  // Its own connection is to an in-memory database (never to the file: see the top).
  const adapter = new KeyvSqlite({ uri: 'sqlite://:memory:' });
  // Keyv's reads and writes run on our connection too, with the same prepared statements (its
  // `query` is a public field; it passes its values either spread or as one array).
  adapter.query = (sql, ...params) =>
    query(sql, ...(params.length === 1 && Array.isArray(params[0]) ? params[0] : params));
  // A failed write must reach the person who asked for it, not only an 'error' event.
  const kv = new Keyv({ store: adapter, namespace: 'katapult-chatops', throwOnErrors: true });
  kv.on('error', options.onError);
  const docs = createSqlDocs(
    (sql, values) => query(sql, ...values),
    { table: 'docs', placeholder: () => '?', clockSql: null },
    now,
  );

  return {
    kv,
    async claim(key, ttlMs) {
      const t = now();
      const rows = await query(
        `INSERT INTO claims (key, expires_at) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE claims.expires_at <= ?
         RETURNING key`,
        key,
        t + ttlMs,
        t,
      );
      if (Math.random() < 0.01) await query('DELETE FROM claims WHERE expires_at <= ?', t);
      return rows.length === 1;
    },
    async release(key) {
      await query('DELETE FROM claims WHERE key = ?', key);
    },
    audit: sqliteAuditLog(query, options, now),
    docs,
    onRoundTrip: batcher.onRoundTrip,
    async close() {
      await kv.disconnect();
      statements.clear();
      db.close(); // the last connection to the file checkpoints the WAL into it
    },
    ...claimSweep(query, now),
    ...sqlKvCompareAndSet((sql, values) => query(sql, ...values), {
      table: 'keyv',
      placeholder: () => '?',
      stored: (key) => `katapult-chatops:${key}`,
    }),
  };
}

type Query = (sql: string, ...params: unknown[]) => Promise<unknown[]>;
type Run = (sql: string, params: readonly unknown[]) => unknown[];
type NodeSqlite = typeof import('node:sqlite');

/**
 * `node:sqlite`, without the one-line "experimental" warning that Node 22 prints when it loads (the
 * calls used here are the same from 22.13 to 26, where it is no longer flagged).
 */
async function loadNodeSqlite(): Promise<NodeSqlite> {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (/SQLite is an experimental feature/.test(String(warning))) return;
    (emit as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return await import('node:sqlite');
  } finally {
    process.emitWarning = emit;
  }
}

/**
 * A parameter for node:sqlite, which binds every number as REAL and (on Node 22) refuses booleans
 * and `undefined`: integers as INTEGER (so `5` is stored as `5`, not `5.0`, in a TEXT column, as
 * `sqlite3` stored 32-bit ones), booleans as 1 and 0, `undefined` as NULL.
 */
function bindable(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value === undefined ? null : value;
}

/** Runs statements on `db`, each prepared once (one that fails to prepare is not kept). */
function preparedStatements(db: InstanceType<NodeSqlite['DatabaseSync']>): { run: Run; clear(): void } {
  const statements = new Map<string, ReturnType<typeof db.prepare>>();
  return {
    run(sql, params) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = db.prepare(sql);
        statements.set(sql, statement);
      }
      return statement.all(...(params.map(bindable) as Parameters<typeof statement.all>));
    },
    clear: () => statements.clear(),
  };
}

/** How long a round trip waits for another process's write lock, in all (as `sqlite3`'s busy timeout did). */
const BUSY_WAIT_MS = 5000;
const isBusy = (error: unknown) => {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' && ((code & 0xff) === 5 || (code & 0xff) === 6); // SQLITE_BUSY, SQLITE_LOCKED
};

/**
 * Runs `step` (synchronous); while SQLite answers "busy" (another process holds the lock), tries it
 * again after a pause that grows to 50 ms, with the event loop free, for up to BUSY_WAIT_MS.
 */
async function untilFree<T>(step: () => T): Promise<T> {
  const started = Date.now();
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    try {
      return step();
    } catch (error) {
      if (!isBusy(error) || Date.now() - started >= BUSY_WAIT_MS) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/**
 * One round trip on SQLite: statements with at most one write among them one after another, each
 * atomic by itself (a transaction would add two statements and change nothing); more writes in one
 * `BEGIN IMMEDIATE` transaction (the write lock taken at the start, not half-way; one commit).
 * A statement that fails rejects only its caller; a transaction that cannot begin or commit fails
 * every statement.
 */
async function inOneTransaction(run: Run, batch: Pending[]): Promise<void> {
  if (writesIn(batch) <= 1) {
    for (const p of batch) await untilFree(() => run(p.sql, p.values)).then(p.resolve, p.reject);
    return;
  }
  await untilFree(() => run('BEGIN IMMEDIATE', []));
  const results = batch.map((p): { rows: unknown[] } | { error: unknown } => {
    try {
      return { rows: run(p.sql, p.values) };
    } catch (error) {
      return { error };
    }
  });
  try {
    run('COMMIT', []);
  } catch (error) {
    try {
      run('ROLLBACK', []);
    } catch {
      // no transaction left to roll back
    }
    throw error;
  }
  batch.forEach((p, i) => {
    const result = results[i] as { rows: unknown[] } | { error: unknown };
    if ('error' in result) p.reject(result.error);
    else p.resolve(result.rows);
  });
}

/** The audit log in the `audit_log` table. */
function sqliteAuditLog(
  query: Query,
  options: { retentionMs: number; maxPerWorkspace: number },
  now: () => number,
): AuditLog {
  let appends = 0;
  return {
    async append(entry: AuditEntry) {
      await query(
        'INSERT INTO audit_log (workspace, at, entry) VALUES (?, ?, ?)',
        entry.workspace,
        entry.at,
        JSON.stringify(entry),
      );
      // Pruning is periodic (the first append, then every 50th in this process); `recent` applies
      // the retention and the cap on read, so nothing older or beyond the cap is ever shown.
      if (appends++ % 50 !== 0) return;
      await query('DELETE FROM audit_log WHERE at < ?', now() - options.retentionMs);
      await query(
        'DELETE FROM audit_log WHERE workspace = ? AND id <= (SELECT id FROM audit_log WHERE workspace = ? ORDER BY id DESC LIMIT 1 OFFSET ?)',
        entry.workspace,
        entry.workspace,
        options.maxPerWorkspace,
      );
    },
    async forget(workspace) {
      await query('DELETE FROM audit_log WHERE workspace = ?', workspace);
    },
    async workspaces() {
      const rows = (await query('SELECT DISTINCT workspace FROM audit_log')) as { workspace: string }[];
      return rows.map((r) => r.workspace);
    },
    async recent(workspace, limit) {
      const rows = (await query(
        'SELECT entry FROM audit_log WHERE workspace = ? AND at >= ? ORDER BY id DESC LIMIT ?',
        workspace,
        now() - options.retentionMs,
        Math.min(limit, options.maxPerWorkspace),
      )) as { entry: string }[];
      return rows.map((r) => JSON.parse(r.entry) as AuditEntry);
    },
  };
}

/** Lapsed claims stay in the table until removed: the retention sweep removes them in batches. */
function claimSweep(
  query: (sql: string, ...params: unknown[]) => Promise<unknown[]>,
  now: () => number,
): Pick<Store, 'pruneClaims' | 'countClaims'> {
  return {
    async pruneClaims(limit) {
      const t = now();
      const rows = await query(
        'DELETE FROM claims WHERE key IN (SELECT key FROM claims WHERE expires_at <= ? LIMIT ?) AND expires_at <= ? RETURNING key',
        t,
        Math.max(0, Math.floor(limit)),
        t,
      );
      return rows.length;
    },
    async countClaims(max) {
      const rows = (await query(
        'SELECT COUNT(*) AS n FROM (SELECT 1 FROM claims LIMIT ?)',
        Math.max(0, Math.floor(max)),
      )) as { n: number }[];
      return Number(rows[0]?.n ?? 0);
    },
  };
}
