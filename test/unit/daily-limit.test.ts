/**
 * The per-person daily limit counts exactly, whatever the person's history: on a real SQLite store,
 * with an injected clock, after far more failed submissions than the limit (each leaves its
 * request's marker for the window) the places used today are still all counted.
 */
import { createDailyLimit, DAILY_LIMIT_WINDOW_MS } from '../../src/scheduling/daily-limit.js';
import { createLocks } from '../../src/scheduling/locks.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const store = useTempSqliteStore();
const [workspace, user] = ['T0LIMIT01', 'U0ALICE01'];

function setup(start: number) {
  const clock = { now: start };
  const limit = createDailyLimit({
    docs: store().docs,
    locks: createLocks(store().docs, { ttlMs: 5000 }),
    now: () => clock.now,
  });
  const reserve = (view: string, policyIds: string[], max: number) =>
    limit.reserve({ workspace, user, requestId: `${workspace}:${view}`, policyIds, limit: max });
  /** A submission whose every policy failed: reserved, then given back (its marker stays). */
  const fail = async (view: string, policyId: string, max: number) => {
    expect(await reserve(view, [policyId], max)).toEqual({ ok: true });
    await limit.release({ workspace, user, requestId: `${workspace}:${view}`, policyIds: [policyId] });
  };
  return { clock, limit, reserve, fail };
}

test('limit + 1000 failed submissions, then the ones that count: the next one is refused, exactly', async () => {
  const start = 1_800_000_000_000;
  const { clock, reserve, fail } = setup(start);
  const max = 3;
  for (let i = 0; i < max + 1000; i++) {
    await fail(`F${i}`, `dbp_failed_${i}`, max);
    clock.now += 10;
  }
  const firstCounted = clock.now;
  expect(await reserve('OK1', ['dbp_a'], max)).toEqual({ ok: true });
  clock.now += 10;
  expect(await reserve('OK2', ['dbp_b', 'dbp_c'], max)).toEqual({ ok: true });
  clock.now += 10;
  expect(await reserve('OVER', ['dbp_d'], max)).toEqual({
    ok: false,
    used: 3,
    roomAt: firstCounted + DAILY_LIMIT_WINDOW_MS,
  });
  // A retry of a request reserved after all those markers is still recognised, not counted again.
  expect(await reserve('OK2', ['dbp_b', 'dbp_c'], max)).toEqual({ ok: true });
  // The failed ones' requests, retried by Slack within the window, change nothing either.
  expect(await reserve('F0', ['dbp_failed_0'], max)).toEqual({ ok: true });
  // A day after the counted ones, there is room again.
  clock.now = firstCounted + DAILY_LIMIT_WINDOW_MS + 1;
  expect(await reserve('NEXT', ['dbp_e'], max)).toEqual({ ok: true });
}, 60_000);

test('a limit lowered below what is already counted reports every counted place and when room comes', async () => {
  const start = 1_800_000_000_000;
  const { clock, reserve } = setup(start);
  for (let i = 0; i < 15; i++) {
    const policies = Array.from({ length: 100 }, (_, j) => `dbp_${i}_${j}`);
    expect(await reserve(`V${i}`, policies, 10_000)).toEqual({ ok: true });
    clock.now += 1_000;
  }
  // 1,500 counted, the limit now 2: the 1,499 oldest must leave the window before one more fits,
  // and the 1,499th oldest is of the 15th submission.
  expect(await reserve('LOW', ['dbp_low'], 2)).toEqual({
    ok: false,
    used: 1500,
    roomAt: start + 14_000 + DAILY_LIMIT_WINDOW_MS,
  });
}, 60_000);

test('markers written before they had their own partition neither count nor hide what counts', async () => {
  const start = 1_800_000_000_000;
  const { clock, reserve } = setup(start);
  // As the earlier release left them: each request's marker among the person's counted places.
  for (let i = 0; i < 2500; i++) {
    await store().docs.upsert('daily', {
      key: `${workspace}:OLD${i}|`,
      partition: `${workspace}:${user}`,
      sort: start - 3_600_000 + i,
      active: false,
      body: '{}',
    });
  }
  expect(await reserve('NEW1', ['dbp_a', 'dbp_b'], 3)).toEqual({ ok: true });
  clock.now += 10;
  expect(await reserve('NEW2', ['dbp_c', 'dbp_d'], 3)).toEqual({
    ok: false,
    used: 2,
    roomAt: start + DAILY_LIMIT_WINDOW_MS,
  });
  // An old request retried by Slack is still recognised by its marker.
  expect(await reserve('OLD7', ['dbp_old'], 3)).toEqual({ ok: true });
});
