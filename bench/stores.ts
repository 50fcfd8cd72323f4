/**
 * The store the bot and the same-work baseline share during one part of a run. SQLite: each
 * process's own file in its fresh DATA_DIR (the bot's default STORE_URL, which the same-work app
 * computes the same way). PostgreSQL: one database for both, emptied first; it is created if
 * missing, and its name must contain "bench" so that a mistyped URL cannot empty a real one.
 */
import pg from 'pg';

import type { StoreKind } from './options.js';

/** The tables the bot (src/store/postgres-store.ts) and the same-work app create in `public`. */
const TABLES = [
  'katapult_kv',
  'katapult_claims',
  'katapult_audit_log',
  'katapult_docs',
  'same_work_claims',
  'same_work_audit',
];

/** The URL without credentials, for the report. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'postgres://…';
  }
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Prepares the store; returns the environment both targets get, and how the report names it. */
export async function prepareStore(
  kind: StoreKind,
  postgresUrl: string,
): Promise<{ env: Record<string, string>; shown: string }> {
  if (kind === 'sqlite')
    return { env: {}, shown: 'sqlite://<DATA_DIR>/katapult-chatops.sqlite (one file per process)' };
  const url = new URL(postgresUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  if (!/bench/i.test(database) || !/^[A-Za-z0-9_]+$/.test(database)) {
    throw new Error(
      `--postgres-url: the database name must contain "bench" (it is emptied), got "${database}"`,
    );
  }
  try {
    const admin = new URL(postgresUrl);
    admin.pathname = '/postgres';
    await withClient(admin.href, async (client) => {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE ${database}`);
    });
    await withClient(postgresUrl, (client) =>
      client.query(`DROP TABLE IF EXISTS ${TABLES.map((t) => `public.${t}`).join(', ')}`),
    );
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).message;
    throw new Error(
      `PostgreSQL at ${shownUrl(postgresUrl)} is not usable (${code}): start it, set BENCH_POSTGRES_URL, or run with --store sqlite`,
    );
  }
  return { env: { STORE_URL: postgresUrl }, shown: shownUrl(postgresUrl) };
}
