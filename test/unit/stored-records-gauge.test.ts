/** The stored-records gauge: one series per kind, read through the composition root's reader, bounded. */
import { createMetrics } from '../../src/metrics.js';
import { createRetention } from '../../src/scheduling/retention.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const silent = { event: () => undefined } as never;
const currentStore = useTempSqliteStore();

test('katapult_chatops_stored_records shows each kind the retention module counts', async () => {
  const store = currentStore();
  {
    await store.docs.insert('request', { key: 'T1:V1', partition: 'T1', sort: 1, active: true, body: '{}' });
    await store.docs.insert('request', { key: 'T1:V2', partition: 'T1', sort: 2, active: false, body: '{}' });
    const retention = createRetention({
      docs: store.docs,
      claims: store,
      now: Date.now,
      logger: silent,
      settings: { finishedRequestMs: 86_400_000, intervalMs: 0, batchSize: 100 },
    });
    const metrics = createMetrics({ storedRecords: () => retention.counts() });
    const text = (await metrics.render()).body;
    expect(text).toMatch(/katapult_chatops_stored_records\{kind="requests"\} 2/);
    expect(text).toMatch(/katapult_chatops_stored_records\{kind="upcoming"\} 0/);
  }
});

test('a reader that never answers leaves the gauge empty instead of holding the scrape', async () => {
  const metrics = createMetrics({ storedRecords: () => new Promise(() => undefined) });
  const started = Date.now();
  const text = (await metrics.render()).body;
  expect(Date.now() - started).toBeLessThan(3_000);
  expect(text).not.toMatch(/katapult_chatops_stored_records\{/);
});
