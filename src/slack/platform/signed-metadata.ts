/**
 * A modal's `private_metadata` comes back from Slack as the bot wrote it, but the bot should not
 * depend on that for authority (it names the channel that is posted to and checked against the
 * channel rule). So it is signed: HMAC-SHA256 with a key derived (HKDF) from the token encryption
 * key, or from the signing secret where no encryption key is configured. Verification also accepts
 * keys derived from the old encryption keys, so a modal opened before a key rotation, or on a
 * replica still running the old key during a rolling deploy, still submits.
 *
 * Format: `v1.<43-character base64url HMAC>.<payload>`.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { types } from '@slack/bolt';

const VERSION = 'v1';
const INFO = 'katapult-chatops private_metadata v1';
const MAC_LENGTH = 43;

export type KeyMaterial = Buffer | string;

export interface MetadataSigner {
  seal(payload: string): string;
  /** The payload, or undefined when the value was not signed by one of our keys (or was altered). */
  open(sealed: string | undefined): string | undefined;
}

function deriveKey(material: KeyMaterial): Buffer {
  return Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), INFO, 32));
}

const mac = (key: Buffer, payload: string) =>
  createHmac('sha256', key).update(`${VERSION}.${payload}`).digest('base64url');

export function createMetadataSigner(keys: { current: KeyMaterial; old?: KeyMaterial[] }): MetadataSigner {
  const current = deriveKey(keys.current);
  const all = [current, ...(keys.old ?? []).map(deriveKey)];
  return {
    seal: (payload) => `${VERSION}.${mac(current, payload)}.${payload}`,
    open(sealed) {
      if (!sealed?.startsWith(`${VERSION}.`) || sealed[VERSION.length + 1 + MAC_LENGTH] !== '.')
        return undefined;
      const given = Buffer.from(sealed.slice(VERSION.length + 1, VERSION.length + 1 + MAC_LENGTH));
      const payload = sealed.slice(VERSION.length + 2 + MAC_LENGTH);
      const verified = all.some((key) => {
        const expected = Buffer.from(mac(key, payload));
        return expected.length === given.length && timingSafeEqual(expected, given);
      });
      return verified ? payload : undefined;
    },
  };
}

/** The view with its `private_metadata` (if any) signed: wrap every modal the bot opens or updates. */
export function withSignedMetadata<V extends types.View>(signer: MetadataSigner, view: V): V {
  return view.private_metadata === undefined
    ? view
    : { ...view, private_metadata: signer.seal(view.private_metadata) };
}
