/**
 * A numbered Redis database (1-14) that one test run holds on its own, on a shared server: 0 is the
 * other suites', 15 the benchmark's. A run claims an empty database by writing a marker, keeps it
 * alive while it runs, and empties it at the end. A database whose run died (a marker no longer
 * kept alive) is emptied and claimed again, so no run's leftovers fill the server for the next.
 * A database that holds anything else (no marker) is someone's data: never read, never emptied.
 */
import { randomBytes, randomInt } from 'node:crypto';

/** The run's marker, and the key it keeps alive (gone within a minute of the run's death). */
export const MARKER = 'katapult-test-scratch';
export const ALIVE = 'katapult-test-scratch:alive';
const ALIVE_MS = 60_000;
const DATABASES = Array.from({ length: 14 }, (_, i) => i + 1);

// Atomic, so two runs cannot both take the same database. 1: empty and taken; 2: abandoned by a
// run that died, emptied and taken; 0: in use, or someone's data.
const CLAIM = `
local size = redis.call('DBSIZE')
local abandoned = size > 0 and redis.call('EXISTS', KEYS[1]) == 1 and redis.call('EXISTS', KEYS[2]) == 0
if size > 0 and not abandoned then return 0 end
if abandoned then redis.call('FLUSHDB') end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
if abandoned then return 2 end
return 1`;
const KEEP_ALIVE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1`;
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('FLUSHDB')
return 1`;

export interface ScratchRedis {
  url: string;
  /** Empties the database (if this run still holds it) and closes the connection; once. */
  drop(): Promise<void>;
}

/**
 * Claims one of `databases` on the Redis server at `serverUrl`; fails, saying why, when none is
 * free.
 */
export async function scratchRedis(serverUrl: string, databases = DATABASES): Promise<ScratchRedis> {
  const { createClient } = await import('@keyv/redis');
  const run = `${process.pid}:${randomBytes(6).toString('hex')}`;
  const start = randomInt(databases.length); // runs in parallel start apart
  for (let i = 0; i < databases.length; i++) {
    const db = databases[(start + i) % databases.length];
    const url = new URL(serverUrl);
    url.pathname = `/${db}`;
    const client = createClient({ url: url.toString() });
    client.on('error', () => undefined);
    await client.connect();
    const taken = await client.eval(CLAIM, { keys: [MARKER, ALIVE], arguments: [run, String(ALIVE_MS)] });
    if (taken === 0) {
      client.destroy();
      continue;
    }
    const timer = setInterval(() => {
      client
        .eval(KEEP_ALIVE, { keys: [MARKER, ALIVE], arguments: [run, String(ALIVE_MS)] })
        .catch(() => undefined);
    }, ALIVE_MS / 4);
    timer.unref();
    let dropped = false;
    return {
      url: url.toString(),
      async drop() {
        clearInterval(timer);
        if (dropped) return;
        dropped = true;
        try {
          await client.eval(RELEASE, { keys: [MARKER], arguments: [run] });
        } finally {
          client.destroy();
        }
      },
    };
  }
  throw new Error(
    `no free Redis database (${databases.join(', ')}) at ${new URL(serverUrl).host}: each holds another run's ` +
      "or someone else's keys. Empty one that is yours (redis-cli -n N FLUSHDB) or point TEST_REDIS_URL at another server",
  );
}
