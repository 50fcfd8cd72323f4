/**
 * From the phases of a run to the report: per level and target, the figures over the measured
 * rounds; memory and event loop per target; what went wrong. Pure functions over the phase data,
 * so they are unit-tested without spawning anything.
 */
import type { BenchOptions, StoreKind } from './options.js';
import type { PhaseData } from './phase.js';
import type { ProbeReport, TargetName } from './processes.js';
import type {
  BenchReport,
  Kind,
  LevelSummary,
  LogEvents,
  Machine,
  MemoryFigures,
  MemoryPoint,
  MemorySummary,
  Metrics,
  PhaseSummary,
  Ratios,
  RoundRatio,
  StoreReport,
} from './report.js';
import { evaluateTargets } from './report.js';
import {
  MB,
  maxOf,
  median,
  midMedian,
  minOf,
  rank,
  ratio,
  round,
  slopePer10k,
  sortedFinite,
} from './stats.js';
import { BASELINES, TARGETS } from './targets.js';

/** The finite values of several arrays, sorted. */
function concatSorted(parts: Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return sortedFinite(all);
}

const sum = <T>(items: T[], pick: (x: T) => number) => items.reduce((n, x) => n + pick(x), 0);

/** One target's figures for one kind at one concurrency, over its measured rounds. */
export function metricsOf(phases: PhaseData[], target: TargetName, kind: Kind, connections: number): Metrics {
  const mine = phases.filter(
    (p) =>
      p.summary.stage === 'measure' &&
      p.summary.target === target &&
      p.summary.kind === kind &&
      p.summary.concurrency === connections,
  );
  const ack = concatSorted(mine.map((p) => p.ack));
  const follow = concatSorted(mine.map((p) => p.follow));
  const before = concatSorted(mine.map((p) => p.beforeKatapult));
  const afterK = concatSorted(mine.map((p) => p.afterKatapult));
  const ok = sum(mine, (p) => p.okCount);
  const active = sum(mine, (p) => p.activeMs);
  const requests = sum(mine, (p) => p.summary.requests);
  const expected = sum(mine, (p) => p.summary.follow.expected);
  const received = sum(mine, (p) => p.summary.follow.received);
  const cpu = sum(mine, (p) => (p.summary.cpuMsPerRequest ?? 0) * p.summary.requests);
  return {
    requests,
    ok,
    non200: requests - ok,
    acksPerSec: active > 0 ? round((ok / active) * 1000, 1) : null,
    ackP50Ms: round(rank(ack, 50), 3),
    ackP95Ms: round(rank(ack, 95), 3),
    ackP99Ms: round(rank(ack, 99), 3),
    followP50Ms: round(rank(follow, 50), 3),
    followP99Ms: round(rank(follow, 99), 3),
    followMissing: Math.max(0, expected - received),
    beforeKatapultP99Ms: round(rank(before, 99), 3),
    afterKatapultP99Ms: round(rank(afterK, 99), 3),
    cpuMsPerRequest: round(requests > 0 ? cpu / requests : null, 3),
    eldP99Ms: maxOf(mine.map((p) => p.summary.eldP99Ms)),
    harnessEldP99Ms: maxOf(
      mine.flatMap((p) => [p.summary.harnessEld.loadGeneratorP99Ms, p.summary.harnessEld.fakesP99Ms]),
    ),
    peakRssMB: maxOf(mine.map((p) => p.summary.peakRssMB)),
  };
}

function ratios(b: Metrics, base: Metrics): Ratios {
  const r = (x: number | null, y: number | null) => round(ratio(x, y), 3);
  return {
    acksPerSec: r(b.acksPerSec, base.acksPerSec),
    ackP50: r(b.ackP50Ms, base.ackP50Ms),
    ackP95: r(b.ackP95Ms, base.ackP95Ms),
    ackP99: r(b.ackP99Ms, base.ackP99Ms),
    followP50: r(b.followP50Ms, base.followP50Ms),
    followP99: r(b.followP99Ms, base.followP99Ms),
    cpuPerRequest: r(b.cpuMsPerRequest, base.cpuMsPerRequest),
  };
}

/** The bot against both baselines, per concurrency and kind, rounds pooled. */
export function levelsOf(phases: PhaseData[], concurrency: number[], kinds: Kind[]): LevelSummary[] {
  const levels: LevelSummary[] = [];
  for (const connections of concurrency) {
    for (const kind of kinds) {
      const b = metricsOf(phases, 'bot', kind, connections);
      const base = metricsOf(phases, 'baseline', kind, connections);
      const same = metricsOf(phases, 'same-work', kind, connections);
      const hasSame = same.requests > 0;
      levels.push({
        concurrency: connections,
        kind,
        bot: b,
        baseline: base,
        sameWork: hasSame ? same : null,
        ratio: ratios(b, base),
        vsSameWork: hasSame ? ratios(b, same) : null,
      });
    }
  }
  return levels;
}

/** The per-round figures compared, by name. */
const FIGURES: Record<string, (s: PhaseSummary) => number | null> = {
  cpuPerRequest: (s) => s.cpuMsPerRequest,
  acksPerSec: (s) => s.acksPerSec,
  ackP99: (s) => s.ackMs.p99,
  eldP99: (s) => s.eldP99Ms,
  followP99: (s) => s.follow.p99Ms,
};

/** What is compared against which baseline (issue 14): the gated CPU ratios and the reported ones. */
const COMPARED: { against: RoundRatio['against']; kind: Kind; figures: string[] }[] = [
  {
    against: 'same-work',
    kind: 'submission',
    figures: ['cpuPerRequest', 'acksPerSec', 'ackP99', 'eldP99', 'followP99'],
  },
  { against: 'baseline', kind: 'command', figures: ['cpuPerRequest', 'followP99'] },
];

/**
 * bot / baseline per alternating round: each measured bot phase against the baseline's phase of
 * the same kind, concurrency and round (they ran one after the other).
 */
export function pairRatios(
  phases: PhaseData[],
  against: TargetName,
  kind: Kind,
  figure: (s: PhaseSummary) => number | null,
  concurrency: number | null,
): number[] {
  const measured = phases
    .map((p) => p.summary)
    .filter(
      (s) =>
        s.stage === 'measure' && s.kind === kind && (concurrency === null || s.concurrency === concurrency),
    );
  const out: number[] = [];
  for (const bot of measured.filter((s) => s.target === 'bot')) {
    const peer = measured.find(
      (s) => s.target === against && s.concurrency === bot.concurrency && s.round === bot.round,
    );
    const r = peer ? ratio(figure(bot), figure(peer)) : null;
    if (r !== null && Number.isFinite(r)) out.push(r);
  }
  return out;
}

/** Median and spread of the per-round ratios: over every level (concurrency null), and per level. */
export function roundRatios(phases: PhaseData[], concurrency: number[]): RoundRatio[] {
  const out: RoundRatio[] = [];
  for (const { against, kind, figures } of COMPARED) {
    for (const figure of figures) {
      for (const level of [null, ...concurrency]) {
        const values = pairRatios(
          phases,
          against,
          kind,
          FIGURES[figure] as (s: PhaseSummary) => number | null,
          level,
        );
        if (values.length === 0) continue;
        out.push({
          figure,
          against,
          kind,
          concurrency: level,
          median: round(midMedian(values), 3),
          min: round(minOf(values), 3),
          max: round(maxOf(values), 3),
          rounds: values.length,
        });
      }
    }
  }
  return out;
}

/** Median post-GC RSS (MB) of a target over its measured and soak phases. */
export function postGcRss(phases: PhaseData[], name: TargetName): number | null {
  const own = phases.filter((p) => p.summary.target === name && p.summary.stage !== 'warmup');
  return round(midMedian(own.map((p) => p.summary.afterGcMB.rss)), 1);
}

export function memoryFigures(p: ProbeReport): MemoryFigures {
  return {
    rssMB: round(p.rss / MB, 1) ?? 0,
    heapUsedMB: round(p.heapUsed / MB, 1) ?? 0,
    heapTotalMB: round(p.heapTotal / MB, 1) ?? 0,
    externalMB: round(p.external / MB, 1) ?? 0,
  };
}

/**
 * One target's memory: after warm-up and at the end (both after a full GC), and the leak-check
 * soak's trend. The soak's timeline has one post-GC point per chunk (after its last kind), each at
 * the number of requests sent since the warm-up.
 */
export function memoryOf(
  phases: PhaseData[],
  name: TargetName,
  lastKind: Kind | undefined,
  afterWarmup: ProbeReport | undefined,
  after: ProbeReport | undefined,
): MemorySummary {
  const own = phases.filter((p) => p.summary.target === name);
  const points: MemoryPoint[] = [];
  let requests = 0;
  let soakRequests = 0;
  for (const { summary: s } of own) {
    if (s.stage === 'warmup') continue;
    requests += s.requests;
    if (s.stage !== 'soak') continue;
    soakRequests += s.requests;
    if (s.kind !== lastKind) continue;
    const m = s.afterGcMB;
    points.push({
      requests,
      rssMB: m.rss,
      heapUsedMB: m.heapUsed,
      heapTotalMB: m.heapTotal,
      externalMB: m.external,
    });
  }
  const w = afterWarmup;
  const a = after;
  return {
    afterWarmup: w ? memoryFigures(w) : null,
    after: a ? memoryFigures(a) : null,
    requestsBetween: requests,
    rssGrowthMB: w && a ? round((a.rss - w.rss) / MB, 2) : null,
    heapGrowthMB: w && a ? round((a.heapUsed - w.heapUsed) / MB, 2) : null,
    heapTotalGrowthMB: w && a ? round((a.heapTotal - w.heapTotal) / MB, 2) : null,
    soak:
      points.length >= 3
        ? {
            requests: soakRequests,
            rssTrendMBPer10k: round(
              slopePer10k(points, (p) => p.rssMB),
              2,
            ),
            heapUsedTrendMBPer10k: round(
              slopePer10k(points, (p) => p.heapUsedMB),
              2,
            ),
            rssRangeMB: [minOf(points.map((p) => p.rssMB)) ?? 0, maxOf(points.map((p) => p.rssMB)) ?? 0],
          }
        : null,
    peakRssMB: maxOf([...own.map((p) => p.summary.peakRssMB), a ? round(a.peakRss / MB, 1) : null]),
    timeline: points,
  };
}

export function eventLoopOf(phases: PhaseData[], name: TargetName, resolutionMs: number) {
  const measured = phases.filter((p) => p.summary.target === name && p.summary.stage === 'measure');
  return {
    worstP99Ms: maxOf(measured.map((p) => p.summary.eldP99Ms)),
    maxMs: maxOf(measured.map((p) => p.summary.eldMaxMs)),
    resolutionMs,
  };
}

export function spawnSummary(samples: number[]) {
  return {
    samples: samples.map((v) => round(v, 1) ?? 0),
    median: round(median(samples), 1),
    max: round(maxOf(samples), 1),
  };
}

/**
 * Phases whose tail latencies are partly the benchmark's own (its load generator or fakes stalled),
 * one line each. A note on noise, not a failure: on a shared machine it happens without any fault.
 */
export function noiseNotesOf(store: StoreKind, phases: PhaseData[]): string[] {
  const notes: string[] = [];
  for (const { summary: p } of phases) {
    const harness = Math.max(p.harnessEld.loadGeneratorMaxMs ?? 0, p.harnessEld.fakesMaxMs ?? 0);
    if (p.stage !== 'measure' || harness <= 100) continue;
    const where = `${store}: ${p.stage} ${p.target} c=${p.concurrency} ${p.kind}${p.round ? ` round ${p.round}` : ''}`;
    notes.push(
      `${where}: the harness itself stalled for up to ${harness.toFixed(0)} ms (load generator ${p.harnessEld.loadGeneratorMaxMs} ms, fakes ${p.harnessEld.fakesMaxMs} ms max event-loop delay): this phase's tail latencies are partly the benchmark's`,
    );
  }
  return notes;
}

/** Everything that did not go as expected (a correctness matter, never timing), one line each. */
export function problemsOf(
  store: StoreKind,
  phases: PhaseData[],
  logEvents: Partial<LogEvents>,
  followTimeoutMs: number,
): string[] {
  const problems: string[] = [];
  for (const { summary: p } of phases) {
    const where = `${store}: ${p.stage} ${p.target} c=${p.concurrency} ${p.kind}${p.round ? ` round ${p.round}` : ''}`;
    if (p.non200 > 0)
      problems.push(
        `${where}: ${p.non200} of ${p.requests} requests not answered 200 (${JSON.stringify(p.load.statusCounts)}, ${p.load.errors} errors, ${p.load.timeouts} timeouts)`,
      );
    if (p.ackBodies > 0)
      problems.push(`${where}: ${p.ackBodies} acks had a body, e.g. ${p.ackBodySamples[0] ?? ''}`);
    if (p.follow.received < p.follow.expected)
      problems.push(
        `${where}: ${p.follow.expected - p.follow.received} ${p.follow.method} calls missing after ${followTimeoutMs} ms`,
      );
    if (p.follow.duplicates > 0)
      problems.push(`${where}: ${p.follow.duplicates} duplicate ${p.follow.method} calls`);
    if (p.follow.oddPosts > 0)
      problems.push(
        `${where}: ${p.follow.oddPosts} posts look like failures or went elsewhere, e.g. ${p.follow.oddPostSamples[0] ?? ''}`,
      );
    if (p.target !== 'baseline' && p.kind === 'submission' && (p.katapult?.calls ?? 0) !== p.follow.expected)
      problems.push(
        `${where}: ${p.katapult?.calls ?? 0} Katapult calls for ${p.follow.expected} submissions`,
      );
  }
  for (const [name, events] of Object.entries(logEvents)) {
    const errors = Object.entries(events?.stderr ?? {}).filter(([, n]) => n > 0);
    if (errors.length > 0)
      problems.push(`${store}: ${name} logged on stderr: ${errors.map(([e, n]) => `${e} ×${n}`).join(', ')}`);
  }
  return problems;
}

/** What one store's part of the run measured. */
export interface StoreData {
  store: StoreKind;
  storeUrl: string;
  phases: PhaseData[];
  spawnSamples: Record<TargetName, number[]>;
  afterWarmup: Partial<Record<TargetName, ProbeReport>>;
  after: Partial<Record<TargetName, ProbeReport>>;
  logEvents: LogEvents;
}

export function storeReport(data: StoreData, options: BenchOptions): StoreReport {
  const { phases } = data;
  const memory = {} as Record<TargetName, MemorySummary>;
  const eventLoop = {} as StoreReport['eventLoop'];
  const spawnToReadyMs = {} as StoreReport['spawnToReadyMs'];
  const postGcRssMB = {} as StoreReport['postGcRssMB'];
  for (const name of TARGETS) {
    memory[name] = memoryOf(phases, name, options.kinds.at(-1), data.afterWarmup[name], data.after[name]);
    eventLoop[name] = eventLoopOf(phases, name, options.eldResolutionMs);
    spawnToReadyMs[name] = spawnSummary(data.spawnSamples[name]);
    postGcRssMB[name] = postGcRss(phases, name);
  }
  const run: Omit<StoreReport, 'targets'> = {
    store: data.store,
    storeUrl: data.storeUrl,
    spawnToReadyMs,
    levels: levelsOf(phases, options.concurrency, options.kinds),
    rounds: roundRatios(phases, options.concurrency),
    memory,
    postGcRssMB,
    eventLoop,
    logEvents: data.logEvents,
    phases: phases.map((p) => p.summary),
  };
  return { ...run, targets: evaluateTargets(run) };
}

/** What a run measured, as the aggregation needs it. */
export interface RunData {
  options: BenchOptions;
  machine: Machine;
  startedAt: Date;
  finishedAt: Date;
  durationSec: number;
  stores: StoreData[];
  strayCalls: Record<string, number>;
}

/** The whole report, targets evaluated. */
export function buildReport(run: RunData): BenchReport {
  const { options } = run;
  const stores = run.stores.map((data) => storeReport(data, options));
  const { deadlineMs: _deadline, ...shown } = options;
  return {
    schema: 2,
    smoke: options.smoke,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt.toISOString(),
    durationSec: run.durationSec,
    machine: run.machine,
    options: shown,
    baselines: {
      bare: { ...BASELINES.bare, name: 'baseline' },
      sameWork: { ...BASELINES.sameWork, name: 'same-work' },
    },
    stores,
    targets: stores.flatMap((s) => s.targets),
    problems: run.stores.flatMap((d) => problemsOf(d.store, d.phases, d.logEvents, options.followTimeoutMs)),
    noise: run.stores.flatMap((d) => noiseNotesOf(d.store, d.phases)),
    strayCalls: run.strayCalls,
  };
}
