/**
 * A modal's signed private_metadata opens only for the form it was written for, in the workspace it
 * was opened for, and for a day: lifted from one form, one workspace or an old modal, it is refused.
 */
import { randomBytes } from 'node:crypto';
import { buildScheduleModal } from '../../src/slack/blocks/schedule-modal.js';
import { DENY_VIEW, SCHEDULE_VIEW, TOKEN_VIEW } from '../../src/slack/ids.js';
import {
  createMetadataSigner,
  METADATA_MAX_AGE_MS,
  withSignedMetadata,
} from '../../src/slack/platform/signed-metadata.js';

const T0 = 1_800_000_000_000;
const HOUR = 3600_000;
const PAYLOAD = '{"c":"C0OPS0001"}';
const schedule = { form: SCHEDULE_VIEW.callbackId, workspaceId: 'T0ACME001' };
const signer = createMetadataSigner({ current: randomBytes(32) });

test('metadata from the token form (or the Deny form) does not open as the scheduling form', () => {
  for (const form of [TOKEN_VIEW.callbackId, DENY_VIEW.callbackId]) {
    const lifted = signer.seal(PAYLOAD, { ...schedule, form }, T0);
    expect(signer.open(lifted, { ...schedule, form }, T0)).toEqual({ ok: true, payload: PAYLOAD });
    expect(signer.open(lifted, schedule, T0)).toEqual({ ok: false, why: 'invalid' });
  }
});

test('metadata from workspace A does not open in workspace B, nor across an organization', () => {
  const inA = signer.seal(PAYLOAD, schedule, T0);
  for (const workspaceId of ['T0OTHER01', 'E0ORG0001', 't0acme001', '']) {
    expect(signer.open(inA, { ...schedule, workspaceId }, T0)).toEqual({ ok: false, why: 'invalid' });
  }
  expect(signer.open(inA, schedule, T0)).toEqual({ ok: true, payload: PAYLOAD });
});

test('metadata opens for 24 hours after it was signed, then is too old; its date cannot be edited', () => {
  expect(METADATA_MAX_AGE_MS).toBe(24 * HOUR);
  const sealed = signer.seal(PAYLOAD, schedule, T0);
  expect(signer.open(sealed, schedule, T0 + 24 * HOUR)).toEqual({ ok: true, payload: PAYLOAD });
  expect(signer.open(sealed, schedule, T0 + 24 * HOUR + 1000)).toEqual({ ok: false, why: 'too_old' });
  expect(signer.open(sealed, schedule, T0 + 365 * 24 * HOUR)).toEqual({ ok: false, why: 'too_old' });
  // A replica whose clock is a little behind still accepts it; a date far ahead is not ours.
  expect(signer.open(sealed, schedule, T0 - 60_000)).toEqual({ ok: true, payload: PAYLOAD });
  expect(signer.open(sealed, schedule, T0 - HOUR)).toEqual({ ok: false, why: 'invalid' });
  const issued = String(T0 / 1000);
  expect(sealed).toContain(`.${issued}.`);
  const redated = sealed.replace(`.${issued}.`, `.${T0 / 1000 + 86_400}.`);
  expect(signer.open(redated, schedule, T0 + 25 * HOUR)).toEqual({ ok: false, why: 'invalid' });
});

test('valid metadata opens with the current key and with an old one; new metadata uses the current key', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const rotated = createMetadataSigner({ current: newKey, old: [oldKey] });
  const beforeRotation = createMetadataSigner({ current: oldKey }).seal(PAYLOAD, schedule, T0);
  expect(rotated.open(beforeRotation, schedule, T0 + HOUR)).toEqual({ ok: true, payload: PAYLOAD });
  // The old key opens only what it was signed for, too.
  expect(rotated.open(beforeRotation, { ...schedule, form: TOKEN_VIEW.callbackId }, T0).ok).toBe(false);
  expect(rotated.open(beforeRotation, schedule, T0 + 25 * HOUR)).toEqual({ ok: false, why: 'too_old' });
  expect(createMetadataSigner({ current: newKey }).open(beforeRotation, schedule, T0).ok).toBe(false);

  const fresh = rotated.seal(PAYLOAD, schedule, T0);
  expect(createMetadataSigner({ current: newKey }).open(fresh, schedule, T0)).toEqual({
    ok: true,
    payload: PAYLOAD,
  });
  expect(createMetadataSigner({ current: oldKey }).open(fresh, schedule, T0).ok).toBe(false);
});

test('withSignedMetadata signs for the view’s own callback_id and the workspace it is opened for', () => {
  const view = withSignedMetadata(signer, buildScheduleModal({ channelId: 'C0OPS0001' }), 'T0ACME001', T0);
  expect(view.callback_id).toBe(SCHEDULE_VIEW.callbackId);
  expect(signer.open(view.private_metadata, schedule, T0)).toEqual({ ok: true, payload: PAYLOAD });
  expect(signer.open(view.private_metadata, { ...schedule, workspaceId: 'T0OTHER01' }, T0).ok).toBe(false);
  // Still well within Slack's 3,000 characters.
  expect(view.private_metadata?.length).toBeLessThan(100);
});
