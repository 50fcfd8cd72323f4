/**
 * The main run's report: the phases' figures per level and target (pure), the targets judged, the
 * machine, the Markdown and the files. docs/benchmarks.md says what each figure means.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { NpmStartFigure } from './npm-start.js';
import type { PhaseData, PhaseSummary } from './phase.js';
import { type ProbeReport, ROOT, TARGETS, type TargetName } from './processes.js';
import type { BenchOptions, Kind, StoreKind } from './run.js';
import * as stats from './stats.js';
import { BASELINES, evaluateTargets } from './targets.js';

const { fmtRatio, MB, maxOf, mb, median, minOf, ms, percentile, ratio, round, slopePer10k } = stats;
const sum = <T>(items: T[], pick: (x: T) => number) => items.reduce((n, x) => n + pick(x), 0);
/** The phases whose summary has every field of `pattern`. */
const only = (phases: PhaseData[], pattern: Partial<Record<keyof PhaseSummary, unknown>>) => {
  const entries = Object.entries(pattern) as [keyof PhaseSummary, unknown][];
  return phases.filter((p) => entries.every(([key, value]) => p.summary[key] === value));
};
type Series = 'ack' | 'follow' | 'beforeKatapult' | 'afterKatapult';
type Pool = (at: (series: Series, p: number) => number | null, mine: PhaseData[]) => number | null;
function worst(pick: (s: PhaseSummary) => (number | null)[]): Pool {
  return (_, m) => maxOf(m.flatMap((p) => pick(p.summary)));
}
/** A per-request figure pooled over the rounds, weighted by their requests. */
const perRequest =
  (key: 'cpuMsPerRequest' | 'cpuSystemMsPerRequest' | 'storeServerCpuMsPerRequest'): Pool =>
  (_, m) =>
    round(sum(m, (p) => (p.summary[key] ?? 0) * p.summary.requests) / sum(m, (p) => p.summary.requests), 3);
const activeMs = (p: PhaseData) => p.activeMs;
const round3 = (v: number | null) => round(v, 3);
type Level = number | null;

/** The per-level figures: its name, the name of its bot / baseline ratio (if any), how the rounds are pooled. */
const METRICS = [
  ['acksPerSec', 'acksPerSec', (_, m) => round((sum(m, (p) => p.okCount) * 1000) / sum(m, activeMs), 1)],
  ['ackP50Ms', 'ackP50', (at) => at('ack', 50)],
  ['ackP95Ms', 'ackP95', (at) => at('ack', 95)],
  ['ackP99Ms', 'ackP99', (at) => at('ack', 99)],
  ['followP50Ms', 'followP50', (at) => at('follow', 50)],
  ['followP99Ms', 'followP99', (at) => at('follow', 99)],
  ['beforeKatapultP99Ms', null, (at) => at('beforeKatapult', 99)],
  ['afterKatapultP99Ms', null, (at) => at('afterKatapult', 99)],
  ['cpuMsPerRequest', 'cpuPerRequest', perRequest('cpuMsPerRequest')],
  ['cpuSystemMsPerRequest', null, perRequest('cpuSystemMsPerRequest')],
  ['storeServerCpuMsPerRequest', null, perRequest('storeServerCpuMsPerRequest')],
  ['eldP99Ms', null, worst((s) => [s.eldP99Ms])],
  ['harnessEldP99Ms', null, worst((s) => [s.harnessEld.loadGeneratorP99Ms, s.harnessEld.fakesP99Ms])],
  ['peakRssMB', null, worst((s) => [s.peakRssMB])],
] as const satisfies readonly (readonly [string, string | null, Pool])[];
type Counts = { requests: number; ok: number; non200: number; followMissing: number };
export type Metrics = Counts & Record<(typeof METRICS)[number][0], number | null>;
type Ratios = Record<NonNullable<(typeof METRICS)[number][1]>, number | null>;

/** One target's figures for one kind at one concurrency, over its measured rounds (latencies pooled). */
export function metricsOf(phases: PhaseData[], target: TargetName, kind: Kind, concurrency: number): Metrics {
  const mine = only(phases, { stage: 'measure', target, kind, concurrency });
  const pool = (series: Series) => mine.flatMap((x) => [...x[series]]);
  const at = (series: Series, p: number) => round(percentile(pool(series), p), 3);
  const [requests, ok] = [sum(mine, (p) => p.summary.requests), sum(mine, (p) => p.okCount)];
  const missing = sum(mine, (p) => p.summary.follow.expected - p.summary.follow.received);
  const figures = Object.fromEntries(METRICS.map(([name, , pool]) => [name, pool(at, mine)]));
  return { requests, ok, non200: requests - ok, ...figures, followMissing: Math.max(0, missing) } as Metrics;
}

function ratios(bot: Metrics, base: Metrics): Ratios {
  const pairs = METRICS.flatMap(([name, r]) => (r ? [[r, round(ratio(bot[name], base[name]), 3)]] : []));
  return Object.fromEntries(pairs);
}

/** The bot against both baselines, per concurrency and kind, rounds pooled (same-work: submissions only). */
export function levelsOf(phases: PhaseData[], levels: number[], kinds: Kind[]) {
  return levels.flatMap((concurrency) =>
    kinds.map((kind) => {
      const of = (target: TargetName) => metricsOf(phases, target, kind, concurrency);
      const [bot, baseline, same] = [of('bot'), of('baseline'), of('same-work')];
      const sameWork = same.requests ? same : null;
      const vsSameWork = sameWork && ratios(bot, sameWork);
      return { concurrency, kind, bot, baseline, sameWork, ratio: ratios(bot, baseline), vsSameWork };
    }),
  );
}

/** The figures compared per alternating round (issue 14): label, figure. */
const FIGURES: Record<string, [string, (s: PhaseSummary) => number | null]> = {
  cpuPerRequest: ['CPU per request', (s) => s.cpuMsPerRequest],
  acksPerSec: ['acks/s', (s) => s.acksPerSec],
  ackP99: ['ack p99', (s) => s.ackMs.p99],
  eldP99: ['event-loop delay p99', (s) => s.eldP99Ms],
  followP99: ['request → follow-up p99', (s) => s.follow.p99Ms],
};
const COMPARED = [
  ['same-work', 'submission', ['cpuPerRequest', 'acksPerSec', 'ackP99', 'eldP99', 'followP99']],
  ['baseline', 'command', ['cpuPerRequest', 'followP99']],
] as const;

/** bot / baseline per round: each measured bot phase against the baseline's of the same kind, level and round. */
export function pairRatios(phases: PhaseData[], against: TargetName, kind: Kind, figure: string, c: Level) {
  const [, pick] = FIGURES[figure] as [string, (s: PhaseSummary) => number | null];
  const measured = only(phases, { stage: 'measure', kind });
  return only(measured, { target: 'bot' }).flatMap(({ summary: bot }) => {
    const peer = only(measured, { target: against, concurrency: bot.concurrency, round: bot.round })[0];
    const r = peer && (c === null || c === bot.concurrency) ? ratio(pick(bot), pick(peer.summary)) : null;
    return r !== null && Number.isFinite(r) ? [r] : [];
  });
}

/** Median and spread of the per-round ratios: over every level (concurrency null), and per level. */
export function roundRatios(phases: PhaseData[], levels: number[]) {
  return COMPARED.flatMap(([against, kind, figures]) =>
    figures.flatMap((figure) =>
      [null, ...levels].flatMap((concurrency) => {
        const values = pairRatios(phases, against, kind, figure, concurrency);
        const m = { median: round3(median(values)), min: round3(minOf(values)), max: round3(maxOf(values)) };
        return values.length ? [{ figure, against, kind, concurrency, ...m, rounds: values.length }] : [];
      }),
    ),
  );
}
export type RoundRatio = ReturnType<typeof roundRatios>[number];

/** Median post-GC RSS (MB) of a target over its measured and soak phases. */
export function postGcRss(phases: PhaseData[], target: TargetName): number | null {
  const own = only(phases, { target }).filter((p) => p.summary.stage !== 'warmup');
  return round(median(own.map((p) => p.summary.afterGcMB.rss)), 1);
}

const MEMORY = ['rss', 'heapUsed', 'heapTotal', 'external'] as const;
type Memory = Record<(typeof MEMORY)[number], number>;
type InMB = Record<`${keyof Memory}MB`, number>;
type Probe = ProbeReport | undefined;
/** Memory figures as `rssMB`, `heapUsedMB`, `heapTotalMB`, `externalMB` (bytes unless `scale` says otherwise). */
export const inMB = (p: Memory, scale = 1 / MB) =>
  Object.fromEntries(MEMORY.map((k) => [`${k}MB`, round(p[k] * scale, 1) ?? 0])) as InMB;

/**
 * One target's memory: after warm-up and at the end (both after a full GC), and the leak-check soak's
 * trend: one post-GC point per chunk (after its last kind), at the requests sent since the warm-up.
 */
export function memoryOf(phases: PhaseData[], target: TargetName, last?: Kind, w?: Probe, a?: Probe) {
  const own = only(phases, { target });
  const timeline: (InMB & { requests: number })[] = [];
  let [requests, soakRequests] = [0, 0];
  for (const { summary: s } of own.filter((p) => p.summary.stage !== 'warmup')) {
    requests += s.requests;
    if (s.stage === 'soak') soakRequests += s.requests;
    if (s.stage === 'soak' && s.kind === last) timeline.push({ requests, ...inMB(s.afterGcMB, 1) });
  }
  const growth = (pick: (r: ProbeReport) => number) => (w && a ? round((pick(a) - pick(w)) / MB, 2) : null);
  const trend = (pick: (p: (typeof timeline)[number]) => number) =>
    round(slopePer10k(timeline.map((p) => ({ x: p.requests, y: pick(p) }))), 2);
  const rss = timeline.map((p) => p.rssMB);
  const soak = {
    requests: soakRequests,
    rssTrendMBPer10k: trend((p) => p.rssMB),
    heapUsedTrendMBPer10k: trend((p) => p.heapUsedMB),
    rssRangeMB: [minOf(rss) ?? 0, maxOf(rss) ?? 0],
  };
  return {
    afterWarmup: w ? inMB(w) : null,
    after: a ? inMB(a) : null,
    requestsBetween: requests,
    rssGrowthMB: growth((r) => r.rss),
    heapGrowthMB: growth((r) => r.heapUsed),
    heapTotalGrowthMB: growth((r) => r.heapTotal),
    soak: timeline.length >= 3 ? soak : null,
    peakRssMB: maxOf([...own.map((p) => p.summary.peakRssMB), a ? round(a.peakRss / MB, 1) : null]),
    timeline,
  };
}

export const spawnSummary = (samples: number[]) => {
  const [median, max] = [round(percentile(samples, 50), 1), round(maxOf(samples), 1)];
  return { samples: samples.map((v) => round(v, 1) ?? 0), median, max };
};
const named = (store: string, { stage, target, concurrency, kind, round }: PhaseSummary) =>
  `${store}: ${stage} ${target} c=${concurrency} ${kind}${round ? ` round ${round}` : ''}`;
/** Measured phases whose tail latencies are partly the benchmark's own (its load generator or fakes stalled). */
export function noiseNotesOf(store: StoreKind, phases: PhaseSummary[]): string[] {
  return phases.flatMap((p) => {
    const { loadGeneratorMaxMs: load, fakesMaxMs: fakes } = p.harnessEld;
    const stall = Math.max(load ?? 0, fakes ?? 0);
    const why = `(load generator ${load} ms, fakes ${fakes} ms max event-loop delay)`;
    const note = `the harness itself stalled for up to ${stall.toFixed(0)} ms ${why}`;
    return stall > 100 && p.stage === 'measure'
      ? [`${named(store, p)}: ${note}: this phase's tail latencies are partly the benchmark's`]
      : [];
  });
}

type Events = { stdout: Record<string, number>; stderr: Record<string, number> };
export type LogEvents = Partial<Record<TargetName, Events>>;
/** Everything that did not go as expected (a correctness matter, never timing), one line each. */
export function problemsOf(store: string, phases: PhaseSummary[], events: LogEvents, timeoutMs: number) {
  const problems = phases.flatMap((p) => {
    const [f, at, calls] = [p.follow, named(store, p), p.katapult?.calls ?? 0];
    const { statusCounts, errors, timeouts } = p.load;
    const why = `(${JSON.stringify(statusCounts)}, ${errors} errors, ${timeouts} timeouts)`;
    const katapult = p.target !== 'baseline' && p.kind === 'submission' && calls !== f.expected;
    return [
      p.non200 > 0 && `${p.non200} of ${p.requests} requests not answered 200 ${why}`,
      p.ackBodies > 0 && `${p.ackBodies} acks had a body, e.g. ${p.ackBodySamples[0] ?? ''}`,
      f.received < f.expected && `${f.expected - f.received} ${f.method} calls missing after ${timeoutMs} ms`,
      f.duplicates > 0 && `${f.duplicates} duplicate ${f.method} calls`,
      f.oddPosts > 0 &&
        `${f.oddPosts} posts look like failures or went elsewhere, e.g. ${f.oddPostSamples[0] ?? ''}`,
      katapult && `${calls} Katapult calls for ${f.expected} submissions`,
    ].flatMap((line) => (line ? [`${at}: ${line}`] : []));
  });
  for (const [name, logged] of Object.entries(events)) {
    const errors = Object.entries(logged?.stderr ?? {}).map(([e, n]) => `${e} ×${n}`);
    if (errors.length > 0) problems.push(`${store}: ${name} logged on stderr: ${errors.join(', ')}`);
  }
  return problems;
}

/** What one store's part of the run measured. */
export interface StoreData {
  store: StoreKind;
  storeUrl: string;
  phases: PhaseData[];
  spawnSamples: Record<TargetName, number[]>;
  afterWarmup?: Partial<Record<TargetName, ProbeReport>>;
  after: Partial<Record<TargetName, ProbeReport>>;
  logEvents: LogEvents;
}

export function storeReport(data: StoreData, options: BenchOptions) {
  const { phases, store, storeUrl } = data;
  const each = <T>(make: (target: TargetName) => T) =>
    Object.fromEntries(TARGETS.map((n) => [n, make(n)])) as Record<TargetName, T>;
  const measured = (target: TargetName) => only(phases, { target, stage: 'measure' }).map((p) => p.summary);
  const run = {
    store,
    storeUrl,
    spawnToReadyMs: each((n) => spawnSummary(data.spawnSamples[n])),
    levels: levelsOf(phases, options.concurrency, options.kinds),
    /** Ratios per alternating round: the gated ones over every level, the reported ones per level. */
    rounds: roundRatios(phases, options.concurrency),
    memory: each((n) => memoryOf(phases, n, options.kinds.at(-1), data.afterWarmup?.[n], data.after[n])),
    postGcRssMB: each((n) => postGcRss(phases, n)),
    eventLoop: each((n) => ({
      worstP99Ms: maxOf(measured(n).map((s) => s.eldP99Ms)),
      maxMs: maxOf(measured(n).map((s) => s.eldMaxMs)),
      resolutionMs: options.eldResolutionMs,
    })),
  };
  const summaries = phases.map((p) => p.summary);
  const bot = summaries.filter((s) => s.target === 'bot' && s.stage !== 'warmup');
  const acks = { requests: sum(bot, (s) => s.requests), late: sum(bot, (s) => s.lateAcks) };
  return { ...run, targets: evaluateTargets({ ...run, acks }), logEvents: data.logEvents, phases: summaries };
}
export type StoreReport = ReturnType<typeof storeReport>;

/** Share of the machine's CPU time that other processes used: busy time minus this process and the targets. */
type CpuTimes = Record<'busyMs' | 'ownCpuMs' | 'targetsCpuMs' | 'wallMs' | 'cores', number>;
export function otherCpuShare(m: CpuTimes) {
  return Math.max(0, (m.busyMs - m.ownCpuMs - m.targetsCpuMs) / (m.wallMs * m.cores));
}

/** The machine and checkout at the start of a run; the function returned adds how busy the machine was. */
export function machineMeter() {
  const busy = () => sum(os.cpus(), ({ times: t }) => t.user + t.nice + t.sys + t.irq);
  const loadAvg = () => os.loadavg().map((v) => round(v, 2) ?? 0);
  const git = (...a: string[]) =>
    execFileSync('git', a, { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' }).trim();
  const bolt = path.join(ROOT, 'node_modules/@slack/bolt/package.json');
  const start = {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGB: os.totalmem() / 1024 ** 3,
    node: process.version,
    bolt: existsSync(bolt) ? (JSON.parse(readFileSync(bolt, 'utf8')).version as string) : null,
    commit: null as string | null,
    loadAvgAtStart: loadAvg(),
  };
  try {
    const dirty = git('status', '--porcelain', '--', 'src') ? ' + uncommitted changes in src/' : '';
    start.commit = `${git('rev-parse', '--short', 'HEAD')}${dirty}`;
  } catch {
    // not a git checkout
  }
  const [busyAtStart, ownAtStart] = [busy(), process.cpuUsage()];
  return (targetsCpuMs: number, wallMs: number) => {
    const own = process.cpuUsage(ownAtStart);
    const [busyMs, ownCpuMs, cores] = [busy() - busyAtStart, (own.user + own.system) / 1000, start.cores];
    const share = otherCpuShare({ busyMs, ownCpuMs, targetsCpuMs, wallMs, cores });
    return { ...start, loadAvgAtEnd: loadAvg(), otherCpuShare: round(share, 3) ?? 0 };
  };
}
export type Machine = ReturnType<ReturnType<typeof machineMeter>>;

type Run = {
  startedAt: Date;
  machine: Machine;
  strayCalls: Record<string, number>;
  npmStart?: NpmStartFigure;
};

/** The whole report, targets judged. */
export function buildReport(options: BenchOptions, data: StoreData[], run: Run) {
  const { startedAt, machine, strayCalls } = run;
  const stores = data.map((d) => storeReport(d, options));
  // The main run's settings (the other scenarios' are left out).
  const { deadlineMs, burst, target, workspaces, touch, organization, redactorLines, ...shown } = options;
  return {
    schema: 2 as const,
    smoke: options.smoke,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationSec: round((Date.now() - startedAt.getTime()) / 1000, 1) ?? 0,
    machine,
    options: shown,
    baselines: BASELINES,
    stores,
    targets: stores.flatMap((s) => s.targets),
    problems: stores.flatMap((s) => problemsOf(s.store, s.phases, s.logEvents, options.followTimeoutMs)),
    /** Phases the benchmark itself disturbed (timing noise, not failures). */
    noise: stores.flatMap((s) => noiseNotesOf(s.store, s.phases)),
    /** Fake-API calls that could not be matched to a running phase. */
    strayCalls,
    npmStart: run.npmStart ?? null, // bench/npm-start.ts; null in a run from src/
  };
}
export type BenchReport = ReturnType<typeof buildReport>;

const LABEL: Record<TargetName, string> = { bot: 'bot', baseline: 'bare Bolt', 'same-work': 'same-work' };
const STORE: Record<StoreKind, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL', redis: 'Redis' };
const table = (head: string[], rows: string[][]) =>
  [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).concat('');
/** The columns of the throughput table: heading, figure, and the name of its bot / baseline ratio. */
const COLUMNS: [string, (m: Metrics) => string, keyof Ratios | null][] = [
  [
    'acks/s',
    (m) => `${m.acksPerSec?.toFixed(0) ?? 'n/a'}${m.non200 ? ` (${m.non200} non-200)` : ''}`,
    'acksPerSec',
  ],
  ['ack p50', (m) => ms(m.ackP50Ms), 'ackP50'],
  ['ack p95', (m) => ms(m.ackP95Ms), 'ackP95'],
  ['ack p99', (m) => ms(m.ackP99Ms), 'ackP99'],
  ['follow-up p50', (m) => ms(m.followP50Ms), 'followP50'],
  [
    'follow-up p99',
    (m) => `${ms(m.followP99Ms)}${m.followMissing ? ` (${m.followMissing} missing)` : ''}`,
    'followP99',
  ],
  [
    'CPU ms/req (kernel; store server)',
    (m) => `${ms(m.cpuMsPerRequest)} (${ms(m.cpuSystemMsPerRequest)}; ${ms(m.storeServerCpuMsPerRequest)})`,
    'cpuPerRequest',
  ],
  ['ELD p99', (m) => ms(m.eldP99Ms), null],
  ['harness ELD p99', (m) => ms(m.harnessEldP99Ms), null],
  ['peak RSS (MB)', (m) => mb(m.peakRssMB), null],
  [
    'p99 request → Katapult / Katapult → post',
    (m) => `${ms(m.beforeKatapultP99Ms)} / ${ms(m.afterKatapultP99Ms)}`,
    null,
  ],
];

/** The run, its settings and the gated targets (and problems, if any): the block in docs/benchmarks.md. */
export function renderSummary(report: BenchReport): string[] {
  const { options: o, machine: m } = report;
  const [load0, load1] = [m.loadAvgAtStart, m.loadAvgAtEnd].map((l) => l[0]?.toFixed(2));
  const bot = o.bot === 'dist' ? '`node dist/main.js`' : '`node --import tsx src/main.ts`';
  // One row per target, one column per store: what was measured there, and whether it met the target.
  const { targets } = report;
  const [stores, ids] = [[...new Set(targets.map((t) => t.store))], [...new Set(targets.map((t) => t.id))]];
  const cell = (store: StoreKind, id: string) => {
    const t = targets.find((x) => x.store === store && x.id === id);
    return !t ? 'n/a' : t.met === null ? t.measured : `${t.measured}: ${t.met ? 'met' : '**missed**'}`;
  };
  const noisy =
    m.otherCpuShare > 0.1 ? ': **a noisy run**, compare ratios and CPU ms/request, and rerun' : '';
  return [
    `Run ${report.finishedAt.slice(0, 16).replace('T', ' ')} UTC${report.smoke ? ' (smoke run)' : ''}, ` +
      `${report.durationSec.toFixed(0)} s. Machine: ${m.os}; ${m.cpu}, ${m.cores} cores, ${m.memoryGB.toFixed(1)} GB; ` +
      `Node ${m.node}; @slack/bolt ${m.bolt ?? '?'}${m.commit ? `; commit ${m.commit}` : ''}. Other processes used ` +
      `${(m.otherCpuShare * 100).toFixed(0)}% of the CPU time (load average ${load0} → ${load1})${noisy}.`,
    '',
    `Settings: ${o.requests} requests per target, kind and concurrency (${o.rounds} alternating round(s)), ` +
      `concurrency ${o.concurrency.join(', ')}, Katapult latency ${o.katapultLatencyMs} ms, warm-up ${o.warmup}, ` +
      `soak ${o.leakRequests}, ${o.spawnSamples} cold start(s), stores ${o.stores.join(', ')}, bot: ${bot}` +
      `${o.bareListeners > 0 ? `, both baselines with ${o.bareListeners} no-op listeners` : ''}.`,
    '',
    ...(report.npmStart ? [npmStartLine(report.npmStart), ''] : []),
    ...table(
      ['Target (gated)', 'Threshold', ...stores.map((s) => STORE[s])],
      ids.map((id) => {
        const [first, ...each] = [targets.find((t) => t.id === id), ...stores.map((s) => cell(s, id))];
        return [first?.target ?? id, first?.threshold ?? '', ...each];
      }),
    ),
    ...report.problems.map((p) => `- **Problem:** ${p}`),
    // The first few only: the block is in docs/benchmarks.md (every one is in latest.json's `noise`).
    ...report.noise.slice(0, NOISE_SHOWN).map((p) => `- Noise: ${p}`),
    ...(report.noise.length > NOISE_SHOWN
      ? [
          `- Noise: ${report.noise.length - NOISE_SHOWN} more such phases (all in \`bench/results/latest.json\`, \`noise\`)`,
        ]
      : []),
    ...(report.problems.length + report.noise.length > 0 ? [''] : []),
  ];
}

/** Noise notes shown in the summary. */
const NOISE_SHOWN = 3;

const npmStartLine = ({ startsMs, built }: NpmStartFigure) =>
  `\`npm start\` twice, nothing changed since the build: ${startsMs.join(' ms, then ')} ms from spawn to ` +
  `\`/healthz\` 200 (issue 22: the second within 3 s)${built.some(Boolean) ? ' (**it rebuilt**, though nothing changed)' : ''}.`;
/** The whole report: the summary, then every store's figures (latencies in ms; see docs/benchmarks.md). */
export function renderMarkdown(report: BenchReport): string {
  const out = renderSummary(report);
  for (const run of report.stores) {
    const levels = run.levels.flatMap((l) => {
      const row = (name: string, m: Metrics | null) => m && [name, ...COLUMNS.map(([, f]) => f(m))];
      const ratioRow = (name: string, r: Ratios | null) =>
        r && [`*${name}*`, ...COLUMNS.map(([, , k]) => (k ? `*${fmtRatio(r[k])}*` : ''))];
      const rows = [row('bot', l.bot), row('bare Bolt', l.baseline), row('same-work', l.sameWork)];
      rows.push(ratioRow('bot / bare', l.ratio), ratioRow('bot / same-work', l.vsSameWork));
      return rows.flatMap((r) => (r ? [[`${l.concurrency}`, l.kind, ...r]] : []));
    });
    const rounds = run.rounds.flatMap((r) => {
      const figure = FIGURES[r.figure]?.[0] ?? r.figure;
      const spread = [fmtRatio(r.median), `${fmtRatio(r.min)}–${fmtRatio(r.max)}`, `${r.rounds}`];
      return r.concurrency === null
        ? []
        : [[figure, LABEL[r.against], r.kind, `${r.concurrency}`, ...spread]];
    });
    type Figure = string | number | null | undefined;
    const row = (title: string, f: (n: TargetName) => Figure) => [
      title,
      ...TARGETS.map((n) => `${f(n) ?? 'n/a'}`),
    ];
    const mem = (title: string, f: (m: StoreReport['memory'][TargetName]) => Figure) =>
      row(title, (n) => f(run.memory[n]));
    const s = run.spawnToReadyMs;
    out.push(
      `### On ${STORE[run.store]} (\`${run.storeUrl}\`)`,
      '',
      '#### Reported, not gated: bot / baseline per alternating round (median and spread)',
      '',
      ...table(['Figure', 'Against', 'Request', 'Concurrency', 'median', 'spread', 'rounds'], rounds),
      '#### Throughput and latency (ms; ratio rows: bot / baseline, rounds pooled)',
      '',
      ...table(['Concurrency', 'Request', 'Target', ...COLUMNS.map(([heading]) => heading)], levels),
      '#### Start-up, memory, event loop',
      '',
      ...table(
        ['', ...TARGETS.map((n) => LABEL[n])],
        [
          row('spawn → `/healthz` 200, median (ms)', (n) => ms(s[n].median)),
          row('spawn → `/healthz` 200, samples (ms)', (n) =>
            s[n].samples.map((v) => v.toFixed(0)).join(', '),
          ),
          row('post-GC RSS, median over the phases (MB)', (n) => mb(run.postGcRssMB[n])),
          mem('RSS after warm-up, after GC (MB)', (m) => mb(m.afterWarmup?.rssMB)),
          mem('RSS after the measured requests, after GC (MB)', (m) => mb(m.after?.rssMB)),
          mem('requests between the two', (m) => m.requestsBetween),
          mem('RSS growth (MB)', (m) => mb(m.rssGrowthMB)),
          mem('V8 heap used growth (MB)', (m) => mb(m.heapGrowthMB)),
          mem('leak-check soak: requests, post-GC samples', (m) =>
            m.soak ? `${m.soak.requests}, ${m.timeline.length}` : 'not run',
          ),
          mem('soak: RSS trend (MB per 10,000 requests)', (m) => mb(m.soak?.rssTrendMBPer10k)),
          mem('soak: V8 heap used trend (MB per 10,000 requests)', (m) => mb(m.soak?.heapUsedTrendMBPer10k)),
          mem('peak RSS, whole run (MB)', (m) => mb(m.peakRssMB)),
          row('event-loop delay p99, worst phase (ms)', (n) => ms(run.eventLoop[n].worstP99Ms)),
          row('event-loop delay max, worst phase (ms)', (n) => ms(run.eventLoop[n].maxMs)),
        ],
      ),
    );
  }
  return out.join('\n');
}

const DOCS_START =
  '<!-- bench:results:start (generated by `npm run bench`; edits inside are overwritten) -->';
const DOCS_END = '<!-- bench:results:end -->';

/** Writes `text` to `file` (relative to the project root); returns the relative path. */
export async function writeResult(file: string, text: string): Promise<string> {
  await mkdir(path.dirname(path.resolve(ROOT, file)), { recursive: true });
  await writeFile(path.resolve(ROOT, file), text);
  return path.relative(ROOT, path.resolve(ROOT, file));
}

/** Replaces the generated block of the docs page (the rest is kept), formatted as `biome check` wants it. */
export async function updateDocs(file: string, markdown: string): Promise<string> {
  const full = path.resolve(ROOT, file);
  const current = existsSync(full) ? await readFile(full, 'utf8') : '';
  const [start, end] = [current.indexOf(DOCS_START.slice(0, 30)), current.indexOf(DOCS_END)];
  const block = `${DOCS_START}\n\n${markdown.trim()}\n\n${DOCS_END}`;
  const page =
    start >= 0 && end > start
      ? `${current.slice(0, start)}${block}${current.slice(end + DOCS_END.length)}`
      : `${current.trimEnd() || '# Benchmarks'}\n\n## Latest results\n\n${block}\n`;
  const written = await writeResult(file, page);
  try {
    const biome = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');
    execFileSync(process.execPath, [biome, 'format', '--write', written], { cwd: ROOT, stdio: 'ignore' });
  } catch {
    process.stderr.write(`note: could not run biome format on ${written}; run npm run format\n`);
  }
  return written;
}
