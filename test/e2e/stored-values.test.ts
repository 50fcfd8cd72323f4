/**
 * What the bot stores and counts stays bounded and never gets stuck, end to end (HTTP mode, fakes):
 * a 60 kB Katapult error is clipped before it is written into the request record, and an error
 * code Katapult does not document counts as `other` in /metrics; a request record whose body is not
 * readable is ended `failed` by the sweep, so the pending gauge (and its alert) comes down, and it
 * is counted.
 */
import { createRequestLog, REQUESTS, type RequestRecord } from '../../src/scheduling/request-log.js';
import { type Harness, inMinutes } from '../../support/harness.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const TEAM = 'T0FAKE001';
const SCHEDULE_ROUTE = 'DELETE /disk_backup_policies/disk_backup_policy/schedule';

const shared = useSharedHarness({ env: { REQUEST_SWEEP_MS: '100', REQUEST_LEASE_MS: '1000' } });
let h: Harness;
beforeAll(() => {
  h = shared.h;
});

async function metrics(): Promise<string> {
  const res = await fetch(`${h.baseUrl}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** A sample's value (0 when absent). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function until(done: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('a 60 kB error with a code Katapult does not document: clipped in the stored record, counted as other', async () => {
  const before = await metrics();
  const description = 'Something odd happened. '.repeat(2_500); // 60 kB
  h.katapult.enqueue(SCHEDULE_ROUTE, {
    status: 422,
    body: { error: { code: 'brand_new_code_2031', description, detail: {} } },
  });
  expect((await h.submitSchedule({ policyId: 'dbp_long_error', at: inMinutes(120) })).text).toBe('');
  await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();

  const records = await createRequestLog(h.bot.store.docs).since(TEAM, 0, 1000);
  const r = records.find((x) => x.policies[0]?.policyId === 'dbp_long_error') as RequestRecord;
  const row = await h.bot.store.docs.get(REQUESTS, r.id);
  expect(row?.body.length).toBeLessThan(10_000);
  const result = r.policies[0]?.result;
  expect(result).toMatchObject({ ok: false, code: 'brand_new_code_2031' });
  if (result?.ok !== false) throw new Error('expected a failure');
  expect(result.explanation.summary.length).toBeLessThanOrEqual(2_000);
  expect(result.explanation.summary).toMatch(/…\(clipped\)$/);

  const after = await metrics();
  const moved = (series: string) => sample(after, series) - sample(before, series);
  expect(moved('katapult_chatops_submissions_total{outcome="other"}')).toBe(1);
  expect(
    moved('katapult_chatops_katapult_requests_total{operation="schedule_deletion",outcome="other"}'),
  ).toBe(1);
  expect(after).not.toContain('brand_new_code_2031');
});

test('an unreadable request record ends failed: the pending gauge comes down, it is counted and logged', async () => {
  const before = sample(await metrics(), 'katapult_chatops_request_unreadable_total');
  expect(
    await h.bot.store.docs.insert(REQUESTS, {
      key: `${TEAM}:VCORRUPT01`,
      partition: TEAM,
      sort: Date.now(),
      active: true,
      body: '{"id":"T0FAKE001:VCORRUPT01","policies":[{"poli',
    }),
  ).toBe(true);

  await until(async () => sample(await metrics(), 'katapult_chatops_requests_pending') === 0);
  const text = await metrics();
  expect(sample(text, 'katapult_chatops_request_unreadable_total') - before).toBe(1);
  expect(sample(text, 'katapult_chatops_requests_oldest_pending_age_seconds')).toBe(0);
  const row = await h.bot.store.docs.get(REQUESTS, `${TEAM}:VCORRUPT01`);
  expect(row?.active).toBe(false);
  expect(JSON.parse(row?.body ?? '{}')).toMatchObject({ state: 'failed' });
  expect(h.logs.some((line) => line.includes('request_unreadable_failed'))).toBe(true);
});
