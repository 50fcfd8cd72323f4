/**
 * Counts what a store holds, read straight from the backend (not through the bot's modules), per
 * kind: documents per collection (`docs:<collection>`), audit log entries (`audit_log`), claims,
 * Keyv records by their key's first segment (`kv:<segment>`), and on Redis the index keys and the
 * total number of keys. Redis claims expire by Redis's own clock: they are counted as
 * `redis:claims_expiring`, and any without a TTL as `claims_without_ttl`. For the simulated year (support/year-sim.ts): a kind nothing removes shows
 * up here even if the bot's own gauge does not know it.
 */
import { DatabaseSync } from 'node:sqlite';
import { createClient } from '@keyv/redis';
import pg from 'pg';

export type Census = Record<string, number>;

export interface StoreCensus {
  counts(): Promise<Census>;
  close(): Promise<void>;
}

const NAMESPACE = 'katapult-chatops';

/** `kv:<first segment of the key>` for a Keyv key, its namespace taken off. */
function kvKind(key: string): string {
  const bare = key.replace(/^(katapult-chatops)?:+/, '');
  return `kv:${bare.split(':')[0] || bare}`;
}

function add(census: Census, kind: string, n: number): void {
  census[kind] = (census[kind] ?? 0) + n;
}

/** The census of the store at `url` (the bot's STORE_URL). */
export async function openCensus(url: string): Promise<StoreCensus> {
  if (url.startsWith('sqlite://')) return sqliteCensus(url.slice('sqlite://'.length));
  if (/^rediss?:\/\//.test(url)) return redisCensus(url);
  if (/^postgres(ql)?:\/\//.test(url)) return postgresCensus(url);
  throw new Error(`no census for ${url.split(':')[0]}`);
}

/** node:sqlite, as the bot's store: no second copy of SQLite on the file (src/store/sqlite-store.ts). */
function sqliteCensus(file: string): StoreCensus {
  const db = new DatabaseSync(file, { readOnly: true });
  const all = async (sql: string) => db.prepare(sql).all() as Record<string, unknown>[];
  return {
    async counts() {
      const census: Census = {};
      for (const row of await all('SELECT coll, count(*) AS n FROM docs GROUP BY coll'))
        add(census, `docs:${String(row.coll)}`, Number(row.n));
      add(census, 'audit_log', Number((await all('SELECT count(*) AS n FROM audit_log'))[0]?.n));
      add(census, 'claims', Number((await all('SELECT count(*) AS n FROM claims'))[0]?.n));
      for (const row of await all('SELECT key FROM keyv')) add(census, kvKind(String(row.key)), 1);
      return census;
    },
    async close() {
      db.close();
    },
  };
}

function postgresCensus(url: string): StoreCensus {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined);
  const rows = async (sql: string) => (await pool.query(sql)).rows as Record<string, unknown>[];
  return {
    async counts() {
      const census: Census = {};
      for (const row of await rows('SELECT coll, count(*) AS n FROM katapult_docs GROUP BY coll'))
        add(census, `docs:${String(row.coll)}`, Number(row.n));
      add(census, 'audit_log', Number((await rows('SELECT count(*) AS n FROM katapult_audit_log'))[0]?.n));
      add(census, 'claims', Number((await rows('SELECT count(*) AS n FROM katapult_claims'))[0]?.n));
      for (const row of await rows('SELECT key FROM katapult_kv')) add(census, kvKind(String(row.key)), 1);
      return census;
    },
    close: () => pool.end(),
  };
}

async function redisCensus(url: string): Promise<StoreCensus> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  const prefix = `${NAMESPACE}:`;
  return {
    async counts() {
      const census: Census = {};
      let total = 0;
      for await (const batch of client.scanIterator({ MATCH: '*', COUNT: 1000 })) {
        for (const key of batch as string[]) {
          total++;
          if (!key.startsWith(prefix)) {
            add(census, 'redis:foreign_keys', 1);
            continue;
          }
          const rest = key.slice(prefix.length);
          if (rest.startsWith(':')) add(census, kvKind(rest), 1);
          else if (rest.startsWith('docs:doc:')) add(census, `docs:${rest.split(':')[2]}`, 1);
          // Redis drops a claim at its TTL, on its own (real) clock: each must have one.
          else if (rest.startsWith('claim:')) {
            // -1: no TTL; -2: released (gone) since the scan listed it, so not counted.
            const ttl = await client.pTTL(key);
            if (ttl !== -2) add(census, ttl >= 0 ? 'redis:claims_expiring' : 'claims_without_ttl', 1);
          } else if (rest.startsWith('audit:')) {
            const type = await client.type(key);
            const n =
              type === 'list' ? await client.lLen(key) : type === 'zset' ? await client.zCard(key) : 1;
            add(census, 'audit_log', Number(n));
          } else add(census, 'redis:index_keys', 1);
        }
      }
      add(census, 'redis:keys', total);
      return census;
    },
    async close() {
      client.destroy();
    },
  };
}
