/**
 * The per-person daily limit end to end (HTTP mode, fakes, an injected clock): scheduled policies
 * count, failures do not; the submission past the limit is refused inline before any Katapult call,
 * with the time there is room again; 24 hours later it passes. An admin's setting in
 * `/katapult access` overrides the deployment's default.
 */
import { createAuditTrail } from '../../src/audit/trail.js';
import { DAILY_LIMIT_WINDOW_MS } from '../../src/scheduling/daily-limit.js';
import { SCHEDULE_VIEW } from '../../src/slack/ids.js';
import { formatLocal } from '../../src/time/when.js';
import { ADMIN, type Harness, MEMBER } from '../../support/harness.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

let clock = Date.now();
const shared = useSharedHarness({ env: { KATAPULT_MAX_PER_USER_PER_DAY: '2' }, now: () => clock });
let h: Harness;
beforeAll(() => {
  h = shared.h;
});

const scheduled = () =>
  h.katapult.requests
    .filter((r) => r.method === 'DELETE')
    .map((r) => (r.body as { disk_backup_policy: { id: string } }).disk_backup_policy.id);
/** A time the bot's clock accepts (30 minutes ahead of it). */
const soon = () => Math.floor(clock / 1000) + 30 * 60;

async function submit(input: { policyId?: string; picked?: string[]; userId?: string }) {
  const posts = h.slack.callsTo('chat.postMessage').length;
  const res = await h.submitSchedule({ ...input, at: soon() });
  if (res.text === '') await h.slack.waitFor('chat.postMessage', posts + 1);
  await h.bot.idle();
  return res;
}

test('failures do not count; the one past the limit is refused with the time; 24 hours later it passes', async () => {
  const start = clock;
  expect((await submit({ policyId: 'dbp_limit_one' })).text).toBe('');
  clock += 60_000;
  // Katapult answers 404: not scheduled, so not counted.
  expect((await submit({ policyId: 'missing_limit_x' })).text).toBe('');
  clock += 60_000;
  expect((await submit({ policyId: 'dbp_limit_two' })).text).toBe('');
  expect(scheduled()).toEqual(['dbp_limit_one', 'missing_limit_x', 'dbp_limit_two']);

  clock += 60_000;
  const refused = await h.submitSchedule({ policyId: 'dbp_limit_three', at: soon() });
  const error = (refused.json as { errors: Record<string, string> }).errors[SCHEDULE_VIEW.policyBlock];
  expect(error).toContain('You have scheduled 2 policies in the last 24 hours');
  // Room comes when the oldest counted schedule leaves the window, shown in the person's zone.
  expect(error).toContain(formatLocal(start + DAILY_LIMIT_WINDOW_MS, 'America/New_York'));
  await h.bot.idle();
  expect(scheduled()).not.toContain('dbp_limit_three');
  const trail = await createAuditTrail(h.bot.store.audit, h.bot.store.docs, {
    retentionMs: 90 * 86_400_000,
  }).recent('T0FAKE001', 20);
  expect(trail.some((e) => e.policyId === 'dbp_limit_three' && e.outcome === 'refused:daily_limit')).toBe(
    true,
  );

  // A second person has their own count.
  expect((await submit({ policyId: 'dbp_limit_admin', userId: ADMIN })).text).toBe('');

  // 24 hours after the first one, one place is free again: one passes, two at once do not.
  clock = start + DAILY_LIMIT_WINDOW_MS + 1_000;
  const two = await h.submitSchedule({ picked: ['dbp_limit_four', 'dbp_limit_five'], at: soon() });
  expect(JSON.stringify(two.json)).toContain('There is room for these 2 from');
  expect((await submit({ policyId: 'dbp_limit_three' })).text).toBe('');
  expect(scheduled()).toContain('dbp_limit_three');
  expect(scheduled()).not.toContain('dbp_limit_four');
});

test('two submissions at the limit at once: only one passes', async () => {
  clock += 2 * DAILY_LIMIT_WINDOW_MS; // a fresh window
  expect((await submit({ policyId: 'dbp_race_zero' })).text).toBe('');
  const [a, b] = await Promise.all([
    h.submitSchedule({ policyId: 'dbp_race_a', at: soon() }),
    h.submitSchedule({ policyId: 'dbp_race_b', at: soon() }),
  ]);
  expect([a.text, b.text].filter((t) => t === '')).toHaveLength(1);
  await h.slack.waitFor('chat.postMessage', 2);
  await h.bot.idle();
  expect(scheduled().filter((id) => id.startsWith('dbp_race_'))).toHaveLength(2);
});

test('an admin’s setting in /katapult access overrides the deployment’s default', async () => {
  clock += 2 * DAILY_LIMIT_WINDOW_MS;
  const access = (limit: string) => h.submitAccess({ limit });
  expect(JSON.stringify((await access('many')).json)).toContain('whole number');
  const saved = h.slack.callsTo('views.update').length;
  await access('1');
  await h.slack.waitFor('views.update', saved + 1);
  expect(JSON.stringify(h.slack.callsTo('views.update').at(-1)?.args)).toContain('at most 1 policy');
  expect((await submit({ policyId: 'dbp_admin_one', userId: MEMBER })).text).toBe('');
  const refused = await h.submitSchedule({ policyId: 'dbp_admin_two', at: soon() });
  expect(JSON.stringify(refused.json)).toContain('at most 1 here');
  await access('unlimited');
  await h.slack.waitFor('views.update', saved + 2);
  expect((await submit({ policyId: 'dbp_admin_two' })).text).toBe('');
  expect(scheduled()).toContain('dbp_admin_two');
});
