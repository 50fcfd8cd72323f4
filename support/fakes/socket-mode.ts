/**
 * A fake of Slack's Socket Mode WebSocket endpoint on loopback, for the bot's real SocketModeClient
 * (@slack/socket-mode, on undici's WebSocket). It speaks the protocol the client expects:
 *
 * - on connect it sends `{"type":"hello",…}`; the client's `start()` resolves only then;
 * - `send` delivers an envelope (`{envelope_id, type, accepts_response_payload, payload, retry_*}`)
 *   and resolves with the client's ack `{envelope_id, payload}`: the ack's `payload`;
 * - `disconnect` sends `{"type":"disconnect","reason":…}` as Slack does before recycling a connection;
 * - ping/pong and the close handshake are answered by `ws` itself.
 *
 * The Web API side (`apps.connections.open` answering with `wsUrl`) is the fake Slack Web API's job:
 * `slack.fail('apps.connections.open', { status: 200, body: { ok: true, url: wsUrl } })`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

export interface SocketEnvelope {
  /** `slash_commands`, `interactive` or `events_api`. */
  type: string;
  payload: unknown;
  /** Default: a fresh ID. Set it to redeliver an envelope (Slack's retries keep the ID). */
  envelope_id?: string;
  /** Default true (commands and interactions); Slack sends false for events. */
  accepts_response_payload?: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

export interface SocketConnection {
  /** The request path and query the client opened (`/link/?ticket=…`). */
  url: string;
  /** The WebSocket upgrade request's headers, for secret scans. */
  headers: IncomingHttpHeaders;
}

export interface FakeSocketMode {
  /** What `apps.connections.open` must answer with: ws://127.0.0.1:<port>/link/?ticket=… */
  readonly wsUrl: string;
  /** Resolves once a client has connected and been sent `hello`. */
  readonly connected: Promise<void>;
  /** Every connection the client opened, in order. */
  readonly connections: SocketConnection[];
  /** Every text message the client sent (acks), raw, for secret scans. */
  readonly received: string[];
  /** Sends the envelope to the newest open connection; resolves with the ack's payload. */
  send(envelope: SocketEnvelope, timeoutMs?: number): Promise<unknown>;
  /** Sends Slack's `disconnect` message (the client closes, then reconnects after a delay). */
  disconnect(reason?: 'warning' | 'refresh_requested' | 'link_disabled'): void;
  close(): Promise<void>;
}

export async function startFakeSocketMode(): Promise<FakeSocketMode> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const port = (wss.address() as AddressInfo).port;
  const connections: SocketConnection[] = [];
  const received: string[] = [];
  const open: WebSocket[] = [];
  const pending = new Map<string, { resolve: (payload: unknown) => void; reject: (error: Error) => void }>();
  let markConnected: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => {
    markConnected = resolve;
  });

  wss.on('connection', (socket, request) => {
    connections.push({ url: request.url ?? '', headers: request.headers });
    open.push(socket);
    socket.on('close', () => {
      const index = open.indexOf(socket);
      if (index >= 0) open.splice(index, 1);
    });
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return;
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString('utf8');
      received.push(text);
      let message: { envelope_id?: unknown; payload?: unknown };
      try {
        message = JSON.parse(text) as typeof message;
      } catch {
        return;
      }
      if (typeof message.envelope_id !== 'string') return;
      const waiter = pending.get(message.envelope_id);
      pending.delete(message.envelope_id);
      waiter?.resolve(message.payload);
    });
    // Field for field what Slack sends (the client only looks at `type`).
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: open.length,
        debug_info: { host: 'applink-fake', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: 'A0FAKE001' },
      }),
      () => markConnected(),
    );
  });

  return {
    wsUrl: `ws://127.0.0.1:${port}/link/?ticket=fake-ticket-${randomUUID()}&app_id=A0FAKE001`,
    connected,
    connections,
    received,
    send(envelope, timeoutMs = 3000) {
      const socket = open.at(-1);
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        return Promise.reject(new Error('fake Socket Mode: no client is connected'));
      }
      const envelopeId = envelope.envelope_id ?? randomUUID();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(envelopeId);
          reject(new Error(`fake Socket Mode: no ack for ${envelope.type} envelope within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(envelopeId, {
          resolve: (payload) => {
            clearTimeout(timer);
            resolve(payload);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        socket.send(
          JSON.stringify({
            envelope_id: envelopeId,
            type: envelope.type,
            accepts_response_payload: envelope.accepts_response_payload ?? true,
            payload: envelope.payload,
            ...(envelope.retry_attempt !== undefined ? { retry_attempt: envelope.retry_attempt } : {}),
            ...(envelope.retry_reason !== undefined ? { retry_reason: envelope.retry_reason } : {}),
          }),
        );
      });
    },
    disconnect(reason = 'refresh_requested') {
      for (const socket of open) {
        socket.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake' } }));
      }
    },
    async close() {
      for (const [id, waiter] of [...pending]) {
        pending.delete(id);
        waiter.reject(new Error('fake Socket Mode: closed before the ack'));
      }
      for (const socket of [...open]) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
