/**
 * Metric labels come from a closed set: a Katapult error code is a label value only when Katapult
 * documents it for an operation the bot uses (the fixtures, checked against the OpenAPI document by
 * test/contract); any other code counts as `other`, in the submissions counter and in the Katapult
 * client's calls counter alike.
 */
import { KatapultApiError, KatapultTimeoutError } from '../../src/katapult/errors.js';
import { createMetrics, instrumentKatapult } from '../../src/metrics.js';
import { allErrorFixtureCodes } from '../../support/fixtures/katapult/index.js';

const series = (text: string, name: string) => text.split('\n').filter((line) => line.startsWith(`${name}{`));

test('an unknown Katapult error code counts as `other` in the submissions counter; known outcomes keep their name', async () => {
  const metrics = createMetrics();
  metrics.submission('a_code_katapult_never_documented');
  metrics.submission(`odd_${'x'.repeat(5_000)}`);
  for (const outcome of ['scheduled', 'refused', 'stopped', 'superseded', 'not_run', 'failed', 'invalid'])
    metrics.submission(outcome);
  for (const code of allErrorFixtureCodes) metrics.submission(code);
  metrics.submission('http_502');
  const text = (await metrics.render()).body;
  const lines = series(text, 'katapult_chatops_submissions_total');
  expect(lines).toContain('katapult_chatops_submissions_total{outcome="other"} 2');
  expect(text).not.toContain('a_code_katapult_never_documented');
  expect(text).not.toContain('odd_x');
  for (const known of ['scheduled', 'stopped', 'not_run', 'http_502', ...allErrorFixtureCodes])
    expect(lines).toContain(`katapult_chatops_submissions_total{outcome="${known}"} 1`);
  // One series per value of a closed set, whatever Katapult sends.
  expect(lines).toHaveLength(7 + allErrorFixtureCodes.length + 2);
});

test('the Katapult client’s calls counter maps an unknown error code to `other` too', async () => {
  const metrics = createMetrics();
  let next: Error = new KatapultApiError(400, 'brand_new_code', null, {}, null, 1);
  const client = instrumentKatapult(
    {
      async schedule(): Promise<void> {
        throw next;
      },
    },
    metrics,
    { schedule: 'schedule_deletion' },
  );
  await expect(client.schedule()).rejects.toThrow('brand_new_code');
  next = new KatapultApiError(404, 'disk_backup_policy_not_found', null, {}, null, 1);
  await expect(client.schedule()).rejects.toThrow();
  next = new KatapultTimeoutError(1000, 2);
  await expect(client.schedule()).rejects.toThrow();
  const lines = series((await metrics.render()).body, 'katapult_chatops_katapult_requests_total');
  expect(lines.sort()).toEqual([
    'katapult_chatops_katapult_requests_total{operation="schedule_deletion",outcome="disk_backup_policy_not_found"} 1',
    'katapult_chatops_katapult_requests_total{operation="schedule_deletion",outcome="other"} 1',
    'katapult_chatops_katapult_requests_total{operation="schedule_deletion",outcome="timeout"} 1',
  ]);
});
