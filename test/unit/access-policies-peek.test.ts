/**
 * `peek` on the access policies (src/access/access-policy.ts): what `get` would answer from its
 * cache, without reading the store, or undefined when `get` would read it. The submission writes
 * its record along with the gate's reads only when `peek` has the policy.
 */
import Keyv from 'keyv';
import { createAccessPolicies, defaultPolicy } from '../../src/access/access-policy.js';

test('undefined before a read and after the cache time; the stored policy or the default in between', async () => {
  let now = 1_000;
  const kv = new Keyv();
  const reads: string[] = [];
  const get = kv.get.bind(kv);
  kv.get = ((key: string) => {
    reads.push(key);
    return get(key);
  }) as typeof kv.get;
  const access = createAccessPolicies(kv, 'admins', { cacheMs: 5_000, now: () => now });

  expect(access.peek('T1')).toBeUndefined();
  await access.get('T1');
  expect(access.peek('T1')).toEqual(defaultPolicy('admins'));
  now += 4_999;
  expect(access.peek('T1')).toEqual(defaultPolicy('admins'));
  now += 1;
  expect(access.peek('T1')).toBeUndefined();
  expect(reads).toEqual(['access:T1']); // peek never reads

  const everyone = { ...defaultPolicy('everyone'), updatedBy: 'U1', updatedAt: now };
  await access.set('T1', everyone);
  expect(access.peek('T1')).toBeUndefined(); // a change made here is read anew
  await access.get('T1');
  expect(access.peek('T1')).toEqual(everyone);
  expect(access.peek('T2')).toBeUndefined();
});
