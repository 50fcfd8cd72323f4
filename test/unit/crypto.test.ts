/** Sealed values: key ids, old keys for rotation, old unversioned values, full-length tags only. */
import { createCipheriv, randomBytes } from 'node:crypto';
import { keyId, SecretBox } from '../../src/store/crypto.js';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const secret = 'kt-secret-token-abcdef';

/** A value in the format written before key ids existed. */
function sealV1(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), ct]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

test('a sealed value names its key by a short id that is not the key', () => {
  const sealed = new SecretBox(newKey).seal(secret, 'token:T1');
  const [version, kid] = sealed.split('.');
  expect(version).toBe('v2');
  expect(kid).toBe(keyId(newKey));
  expect(kid).toMatch(/^[0-9a-f]{8}$/);
  expect(sealed).not.toContain(newKey.toString('base64url'));
  expect(sealed).not.toContain(secret);
});

test('a box with the new key and the old one opens values sealed with either, and seals with the new one', () => {
  const before = new SecretBox(oldKey).seal(secret, 'token:T1');
  const box = new SecretBox(newKey, [oldKey]);
  expect(box.open(before, 'token:T1')).toBe(secret);
  expect(box.isStale(before)).toBe(true);
  const after = box.seal(secret, 'token:T1');
  expect(box.isStale(after)).toBe(false);
  expect(new SecretBox(newKey).open(after, 'token:T1')).toBe(secret);
  expect(() => new SecretBox(oldKey).open(after, 'token:T1')).toThrow(/not among the configured keys/);
});

test('values from before key ids still open, with the current key or an old one', () => {
  expect(new SecretBox(oldKey).open(sealV1(oldKey, secret, 'a'), 'a')).toBe(secret);
  const box = new SecretBox(newKey, [oldKey]);
  expect(box.open(sealV1(oldKey, secret, 'a'), 'a')).toBe(secret);
  expect(box.isStale(sealV1(newKey, secret, 'a'))).toBe(true);
  expect(() => new SecretBox(newKey).open(sealV1(oldKey, secret, 'a'), 'a')).toThrow();
});

test('a truncated authentication tag (4 bytes) does not open, in either format', () => {
  const box = new SecretBox(newKey);
  const v2 = box.seal(secret, 'a').split('.');
  v2[3] = Buffer.from(v2[3] as string, 'base64url')
    .subarray(0, 4)
    .toString('base64url');
  expect(() => box.open(v2.join('.'), 'a')).toThrow(/truncated/);
  // A real 4-byte GCM tag for this ciphertext: without authTagLength pinned, Node would accept it.
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', newKey, iv, { authTagLength: 4 });
  cipher.setAAD(Buffer.from('a'));
  const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  const short = ['v2', keyId(newKey), iv, cipher.getAuthTag(), ct]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
  expect(() => box.open(short, 'a')).toThrow();
  const shortV1 = short.split('.');
  shortV1.splice(1, 1);
  shortV1[0] = 'v1';
  expect(() => box.open(shortV1.join('.'), 'a')).toThrow();
});

test('the AAD still binds a value to its record, and garbage is refused', () => {
  const box = new SecretBox(newKey, [oldKey]);
  expect(() => box.open(box.seal(secret, 'token:T1'), 'token:T2')).toThrow();
  expect(() => box.open('v3.x.y.z', 'a')).toThrow(/unknown format/);
  expect(() => new SecretBox(newKey, [Buffer.alloc(16)])).toThrow(RangeError);
});
