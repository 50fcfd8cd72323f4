/**
 * The lease documents (docs.ts) on Redis: a hash per document and three sorted sets per collection
 * (by partition, the active ones, every key). Every write is one Lua script, so it is atomic, and
 * leases are judged by the Redis server's clock (`TIME`).
 */
import type { RedisClientType } from '@keyv/redis';
import { aroundCount, type DocRow, type Docs } from './docs.js';
import { scriptRunner } from './redis-scripts.js';

/** Shared Lua prelude: the server's clock, and the index keys of a document. */
const PRELUDE = `
local function now() local t = redis.call('TIME') return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
local ns, coll = ARGV[1], ARGV[2]
local function doc(k) return ns .. ':doc:' .. coll .. ':' .. k end
local function part(p) return ns .. ':part:' .. coll .. ':' .. p end
local active = ns .. ':active:' .. coll
local all = ns .. ':keys:' .. coll
local function index(k, p, s, a)
  redis.call('ZADD', part(p), s, k)
  redis.call('ZADD', all, 0, k)
  if a == '1' then redis.call('ZADD', active, s, k) else redis.call('ZREM', active, k) end
end
local function drop(k)
  local p = redis.call('HGET', doc(k), 'p')
  if p then redis.call('ZREM', part(p), k) end
  redis.call('ZREM', active, k)
  redis.call('ZREM', all, k)
  redis.call('DEL', doc(k))
end
`;

const INSERT = `${PRELUDE}
local k, p, s, a, b, owner, ttl = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9])
if redis.call('EXISTS', doc(k)) == 1 then return 0 end
redis.call('HSET', doc(k), 'p', p, 's', s, 'a', a, 'b', b)
if owner ~= '' then redis.call('HSET', doc(k), 'o', owner, 'e', now() + ttl) end
index(k, p, s, a)
return 1`;

const UPSERT = `${PRELUDE}
local k, p, s, a, b = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local old = redis.call('HGET', doc(k), 'p')
if old and old ~= p then redis.call('ZREM', part(old), k) end
redis.call('HSET', doc(k), 'p', p, 's', s, 'a', a, 'b', b)
index(k, p, s, a)
return 1`;

/** The old count is read from the stored body; the new body is the caller's, around the new count. */
const INCREMENT = `${PRELUDE}
local k, p, s, a, field, head, tail = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local h = redis.call('HMGET', doc(k), 'p', 'b')
local n = 1
if h[2] then
  local ok, body = pcall(cjson.decode, h[2])
  if ok and type(body) == 'table' and tonumber(body[field]) then n = math.floor(tonumber(body[field])) + 1 end
end
if h[1] and h[1] ~= p then redis.call('ZREM', part(h[1]), k) end
redis.call('HSET', doc(k), 'p', p, 's', s, 'a', a, 'b', head .. string.format('%d', n) .. tail)
index(k, p, s, a)
return n`;

const UPDATE = `${PRELUDE}
local k, owner, b, s, a = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if redis.call('HGET', doc(k), 'o') ~= owner then return 0 end
local cur = redis.call('HMGET', doc(k), 'p', 's', 'a')
if s == '' then s = cur[2] end
if a == '' then a = cur[3] end
redis.call('HSET', doc(k), 's', s, 'a', a, 'b', b)
index(k, cur[1], s, a)
return 1`;

const LEASE = `${PRELUDE}
local k, owner, ttl = ARGV[3], ARGV[4], tonumber(ARGV[5])
local h = redis.call('HMGET', doc(k), 'a', 'o', 'e')
if h[1] ~= '1' then return false end
local t = now()
if h[2] and h[2] ~= owner and h[3] and tonumber(h[3]) > t then return false end
redis.call('HSET', doc(k), 'o', owner, 'e', t + ttl)
return redis.call('HGETALL', doc(k))`;

const RELEASE = `${PRELUDE}
local k, owner, remove = ARGV[3], ARGV[4], ARGV[5]
if redis.call('HGET', doc(k), 'o') ~= owner then return 0 end
if remove == '1' then drop(k) else redis.call('HDEL', doc(k), 'o', 'e') end
return 1`;

const EXPIRED = `${PRELUDE}
local limit, t, out = tonumber(ARGV[3]), now(), {}
for _, k in ipairs(redis.call('ZRANGE', active, 0, 999)) do
  local e = redis.call('HGET', doc(k), 'e')
  if not e or tonumber(e) <= t then out[#out + 1] = k end
  if #out >= limit then break end
end
return out`;

const REMOVE = `${PRELUDE}
drop(ARGV[3])
return 1`;

const REMOVE_PARTITION = `${PRELUDE}
for _, k in ipairs(redis.call('ZRANGE', part(ARGV[3]), 0, -1)) do drop(k) end
redis.call('DEL', part(ARGV[3]))
return 1`;

const TRIM = `${PRELUDE}
local p, before, keep = ARGV[3], ARGV[4], tonumber(ARGV[5])
for _, k in ipairs(redis.call('ZRANGEBYSCORE', part(p), '-inf', '(' .. before)) do drop(k) end
local n = redis.call('ZCARD', part(p))
if n > keep then
  for _, k in ipairs(redis.call('ZRANGE', part(p), 0, n - keep - 1)) do drop(k) end
end
return 1`;

const REMOVE_IF_UNCHANGED = `${PRELUDE}
local k, s, b = ARGV[3], ARGV[4], ARGV[5]
local h = redis.call('HMGET', doc(k), 's', 'b')
if not h[1] or tonumber(h[1]) ~= tonumber(s) or h[2] ~= b then return 0 end
drop(k)
return 1`;

const INSERT_STAMPED = `${PRELUDE}
local k, p, a, b, owner, ttl = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8])
if redis.call('EXISTS', doc(k)) == 1 then return false end
local t = now()
redis.call('HSET', doc(k), 'p', p, 's', t, 'a', a, 'b', b)
if owner ~= '' then redis.call('HSET', doc(k), 'o', owner, 'e', t + ttl) end
index(k, p, t, a)
return t`;

const REPLACE_IF_UNCHANGED = `${PRELUDE}
local k, p, s, a, b, expect, seen = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local cur = redis.call('HMGET', doc(k), 'p', 'b')
if expect == '1' then
  if cur[2] ~= seen then return 0 end
elseif cur[1] then
  return 0
end
if cur[1] and cur[1] ~= p then redis.call('ZREM', part(cur[1]), k) end
redis.call('HSET', doc(k), 'p', p, 's', s, 'a', a, 'b', b)
index(k, p, s, a)
return 1`;

function toDoc(key: string, flat: string[]): DocRow | null {
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i] as string] = flat[i + 1] as string;
  if (h.p === undefined || h.b === undefined) return null;
  return {
    key,
    partition: h.p,
    sort: Number(h.s),
    active: h.a === '1',
    leaseOwner: h.o ?? null,
    leaseExpiresAt: h.e === undefined ? null : Number(h.e),
    body: h.b,
  };
}

export function createRedisDocs(client: RedisClientType, namespace: string): Docs {
  const ns = `${namespace}:docs`;
  const evalScript = scriptRunner(client);
  const script = (lua: string, coll: string, ...args: (string | number)[]) =>
    evalScript(lua, { keys: [], arguments: [ns, coll, ...args.map(String)] });
  const docKey = (coll: string, key: string) => `${ns}:doc:${coll}:${key}`;
  const getDoc = async (coll: string, key: string) => {
    const h = await client.hGetAll(docKey(coll, key));
    return toDoc(key, Object.entries(h).flat());
  };

  return {
    async insert(coll, doc) {
      const reply = await script(
        INSERT,
        coll,
        doc.key,
        doc.partition,
        doc.sort,
        doc.active ? '1' : '0',
        doc.body,
        doc.lease?.owner ?? '',
        doc.lease?.ttlMs ?? 0,
      );
      return Number(reply) === 1;
    },
    get: getDoc,
    async upsert(coll, doc) {
      await script(UPSERT, coll, doc.key, doc.partition, doc.sort, doc.active ? '1' : '0', doc.body);
    },
    async increment(coll, doc, field) {
      const { head, tail } = aroundCount(doc.body, field);
      const active = doc.active ? '1' : '0';
      return Number(
        await script(INCREMENT, coll, doc.key, doc.partition, doc.sort, active, field, head, tail),
      );
    },
    async update(coll, key, owner, changes) {
      const active = changes.active === undefined ? '' : changes.active ? '1' : '0';
      const reply = await script(UPDATE, coll, key, owner, changes.body, changes.sort ?? '', active);
      return Number(reply) === 1;
    },
    async lease(coll, key, owner, ttlMs) {
      const reply = (await script(LEASE, coll, key, owner, Math.max(1, Math.ceil(ttlMs)))) as string[] | null;
      return reply ? toDoc(key, reply) : null;
    },
    async release(coll, key, owner, options) {
      await script(RELEASE, coll, key, owner, options?.remove ? '1' : '0');
    },
    async expired(coll, limit) {
      return (await script(EXPIRED, coll, limit)) as string[];
    },
    async list(coll, partition, options) {
      const part = `${ns}:part:${coll}:${partition}`;
      const limit = { LIMIT: { offset: options.offset ?? 0, count: options.limit } };
      const keys = options.newestFirst
        ? await client.zRange(part, '+inf', options.minSort ?? '-inf', { BY: 'SCORE', REV: true, ...limit })
        : await client.zRangeByScore(part, options.minSort ?? '-inf', '+inf', limit);
      const docs = await Promise.all(keys.map((k) => getDoc(coll, k)));
      return docs.filter((d): d is DocRow => d !== null);
    },
    async keys(coll, options) {
      return client.zRangeByLex(`${ns}:keys:${coll}`, options.afterKey ? `(${options.afterKey}` : '-', '+', {
        LIMIT: { offset: 0, count: options.limit },
      });
    },
    async remove(coll, key) {
      await script(REMOVE, coll, key);
    },
    async removePartition(coll, partition) {
      await script(REMOVE_PARTITION, coll, partition);
    },
    async trim(coll, partition, options) {
      await script(TRIM, coll, partition, options.beforeSort, options.keep);
    },
    async activeStats(coll) {
      const key = `${ns}:active:${coll}`;
      const [count, first] = await Promise.all([client.zCard(key), client.zRangeWithScores(key, 0, 0)]);
      return { count, oldestSort: first[0]?.score ?? null };
    },
    async count(coll, options) {
      const n = await client.zCard(`${ns}:keys:${coll}`);
      return Math.min(n, Math.max(0, Math.floor(options?.max ?? Number.MAX_SAFE_INTEGER)));
    },
    async removeIfUnchanged(coll, key, seen) {
      return Number(await script(REMOVE_IF_UNCHANGED, coll, key, seen.sort, seen.body)) === 1;
    },
    async insertStamped(coll, doc) {
      const reply = await script(
        INSERT_STAMPED,
        coll,
        doc.key,
        doc.partition,
        doc.active ? '1' : '0',
        doc.body,
        doc.lease?.owner ?? '',
        doc.lease?.ttlMs ?? 0,
      );
      return reply === null ? null : Number(reply);
    },
    async replaceIfUnchanged(coll, doc, seen) {
      const reply = await script(
        REPLACE_IF_UNCHANGED,
        coll,
        doc.key,
        doc.partition,
        doc.sort,
        doc.active ? '1' : '0',
        doc.body,
        seen ? '1' : '0',
        seen?.body ?? '',
      );
      return Number(reply) === 1;
    },
  };
}
