/**
 * Bolt keeps a Web client for every workspace it has served (`App.clients`: one pool per team or
 * enterprise ID, one client per token in it) for the life of the process. A client weighs about
 * 26 KB, so 10,000 workspaces would hold some 250 MB. `boundClientPools` keeps the pools of the `max`
 * workspaces seen most recently and drops the others. Register its middleware before the listeners.
 *
 * A workspace's pool is made at its second request among the last `max * 10` workspaces seen, and
 * serves it from the third: with traffic spread over thousands of workspaces, a client kept for a
 * workspace that does not come back soon lives long enough to reach V8's old generation, then is
 * dropped there (a full GC's work). Until then its requests get a client from `cold`
 * (src/slack/platform/token-client.ts: calls through one shared Web client with the workspace's
 * token), so none is made for them at all.
 */
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { webApi } from '../bolt.js';
import type { TokenClient } from './token-client.js';

/** What Bolt asks of `App.clients[key]`: a client for the token its `authorize` read. */
interface Pool {
  getOrCreate(token: string, options: webApi.WebClientOptions): webApi.WebClient;
}

/** A kept workspace's clients, one per token, as Bolt's own pool keeps them. */
class KeptPool implements Pool {
  private readonly clients = new Map<string, webApi.WebClient>();
  getOrCreate(token: string, options: webApi.WebClientOptions): webApi.WebClient {
    const kept = this.clients.get(token);
    if (kept) return kept;
    const client = new webApi.WebClient(token, options);
    this.clients.set(token, client);
    return client;
  }
}

export function boundClientPools(app: object, max: number, cold: TokenClient): Middleware<AnyMiddlewareArgs> {
  // No prototype: a key is only ever a pool kept here (a team ID cannot reach Object.prototype).
  const kept: Record<string, Pool> = Object.create(null);
  // Bolt reads `clients[teamId]` (or the enterprise ID) when a request comes, before any middleware,
  // and writes a pool of its own there only when it reads none.
  const coldPool: Pool = { getOrCreate: (token, options) => cold(token, { teamId: options.teamId }) };
  (app as { clients: Record<string, Pool> }).clients = new Proxy(kept, {
    get: (pools, key) => (typeof key === 'string' && Object.hasOwn(pools, key) ? pools[key] : coldPool),
  });
  /** Workspace keys whose pools are kept, least recently seen first. */
  const seen = new Map<string, true>();
  /** Workspaces seen once, whose pools were not kept, oldest first. */
  const once = new Set<string>();
  return async ({ context, next }) => {
    const key = context.teamId ?? context.enterpriseId;
    if (key) {
      if (seen.delete(key) || once.delete(key)) {
        seen.set(key, true);
        kept[key] ??= new KeptPool();
        if (seen.size > max) {
          const oldest = seen.keys().next().value as string;
          seen.delete(oldest);
          delete kept[oldest];
        }
      } else {
        // First seen (or not for a while): this request had a client from `cold`; nothing is kept.
        once.add(key);
        if (once.size > max * 10) once.delete(once.values().next().value as string);
      }
    }
    await next();
  };
}

/**
 * Drops the kept pool of a workspace (on uninstall, tokens revoked, reinstall). Bolt picks a client
 * by the token its `authorize` has just read from the installation store, so a client with an old
 * token is never used again; it is only kept, with the token, until the bound above drops the pool,
 * and an active workspace's pool never is. Org-wide installs: Bolt keys their pools by each request's
 * team, which the workspace (enterprise) ID does not name; those are left to the bound.
 */
export function dropClientPool(app: object, workspaceId: string): void {
  const pools = (app as { clients?: Record<string, unknown> }).clients;
  if (pools) delete pools[workspaceId];
}
