/**
 * A modal's `private_metadata` comes back from Slack as the bot wrote it, but the bot should not
 * depend on that for authority (it names the channel that is posted to and checked against the
 * channel rule). So it is signed: HMAC-SHA256 with a key derived (HKDF) from the token encryption
 * key, or from the signing secret where no encryption key is configured. Verification also accepts
 * keys derived from the old encryption keys, so a modal opened before a key rotation, or on a
 * replica still running the old key during a rolling deploy, still submits.
 *
 * The signature also covers the form (the view's `callback_id`), the workspace the view was opened
 * for (workspaceIdOf: the organization for an org-wide install, else the team) and when it was
 * signed: metadata lifted from one form does not open in another (the Deny form's names a channel
 * too), nor in another workspace, nor after METADATA_MAX_AGE_MS. Form and workspace are not written
 * into the value: the reader supplies the ones it expects, and a mismatch fails the signature.
 *
 * Format: `v2.<43-character base64url HMAC>.<signed at, unix seconds>.<payload>`; the HMAC is over
 * JSON `["v2", form, workspace, signedAt, payload]`. The unbound `v1.<HMAC>.<payload>` written before
 * is never accepted: when its signature is genuine it reads as too old, so the person is told to
 * open the form again rather than that something is wrong with it.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { types } from '@slack/bolt';

/**
 * How long a form can be sent after the bot last drew it. Slack sets no limit on how long a modal
 * stays open, and people do leave one open over a meeting, lunch or the night; 24 hours covers
 * that in any zone, yet metadata copied out of a modal is worthless by the next day. Each time the
 * bot redraws the form (a policy preview) it signs it again, so a form in use does not age out.
 */
export const METADATA_MAX_AGE_HOURS = 24;
export const METADATA_MAX_AGE_MS = METADATA_MAX_AGE_HOURS * 3600 * 1000;
/** A replica's clock may be behind the one that signed: as much as Slack's own request check allows. */
const CLOCK_SKEW_S = 300;

const VERSION = 'v2';
const INFO = 'katapult-chatops private_metadata v2';
const LEGACY = { version: 'v1', info: 'katapult-chatops private_metadata v1' } as const;
const MAC_LENGTH = 43;
const INVALID = { ok: false, why: 'invalid' } as const;

export type KeyMaterial = Buffer | string;

/** What a modal's metadata is bound to: the form it was written for and the workspace it was opened in. */
export interface MetadataBinding {
  /** The view's `callback_id`. */
  form: string;
  /** workspaceIdOf(context) when the view was opened: the organization for an org-wide install, else the team. */
  workspaceId: string;
}

/**
 * The payload, or why not: `too_old` when the form was signed longer ago than METADATA_MAX_AGE_MS
 * (or before metadata was bound: the person should open the form again), `invalid` when it was not
 * signed by one of our keys for this form and workspace, or was altered.
 */
export type OpenedMetadata = { ok: true; payload: string } | { ok: false; why: 'too_old' | 'invalid' };

export interface MetadataSigner {
  /** `now` (unix ms) is when it is signed: the form can be sent until METADATA_MAX_AGE_MS later. */
  seal(payload: string, binding: MetadataBinding, now: number): string;
  /** `now` (unix ms) is when it is checked. */
  open(sealed: string | undefined, binding: MetadataBinding, now: number): OpenedMetadata;
}

const deriveKey = (material: KeyMaterial, info: string): Buffer =>
  Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), info, 32));

const mac = (key: Buffer, binding: MetadataBinding, signedAt: number, payload: string) =>
  createHmac('sha256', key)
    .update(JSON.stringify([VERSION, binding.form, binding.workspaceId, signedAt, payload]))
    .digest('base64url');

const legacyMac = (key: Buffer, payload: string) =>
  createHmac('sha256', key).update(`${LEGACY.version}.${payload}`).digest('base64url');

function sameMac(expected: string, given: string): boolean {
  const [a, b] = [Buffer.from(expected), Buffer.from(given)];
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `<version>.<mac>.<rest>`, or null when the value does not have that shape. */
function split(sealed: string | undefined, version: string): { mac: string; rest: string } | null {
  if (!sealed?.startsWith(`${version}.`) || sealed[version.length + 1 + MAC_LENGTH] !== '.') return null;
  return {
    mac: sealed.slice(version.length + 1, version.length + 1 + MAC_LENGTH),
    rest: sealed.slice(version.length + 2 + MAC_LENGTH),
  };
}

export function createMetadataSigner(keys: { current: KeyMaterial; old?: KeyMaterial[] }): MetadataSigner {
  const materials = [keys.current, ...(keys.old ?? [])];
  const all = materials.map((m) => deriveKey(m, INFO));
  const legacy = materials.map((m) => deriveKey(m, LEGACY.info));
  const current = all[0] as Buffer;

  function seal(payload: string, binding: MetadataBinding, now: number): string {
    if (!binding.form || !binding.workspaceId)
      throw new Error('private_metadata is signed for a form and a workspace');
    const signedAt = Math.floor(now / 1000);
    return `${VERSION}.${mac(current, binding, signedAt, payload)}.${signedAt}.${payload}`;
  }

  function open(sealed: string | undefined, binding: MetadataBinding, now: number): OpenedMetadata {
    // Nothing is signed for no form or no workspace.
    if (!binding.form || !binding.workspaceId) return INVALID;
    if (sealed?.startsWith(`${LEGACY.version}.`)) return openLegacy(sealed);
    const parts = split(sealed, VERSION);
    const dated = parts && /^(0|[1-9]\d{0,11})\.([\s\S]*)$/.exec(parts.rest);
    if (!parts || !dated) return INVALID;
    const signedAt = Number(dated[1]);
    const payload = dated[2] ?? '';
    if (!all.some((key) => sameMac(mac(key, binding, signedAt, payload), parts.mac))) return INVALID;
    const age = now / 1000 - signedAt;
    if (age < -CLOCK_SKEW_S) return INVALID;
    if (age * 1000 > METADATA_MAX_AGE_MS) return { ok: false, why: 'too_old' };
    return { ok: true, payload };
  }

  /** Metadata from before it was bound is never accepted; a genuine one is only too old. */
  function openLegacy(sealed: string): OpenedMetadata {
    const parts = split(sealed, LEGACY.version);
    const genuine = parts !== null && legacy.some((key) => sameMac(legacyMac(key, parts.rest), parts.mac));
    return genuine ? { ok: false, why: 'too_old' } : INVALID;
  }

  return { seal: seal as MetadataSigner['seal'], open };
}

/**
 * The view with its `private_metadata` (if any) signed for the view's own `callback_id` and the
 * workspace it is opened in, at `now` (unix ms): wrap every modal the bot opens or updates.
 */
export function withSignedMetadata<V extends types.View>(
  signer: MetadataSigner,
  view: V,
  workspaceId: string,
  now: number,
): V {
  if (view.private_metadata === undefined) return view;
  if (!view.callback_id) throw new Error('a modal with private_metadata needs a callback_id to be signed');
  return {
    ...view,
    private_metadata: signer.seal(view.private_metadata, { form: view.callback_id, workspaceId }, now),
  };
}
