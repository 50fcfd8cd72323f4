/** Refusals cannot flood the audit: merged per person and window, kept apart from real entries. */
import { createAuditTrail } from '../../src/audit/trail.js';
import type { AuditEntry } from '../../src/store/store.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const currentStore = useTempSqliteStore({ maxPerWorkspace: 20 });

const T0 = 1_800_000_000_000;
const entry = (over: Partial<AuditEntry>): AuditEntry => ({
  at: T0,
  workspace: 'T1',
  user: 'U0ADMIN01',
  channel: 'C1',
  action: 'schedule',
  policyId: 'dbp_1',
  requestedAt: null,
  requestedLocal: null,
  outcome: 'scheduled',
  autoMoveToTrashAt: null,
  requestId: null,
  retryNum: null,
  delivery: 'channel',
  ...over,
});

test('50 refusals of one member leave every admin entry in the history, as one entry with a count', async () => {
  const trail = createAuditTrail(currentStore().audit, currentStore().docs, { retentionMs: 90 * 86_400_000 });
  for (let i = 0; i < 10; i++) await trail.append(entry({ at: T0 + i, policyId: `dbp_admin_${i}` }));
  for (let i = 0; i < 50; i++) {
    await trail.append(entry({ at: T0 + 100 + i * 1000, user: 'U0MALLORY', outcome: 'refused:not_allowed' }));
  }
  const history = await trail.recent('T1', 20);
  expect(history.filter((e) => e.user === 'U0ADMIN01')).toHaveLength(10);
  const refusals = history.filter((e) => e.user === 'U0MALLORY');
  expect(refusals).toHaveLength(1);
  expect(refusals[0]?.count).toBe(50);
  // Nothing of the refusals went into the audit log itself.
  expect((await currentStore().audit.recent('T1', 100)).every((e) => !e.outcome.startsWith('refused'))).toBe(
    true,
  );
});

test('50 refusals appended at the same time (parallel workers) count 50: none is lost', async () => {
  const trail = createAuditTrail(currentStore().audit, currentStore().docs, { retentionMs: 90 * 86_400_000 });
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      trail.append(entry({ at: T0 + i, user: 'U0MALLORY', outcome: 'refused:not_allowed' })),
    ),
  );
  const refusals = (await trail.recent('T1', 20)).filter((e) => e.user === 'U0MALLORY');
  expect(refusals).toHaveLength(1);
  expect(refusals[0]?.count).toBe(50);
});

test('refusals in another 10-minute window are a new entry; forget removes both kinds', async () => {
  const trail = createAuditTrail(currentStore().audit, currentStore().docs, { retentionMs: 90 * 86_400_000 });
  await trail.append(entry({ user: 'U2', outcome: 'refused:not_allowed' }));
  await trail.append(entry({ at: T0 + 11 * 60_000, user: 'U2', outcome: 'refused:not_allowed' }));
  await trail.append(entry({ at: T0 - 1 }));
  expect((await trail.recent('T1', 10)).map((e) => e.count ?? null)).toEqual([1, 1, null]);
  await trail.forget('T1');
  expect(await trail.recent('T1', 10)).toEqual([]);
});
