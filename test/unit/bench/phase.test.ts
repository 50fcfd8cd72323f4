/** One phase's figures from what the load generator, the fakes and the probe saw. */
import { phaseData, requestBodies } from '../../../bench/phase.js';
import { loadResult, probe, recorder } from './fixtures.js';

const base = {
  target: 'bot' as const,
  kind: 'submission' as const,
  connections: 2,
  stage: 'measure' as const,
  round: 1,
  benchCpu: { user: 4000, system: 0 },
  fakesEld: { p99Ms: 1, maxMs: 2 },
};

test('ack and follow-up latencies leave out the first request on each connection', () => {
  const data = phaseData({
    ...base,
    amount: 4,
    katapultLatencyMs: 0,
    result: loadResult([0, 0, 10, 20], [50, 2, 4, 6], [0]),
    recorder: recorder([60, 3, 15, 27]),
    before: probe(),
    probe: probe({ cpuMs: 8 }),
  });
  expect(data.summary.ackMs).toEqual({ p50: 4, p95: 6, p99: 6, max: 6 });
  expect(data.summary.firstOnConnection).toEqual({
    count: 1,
    ackMedianMs: 50,
    ackMaxMs: 50,
    followMaxMs: 60,
  });
  expect(data.summary.follow.p50Ms).toBe(5);
  expect(data.summary.follow.received).toBe(4);
  expect(data.summary.cpuMsPerRequest).toBe(2);
  expect(data.summary.benchCpuMsPerRequest).toBe(1);
  // 4 answers between the first send (0) and the last ack (the first request's, at 50 ms).
  expect(data.activeMs).toBe(50);
  expect(data.summary.acksPerSec).toBe(80);
});

test('a submission that called Katapult has the Katapult latency taken off its follow-up', () => {
  const data = phaseData({
    ...base,
    amount: 2,
    katapultLatencyMs: 50,
    result: loadResult([0, 100], [1, 1]),
    recorder: recorder([60, 170], [5, 110], 'submission'),
    before: probe(),
    probe: probe({ cpuMs: 2 }),
  });
  expect(Array.from(data.follow)).toEqual([10, 20]);
  expect(Array.from(data.beforeKatapult)).toEqual([5, 10]);
  expect(Array.from(data.afterKatapult)).toEqual([5, 10]);
  expect(data.summary.katapult).toMatchObject({ calls: 2, beforeP99Ms: 10, afterP99Ms: 10 });
});

test('non-200 answers are counted, and expect no follow-up', () => {
  const result = loadResult([0, 1, 2], [1, 1, 1]);
  result.status[1] = 500;
  const data = phaseData({
    ...base,
    amount: 3,
    katapultLatencyMs: 0,
    result,
    recorder: recorder([5, Number.NaN, 6]),
    before: probe(),
    probe: probe(),
  });
  expect(data.summary).toMatchObject({ ok: 2, non200: 1, follow: { expected: 2, received: 2 } });
});

test('every request body carries its own correlation id', () => {
  const commands = requestBodies('command', 7, 3, 0, 'http://x/response');
  expect(commands.map((b) => /trigger_id=bench7n(\d)/.exec(decodeURIComponent(b))?.[1])).toEqual([
    '0',
    '1',
    '2',
  ]);
  const submissions = requestBodies('submission', 8, 2, 0, 'http://x/response');
  expect(decodeURIComponent(submissions[1] ?? '')).toContain('dbp_bench8n1');
});
