/**
 * /healthz, /readyz and /metrics on the real bot, in HTTP mode (Bolt's custom routes) and in
 * Socket Mode (a listener of its own on PORT), plus METRICS_PORT. Counters move after a scheduled
 * deletion, a Katapult error and a refusal; the store-error series moves while the store is down;
 * /readyz answers 503 while the bot drains after a stop.
 */
import { SCHEDULE_VIEW } from '../../src/slack/ids.js';
import { FAKE_MISSING_POLICY_PREFIX } from '../../support/fakes/katapult-api.js';
import { type FakeSlack, startFakeSlack } from '../../support/fakes/slack-api.js';
import { type FakeSocketMode, startFakeSocketMode } from '../../support/fakes/socket-mode.js';
import { errorFixture } from '../../support/fixtures/katapult/index.js';
import {
  ADMIN,
  type Harness,
  inMinutes,
  KATAPULT_TOKEN,
  MEMBER,
  signedMetadata,
  startHarness,
} from '../../support/harness.js';
import { viewSubmissionBody } from '../../support/slack-requests.js';
import { poll } from '../helpers/poll.js';

/** A scheduling submission as the object Socket Mode carries. */
function schedulePayload(encryptionKey: string, policyId: string, at: number): Record<string, unknown> {
  const body = viewSubmissionBody({
    callbackId: SCHEDULE_VIEW.callbackId,
    userId: ADMIN,
    privateMetadata: signedMetadata(encryptionKey, 'C0OPS0001'),
    values: {
      [SCHEDULE_VIEW.policyBlock]: {
        [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: policyId },
      },
      [SCHEDULE_VIEW.whenBlock]: {
        [SCHEDULE_VIEW.whenAction]: { type: 'datetimepicker', selected_date_time: at },
      },
    },
  });
  return JSON.parse(new URLSearchParams(body).get('payload') ?? '{}') as Record<string, unknown>;
}

/** The value of one series in Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? '').split(',').filter(Boolean);
    if (wanted.every((w) => have.includes(w))) return Number(match[3]);
  }
  return 0;
}

const metricsOf = async (baseUrl: string) => {
  const res = await fetch(`${baseUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
};

const FAMILIES = [
  'katapult_chatops_commands_total',
  'katapult_chatops_submissions_total',
  'katapult_chatops_katapult_requests_total',
  'katapult_chatops_katapult_request_duration_seconds',
  'katapult_chatops_katapult_retries_total',
  'katapult_chatops_slack_api_errors_total',
  'katapult_chatops_store_errors_total',
  'katapult_chatops_dm_fallbacks_total',
  'katapult_chatops_requests_pending',
  'katapult_chatops_requests_oldest_pending_age_seconds',
  'katapult_chatops_request_queue_size',
  'katapult_chatops_request_queue_oldest_age_seconds',
  'katapult_chatops_requests_running',
  'katapult_chatops_build_info',
  'process_cpu_seconds_total',
];

/**
 * Starts a schedule whose Katapult call is held, stops the bot meanwhile, reads /readyz as it
 * drains, then lets the call end (the stop waits for it, and for its post).
 */
async function readyzWhileDraining(h: Harness, readyzUrl: string, submit: () => Promise<unknown>) {
  let answer: () => void = () => undefined;
  h.katapult.enqueue('DELETE /disk_backup_policies/disk_backup_policy/schedule', {
    status: 200,
    heldUntil: new Promise<void>((resolve) => {
      answer = resolve;
    }),
    body: {
      disk_backup_policy: {
        id: 'dbp_drain',
        auto_move_to_trash_at: inMinutes(60),
        target: { type: 'Disk', value: { id: 'disk_1' } },
      },
    },
  });
  await submit();
  await h.katapult.waitFor((r) => r.method === 'DELETE' && r.rawBody.includes('dbp_drain'));
  const stopping = h.bot.stop();
  try {
    const res = await fetch(readyzUrl);
    const body = (await res.json()) as { ready: boolean; draining: boolean };
    return { status: res.status, body };
  } finally {
    answer();
    await stopping;
  }
}

describe('HTTP mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: { KATAPULT_DEFAULT_ACCESS: 'admins', KATAPULT_API_TOKEN: KATAPULT_TOKEN },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  test('/healthz says the process is up and the store answers; /readyz is 200 once started', async () => {
    const health = await fetch(`${h.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, store: 'ok' });
    const ready = await fetch(`${h.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, draining: false });
  });

  test('/metrics has every family, build info, and no workspace or user label', async () => {
    const text = await metricsOf(h.baseUrl);
    for (const family of FAMILIES) expect(text).toContain(`# TYPE ${family} `);
    expect(text).toMatch(/katapult_chatops_build_info\{version="0\.\d+\.\d+",node="\d+\.\d+\.\d+"\} 1/);
    expect(text).not.toMatch(/\b(workspace|team|user|channel)="/);
  });

  test('counters move after a scheduled deletion, a Katapult error and a refusal', async () => {
    const before = await metricsOf(h.baseUrl);
    await h.command({ text: 'help' });
    await h.submitSchedule({ policyId: 'dbp_metrics', at: inMinutes(30), userId: ADMIN });
    await h.submitSchedule({ policyId: `${FAKE_MISSING_POLICY_PREFIX}_m`, at: inMinutes(30), userId: ADMIN });
    await h.submitSchedule({ policyId: 'dbp_refused', at: inMinutes(30), userId: MEMBER });
    await h.submitSchedule({ policyId: '', at: inMinutes(30), userId: ADMIN });
    await h.bot.idle();
    const after = await metricsOf(h.baseUrl);
    const moved = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(moved('katapult_chatops_commands_total', { outcome: 'help' })).toBe(1);
    expect(moved('katapult_chatops_submissions_total', { outcome: 'scheduled' })).toBe(1);
    expect(moved('katapult_chatops_submissions_total', { outcome: 'disk_backup_policy_not_found' })).toBe(1);
    expect(moved('katapult_chatops_submissions_total', { outcome: 'refused' })).toBe(1);
    expect(moved('katapult_chatops_submissions_total', { outcome: 'invalid' })).toBe(1);
    expect(
      moved('katapult_chatops_katapult_requests_total', { operation: 'schedule_deletion', outcome: 'ok' }),
    ).toBe(1);
    expect(
      moved('katapult_chatops_katapult_requests_total', {
        operation: 'schedule_deletion',
        outcome: 'disk_backup_policy_not_found',
      }),
    ).toBe(1);
    expect(
      moved('katapult_chatops_katapult_request_duration_seconds_count', { operation: 'schedule_deletion' }),
    ).toBe(2);
  });

  test('a retried Katapult call counts a retry under the same operation label as the call', async () => {
    const before = await metricsOf(h.baseUrl);
    h.katapult.enqueue('DELETE /disk_backup_policies/disk_backup_policy/schedule', {
      status: 429,
      body: errorFixture('rate_limit_reached').body,
    });
    await h.submitSchedule({ policyId: 'dbp_retried', at: inMinutes(30), userId: ADMIN });
    await h.bot.idle();
    const after = await metricsOf(h.baseUrl);
    const moved = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    const operation = { operation: 'schedule_deletion' };
    expect(moved('katapult_chatops_katapult_retries_total', operation)).toBe(1);
    expect(moved('katapult_chatops_katapult_requests_total', { ...operation, outcome: 'ok' })).toBe(1);
    // Every operation label of the retries is one the calls use, so the two can be joined.
    const callOperations = new Set(
      [...after.matchAll(/katapult_requests_total\{operation="([^"]+)"/g)].map((m) => m[1]),
    );
    for (const [, op] of after.matchAll(/katapult_retries_total\{operation="([^"]+)"/g)) {
      expect({ op, known: callOperations.has(op) }).toEqual({ op, known: true });
    }
  });

  test('a failed channel post counts a Slack API error and a direct-message fallback', async () => {
    const before = await metricsOf(h.baseUrl);
    h.slack.fail('chat.postMessage', 'not_in_channel');
    await h.submitSchedule({ policyId: 'dbp_dm', at: inMinutes(30), userId: ADMIN });
    await h.bot.idle();
    const after = await metricsOf(h.baseUrl);
    const labels = { method: 'chat.postMessage', error: 'not_in_channel' };
    expect(sample(after, 'katapult_chatops_slack_api_errors_total', labels)).toBe(
      sample(before, 'katapult_chatops_slack_api_errors_total', labels) + 1,
    );
    expect(sample(after, 'katapult_chatops_dm_fallbacks_total')).toBe(
      sample(before, 'katapult_chatops_dm_fallbacks_total') + 1,
    );
  });
});

describe('HTTP mode: store down, draining, METRICS_PORT', () => {
  test('while the store is down the store-error series moves and /healthz says so, but the bot stays ready', async () => {
    const h = await startHarness({ env: { KATAPULT_API_TOKEN: KATAPULT_TOKEN } });
    try {
      await h.bot.store.close();
      // The submission's first store call is the access policy's read (for the daily limit), so it
      // stops there; a documents call is made directly, through the same counting store.
      await h.submitSchedule({ policyId: 'dbp_down', at: inMinutes(30), userId: ADMIN });
      await h.bot.store.docs
        .insert('request', { key: 'x', partition: 'T', sort: 0, active: true, body: '{}' })
        .catch(() => undefined);
      await h.bot.idle();
      const health = await fetch(`${h.baseUrl}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ ok: true, store: 'unavailable' });
      const ready = await fetch(`${h.baseUrl}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ready: true, store: 'unavailable' });
      const text = await metricsOf(h.baseUrl);
      // A submission first reads the freeze and the approval policy (kv), then records the request
      // (docs): with the store down it stops at the read, and nothing is recorded.
      expect(sample(text, 'katapult_chatops_store_errors_total', { operation: 'kv_get' })).toBeGreaterThan(0);
      expect(sample(text, 'katapult_chatops_submissions_total', { outcome: 'store_error' })).toBe(1);
    } finally {
      await h.stop();
    }
  });

  test('a store that does not answer (a partition, not a refusal) holds neither /metrics nor a submission; the store-error series moves', async () => {
    const h = await startHarness({ env: { KATAPULT_API_TOKEN: KATAPULT_TOKEN } });
    try {
      // What a black-holed PostgreSQL or Redis connection does: the read neither answers nor fails.
      // (The store object is the counting wrapper; the property is set on the store's own docs.)
      (h.bot.store.docs as unknown as Record<string, unknown>).activeStats = () =>
        new Promise(() => undefined);
      // Each scrape that waited in vain counts one store error, shown from the next scrape on (the
      // counter is written before the gauges are read, as for a failing read below).
      for (const scrape of [1, 2, 3]) {
        const started = Date.now();
        const res = await fetch(`${h.baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
        expect(res.status).toBe(200);
        expect(Date.now() - started).toBeLessThan(3000);
        const text = await res.text();
        expect(text).toContain('katapult_chatops_build_info');
        expect(sample(text, 'katapult_chatops_store_errors_total', { operation: 'pending_requests' })).toBe(
          scrape - 1,
        );
      }
      // A submission meanwhile: its reads do not answer either. The person gets the inline error
      // well inside Slack's 3 s, and the store-error series moves for it too.
      (h.bot.store.kv as unknown as Record<string, unknown>).get = () => new Promise(() => undefined);
      const started = Date.now();
      const res = await h.submitSchedule({ policyId: 'dbp_partition', at: inMinutes(30), userId: ADMIN });
      expect(Date.now() - started).toBeLessThan(3000);
      expect(res.json).toMatchObject({ response_action: 'errors' });
      expect(JSON.stringify(res.json)).toContain('storage is not answering');
      const text = await metricsOf(h.baseUrl);
      expect(
        sample(text, 'katapult_chatops_store_errors_total', { operation: 'submission_gate_timeout' }),
      ).toBe(1);
      expect(sample(text, 'katapult_chatops_submissions_total', { outcome: 'store_error' })).toBe(1);
    } finally {
      await h.stop();
    }
  });

  test('/readyz answers 503 while the bot drains after a stop', async () => {
    const h = await startHarness({ env: { KATAPULT_API_TOKEN: KATAPULT_TOKEN } });
    try {
      const { status, body } = await readyzWhileDraining(h, `${h.baseUrl}/readyz`, () =>
        h.submitSchedule({ policyId: 'dbp_drain', at: inMinutes(30), userId: ADMIN }),
      );
      expect(status).toBe(503);
      expect(body).toMatchObject({ ready: false, draining: true });
      // The work under way finished and was posted before the listener closed.
      expect(JSON.stringify(h.slack.callsTo('chat.postMessage').at(-1)?.args)).toContain('dbp_drain');
    } finally {
      await h.stop();
    }
  });

  test('METRICS_PORT serves /metrics and /readyz apart; the public listener keeps /healthz and /readyz only', async () => {
    const h = await startHarness({ env: { METRICS_PORT: '0' } });
    try {
      const port = Number(
        /"metrics_port":(\d+)/.exec(h.logs.find((l) => l.includes('"event":"started"')) ?? '')?.[1],
      );
      expect(port).toBeGreaterThan(0);
      const apart = `http://127.0.0.1:${port}`;
      expect((await fetch(`${apart}/readyz`)).status).toBe(200);
      expect(await (await fetch(`${apart}/metrics`)).text()).toContain('katapult_chatops_build_info');
      expect((await fetch(`${apart}/healthz`)).status).toBe(404);
      expect((await fetch(`${h.baseUrl}/metrics`)).status).toBe(404);
      expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
    } finally {
      await h.stop();
    }
  });
});

describe('Socket Mode', () => {
  let socket: FakeSocketMode;
  let slack: FakeSlack;
  let h: Harness;
  beforeAll(async () => {
    socket = await startFakeSocketMode();
    slack = await startFakeSlack();
    slack.fail(
      'apps.connections.open',
      ...Array.from({ length: 5 }, () => ({ status: 200, body: { ok: true, url: socket.wsUrl } })),
    );
    h = await startHarness({
      env: { SLACK_APP_TOKEN: 'xapp-1-test-app-token-abcdef', KATAPULT_API_TOKEN: KATAPULT_TOKEN },
      slack,
    });
    await socket.connected;
  });
  afterAll(async () => {
    await h?.stop();
    await socket?.close();
    await slack?.close();
  });

  test('an HTTP listener on PORT answers /healthz, /readyz and /metrics, and nothing else', async () => {
    expect(h.logs.some((l) => /"event":"started".*"mode":"socket".*"port":\d+/.test(l))).toBe(true);
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${h.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, store: 'ok' });
    const text = await metricsOf(h.baseUrl);
    for (const family of FAMILIES) expect(text).toContain(`# TYPE ${family} `);
    expect((await fetch(`${h.baseUrl}/slack/events`, { method: 'POST' })).status).toBe(404);
  });

  test('/readyz is 503 while the connection to Slack is down, and 200 again once it is back', async () => {
    const readyz = async () => {
      const res = await fetch(`${h.baseUrl}/readyz`);
      return { status: res.status, body: await res.json() };
    };
    expect(await readyz()).toMatchObject({ status: 200, body: { slack: 'connected' } });
    expect(sample(await metricsOf(h.baseUrl), 'katapult_chatops_socket_mode_connected')).toBe(1);
    const before = socket.connections.length;
    socket.disconnect('refresh_requested');
    // The client waits about 5 s before it reconnects: the drop shows meanwhile.
    // The bot's readiness follows the client's events, which the test cannot see: polled.
    const statusBecomes = (status: number, timeoutMs: number) =>
      poll(`/readyz to become ${status}`, async () => (await readyz()).status === status, { timeoutMs });
    await statusBecomes(503, 4000);
    expect(await readyz()).toMatchObject({ body: { ready: false, draining: false, slack: 'disconnected' } });
    expect(sample(await metricsOf(h.baseUrl), 'katapult_chatops_socket_mode_connected')).toBe(0);
    expect(h.logs.some((l) => l.includes('"slack_connection_lost"'))).toBe(true);
    await statusBecomes(200, 15_000);
    expect(socket.connections.length).toBe(before + 1);
    expect(sample(await metricsOf(h.baseUrl), 'katapult_chatops_socket_mode_connected')).toBe(1);
  }, 30_000);

  test('counters move for work that came over the socket; /readyz is 503 while draining', async () => {
    const before = await metricsOf(h.baseUrl);
    await socket.send({
      type: 'interactive',
      payload: schedulePayload(h.encryptionKey, 'dbp_socket', inMinutes(30)),
    });
    await slack.waitFor(
      (c) => c.method === 'chat.postMessage' && JSON.stringify(c.args).includes('dbp_socket'),
    );
    await h.bot.idle();
    const after = await metricsOf(h.baseUrl);
    expect(sample(after, 'katapult_chatops_submissions_total', { outcome: 'scheduled' })).toBe(
      sample(before, 'katapult_chatops_submissions_total', { outcome: 'scheduled' }) + 1,
    );
    const { status, body } = await readyzWhileDraining(h, `${h.baseUrl}/readyz`, () =>
      socket.send({
        type: 'interactive',
        payload: schedulePayload(h.encryptionKey, 'dbp_drain', inMinutes(30)),
      }),
    );
    expect(status).toBe(503);
    expect(body).toMatchObject({ ready: false, draining: true });
  });
});

describe('pending requests', () => {
  test('the gauges read the request log at each scrape; a failing read counts a store error', async () => {
    const { createMetrics } = await import('../../src/metrics.js');
    let answer: () => Promise<{ count: number; oldestAgeSeconds: number }> = async () => ({
      count: 3,
      oldestAgeSeconds: 42,
    });
    const metrics = createMetrics({ pendingRequests: () => answer() });
    let text = (await metrics.render()).body;
    expect(sample(text, 'katapult_chatops_requests_pending')).toBe(3);
    expect(sample(text, 'katapult_chatops_requests_oldest_pending_age_seconds')).toBe(42);
    answer = () => Promise.reject(new Error('store down'));
    await new Promise((r) => setImmediate(r));
    text = (await metrics.render()).body;
    expect(sample(text, 'katapult_chatops_requests_pending')).toBe(0);
    // The counter is written before the gauges are read: the failure shows from the next scrape on.
    await new Promise((r) => setImmediate(r));
    text = (await metrics.render()).body;
    expect(sample(text, 'katapult_chatops_store_errors_total', { operation: 'pending_requests' })).toBe(1);
  });
});
