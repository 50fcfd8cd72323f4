/**
 * The Redis databases the crash-recovery, store-statement and simulated-year suites hold: a run
 * gets one no other run holds, leaves it empty, takes back one whose run died, and never touches
 * a database that holds someone else's keys.
 */
import { createClient } from '@keyv/redis';
import { ALIVE, MARKER, type ScratchRedis, scratchRedis } from '../../support/scratch-redis.js';
import { describeWithService, serviceUrl } from '../helpers/services.js';

const database = (scratch: ScratchRedis) => Number(new URL(scratch.url).pathname.slice(1));

describeWithService('redis', 'Redis scratch databases', () => {
  const held: ScratchRedis[] = [];
  const clients: { destroy(): void }[] = [];
  afterEach(async () => {
    for (const scratch of held.splice(0)) await scratch.drop();
    for (const client of clients.splice(0)) client.destroy();
  });
  /** A plain client on the scratch database, closed after the test. */
  const open = async (url: string) => {
    const client = createClient({ url });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    return client;
  };
  const claim = async (databases?: number[]) => {
    const scratch = await scratchRedis(serviceUrl('redis'), databases);
    held.push(scratch);
    return scratch;
  };

  test('two runs get two databases in 1-14, each left empty by its drop', async () => {
    const [a, b] = await Promise.all([claim(), claim()]);
    expect(database(a)).not.toBe(database(b));
    for (const scratch of [a, b]) expect(database(scratch)).toBeGreaterThanOrEqual(1);
    for (const scratch of [a, b]) expect(database(scratch)).toBeLessThanOrEqual(14);
    const client = await open(a.url);
    await client.set('katapult-chatops::left-over', 'x');
    await a.drop(); // once: afterEach's drop of it does nothing
    expect(await client.dbSize()).toBe(0);
  });

  test("a database whose run died is emptied and taken again; the dead run's drop leaves it alone", async () => {
    const dead = await claim();
    const client = await open(dead.url);
    await client.set('katapult-chatops::left-over', 'x');
    await expect(claim([database(dead)])).rejects.toThrow(/no free Redis database/); // still alive
    await client.del(ALIVE); // what a minute without the dead run's keep-alive leaves
    const next = await claim([database(dead)]);
    expect(next.url).toBe(dead.url);
    expect(await client.exists('katapult-chatops::left-over')).toBe(0);
    await client.set('katapult-chatops::next-run', 'y');
    await dead.drop(); // no longer its database: nothing is emptied
    expect(await client.exists('katapult-chatops::next-run')).toBe(1);
  });

  test("a database with someone else's keys (no marker) is never taken nor emptied", async () => {
    const mine = await claim();
    const client = await open(mine.url);
    try {
      await client.del([MARKER, ALIVE]); // now it looks like someone's data
      await client.set('someone-else', 'keep');
      await expect(claim([database(mine)])).rejects.toThrow(/no free Redis database \(\d+\)/);
      await mine.drop();
      expect(await client.get('someone-else')).toBe('keep');
    } finally {
      await client.flushDb(); // it was this test's own database all along
    }
  });
});
