/**
 * AES-256-GCM for secrets at rest. Every `seal` draws a fresh 96-bit nonce; the additional data
 * (AAD) binds a ciphertext to the record it belongs to, so a value copied under another key fails to open.
 *
 * Format `v2.<kid>.<iv>.<tag>.<ciphertext>`: `kid` names the key that sealed it (a short hash, not
 * the key), so a box holding the current key and older ones (key rotation) opens each value with
 * the right key. Values from before key ids (`v1.<iv>.<tag>.<ciphertext>`) still open: every key
 * held is tried. The tag is always the full 16 bytes; a shorter one is refused.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const V1 = 'v1';
const V2 = 'v2';
const TAG_BYTES = 16;

/** A short public name for a key: 8 hex characters of a SHA-256 over a fixed label and the key. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('katapult-chatops key id\0').update(key).digest('hex').slice(0, 8);
}

export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  /** Id of the key new values are sealed with. */
  readonly currentKeyId: string;

  /** `key` seals and opens; `oldKeys` only open (values sealed before a rotation). */
  constructor(
    private readonly key: Buffer,
    oldKeys: readonly Buffer[] = [],
  ) {
    for (const k of [key, ...oldKeys]) {
      if (k.length !== 32) throw new RangeError('SecretBox needs 32-byte keys');
    }
    this.currentKeyId = keyId(key);
    this.keys = new Map([key, ...oldKeys].reverse().map((k) => [keyId(k), k]));
  }

  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      V2,
      this.currentKeyId,
      ...[iv, cipher.getAuthTag(), ciphertext].map((p) => p.toString('base64url')),
    ].join('.');
  }

  /** Throws when the value was not sealed with a key held here and this AAD (wrong key, tampering, moved record). */
  open(sealed: string, aad: string): string {
    const parts = sealed.split('.');
    if (parts[0] === V2 && parts.length === 5) {
      const key = this.keys.get(parts[1] as string);
      if (!key) throw new Error(`sealed with key ${parts[1]}, which is not among the configured keys`);
      return decrypt(key, parts.slice(2) as [string, string, string], aad);
    }
    if (parts[0] === V1 && parts.length === 4) {
      // No key id: try each key held, current first.
      for (const key of [this.key, ...[...this.keys.values()].filter((k) => k !== this.key)]) {
        try {
          return decrypt(key, parts.slice(1) as [string, string, string], aad);
        } catch {
          // next key
        }
      }
      throw new Error('sealed value does not open with any configured key');
    }
    throw new Error('sealed value has an unknown format');
  }

  /** True when the value is not sealed with the current key in the current format (rotate-key re-seals it). */
  isStale(sealed: string): boolean {
    return !sealed.startsWith(`${V2}.${this.currentKeyId}.`);
  }
}

function decrypt(key: Buffer, [iv, tag, ciphertext]: [string, string, string], aad: string): string {
  const tagBytes = Buffer.from(tag, 'base64url');
  if (tagBytes.length !== TAG_BYTES) throw new Error('sealed value has a truncated authentication tag');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tagBytes);
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString(
    'utf8',
  );
}
