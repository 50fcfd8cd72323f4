/**
 * The operator commands list every record (src/cli/context.ts `records`) while the bot keeps
 * writing. On Redis the adapter lists keys (SCAN) and then reads them (MGET): a record removed in
 * between comes back with no value, on which Keyv's own iterator threw a TypeError and ended the
 * listing (rotate-key, check and export-audit failed). It is gone, so it is skipped.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from '@keyv/redis';
import { knownWorkspaces, records } from '../../src/cli/context.js';
import { openRedisStore } from '../../src/store/redis-store.js';
import type { Store } from '../../src/store/store.js';
import { describeWithService, serviceUrl } from '../helpers/services.js';

const namespace = `katapult-chatops-listing-${process.pid}-${randomBytes(4).toString('hex')}`;
const options = { retentionMs: 86_400_000, maxPerWorkspace: 100, onError: () => undefined, namespace };

describeWithService('redis', 'listing records on Redis while they are removed', () => {
  const opened: Store[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
    const client = createClient({ url: serviceUrl('redis') });
    client.on('error', () => undefined);
    await client.connect();
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 }))
      keys.push(...batch);
    if (keys.length > 0) await client.del(keys);
    client.destroy();
  });

  test('a record removed between the listing of its key and the read of its value is skipped', async () => {
    const [a, b] = await Promise.all([
      openRedisStore(serviceUrl('redis'), options),
      openRedisStore(serviceUrl('redis'), options),
    ]);
    opened.push(a, b);
    const workspaces = ['T0LIST0001', 'T0LIST0002', 'T0LIST0003'];
    for (const w of workspaces) await b.kv.set(`token:${w}`, { sealed: `v2.${w}` });
    // The adapter reads the keys SCAN listed: another replica removes one of them just before.
    const adapter = a.kv.store as { mget(keys: string[]): Promise<unknown[]> };
    const mget = adapter.mget.bind(adapter);
    adapter.mget = async (keys) => {
      if (keys.some((key) => key.endsWith('::token:T0LIST0002'))) await b.kv.delete('token:T0LIST0002');
      return mget(keys);
    };

    const listed: [string, unknown][] = [];
    for await (const entry of records(a)) listed.push(entry);
    expect(listed.sort()).toEqual([
      ['token:T0LIST0001', { sealed: 'v2.T0LIST0001' }],
      ['token:T0LIST0003', { sealed: 'v2.T0LIST0003' }],
    ]);
    expect(await knownWorkspaces(a)).toEqual(['T0LIST0001', 'T0LIST0003']);
  });
});
