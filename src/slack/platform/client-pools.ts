/**
 * Bolt keeps a Web client for every workspace it has served (`App.clients`: one pool per team or
 * enterprise ID, one client per token in it) for the life of the process. A client weighs about
 * 26 KB, so 10,000 workspaces would hold some 250 MB. This middleware keeps the pools of the `max`
 * workspaces seen most recently and drops the others; a dropped workspace gets a new client on its
 * next request (made locally: no call to Slack). Register it before the listeners.
 *
 * A workspace's pool is kept from its second request among the last `max * 10` workspaces seen: with
 * traffic spread over thousands of workspaces, a client kept for a workspace that does not come back
 * soon lives long enough to reach V8's old generation, then is dropped there (a full GC's work); not
 * kept, it dies young with its request.
 */
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';

/** How many requests between sweeps for pools kept under a key this middleware did not see. */
const SWEEP_EVERY = 256;

export function boundClientPools(app: object, max: number): Middleware<AnyMiddlewareArgs> {
  /** Workspace keys whose pools are kept, least recently seen first. */
  const seen = new Map<string, true>();
  /** Workspaces seen once, whose pools were not kept, oldest first. */
  const once = new Set<string>();
  let requests = 0;
  return async ({ context, next }) => {
    const pools = (app as { clients?: Record<string, unknown> }).clients;
    const key = context.teamId ?? context.enterpriseId;
    if (pools && key) {
      if (seen.delete(key) || once.delete(key)) {
        seen.set(key, true);
        if (seen.size > max) {
          const oldest = seen.keys().next().value as string;
          seen.delete(oldest);
          delete pools[oldest];
        }
      } else {
        // First seen (or not for a while): this request uses the client Bolt made; it is not kept.
        once.add(key);
        if (once.size > max * 10) once.delete(once.values().next().value as string);
        delete pools[key];
      }
      if (++requests % SWEEP_EVERY === 0) {
        for (const k of Object.keys(pools)) if (!seen.has(k)) delete pools[k];
      }
    }
    await next();
  };
}

/**
 * Drops Bolt's pool for a workspace (on uninstall, tokens revoked, reinstall). Bolt picks a client
 * by the token its `authorize` has just read from the installation store, so a client with an old
 * token is never used again; it is only kept, with the token, until the bound above drops the pool,
 * and an active workspace's pool never is. Org-wide installs: Bolt keys their pools by each request's
 * team, which the workspace (enterprise) ID does not name; those are left to the bound.
 */
export function dropClientPool(app: object, workspaceId: string): void {
  const pools = (app as { clients?: Record<string, unknown> }).clients;
  if (pools) delete pools[workspaceId];
}
