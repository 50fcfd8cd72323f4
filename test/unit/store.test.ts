/** Token storage on a real in-memory Keyv: sealed at rest, bound to its workspace, fresh nonce per write. */
import { randomBytes } from 'node:crypto';
import Keyv from 'keyv';
import { SecretBox } from '../../src/store/crypto.js';
import { createTokenStore } from '../../src/store/token-store.js';

const box = new SecretBox(randomBytes(32));
const token = 'kt-secret-token-abcdef';

test('round-trips, and the raw stored value does not contain the token', async () => {
  const kv = new Keyv();
  const store = createTokenStore(kv, box);
  await store.set('T1', {
    token,
    setBy: 'U1',
    setAt: 100,
    organizationName: 'Acme',
    organizationId: 'org_1',
  });
  expect((await store.get('T1'))?.token).toBe(token);
  expect(await store.status('T1')).toEqual({
    last4: 'cdef',
    setBy: 'U1',
    setAt: 100,
    organizationName: 'Acme',
    organizationId: 'org_1',
  });
  expect(JSON.stringify(await kv.get('token:T1'))).not.toContain(token);
  expect(await store.remove('T1')).toBe(true);
  expect(await store.get('T1')).toBeNull();
});

test('every write uses a fresh nonce', () => {
  expect(box.seal(token, 'a')).not.toBe(box.seal(token, 'a'));
});

test('a sealed value does not open under another workspace, another key, or after tampering', async () => {
  const sealed = box.seal(token, 'token:T1');
  expect(() => box.open(sealed, 'token:T2')).toThrow();
  expect(() => new SecretBox(randomBytes(32)).open(sealed, 'token:T1')).toThrow();
  const parts = sealed.split('.');
  parts[3] = Buffer.from('tampered').toString('base64url');
  expect(() => box.open(parts.join('.'), 'token:T1')).toThrow();
});
