/**
 * Suites that need a real Redis or PostgreSQL server. Where the server answers they run; where it
 * does not they are skipped, visibly, on a developer's machine, and fail in CI (CI=true), where
 * the services are part of the run. Override the servers with TEST_REDIS_URL / TEST_POSTGRES_URL.
 *
 * Jest collects `describe` blocks synchronously, so availability is probed once, when this module
 * loads (top-level await), and `describeWithService` only reads the result.
 */
import net from 'node:net';

export type ServiceKind = 'redis' | 'postgres';

const DEFAULT_URLS: Record<ServiceKind, string> = {
  redis: 'redis://127.0.0.1:6379',
  postgres: 'postgres://postgres@127.0.0.1:5432/test',
};
const DEFAULT_PORTS: Record<ServiceKind, number> = { redis: 6379, postgres: 5432 };
const ENV: Record<ServiceKind, string> = { redis: 'TEST_REDIS_URL', postgres: 'TEST_POSTGRES_URL' };

/** The server the tests use for this kind of service. */
export function serviceUrl(kind: ServiceKind): string {
  return process.env[ENV[kind]]?.trim() || DEFAULT_URLS[kind];
}

/** The URL without credentials, for messages. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return url;
  }
}

/** Whether something accepts TCP connections at the service's host and port (within `timeoutMs`). */
export async function serviceAvailable(kind: ServiceKind, timeoutMs = 1000): Promise<boolean> {
  let host: string;
  let port: number;
  try {
    const url = new URL(serviceUrl(kind));
    host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    port = url.port ? Number(url.port) : DEFAULT_PORTS[kind];
  } catch {
    return false;
  }
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const available: Record<ServiceKind, boolean> = {
  redis: await serviceAvailable('redis'),
  postgres: await serviceAvailable('postgres'),
};

/** What the last probe found (at module load). */
export const servicesUp: Readonly<Record<ServiceKind, boolean>> = available;

/**
 * `describe(name, fn)` when the service is reachable. Otherwise: in CI, a suite whose one test fails
 * saying the service is required; elsewhere, a skipped suite whose name says why, plus a warning.
 */
export function describeWithService(kind: ServiceKind, name: string, fn: () => void): void {
  if (available[kind]) {
    describe(name, fn);
    return;
  }
  const where = shown(serviceUrl(kind));
  if (process.env.CI === 'true') {
    describe(name, () => {
      test(`${kind} is required in CI`, () => {
        throw new Error(
          `${kind} is not reachable at ${where}, and CI=true: CI must start ${kind} before the tests (or set ${ENV[kind]})`,
        );
      });
    });
    return;
  }
  console.warn(
    `SKIPPED: "${name}" needs ${kind}, which is not reachable at ${where} (start it, or set ${ENV[kind]})`,
  );
  describe.skip(`${name} [SKIPPED: ${kind} not reachable at ${where}]`, fn);
}
