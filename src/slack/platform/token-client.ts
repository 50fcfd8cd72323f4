/**
 * Web clients for a token that make no Web client of their own: every call goes through one shared
 * `WebClient`, with the token in the Authorization header (and the team in the arguments), as the
 * Web API allows. Making a `WebClient` binds some 280 methods (about 26 KB, 40-80 µs of CPU); with
 * traffic spread over thousands of workspaces most requests are their workspace's first for a while,
 * and a client made for each was the largest cost they had over one workspace's (docs/benchmarks.md).
 *
 * The shared client has no token of its own, so a call that somehow reached it without one would be
 * refused by Slack (`not_authed`), never sent with another workspace's. It must reject rate-limited
 * calls (`rejectRateLimitedCalls`): otherwise a 429 pauses its whole request queue, every workspace's
 * calls with it. Here a call answered 429 waits its Retry-After and is sent again, at most
 * `rateLimitRetries` times (0: it fails at once, as the worker's one-attempt clients want).
 *
 * What it offers: every Web API method (`client.chat.postMessage(…)`), `apiCall`, `paginate` and
 * `chatStream`. Not `files.uploadV2` (its helpers copy the token into request bodies) nor the event
 * emitter (the shared client's events carry every workspace's calls): those read as undefined.
 */
import { webApi } from '../bolt.js';

/** Methods by name, in the shape of the client's namespaces: `{ chat: { postMessage: 'chat.postMessage' } }`. */
type Tree = { [key: string]: string | Tree };
type Args = Record<string, unknown>;

/** A function the Web client bound to `apiCall` for one method (`bindApiCall`). */
const isBoundApiCall = (value: unknown) => typeof value === 'function' && value.name === 'bound apiCall';

/** The method names under a namespace of the client, or null for an object that is not one. */
function methodsOf(node: unknown, path: string): Tree | null {
  if (!node || typeof node !== 'object' || Object.getPrototypeOf(node) !== Object.prototype) return null;
  const tree: Tree = {};
  for (const [key, value] of Object.entries(node)) {
    const name = `${path}.${key}`;
    if (isBoundApiCall(value)) tree[key] = name;
    else {
      const sub = methodsOf(value, name);
      if (sub) tree[key] = sub;
    }
  }
  return Object.keys(tree).length > 0 ? tree : null;
}

/** The shared client's own methods a client for a token offers, called with that client as `this`. */
const OWN_METHODS = new Set(['paginate', 'chatStream']);

export type TokenClient = (token: string, options?: { teamId?: string }) => webApi.WebClient;

/** Clients for tokens over `shared` (no token of its own, `rejectRateLimitedCalls: true`). */
export function tokenClients(shared: webApi.WebClient, options: { rateLimitRetries: number }): TokenClient {
  const own = shared as unknown as {
    rejectRateLimitedCalls?: boolean;
    defaultHeaders?: Record<string, unknown>;
  };
  if (!own.rejectRateLimitedCalls) throw new Error('the shared Web client must reject rate-limited calls');
  if (shared.token || own.defaultHeaders?.Authorization)
    throw new Error('the shared Web client must have no token of its own');
  const namespaces = new Map<string, Tree>();
  for (const [key, value] of Object.entries(shared)) {
    const tree = methodsOf(value, key);
    if (tree) namespaces.set(key, tree);
  }
  return (token, { teamId } = {}) => {
    const apiCall = async (method: string, args?: Args) => {
      if (method === 'files.uploadV2') throw new Error('files.uploadV2 needs a Web client of its own');
      // The caller's arguments win, as with a client of its own (a token passed to one call).
      const all: Args = teamId ? { team_id: teamId, ...args } : { ...args };
      // As a client of its own, a call with no token of its own (absent, undefined, empty) uses the
      // client's. The Web client sends `token` as the Authorization header and copies the arguments'
      // own enumerable properties into the body: not enumerable, it is in the header only, as a
      // client's own token is (never in a body that a proxy or a log might show).
      if (!all.token) {
        delete all.token;
        Object.defineProperty(all, 'token', { value: token, enumerable: false });
      }
      for (let attempt = 0; ; attempt++) {
        try {
          return await shared.apiCall(method, all);
        } catch (error) {
          const limited = (error as { code?: unknown }).code === webApi.ErrorCode.RateLimitedError;
          if (!limited || attempt >= options.rateLimitRetries) throw error;
          const seconds = (error as webApi.WebAPIRateLimitedError).retryAfter;
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, seconds) * 1000));
        }
      }
    };
    const namespace: ProxyHandler<Tree> = {
      get(node, key) {
        const value = typeof key === 'string' && Object.hasOwn(node, key) ? node[key] : undefined;
        if (typeof value === 'string') return (args?: Args) => apiCall(value, args);
        return value ? new Proxy(value, namespace) : undefined;
      },
      set: () => false,
      defineProperty: () => false,
      deleteProperty: () => false,
    };
    const client: webApi.WebClient = new Proxy(shared, {
      get(target, key) {
        if (key === 'apiCall') return apiCall;
        if (key === 'token') return token;
        if (key === 'teamId') return teamId;
        const tree = typeof key === 'string' ? namespaces.get(key) : undefined;
        if (tree) return new Proxy(tree, namespace);
        const value: unknown = Reflect.get(target, key);
        if (typeof value !== 'function') return value;
        // `paginate` and `chatStream` call `this.apiCall` (or this client's methods): this client's.
        return typeof key === 'string' && OWN_METHODS.has(key) ? value.bind(client) : undefined;
      },
      set: () => false,
      defineProperty: () => false,
      deleteProperty: () => false,
    });
    return client;
  };
}
