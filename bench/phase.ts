/**
 * One phase: `amount` signed requests of one kind at one concurrency against one target, with the
 * fakes timing the follow-up calls each request causes, and the probe's CPU, event-loop and
 * post-GC memory figures around it. `runPhase` does the I/O; `phaseData` turns what it saw into
 * the phase's figures (pure, unit-tested).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IntervalHistogram } from 'node:perf_hooks';
import { SCHEDULE_VIEW } from '../src/slack/ids.js';
import { createMetadataSigner } from '../src/slack/platform/signed-metadata.js';
import { commandBody, viewSubmissionBody } from '../support/slack-requests.js';
import { correlationId, type InstrumentedFakes, PhaseRecorder } from './fakes.js';
import type { LoadGenerator, LoadResult } from './load.js';
import type { BenchOptions } from './options.js';
import type { ProbeReport, Target, TargetName } from './processes.js';
import type { Kind, PhaseSummary, Stage } from './report.js';
import { MB, maxOf, median, rank, round, sortedFinite } from './stats.js';
import { benchEncryptionKey } from './targets.js';

export const USER = 'U0BENCH01';
export const CHANNEL = 'C0OPS0001';
/** How far ahead submissions ask for the move: past the bot's 60-minute reminder lead, so both follow-ups are held. */
export const SUBMISSION_LEAD_SECONDS = 2 * 3600;

/** One phase's raw figures, kept until the levels are aggregated. */
export interface PhaseData {
  summary: PhaseSummary;
  ack: Float64Array;
  follow: Float64Array;
  beforeKatapult: Float64Array;
  afterKatapult: Float64Array;
  okCount: number;
  activeMs: number;
  probe: ProbeReport;
}

/** What the recorder saw, as plain data. */
export type RecorderView = Pick<
  PhaseRecorder,
  | 'follow'
  | 'followAt'
  | 'katapultAt'
  | 'followCount'
  | 'duplicateFollows'
  | 'katapultCalls'
  | 'oddPostCount'
  | 'oddPosts'
  | 'slackCalls'
>;

export interface PhaseInput {
  target: TargetName;
  kind: Kind;
  connections: number;
  amount: number;
  stage: Stage;
  round: number;
  katapultLatencyMs: number;
  result: LoadResult;
  recorder: RecorderView;
  /** Probe reports before and after the phase (the second after a full GC). */
  before: ProbeReport;
  probe: ProbeReport;
  benchCpu: NodeJS.CpuUsage;
  fakesEld: { p99Ms: number; maxMs: number };
}

/** The signed bodies of one phase; each carries the correlation id of (run, seq). */
export function requestBodies(
  kind: Kind,
  run: number,
  amount: number,
  nowMs: number,
  responseUrl: string,
  /** The modal's private_metadata, signed as the bot signs it (it refuses any other). */
  privateMetadata = JSON.stringify({ c: CHANNEL }),
  /** The workspace each request comes from (default: the fake Slack's one team). */
  teamOf?: (seq: number) => string,
) {
  const bodies: string[] = new Array(amount);
  // Far enough ahead for the bot (6 min) and Katapult (5 min), well within a year.
  const at = Math.floor(nowMs / 1000) + SUBMISSION_LEAD_SECONDS;
  for (let seq = 0; seq < amount; seq++) {
    const id = correlationId(run, seq);
    const team = teamOf?.(seq);
    bodies[seq] =
      kind === 'command'
        ? commandBody({
            ...(team ? { team_id: team } : {}),
            user_id: USER,
            channel_id: CHANNEL,
            text: '',
            trigger_id: `${id}.trigger`,
            response_url: responseUrl,
          })
        : viewSubmissionBody({
            callbackId: SCHEDULE_VIEW.callbackId,
            ...(team ? { teamId: team } : {}),
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
  return bodies;
}

const gcMB = (v: number) => round(v / MB, 1) ?? 0;

/** The phase's figures from what the load generator, the fakes and the probe saw. Pure. */
export function phaseData(input: PhaseInput): PhaseData {
  const { amount, result, recorder, probe, before } = input;
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
  const latency = input.katapultLatencyMs;
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
    target: input.target,
    kind: input.kind,
    concurrency: input.connections,
    round: input.round,
    stage: input.stage,
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
    benchCpuMsPerRequest: round((input.benchCpu.user + input.benchCpu.system) / 1000 / amount, 3),
    harnessEld: {
      loadGeneratorP99Ms: round(result.eld.p99Ms, 2),
      loadGeneratorMaxMs: round(result.eld.maxMs, 2),
      fakesP99Ms: round(input.fakesEld.p99Ms, 2),
      fakesMaxMs: round(input.fakesEld.maxMs, 2),
    },
    eldP99Ms: round(probe.eld.p99Ms, 3),
    eldMaxMs: round(probe.eld.maxMs, 3),
    peakRssMB: gcMB(probe.peakRss),
    afterGcMB: {
      rss: gcMB(probe.rss),
      heapUsed: gcMB(probe.heapUsed),
      heapTotal: gcMB(probe.heapTotal),
      external: gcMB(probe.external),
    },
  };
  return { summary, ack, follow, beforeKatapult, afterKatapult, okCount, activeMs, probe };
}

/** What every phase of a run shares. */
export interface PhaseContext {
  fakes: InstrumentedFakes;
  load: LoadGenerator;
  signingSecret: string;
  options: BenchOptions;
  /** Event-loop delay of this thread (the fakes). */
  benchEld: IntervalHistogram;
  signal: AbortSignal;
  /** The target's bot token: the fakes charge calls without a request id by it. */
  tokenOf: (name: TargetName) => string;
  /** Project root, for --dump. */
  root: string;
  /** A new run number (correlation ids are unique per run). */
  nextRun: () => number;
  /** The workspace of each request sent to the target at `baseUrl` (bench/workspaces.ts); default one. */
  teamFor?: (baseUrl: string, seq: number) => string;
  /** Waits for the target's remaining background work once the phase's own calls are quiet. */
  settle?: () => Promise<void>;
}

export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
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

/** Drives one phase and waits for its follow-ups and background work to finish. */
export async function runPhase(
  ctx: PhaseContext,
  target: Target,
  kind: Kind,
  connections: number,
  amount: number,
  stage: Stage,
  roundNo: number,
): Promise<PhaseData> {
  const { fakes, signal, options } = ctx;
  const run = ctx.nextRun();
  // The bot refuses unsigned modal metadata; the baselines read it as the plain JSON they put there.
  const channel = JSON.stringify({ c: CHANNEL });
  const metadata =
    target.name === 'bot'
      ? createMetadataSigner({ current: benchEncryptionKey(ctx.signingSecret) }).seal(channel)
      : channel;
  const teamFor = ctx.teamFor;
  const bodies = requestBodies(
    kind,
    run,
    amount,
    Date.now(),
    fakes.slack.responseUrl('bench'),
    metadata,
    teamFor ? (seq) => teamFor(target.baseUrl, seq) : undefined,
  );
  const recorder = new PhaseRecorder(
    run,
    amount,
    kind === 'command' ? 'views.open' : 'chat.postMessage',
    CHANNEL,
    ctx.tokenOf(target.name),
  );
  fakes.track(recorder);
  let input: PhaseInput;
  try {
    const before = await abortable(target.probe('reset'), signal);
    const benchCpuBefore = process.cpuUsage();
    ctx.benchEld.reset();
    const result = await abortable(
      ctx.load.run({
        url: target.baseUrl,
        path: '/slack/events',
        secret: ctx.signingSecret,
        connections,
        bodies,
        amount,
        timeoutSec: options.requestTimeoutSec,
      }),
      signal,
    );
    let expected = 0;
    for (let i = 0; i < amount; i++) if (result.status[i] === 200 && result.emptyBody[i] === 1) expected++;
    await recorder.waitForFollowUps(expected, options.followTimeoutMs, signal);
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const fakesEld = { p99Ms: ctx.benchEld.percentile(99) / 1e6, maxMs: ctx.benchEld.max / 1e6 };
    // Let the work that follows the follow-up (audit, reminders…) finish before the next phase.
    await recorder.waitForQuiet(150, 5000, signal);
    await ctx.settle?.();
    // Event-loop and peak figures of the phase; memory after a full GC (the leak check's timeline).
    const probe = await abortable(target.probe('gc'), signal);
    input = {
      target: target.name,
      kind,
      connections,
      amount,
      stage,
      round: roundNo,
      katapultLatencyMs: options.katapultLatencyMs,
      result,
      recorder,
      before,
      probe,
      benchCpu,
      fakesEld,
    };
  } finally {
    fakes.untrack(recorder);
  }
  const data = phaseData(input);
  if (options.dumpDir) await dump(ctx, run, input, data);
  return data;
}

async function dump(ctx: PhaseContext, run: number, input: PhaseInput, data: PhaseData): Promise<void> {
  const dir = path.resolve(ctx.root, ctx.options.dumpDir ?? '.');
  await mkdir(dir, { recursive: true });
  const list = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isFinite(v) ? round(v, 3) : null));
  const { summary } = data;
  await writeFile(
    path.join(
      dir,
      `${String(run).padStart(3, '0')}-${summary.stage}-${summary.target}-c${summary.concurrency}-${summary.kind}.json`,
    ),
    JSON.stringify({
      summary,
      sentAt: list(input.result.sentAt),
      ackMs: list(data.ack),
      followMs: list(data.follow),
      katapultAt: list(input.recorder.katapultAt),
      status: Array.from(input.result.status),
    }),
  );
}

/** The progress line of a phase. */
export function phaseLine(data: PhaseData): string {
  const s = data.summary;
  return (
    `${s.stage.padEnd(7)} ${s.target.padEnd(9)} c=${String(s.concurrency).padStart(3)} ${s.kind.padEnd(10)} ` +
    `${s.requests} req: ${s.acksPerSec ?? 'n/a'} acks/s, ack p99 ${s.ackMs.p99} ms, ` +
    `${s.follow.method} ${s.follow.received}/${s.follow.expected} p99 ${s.follow.p99Ms} ms, ` +
    `ELD p99 ${s.eldP99Ms} ms` +
    (s.non200 > 0 ? `, ${s.non200} NOT 200` : '')
  );
}
