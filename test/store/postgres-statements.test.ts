/**
 * The PostgreSQL store's statements, on a real server: Keyv's reads issued in one turn go as one
 * statement, each answered with its own key, and never across a write of the table issued between
 * them; the writes of one round trip commit together, and one the server refuses fails alone.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import type { Store } from '../../src/store/store.js';
import type { Statement } from '../../src/store/turn-batch.js';
import { describeWithService, serviceUrl } from '../helpers/services.js';

const DAY = 86_400_000;
const onError = () => undefined;

describeWithService('postgres', 'PostgreSQL statements', () => {
  const schema = `katapult_stmts_${randomBytes(4).toString('hex')}`;
  let store: Store;
  let admin: pg.Pool;
  const trips: Statement[][] = [];

  beforeAll(async () => {
    const url = serviceUrl('postgres');
    admin = new pg.Pool({ connectionString: url, max: 1 });
    store = await openPostgresStore(url, { retentionMs: DAY, maxPerWorkspace: 100, onError, schema });
    store.onRoundTrip((statements) => trips.push([...statements]));
  });
  beforeEach(() => {
    trips.length = 0;
  });
  afterAll(async () => {
    await store?.close();
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin?.end();
  });

  const kvReads = (trip: Statement[]) =>
    trip.filter((s) => /FROM \S+katapult_kv WHERE key = ANY/.test(s.sql));

  test('reads of one turn are one statement, each answered with its own key', async () => {
    await Promise.all([
      store.kv.set('freeze:T1', { userId: 'U1', at: 1 }),
      store.kv.set('token:T1', 'sealed'),
    ]);
    trips.length = 0;
    const [freeze, token, again, missing] = await Promise.all([
      store.kv.get('freeze:T1'),
      store.kv.get('token:T1'),
      store.kv.get('freeze:T1'),
      store.kv.get('token:T2'),
    ]);
    expect([freeze, token, again, missing]).toEqual([
      { userId: 'U1', at: 1 },
      'sealed',
      { userId: 'U1', at: 1 },
      undefined,
    ]);
    expect(trips).toHaveLength(1);
    expect(trips[0]).toHaveLength(1);
    const [read] = kvReads(trips[0] ?? []);
    // Three keys asked for, each once.
    expect([...((read?.values[0] ?? []) as string[])].sort()).toEqual([
      'katapult-chatops:freeze:T1',
      'katapult-chatops:token:T1',
      'katapult-chatops:token:T2',
    ]);
  });

  test('a read issued after a write of the table in the same turn is a statement after it', async () => {
    // The adapter's reads and the compare-and-set reach the store as they are called (Keyv's own
    // get and set pass through awaits of their own first, so their order within a turn is Keyv's).
    const adapter = store.kv.store as { get(key: string): Promise<string | undefined> };
    await store.kv.set('freeze:T3', 'before');
    const before = await store.kvGetRaw('freeze:T3');
    const after = (await store.kv.serializeData({ value: 'after', expires: undefined })) as string;
    trips.length = 0;
    const key = 'katapult-chatops:freeze:T3';
    const first = adapter.get(key);
    const write = store.kvReplaceIfUnchanged('freeze:T3', before ?? '', after);
    const second = adapter.get(key);
    const other = adapter.get('katapult-chatops:token:T3');
    expect(await Promise.all([first, write, second, other])).toEqual([before, true, after, undefined]);
    expect(trips).toHaveLength(1);
    // The write closed the first read's statement: the second and third share the next.
    expect(kvReads(trips[0] ?? []).map((s) => s.values[0])).toEqual([
      [key],
      [key, 'katapult-chatops:token:T3'],
    ]);
  });

  test('a read after the round trip was sent goes in the next one', async () => {
    await store.kv.set('token:T4', 'four');
    trips.length = 0;
    const first = store.kv.get('token:T4');
    await new Promise((resolve) => setImmediate(resolve));
    expect(trips).toHaveLength(1);
    const second = store.kv.get('token:T4');
    expect(await Promise.all([first, second])).toEqual(['four', 'four']);
    expect(trips).toHaveLength(2);
    expect(kvReads(trips[1] ?? [])[0]?.values[0]).toEqual(['katapult-chatops:token:T4']);
  });

  const docsTable = () => `${schema}.katapult_docs`;
  const doc = (key: string, body = '{}') => ({ key, partition: 'P', sort: 1, active: true, body });

  test('the writes of one round trip are one transaction', async () => {
    const keys = ['tx-a', 'tx-b', 'tx-c'];
    expect(await Promise.all(keys.map((k) => store.docs.insert('stmts', doc(k))))).toEqual([
      true,
      true,
      true,
    ]);
    expect(trips).toHaveLength(1);
    const { rows } = await admin.query(
      `SELECT key, xmin::text AS tx FROM ${docsTable()} WHERE coll = 'stmts' AND key = ANY($1)`,
      [keys],
    );
    expect(rows).toHaveLength(3);
    // One transaction ID for the three rows: one commit (each statement alone had one each).
    expect(new Set(rows.map((r: { tx: string }) => r.tx)).size).toBe(1);
  });

  test('a statement the server refuses fails alone: the others of its round trip run again by themselves', async () => {
    const results = await Promise.allSettled([
      store.docs.insert('stmts', doc('refused-before')),
      // PostgreSQL's text cannot hold a NUL: the server refuses this insert, and the transaction.
      store.docs.insert('stmts', doc('refused', 'a\u0000b')),
      store.docs.insert('stmts', doc('refused-after')),
    ]);
    expect(trips).toHaveLength(1);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : null))).toEqual([true, null, true]);
    const { rows } = await admin.query(
      `SELECT key, xmin::text AS tx FROM ${docsTable()} WHERE coll = 'stmts' AND key LIKE 'refused%' ORDER BY key`,
    );
    expect(rows.map((r: { key: string }) => r.key)).toEqual(['refused-after', 'refused-before']);
    // Each committed by itself, after the round trip's transaction was rolled back.
    expect(new Set(rows.map((r: { tx: string }) => r.tx)).size).toBe(2);
  });

  /** Resolves with `promise`'s value, or 'late' after `ms`. */
  const within = <T>(promise: Promise<T>, ms: number) =>
    Promise.race([promise, new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), ms).unref())]);

  /** A connection of its own that holds a row lock on document `key` until `end`. */
  async function holdRow(key: string) {
    const holder = new pg.Client({ connectionString: serviceUrl('postgres') });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM ${docsTable()} WHERE coll = 'stmts' AND key = $1 FOR UPDATE`, [key]);
    return {
      end: async () => {
        await holder.query('COMMIT').catch(() => undefined);
        await holder.end();
      },
    };
  }

  test('a transaction waits at most a second for a row another holds, then each statement runs by itself', async () => {
    await store.docs.insert('stmts', doc('held'));
    const held = await holdRow('held');
    try {
      const insert = store.docs.insert('stmts', doc('waits-before'));
      const upsert = store.docs.upsert('stmts', doc('held', '{"v":2}'));
      // The insert commits while the row is still held: the transaction gave up after 1 s, and the
      // insert ran by itself (without the limit it would wait for the holder).
      expect(await within(insert, 6_000)).toBe(true);
      const { rows } = await admin.query(`SELECT key FROM ${docsTable()} WHERE key = 'waits-before'`);
      expect(rows).toHaveLength(1);
      await held.end();
      // The upsert waited for the row, as it would have alone, and then wrote it.
      await upsert;
      expect((await store.docs.get('stmts', 'held'))?.body).toBe('{"v":2}');
    } finally {
      await held.end().catch(() => undefined);
    }
  });

  test('a connection that drops under a round trip fails its statements, and the store goes on', async () => {
    await store.docs.insert('stmts', doc('dropped'));
    const held = await holdRow('dropped');
    try {
      const writes = Promise.allSettled([
        store.docs.insert('stmts', doc('dropped-before')),
        store.docs.upsert('stmts', doc('dropped', '{"v":2}')),
      ]);
      // After the transaction's 1 s the upsert waits alone for the row: end its connection there.
      let pid: number | undefined;
      for (let i = 0; i < 200 && pid === undefined; i++) {
        const { rows } = await admin.query(
          `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO ${schema}.katapult_docs%'`,
        );
        pid = rows[0]?.pid;
        if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(pid).toBeDefined();
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      const [, upsert] = await writes;
      expect(upsert.status).toBe('rejected');
      // The store answers on a new connection.
      expect(await store.docs.insert('stmts', doc('dropped-after'))).toBe(true);
    } finally {
      await held.end();
    }
  });
});
