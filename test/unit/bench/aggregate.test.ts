/** The aggregation: pure functions over hand-made phase data. */
import {
  buildReport,
  levelsOf,
  memoryOf,
  metricsOf,
  problemsOf,
  spawnSummary,
} from '../../../bench/aggregate.js';
import { otherCpuShare } from '../../../bench/machine.js';
import { SMOKE_OPTIONS } from '../../../bench/options.js';
import type { Machine } from '../../../bench/report.js';
import { phase, probe } from './fixtures.js';

test('metrics pool the latencies of every measured round and weigh CPU by requests', () => {
  const phases = [
    phase({ target: 'bot', round: 1, acks: [1, 2, 3, 4], cpuMs: 4 }),
    phase({ target: 'bot', round: 2, acks: [5, 6], cpuMs: 8 }),
    phase({ target: 'bot', stage: 'warmup', acks: [100, 100], cpuMs: 100 }),
    phase({ target: 'baseline', acks: [1, 1], cpuMs: 2 }),
  ];
  const m = metricsOf(phases, 'bot', 'command', 1);
  expect(m.requests).toBe(6);
  expect(m.ackP50Ms).toBe(3);
  expect(m.ackP99Ms).toBe(6);
  // (1 ms × 4 + 4 ms × 2) / 6
  expect(m.cpuMsPerRequest).toBe(2);
});

test('levels put the bot against the baseline as ratios', () => {
  const phases = [
    phase({ target: 'bot', acks: [2, 2], cpuMs: 6 }),
    phase({ target: 'baseline', acks: [1, 1], cpuMs: 2 }),
  ];
  const [level] = levelsOf(phases, [1], ['command']);
  expect(level?.ratio.cpuPerRequest).toBe(3);
  expect(level?.ratio.ackP99).toBe(2);
});

test('the soak timeline has one post-GC point per chunk, at the requests sent since the warm-up', () => {
  const phases = [
    phase({ target: 'bot', stage: 'warmup', acks: [1, 1] }),
    phase({ target: 'bot', stage: 'measure', acks: [1, 1] }),
    ...[110, 120, 130].flatMap((rssMB) => [
      phase({ target: 'bot', stage: 'soak', kind: 'command', acks: [1, 1] }),
      phase({ target: 'bot', stage: 'soak', kind: 'submission', acks: [1, 1], rssMB }),
    ]),
  ];
  const mem = memoryOf(phases, 'bot', 'submission', probe({ rssMB: 100 }), probe({ rssMB: 130 }));
  expect(mem.timeline.map((p) => [p.requests, p.rssMB])).toEqual([
    [6, 110],
    [10, 120],
    [14, 130],
  ]);
  expect(mem.requestsBetween).toBe(14);
  expect(mem.rssGrowthMB).toBe(30);
  // 10 MB per 4 requests
  expect(mem.soak?.rssTrendMBPer10k).toBe(25_000);
  expect(mem.soak?.requests).toBe(12);
});

test('problems name the phase and what went wrong', () => {
  const bad = phase({ target: 'bot', acks: [1, 1] });
  bad.summary.non200 = 1;
  bad.summary.follow.received = 0;
  const problems = problemsOf(
    [bad, phase({ target: 'baseline' })],
    { bot: { stdout: {}, stderr: { crash: 2 } }, baseline: { stdout: {}, stderr: {} } },
    1000,
  );
  expect(problems).toEqual([
    expect.stringMatching(/^measure bot c=1 command round 1: 1 of 2 requests not answered 200/),
    'measure bot c=1 command round 1: 2 views.open calls missing after 1000 ms',
    'bot logged on stderr: crash ×2',
  ]);
  const quiet = { bot: { stdout: {}, stderr: {} }, baseline: { stdout: { started: 1 }, stderr: {} } };
  expect(problemsOf([phase({ target: 'bot' })], quiet, 1000)).toEqual([]);
});

test('spawn samples: median and max', () => {
  expect(spawnSummary([300, 100, 200])).toEqual({ samples: [300, 100, 200], median: 200, max: 300 });
});

test('other processes: busy time not spent by the benchmark or its targets', () => {
  expect(otherCpuShare({ busyMs: 1000, ownCpuMs: 300, targetsCpuMs: 500, wallMs: 1000, cores: 2 })).toBe(0.1);
  expect(otherCpuShare({ busyMs: 100, ownCpuMs: 300, targetsCpuMs: 500, wallMs: 1000, cores: 2 })).toBe(0);
});

test('the report evaluates its targets from the aggregated figures', () => {
  const machine: Machine = {
    os: 'test',
    cpu: 'test',
    cores: 2,
    memoryGB: 1,
    node: 'v20',
    bolt: '5',
    commit: null,
    loadAvgAtStart: [0],
    loadAvgAtEnd: [0],
    otherCpuShare: 0,
  };
  const report = buildReport({
    options: { ...SMOKE_OPTIONS, concurrency: [1], kinds: ['command'] },
    machine,
    startedAt: new Date(0),
    finishedAt: new Date(1000),
    durationSec: 1,
    phases: [phase({ target: 'bot' }), phase({ target: 'baseline' })],
    spawnSamples: { bot: [300], baseline: [150] },
    afterWarmup: {},
    after: {},
    logEvents: { bot: { stdout: {}, stderr: {} }, baseline: { stdout: {}, stderr: {} } },
    strayCalls: {},
  });
  expect(report.levels).toHaveLength(1);
  expect(report.targets.find((t) => t.id === 'spawn-to-ready')?.met).toBe(true);
  expect(report.problems).toEqual([]);
});
