/**
 * Load generator for bench/run.ts, run in a worker thread so the load does not share an event loop
 * with the fake Slack and Katapult servers. Plain JavaScript so it loads the same way under tsx and
 * under Jest.
 *
 * Message in:  { type: 'run', id, spec: { url, path, secret, connections, bodies: string[],
 *                                         amount, timeoutSec } }
 * Message out: { type: 'result', id, result } | { type: 'error', id, error }
 *
 * Each request is built and signed in autocannon's `setupRequest` hook, immediately before it is
 * written (Slack's scheme: X-Slack-Signature = v0=hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body))).
 * Request i sends bodies[i]; the bodies carry the ids (trigger_id, view id, policy id) the benchmark
 * uses to match what the fake Slack receives to the request that caused it.
 * Times are process.hrtime in milliseconds: the same monotonic clock in every thread.
 */
import { createHmac } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import autocannon from 'autocannon';

const now = () => Number(process.hrtime.bigint()) / 1e6;
const MAX_SAMPLES = 5;

async function run(spec) {
  const n = spec.amount;
  const sentAt = new Float64Array(n).fill(Number.NaN);
  const ackAt = new Float64Array(n).fill(Number.NaN);
  const status = new Uint16Array(n);
  /** 1 when the ack had an empty body (a plain ack(): the listener goes on to call Slack). */
  const emptyBody = new Uint8Array(n);
  /** 1 for the first request of each connection: it also pays for the connection's setup. */
  const firstOnConnection = new Uint8Array(n);
  let lastBuilt = -1;
  const statusCounts = {};
  const unexpectedBodies = [];
  let unexpectedBodyCount = 0;
  let next = 0;
  let extra = 0;

  const requests = [
    {
      method: 'POST',
      path: spec.path,
      setupRequest(req, context) {
        const seq = next++;
        if (seq >= n) extra++;
        const body = spec.bodies[seq % spec.bodies.length];
        const ts = String(Math.floor(Date.now() / 1000));
        const signature = `v0=${createHmac('sha256', spec.secret).update(`v0:${ts}:${body}`).digest('hex')}`;
        context.seq = seq;
        lastBuilt = seq;
        if (seq < n) sentAt[seq] = now();
        return {
          ...req,
          body,
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            'X-Slack-Request-Timestamp': ts,
            'X-Slack-Signature': signature,
          },
        };
      },
      onResponse(code, body, context) {
        const t = now();
        const seq = context.seq;
        statusCounts[code] = (statusCounts[code] ?? 0) + 1;
        if (typeof seq === 'number' && seq < n) {
          ackAt[seq] = t;
          status[seq] = code;
          emptyBody[seq] = body && body.length > 0 ? 0 : 1;
        }
        if (body && body.length > 0) {
          unexpectedBodyCount++;
          if (unexpectedBodies.length < MAX_SAMPLES)
            unexpectedBodies.push(`${code} ${String(body).slice(0, 300)}`);
        }
      },
    },
  ];

  // The generator's own event-loop delay: when it is high, the tail of the ack latencies is the
  // generator's (a busy or descheduled thread reading responses late), not the target's.
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    amount: n,
    pipelining: 1,
    timeout: spec.timeoutSec,
    sampleInt: 100,
    // autocannon builds each connection's first request while constructing the client, just before
    // calling setupClient: that request is the one built last.
    setupClient() {
      if (lastBuilt >= 0 && lastBuilt < n) firstOnConnection[lastBuilt] = 1;
    },
    requests,
  });

  eld.disable();
  return {
    eld: { p99Ms: eld.percentile(99) / 1e6, maxMs: eld.max / 1e6 },
    sentAt,
    ackAt,
    status,
    emptyBody,
    firstOnConnection,
    statusCounts,
    unexpectedBodyCount,
    unexpectedBodies,
    extraRequests: extra,
    autocannon: {
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      resets: result.resets,
      mismatches: result.mismatches,
      totalRequests: result.requests.sent,
      totalCompleted: result.requests.total,
    },
  };
}

parentPort?.on('message', (msg) => {
  if (msg?.type !== 'run') return;
  run(msg.spec).then(
    (result) =>
      parentPort?.postMessage({ type: 'result', id: msg.id, result }, [
        result.sentAt.buffer,
        result.ackAt.buffer,
        result.status.buffer,
        result.emptyBody.buffer,
        result.firstOnConnection.buffer,
      ]),
    (error) => parentPort?.postMessage({ type: 'error', id: msg.id, error: String(error?.stack ?? error) }),
  );
});
