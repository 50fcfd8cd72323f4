/**
 * The load generator (autocannon) in a worker thread, so the load does not share an event loop with
 * the fakes. Request i sends bodies[i], signed (Slack's v0 scheme) just before it is written. Times
 * are process.hrtime in ms, the same clock in every thread. Plain JavaScript: loads under tsx and Jest.
 */
import { createHmac } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import autocannon from 'autocannon';

const now = () => Number(process.hrtime.bigint()) / 1e6;

async function run(spec) {
  const n = spec.amount;
  const sentAt = new Float64Array(n).fill(Number.NaN);
  const ackAt = new Float64Array(n).fill(Number.NaN);
  const status = new Uint16Array(n);
  /** 1 when the ack had an empty body (a plain ack(): the listener goes on to call Slack). */
  const emptyBody = new Uint8Array(n);
  /** 1 for the first request of each connection: it also pays for the connection's setup. */
  const firstOnConnection = new Uint8Array(n);
  const statusCounts = {};
  const ackBodySamples = [];
  let ackBodies = 0;
  let next = 0;
  let lastBuilt = -1;

  // The generator's own event-loop delay: when it is high, the tail of the ack latencies is the
  // generator's (a busy thread reading responses late), not the target's.
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    amount: n,
    pipelining: 1,
    timeout: spec.timeoutSec,
    sampleInt: 100,
    // autocannon builds each connection's first request just before calling setupClient.
    setupClient() {
      if (lastBuilt >= 0 && lastBuilt < n) firstOnConnection[lastBuilt] = 1;
    },
    requests: [
      {
        method: 'POST',
        path: spec.path,
        setupRequest(req, context) {
          const seq = next++;
          const body = spec.bodies[seq % spec.bodies.length];
          const ts = String(Math.floor(Date.now() / 1000));
          const signature = `v0=${createHmac('sha256', spec.secret).update(`v0:${ts}:${body}`).digest('hex')}`;
          context.seq = lastBuilt = seq;
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
          statusCounts[code] = (statusCounts[code] ?? 0) + 1;
          if (context.seq < n) {
            ackAt[context.seq] = t;
            status[context.seq] = code;
            emptyBody[context.seq] = body?.length ? 0 : 1;
          }
          if (body?.length && ackBodies++ < 5) ackBodySamples.push(`${code} ${String(body).slice(0, 300)}`);
        },
      },
    ],
  });
  eld.disable();
  const { errors, timeouts, non2xx, resets } = result;
  return {
    eld: { p99Ms: eld.percentile(99) / 1e6, maxMs: eld.max / 1e6 },
    sentAt,
    ackAt,
    status,
    emptyBody,
    firstOnConnection,
    ackBodies,
    ackBodySamples,
    load: { errors, timeouts, non2xx, resets, extraRequests: Math.max(0, next - n), statusCounts },
  };
}

parentPort?.on('message', (spec) => {
  run(spec).then(
    (result) => {
      const { sentAt, ackAt, status, emptyBody, firstOnConnection } = result;
      const buffers = [sentAt, ackAt, status, emptyBody, firstOnConnection].map((a) => a.buffer);
      parentPort?.postMessage({ result }, buffers);
    },
    (error) => parentPort?.postMessage({ error: String(error?.stack ?? error) }),
  );
});
