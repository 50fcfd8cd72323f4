/** The report: pure functions over hand-made phase data. */
import type { PhaseData } from '../../../bench/phase.js';
import {
  buildReport,
  levelsOf,
  type Machine,
  memoryOf,
  metricsOf,
  noiseNotesOf,
  otherCpuShare,
  pairRatios,
  postGcRss,
  problemsOf,
  renderMarkdown,
  roundRatios,
  spawnSummary,
} from '../../../bench/report.js';
import { SMOKE_OPTIONS } from '../../../bench/run.js';
import { phase, probe } from './fixtures.js';

const summaries = (phases: PhaseData[]) => phases.map((p) => p.summary);

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
    'sqlite',
    summaries([bad, phase({ target: 'baseline' })]),
    { bot: { stdout: {}, stderr: { crash: 2 } }, baseline: { stdout: {}, stderr: {} } },
    1000,
  );
  expect(problems).toEqual([
    expect.stringMatching(/^sqlite: measure bot c=1 command round 1: 1 of 2 requests not answered 200/),
    'sqlite: measure bot c=1 command round 1: 2 views.open calls missing after 1000 ms',
    'sqlite: bot logged on stderr: crash ×2',
  ]);
  const quiet = { bot: { stdout: {}, stderr: {} }, baseline: { stdout: { started: 1 }, stderr: {} } };
  expect(problemsOf('sqlite', summaries([phase({ target: 'bot' })]), quiet, 1000)).toEqual([]);
  const noKatapult = phase({ target: 'same-work', kind: 'submission' });
  expect(problemsOf('postgres', [noKatapult.summary], {}, 1000)).toEqual([
    'postgres: measure same-work c=1 submission round 1: 0 Katapult calls for 4 submissions',
  ]);
});

test('a stalled harness is a note on noise, not a problem', () => {
  const stalled = phase({ target: 'bot' });
  stalled.summary.harnessEld = { ...stalled.summary.harnessEld, fakesMaxMs: 150 };
  expect(problemsOf('sqlite', [stalled.summary], {}, 1000)).toEqual([]);
  expect(noiseNotesOf('sqlite', summaries([stalled, phase({ target: 'baseline' })]))).toEqual([
    expect.stringMatching(
      /^sqlite: measure bot c=1 command round 1: the harness itself stalled for up to 150 ms/,
    ),
  ]);
});

test('spawn samples: median and max', () => {
  expect(spawnSummary([300, 100, 200])).toEqual({ samples: [300, 100, 200], median: 200, max: 300 });
});

test('other processes: busy time not spent by the benchmark or its targets', () => {
  expect(otherCpuShare({ busyMs: 1000, ownCpuMs: 300, targetsCpuMs: 500, wallMs: 1000, cores: 2 })).toBe(0.1);
  expect(otherCpuShare({ busyMs: 100, ownCpuMs: 300, targetsCpuMs: 500, wallMs: 1000, cores: 2 })).toBe(0);
});

test('levels set the bot against the same-work baseline where it ran', () => {
  const phases = [
    phase({ target: 'bot', kind: 'submission', acks: [2, 2], cpuMs: 6 }),
    phase({ target: 'baseline', kind: 'submission', acks: [1, 1], cpuMs: 2 }),
    phase({ target: 'same-work', kind: 'submission', acks: [1, 1], cpuMs: 4 }),
    phase({ target: 'bot', acks: [2, 2] }),
    phase({ target: 'baseline', acks: [2, 2] }),
  ];
  const [command, submission] = levelsOf(phases, [1], ['command', 'submission']);
  expect(command?.sameWork).toBeNull();
  expect(command?.vsSameWork).toBeNull();
  expect(submission?.vsSameWork?.cpuPerRequest).toBe(1.5);
  expect(submission?.ratio.cpuPerRequest).toBe(3);
});

test('ratios are taken per alternating round, then their median and spread', () => {
  // Per request: bot 3, 2, 6 ms against same-work 2, 2, 2 ms in rounds 1, 2 (c=1) and 1 (c=16).
  const phases = [
    phase({ target: 'bot', kind: 'submission', round: 1, acks: [1], cpuMs: 3 }),
    phase({ target: 'same-work', kind: 'submission', round: 1, acks: [1], cpuMs: 2 }),
    phase({ target: 'bot', kind: 'submission', round: 2, acks: [1], cpuMs: 2 }),
    phase({ target: 'same-work', kind: 'submission', round: 2, acks: [1], cpuMs: 2 }),
    phase({ target: 'bot', kind: 'submission', round: 1, concurrency: 16, acks: [1], cpuMs: 6 }),
    phase({ target: 'same-work', kind: 'submission', round: 1, concurrency: 16, acks: [1], cpuMs: 2 }),
    // a bot phase without its peer is left out
    phase({ target: 'bot', kind: 'submission', round: 3, acks: [1], cpuMs: 100 }),
  ];
  expect(pairRatios(phases, 'same-work', 'submission', 'cpuPerRequest', null)).toEqual([1.5, 1, 3]);
  const rounds = roundRatios(phases, [1, 16]);
  expect(rounds.find((r) => r.figure === 'cpuPerRequest' && r.concurrency === null)).toEqual({
    figure: 'cpuPerRequest',
    against: 'same-work',
    kind: 'submission',
    concurrency: null,
    median: 1.5,
    min: 1,
    max: 3,
    rounds: 3,
  });
  expect(rounds.find((r) => r.figure === 'cpuPerRequest' && r.concurrency === 1)?.median).toBe(1.25);
  // No command phases: nothing against bare Bolt.
  expect(rounds.filter((r) => r.against === 'baseline')).toEqual([]);
});

test('post-GC RSS is the median over the measured and soak phases, warm-up left out', () => {
  const phases = [
    phase({ target: 'bot', stage: 'warmup', rssMB: 500 }),
    phase({ target: 'bot', rssMB: 120 }),
    phase({ target: 'bot', stage: 'soak', rssMB: 130 }),
    phase({ target: 'baseline', rssMB: 90 }),
  ];
  expect(postGcRss(phases, 'bot')).toBe(125);
  expect(postGcRss(phases, 'same-work')).toBeNull();
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
  const pair = (
    kind: 'command' | 'submission',
    botCpu: number,
    peer: 'baseline' | 'same-work',
    peerCpu: number,
  ) => [
    // Submissions: the bot's post 4 ms after the request against same-work's 2 ms (2×).
    phase({ target: 'bot', kind, acks: [kind === 'command' ? 1 : 3], cpuMs: botCpu, rssMB: 150 }),
    phase({ target: peer, kind, acks: [1], cpuMs: peerCpu, rssMB: 120 }),
  ];
  const phases = [...pair('command', 1.05, 'baseline', 1), ...pair('submission', 1.3, 'same-work', 1)];
  const store = (name: 'sqlite' | 'redis', more: PhaseData[] = []) => ({
    store: name,
    storeUrl: `${name}://x`,
    phases: [...phases, ...more],
    spawnSamples: { bot: [300], baseline: [150], 'same-work': [160] },
    afterWarmup: {},
    after: {},
    logEvents: {
      bot: { stdout: {}, stderr: {} },
      baseline: { stdout: {}, stderr: {} },
      'same-work': { stdout: {}, stderr: {} },
    },
  });
  // One ack after 3.5 s in the SQLite run's soak (a warm-up one does not count).
  const slow = (stage: 'soak' | 'warmup') => phase({ target: 'bot', stage, acks: [1, 3500] });
  const report = buildReport(
    { ...SMOKE_OPTIONS, concurrency: [1] },
    [store('sqlite', [slow('soak')]), store('redis', [slow('warmup')])],
    {
      startedAt: new Date(0),
      machine,
      strayCalls: {},
      npmStart: { startsMs: [2400, 1200], built: [false, true] },
    },
  );
  const met = (name: string) =>
    Object.fromEntries(report.targets.filter((t) => t.store === name).map((t) => [t.id, t.met]));
  expect(met('sqlite')).toEqual({
    'cpu-per-submission-vs-same-work': false,
    'cpu-per-command-vs-bare': true,
    'post-gc-rss-vs-bare': false,
    'start-to-ready-vs-bare': false,
    'post-p99-vs-same-work-c1': false,
    'acks-within-slack-limit': false,
  });
  expect(met('redis')).toEqual({ ...met('sqlite'), 'acks-within-slack-limit': true });
  const late = report.targets.find((t) => t.id === 'acks-within-slack-limit');
  expect(late?.measured).toBe('1 of 4 late or unanswered');
  expect(report.baselines.sameWork.name).toBe('same-work');
  expect(report.stores[0]?.levels).toHaveLength(2);
  const markdown = renderMarkdown(report);
  // One row per target, one column per store.
  expect(markdown).toContain('| Target (gated) | Threshold | SQLite | Redis |');
  expect(markdown).toContain(
    '| submission → post p99 at concurrency 1, bot / same-work (median of per-round ratios) | ≤ 1.50× | 2.00× (rounds 2.00×–2.00×, n=1): **missed** |',
  );
  expect(markdown).toMatch(
    /\| 1 of 4 late or unanswered: \*\*missed\*\* \| 0 of 2 late or unanswered: met \|/,
  );
  expect(markdown).toMatch(/\| 1 \| submission \| \*bot \/ same-work\* \| /);
  expect(markdown).toContain('| spawn → `/healthz` 200, median (ms) | 300 | 150 | 160 |');
  // The `npm start` figure: both starts, and a rebuild called out.
  expect(markdown).toContain(
    '`npm start` twice, nothing changed since the build: 2400 ms, then 1200 ms from spawn',
  );
  expect(markdown).toContain('(**it rebuilt**, though nothing changed)');
});
