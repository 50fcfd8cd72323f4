/** One phase's figures from what the load generator, the fakes and the probe saw. */
import { type PhaseInput, phaseData, requestBodies } from '../../../bench/phase.js';
import { storeServersCpu, storeServersCpuSince } from '../../../bench/stats.js';
import { loadResult, probe, recorder } from './fixtures.js';

const base = {
  phase: { target: 'bot', kind: 'submission', concurrency: 2, round: 1, stage: 'measure' },
  benchCpu: { user: 4000, system: 0 },
  fakesEld: { p99Ms: 1, maxMs: 2 },
  serversCpuMs: 12,
} as const;
const input = (rest: Omit<PhaseInput, keyof typeof base | 'before'>): PhaseInput => ({
  ...base,
  ...rest,
  before: probe(),
});

test('ack and follow-up latencies leave out the first request on each connection', () => {
  const data = phaseData(
    input({
      katapultLatencyMs: 0,
      result: loadResult([0, 0, 10, 20], [50, 2, 4, 6], [0]),
      recorder: recorder([60, 3, 15, 27]),
      probe: probe({ cpuMs: 8, systemMs: 2, forcedGcMs: 40 }),
    }),
  );
  expect(data.summary.ackMs).toEqual({ p50: 4, p95: 6, p99: 6, max: 6 });
  expect(data.summary.firstOnConnection).toEqual({
    count: 1,
    ackMedianMs: 50,
    ackMaxMs: 50,
    followMaxMs: 60,
  });
  expect(data.summary.follow.p50Ms).toBe(5);
  expect(data.summary.follow.received).toBe(4);
  // The memory probe's forced GC is reported beside the CPU per request, not in it.
  expect(data.summary.cpuMsPerRequest).toBe(2);
  expect(data.summary.forcedGcCpuMs).toBe(40);
  expect(data.summary.cpuSystemMsPerRequest).toBe(0.5);
  expect(data.summary.benchCpuMsPerRequest).toBe(1);
  // PostgreSQL's and Redis's processes: 12 ms over 4 requests.
  expect(data.summary.storeServerCpuMsPerRequest).toBe(3);
  // 4 answers between the first send (0) and the last ack (the first request's, at 50 ms).
  expect(data.activeMs).toBe(50);
  expect(data.summary.acksPerSec).toBe(80);
  expect(data.summary).toMatchObject({ target: 'bot', kind: 'submission', concurrency: 2, stage: 'measure' });
});

test('a submission that called Katapult has the Katapult latency taken off its follow-up', () => {
  const data = phaseData(
    input({
      katapultLatencyMs: 50,
      result: loadResult([0, 100], [1, 1]),
      recorder: recorder([60, 170], [5, 110], 'submission'),
      probe: probe({ cpuMs: 2 }),
    }),
  );
  expect(Array.from(data.follow)).toEqual([10, 20]);
  expect(Array.from(data.beforeKatapult)).toEqual([5, 10]);
  expect(Array.from(data.afterKatapult)).toEqual([5, 10]);
  expect(data.summary.katapult).toMatchObject({ calls: 2, beforeP99Ms: 10, afterP99Ms: 10 });
});

test('non-200 answers are counted, and expect no follow-up', () => {
  const result = loadResult([0, 1, 2], [1, 1, 1]);
  result.status[1] = 500;
  const data = phaseData(
    input({
      katapultLatencyMs: 0,
      result,
      recorder: recorder([5, Number.NaN, 6]),
      probe: probe(),
    }),
  );
  expect(data.summary).toMatchObject({ ok: 2, non200: 1, follow: { expected: 2, received: 2 } });
});

test('every request body carries its own correlation id; only the bot gets signed modal metadata', () => {
  const to = { to: 'baseline' as const, secret: 's', url: 'http://x/response' };
  const commands = requestBodies('command', 7, 3, to);
  expect(commands.map((b) => /trigger_id=bench7n(\d)/.exec(decodeURIComponent(b))?.[1])).toEqual([
    '0',
    '1',
    '2',
  ]);
  const submissions = requestBodies('submission', 8, 2, to);
  expect(decodeURIComponent(submissions[1] ?? '')).toContain('dbp_bench8n1');
  expect(decodeURIComponent(submissions[1] ?? '')).toContain(
    '"private_metadata":"{\\"c\\":\\"C0OPS0001\\"}"',
  );
  const signed = decodeURIComponent(requestBodies('submission', 8, 1, { ...to, to: 'bot' })[0] ?? '');
  expect(signed).toMatch(/"private_metadata":"v2\.[^.]+\.\d+\./);
  const teams = requestBodies('command', 9, 2, { ...to, teamOf: (seq) => `T${seq}` });
  expect(teams.map((b) => new URLSearchParams(b).get('team_id'))).toEqual(['T0', 'T1']);
});

test('the store servers’ CPU of a phase: what each process used since the first reading', () => {
  const before = new Map([
    [101, 500],
    [102, 40],
  ]);
  // 101 used 30 ms more, 102 ended (left out), 103 started during the phase (all of it counts).
  const after = new Map([
    [101, 530],
    [103, 20],
  ]);
  expect(storeServersCpuSince(before, after)).toBe(50);
  expect(storeServersCpuSince(null, after)).toBeNull();
  const now = storeServersCpu();
  if (process.platform === 'linux') {
    expect(now).not.toBeNull();
    for (const ms of now?.values() ?? []) expect(Number.isFinite(ms) && ms >= 0).toBe(true);
    // CI runs PostgreSQL and Redis on the machine (docs/testing.md): their processes are found.
    if (process.env.CI === 'true') expect(now?.size).toBeGreaterThan(0);
  }
});
