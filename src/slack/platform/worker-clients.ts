/**
 * Web clients for work that runs outside a Slack request: request posts, approvals, reminders and
 * reconcile notes. Every use reads the workspace's bot token (OAuth: its installation in the store,
 * which every replica shares; single workspace: the configured token) and reuses a kept client only
 * if it carries that token. So a reinstall, on this replica or another, is picked up at the next
 * use, and a workspace with no installation (uninstalled, tokens revoked) gets no client at all.
 * The clients of the `max` workspaces used most recently are kept (making one costs no call to
 * Slack). `forget` drops a workspace's client at once: on uninstall, on tokens revoked and when an
 * installation is stored.
 */

export interface WorkerClientsOptions<Client> {
  /** The workspace's bot token now; null or undefined when it has none (no installation). */
  tokenFor(workspaceId: string): Promise<string | null | undefined>;
  /** A new client that authenticates with `token`. */
  makeClient(token: string): Client;
  /** How many workspaces' clients are kept. */
  max: number;
  /** Called by `forget` too, to drop the workspace's clients kept elsewhere (Bolt's pools). */
  onForget?(workspaceId: string): void;
}

export interface WorkerClients<Client> {
  /** The workspace's client, carrying its current bot token; rejects when it has none. */
  clientFor(workspaceId: string): Promise<Client>;
  /** Drops the workspace's client: the next use makes one with the token read then. */
  forget(workspaceId: string): void;
  /** How many clients are kept. */
  readonly size: number;
}

export function createWorkerClients<Client>(options: WorkerClientsOptions<Client>): WorkerClients<Client> {
  /** By workspace, least recently used first. */
  const kept = new Map<string, { token: string; client: Client }>();
  /** Counts `forget` calls: a client made while one ran may carry a token read before it, so it is not kept. */
  let forgets = 0;
  return {
    async clientFor(workspaceId) {
      const seen = forgets;
      const token = await options.tokenFor(workspaceId);
      const cached = kept.get(workspaceId);
      kept.delete(workspaceId);
      if (!token) throw new Error(`no bot token for workspace ${workspaceId}`);
      const client = cached?.token === token ? cached.client : options.makeClient(token);
      if (seen !== forgets) return client;
      kept.set(workspaceId, { token, client });
      if (kept.size > options.max) kept.delete(kept.keys().next().value as string);
      return client;
    },
    forget(workspaceId) {
      forgets++;
      kept.delete(workspaceId);
      options.onForget?.(workspaceId);
    },
    get size() {
      return kept.size;
    },
  };
}
