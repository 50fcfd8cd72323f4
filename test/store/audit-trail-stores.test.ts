/**
 * The audit trail on every store (SQLite, Redis, PostgreSQL): a flood of Katapult failures,
 * scaled to a cap of 20 entries, evicts no token, access, freeze or approval entry and merges with
 * a count; admin entries outlive the activity retention; the admin view reads newest first, past
 * 20 actions; forgetting all but the admin trail (and the export still finding that workspace); every
 * kind in the export. Plus the store
 * primitive it reads with: a partition's documents newest first.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@keyv/redis';
import pg from 'pg';
import {
  createAuditTrail,
  REFUSAL_WINDOW_MS,
  readWholeTrail,
  trailWorkspaces,
} from '../../src/audit/trail.js';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import { openRedisStore } from '../../src/store/redis-store.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { AuditEntry, Store } from '../../src/store/store.js';
import { describeWithService, serviceUrl } from '../helpers/services.js';

const RUN = `${process.pid}_${randomBytes(4).toString('hex')}`;
const DAY = 86_400_000;
const CAP = 20;
const onError = () => undefined;

interface Backend {
  open(): Promise<Store>;
  cleanup(): Promise<void>;
}

function trailContract(setup: () => Promise<Backend>): void {
  let backend: Backend;
  let store: Store;
  let seq = 0;
  const workspace = () => `T${RUN.toUpperCase()}X${++seq}`;
  // A minute into a 10-minute window, so that what one test writes within minutes shares windows.
  const now = Math.floor(Date.now() / REFUSAL_WINDOW_MS) * REFUSAL_WINDOW_MS + 60_000;
  const options = {
    retentionMs: 90 * DAY,
    adminRetentionMs: 400 * DAY,
    maxPerWorkspace: CAP,
    now: () => now,
  };
  const entry = (w: string, over: Partial<AuditEntry>): AuditEntry => ({
    at: now,
    workspace: w,
    user: 'U0ADMIN01',
    channel: 'C1',
    action: 'schedule',
    policyId: null,
    requestedAt: null,
    requestedLocal: null,
    outcome: 'scheduled',
    autoMoveToTrashAt: null,
    requestId: null,
    retryNum: null,
    delivery: null,
    ...over,
  });
  const adminEntries = (w: string, at: number) => [
    entry(w, { at, action: 'token_set', outcome: 'saved' }),
    entry(w, { at: at + 1, action: 'access_changed', outcome: 'everyone' }),
    entry(w, { at: at + 2, action: 'freeze', outcome: 'frozen' }),
    entry(w, { at: at + 3, action: 'approval', outcome: 'approved', policyId: 'dbp_ok', decidedBy: 'U2' }),
  ];
  const actionsOf = (entries: AuditEntry[]) => entries.map((e) => `${e.action}:${e.outcome}`);
  const ADMIN_ACTIONS = ['approval:approved', 'freeze:frozen', 'access_changed:everyone', 'token_set:saved'];

  beforeAll(async () => {
    backend = await setup();
    store = await backend.open();
  });
  afterAll(async () => {
    await store?.close();
    await backend?.cleanup();
  });

  test('docs: a partition newest first, from minSort, with paging', async () => {
    const coll = `c${RUN}`;
    for (const [key, sort] of [
      ['a', 30],
      ['b', 10],
      ['c', 20],
      ['d', 20],
    ] as const) {
      await store.docs.upsert(coll, { key, partition: 'T1', sort, active: false, body: '{}' });
    }
    const keysOf = (rows: { key: string }[]) => rows.map((r) => r.key);
    expect(keysOf(await store.docs.list(coll, 'T1', { limit: 10, newestFirst: true }))).toEqual([
      'a',
      'd',
      'c',
      'b',
    ]);
    expect(keysOf(await store.docs.list(coll, 'T1', { limit: 2, offset: 1, newestFirst: true }))).toEqual([
      'd',
      'c',
    ]);
    expect(keysOf(await store.docs.list(coll, 'T1', { minSort: 15, limit: 10, newestFirst: true }))).toEqual([
      'a',
      'd',
      'c',
    ]);
  });

  test('50 forms × 20 Katapult failures (over a cap of 20) evict no admin entry; they merge with a count', async () => {
    const w = workspace();
    const trail = createAuditTrail(store.audit, store.docs, options);
    const start = now - 60_000 - 50 * 60_000; // five whole windows before `now`'s
    for (const e of adminEntries(w, start - 3_600_000)) await trail.append(e);
    for (let form = 0; form < 50; form++) {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          trail.append(
            entry(w, {
              at: start + form * 60_000 + i,
              user: 'U0MALLORY',
              policyId: `dbp_unknown_${form}_${i}`,
              outcome: 'disk_backup_policy_not_found',
            }),
          ),
        ),
      );
    }
    const history = await trail.recent(w, 20);
    expect(actionsOf(history)).toEqual(expect.arrayContaining(ADMIN_ACTIONS));
    const failures = history.filter((e) => e.user === 'U0MALLORY');
    expect(failures).toHaveLength(5);
    expect(failures.reduce((sum, e) => sum + (e.count ?? 1), 0)).toBe(1000);
    expect(actionsOf(await trail.admin(w, 50))).toEqual(ADMIN_ACTIONS);
  }, 60_000);

  test('admin entries older than the activity retention but younger than 400 days are kept, past 20 actions', async () => {
    const w = workspace();
    const trail = createAuditTrail(store.audit, store.docs, options);
    for (const e of adminEntries(w, now - 300 * DAY)) await trail.append(e);
    for (let i = 0; i < 25; i++) {
      await trail.append(
        entry(w, { at: now - 200 * DAY + i, action: 'freeze', outcome: i % 2 ? 'unfrozen' : 'frozen' }),
      );
    }
    await trail.append(entry(w, { at: now - 100 * DAY, policyId: 'dbp_old_activity' }));
    for (let i = 0; i < 30; i++) await trail.append(entry(w, { at: now + i, policyId: `dbp_new_${i}` }));
    expect((await trail.recent(w, 50)).some((e) => e.policyId === 'dbp_old_activity')).toBe(false);
    const admin = await trail.admin(w, 100);
    expect(admin).toHaveLength(29);
    expect(actionsOf(admin.slice(-4))).toEqual(ADMIN_ACTIONS);
  });

  test('forget keeping the admin trail, and the export of every kind', async () => {
    const w = workspace();
    const trail = createAuditTrail(store.audit, store.docs, options);
    await store.audit.append(entry(w, { at: now - 10, action: 'access_changed', outcome: 'admins' }));
    for (const e of adminEntries(w, now)) await trail.append(e);
    await trail.append(entry(w, { at: now + 10, policyId: 'dbp_done' }));
    await trail.append(entry(w, { at: now + 11, user: 'U2', outcome: 'refused:not_allowed' }));
    await trail.append(entry(w, { at: now + 12, user: 'U2', policyId: 'dbp_x', outcome: 'http_500' }));
    await trail.append(entry(w, { at: now + 13, user: 'U2', policyId: 'dbp_y', outcome: 'http_500' }));
    expect(actionsOf(await readWholeTrail(store, w, { limit: 1000 }))).toEqual([
      'schedule:http_500',
      'schedule:refused:not_allowed',
      'schedule:scheduled',
      ...ADMIN_ACTIONS,
      'access_changed:admins',
    ]);
    await trail.forget(w, { keepAdmin: true });
    expect(actionsOf(await readWholeTrail(store, w, { limit: 1000 }))).toEqual([
      ...ADMIN_ACTIONS,
      'access_changed:admins',
    ]);
    await trail.forget(w);
    expect(await readWholeTrail(store, w, { limit: 1000 })).toEqual([]);
  });

  test('export-audit finds a workspace that only its admin trail still names', async () => {
    const w = workspace();
    const trail = createAuditTrail(store.audit, store.docs, options);
    for (const e of adminEntries(w, now)) await trail.append(e);
    await trail.forget(w, { keepAdmin: true });
    expect(await trailWorkspaces(store)).toContain(w);
    await trail.forget(w);
    expect(await trailWorkspaces(store)).not.toContain(w);
  });
}

describe('SQLite', () => {
  trailContract(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'katapult-trail-'));
    const file = path.join(dir, 'store.sqlite');
    return {
      open: () =>
        openSqliteStore(`sqlite://${file}`, { retentionMs: 90 * DAY, maxPerWorkspace: CAP, onError }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  });
});

describeWithService('redis', 'Redis', () => {
  trailContract(async () => {
    const url = serviceUrl('redis');
    const namespace = `katapult-chatops-trail-${RUN}`;
    return {
      open: () => openRedisStore(url, { retentionMs: 90 * DAY, maxPerWorkspace: CAP, onError, namespace }),
      async cleanup() {
        const client = createClient({ url });
        client.on('error', () => undefined);
        await client.connect();
        const keys: string[] = [];
        for await (const batch of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 }))
          keys.push(...batch);
        if (keys.length > 0) await client.del(keys);
        client.destroy();
      },
    };
  });
});

describeWithService('postgres', 'PostgreSQL', () => {
  trailContract(async () => {
    const url = serviceUrl('postgres');
    const schema = `katapult_trail_${RUN}`;
    return {
      open: () => openPostgresStore(url, { retentionMs: 90 * DAY, maxPerWorkspace: CAP, onError, schema }),
      async cleanup() {
        const pool = new pg.Pool({ connectionString: url, max: 1 });
        await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await pool.end();
      },
    };
  });
});
