/**
 * A forward HTTP proxy on 127.0.0.1 for the proxy tests: it forwards absolute-URI requests
 * (`GET http://host:port/path`) and opens CONNECT tunnels, and records what passes. The fakes are
 * plain http://, so the requests inside a tunnel can be read too: each one's request line is
 * recorded (up to a WebSocket upgrade, after which the bytes are frames). With `auth` set it asks
 * for `Proxy-Authorization: Basic <auth in base64>` and answers 407 without it.
 */
import { createServer, type IncomingMessage, request } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';

export interface ProxiedRequest {
  /** `absolute` for a request sent to the proxy with the full URL, `tunnel` for one inside a CONNECT. */
  via: 'absolute' | 'tunnel';
  /** `127.0.0.1:port` of the server reached. */
  host: string;
  method: string;
  /** Path and query. */
  path: string;
}

export interface ForwardProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every CONNECT asked for (`host:port`), refused ones included. */
  readonly tunnels: string[];
  readonly requests: ProxiedRequest[];
  /** Requests and tunnels answered 407 (no or wrong credentials). */
  readonly refused: number;
  /** The requests to `host` (`127.0.0.1:port`). */
  to(host: string): ProxiedRequest[];
  close(): Promise<void>;
}

/**
 * Feeds on the bytes a client sends up a tunnel and calls `found` with each request's method and
 * path: the head up to the blank line, then a body of `content-length` bytes or chunked up to its
 * last chunk. Stops at a WebSocket upgrade (frames follow).
 */
function requestReader(found: (method: string, path: string) => void): (chunk: Buffer) => void {
  let pending = '';
  let skip = 0;
  let chunked = false;
  let upgraded = false;
  return (chunk) => {
    if (upgraded) return;
    pending += chunk.toString('latin1');
    for (;;) {
      if (skip > 0) {
        const taken = Math.min(skip, pending.length);
        pending = pending.slice(taken);
        skip -= taken;
        if (skip > 0) return;
      }
      if (chunked) {
        const end = pending.indexOf('\r\n0\r\n\r\n');
        const first = pending.startsWith('0\r\n\r\n') ? 0 : -1;
        if (end < 0 && first < 0) return;
        pending = pending.slice(first === 0 ? 5 : end + 7);
        chunked = false;
      }
      const headEnd = pending.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const head = pending.slice(0, headEnd);
      pending = pending.slice(headEnd + 4);
      const [method = '?', path = '?'] = (head.split('\r\n')[0] ?? '').split(' ');
      found(method, path);
      if (/\r\nupgrade:\s*websocket/i.test(head)) {
        upgraded = true;
        return;
      }
      skip = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
    }
  };
}

export async function startForwardProxy(options: { auth?: string } = {}): Promise<ForwardProxy> {
  const tunnels: string[] = [];
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  let refused = 0;
  const expected = options.auth ? `Basic ${Buffer.from(options.auth).toString('base64')}` : null;
  const allowed = (req: IncomingMessage) => {
    if (expected === null || req.headers['proxy-authorization'] === expected) return true;
    refused += 1;
    return false;
  };

  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '/');
    if (!allowed(req)) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="test"' }).end();
      return;
    }
    requests.push({
      via: 'absolute',
      host: target.host,
      method: req.method ?? 'GET',
      path: target.pathname + target.search,
    });
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: target.pathname + target.search,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });

  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const host = req.url ?? '';
    tunnels.push(host);
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (!allowed(req)) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n',
      );
      return;
    }
    const [hostname, port] = [host.replace(/:\d+$/, ''), Number(host.split(':').pop())];
    const upstream = connect(port, hostname, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    // Read the requests going up the tunnel, until a WebSocket upgrade turns it into frames.
    const reader = requestReader((method, path) => requests.push({ via: 'tunnel', host, method, path }));
    reader(head);
    client.on('data', reader);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    requests,
    get refused() {
      return refused;
    },
    to: (host) => requests.filter((r) => r.host === host),
    async close() {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
