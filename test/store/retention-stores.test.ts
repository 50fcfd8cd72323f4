/**
 * The retention sweep on every backend (SQLite, Redis, PostgreSQL): the same year of records
 * (test/helpers/retention-fixture.ts) leaves the same records behind, a thousand finished requests
 * go in batches while the active ones stay, and the counts per kind agree. Leases are judged by each
 * store's clock (real time on Redis and PostgreSQL), so the sweep's clock is real time here, a little
 * ahead. Each store gets a namespace (Redis) or schema (PostgreSQL) of its own, removed at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@keyv/redis';
import pg from 'pg';
import { HOLDS } from '../../src/scheduling/approvals.js';
import { RESERVATIONS } from '../../src/scheduling/daily-limit.js';
import { LOCKS } from '../../src/scheduling/locks.js';
import { createRequestLog, REQUESTS } from '../../src/scheduling/request-log.js';
import { createRetention } from '../../src/scheduling/retention.js';
import { CHECKED, UPCOMING } from '../../src/scheduling/upcoming.js';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import { openRedisStore } from '../../src/store/redis-store.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { allKeys, DAY, request, seedYear, silent, sweepFully, TIMED } from '../helpers/retention-fixture.js';
import { describeWithService, serviceUrl } from '../helpers/services.js';

const RUN = `${process.pid}_${randomBytes(4).toString('hex')}`;
const options = { retentionMs: 90 * DAY, maxPerWorkspace: 1000, onError: () => undefined };

interface Backend {
  /** A fresh, empty store on the backend, with `now` as its caller's clock. */
  open(now: () => number): Promise<Store>;
  cleanup(): Promise<void>;
}

function retentionContract(setup: () => Promise<Backend>): void {
  let backend: Backend;
  let store: Store | undefined;
  let clock = Date.now();
  beforeAll(async () => {
    backend = await setup();
  });
  beforeEach(async () => {
    clock = Date.now();
    store = await backend.open(() => clock);
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  afterAll(async () => {
    await backend?.cleanup();
  });
  const current = () => store as Store;

  test('a year of every kind: the same records stay as on every other backend', async () => {
    const start = Date.now();
    const expected = await seedYear(current(), start);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the dead lock's 1 ms lease lapses
    clock = start + 2 * 60_000;
    const passes = await sweepFully(current(), () => clock);
    for (const collection of [REQUESTS, UPCOMING, CHECKED, RESERVATIONS, LOCKS, HOLDS, ...TIMED]) {
      expect({ collection, keys: await allKeys(current().docs, collection) }).toEqual({
        collection,
        keys: expected[collection],
      });
    }
    expect(passes.at(-1)?.unreadable).toMatchObject({ requests: 2, upcoming: 1 });
    // SQL removed the lapsed claim; Redis let it expire by itself and has no count.
    const claims = await current().countClaims(100);
    if (claims === null) expect(passes.reduce((sum, p) => sum + p.removed.claims, 0)).toBe(0);
    else expect(claims).toBe(1);
  });

  test('1,000 finished requests among active ones go in bounded batches; counts per kind agree', async () => {
    const start = Date.now();
    const requests = createRequestLog(current().docs, () => clock);
    for (let i = 0; i < 1000; i++) {
      await requests.put(
        request(`OLD${String(i).padStart(4, '0')}`, start - 8 * DAY - i, { state: 'failed' }),
      );
    }
    const active = [
      request('PENDING', start - 60 * DAY, { state: 'pending' }),
      request('AWAITING', start - 60 * DAY, {
        state: 'awaiting_approval',
        approval: { expiresAt: start - 59 * DAY },
      }),
      request('APPROVED', start - 60 * DAY, {
        state: 'pending',
        approval: {
          expiresAt: start - 59 * DAY,
          decision: { by: 'U0ADMIN01', at: start - 60 * DAY, approved: true },
        },
      }),
    ];
    for (const r of active) await requests.put(r);
    const retention = createRetention({
      docs: current().docs,
      claims: current(),
      now: () => clock,
      logger: silent,
      settings: { finishedRequestMs: 7 * DAY, intervalMs: 0, batchSize: 100, batchesPerSweep: 4 },
    });
    expect((await retention.counts()).requests).toBe(1003);
    const examined: number[] = [];
    for (let pass = await retention.sweep(); ; pass = await retention.sweep()) {
      examined.push(pass.examined.requests);
      if (pass.complete) break;
    }
    expect(examined).toEqual([400, 400, 203]);
    expect(await allKeys(current().docs, REQUESTS)).toEqual(active.map((r) => r.id).sort());
    expect((await retention.counts()).requests).toBe(3);
  }, 60_000);
}

describe('SQLite store', () => {
  retentionContract(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'katapult-retention-stores-'));
    let n = 0;
    return {
      open: (now) => openSqliteStore(`sqlite://${path.join(dir, `s${++n}.sqlite`)}`, { ...options, now }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  });
});

describeWithService('redis', 'Redis store', () => {
  retentionContract(async () => {
    const url = serviceUrl('redis');
    const client = createClient({ url });
    client.on('error', () => undefined);
    await client.connect();
    let n = 0;
    return {
      open: (now) => openRedisStore(url, { ...options, now, namespace: `katapult-retention-${RUN}-${++n}` }),
      async cleanup() {
        const keys: string[] = [];
        for await (const batch of client.scanIterator({ MATCH: `katapult-retention-${RUN}-*`, COUNT: 500 })) {
          keys.push(...batch);
        }
        if (keys.length > 0) await client.del(keys);
        client.destroy();
      },
    };
  });
});

describeWithService('postgres', 'PostgreSQL store', () => {
  retentionContract(async () => {
    const url = serviceUrl('postgres');
    const schemas: string[] = [];
    return {
      open(now) {
        const schema = `katapult_retention_${RUN}_${schemas.length + 1}`;
        schemas.push(schema);
        return openPostgresStore(url, { ...options, now, schema });
      },
      async cleanup() {
        const pool = new pg.Pool({ connectionString: url, max: 1 });
        for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await pool.end();
      },
    };
  });
});
