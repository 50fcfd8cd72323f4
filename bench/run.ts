/**
 * `npm run bench`: load-tests the bot against a bare Bolt app (the baseline) under the same traffic.
 *
 * One run: start the fake Slack and fake Katapult (support/fakes, in this process) and the load
 * generator (autocannon in a worker thread); time cold starts of the bot (`node dist/main.js`) and
 * of the baseline (bench/baseline-app.mjs), both with bench/probe.mjs preloaded; warm both up;
 * then, per concurrency level and round, drive bot, baseline, bot, baseline… with Slack-signed
 * slash commands and view submissions; then a leak-check soak with memory read after a full GC.
 * Prints a Markdown report and writes it as JSON (bench/results/latest.json) and into
 * docs/benchmarks.md. See docs/benchmarks.md for what each figure means.
 *
 * `runBenchmark` is the entry point for the smoke test; run this file to use the CLI (--help).
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SCHEDULE_VIEW } from '../src/slack/ids.js';
import { createMetadataSigner } from '../src/slack/signed-metadata.js';
import { FAKE_KATAPULT_VALID_TOKEN } from '../support/fakes/katapult-api.js';
import { commandBody, viewSubmissionBody } from '../support/slack-requests.js';
import { correlationId, type InstrumentedFakes, PhaseRecorder, startInstrumentedFakes } from './fakes.js';
import { LoadGenerator } from './load.js';
import { type BenchOptions, parseOptions, USAGE, UsageError } from './options.js';
import { killAll, launch, type ProbeReport, type Target, type TargetName } from './processes.js';
import {
  type BenchReport,
  evaluateTargets,
  type Kind,
  type LevelSummary,
  type Machine,
  type MemoryPoint,
  type MemorySummary,
  type Metrics,
  type PhaseSummary,
  renderMarkdown,
  type Stage,
  updateDocs,
} from './report.js';
import { hrMs, MB, maxOf, median, minOf, rank, ratio, round, slopePer10k, sortedFinite } from './stats.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROBE_URL = pathToFileURL(path.join(ROOT, 'bench', 'probe.mjs')).href;

/** Different tokens, so the fake Slack can tell whose call it is. */
const SLACK_TOKENS: Record<TargetName, string> = {
  bot: 'xoxb-bench-bot-0000-1111',
  baseline: 'xoxb-bench-baseline-0000-1111',
};
const USER = 'U0BENCH01';
const CHANNEL = 'C0OPS0001';
const TARGETS: readonly TargetName[] = ['bot', 'baseline'];

export interface RunHooks {
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** One phase's raw figures, kept until the levels are aggregated. */
interface PhaseData {
  summary: PhaseSummary;
  ack: Float64Array;
  follow: Float64Array;
  beforeKatapult: Float64Array;
  afterKatapult: Float64Array;
  okCount: number;
  activeMs: number;
  probe: ProbeReport;
}

function machine(): Machine {
  const cpus = os.cpus();
  let bolt: string | null = null;
  try {
    bolt = (
      JSON.parse(readFileSync(path.join(ROOT, 'node_modules/@slack/bolt/package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    bolt = null;
  }
  let commit: string | null = null;
  try {
    const git = (args: string[]) =>
      execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git(['rev-parse', '--short', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--', 'src']);
    commit = `${head}${dirty ? ' + uncommitted changes in src/' : ''}`;
  } catch {
    commit = null;
  }
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryGB: os.totalmem() / 1024 ** 3,
    node: process.version,
    bolt,
    commit,
    loadAvgAtStart: os.loadavg().map((v) => round(v, 2) ?? 0),
    loadAvgAtEnd: [],
    otherCpuShare: 0,
  };
}

/** CPU time (ms) the whole machine has spent busy, all cores. */
function machineBusyMs(): number {
  return os.cpus().reduce((n, c) => n + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export async function runBenchmark(options: BenchOptions, hooks: RunHooks = {}): Promise<BenchReport> {
  const log = hooks.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const controller = new AbortController();
  const { signal } = controller;
  const onOuterAbort = () => controller.abort(hooks.signal?.reason ?? new Error('aborted'));
  hooks.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const deadline =
    options.deadlineMs === null
      ? null
      : setTimeout(
          () => controller.abort(new Error(`benchmark deadline of ${options.deadlineMs} ms passed`)),
          options.deadlineMs,
        );
  // Last resort if this process exits abruptly: no child may outlive it.
  process.once('exit', killAll);

  const startedAt = new Date();
  const host = machine();
  const busyAtStart = machineBusyMs();
  const ownCpuAtStart = process.cpuUsage();
  const t0 = hrMs();
  const botEntry = path.join(ROOT, options.bot === 'dist' ? 'dist/main.js' : 'src/main.ts');
  if (!existsSync(botEntry)) {
    throw new Error(`${botEntry} is missing${options.bot === 'dist' ? ': run `npm run build` first' : ''}`);
  }

  let fakes: InstrumentedFakes | null = null;
  // Event-loop delay of this thread (the fake Slack and Katapult), per phase.
  const benchEld = monitorEventLoopDelay({ resolution: 1 });
  let load: LoadGenerator | null = null;
  const running: Partial<Record<TargetName, Target>> = {};
  const logEvents: BenchReport['logEvents'] = {
    bot: { stdout: {}, stderr: {} },
    baseline: { stdout: {}, stderr: {} },
  };
  const spawnSamples: Record<TargetName, number[]> = { bot: [], baseline: [] };

  try {
    fakes = await startInstrumentedFakes({
      katapultLatencyMs: options.katapultLatencyMs,
      users: { [USER]: { tz: 'Europe/London', is_admin: true } },
    });
    load = new LoadGenerator();
    const signingSecret = randomBytes(24).toString('hex');
    const encryptionKey = randomBytes(32).toString('base64');
    // The bot refuses a modal whose private_metadata it did not sign: sign it as the bot does.
    const privateMetadata = createMetadataSigner({ current: Buffer.from(encryptionKey, 'base64') }).seal(
      JSON.stringify({ c: CHANNEL }),
    );
    const env = (name: TargetName): Record<string, string> => ({
      ...(process.env.PATH ? { PATH: process.env.PATH } : {}),
      ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
      SLACK_BOT_TOKEN: SLACK_TOKENS[name],
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: (fakes as InstrumentedFakes).slack.apiUrl,
      KATAPULT_API_URL: (fakes as InstrumentedFakes).katapult.baseUrl,
      KATAPULT_API_TOKEN: FAKE_KATAPULT_VALID_TOKEN,
      PORT: '0',
      TOKEN_ENCRYPTION_KEY: encryptionKey,
      LOG_LEVEL: 'info',
      BENCH_PROBE: '1',
      BENCH_PROBE_RESOLUTION_MS: String(options.eldResolutionMs),
      ...(options.bot === 'src' ? { TSX_TSCONFIG_PATH: path.join(ROOT, 'tsconfig.json') } : {}),
    });
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const start = async (name: TargetName): Promise<Target> => {
      const profile = options.cpuProfDir
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${path.resolve(ROOT, options.cpuProfDir)}`,
            `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`,
          ]
        : [];
      const args = [
        ...profile,
        ...(name === 'baseline'
          ? [path.join(ROOT, 'bench/baseline-app.mjs')]
          : options.bot === 'dist'
            ? [botEntry]
            : ['--import', tsx, botEntry]),
      ];
      const target = await abortable(
        launch(
          { name, args, env: env(name), readyTimeoutMs: options.bot === 'src' ? 40_000 : 20_000 },
          PROBE_URL,
        ),
        signal,
      );
      spawnSamples[name].push(target.spawnToReadyMs);
      return target;
    };
    const stop = async (target: Target) => {
      const events = logEvents[target.name];
      for (const stream of ['stdout', 'stderr'] as const) {
        for (const [event, n] of Object.entries(target.logEvents[stream])) {
          events[stream][event] = (events[stream][event] ?? 0) + n;
        }
      }
      await target.stop();
    };

    // 1. Cold starts, alternating, each in a fresh data folder; the last pair stays up.
    for (let i = 0; i < options.spawnSamples; i++) {
      for (const name of TARGETS) {
        const target = await start(name);
        log(
          `${name}: spawn → /healthz 200 in ${target.spawnToReadyMs.toFixed(0)} ms (pid ${target.pid}, port ${target.port})`,
        );
        if (i < options.spawnSamples - 1) await stop(target);
        else running[name] = target;
      }
    }

    const KINDS: readonly Kind[] = options.kinds;
    let runCounter = 0;
    benchEld.enable();
    const requestsSinceWarmup: Record<TargetName, number> = { bot: 0, baseline: 0 };
    const timeline: Record<TargetName, MemoryPoint[]> = { bot: [], baseline: [] };
    const phases: PhaseData[] = [];

    const phase = async (
      target: Target,
      kind: Kind,
      connections: number,
      amount: number,
      stage: Stage,
      roundNo: number,
    ): Promise<PhaseData> => {
      const f = fakes as InstrumentedFakes;
      const run = ++runCounter;
      const bodies: string[] = new Array(amount);
      if (kind === 'command') {
        const responseUrl = f.slack.responseUrl('bench');
        for (let seq = 0; seq < amount; seq++) {
          bodies[seq] = commandBody({
            user_id: USER,
            channel_id: CHANNEL,
            text: '',
            trigger_id: `${correlationId(run, seq)}.trigger`,
            response_url: responseUrl,
          });
        }
      } else {
        // Far enough ahead for the bot (6 min) and Katapult (5 min), well within a year.
        const at = Math.floor(Date.now() / 1000) + 3600;
        for (let seq = 0; seq < amount; seq++) {
          const id = correlationId(run, seq);
          bodies[seq] = viewSubmissionBody({
            callbackId: SCHEDULE_VIEW.callbackId,
            userId: USER,
            viewId: `V${id.toUpperCase()}`,
            privateMetadata,
            values: {
              [SCHEDULE_VIEW.policyBlock]: {
                [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: `dbp_${id}` },
              },
              [SCHEDULE_VIEW.whenBlock]: {
                [SCHEDULE_VIEW.whenAction]: { type: 'datetimepicker', selected_date_time: at },
              },
            },
          });
        }
      }
      const recorder = new PhaseRecorder(
        run,
        amount,
        kind === 'command' ? 'views.open' : 'chat.postMessage',
        CHANNEL,
        SLACK_TOKENS[target.name],
      );
      f.track(recorder);
      let result: Awaited<ReturnType<LoadGenerator['run']>>;
      let before: ProbeReport;
      let benchCpuBefore: NodeJS.CpuUsage;
      let probe: ProbeReport;
      let benchCpu: NodeJS.CpuUsage;
      let fakesEld: { p99Ms: number; maxMs: number };
      try {
        before = await abortable(target.probe('reset'), signal);
        benchCpuBefore = process.cpuUsage();
        benchEld.reset();
        result = await abortable(
          (load as LoadGenerator).run({
            url: target.baseUrl,
            path: '/slack/events',
            secret: signingSecret,
            connections,
            bodies,
            amount,
            timeoutSec: options.requestTimeoutSec,
          }),
          signal,
        );
        let expected = 0;
        for (let i = 0; i < amount; i++)
          if (result.status[i] === 200 && result.emptyBody[i] === 1) expected++;
        await recorder.waitForFollowUps(expected, options.followTimeoutMs, signal);
        benchCpu = process.cpuUsage(benchCpuBefore);
        fakesEld = { p99Ms: benchEld.percentile(99) / 1e6, maxMs: benchEld.max / 1e6 };
        // Let the work that follows the follow-up (audit, reminders…) finish before the next phase.
        await recorder.waitForQuiet(150, 5000, signal);
        // Event-loop and peak figures of the phase; memory after a full GC (the leak check's timeline).
        probe = await abortable(target.probe('gc'), signal);
      } finally {
        f.untrack(recorder);
      }
      requestsSinceWarmup[target.name] += amount;
      if (stage === 'soak' && kind === KINDS.at(-1)) {
        timeline[target.name].push({
          requests: requestsSinceWarmup[target.name],
          rssMB: round(probe.rss / MB, 1) ?? 0,
          heapUsedMB: round(probe.heapUsed / MB, 1) ?? 0,
          heapTotalMB: round(probe.heapTotal / MB, 1) ?? 0,
          externalMB: round(probe.external / MB, 1) ?? 0,
        });
      }

      const ack = new Float64Array(amount).fill(Number.NaN);
      const follow = new Float64Array(amount).fill(Number.NaN);
      const beforeKatapult = new Float64Array(amount).fill(Number.NaN);
      const afterKatapult = new Float64Array(amount).fill(Number.NaN);
      // The first request on each new connection also pays for the connection (and, under load,
      // for the target getting round to it): kept out of the percentiles, reported on its own.
      const connectionAck: number[] = [];
      const connectionFollow: number[] = [];
      let firstSent = Number.POSITIVE_INFINITY;
      let lastAck = Number.NEGATIVE_INFINITY;
      let acked = 0;
      let okCount = 0;
      let expected = 0;
      const latency = options.katapultLatencyMs;
      for (let i = 0; i < amount; i++) {
        const sent = result.sentAt[i] as number;
        const acks = result.ackAt[i] as number;
        if (Number.isFinite(sent) && sent < firstSent) firstSent = sent;
        const first = result.firstOnConnection[i] === 1;
        if (Number.isFinite(acks)) {
          acked++;
          if (acks > lastAck) lastAck = acks;
          if (first) connectionAck.push(acks - sent);
          else ack[i] = acks - sent;
        }
        if (result.status[i] === 200) okCount++;
        if (result.status[i] === 200 && result.emptyBody[i] === 1) expected++;
        const followed = recorder.followAt[i] as number;
        const called = recorder.katapultAt[i] as number;
        if (Number.isFinite(followed)) {
          const value = followed - sent - (Number.isFinite(called) ? latency : 0);
          if (first) connectionFollow.push(value);
          else follow[i] = value;
        }
        if (first) continue;
        if (Number.isFinite(called)) {
          beforeKatapult[i] = called - sent;
          if (Number.isFinite(followed)) afterKatapult[i] = followed - called - latency;
        }
      }
      const activeMs = Number.isFinite(firstSent) && Number.isFinite(lastAck) ? lastAck - firstSent : 0;
      const ackSorted = sortedFinite(ack);
      const followSorted = sortedFinite(follow);
      const beforeSorted = sortedFinite(beforeKatapult);
      const afterSorted = sortedFinite(afterKatapult);
      const summary: PhaseSummary = {
        target: target.name,
        kind,
        concurrency: connections,
        round: roundNo,
        stage,
        requests: amount,
        acked,
        ok: okCount,
        non200: amount - okCount,
        ackBodies: result.unexpectedBodyCount,
        ackBodySamples: result.unexpectedBodies,
        durationMs: round(activeMs) ?? 0,
        acksPerSec: activeMs > 0 ? round((okCount / activeMs) * 1000, 1) : null,
        firstOnConnection: {
          count: connectionAck.length,
          ackMedianMs: round(median(connectionAck), 3),
          ackMaxMs: round(maxOf(connectionAck), 3),
          followMaxMs: round(maxOf(connectionFollow), 3),
        },
        ackMs: {
          p50: round(rank(ackSorted, 50), 3),
          p95: round(rank(ackSorted, 95), 3),
          p99: round(rank(ackSorted, 99), 3),
          max: round(rank(ackSorted, 100), 3),
        },
        follow: {
          method: recorder.follow,
          expected,
          received: recorder.followCount,
          duplicates: recorder.duplicateFollows,
          p50Ms: round(rank(followSorted, 50), 3),
          p99Ms: round(rank(followSorted, 99), 3),
          maxMs: round(rank(followSorted, 100), 3),
          oddPosts: recorder.oddPostCount,
          oddPostSamples: recorder.oddPosts,
        },
        katapult:
          recorder.katapultCalls > 0
            ? {
                calls: recorder.katapultCalls,
                beforeP50Ms: round(rank(beforeSorted, 50), 3),
                beforeP99Ms: round(rank(beforeSorted, 99), 3),
                afterP50Ms: round(rank(afterSorted, 50), 3),
                afterP99Ms: round(rank(afterSorted, 99), 3),
              }
            : null,
        slackCalls: { ...recorder.slackCalls },
        load: {
          errors: result.autocannon.errors,
          timeouts: result.autocannon.timeouts,
          non2xx: result.autocannon.non2xx,
          resets: result.autocannon.resets,
          extraRequests: result.extraRequests,
          statusCounts: result.statusCounts,
        },
        cpuMsPerRequest: round(
          (probe.cpu.user + probe.cpu.system - before.cpu.user - before.cpu.system) / 1000 / amount,
          3,
        ),
        benchCpuMsPerRequest: round((benchCpu.user + benchCpu.system) / 1000 / amount, 3),
        harnessEld: {
          loadGeneratorP99Ms: round(result.eld.p99Ms, 2),
          loadGeneratorMaxMs: round(result.eld.maxMs, 2),
          fakesP99Ms: round(fakesEld.p99Ms, 2),
          fakesMaxMs: round(fakesEld.maxMs, 2),
        },
        eldP99Ms: round(probe.eld.p99Ms, 3),
        eldMaxMs: round(probe.eld.maxMs, 3),
        peakRssMB: round(probe.peakRss / MB, 1) ?? 0,
        afterGcMB: {
          rss: round(probe.rss / MB, 1) ?? 0,
          heapUsed: round(probe.heapUsed / MB, 1) ?? 0,
          heapTotal: round(probe.heapTotal / MB, 1) ?? 0,
          external: round(probe.external / MB, 1) ?? 0,
        },
      };
      if (options.dumpDir) {
        const dir = path.resolve(ROOT, options.dumpDir);
        await mkdir(dir, { recursive: true });
        const list = (a: ArrayLike<number>) =>
          Array.from(a, (v) => (Number.isFinite(v) ? round(v, 3) : null));
        await writeFile(
          path.join(
            dir,
            `${String(run).padStart(3, '0')}-${stage}-${target.name}-c${connections}-${kind}.json`,
          ),
          JSON.stringify({
            summary,
            sentAt: list(result.sentAt),
            ackMs: list(ack),
            followMs: list(follow),
            katapultAt: list(recorder.katapultAt),
            status: Array.from(result.status),
          }),
        );
      }
      const data: PhaseData = {
        summary,
        ack,
        follow,
        beforeKatapult,
        afterKatapult,
        okCount,
        activeMs,
        probe,
      };
      phases.push(data);
      log(
        `${stage.padEnd(7)} ${target.name.padEnd(8)} c=${String(connections).padStart(3)} ${kind.padEnd(10)} ` +
          `${amount} req: ${summary.acksPerSec ?? 'n/a'} acks/s, ack p99 ${summary.ackMs.p99} ms, ` +
          `${recorder.follow} ${recorder.followCount}/${expected} p99 ${summary.follow.p99Ms} ms, ` +
          `ELD p99 ${summary.eldP99Ms} ms` +
          (okCount < amount ? `, ${amount - okCount} NOT 200` : ''),
      );
      return data;
    };

    const bot = running.bot as Target;
    const baseline = running.baseline as Target;
    const widest = Math.max(...options.concurrency);

    // 2. Warm-up, then the memory reference point.
    if (options.warmup > 0) {
      for (const target of [bot, baseline]) {
        for (const kind of KINDS) await phase(target, kind, widest, options.warmup, 'warmup', 0);
      }
    }
    const afterWarmup: Partial<Record<TargetName, ProbeReport>> = {};
    for (const target of [bot, baseline]) {
      afterWarmup[target.name] = await abortable(target.probe('gc'), signal);
      requestsSinceWarmup[target.name] = 0;
    }

    // 3. Measured phases: per concurrency, per round, bot then baseline, commands then submissions.
    const perRound = Math.floor(options.requests / options.rounds);
    for (const connections of options.concurrency) {
      for (let r = 1; r <= options.rounds; r++) {
        for (const target of [bot, baseline]) {
          for (const kind of KINDS) await phase(target, kind, connections, perRound, 'measure', r);
        }
      }
    }

    // 4. Leak check: `leakRequests` more requests at the widest concurrency, in chunks (both kinds,
    // bot and baseline alternating), memory sampled after a full GC at the end of each chunk.
    const chunk = Math.max(widest, Math.min(500, Math.floor(options.leakRequests / (10 * KINDS.length))));
    const soaked: Record<TargetName, number> = { bot: 0, baseline: 0 };
    while (options.leakRequests > 0 && soaked.bot < options.leakRequests) {
      for (const target of [bot, baseline]) {
        for (const kind of KINDS) {
          const amount = Math.max(widest, Math.min(chunk, options.leakRequests - soaked[target.name]));
          await phase(target, kind, widest, amount, 'soak', 0);
          soaked[target.name] += amount;
        }
      }
    }
    const after: Partial<Record<TargetName, ProbeReport>> = {};
    for (const target of [bot, baseline]) after[target.name] = await abortable(target.probe('gc'), signal);
    // What else used the CPUs meanwhile: machine busy time minus this process and the two targets
    // (the short-lived cold-start instances are not counted, so this slightly overstates it).
    const wallMs = hrMs() - t0;
    const ownCpu = process.cpuUsage(ownCpuAtStart);
    const targetsCpuMs = [after.bot, after.baseline].reduce(
      (n, r) => n + (r ? (r.cpu.user + r.cpu.system) / 1000 : 0),
      0,
    );
    const otherCpuShare = Math.max(
      0,
      (machineBusyMs() - busyAtStart - (ownCpu.user + ownCpu.system) / 1000 - targetsCpuMs) /
        (wallMs * host.cores),
    );

    for (const target of [bot, baseline]) {
      await stop(target);
      delete running[target.name];
    }

    // 5. Aggregate.
    const levels: LevelSummary[] = [];
    const metricsOf = (target: TargetName, kind: Kind, connections: number): Metrics => {
      const mine = phases.filter(
        (p) =>
          p.summary.stage === 'measure' &&
          p.summary.target === target &&
          p.summary.kind === kind &&
          p.summary.concurrency === connections,
      );
      const concat = (pick: (p: PhaseData) => Float64Array) => {
        const parts = mine.map(pick);
        const all = new Float64Array(parts.reduce((n, a) => n + a.length, 0));
        let offset = 0;
        for (const part of parts) {
          all.set(part, offset);
          offset += part.length;
        }
        return sortedFinite(all);
      };
      const ack = concat((p) => p.ack);
      const follow = concat((p) => p.follow);
      const before = concat((p) => p.beforeKatapult);
      const afterK = concat((p) => p.afterKatapult);
      const ok = mine.reduce((n, p) => n + p.okCount, 0);
      const active = mine.reduce((n, p) => n + p.activeMs, 0);
      const requests = mine.reduce((n, p) => n + p.summary.requests, 0);
      const expected = mine.reduce((n, p) => n + p.summary.follow.expected, 0);
      const received = mine.reduce((n, p) => n + p.summary.follow.received, 0);
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
        cpuMsPerRequest: round(
          requests > 0
            ? mine.reduce((n, p) => n + (p.summary.cpuMsPerRequest ?? 0) * p.summary.requests, 0) / requests
            : null,
          3,
        ),
        eldP99Ms: maxOf(mine.map((p) => p.summary.eldP99Ms)),
        harnessEldP99Ms: maxOf(
          mine.flatMap((p) => [p.summary.harnessEld.loadGeneratorP99Ms, p.summary.harnessEld.fakesP99Ms]),
        ),
        peakRssMB: maxOf(mine.map((p) => p.summary.peakRssMB)),
      };
    };
    for (const connections of options.concurrency) {
      for (const kind of options.kinds) {
        const b = metricsOf('bot', kind, connections);
        const base = metricsOf('baseline', kind, connections);
        levels.push({
          concurrency: connections,
          kind,
          bot: b,
          baseline: base,
          ratio: {
            acksPerSec: round(ratio(b.acksPerSec, base.acksPerSec), 3),
            ackP50: round(ratio(b.ackP50Ms, base.ackP50Ms), 3),
            ackP95: round(ratio(b.ackP95Ms, base.ackP95Ms), 3),
            ackP99: round(ratio(b.ackP99Ms, base.ackP99Ms), 3),
            followP50: round(ratio(b.followP50Ms, base.followP50Ms), 3),
            followP99: round(ratio(b.followP99Ms, base.followP99Ms), 3),
            cpuPerRequest: round(ratio(b.cpuMsPerRequest, base.cpuMsPerRequest), 3),
          },
        });
      }
    }

    const memory = {} as Record<TargetName, MemorySummary>;
    const eventLoop = {} as BenchReport['eventLoop'];
    for (const name of TARGETS) {
      const w = afterWarmup[name];
      const a = after[name];
      const own = phases.filter((p) => p.summary.target === name);
      const measured = own.filter((p) => p.summary.stage === 'measure');
      const points = timeline[name];
      const soakRequests = soaked[name];
      memory[name] = {
        afterWarmup: w
          ? {
              rssMB: round(w.rss / MB, 1) ?? 0,
              heapUsedMB: round(w.heapUsed / MB, 1) ?? 0,
              heapTotalMB: round(w.heapTotal / MB, 1) ?? 0,
              externalMB: round(w.external / MB, 1) ?? 0,
            }
          : null,
        after: a
          ? {
              rssMB: round(a.rss / MB, 1) ?? 0,
              heapUsedMB: round(a.heapUsed / MB, 1) ?? 0,
              heapTotalMB: round(a.heapTotal / MB, 1) ?? 0,
              externalMB: round(a.external / MB, 1) ?? 0,
            }
          : null,
        requestsBetween: requestsSinceWarmup[name],
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
      eventLoop[name] = {
        worstP99Ms: maxOf(measured.map((p) => p.summary.eldP99Ms)),
        maxMs: maxOf(measured.map((p) => p.summary.eldMaxMs)),
        resolutionMs: options.eldResolutionMs,
      };
    }

    const problems: string[] = [];
    for (const { summary: p } of phases) {
      const where = `${p.stage} ${p.target} c=${p.concurrency} ${p.kind}${p.round ? ` round ${p.round}` : ''}`;
      if (p.non200 > 0)
        problems.push(
          `${where}: ${p.non200} of ${p.requests} requests not answered 200 (${JSON.stringify(p.load.statusCounts)}, ${p.load.errors} errors, ${p.load.timeouts} timeouts)`,
        );
      if (p.ackBodies > 0)
        problems.push(`${where}: ${p.ackBodies} acks had a body, e.g. ${p.ackBodySamples[0] ?? ''}`);
      if (p.follow.received < p.follow.expected)
        problems.push(
          `${where}: ${p.follow.expected - p.follow.received} ${p.follow.method} calls missing after ${options.followTimeoutMs} ms`,
        );
      const harness = Math.max(p.harnessEld.loadGeneratorMaxMs ?? 0, p.harnessEld.fakesMaxMs ?? 0);
      if (p.stage === 'measure' && harness > 100)
        problems.push(
          `${where}: the harness itself stalled for up to ${harness.toFixed(0)} ms (load generator ${p.harnessEld.loadGeneratorMaxMs} ms, fakes ${p.harnessEld.fakesMaxMs} ms max event-loop delay): this phase's tail latencies are partly the benchmark's`,
        );
      if (p.follow.duplicates > 0)
        problems.push(`${where}: ${p.follow.duplicates} duplicate ${p.follow.method} calls`);
      if (p.follow.oddPosts > 0)
        problems.push(
          `${where}: ${p.follow.oddPosts} posts look like failures or went elsewhere, e.g. ${p.follow.oddPostSamples[0] ?? ''}`,
        );
      if (
        p.target === 'bot' &&
        p.kind === 'submission' &&
        p.katapult &&
        p.katapult.calls !== p.follow.expected
      )
        problems.push(`${where}: ${p.katapult.calls} Katapult calls for ${p.follow.expected} submissions`);
    }
    for (const name of TARGETS) {
      const errors = Object.entries(logEvents[name].stderr).filter(([, n]) => n > 0);
      if (errors.length > 0)
        problems.push(`${name} logged on stderr: ${errors.map(([e, n]) => `${e} ×${n}`).join(', ')}`);
    }
    const stray = { ...(fakes as InstrumentedFakes).stray };

    const finishedAt = new Date();
    const base: Omit<BenchReport, 'targets'> = {
      schema: 1,
      smoke: options.smoke,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationSec: round((hrMs() - t0) / 1000, 1) ?? 0,
      machine: {
        ...host,
        loadAvgAtEnd: os.loadavg().map((v) => round(v, 2) ?? 0),
        otherCpuShare: round(otherCpuShare, 3) ?? 0,
      },
      options: {
        requests: options.requests,
        concurrency: options.concurrency,
        katapultLatencyMs: options.katapultLatencyMs,
        rounds: options.rounds,
        warmup: options.warmup,
        leakRequests: options.leakRequests,
        spawnSamples: options.spawnSamples,
        bot: options.bot,
        eldResolutionMs: options.eldResolutionMs,
        requestTimeoutSec: options.requestTimeoutSec,
        followTimeoutMs: options.followTimeoutMs,
        out: options.out,
        docs: options.docs,
        smoke: options.smoke,
        kinds: options.kinds,
        cpuProfDir: options.cpuProfDir,
        dumpDir: options.dumpDir,
      },
      spawnToReadyMs: {
        bot: {
          samples: spawnSamples.bot.map((v) => round(v, 1) ?? 0),
          median: round(median(spawnSamples.bot), 1),
          max: round(maxOf(spawnSamples.bot), 1),
        },
        baseline: {
          samples: spawnSamples.baseline.map((v) => round(v, 1) ?? 0),
          median: round(median(spawnSamples.baseline), 1),
          max: round(maxOf(spawnSamples.baseline), 1),
        },
      },
      levels,
      memory,
      eventLoop,
      problems,
      logEvents,
      strayCalls: stray,
      phases: phases.map((p) => p.summary),
    };
    return { ...base, targets: evaluateTargets(base) };
  } finally {
    if (deadline) clearTimeout(deadline);
    benchEld.disable();
    hooks.signal?.removeEventListener('abort', onOuterAbort);
    await Promise.allSettled(Object.values(running).map((t) => t.stop()));
    killAll();
    process.removeListener('exit', killAll);
    await Promise.allSettled([load?.close(), fakes?.close()]);
  }
}

/** Writes the JSON report and updates the docs page, as the options say. */
export async function writeOutputs(
  report: BenchReport,
  markdown: string,
  options: BenchOptions,
): Promise<string[]> {
  const written: string[] = [];
  if (options.out) {
    const file = path.resolve(ROOT, options.out);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    written.push(path.relative(ROOT, file));
  }
  if (options.docs) {
    const file = path.resolve(ROOT, options.docs);
    await mkdir(path.dirname(file), { recursive: true });
    await updateDocs(file, markdown);
    // The project's formatter also formats Markdown: keep the page as `biome check` wants it.
    try {
      const biome = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');
      execFileSync(process.execPath, [biome, 'format', '--write', file], { cwd: ROOT, stdio: 'ignore' });
    } catch {
      process.stderr.write(`note: could not run biome format on ${file}; run npm run format\n`);
    }
    written.push(path.relative(ROOT, file));
  }
  return written;
}

async function cli(): Promise<number> {
  let options: BenchOptions | null;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
      ? 2
      : 1;
  }
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }
  const controller = new AbortController();
  const interrupt = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping the benchmark and its processes…\n`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const report = await runBenchmark(options, { signal: controller.signal });
  const markdown = renderMarkdown(report);
  process.stdout.write(`\n${markdown}\n`);
  const written = await writeOutputs(report, markdown, options);
  if (written.length) process.stderr.write(`wrote ${written.join(', ')}\n`);
  if (options.smoke) {
    const failed = report.phases.some((p) => p.non200 > 0 || p.follow.received < p.follow.expected);
    return failed ? 1 : 0;
  }
  return 0;
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedDirectly) {
  cli().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
