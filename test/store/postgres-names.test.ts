/**
 * The PostgreSQL store's named (prepared) statements, on a real server: a statement's text is
 * parsed once per connection, and a server that loses or already holds a name (a pooler that does
 * not keep prepared statements) costs no statement: naming stops and what failed runs unnamed, in
 * an order that keeps a round trip's reads after its write.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  inOnePipeline,
  refused,
  type StatementNames,
  statementNames,
} from '../../src/store/postgres-pipeline.js';
import type { Pending } from '../../src/store/turn-batch.js';
import { describeWithService, serviceUrl } from '../helpers/services.js';

describeWithService('postgres', 'PostgreSQL named statements', () => {
  const table = `katapult_names_${randomBytes(4).toString('hex')}`;
  // One connection: every round trip below runs on it, so what the server holds for it is known.
  let pool: pg.Pool;
  let names: StatementNames;

  const INSERT = `INSERT INTO ${table} (k, v) VALUES ($1, $2) RETURNING k`;
  const SELECT = `SELECT k, v FROM ${table} WHERE k = $1`;

  /** Runs `statements` as one round trip; each settles on its own. */
  const trip = async (...statements: [string, unknown[]][]) => {
    const settled: Promise<unknown[]>[] = [];
    const batch = statements.map(([sql, values]) => {
      let p!: Pending;
      settled.push(
        new Promise((resolve, reject) => {
          p = { sql, values, resolve, reject };
        }),
      );
      return p;
    });
    await inOnePipeline(pool, batch, names);
    return Promise.allSettled(settled);
  };
  const held = async () =>
    (
      await pool.query<{ name: string; statement: string }>(
        'SELECT name, statement FROM pg_prepared_statements ORDER BY name',
      )
    ).rows;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: serviceUrl('postgres') });
    await admin.connect();
    await admin.query(`CREATE TABLE ${table} (k TEXT PRIMARY KEY, v TEXT NOT NULL)`);
    await admin.end();
  });
  // Each test on a connection of its own, and names of its own.
  beforeEach(() => {
    pool = new pg.Pool({ connectionString: serviceUrl('postgres'), max: 1 });
    names = statementNames();
  });
  afterEach(async () => {
    await pool.end();
  });
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: serviceUrl('postgres') });
    await admin.connect();
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });

  /** The name `names` gives `sql`. */
  const nameOf = (sql: string) => names.config({ sql, values: [1] }).name as string;

  test('a statement is prepared once on the connection and used again by its name', async () => {
    await trip([INSERT, ['a', '1']]);
    await trip([INSERT, ['b', '2']], [SELECT, ['a']]);
    const [, read] = await trip([INSERT, ['c', '3']], [SELECT, ['b']]);
    expect(read).toEqual({ status: 'fulfilled', value: [{ k: 'b', v: '2' }] });
    expect(await held()).toEqual(
      [
        { name: nameOf(INSERT), statement: INSERT },
        { name: nameOf(SELECT), statement: SELECT },
      ].sort((x, y) => x.name.localeCompare(y.name)),
    );
    // Statements without values are not named.
    expect(names.config({ sql: 'COMMIT', values: [] })).toEqual({ text: 'COMMIT', values: [] });
  });

  test('a name is drawn from the text: the same in every process, another for another text', () => {
    expect(nameOf(INSERT)).toMatch(/^katapult_[0-9a-f]{40}$/);
    // Another process that met its statements in another order.
    const other = statementNames();
    other.config({ sql: SELECT, values: [1] });
    expect(other.config({ sql: INSERT, values: [1] }).name).toBe(nameOf(INSERT));
    expect(nameOf(SELECT)).not.toBe(nameOf(INSERT));
  });

  test('a name the server lost: the statement runs again unnamed', async () => {
    await trip([INSERT, ['d', '1']]);
    // What a pooler in transaction mode does: the next statement reaches a connection without it.
    await pool.query('DEALLOCATE ALL');
    const [insert] = await trip([INSERT, ['e', '1']]);
    expect(insert).toEqual({ status: 'fulfilled', value: [{ k: 'e' }] });
    // Once is not a pooler: naming goes on.
    expect(names.config({ sql: INSERT, values: ['x'] })).toHaveProperty('name', nameOf(INSERT));
  });

  test('names lost again and again: after three, naming stops', async () => {
    for (const k of ['d1', 'd2', 'd3']) {
      await trip([INSERT, [`${k}-before`, '1']]);
      await pool.query('DEALLOCATE ALL');
      const [insert] = await trip([INSERT, [k, '1']]);
      expect(insert).toEqual({ status: 'fulfilled', value: [{ k }] });
    }
    expect(names.config({ sql: INSERT, values: ['x'] })).not.toHaveProperty('name');
    await trip([SELECT, ['d3']]);
    expect(await held()).toEqual([]);
  });

  test('a name the server already holds: the statement runs again unnamed', async () => {
    // The same statement under its name, as another process's on a pooler's shared connection.
    await pool.query(`PREPARE ${nameOf(INSERT)} AS ${INSERT}`);
    const [insert] = await trip([INSERT, ['f', '1']]);
    expect(insert).toEqual({ status: 'fulfilled', value: [{ k: 'f' }] });
  });

  test('a lost name in a round trip with one write: the reads after it run again, and see it', async () => {
    await trip([INSERT, ['g', '1']], [SELECT, ['g']]);
    // The insert's name is gone, the select's is still there: the select succeeds before the insert.
    await pool.query(`DEALLOCATE ${nameOf(INSERT)}`);
    const [insert, read] = await trip([INSERT, ['h', '1']], [SELECT, ['h']]);
    expect(insert).toEqual({ status: 'fulfilled', value: [{ k: 'h' }] });
    expect(read).toEqual({ status: 'fulfilled', value: [{ k: 'h', v: '1' }] });
  });

  test('a lost name in a transaction: it is rolled back, and its statements run again unnamed, in order', async () => {
    const DELETE = `DELETE FROM ${table} WHERE k = $1 RETURNING k`;
    await trip([INSERT, ['i', '1']], [DELETE, ['i']]);
    // The insert's name is gone, the delete's is not: run named again, the delete would succeed
    // first and the insert's re-run would leave the row.
    await pool.query(`DEALLOCATE ${nameOf(INSERT)}`);
    const results = await trip([INSERT, ['j', '1']], [DELETE, ['j']]);
    expect(results).toEqual([
      { status: 'fulfilled', value: [{ k: 'j' }] },
      { status: 'fulfilled', value: [{ k: 'j' }] },
    ]);
    const { rows } = await pool.query(`SELECT k FROM ${table} WHERE k = 'j'`);
    expect(rows).toEqual([]);
  });

  test("a column's type changed under a prepared statement: it runs again unnamed", async () => {
    const other = `${table}_typed`;
    await pool.query(`CREATE TABLE ${other} (k TEXT PRIMARY KEY, n INTEGER NOT NULL)`);
    try {
      const select = `SELECT k, n FROM ${other} WHERE k = $1`;
      await pool.query(`INSERT INTO ${other} VALUES ('m', 1)`);
      await trip([select, ['m']]);
      await pool.query(`ALTER TABLE ${other} ALTER COLUMN n TYPE BIGINT`);
      const [read] = await trip([select, ['m']]);
      expect(read).toEqual({ status: 'fulfilled', value: [{ k: 'm', n: '1' }] });
    } finally {
      await pool.query(`DROP TABLE ${other}`);
    }
  });

  test('another refusal is not taken for a lost name: the statement fails', async () => {
    await trip([INSERT, ['l', '1']]);
    const [duplicate] = await trip([INSERT, ['l', '2']]);
    expect(duplicate).toMatchObject({ status: 'rejected', reason: { code: '23505' } });
    expect(names.lost((duplicate as PromiseRejectedResult).reason)).toBe(false);
  });
});

describe('a refusal, whatever language the server answers in', () => {
  const error = (severity: string, code: string) =>
    Object.assign(new pg.DatabaseError('m', 1, 'error'), { severity, code });

  test('an ERROR is a refusal (the transaction was rolled back, the session goes on)', () => {
    expect(refused(error('ERROR', '22021'))).toBe(true);
    expect(refused(error('FEHLER', '22021'))).toBe(true);
    expect(refused(error('ERREUR', '40P01'))).toBe(true);
  });

  test('a FATAL one is not (it may come after the commit), nor one whose class may be FATAL', () => {
    expect(refused(error('FATAL', '57P01'))).toBe(false);
    expect(refused(error('FATAL', '22021'))).toBe(false);
    expect(refused(error('PANIC', 'XX000'))).toBe(false);
    expect(refused(error('SCHWERWIEGEND', '57P01'))).toBe(false);
    expect(refused(error('SCHWERWIEGEND', '08006'))).toBe(false);
    expect(refused(new Error('Connection terminated unexpectedly'))).toBe(false);
  });
});
