/** The benchmark report: its JSON shape, the targets it is judged against, and its Markdown. */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { BenchOptions } from './options.js';
import type { TargetName } from './processes.js';

export type Kind = 'command' | 'submission';
export type Stage = 'warmup' | 'measure' | 'soak';

export interface PhaseSummary {
  target: TargetName;
  kind: Kind;
  concurrency: number;
  round: number;
  stage: Stage;
  requests: number;
  acked: number;
  ok: number;
  non200: number;
  /** Acks with a body (e.g. response_action: errors): no follow-up call is expected for those. */
  ackBodies: number;
  ackBodySamples: string[];
  durationMs: number;
  acksPerSec: number | null;
  /**
   * The first request on each of the phase's new connections: it pays for the connection and, when
   * the target is saturated, waits for it to get round to the new socket. Left out of `ackMs` and
   * `follow`, summarised here.
   */
  firstOnConnection: {
    count: number;
    ackMedianMs: number | null;
    ackMaxMs: number | null;
    followMaxMs: number | null;
  };
  /** Every request but the first on each connection. */
  ackMs: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  follow: {
    method: 'views.open' | 'chat.postMessage';
    expected: number;
    received: number;
    duplicates: number;
    /** Submissions: minus the Katapult latency when the request called Katapult. */
    p50Ms: number | null;
    p99Ms: number | null;
    maxMs: number | null;
    oddPosts: number;
    oddPostSamples: string[];
  };
  /** Submissions to the bot: request sent → Katapult call received, and Katapult answer → post received. */
  katapult: {
    calls: number;
    beforeP50Ms: number | null;
    beforeP99Ms: number | null;
    afterP50Ms: number | null;
    afterP99Ms: number | null;
  } | null;
  slackCalls: Record<string, number>;
  load: {
    errors: number;
    timeouts: number;
    non2xx: number;
    resets: number;
    extraRequests: number;
    statusCounts: Record<string, number>;
  };
  /** CPU time (user + system, all threads) of the target during the phase, per request. */
  cpuMsPerRequest: number | null;
  /** CPU time of the benchmark process itself (fakes, load generator) per request. */
  benchCpuMsPerRequest: number | null;
  /**
   * Event-loop delay of the benchmark's own threads during the phase. High values mean the harness,
   * not the target, added to the tail latencies (ack: load generator; follow-ups: fakes).
   */
  harnessEld: {
    loadGeneratorP99Ms: number | null;
    loadGeneratorMaxMs: number | null;
    fakesP99Ms: number | null;
    fakesMaxMs: number | null;
  };
  eldP99Ms: number | null;
  eldMaxMs: number | null;
  peakRssMB: number;
  /** Memory of the target at the end of the phase, after a full GC. */
  afterGcMB: { rss: number; heapUsed: number; heapTotal: number; external: number };
}

export interface Metrics {
  requests: number;
  ok: number;
  non200: number;
  acksPerSec: number | null;
  ackP50Ms: number | null;
  ackP95Ms: number | null;
  ackP99Ms: number | null;
  followP50Ms: number | null;
  followP99Ms: number | null;
  followMissing: number;
  /** Submissions only (bot): request → Katapult call, Katapult answer → post. */
  beforeKatapultP99Ms: number | null;
  afterKatapultP99Ms: number | null;
  cpuMsPerRequest: number | null;
  eldP99Ms: number | null;
  /** Worst event-loop delay p99 of the load generator and of the fakes during these phases. */
  harnessEldP99Ms: number | null;
  peakRssMB: number | null;
}

export interface LevelSummary {
  concurrency: number;
  kind: Kind;
  bot: Metrics;
  baseline: Metrics;
  /** bot / baseline */
  ratio: {
    acksPerSec: number | null;
    ackP50: number | null;
    ackP95: number | null;
    ackP99: number | null;
    followP50: number | null;
    followP99: number | null;
    cpuPerRequest: number | null;
  };
}

export interface MemoryFigures {
  rssMB: number;
  heapUsedMB: number;
  heapTotalMB: number;
  externalMB: number;
}

/** After a full GC, at the end of a phase, `requests` requests after the warm-up. */
export interface MemoryPoint extends MemoryFigures {
  requests: number;
}

export interface MemorySummary {
  afterWarmup: MemoryFigures | null;
  after: MemoryFigures | null;
  requestsBetween: number;
  rssGrowthMB: number | null;
  heapGrowthMB: number | null;
  heapTotalGrowthMB: number | null;
  /** The leak-check soak: least-squares trend of the post-GC samples, robust to RSS jitter. */
  soak: {
    requests: number;
    rssTrendMBPer10k: number | null;
    heapUsedTrendMBPer10k: number | null;
    rssRangeMB: [number, number];
  } | null;
  peakRssMB: number | null;
  timeline: MemoryPoint[];
}

export interface TargetCheck {
  id: string;
  target: string;
  threshold: string;
  measured: string;
  /** null: not measured in this run. */
  met: boolean | null;
}

export interface Machine {
  os: string;
  cpu: string;
  cores: number;
  memoryGB: number;
  node: string;
  bolt: string | null;
  commit: string | null;
  /** 1, 5 and 15 minute load averages: anything well above 0 means other work shared the CPUs. */
  loadAvgAtStart: number[];
  loadAvgAtEnd: number[];
  /** Share of the machine's CPU time (all cores) used by processes other than the benchmark's during the run. */
  otherCpuShare: number;
}

export interface BenchReport {
  schema: 1;
  smoke: boolean;
  startedAt: string;
  finishedAt: string;
  durationSec: number;
  machine: Machine;
  options: Omit<BenchOptions, 'deadlineMs'>;
  spawnToReadyMs: Record<TargetName, { samples: number[]; median: number | null; max: number | null }>;
  levels: LevelSummary[];
  memory: Record<TargetName, MemorySummary>;
  eventLoop: Record<TargetName, { worstP99Ms: number | null; maxMs: number | null; resolutionMs: number }>;
  targets: TargetCheck[];
  /** Everything that did not go as expected (non-200 acks, missing follow-ups, failure posts…). */
  problems: string[];
  logEvents: Record<TargetName, { stdout: Record<string, number>; stderr: Record<string, number> }>;
  /** Fake-API calls that could not be matched to a running phase. */
  strayCalls: Record<string, number>;
  phases: PhaseSummary[];
}

// ---- targets ---------------------------------------------------------------------------------

const fmtRatio = (r: number | null) => (r === null ? 'n/a' : `${r.toFixed(2)}×`);

export function ms(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return 'n/a';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function evaluateTargets(report: Omit<BenchReport, 'targets'>): TargetCheck[] {
  const { levels, options } = report;
  const checks: TargetCheck[] = [];
  const label = (l: LevelSummary) => `c=${l.concurrency} ${l.kind}`;

  const acks = levels.map((l) => ({ l, r: l.ratio.acksPerSec }));
  const worstAcks = acks.reduce<(typeof acks)[number] | null>(
    (w, x) => (x.r !== null && (w === null || w.r === null || x.r < w.r) ? x : w),
    null,
  );
  checks.push({
    id: 'acks',
    target: 'acks/s vs baseline, every concurrency and request kind',
    threshold: '≥ 0.80×',
    measured: worstAcks ? `lowest ${fmtRatio(worstAcks.r)} (${label(worstAcks.l)})` : 'n/a',
    met: acks.length > 0 && acks.every((x) => x.r !== null && x.r >= 0.8),
  });

  const p99 = levels.map((l) => ({ l, r: l.ratio.ackP99 }));
  const worstP99 = p99.reduce<(typeof p99)[number] | null>(
    (w, x) => (x.r !== null && (w === null || w.r === null || x.r > w.r) ? x : w),
    null,
  );
  checks.push({
    id: 'ack-p99',
    target: 'ack p99 vs baseline, every concurrency and request kind',
    threshold: '≤ 1.25×',
    measured: worstP99 ? `highest ${fmtRatio(worstP99.r)} (${label(worstP99.l)})` : 'n/a',
    met: p99.length > 0 && p99.every((x) => x.r !== null && x.r <= 1.25),
  });

  const widest = Math.max(...options.concurrency);
  const at = options.concurrency.includes(64) ? 64 : widest;
  const open = levels.find((l) => l.concurrency === at && l.kind === 'command')?.bot;
  checks.push({
    id: 'views-open-p99',
    target: `command → views.open p99 at concurrency ${at}${at === 64 ? '' : ' (64 not run)'}`,
    threshold: '< 100 ms',
    measured: open ? `${ms(open.followP99Ms)} ms` : 'n/a',
    met: open?.followP99Ms == null ? null : open.followP99Ms < 100 && open.followMissing === 0,
  });

  const subs = levels.filter((l) => l.kind === 'submission');
  const worstSub = subs.reduce<LevelSummary | null>(
    (w, l) => ((l.bot.followP99Ms ?? -1) > (w?.bot.followP99Ms ?? -1) ? l : w),
    null,
  );
  checks.push({
    id: 'post-overhead-p99',
    target: `submission → channel post p99, minus the ${options.katapultLatencyMs} ms Katapult latency, every concurrency`,
    threshold: '< 25 ms',
    measured: worstSub ? `highest ${ms(worstSub.bot.followP99Ms)} ms (c=${worstSub.concurrency})` : 'n/a',
    met:
      subs.length === 0
        ? null
        : subs.every(
            (l) => l.bot.followP99Ms !== null && l.bot.followP99Ms < 25 && l.bot.followMissing === 0,
          ),
  });

  const mem = report.memory.bot;
  const trend = mem.soak?.rssTrendMBPer10k ?? null;
  checks.push({
    id: 'rss-growth',
    target:
      'bot RSS growth per 10,000 requests: least-squares trend of post-GC samples during the leak-check soak ' +
      '(the raw after-warm-up → end difference is shown too)',
    threshold: '< 10 MB',
    measured:
      trend === null
        ? `no soak run; after warm-up → end ${mb(mem.rssGrowthMB)} MB over ${mem.requestsBetween} requests`
        : `${trend.toFixed(1)} MB per 10k over a ${mem.soak?.requests ?? 0}-request soak (V8 heap used ${mb(mem.soak?.heapUsedTrendMBPer10k)} MB per 10k); after warm-up → end ${mb(mem.rssGrowthMB)} MB over ${mem.requestsBetween} requests`,
    met: trend === null || (mem.soak?.requests ?? 0) < 5000 ? null : trend < 10,
  });

  const eld = report.eventLoop.bot;
  checks.push({
    id: 'eld-p99',
    target: `bot event-loop delay p99, worst measured phase (monitorEventLoopDelay, ${eld.resolutionMs} ms resolution)`,
    threshold: '< 20 ms',
    measured: `${ms(eld.worstP99Ms)} ms`,
    met: eld.worstP99Ms === null ? null : eld.worstP99Ms < 20,
  });

  const spawn = report.spawnToReadyMs.bot;
  checks.push({
    id: 'spawn-to-ready',
    target: `bot spawn → GET /healthz 200 (median of ${spawn.samples.length})`,
    threshold: '< 1500 ms',
    measured: `${ms(spawn.median)} ms (max ${ms(spawn.max)} ms)`,
    met: spawn.median === null ? null : spawn.median < 1500,
  });
  return checks;
}

// ---- Markdown --------------------------------------------------------------------------------

const num = (v: number | null, digits = 0) => (v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits));
const mb = (v: number | null | undefined) => (v == null ? 'n/a' : v.toFixed(1));

export function renderMarkdown(report: BenchReport): string {
  const { options } = report;
  const out: string[] = [];
  const m = report.machine;
  out.push(
    `Run ${report.finishedAt.slice(0, 16).replace('T', ' ')} UTC${report.smoke ? ' (smoke run: small, thresholds not enforced)' : ''}, ` +
      `${report.durationSec.toFixed(0)} s. Machine: ${m.os}; ${m.cpu}, ${m.cores} cores, ${m.memoryGB.toFixed(1)} GB; ` +
      `Node ${m.node}; @slack/bolt ${m.bolt ?? '?'}${m.commit ? `; commit ${m.commit}` : ''}. ` +
      `Other processes used ${(m.otherCpuShare * 100).toFixed(0)}% of the machine's CPU time during the run ` +
      `(load average ${m.loadAvgAtStart[0]?.toFixed(2)} at the start, ${m.loadAvgAtEnd[0]?.toFixed(2)} at the end).`,
    '',
    ...(m.otherCpuShare > 0.1
      ? [
          '> **Noisy run:** other processes were using the CPUs. Tail latencies, event-loop delay and acks/s are then less reliable; compare ratios and CPU ms/request, and rerun on a quiet machine.',
          '',
        ]
      : []),
    `Settings: ${options.requests} requests per target, kind and concurrency (${options.rounds} alternating round(s)), ` +
      `concurrency ${options.concurrency.join(', ')}, Katapult latency ${options.katapultLatencyMs} ms, ` +
      `warm-up ${options.warmup} per kind, bot started with ${options.bot === 'dist' ? '`node dist/main.js`' : '`node --import tsx src/main.ts`'}.`,
    '',
  );

  out.push(
    '#### Throughput and latency',
    '',
    'Latencies in ms. *Follow-up*: for a command, request sent → `views.open` received by the fake Slack; ' +
      `for a submission, request sent → \`chat.postMessage\` received, minus the ${options.katapultLatencyMs} ms ` +
      'Katapult latency (the baseline makes no Katapult call). *ELD*: event-loop delay p99 of the target process ' +
      'during the phase. *CPU ms/req*: CPU time (user + system, all threads) of the target process during ' +
      'the phase, divided by its requests. *Harness ELD*: event-loop delay p99 of the load generator and of ' +
      'the fakes (the benchmark itself); when it is high, part of the tail is the harness. Ratio rows are bot / baseline. ' +
      'Latency percentiles leave out the first request on each new connection (it pays for the connection; see ' +
      '`firstOnConnection` in the JSON).',
    '',
    '| Concurrency | Request | Target | acks/s | ack p50 | ack p95 | ack p99 | follow-up p50 | follow-up p99 | CPU ms/req | ELD p99 | harness ELD p99 | peak RSS (MB) |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const level of report.levels) {
    for (const name of ['bot', 'baseline'] as const) {
      const x = level[name];
      const missing = x.followMissing > 0 ? ` (${x.followMissing} missing)` : '';
      const failed = x.non200 > 0 ? ` (${x.non200} non-200)` : '';
      out.push(
        `| ${level.concurrency} | ${level.kind} | ${name} | ${num(x.acksPerSec)}${failed} | ${ms(x.ackP50Ms)} | ${ms(x.ackP95Ms)} | ${ms(x.ackP99Ms)} | ${ms(x.followP50Ms)} | ${ms(x.followP99Ms)}${missing} | ${ms(x.cpuMsPerRequest)} | ${ms(x.eldP99Ms)} | ${ms(x.harnessEldP99Ms)} | ${mb(x.peakRssMB)} |`,
      );
    }
    const r = level.ratio;
    out.push(
      `| ${level.concurrency} | ${level.kind} | *ratio* | *${fmtRatio(r.acksPerSec)}* | *${fmtRatio(r.ackP50)}* | *${fmtRatio(r.ackP95)}* | *${fmtRatio(r.ackP99)}* | *${fmtRatio(r.followP50)}* | *${fmtRatio(r.followP99)}* | *${fmtRatio(r.cpuPerRequest)}* | | | |`,
    );
  }
  out.push('');

  const subs = report.levels.filter((l) => l.kind === 'submission' && l.bot.beforeKatapultP99Ms !== null);
  if (subs.length > 0) {
    out.push(
      '#### Where the bot spends a submission (p99, ms)',
      '',
      '| Concurrency | request sent → Katapult call received | Katapult answer → post received |',
      '|---:|---:|---:|',
      ...subs.map(
        (l) => `| ${l.concurrency} | ${ms(l.bot.beforeKatapultP99Ms)} | ${ms(l.bot.afterKatapultP99Ms)} |`,
      ),
      '',
    );
  }

  const s = report.spawnToReadyMs;
  const mem = report.memory;
  const eld = report.eventLoop;
  const memRow = (title: string, f: (x: MemorySummary) => string) =>
    `| ${title} | ${f(mem.bot)} | ${f(mem.baseline)} |`;
  out.push(
    '#### Start-up, memory, event loop',
    '',
    '| | bot | baseline |',
    '|---|---:|---:|',
    `| spawn → \`/healthz\` 200, median (ms) | ${ms(s.bot.median)} | ${ms(s.baseline.median)} |`,
    `| spawn → \`/healthz\` 200, samples (ms) | ${s.bot.samples.map((v) => v.toFixed(0)).join(', ')} | ${s.baseline.samples.map((v) => v.toFixed(0)).join(', ')} |`,
    memRow('RSS after warm-up, after GC (MB)', (x) => mb(x.afterWarmup?.rssMB)),
    memRow('RSS after the measured requests, after GC (MB)', (x) => mb(x.after?.rssMB)),
    memRow('requests between the two', (x) => String(x.requestsBetween)),
    memRow('RSS growth (MB)', (x) => mb(x.rssGrowthMB)),
    memRow('V8 heap used growth (MB)', (x) => mb(x.heapGrowthMB)),
    memRow('V8 heap total (committed) growth (MB)', (x) => mb(x.heapTotalGrowthMB)),
    memRow('leak-check soak: requests, post-GC samples', (x) =>
      x.soak ? `${x.soak.requests}, ${x.timeline.length}` : 'not run',
    ),
    memRow('soak: RSS trend (MB per 10,000 requests)', (x) => mb(x.soak?.rssTrendMBPer10k)),
    memRow('soak: RSS range of the samples (MB)', (x) =>
      x.soak ? `${x.soak.rssRangeMB[0].toFixed(0)}–${x.soak.rssRangeMB[1].toFixed(0)}` : 'n/a',
    ),
    memRow('soak: V8 heap used trend (MB per 10,000 requests)', (x) => mb(x.soak?.heapUsedTrendMBPer10k)),
    memRow('peak RSS, whole run (MB)', (x) => mb(x.peakRssMB)),
    `| event-loop delay p99, worst phase (ms) | ${ms(eld.bot.worstP99Ms)} | ${ms(eld.baseline.worstP99Ms)} |`,
    `| event-loop delay max, worst phase (ms) | ${ms(eld.bot.maxMs)} | ${ms(eld.baseline.maxMs)} |`,
    '',
  );

  out.push('#### Targets', '', '| Target | Threshold | Measured | Met |', '|---|---|---|---|');
  for (const t of report.targets) {
    out.push(
      `| ${t.target} | ${t.threshold} | ${t.measured} | ${t.met === null ? 'not measured' : t.met ? 'yes' : '**no**'} |`,
    );
  }
  out.push('');
  if (report.problems.length > 0) {
    out.push('#### Problems seen', '', ...report.problems.map((p) => `- ${p}`), '');
  }
  return out.join('\n');
}

// ---- docs/benchmarks.md ------------------------------------------------------------------------

export const DOCS_START =
  '<!-- bench:results:start (generated by `npm run bench`; edits inside are overwritten) -->';
export const DOCS_END = '<!-- bench:results:end -->';

/** Replaces the generated block of the page (everything else is kept), or writes a minimal page. */
export async function updateDocs(file: string, markdown: string): Promise<void> {
  const block = `${DOCS_START}\n\n${markdown.trim()}\n\n${DOCS_END}`;
  let page: string;
  if (existsSync(file)) {
    const current = await readFile(file, 'utf8');
    const start = current.indexOf(DOCS_START.slice(0, 30));
    const end = current.indexOf(DOCS_END);
    page =
      start >= 0 && end > start
        ? `${current.slice(0, start)}${block}${current.slice(end + DOCS_END.length)}`
        : `${current.trimEnd()}\n\n## Latest results\n\n${block}\n`;
  } else {
    page = `# Benchmarks\n\nRun \`npm run bench\` (see bench/run.ts --help).\n\n## Latest results\n\n${block}\n`;
  }
  await writeFile(file, page);
}
