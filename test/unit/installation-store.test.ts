/**
 * The installation store keeps one redacted bot token per installed workspace: replaced on
 * reinstall, dropped on uninstall (src/slack/platform/installation-store.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Installation } from '@slack/bolt';
import Keyv from 'keyv';
import { Redactor } from '../../src/log.js';
import { createInstallationStore } from '../../src/slack/platform/installation-store.js';
import { SecretBox } from '../../src/store/crypto.js';

const installation = (team: string, token: string): Installation<'v2', false> => ({
  team: { id: team, name: team },
  enterprise: undefined,
  user: { id: 'U0INSTALL', token: undefined, scopes: undefined },
  tokenType: 'bot',
  isEnterpriseInstall: false,
  appId: 'A0FAKE001',
  authVersion: 'v2',
  bot: { scopes: ['commands'], token, userId: 'UBOT00001', id: 'BFAKE0001' },
});

test('a bot token is redacted while its installation is in use, and only then', async () => {
  const redactor = new Redactor();
  const store = createInstallationStore(new Keyv(), new SecretBox(randomBytes(32), []), redactor);
  await store.storeInstallation(installation('T0ONE0001', 'old-token-0123456789'));
  expect(redactor.has('old-token-0123456789')).toBe(true);

  await store.storeInstallation(installation('T0ONE0001', 'new-token-0123456789'));
  expect(redactor.has('old-token-0123456789')).toBe(false);
  expect(redactor.has('new-token-0123456789')).toBe(true);

  const fetched = await store.fetchInstallation({
    teamId: 'T0ONE0001',
    isEnterpriseInstall: false,
    enterpriseId: undefined,
  });
  expect(fetched.bot?.token).toBe('new-token-0123456789');

  await store.deleteInstallation({
    teamId: 'T0ONE0001',
    isEnterpriseInstall: false,
    enterpriseId: undefined,
  });
  expect(redactor.has('new-token-0123456789')).toBe(false);
});

test('a token read back from the store (another replica installed it) is redacted', async () => {
  const kv = new Keyv();
  const box = new SecretBox(randomBytes(32), []);
  await createInstallationStore(kv, box, new Redactor()).storeInstallation(
    installation('T0TWO0001', 'other-replica-token-0123'),
  );
  const redactor = new Redactor();
  await createInstallationStore(kv, box, redactor).fetchInstallation({
    teamId: 'T0TWO0001',
    isEnterpriseInstall: false,
    enterpriseId: undefined,
  });
  expect(redactor.has('other-replica-token-0123')).toBe(true);
});
