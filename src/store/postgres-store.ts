/**
 * The PostgreSQL backend: Keyv records in `katapult_kv` (through @keyv/postgres), plus two tables of
 * our own. Claims are one `INSERT … ON CONFLICT DO UPDATE … WHERE expired … RETURNING`, which
 * PostgreSQL runs atomically (the conflicting row is locked), so two replicas cannot both win.
 * All queries, Keyv's included, go through one pool owned by this store.
 */
import KeyvPostgres, { type KeyvPostgresOptions } from '@keyv/postgres';
import Keyv from 'keyv';
import pg from 'pg';
import { errorText } from '../log.js';
import { inOnePipeline, statementNames } from './postgres-pipeline.js';
import { createSqlDocs, docsSchema } from './sql-docs.js';
import { sqlKvCompareAndSet } from './sql-kv.js';
import type { AuditEntry, AuditLog, Store } from './store.js';
import { turnBatcher } from './turn-batch.js';

export interface PostgresStoreOptions {
  retentionMs: number;
  maxPerWorkspace: number;
  onError: (error: unknown) => void;
  now?: () => number;
  /** Schema of the tables (default `public`); tests use their own to stay apart. */
  schema?: string;
  /** Connection timeout, ms (default 5000). */
  connectTimeoutMs?: number;
}

const KV_TABLE = 'katapult_kv';
/** Key of the transaction-level advisory lock held while creating tables ("katapult" in ASCII, truncated). */
const SETUP_LOCK = 0x6b617461_70756c74n;

type Query = (sql: string, values?: unknown[], onSend?: () => void) => Promise<unknown[]>;

/**
 * @keyv/postgres keeps one module-wide pool per URI and ends it on any instance's disconnect, which
 * would break a second store in the same process (and tests). This adapter runs on our pool instead.
 */
function keyvAdapter(
  query: Query,
  read: (key: string) => Promise<string | undefined>,
  options: KeyvPostgresOptions,
): KeyvPostgres {
  return new (class extends KeyvPostgres {
    override async connect() {
      return query;
    }

    override get(key: string) {
      return read(key) as ReturnType<KeyvPostgres['get']>;
    }

    override async disconnect() {
      // The pool belongs to the store, which ends it.
    }
  })(options);
}

export async function openPostgresStore(url: string, options: PostgresStoreOptions): Promise<Store> {
  const now = options.now ?? Date.now;
  const schema = options.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
  const claims = `${schema}.katapult_claims`;
  const audit = `${schema}.katapult_audit_log`;
  const docsTable = `${schema}.katapult_docs`;

  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    // A stuck query fails instead of holding a Slack request forever.
    statement_timeout: 15_000,
    // The statements of one turn are sent together on one connection (inOnePipeline).
    pipeline: true,
  } as pg.PoolConfig);
  // An idle connection that drops emits here; without a listener it would crash the process.
  pool.on('error', options.onError);

  await createTables(pool, schema, { claims, audit, docs: docsTable });

  let closed = false;
  // pg's Pool never settles a query still waiting for a connection when it is ended, so close()
  // lets the queries under way finish first, and refuses new ones.
  const inflight = new Set<Promise<unknown>>();
  const names = statementNames();
  const batcher = turnBatcher((batch) => inOnePipeline(pool, batch, names), { serial: false });
  const kvTable = `${schema}.${KV_TABLE}`;
  const kvReading = kvReads(kvTable);
  const query: Query = (sql, values, onSend) => {
    if (closed) return Promise.reject(new Error('the store is closed'));
    kvReading.issuing(sql);
    const running = batcher.query(sql, values ?? [], onSend);
    inflight.add(running);
    const forget = () => inflight.delete(running);
    running.then(forget, forget);
    return running;
  };

  // No `uri`: the adapter never connects by itself, and so never holds the password.
  const adapter = keyvAdapter(query, (key) => kvReading.read(query, key), {
    schema,
    table: KV_TABLE,
  });
  // A failed write must reach the person who asked for it, not only an 'error' event.
  const kv = new Keyv({ store: adapter, namespace: 'katapult-chatops', throwOnErrors: true });
  kv.on('error', options.onError);

  const docs = createSqlDocs(
    query,
    {
      table: docsTable,
      placeholder: (n) => `$${n}`,
      // Leases are judged by the database's clock, the same for every replica.
      clockSql: '(floor(extract(epoch from clock_timestamp()) * 1000))::bigint',
      json: (column) => `(${column})::jsonb`,
    },
    now,
  );

  return {
    kv,
    docs,
    async claim(key, ttlMs) {
      const t = now();
      const rows = await query(
        `INSERT INTO ${claims} AS c (key, expires_at) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE c.expires_at <= $3
         RETURNING key`,
        [key, t + ttlMs, t],
      );
      if (Math.random() < 0.01) await query(`DELETE FROM ${claims} WHERE expires_at <= $1`, [t]);
      return rows.length === 1;
    },
    async release(key) {
      await query(`DELETE FROM ${claims} WHERE key = $1`, [key]);
    },
    audit: postgresAuditLog(query, audit, options, now),
    onRoundTrip: batcher.onRoundTrip,
    async close() {
      if (closed) return;
      closed = true;
      await kv.disconnect().catch(() => undefined);
      await Promise.allSettled([...inflight]);
      await pool.end();
    },
    ...claimSweep(query, claims, now),
    ...sqlKvCompareAndSet(query, {
      table: kvTable,
      placeholder: (n) => `$${n}`,
      stored: (key) => `katapult-chatops:${key}`,
    }),
  };
}

/**
 * Keyv's reads of one turn (the emergency stop and the Katapult token before a call; the reads of a
 * burst's requests alike) as one statement, `key = ANY(…)`, over every key asked for until its round
 * trip is sent (the batcher's `onSend`), each read answered with its own row. The statement stands
 * where the first read was issued, so a statement that may write the table (any other that names it)
 * closes the group: a read issued after a write is in a later statement, as it would be alone.
 */
function kvReads(table: string) {
  const sql = `SELECT key, value FROM ${table} WHERE key = ANY($1)`;
  let open: { keys: string[]; rows: Promise<Map<string, string>> } | null = null;
  return {
    /** Called with every statement before it is issued. */
    issuing(other: string) {
      if (other !== sql && other.includes(table)) open = null;
    },
    read(query: Query, key: string): Promise<string | undefined> {
      if (!open) {
        const keys: string[] = [];
        const group = {
          keys,
          rows: query(sql, [keys], () => {
            if (open === group) open = null;
          }).then((rows) => new Map((rows as { key: string; value: string }[]).map((r) => [r.key, r.value]))),
        };
        open = group;
      }
      const group = open;
      if (!group.keys.includes(key)) group.keys.push(key);
      return group.rows.then((rows) => rows.get(key));
    },
  };
}

/** Lapsed claims stay in the table until removed: the retention sweep removes them in batches. */
function claimSweep(
  query: Query,
  claims: string,
  now: () => number,
): Pick<Store, 'pruneClaims' | 'countClaims'> {
  return {
    async pruneClaims(limit) {
      const t = now();
      // The outer condition is judged again on each row as it is deleted: a claim taken anew
      // meanwhile (a later expiry) stays.
      const rows = await query(
        `DELETE FROM ${claims} WHERE key IN (SELECT key FROM ${claims} WHERE expires_at <= $1 LIMIT $2)
           AND expires_at <= $1 RETURNING key`,
        [t, Math.max(0, Math.floor(limit))],
      );
      return rows.length;
    },
    async countClaims(max) {
      const rows = (await query(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${claims} LIMIT $1) AS counted`, [
        Math.max(0, Math.floor(max)),
      ])) as { n: string | number }[];
      return Number(rows[0]?.n ?? 0);
    },
  };
}

/**
 * Creates the schema and the tables (idempotent), in one transaction on a connection of the pool.
 * Ends the pool when that fails; a failure after connecting is tagged `phase: 'setup'`.
 */
async function createTables(
  pool: pg.Pool,
  schema: string,
  tables: { claims: string; audit: string; docs: string },
): Promise<void> {
  const { claims, audit, docs: docsTable } = tables;
  let setupClient: pg.PoolClient;
  try {
    setupClient = await pool.connect();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  // A connection that drops during setup fails the query under way (said below), not the process.
  const ignore = () => undefined;
  setupClient.on('error', ignore);
  try {
    // Several replicas may start at once: CREATE … IF NOT EXISTS is not safe against itself in
    // PostgreSQL (unique violation on the catalog), so creation is serialized by an advisory lock.
    await setupClient.query('BEGIN');
    await setupClient.query('SELECT pg_advisory_xact_lock($1)', [SETUP_LOCK.toString()]);
    if (schema !== 'public') await setupClient.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    // Same definition as @keyv/postgres uses, created here under the lock so its own attempt is a no-op.
    await setupClient.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.${KV_TABLE} (key VARCHAR(255) PRIMARY KEY, value TEXT)`,
    );
    await setupClient.query(
      `CREATE TABLE IF NOT EXISTS ${claims} (key TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)`,
    );
    await setupClient.query(`CREATE INDEX IF NOT EXISTS katapult_claims_expires ON ${claims} (expires_at)`);
    await setupClient.query(
      `CREATE TABLE IF NOT EXISTS ${audit} (id BIGSERIAL PRIMARY KEY, workspace TEXT NOT NULL, at BIGINT NOT NULL, entry JSONB NOT NULL)`,
    );
    await setupClient.query(
      `CREATE INDEX IF NOT EXISTS katapult_audit_log_workspace ON ${audit} (workspace, id)`,
    );
    await setupClient.query(`CREATE INDEX IF NOT EXISTS katapult_audit_log_at ON ${audit} (at)`);
    for (const sql of docsSchema(docsTable, 'katapult_docs')) await setupClient.query(sql);
    await setupClient.query('COMMIT');
  } catch (error) {
    await setupClient.query('ROLLBACK').catch(() => undefined);
    setupClient.release(true);
    await pool.end().catch(() => undefined);
    // Tagged so openStore says "could not set up" rather than "could not connect".
    throw Object.assign(new Error(errorText(error), { cause: error }), {
      phase: 'setup',
    });
  } finally {
    setupClient.removeListener('error', ignore);
  }
  setupClient.release();
}

/** The audit log in table `audit`: each append prunes by age and by the cap per workspace. */
function postgresAuditLog(
  query: Query,
  audit: string,
  options: Pick<PostgresStoreOptions, 'retentionMs' | 'maxPerWorkspace'>,
  now: () => number,
): AuditLog {
  let appends = 0;
  return {
    async append(entry: AuditEntry) {
      const insert = query(`INSERT INTO ${audit} (workspace, at, entry) VALUES ($1, $2, $3)`, [
        entry.workspace,
        entry.at,
        JSON.stringify(entry),
      ]);
      // Pruning is periodic (the first append, then every 50th in this process), issued with the
      // insert (one round trip); `recent` applies the retention and the cap on read, so nothing
      // older or beyond the cap is ever shown.
      if (appends++ % 50 !== 0) {
        await insert;
        return;
      }
      await Promise.all([
        insert,
        query(`DELETE FROM ${audit} WHERE at < $1`, [now() - options.retentionMs]),
        query(
          `DELETE FROM ${audit} WHERE workspace = $1 AND id <= (SELECT id FROM ${audit} WHERE workspace = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`,
          [entry.workspace, options.maxPerWorkspace],
        ),
      ]);
    },
    async forget(workspace) {
      await query(`DELETE FROM ${audit} WHERE workspace = $1`, [workspace]);
    },
    async workspaces() {
      const rows = (await query(`SELECT DISTINCT workspace FROM ${audit}`)) as { workspace: string }[];
      return rows.map((r) => r.workspace);
    },
    async recent(workspace, limit) {
      const rows = (await query(
        `SELECT entry FROM ${audit} WHERE workspace = $1 AND at >= $2 ORDER BY id DESC LIMIT $3`,
        [workspace, now() - options.retentionMs, Math.max(0, Math.min(limit, options.maxPerWorkspace))],
      )) as { entry: AuditEntry }[];
      return rows.map((r) => r.entry);
    },
  };
}
