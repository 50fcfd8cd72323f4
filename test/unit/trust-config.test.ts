/**
 * Smaller trust boundaries: API URLs must be https:// except on loopback; old encryption keys still
 * verify a modal's signed metadata after a rotation; request timestamps from the future are refused.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError, parseConfig } from '../../src/config.js';
import { isFromTheFuture } from '../../src/slack/platform/request-time.js';
import { createMetadataSigner } from '../../src/slack/platform/signed-metadata.js';

const base = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'secret' };
const key = () => randomBytes(32).toString('base64');

test.each([
  ['KATAPULT_API_URL', 'http://api.katapult.io/core/v1', false],
  ['SLACK_API_URL', 'http://slack.example.com/api/', false],
  ['KATAPULT_API_URL', 'http://10.0.0.5/core/v1', false],
  ['KATAPULT_API_URL', 'https://api.katapult.io/core/v1', true],
  ['SLACK_API_URL', 'http://127.0.0.1:9/api/', true],
  ['SLACK_API_URL', 'http://localhost:9/api/', true],
  ['KATAPULT_API_URL', 'http://[::1]:8080/core/v1', true],
])('%s=%s accepted: %s', (name, value, ok) => {
  const parse = () => parseConfig({ ...base, [name]: value });
  if (ok) {
    expect(parse).not.toThrow();
  } else {
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/https:\/\//);
  }
});

test('TOKEN_ENCRYPTION_OLD_KEYS: comma-separated 32-byte keys, each checked', () => {
  const [a, b] = [key(), key()];
  const current = key();
  const c = parseConfig({ ...base, TOKEN_ENCRYPTION_KEY: current, TOKEN_ENCRYPTION_OLD_KEYS: `${a}, ${b}` });
  expect(c.oldEncryptionKeys.map((k) => k.toString('base64'))).toEqual([a, b]);
  expect(parseConfig(base).oldEncryptionKeys).toEqual([]);
  expect(() =>
    parseConfig({ ...base, TOKEN_ENCRYPTION_KEY: current, TOKEN_ENCRYPTION_OLD_KEYS: `${a},short` }),
  ).toThrow(/^TOKEN_ENCRYPTION_OLD_KEYS: /);
});

/** Where and when these tests sign and open a modal's metadata (test/unit/signed-metadata.test.ts binds it). */
const FORM = { form: 'katapult_schedule', workspaceId: 'T0ACME001' };
const NOW = 1_800_000_000_000;

test('metadata signed before a key rotation still verifies with the old key listed, and only then', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const sealed = createMetadataSigner({ current: oldKey }).seal('{"c":"C0OPS0001"}', FORM, NOW);
  expect(createMetadataSigner({ current: newKey, old: [oldKey] }).open(sealed, FORM, NOW)).toEqual({
    ok: true,
    payload: '{"c":"C0OPS0001"}',
  });
  expect(createMetadataSigner({ current: newKey }).open(sealed, FORM, NOW).ok).toBe(false);
  // New modals are signed with the new key.
  const fresh = createMetadataSigner({ current: newKey, old: [oldKey] }).seal('x', FORM, NOW);
  expect(createMetadataSigner({ current: newKey }).open(fresh, FORM, NOW)).toEqual({
    ok: true,
    payload: 'x',
  });
  expect(createMetadataSigner({ current: oldKey }).open(fresh, FORM, NOW).ok).toBe(false);
});

test('signed metadata: any edit, truncation or garbage fails to verify; the signature fits Slack', () => {
  const signer = createMetadataSigner({ current: 'a-signing-secret-without-an-encryption-key' });
  const sealed = signer.seal('{"c":"C0OPS0001"}', FORM, NOW);
  expect(sealed.length).toBeLessThan(100);
  for (const bad of [
    sealed.replace('C0OPS0001', 'C0OTHER01'),
    sealed.slice(0, -1),
    `${sealed} `,
    sealed.replace(/^v2\./, 'v1.'),
    sealed.replace(/^v2\./, 'v3.'),
    '{"c":"C0OPS0001"}',
    '',
    undefined,
  ]) {
    expect(signer.open(bad, FORM, NOW)).toEqual({ ok: false, why: 'invalid' });
  }
});

test('a request timestamp more than 5 minutes ahead is from the future; now and the past are not', () => {
  const now = 1_800_000_000_000;
  const seconds = now / 1000;
  expect(isFromTheFuture(String(seconds + 600), now)).toBe(true);
  expect(isFromTheFuture(String(seconds + 301), now)).toBe(true);
  expect(isFromTheFuture(String(seconds + 300), now)).toBe(false);
  expect(isFromTheFuture(String(seconds - 600), now)).toBe(false);
  expect(isFromTheFuture(undefined, now)).toBe(false);
});
