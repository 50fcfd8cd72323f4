/**
 * Bolt's InstallationStore on the bot's own store, for multi-workspace (OAuth) installs. The whole
 * installation (bot token included) is sealed with AES-256-GCM like Katapult tokens. Org-wide
 * installs are keyed by enterprise ID, others by team ID: the same key the rest of the bot uses.
 * Each installation's bot token is redacted from the log while the installation is in use: one entry
 * per workspace in the redactor, replaced on reinstall and dropped on uninstall, so the list does not
 * grow with reinstalls or uninstalled workspaces.
 * `onStored` is told the workspace of every installation stored (a new install or a reinstall), so
 * that what was kept for its previous token can be dropped.
 */
import type { Installation, InstallationQuery, InstallationStore } from '@slack/bolt';
import type Keyv from 'keyv';
import type { Redactor } from '../../log.js';
import type { SecretBox } from '../../store/crypto.js';

export function installationKey(query: {
  isEnterpriseInstall?: boolean | undefined;
  enterpriseId?: string | undefined;
  teamId?: string | undefined;
}): string {
  const id =
    query.isEnterpriseInstall && query.enterpriseId
      ? query.enterpriseId
      : (query.teamId ?? query.enterpriseId);
  if (!id) throw new Error('installation has neither a team nor an enterprise ID');
  return `installation:${id}`;
}

/** What `fetchInstallation` throws for a workspace with no stored installation. */
export class NoInstallationError extends Error {
  constructor(readonly workspaceId: string) {
    super(`no installation for ${workspaceId}`);
    this.name = 'NoInstallationError';
  }
}

export function createInstallationStore(
  kv: Keyv,
  box: SecretBox,
  redactor: Redactor,
  hooks: { onStored?(workspaceId: string): void } = {},
): InstallationStore & Required<Pick<InstallationStore, 'deleteInstallation'>> {
  return {
    async storeInstallation(installation: Installation) {
      const key = installationKey({
        isEnterpriseInstall: installation.isEnterpriseInstall,
        enterpriseId: installation.enterprise?.id,
        teamId: installation.team?.id,
      });
      if (installation.bot?.token) redactor.remember(key, installation.bot.token);
      await kv.set(key, { sealed: box.seal(JSON.stringify(installation), key) });
      hooks.onStored?.(key.slice('installation:'.length));
    },
    async fetchInstallation(query: InstallationQuery<boolean>) {
      const key = installationKey(query);
      const record: unknown = await kv.get(key);
      const sealed = (record as { sealed?: unknown } | undefined)?.sealed;
      if (typeof sealed !== 'string') throw new NoInstallationError(key.slice('installation:'.length));
      const installation = JSON.parse(box.open(sealed, key)) as Installation<'v1' | 'v2', boolean>;
      if (installation.bot?.token) redactor.remember(key, installation.bot.token);
      return installation;
    },
    async deleteInstallation(query: InstallationQuery<boolean>) {
      const key = installationKey(query);
      await kv.delete(key);
      redactor.forget(key);
    },
  };
}

/**
 * The bot token of the workspace's installation (a workspace ID is the enterprise for org-wide
 * installs, else the team), or null when none is stored. Other failures (the store) are thrown.
 */
export async function installedBotToken(
  store: Pick<InstallationStore, 'fetchInstallation'>,
  workspaceId: string,
): Promise<string | null> {
  try {
    const installation = await store.fetchInstallation({
      teamId: workspaceId,
      enterpriseId: workspaceId,
      isEnterpriseInstall: workspaceId.startsWith('E'),
    });
    return installation.bot?.token ?? null;
  } catch (error) {
    if (error instanceof NoInstallationError) return null;
    throw error;
  }
}
