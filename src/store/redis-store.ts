/**
 * The Redis backend: Keyv records under `katapult-chatops::…`, claims as `SET katapult-chatops:claim:… NX PX`,
 * and the audit log as one list per workspace (`katapult-chatops:audit:<workspace>`, newest first).
 * Everything goes through one client, which is also the Keyv adapter's. Claims expire on the
 * Redis server's clock; `now` only decides which audit entries are past retention.
 */
import KeyvRedis, { createClient } from '@keyv/redis';
import Keyv from 'keyv';
import { within } from '../deadline.js';
import { createRedisDocs } from './redis-docs.js';
import { roundTripObserver, scriptRunner } from './redis-scripts.js';
import type { AuditEntry, Store } from './store.js';

export interface RedisStoreOptions {
  retentionMs: number;
  maxPerWorkspace: number;
  onError: (error: unknown) => void;
  now?: () => number;
  /** Prefix of every key (default `katapult-chatops`); tests use their own to stay apart. */
  namespace?: string;
  /** Connection timeout, ms (default 5000). */
  connectTimeoutMs?: number;
}

/**
 * Lua: drops entries older than `cutoff` from the tail (the oldest end) of the list at KEYS[1],
 * inside a script, so a concurrent LPUSH can never make it remove a current entry.
 */
const DROP_EXPIRED = (cutoff: string) => `
local cutoff = tonumber(${cutoff})
local removed = 0
while true do
  local tail = redis.call('LINDEX', KEYS[1], -1)
  if not tail then break end
  local ok, entry = pcall(cjson.decode, tail)
  if ok and type(entry) == 'table' and type(entry.at) == 'number' and entry.at >= cutoff then break end
  redis.call('RPOP', KEYS[1])
  removed = removed + 1
end
`;

/** Drops entries past retention (ARGV[1]) from one workspace's list, atomically. */
const TRIM_EXPIRED = `${DROP_EXPIRED('ARGV[1]')}
return removed`;

/**
 * Appends an entry to a workspace's list (newest first), keeps at most ARGV[3] + 1, lets the list
 * expire ARGV[4] ms after its newest entry, and drops what is past retention (ARGV[2]) from the tail:
 * one script, so one round trip and atomic.
 */
const APPEND = `
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
${DROP_EXPIRED('ARGV[2]')}
return 1`;

/** The adapter reconnects on its own when used after `close()`; a closed store must stay closed. */
class ClosableKeyvRedis<T> extends KeyvRedis<T> {
  closed = false;

  override async getClient() {
    if (this.closed) throw new Error('the store is closed');
    return super.getClient();
  }
}

function parseEntry(raw: string): AuditEntry | null {
  try {
    const value = JSON.parse(raw) as unknown;
    return typeof value === 'object' && value !== null && typeof (value as AuditEntry).at === 'number'
      ? (value as AuditEntry)
      : null;
  } catch {
    return null;
  }
}

export async function openRedisStore(url: string, options: RedisStoreOptions): Promise<Store> {
  const now = options.now ?? Date.now;
  const namespace = options.namespace ?? 'katapult-chatops';
  let connected = false;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const client = createClient({
    url,
    // Commands fail at once while the connection is down, instead of queueing past Slack's 3 s.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: connectTimeoutMs,
      // At start, fail fast (the caller reports it); once up, reconnect with a capped backoff.
      reconnectStrategy: (retries: number) => (connected ? Math.min(100 * 2 ** retries, 2000) : false),
    },
  });
  // The adapter listens for the client's 'error' events (which would otherwise crash the process).
  const adapter = new ClosableKeyvRedis(client, {
    namespace,
    throwOnErrors: true,
    throwOnConnectError: true,
  });
  const kv = new Keyv({ store: adapter, namespace, useKeyPrefix: false, throwOnErrors: true });
  kv.on('error', options.onError);

  // `connectTimeout` covers the TCP connection only: a server that accepts and then never answers
  // the handshake (AUTH, SELECT; a hung Redis, a black-holed proxy) would hold the start for ever.
  const connecting = client.connect();
  connecting.catch(() => undefined);
  try {
    if ((await within(connecting, connectTimeoutMs, 'late' as const)) === 'late')
      throw Object.assign(new Error('no answer from Redis'), { code: 'ETIMEDOUT' });
  } catch (error) {
    adapter.closed = true;
    if (client.isOpen) client.destroy();
    throw error;
  }
  connected = true;

  const claimKey = (key: string) => `${namespace}:claim:${key}`;
  const auditKey = (workspace: string) => `${namespace}:audit:${workspace}`;
  const script = scriptRunner(client);
  const trimExpired = (key: string) =>
    script(TRIM_EXPIRED, { keys: [key], arguments: [String(now() - options.retentionMs)] });

  return {
    kv,
    docs: createRedisDocs(client, namespace),
    async claim(key, ttlMs) {
      const reply = await client.set(claimKey(key), '1', {
        condition: 'NX',
        expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) },
      });
      return reply === 'OK';
    },
    async release(key) {
      await client.del(claimKey(key));
    },
    audit: {
      async append(entry: AuditEntry) {
        // A workspace that stops writing loses its whole list once the newest entry is past retention.
        await script(APPEND, {
          keys: [auditKey(entry.workspace)],
          arguments: [
            JSON.stringify(entry),
            String(now() - options.retentionMs),
            String(Math.max(0, options.maxPerWorkspace - 1)),
            String(Math.max(1, options.retentionMs)),
          ],
        });
      },
      async forget(workspace) {
        await client.del(auditKey(workspace));
      },
      async workspaces() {
        const prefix = auditKey('');
        const found: string[] = [];
        for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
          for (const key of [keys].flat()) found.push(String(key).slice(prefix.length));
        }
        return found;
      },
      async recent(workspace, limit) {
        if (limit <= 0) return [];
        const key = auditKey(workspace);
        await trimExpired(key);
        const cutoff = now() - options.retentionMs;
        const rows = await client.lRange(key, 0, limit - 1);
        return rows.flatMap((raw) => {
          const entry = parseEntry(raw);
          return entry && entry.at >= cutoff ? [entry] : [];
        });
      },
    },
    async close() {
      if (adapter.closed) return;
      adapter.closed = true;
      // kv.disconnect() closes the adapter's client, which is this one: the only client opened here.
      await kv.disconnect().catch(() => undefined);
      if (client.isOpen) client.destroy();
    },
    onRoundTrip: roundTripObserver(client),
    // Claims are `SET … PX`: Redis removes each one itself when its TTL passes.
    pruneClaims: async () => 0,
    countClaims: async () => null,
    ...kvCompareAndSet(client, script, (key) => adapter.createKeyPrefix(key, namespace)),
  };
}

/**
 * Writes ARGV[2] to KEYS[1] only if it holds exactly ARGV[1] (a missing key holds nothing), keeping
 * its TTL; 1 when written. A script runs atomically.
 */
const REPLACE_IF_UNCHANGED = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
`;

/** Raw reads and compare-and-set on the Keyv records (under the adapter's `<namespace>::<key>`). */
function kvCompareAndSet(
  client: { get(key: string): Promise<unknown> },
  script: ReturnType<typeof scriptRunner>,
  stored: (key: string) => string,
): Pick<Store, 'kvGetRaw' | 'kvReplaceIfUnchanged'> {
  return {
    async kvGetRaw(key) {
      const value = await client.get(stored(key));
      return typeof value === 'string' ? value : null;
    },
    async kvReplaceIfUnchanged(key, expectedRaw, nextRaw) {
      const reply = await script(REPLACE_IF_UNCHANGED, {
        keys: [stored(key)],
        arguments: [expectedRaw, nextRaw],
      });
      return Number(reply) === 1;
    },
  };
}
