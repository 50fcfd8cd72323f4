/**
 * Slack signs the request timestamp, and Bolt refuses stale ones (more than 5 minutes old) but
 * accepts any timestamp in the future, so a captured request signed "tomorrow" could be replayed
 * all day. This refuses timestamps more than 5 minutes ahead with 401, before Bolt sees them.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';

export const MAX_AHEAD_SECONDS = 5 * 60;

export function isFromTheFuture(header: string | string[] | undefined, nowMs: number): boolean {
  const timestamp = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(timestamp) && timestamp > Math.floor(nowMs / 1000) + MAX_AHEAD_SECONDS;
}

/** Puts the check in front of the server's request handlers (Bolt's HTTP receiver). */
export function refuseFutureTimestamps(server: Server, now: () => number): void {
  const handlers = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (isFromTheFuture(req.headers['x-slack-request-timestamp'], now())) {
      res.writeHead(401).end();
      return;
    }
    for (const handler of handlers) handler.call(server, req, res);
  });
}
