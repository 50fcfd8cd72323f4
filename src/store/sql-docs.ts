/**
 * The lease documents (docs.ts) on SQL: one table, one statement per operation. SQLite and
 * PostgreSQL differ only in placeholders and the clock: PostgreSQL judges leases by its own clock,
 * SQLite (in this process) by the caller's.
 */
import { aroundCount, type DocRow, type Docs } from './docs.js';

export type SqlQuery = (sql: string, values: unknown[]) => Promise<unknown[]>;

export interface SqlDialect {
  table: string;
  /** Placeholder for the n-th (1-based) value. */
  placeholder(n: number): string;
  /** The store's clock in unix ms: an SQL expression, or null to pass the caller's `now()` as a value. */
  clockSql: string | null;
  /**
   * SQL that reads a TEXT column as JSON for `->>` (used by `increment`). Default: the column as it
   * is, which SQLite reads as JSON; PostgreSQL needs a cast to jsonb.
   */
  json?: (column: string) => string;
}

export const DOCS_COLUMNS =
  '(coll TEXT NOT NULL, key TEXT NOT NULL, part TEXT NOT NULL, sort BIGINT NOT NULL, active INTEGER NOT NULL, lease_owner TEXT, lease_expires BIGINT, body TEXT NOT NULL, PRIMARY KEY (coll, key))';

/** Statements that create the table and its indexes (idempotent). */
export function docsSchema(table: string, indexPrefix: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${table} ${DOCS_COLUMNS}`,
    `CREATE INDEX IF NOT EXISTS ${indexPrefix}_part ON ${table} (coll, part, sort)`,
    `CREATE INDEX IF NOT EXISTS ${indexPrefix}_active ON ${table} (coll, active, sort)`,
  ];
}

interface Row {
  key: string;
  part: string;
  sort: number | string;
  active: number | string;
  lease_owner: string | null;
  lease_expires: number | string | null;
  body: string;
}

/** The columns of `Row`, named (not `*`): a prepared statement's result keeps its shape if a column is added. */
const ROW = 'key, part, sort, active, lease_owner, lease_expires, body';

const toDoc = (r: Row): DocRow => ({
  key: r.key,
  partition: r.part,
  sort: Number(r.sort),
  active: Number(r.active) === 1,
  leaseOwner: r.lease_owner,
  leaseExpiresAt: r.lease_expires === null ? null : Number(r.lease_expires),
  body: r.body,
});

export function createSqlDocs(query: SqlQuery, dialect: SqlDialect, now: () => number): Docs {
  const run = statementRunner(query, dialect, now);
  return {
    ...leaseStatements(dialect, run),
    ...documentStatements(dialect, run),
    ...sweepStatements(dialect.table, run),
    ...orderStatements(dialect.table, run),
  };
}

/**
 * Runs a statement: `$` marks a value, `@now` the store's clock, `@stamp` the same clock for an
 * intake's stamp (insertStamped), which orders requests.
 */
type Run = (text: string, ...values: unknown[]) => Promise<unknown[]>;

/**
 * The caller's clock for stamps: never the same millisecond twice in this process, so that two
 * intakes here are always ordered, the later one newer (run-request's `newerThan`), however fast the
 * store answers. (A store with a clock of its own stamps with it.)
 */
function strictlyIncreasing(now: () => number): () => number {
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    const t = now();
    last = t > last ? t : last + 1;
    return last;
  };
}

function statementRunner(query: SqlQuery, dialect: SqlDialect, now: () => number): Run {
  const stamp = strictlyIncreasing(now);
  /**
   * A statement's SQL and, per placeholder, which value goes there (an index into the values, or
   * -1 for the caller's clock), compiled once per statement text, not per call.
   */
  const compiled = new Map<string, { sql: string; slots: number[] }>();
  const compile = (text: string) => {
    const slots: number[] = [];
    let i = 0;
    const sql = text.replace(/\$|@now|@stamp/g, (m) => {
      if (m !== '$' && dialect.clockSql) return dialect.clockSql;
      slots.push(m === '@now' ? -1 : m === '@stamp' ? -2 : i++);
      return dialect.placeholder(slots.length);
    });
    const statement = { sql, slots };
    compiled.set(text, statement);
    return statement;
  };
  return (text, ...values) => {
    const { sql, slots } = compiled.get(text) ?? compile(text);
    return query(
      sql,
      slots.map((slot) => (slot === -1 ? now() : slot === -2 ? stamp() : values[slot])),
    );
  };
}

/** A statement's rows as documents. */
const docRows = async (run: Run, text: string, ...values: unknown[]): Promise<DocRow[]> =>
  ((await run(text, ...values)) as Row[]).map(toDoc);

/**
 * Documents under a lease: creating one with its lease, writing it while the lease holds, taking,
 * renewing and giving back the lease, finding the expired ones.
 */
function leaseStatements(
  dialect: SqlDialect,
  run: Run,
): Pick<Docs, 'insert' | 'update' | 'lease' | 'release' | 'expired'> {
  const t = dialect.table;
  return {
    async insert(coll, doc) {
      const owner = doc.lease?.owner ?? null;
      const ttl = doc.lease?.ttlMs ?? 0;
      const r = await run(
        `INSERT INTO ${t} (coll, key, part, sort, active, lease_owner, lease_expires, body)
         VALUES ($, $, $, $, $, $, CASE WHEN $ > 0 THEN @now + $ ELSE NULL END, $)
         ON CONFLICT (coll, key) DO NOTHING RETURNING key`,
        coll,
        doc.key,
        doc.partition,
        doc.sort,
        doc.active ? 1 : 0,
        owner,
        ttl,
        ttl,
        doc.body,
      );
      return r.length === 1;
    },
    async update(coll, key, owner, changes) {
      const r = await run(
        `UPDATE ${t} SET body = $, sort = COALESCE($, sort), active = COALESCE($, active)
         WHERE coll = $ AND key = $ AND lease_owner = $ RETURNING key`,
        changes.body,
        changes.sort ?? null,
        changes.active === undefined ? null : changes.active ? 1 : 0,
        coll,
        key,
        owner,
      );
      return r.length === 1;
    },
    async lease(coll, key, owner, ttlMs) {
      const r = await docRows(
        run,
        `UPDATE ${t} SET lease_owner = $, lease_expires = @now + $
         WHERE coll = $ AND key = $ AND active = 1
           AND (lease_owner IS NULL OR lease_expires IS NULL OR lease_expires <= @now OR lease_owner = $)
         RETURNING ${ROW}`,
        owner,
        ttlMs,
        coll,
        key,
        owner,
      );
      return r[0] ?? null;
    },
    async release(coll, key, owner, options) {
      await run(
        options?.remove
          ? `DELETE FROM ${t} WHERE coll = $ AND key = $ AND lease_owner = $`
          : `UPDATE ${t} SET lease_owner = NULL, lease_expires = NULL WHERE coll = $ AND key = $ AND lease_owner = $`,
        coll,
        key,
        owner,
      );
    },
    async expired(coll, limit) {
      const r = (await run(
        `SELECT key FROM ${t} WHERE coll = $ AND active = 1 AND (lease_expires IS NULL OR lease_expires <= @now)
         ORDER BY sort LIMIT $`,
        coll,
        limit,
      )) as { key: string }[];
      return r.map((x) => x.key);
    },
  };
}

/** Reading, writing without a lease, listing and removing documents. */
function documentStatements(
  dialect: SqlDialect,
  run: Run,
): Pick<
  Docs,
  'get' | 'upsert' | 'increment' | 'list' | 'keys' | 'remove' | 'removePartition' | 'trim' | 'activeStats'
> {
  const t = dialect.table;
  return {
    async get(coll, key) {
      return (await docRows(run, `SELECT ${ROW} FROM ${t} WHERE coll = $ AND key = $`, coll, key))[0] ?? null;
    },
    async upsert(coll, doc) {
      await run(
        `INSERT INTO ${t} (coll, key, part, sort, active, body) VALUES ($, $, $, $, $, $)
         ON CONFLICT (coll, key) DO UPDATE SET part = excluded.part, sort = excluded.sort,
           active = excluded.active, body = excluded.body`,
        coll,
        doc.key,
        doc.partition,
        doc.sort,
        doc.active ? 1 : 0,
        doc.body,
      );
    },
    async increment(coll, doc, field) {
      const { head, tail } = aroundCount(doc.body, field);
      const old = `CAST(${dialect.json?.('d.body') ?? 'd.body'} ->> $ AS BIGINT)`;
      const r = (await run(
        `INSERT INTO ${t} AS d (coll, key, part, sort, active, body)
         VALUES ($, $, $, $, $, CAST($ AS TEXT) || '1' || CAST($ AS TEXT))
         ON CONFLICT (coll, key) DO UPDATE SET part = excluded.part, sort = excluded.sort,
           active = excluded.active,
           body = CAST($ AS TEXT) || CAST(COALESCE(${old}, 0) + 1 AS TEXT) || CAST($ AS TEXT)
         RETURNING body`,
        coll,
        doc.key,
        doc.partition,
        doc.sort,
        doc.active ? 1 : 0,
        head,
        tail,
        head,
        field,
        tail,
      )) as { body: string }[];
      return Number((JSON.parse(r[0]?.body ?? '{}') as Record<string, unknown>)[field]);
    },
    async list(coll, partition, options) {
      return docRows(
        run,
        options.newestFirst
          ? `SELECT ${ROW} FROM ${t} WHERE coll = $ AND part = $ AND sort >= $ ORDER BY sort DESC, key DESC LIMIT $ OFFSET $`
          : `SELECT ${ROW} FROM ${t} WHERE coll = $ AND part = $ AND sort >= $ ORDER BY sort, key LIMIT $ OFFSET $`,
        coll,
        partition,
        options.minSort ?? Number.MIN_SAFE_INTEGER,
        options.limit,
        options.offset ?? 0,
      );
    },
    async keys(coll, options) {
      const r = (await run(
        `SELECT key FROM ${t} WHERE coll = $ AND key > $ ORDER BY key LIMIT $`,
        coll,
        options.afterKey ?? '',
        options.limit,
      )) as { key: string }[];
      return r.map((x) => x.key);
    },
    async remove(coll, key) {
      await run(`DELETE FROM ${t} WHERE coll = $ AND key = $`, coll, key);
    },
    async removePartition(coll, partition) {
      await run(`DELETE FROM ${t} WHERE coll = $ AND part = $`, coll, partition);
    },
    async trim(coll, partition, options) {
      await run(
        `DELETE FROM ${t} WHERE coll = $ AND part = $ AND sort < $`,
        coll,
        partition,
        options.beforeSort,
      );
      await run(
        `DELETE FROM ${t} WHERE coll = $ AND part = $ AND sort < (
           SELECT sort FROM ${t} WHERE coll = $ AND part = $ ORDER BY sort DESC LIMIT 1 OFFSET $)`,
        coll,
        partition,
        coll,
        partition,
        Math.max(0, options.keep - 1),
      );
    },
    async activeStats(coll) {
      const r = (await run(
        `SELECT COUNT(*) AS n, MIN(sort) AS oldest FROM ${t} WHERE coll = $ AND active = 1`,
        coll,
      )) as { n: number | string; oldest: number | string | null }[];
      const row = r[0];
      return { count: Number(row?.n ?? 0), oldestSort: row?.oldest == null ? null : Number(row.oldest) };
    },
  };
}

/** What a retention sweep needs: a bounded count, and a removal fenced on what was read. */
function sweepStatements(
  t: string,
  run: (text: string, ...values: unknown[]) => Promise<unknown[]>,
): Pick<Docs, 'count' | 'removeIfUnchanged'> {
  return {
    async count(coll, options) {
      const r = (await run(
        `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${t} WHERE coll = $ LIMIT $) AS counted`,
        coll,
        Math.max(0, Math.floor(options?.max ?? Number.MAX_SAFE_INTEGER)),
      )) as { n: number | string }[];
      return Number(r[0]?.n ?? 0);
    },
    async removeIfUnchanged(coll, key, seen) {
      const r = await run(
        `DELETE FROM ${t} WHERE coll = $ AND key = $ AND sort = $ AND body = $ RETURNING key`,
        coll,
        key,
        seen.sort,
        seen.body,
      );
      return r.length === 1;
    },
  };
}

/** Writes ordered by the store: an insert stamped with its clock, a replacement fenced on what was read. */
function orderStatements(t: string, run: Run): Pick<Docs, 'insertStamped' | 'replaceIfUnchanged'> {
  return {
    async insertStamped(coll, doc) {
      const ttl = doc.lease?.ttlMs ?? 0;
      const r = (await run(
        `INSERT INTO ${t} (coll, key, part, sort, active, lease_owner, lease_expires, body)
         VALUES ($, $, $, @stamp, $, $, CASE WHEN $ > 0 THEN @now + $ ELSE NULL END, $)
         ON CONFLICT (coll, key) DO NOTHING RETURNING sort`,
        coll,
        doc.key,
        doc.partition,
        doc.active ? 1 : 0,
        doc.lease?.owner ?? null,
        ttl,
        ttl,
        doc.body,
      )) as { sort: number | string }[];
      return r[0] ? Number(r[0].sort) : null;
    },
    async replaceIfUnchanged(coll, doc, seen) {
      const r = seen
        ? await run(
            `UPDATE ${t} SET part = $, sort = $, active = $, body = $
             WHERE coll = $ AND key = $ AND body = $ RETURNING key`,
            doc.partition,
            doc.sort,
            doc.active ? 1 : 0,
            doc.body,
            coll,
            doc.key,
            seen.body,
          )
        : await run(
            `INSERT INTO ${t} (coll, key, part, sort, active, body) VALUES ($, $, $, $, $, $)
             ON CONFLICT (coll, key) DO NOTHING RETURNING key`,
            coll,
            doc.key,
            doc.partition,
            doc.sort,
            doc.active ? 1 : 0,
            doc.body,
          );
      return r.length === 1;
    },
  };
}
