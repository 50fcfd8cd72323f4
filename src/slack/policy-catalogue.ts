/**
 * The organization's policies for the modal's picker, cached briefly per workspace. Slack gives an
 * options request 3 seconds, so a search answers from the cache, or waits for a listing only up to a
 * budget; the modal warms the cache when it opens.
 */
import { within } from '../deadline.js';
import type { PolicySummary } from '../katapult/client.js';
import type { AppLogger } from '../log.js';
import { failureCode } from '../scheduling/katapult-call.js';
import { type KatapultReader, listPolicies } from '../scheduling/preview.js';
import type { WorkspaceTokens } from '../tokens/workspace-tokens.js';

export interface PolicyCatalogue {
  /** Start a listing in the background unless a fresh one is cached. */
  warm(workspaceId: string): void;
  /** Matching policies, or [] when none could be listed within `budgetMs`. */
  search(workspaceId: string, query: string, budgetMs: number): Promise<PolicySummary[]>;
  /** Drop the cached listing (the workspace's token changed). */
  forget(workspaceId: string): void;
}

export function createPolicyCatalogue(
  deps: { tokens: WorkspaceTokens; katapult: KatapultReader; logger: AppLogger; now: () => number },
  options: { ttlMs?: number; maxWorkspaces?: number; maxPolicies?: number } = {},
): PolicyCatalogue {
  const ttlMs = options.ttlMs ?? 60_000;
  // Enough for 10,000 workspaces and more (an entry without policies is small): what bounds memory
  // is the number of policies kept, below.
  const maxWorkspaces = options.maxWorkspaces ?? 20_000;
  /** Policies kept over all workspaces (a listing can hold up to 1,000): the oldest listings go first. */
  const maxPolicies = options.maxPolicies ?? 20_000;
  const cache = new Map<string, { at: number; policies: PolicySummary[] }>();
  let kept = 0;
  const drop = (workspaceId: string) => {
    kept -= cache.get(workspaceId)?.policies.length ?? 0;
    cache.delete(workspaceId);
  };
  const keep = (workspaceId: string, policies: PolicySummary[]) => {
    drop(workspaceId);
    while (cache.size > 0 && (cache.size >= maxWorkspaces || kept + policies.length > maxPolicies)) {
      drop(cache.keys().next().value as string);
    }
    cache.set(workspaceId, { at: deps.now(), policies });
    kept += policies.length;
  };
  const loading = new Map<string, Promise<PolicySummary[] | null>>();

  const fresh = (w: string) => {
    const hit = cache.get(w);
    return hit && deps.now() - hit.at < ttlMs ? hit.policies : null;
  };
  const load = (workspaceId: string): Promise<PolicySummary[] | null> => {
    const running = loading.get(workspaceId);
    if (running) return running;
    const p = (async () => {
      // undefined: it could not be read (the store, or Katapult for the fallback token): not kept.
      const organizationId = await deps.tokens.organizationId(workspaceId).catch(() => undefined);
      const listed = organizationId ? await listPolicies(deps, { workspaceId, organizationId }) : null;
      if (!listed?.ok) {
        const reason = listed
          ? failureCode(listed.failure)
          : organizationId === null
            ? 'no_organization'
            : 'unavailable';
        // No token (or one that names no organization) is a workspace not set up yet, not a fault:
        // a submission tells the person (`no_token`); the log says it only at debug.
        deps.logger.event(reason === 'no_organization' ? 'debug' : 'warn', 'policy_list_failed', {
          workspace: workspaceId,
          reason,
        });
        // No organization to list (the token names none, or there is no token) holds until a token
        // is set (`forget`): kept like an empty listing, so that each modal does not read and log it again.
        if (organizationId === null) keep(workspaceId, []);
        return null;
      }
      keep(workspaceId, listed.value);
      return listed.value;
    })()
      .catch(() => null)
      .finally(() => loading.delete(workspaceId));
    loading.set(workspaceId, p);
    return p;
  };

  return {
    warm(workspaceId) {
      if (!fresh(workspaceId)) void load(workspaceId);
    },
    async search(workspaceId, query, budgetMs) {
      let policies = fresh(workspaceId);
      policies ??= await within(load(workspaceId), budgetMs, null);
      const q = query.trim().toLowerCase();
      // Names match on any part; IDs only on a longer piece (every policy ID starts with the same prefix).
      return (policies ?? []).filter(
        (p) =>
          !q ||
          (p.target.name ?? '').toLowerCase().includes(q) ||
          (q.length >= 6 && [p.id, p.target.id ?? ''].some((s) => s.toLowerCase().includes(q))),
      );
    },
    forget(workspaceId) {
      drop(workspaceId);
    },
  };
}
