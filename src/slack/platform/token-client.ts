/**
 * Web clients for a token that make no Web client of their own: every call goes through one shared
 * `WebClient`, with the token (and the team) in its arguments, as the Web API allows. Making a
 * `WebClient` binds some 270 methods (about 26 KB, 40-80 µs of CPU); with traffic spread over
 * thousands of workspaces most requests are their workspace's first for a while, and a client made
 * for each was the largest cost they had over one workspace's (docs/benchmarks.md).
 *
 * The shared client must reject rate-limited calls (`rejectRateLimitedCalls`): otherwise a 429 pauses
 * its whole request queue, every workspace's calls with it. Here a call answered 429 waits its
 * Retry-After and is sent again, at most `rateLimitRetries` times (0: it fails at once, as the worker's
 * one-attempt clients want), which is what a client of its own did for the request that made it.
 */
import { ErrorCode, type WebAPIRateLimitedError, type WebClient } from '@slack/web-api';

/** Methods by name, in the shape of the client's namespaces: `{ chat: { postMessage: 'chat.postMessage' } }`. */
type Tree = { [key: string]: string | Tree };

/** A function the Web client bound to one of its methods (`bindApiCall` and the like). */
const isBoundMethod = (value: unknown) =>
  typeof value === 'function' && /^bound (apiCall|filesUploadV2)$/.test(value.name);

/** The method names under a namespace of the client, or null for an object that is not one. */
function methodsOf(node: unknown, path: string): Tree | null {
  if (!node || typeof node !== 'object' || Object.getPrototypeOf(node) !== Object.prototype) return null;
  const tree: Tree = {};
  for (const [key, value] of Object.entries(node)) {
    const name = `${path}.${key}`;
    if (isBoundMethod(value)) tree[key] = name;
    else {
      const sub = methodsOf(value, name);
      if (sub) tree[key] = sub;
    }
  }
  return Object.keys(tree).length > 0 ? tree : null;
}

export type TokenClient = (token: string, options?: { teamId?: string }) => WebClient;

/**
 * Clients for tokens over `shared` (made with `rejectRateLimitedCalls: true` and no token of its
 * own). Each call of a client made here carries that client's token; nothing is kept per token.
 */
export function tokenClients(shared: WebClient, options: { rateLimitRetries: number }): TokenClient {
  if (!(shared as unknown as { rejectRateLimitedCalls?: boolean }).rejectRateLimitedCalls)
    throw new Error('the shared Web client must reject rate-limited calls');
  const namespaces = new Map<string, Tree>();
  for (const [key, value] of Object.entries(shared)) {
    const tree = methodsOf(value, key);
    if (tree) namespaces.set(key, tree);
  }
  return (token, { teamId } = {}) => {
    const apiCall = async (method: string, args?: Record<string, unknown>) => {
      // The caller's arguments win, as with a client of its own (a token passed to one call).
      const all: Record<string, unknown> = teamId ? { team_id: teamId, ...args } : { ...args };
      // The Web client sends `token` as the Authorization header, and copies the arguments' own
      // enumerable properties into the body: not enumerable, the token is in the header only, as a
      // client's own token is (never in a body that a proxy or a log might show).
      if (!('token' in all)) Object.defineProperty(all, 'token', { value: token, enumerable: false });
      for (let attempt = 0; ; attempt++) {
        try {
          return await shared.apiCall(method, all);
        } catch (error) {
          const limited = (error as { code?: unknown }).code === ErrorCode.RateLimitedError;
          if (!limited || attempt >= options.rateLimitRetries) throw error;
          const seconds = (error as WebAPIRateLimitedError).retryAfter;
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, seconds) * 1000));
        }
      }
    };
    const namespace: ProxyHandler<Tree> = {
      get(node, key) {
        const value = typeof key === 'string' && Object.hasOwn(node, key) ? node[key] : undefined;
        if (typeof value === 'string') return (args?: Record<string, unknown>) => apiCall(value, args);
        return value ? new Proxy(value, namespace) : undefined;
      },
    };
    const client: WebClient = new Proxy(shared, {
      get(target, key) {
        if (key === 'apiCall') return apiCall;
        if (key === 'token') return token;
        if (key === 'teamId') return teamId;
        const tree = typeof key === 'string' ? namespaces.get(key) : undefined;
        if (tree) return new Proxy(tree, namespace);
        const value: unknown = Reflect.get(target, key);
        // Its other methods (paginate, the emitter's) call `this.apiCall`: this client's.
        return typeof value === 'function' ? value.bind(client) : value;
      },
      set: () => false,
    });
    return client;
  };
}
