/** The benchmark report: its JSON shape, the targets it is judged against, and its Markdown. */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { BenchOptions, StoreKind } from './options.js';
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

export interface Ratios {
  acksPerSec: number | null;
  ackP50: number | null;
  ackP95: number | null;
  ackP99: number | null;
  followP50: number | null;
  followP99: number | null;
  cpuPerRequest: number | null;
}

export interface LevelSummary {
  concurrency: number;
  kind: Kind;
  bot: Metrics;
  /** The bare Bolt baseline. */
  baseline: Metrics;
  /** The same-work baseline (submissions only). */
  sameWork: Metrics | null;
  /** bot / bare Bolt, over the pooled rounds */
  ratio: Ratios;
  /** bot / same-work, over the pooled rounds */
  vsSameWork: Ratios | null;
}

/** A bot / baseline ratio taken per alternating round (bot phase and the baseline's next to it). */
export interface RoundRatio {
  figure: string;
  against: 'baseline' | 'same-work';
  kind: Kind;
  /** null: every concurrency level. */
  concurrency: number | null;
  /** Median of the per-round ratios, with their spread. */
  median: number | null;
  min: number | null;
  max: number | null;
  rounds: number;
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
  store: StoreKind;
  /** The baseline it is judged against. */
  against: 'baseline' | 'same-work';
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

export type LogEvents = Record<
  TargetName,
  { stdout: Record<string, number>; stderr: Record<string, number> }
>;

/** Everything measured on one store (the bot and the same-work baseline use it; bare Bolt has none). */
export interface StoreReport {
  store: StoreKind;
  storeUrl: string;
  spawnToReadyMs: Record<TargetName, { samples: number[]; median: number | null; max: number | null }>;
  levels: LevelSummary[];
  /** Ratios per alternating round: the gated ones over every level, the reported ones per level. */
  rounds: RoundRatio[];
  memory: Record<TargetName, MemorySummary>;
  /** Median post-GC RSS over the target's measured and soak phases (MB). */
  postGcRssMB: Record<TargetName, number | null>;
  eventLoop: Record<TargetName, { worstP99Ms: number | null; maxMs: number | null; resolutionMs: number }>;
  targets: TargetCheck[];
  logEvents: LogEvents;
  phases: PhaseSummary[];
}

export interface BenchReport {
  schema: 2;
  smoke: boolean;
  startedAt: string;
  finishedAt: string;
  durationSec: number;
  machine: Machine;
  options: Omit<BenchOptions, 'deadlineMs'>;
  /** What each baseline is and does. */
  baselines: Record<'bare' | 'sameWork', { name: TargetName; file: string; does: string }>;
  stores: StoreReport[];
  /** The gated targets of every store. */
  targets: TargetCheck[];
  /** Everything that did not go as expected (non-200 acks, missing follow-ups, failure posts…). */
  problems: string[];
  /** Phases the benchmark itself disturbed (timing noise, not failures). */
  noise: string[];
  /** Fake-API calls that could not be matched to a running phase. */
  strayCalls: Record<string, number>;
}

// ---- targets ---------------------------------------------------------------------------------

const num = (v: number | null, digits = 0) => (v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits));
const mb = (v: number | null | undefined) => (v == null ? 'n/a' : v.toFixed(1));
const fmtRatio = (r: number | null) => (r === null ? 'n/a' : `${r.toFixed(2)}×`);

export function ms(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return 'n/a';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Gate of a ratio: met when measured and at most `max`. */
const within = (v: number | null, max: number) => (v === null ? null : v <= max);

/** The gated targets of one store (issue 14): noise-resistant figures, medians over alternating rounds. */
export function evaluateTargets(run: Omit<StoreReport, 'targets'>): TargetCheck[] {
  const { store } = run;
  const gated = (figure: string, against: RoundRatio['against']) =>
    run.rounds.find((r) => r.figure === figure && r.against === against && r.concurrency === null);
  const spread = (r: RoundRatio | undefined) =>
    r
      ? `${fmtRatio(r.median)} (rounds ${fmtRatio(r.min)}–${fmtRatio(r.max)}, n=${r.rounds})`
      : 'not measured';
  const cpuSub = gated('cpuPerRequest', 'same-work');
  const cpuCmd = gated('cpuPerRequest', 'baseline');
  const bot = run.postGcRssMB.bot;
  const bare = run.postGcRssMB.baseline;
  const rssDiff = bot === null || bare === null ? null : bot - bare;
  const spawnRatio = ratioOf(run.spawnToReadyMs.bot.median, run.spawnToReadyMs.baseline.median);
  return [
    {
      id: 'cpu-per-submission-vs-same-work',
      store,
      against: 'same-work',
      target: 'CPU per submission, bot / same-work (median of per-round ratios, every concurrency)',
      threshold: '≤ 1.20×',
      measured: spread(cpuSub),
      met: within(cpuSub?.median ?? null, 1.2),
    },
    {
      id: 'cpu-per-command-vs-bare',
      store,
      against: 'baseline',
      target: 'CPU per command, bot / bare Bolt (median of per-round ratios, every concurrency)',
      threshold: '≤ 1.10×',
      measured: spread(cpuCmd),
      met: within(cpuCmd?.median ?? null, 1.1),
    },
    {
      id: 'post-gc-rss-vs-bare',
      store,
      against: 'baseline',
      target: 'post-GC RSS, bot − bare Bolt (medians over the measured and soak phases)',
      threshold: '≤ +20 MB',
      measured:
        rssDiff === null
          ? 'not measured'
          : `${rssDiff >= 0 ? '+' : ''}${rssDiff.toFixed(1)} MB (${mb(bot)} against ${mb(bare)})`,
      met: rssDiff === null ? null : rssDiff <= 20,
    },
    {
      id: 'start-to-ready-vs-bare',
      store,
      against: 'baseline',
      target: `spawn → GET /healthz 200, bot / bare Bolt (medians of ${run.spawnToReadyMs.bot.samples.length} alternating starts)`,
      threshold: '≤ 1.50×',
      measured: `${fmtRatio(spawnRatio)} (${ms(run.spawnToReadyMs.bot.median)} against ${ms(run.spawnToReadyMs.baseline.median)} ms)`,
      met: within(spawnRatio, 1.5),
    },
  ];
}

function ratioOf(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

// ---- Markdown --------------------------------------------------------------------------------

const LABEL: Record<TargetName, string> = { bot: 'bot', baseline: 'bare Bolt', 'same-work': 'same-work' };
const STORE_LABEL: Record<StoreKind, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
const FIGURE_LABEL: Record<string, string> = {
  cpuPerRequest: 'CPU per request',
  acksPerSec: 'acks/s',
  ackP99: 'ack p99',
  eldP99: 'event-loop delay p99',
};
const figureLabel = (r: RoundRatio) =>
  r.figure === 'followP99'
    ? r.kind === 'command'
      ? 'command → views.open p99'
      : 'submission → post p99'
    : (FIGURE_LABEL[r.figure] ?? r.figure);
const met = (t: TargetCheck) => (t.met === null ? 'not measured' : t.met ? 'yes' : '**no**');

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
      `warm-up ${options.warmup} per kind, stores ${options.stores.join(', ')}, bot started with ${options.bot === 'dist' ? '`node dist/main.js`' : '`node --import tsx src/main.ts`'}` +
      (options.bareListeners > 0
        ? `; **both baselines carry ${options.bareListeners} extra no-op listeners** (\`--bare-listeners\`).`
        : '.'),
    '',
    `Baselines: *bare Bolt* (\`${report.baselines.bare.file}\`): ${report.baselines.bare.does}. ` +
      `*same-work* (\`${report.baselines.sameWork.file}\`): ${report.baselines.sameWork.does}.`,
    '',
    '#### Targets',
    '',
    'Gated, as ratios in one run; medians over alternating rounds (bot, bare Bolt, same-work, bot…).',
    '',
    '| Store | Target | Threshold | Measured | Met |',
    '|---|---|---|---|---|',
    ...report.targets.map(
      (t) => `| ${STORE_LABEL[t.store]} | ${t.target} | ${t.threshold} | ${t.measured} | ${met(t)} |`,
    ),
    '',
  );
  for (const run of report.stores) out.push(...renderStore(run, report));
  if (report.problems.length > 0) {
    out.push('#### Problems seen', '', ...report.problems.map((p) => `- ${p}`), '');
  }
  if (report.noise.length > 0) {
    out.push('#### Noise', '', ...report.noise.map((p) => `- ${p}`), '');
  }
  return out.join('\n');
}

function renderStore(run: StoreReport, report: BenchReport): string[] {
  const { options } = report;
  const out: string[] = [`### On ${STORE_LABEL[run.store]} (\`${run.storeUrl}\`)`, ''];
  out.push(
    '#### Reported, not gated: bot / baseline per alternating round',
    '',
    'Median of the per-round ratios, and their spread (lowest–highest), per concurrency.',
    '',
    '| Figure | Against | Request | Concurrency | median | spread | rounds |',
    '|---|---|---|---:|---:|---|---:|',
    ...run.rounds
      .filter((r) => r.concurrency !== null)
      .map(
        (r) =>
          `| ${figureLabel(r)} | ${LABEL[r.against]} | ${r.kind} | ${r.concurrency} | ${fmtRatio(r.median)} | ${fmtRatio(r.min)}–${fmtRatio(r.max)} | ${r.rounds} |`,
      ),
    '',
  );
  out.push(
    '#### Throughput and latency',
    '',
    'Latencies in ms. *Follow-up*: for a command, request sent → `views.open` received by the fake Slack; ' +
      `for a submission, request sent → \`chat.postMessage\` received, minus the ${options.katapultLatencyMs} ms ` +
      'Katapult latency when the request called Katapult (bare Bolt does not). *ELD*: event-loop delay p99 of the target process ' +
      'during the phase. *CPU ms/req*: CPU time (user + system, all threads) of the target process during ' +
      'the phase, divided by its requests. *Harness ELD*: event-loop delay p99 of the load generator and of ' +
      'the fakes (the benchmark itself); when it is high, part of the tail is the harness. Ratio rows are the bot over the named baseline, rounds pooled. ' +
      'Latency percentiles leave out the first request on each new connection (it pays for the connection; see ' +
      '`firstOnConnection` in the JSON).',
    '',
    '| Concurrency | Request | Target | acks/s | ack p50 | ack p95 | ack p99 | follow-up p50 | follow-up p99 | CPU ms/req | ELD p99 | harness ELD p99 | peak RSS (MB) |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const level of run.levels) {
    const rows: [string, Metrics][] = [
      ['bot', level.bot],
      ['bare Bolt', level.baseline],
      ...(level.sameWork ? [['same-work', level.sameWork] as [string, Metrics]] : []),
    ];
    for (const [name, x] of rows) {
      const missing = x.followMissing > 0 ? ` (${x.followMissing} missing)` : '';
      const failed = x.non200 > 0 ? ` (${x.non200} non-200)` : '';
      out.push(
        `| ${level.concurrency} | ${level.kind} | ${name} | ${num(x.acksPerSec)}${failed} | ${ms(x.ackP50Ms)} | ${ms(x.ackP95Ms)} | ${ms(x.ackP99Ms)} | ${ms(x.followP50Ms)} | ${ms(x.followP99Ms)}${missing} | ${ms(x.cpuMsPerRequest)} | ${ms(x.eldP99Ms)} | ${ms(x.harnessEldP99Ms)} | ${mb(x.peakRssMB)} |`,
      );
    }
    const ratioRow = (name: string, r: Ratios) =>
      `| ${level.concurrency} | ${level.kind} | *${name}* | *${fmtRatio(r.acksPerSec)}* | *${fmtRatio(r.ackP50)}* | *${fmtRatio(r.ackP95)}* | *${fmtRatio(r.ackP99)}* | *${fmtRatio(r.followP50)}* | *${fmtRatio(r.followP99)}* | *${fmtRatio(r.cpuPerRequest)}* | | | |`;
    out.push(ratioRow('bot / bare', level.ratio));
    if (level.vsSameWork) out.push(ratioRow('bot / same-work', level.vsSameWork));
  }
  out.push('');

  const subs = run.levels.filter((l) => l.kind === 'submission' && l.bot.beforeKatapultP99Ms !== null);
  if (subs.length > 0) {
    out.push(
      '#### Where a submission spends its time (p99, ms)',
      '',
      '| Concurrency | bot: request sent → Katapult call received | bot: Katapult answer → post received | same-work: request → Katapult | same-work: Katapult → post |',
      '|---:|---:|---:|---:|---:|',
      ...subs.map(
        (l) =>
          `| ${l.concurrency} | ${ms(l.bot.beforeKatapultP99Ms)} | ${ms(l.bot.afterKatapultP99Ms)} | ${ms(l.sameWork?.beforeKatapultP99Ms ?? null)} | ${ms(l.sameWork?.afterKatapultP99Ms ?? null)} |`,
      ),
      '',
    );
  }

  const s = run.spawnToReadyMs;
  const mem = run.memory;
  const eld = run.eventLoop;
  const names = ['bot', 'baseline', 'same-work'] as const;
  const row = (title: string, f: (name: TargetName) => string) =>
    `| ${title} | ${names.map((n) => f(n)).join(' | ')} |`;
  const memRow = (title: string, f: (x: MemorySummary) => string) => row(title, (n) => f(mem[n]));
  out.push(
    '#### Start-up, memory, event loop',
    '',
    `| | ${names.map((n) => LABEL[n]).join(' | ')} |`,
    '|---|---:|---:|---:|',
    row('spawn → `/healthz` 200, median (ms)', (n) => ms(s[n].median)),
    row('spawn → `/healthz` 200, samples (ms)', (n) => s[n].samples.map((v) => v.toFixed(0)).join(', ')),
    row('post-GC RSS, median over the phases (MB)', (n) => mb(run.postGcRssMB[n])),
    memRow('RSS after warm-up, after GC (MB)', (x) => mb(x.afterWarmup?.rssMB)),
    memRow('RSS after the measured requests, after GC (MB)', (x) => mb(x.after?.rssMB)),
    memRow('requests between the two', (x) => String(x.requestsBetween)),
    memRow('RSS growth (MB)', (x) => mb(x.rssGrowthMB)),
    memRow('V8 heap used growth (MB)', (x) => mb(x.heapGrowthMB)),
    memRow('leak-check soak: requests, post-GC samples', (x) =>
      x.soak ? `${x.soak.requests}, ${x.timeline.length}` : 'not run',
    ),
    memRow('soak: RSS trend (MB per 10,000 requests)', (x) => mb(x.soak?.rssTrendMBPer10k)),
    memRow('soak: V8 heap used trend (MB per 10,000 requests)', (x) => mb(x.soak?.heapUsedTrendMBPer10k)),
    memRow('peak RSS, whole run (MB)', (x) => mb(x.peakRssMB)),
    row('event-loop delay p99, worst phase (ms)', (n) => ms(eld[n].worstP99Ms)),
    row('event-loop delay max, worst phase (ms)', (n) => ms(eld[n].maxMs)),
    '',
  );
  return out;
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
