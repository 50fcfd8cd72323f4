/**
 * The SQLite backend: Keyv's table for records, plus tables of our own in the same file (claims,
 * the audit log, the lease documents). Claims use one `INSERT … ON CONFLICT DO UPDATE … WHERE
 * expired … RETURNING`, which SQLite runs atomically, so two processes on the same file cannot both
 * win.
 *
 * Every query, Keyv's included, goes through a connection of our own whose statements are prepared
 * once and reused: Keyv's adapter prepares and finalises a statement for every query, which costs
 * about 40 % more CPU per statement, and a submission runs about a dozen. (Keyv's adapter still opens
 * its own connection, to create its table.) WAL: readers never block the writer; a busy writer is
 * waited for up to 5 s.
 *
 * The statements issued in one turn of the event loop run as one transaction (turn-batch.ts): a
 * request's stage (its reads before the Katapult call, its writes after) is one round trip, and
 * under load other requests' statements share it (one commit for many).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import sqlite3 from 'sqlite3';
import { createSqlDocs, docsSchema } from './sql-docs.js';
import { sqlKvCompareAndSet } from './sql-kv.js';
import type { AuditEntry, AuditLog, Store } from './store.js';
import { type Pending, turnBatcher } from './turn-batch.js';

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
  const db = await openDatabase(file);
  const exec = (sql: string) =>
    new Promise<void>((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));
  const { query: runStatement, finalizeAll } = preparedStatements(db);
  const batcher = turnBatcher((batch) => inOneTransaction(runStatement, batch), { serial: true });
  const query: Query = (sql, ...params) => batcher.query(sql, params);

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
  // Keyv's table, as its adapter defines it (its own attempt, on its own connection, is then a no-op).
  await exec('CREATE TABLE IF NOT EXISTS keyv(key VARCHAR(255) PRIMARY KEY, value TEXT )');
  // Opened once the file is in WAL mode: switching the mode needs the only connection.
  const adapter = new KeyvSqlite({ uri: `sqlite://${file}`, busyTimeout: 5000 });
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
      await finalizeAll();
      await new Promise<void>((resolve, reject) => db.close((error) => (error ? reject(error) : resolve())));
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

/** Runs statements on `db`, each prepared once; `finalizeAll` lets them all go (at close). */
function preparedStatements(db: sqlite3.Database): { query: Query; finalizeAll(): Promise<void> } {
  /**
   * Each statement text is prepared once (sqlite3 runs the calls on one statement in turn). One that
   * failed to prepare or to run is dropped from the cache, so the next call prepares it again; calls
   * already queued on it still run, and it is finalised when the last of them lets it go.
   */
  const statements = new Map<string, Promise<sqlite3.Statement>>();
  const query = async (sql: string, ...params: unknown[]): Promise<unknown[]> => {
    let prepared = statements.get(sql);
    if (!prepared) {
      prepared = new Promise((resolve, reject) => {
        const statement = db.prepare(sql, (error) => (error ? reject(error) : resolve(statement)));
      });
      statements.set(sql, prepared);
    }
    const forget = () => {
      if (statements.get(sql) === prepared) statements.delete(sql);
    };
    let statement: sqlite3.Statement;
    try {
      statement = await prepared;
    } catch (error) {
      forget();
      throw error;
    }
    return new Promise((resolve, reject) => {
      statement.all(params, (error: Error | null, rows: unknown[]) => {
        if (!error) return resolve(rows);
        forget();
        reject(error);
      });
    });
  };
  return {
    query,
    async finalizeAll() {
      for (const prepared of statements.values()) (await prepared.catch(() => null))?.finalize();
      statements.clear();
    },
  };
}

/**
 * One round trip on SQLite: statements with at most one write among them one after another, each
 * atomic by itself (a transaction would add two statements and change nothing); more writes in one
 * `BEGIN IMMEDIATE` transaction (the write lock waited for at the start, not half-way; one commit).
 * A statement that fails rejects only its caller; a transaction that cannot begin or commit fails
 * every statement.
 */
async function inOneTransaction(run: Query, batch: Pending[]): Promise<void> {
  if (batch.filter((p) => !/^\s*SELECT\b/i.test(p.sql)).length <= 1) {
    for (const p of batch) await run(p.sql, ...p.values).then(p.resolve, p.reject);
    return;
  }
  await run('BEGIN IMMEDIATE');
  const results: ({ rows: unknown[] } | { error: unknown })[] = [];
  for (const p of batch)
    results.push(
      await run(p.sql, ...p.values).then(
        (rows) => ({ rows }),
        (error: unknown) => ({ error }),
      ),
    );
  try {
    await run('COMMIT');
  } catch (error) {
    await run('ROLLBACK').catch(() => undefined);
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

function openDatabase(file: string): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, (error) => {
      if (error) return reject(error);
      db.configure('busyTimeout', 5000);
      resolve(db);
    });
  });
}
