/** Refusals cannot flood the audit: merged per person and window, kept apart from real entries. */
import { createAuditTrail, REFUSAL_WINDOW_MS, readWholeTrail } from '../../src/audit/trail.js';
import { parseConfig } from '../../src/config.js';
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

/**
 * Volume cannot erase the admin trail: failures merge like refusals, and configuration and admin
 * entries (token, access, freeze, approvals, uninstall) live apart with their own retention.
 */
describe('the admin trail and merged failures', () => {
  const DAY = 86_400_000;
  // A minute into a 10-minute window, so that what one test writes within minutes shares windows.
  const now = Math.floor(Date.now() / REFUSAL_WINDOW_MS) * REFUSAL_WINDOW_MS + 60_000;
  // Built as a variable: the options object is what the bot passes (src/bot/work.ts).
  const options = { retentionMs: 90 * DAY, adminRetentionMs: 400 * DAY, maxPerWorkspace: 20, now: () => now };
  const admin = (over: Partial<AuditEntry>) => entry({ user: 'U0ADMIN01', policyId: null, ...over });
  const adminEntries = (at: number) => [
    admin({ at, action: 'token_set', outcome: 'verified' }),
    admin({ at: at + 1, action: 'access_changed', outcome: 'everyone' }),
    admin({ at: at + 2, action: 'freeze', outcome: 'frozen' }),
    admin({
      at: at + 3,
      action: 'approval',
      outcome: 'approved',
      policyId: 'dbp_ok',
      decidedBy: 'U0ADMIN02',
    }),
  ];
  const actionsOf = (entries: AuditEntry[]) => entries.map((e) => `${e.action}:${e.outcome}`);

  test('a flood of failures (50 forms × 20 refused IDs over a cap of 20) evicts no token, access, freeze or approval entry', async () => {
    const trail = createAuditTrail(currentStore().audit, currentStore().docs, options);
    const start = now - 60_000 - 50 * 60_000; // five whole windows before `now`'s
    for (const e of adminEntries(start - 60 * 60_000)) await trail.append(e);
    for (let form = 0; form < 50; form++) {
      for (let i = 0; i < 20; i++) {
        await trail.append(
          entry({
            at: start + form * 60_000 + i,
            user: 'U0MALLORY',
            policyId: `dbp_unknown_${form}_${i}`,
            outcome: 'disk_backup_policy_not_found',
          }),
        );
      }
    }
    const history = await trail.recent('T1', 20);
    expect(actionsOf(history)).toEqual(
      expect.arrayContaining([
        'token_set:verified',
        'access_changed:everyone',
        'freeze:frozen',
        'approval:approved',
      ]),
    );
    // 1,000 failures in five 10-minute windows: five entries, counted.
    const failures = history.filter((e) => e.user === 'U0MALLORY');
    expect(failures).toHaveLength(5);
    expect(failures.reduce((sum, e) => sum + (e.count ?? 1), 0)).toBe(1000);
  });

  test('a flood of approval requests (30 forms × 20 policies over a cap of 20) pushes out no approve or deny decision', async () => {
    const trail = createAuditTrail(currentStore().audit, currentStore().docs, options);
    const start = now - 60 * 60_000;
    const decided = ['approved', 'denied'].map((outcome, i) =>
      admin({
        at: start + i,
        action: 'approval',
        outcome,
        policyId: `dbp_${outcome}`,
        decidedBy: 'U0ADMIN02',
      }),
    );
    for (const e of decided) await trail.append(e);
    for (let form = 0; form < 30; form++) {
      for (const outcome of ['requested', 'expired']) {
        for (let i = 0; i < 20; i++) {
          await trail.append(
            admin({
              at: start + 10 + form * 100 + i,
              user: 'U0MALLORY',
              action: 'approval',
              outcome,
              policyId: `dbp_${form}_${i}`,
            }),
          );
        }
      }
    }
    const history = await trail.admin('T1', 1000);
    expect(actionsOf(history.filter((e) => e.user === 'U0ADMIN01'))).toEqual(
      expect.arrayContaining(['approval:approved', 'approval:denied']),
    );
    // What members caused keeps its cap: the newest 20.
    expect(history.filter((e) => e.user === 'U0MALLORY')).toHaveLength(20);
  });

  test('a flood of decisions (30 approvals of 20 policies over a cap of 20) pushes out no token, access or freeze entry', async () => {
    const trail = createAuditTrail(currentStore().audit, currentStore().docs, options);
    const start = now - 60 * 60_000;
    for (const e of adminEntries(start)) await trail.append(e);
    for (let click = 0; click < 30; click++) {
      for (let i = 0; i < 20; i++) {
        await trail.append(
          admin({
            at: start + 10 + click * 100 + i,
            user: 'U0ADMIN02',
            action: 'approval',
            outcome: 'approved',
            policyId: `dbp_${click}_${i}`,
            decidedBy: 'U0ADMIN02',
          }),
        );
      }
    }
    const history = await trail.admin('T1', 1000);
    expect(actionsOf(history)).toEqual(
      expect.arrayContaining(['token_set:verified', 'access_changed:everyone', 'freeze:frozen']),
    );
    // Decisions keep their own cap: the newest 20.
    expect(history.filter((e) => e.user === 'U0ADMIN02')).toHaveLength(20);
  });

  test('failures merge per person, outcome and 10-minute window with a count; the latest policy is kept', async () => {
    const trail = createAuditTrail(currentStore().audit, currentStore().docs, options);
    for (let i = 0; i < 30; i++) {
      await trail.append(
        entry({ at: now + i, user: 'U1', policyId: `dbp_nf_${i}`, outcome: 'disk_backup_policy_not_found' }),
      );
    }
    for (let i = 0; i < 5; i++)
      await trail.append(
        entry({ at: now + 100 + i, user: 'U1', policyId: `dbp_5xx_${i}`, outcome: 'http_500' }),
      );
    for (let i = 0; i < 3; i++)
      await trail.append(
        entry({
          at: now + 200 + i,
          user: 'U2',
          policyId: `dbp_u2_${i}`,
          outcome: 'disk_backup_policy_not_found',
        }),
      );
    await trail.append(entry({ at: now + 300, user: 'U1', policyId: 'dbp_fine' }));
    const history = await trail.recent('T1', 20);
    expect(history.map((e) => [e.user, e.outcome, e.policyId, e.count ?? null])).toEqual([
      ['U1', 'scheduled', 'dbp_fine', null],
      ['U2', 'disk_backup_policy_not_found', 'dbp_u2_2', 3],
      ['U1', 'http_500', 'dbp_5xx_4', 5],
      ['U1', 'disk_backup_policy_not_found', 'dbp_nf_29', 30],
    ]);
    // Parallel workers failing at once lose no count.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        trail.append(entry({ at: now + 400 + i, user: 'U3', policyId: `dbp_p_${i}`, outcome: 'failed' })),
      ),
    );
    expect((await trail.recent('T1', 20)).find((e) => e.user === 'U3')?.count).toBe(20);
  });

  test('admin entries older than the activity retention but younger than 400 days are kept', async () => {
    const trail = createAuditTrail(currentStore().audit, currentStore().docs, options);
    for (const e of adminEntries(now - 300 * DAY)) await trail.append(e);
    await trail.append(entry({ at: now - 100 * DAY, policyId: 'dbp_old_activity' }));
    for (let i = 0; i < 60; i++) await trail.append(entry({ at: now + i, policyId: `dbp_new_${i}` }));
    const history = await trail.recent('T1', 20);
    expect(history.some((e) => e.policyId === 'dbp_old_activity')).toBe(false);
    expect(actionsOf(await trail.admin('T1', 50))).toEqual([
      'approval:approved',
      'freeze:frozen',
      'access_changed:everyone',
      'token_set:verified',
    ]);
    // Past the admin retention they go (as the next admin entry is written).
    const later = { ...options, now: () => now + 101 * DAY };
    const trailLater = createAuditTrail(currentStore().audit, currentStore().docs, later);
    await trailLater.append(admin({ at: now + 101 * DAY, action: 'freeze', outcome: 'unfrozen' }));
    expect(actionsOf(await trailLater.admin('T1', 50))).toEqual(['freeze:unfrozen']);
  });

  test('admin entries written to the audit log before this change still show, once each', async () => {
    const store = currentStore();
    const legacy = adminEntries(now - 10 * DAY);
    for (const e of legacy) await store.audit.append(e);
    const trail = createAuditTrail(store.audit, store.docs, options);
    await trail.append(admin({ at: now, action: 'token_removed', outcome: 'removed' }));
    expect(actionsOf(await trail.admin('T1', 50))).toEqual([
      'token_removed:removed',
      'approval:approved',
      'freeze:frozen',
      'access_changed:everyone',
      'token_set:verified',
    ]);
    // Forgetting all but the admin trail carries the old entries over before the audit log goes.
    await trail.forget('T1', { keepAdmin: true });
    expect(await store.audit.recent('T1', 50)).toEqual([]);
    expect(actionsOf(await trail.admin('T1', 50))).toHaveLength(5);
    expect(actionsOf(await trail.recent('T1', 50))).toHaveLength(5);
  });

  test('readWholeTrail returns every kind: activity, refusals, merged failures, admin entries', async () => {
    const store = currentStore();
    const trail = createAuditTrail(store.audit, store.docs, options);
    await store.audit.append(admin({ at: now - 5, action: 'access_changed', outcome: 'admins' }));
    for (const e of adminEntries(now)) await trail.append(e);
    await trail.append(entry({ at: now + 10, policyId: 'dbp_done' }));
    await trail.append(entry({ at: now + 11, user: 'U2', outcome: 'refused:not_allowed' }));
    await trail.append(entry({ at: now + 12, user: 'U2', outcome: 'refused:not_allowed' }));
    await trail.append(
      entry({ at: now + 13, user: 'U2', policyId: 'dbp_x', outcome: 'disk_backup_policy_not_found' }),
    );
    await trail.append(
      entry({ at: now + 14, user: 'U2', policyId: 'dbp_y', outcome: 'disk_backup_policy_not_found' }),
    );
    const all = await readWholeTrail(store, 'T1', { limit: 1000 });
    expect(all.map((e) => [e.action, e.outcome, e.count ?? null])).toEqual([
      ['schedule', 'disk_backup_policy_not_found', 2],
      ['schedule', 'refused:not_allowed', 2],
      ['schedule', 'scheduled', null],
      ['approval', 'approved', null],
      ['freeze', 'frozen', null],
      ['access_changed', 'everyone', null],
      ['token_set', 'verified', null],
      ['access_changed', 'admins', null],
    ]);
    expect(await readWholeTrail(store, 'T2', { limit: 1000 })).toEqual([]);
  });
});

test('AUDIT_ADMIN_RETENTION_DAYS: 400 days by default, 1 to 3650', () => {
  const base = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'secret' };
  expect(parseConfig(base).audit.adminRetentionDays).toBe(400);
  expect(parseConfig({ ...base, AUDIT_ADMIN_RETENTION_DAYS: '730' }).audit.adminRetentionDays).toBe(730);
  for (const wrong of ['0', '3651', 'a year']) {
    expect(() => parseConfig({ ...base, AUDIT_ADMIN_RETENTION_DAYS: wrong })).toThrow(
      /AUDIT_ADMIN_RETENTION_DAYS/,
    );
  }
});
