/**
 * Opens the store named by STORE_URL: `sqlite://<file>`, `redis://` / `rediss://`, or
 * `postgres://` / `postgresql://`. A server that cannot be reached stops the start here with one
 * clear line; the URL in that line never carries the credentials it may contain.
 */
import { ConfigError } from '../config.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  retentionMs: number;
  maxPerWorkspace: number;
  onError: (error: unknown) => void;
  now?: () => number;
}

type Backend = 'sqlite' | 'redis' | 'postgres';

const SCHEMES: Record<string, Backend> = {
  'sqlite:': 'sqlite',
  'redis:': 'redis',
  'rediss:': 'redis',
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
};

function backendOf(url: string): Backend | null {
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(url)?.[1]?.toLowerCase();
  return (scheme && SCHEMES[scheme]) || null;
}

/**
 * The URL as it may be shown or logged: no user, password or query string (which may hold a
 * password too, e.g. `?password=`). SQLite URLs are file paths and are kept whole.
 */
export function displayStoreUrl(url: string): string {
  if (backendOf(url) === 'sqlite') return url;
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
    return scheme ? `${scheme}…` : '(unparsable URL)';
  }
}

/** Secrets that could be echoed back in an error message: the URL's password and query values. */
function secretsOf(url: string): string[] {
  try {
    const parsed = new URL(url);
    let decoded = parsed.password;
    try {
      decoded = decodeURIComponent(parsed.password);
    } catch {
      // Malformed escape: the raw form is all there is.
    }
    return [parsed.password, decoded, ...parsed.searchParams.values()].filter((s) => s.length >= 3);
  } catch {
    // Unparsable: whatever sits between "//" and the last "@" may be credentials.
    const userinfo = /^[a-z][a-z0-9+.-]*:\/\/(.*)@/i.exec(url)?.[1];
    return userinfo ? [userinfo] : [];
  }
}

function reasonOf(error: unknown, secrets: string[]): { reason: string; redacted: boolean } {
  const e = error as { code?: unknown; message?: unknown } | null;
  let reason: string;
  if (typeof e?.code === 'string' && /^E[A-Z0-9_]+$/.test(e.code)) {
    reason = e.code; // ECONNREFUSED, ENOTFOUND, ETIMEDOUT, …
  } else if (typeof e?.message === 'string' && e.message) {
    reason = e.message;
  } else {
    reason = String(error);
  }
  const original = reason;
  for (const secret of secrets) reason = reason.split(secret).join('***');
  return { reason, redacted: reason !== original };
}

export async function openStore(url: string, options: OpenStoreOptions): Promise<Store> {
  const backend = backendOf(url);
  if (backend === null) {
    throw new ConfigError(
      'STORE_URL',
      `unsupported store ${JSON.stringify(displayStoreUrl(url))}; expected sqlite://<file>, redis://, rediss://, postgres:// or postgresql://`,
    );
  }
  try {
    // Only the configured backend's module (and its driver) is loaded: the others cost start-up
    // time and resident memory for nothing.
    switch (backend) {
      case 'sqlite':
        return await (await import('./sqlite-store.js')).openSqliteStore(url, options);
      case 'redis':
        return await (await import('./redis-store.js')).openRedisStore(url, options);
      case 'postgres':
        return await (await import('./postgres-store.js')).openPostgresStore(url, options);
    }
  } catch (error) {
    const where = displayStoreUrl(url);
    const { reason, redacted } = reasonOf(error, secretsOf(url));
    const what =
      backend === 'sqlite'
        ? 'could not open the store at'
        : (error as { phase?: unknown } | null)?.phase === 'setup'
          ? 'could not set up the store at'
          : 'could not connect to the store at';
    // The original error goes along for its stack, unless its message held a secret.
    throw new Error(`${what} ${where} (${reason})`, redacted ? undefined : { cause: error });
  }
}
