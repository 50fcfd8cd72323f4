/**
 * What the workers' Web clients read from the installation store: the bot token of a workspace's
 * installation (none once uninstalled), and a word when an installation is stored
 * (src/slack/platform/installation-store.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Installation } from '@slack/bolt';
import Keyv from 'keyv';
import { Redactor } from '../../src/log.js';
import {
  createInstallationStore,
  installedBotToken,
  NoInstallationError,
} from '../../src/slack/platform/installation-store.js';
import { SecretBox } from '../../src/store/crypto.js';

const installation = (token: string, enterprise?: string): Installation<'v2', boolean> => ({
  team: enterprise ? undefined : { id: 'T0ONE0001', name: 'One' },
  enterprise: enterprise ? { id: enterprise, name: 'Grid' } : undefined,
  user: { id: 'U0INSTALL', token: undefined, scopes: undefined },
  tokenType: 'bot',
  isEnterpriseInstall: Boolean(enterprise),
  appId: 'A0FAKE001',
  authVersion: 'v2',
  bot: { scopes: ['commands'], token, userId: 'UBOT00001', id: 'BFAKE0001' },
});

test('storing an installation tells onStored its workspace (the enterprise for an org-wide install)', async () => {
  const stored: string[] = [];
  const store = createInstallationStore(new Keyv(), new SecretBox(randomBytes(32), []), new Redactor(), {
    onStored: (workspaceId) => stored.push(workspaceId),
  });
  await store.storeInstallation(installation('xoxb-first-0123456789'));
  await store.storeInstallation(installation('xoxb-again-0123456789'));
  await store.storeInstallation(installation('xoxb-grid-0123456789', 'E0GRID001'));
  expect(stored).toEqual(['T0ONE0001', 'T0ONE0001', 'E0GRID001']);
});

test('installedBotToken: the stored token, the new one after a reinstall, null once uninstalled', async () => {
  const kv = new Keyv();
  const box = new SecretBox(randomBytes(32), []);
  const store = createInstallationStore(kv, box, new Redactor());
  expect(await installedBotToken(store, 'T0ONE0001')).toBeNull();
  await store.storeInstallation(installation('xoxb-first-0123456789'));
  expect(await installedBotToken(store, 'T0ONE0001')).toBe('xoxb-first-0123456789');
  // Another replica reinstalls: same store, its own instance.
  await createInstallationStore(kv, box, new Redactor()).storeInstallation(
    installation('xoxb-again-0123456789'),
  );
  expect(await installedBotToken(store, 'T0ONE0001')).toBe('xoxb-again-0123456789');
  await store.storeInstallation(installation('xoxb-grid-0123456789', 'E0GRID001'));
  expect(await installedBotToken(store, 'E0GRID001')).toBe('xoxb-grid-0123456789');
  await store.deleteInstallation({
    teamId: 'T0ONE0001',
    enterpriseId: undefined,
    isEnterpriseInstall: false,
  });
  expect(await installedBotToken(store, 'T0ONE0001')).toBeNull();
});

test('a missing installation is a NoInstallationError; a store failure is not taken for one', async () => {
  const store = createInstallationStore(new Keyv(), new SecretBox(randomBytes(32), []), new Redactor());
  await expect(
    store.fetchInstallation({ teamId: 'T0NONE001', enterpriseId: undefined, isEnterpriseInstall: false }),
  ).rejects.toBeInstanceOf(NoInstallationError);
  const broken = {
    fetchInstallation: async () => {
      throw new Error('connection refused');
    },
  };
  await expect(installedBotToken(broken, 'T0ONE0001')).rejects.toThrow('connection refused');
});
