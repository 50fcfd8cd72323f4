/**
 * prom-client is loaded at the first scrape (src/metrics.ts): what was counted before it is kept and
 * replayed in order, including past the number of calls at which it is loaded without a scrape.
 */
import { createMetrics } from '../../src/metrics.js';

const value = (text: string, series: string) =>
  text
    .split('\n')
    .find((line) => line.startsWith(`${series} `))
    ?.split(' ')[1];

test('every call made before the first scrape is counted, in order', async () => {
  const metrics = createMetrics();
  for (let i = 0; i < 1_500; i++) metrics.command('help');
  metrics.katapultRequest('schedule_deletion', 'ok', 0.2);
  metrics.katapultRequest('schedule_deletion', 'ok', 3);
  metrics.socketModeConnected(true);
  metrics.socketModeConnected(false);
  const { body } = await metrics.render();
  expect(value(body, 'katapult_chatops_commands_total{outcome="help"}')).toBe('1500');
  expect(
    value(body, 'katapult_chatops_katapult_request_duration_seconds_count{operation="schedule_deletion"}'),
  ).toBe('2');
  expect(
    value(body, 'katapult_chatops_katapult_request_duration_seconds_sum{operation="schedule_deletion"}'),
  ).toBe('3.2');
  // The last call wins: replayed in the order made.
  expect(value(body, 'katapult_chatops_socket_mode_connected')).toBe('0');
  // And the default metrics are there.
  expect(body).toContain('process_cpu_seconds_total');
});

test('calls after the first scrape go straight to the registry', async () => {
  const metrics = createMetrics();
  metrics.submission('scheduled');
  await metrics.render();
  metrics.submission('scheduled');
  metrics.dmFallback();
  const { body } = await metrics.render();
  expect(value(body, 'katapult_chatops_submissions_total{outcome="scheduled"}')).toBe('2');
  expect(value(body, 'katapult_chatops_dm_fallbacks_total')).toBe('1');
});
