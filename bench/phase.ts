/**
 * One phase: signed requests of one kind at one concurrency against one target; the fakes time the
 * calls they cause, the probe reads CPU, event loop and memory around it. `runPhase` does the I/O,
 * `phaseData` (pure) makes the figures; `startHarness` starts what every phase shares.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { SCHEDULE_VIEW as V } from '../src/slack/ids.js';
import { createMetadataSigner } from '../src/slack/platform/signed-metadata.js';
import { FAKE_TEAM_ID } from '../support/fakes/slack-api.js';
import { commandBody, viewSubmissionBody } from '../support/slack-requests.js';
import { correlationId, PhaseRecorder, startInstrumentedFakes, waitFor } from './fakes.js';
import type { ProbeReport, Target, TargetName } from './processes.js';
import { benchEncryptionKey, killAll, SLACK_TOKENS } from './processes.js';
import type { BenchOptions, Kind } from './run.js';
import { hrMs, MB, percentile, round, storeServersCpu, storeServersCpuSince } from './stats.js';
import { SLACK_ACK_LIMIT_MS } from './targets.js';

export const USER = 'U0BENCH01';
export const CHANNEL = 'C0OPS0001';
export type Stage = 'warmup' | 'measure' | 'soak';
export type Phase = { target: TargetName; kind: Kind; concurrency: number; round: number; stage: Stage };
/** A phase, but for its target. */
export type Step = Omit<Phase, 'target'>;

/** What bench/load-worker.mjs measured: per request i, hrMs sent and answered (NaN: never), status… */
export interface LoadResult {
  eld: { p99Ms: number; maxMs: number };
  sentAt: Float64Array;
  ackAt: Float64Array;
  status: Uint16Array;
  emptyBody: Uint8Array;
  firstOnConnection: Uint8Array;
  ackBodies: number;
  ackBodySamples: string[];
  load: Record<'errors' | 'timeouts' | 'non2xx' | 'resets' | 'extraRequests', number> & {
    statusCounts: Record<string, number>;
  };
}

/** The load generator in its worker thread (bench/load-worker.mjs); one run at a time. */
function loadGenerator() {
  const worker = new Worker(new URL('./load-worker.mjs', import.meta.url));
  const run = async (spec: Record<string, unknown>, signal: AbortSignal) => {
    worker.postMessage(spec);
    const [answer] = (await once(worker, 'message', { signal })) as { result?: LoadResult; error?: string }[];
    if (!answer?.result) throw new Error(`load generator: ${answer?.error}`);
    return answer.result;
  };
  return { run, close: () => worker.terminate() };
}

/**
 * The bodies of one phase; each carries the correlation id of (run, seq). Submissions ask for the
 * move two hours ahead (past the bot's 60-minute reminder lead, so both follow-ups are held), with
 * the modal's private_metadata signed for the bot (it refuses any other) and plain for the baselines.
 */
type To = { to: TargetName; secret: string; url: string; teamOf?: ((seq: number) => string) | undefined };
export function requestBodies(kind: Kind, run: number, amount: number, { to, secret, url, teamOf }: To) {
  const at = Math.floor(Date.now() / 1000) + 2 * 3600;
  const channel = JSON.stringify({ c: CHANNEL });
  const signer = createMetadataSigner({ current: benchEncryptionKey(secret) });
  // Signed for the scheduling form and the submission's workspace, as the bot signs it when it opens.
  const seal = (team: string) => signer.seal(channel, { form: V.callbackId, workspaceId: team }, Date.now());
  return Array.from({ length: amount }, (_, seq) => {
    const [id, team] = [correlationId(run, seq), teamOf?.(seq)];
    const privateMetadata = to === 'bot' ? seal(team ?? FAKE_TEAM_ID) : channel;
    const command = { user_id: USER, channel_id: CHANNEL, trigger_id: `${id}.trigger`, response_url: url };
    if (kind === 'command') return commandBody({ ...command, text: '', ...(team ? { team_id: team } : {}) });
    const policy = { [V.policyAction]: { type: 'plain_text_input', value: `dbp_${id}` } };
    const when = { [V.whenAction]: { type: 'datetimepicker', selected_date_time: at } };
    const view = { callbackId: V.callbackId, userId: USER, viewId: `V${id.toUpperCase()}`, privateMetadata };
    const values = { [V.policyBlock]: policy, [V.whenBlock]: when };
    return viewSubmissionBody({ ...view, ...(team ? { teamId: team } : {}), values });
  });
}

/** What a phase saw; its requests are the recorder's `size`. */
export interface PhaseInput {
  phase: Phase;
  katapultLatencyMs: number;
  result: LoadResult;
  recorder: PhaseRecorder;
  /** Probe reports before and after the phase (the second after a full GC). */
  before: ProbeReport;
  probe: ProbeReport;
  benchCpu: NodeJS.CpuUsage;
  fakesEld: { p99Ms: number; maxMs: number };
  /** The store servers' CPU over the phase (ms; null where it cannot be read). */
  serversCpuMs: number | null;
}
export type PhaseData = ReturnType<typeof phaseData>;
export type PhaseSummary = PhaseData['summary'];

/** Requests answered 200 with an empty body (a plain ack): each is followed by a Slack call. */
export const accepted = (r: LoadResult) =>
  r.status.filter((s, i) => s === 200 && r.emptyBody[i] === 1).length;

/** Nearest-rank percentiles of `values`, named: `pick(v, { p50: 50, max: 100 })`. */
function pick<K extends string>(values: ArrayLike<number>, at: Record<K, number>) {
  const entries = Object.entries<number>(at).map(([name, p]) => [name, round(percentile(values, p), 3)]);
  return Object.fromEntries(entries) as Record<K, number | null>;
}

/** The phase's figures from what the load generator, the fakes and the probe saw. Pure. */
export function phaseData(input: PhaseInput) {
  const { result, recorder: rec, probe, before, katapultLatencyMs: latency } = input;
  const amount = rec.size;
  const series = () => new Float64Array(amount).fill(Number.NaN);
  const [ack, follow, beforeKatapult, afterKatapult] = [series(), series(), series(), series()];
  // The first request on each new connection also pays for the connection (and, under load, for the
  // target getting round to it): left out of the percentiles, reported on its own.
  const [connectionAck, connectionFollow] = [[] as number[], [] as number[]];
  let [firstSent, lastAck] = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  let [acked, ok] = [0, 0];
  for (let i = 0; i < amount; i++) {
    const [sent, acks] = [result.sentAt[i] as number, result.ackAt[i] as number];
    const [followed, called] = [rec.followAt[i] as number, rec.katapultAt[i] as number];
    const first = result.firstOnConnection[i] === 1;
    if (sent < firstSent) firstSent = sent;
    if (Number.isFinite(acks)) {
      acked++;
      if (acks > lastAck) lastAck = acks;
      if (first) connectionAck.push(acks - sent);
      else ack[i] = acks - sent;
    }
    if (result.status[i] === 200) ok++;
    const calledKatapult = Number.isFinite(called);
    if (Number.isFinite(followed)) {
      const value = followed - sent - (calledKatapult ? latency : 0);
      if (first) connectionFollow.push(value);
      else follow[i] = value;
    }
    if (first || !calledKatapult) continue;
    beforeKatapult[i] = called - sent;
    if (Number.isFinite(followed)) afterKatapult[i] = followed - called - latency;
  }
  const activeMs = Number.isFinite(firstSent) && Number.isFinite(lastAck) ? lastAck - firstSent : 0;
  const mb = (bytes: number) => round(bytes / MB, 1) ?? 0;
  const cpuMs = ({ user, system }: NodeJS.CpuUsage) => (user + system) / 1000;
  const [g, f] = [result.eld, input.fakesEld];
  const { rss, heapUsed, heapTotal, external } = probe;
  const katapult = {
    calls: rec.katapultCalls,
    ...pick(beforeKatapult, { beforeP50Ms: 50, beforeP99Ms: 99 }),
    ...pick(afterKatapult, { afterP50Ms: 50, afterP99Ms: 99 }),
  };
  const summary = {
    ...input.phase,
    requests: amount,
    acked,
    ok,
    non200: amount - ok,
    /** Acks with a body (e.g. response_action: errors): no follow-up is expected for those. */
    ackBodies: result.ackBodies,
    ackBodySamples: result.ackBodySamples,
    durationMs: round(activeMs) ?? 0,
    acksPerSec: activeMs > 0 ? round((ok / activeMs) * 1000, 1) : null,
    firstOnConnection: {
      count: connectionAck.length,
      ...pick(connectionAck, { ackMedianMs: 50, ackMaxMs: 100 }),
      ...pick(connectionFollow, { followMaxMs: 100 }),
    },
    ackMs: pick(ack, { p50: 50, p95: 95, p99: 99, max: 100 }),
    /** Requests answered later than Slack's 3 s, or never (first ones on a connection included). */
    lateAcks: result.sentAt.filter((sent, i) => !((result.ackAt[i] as number) - sent <= SLACK_ACK_LIMIT_MS))
      .length,
    follow: {
      method: rec.follow,
      expected: accepted(result),
      received: rec.followCount,
      duplicates: rec.duplicateFollows,
      ...pick(follow, { p50Ms: 50, p99Ms: 99, maxMs: 100 }),
      oddPosts: rec.oddPostCount,
      oddPostSamples: rec.oddPosts,
    },
    katapult: rec.katapultCalls > 0 ? katapult : null,
    slackCalls: { ...rec.slackCalls },
    slackArgs: { ...rec.slackArgs },
    load: { ...result.load },
    cpuMsPerRequest: round((cpuMs(probe.cpu) - cpuMs(before.cpu)) / amount, 3),
    /** The kernel's part of it (socket writes and reads, the store's file): the rest is user time. */
    cpuSystemMsPerRequest: round((probe.cpu.system - before.cpu.system) / 1000 / amount, 3),
    /** The memory probe's forced GC at the phase's end (ms in all), left out of the figures above. */
    forcedGcCpuMs: round(cpuMs(probe.forcedGcCpu), 1),
    benchCpuMsPerRequest: round(cpuMs(input.benchCpu) / amount, 3),
    /** PostgreSQL's and Redis's processes over the phase, per request: the store's work for the target. */
    storeServerCpuMsPerRequest: input.serversCpuMs === null ? null : round(input.serversCpuMs / amount, 3),
    harnessEld: {
      loadGeneratorP99Ms: round(g.p99Ms, 2),
      loadGeneratorMaxMs: round(g.maxMs, 2),
      fakesP99Ms: round(f.p99Ms, 2),
      fakesMaxMs: round(f.maxMs, 2),
    },
    eldP99Ms: round(probe.eld.p99Ms, 3),
    eldMaxMs: round(probe.eld.maxMs, 3),
    peakRssMB: mb(probe.peakRss),
    afterGcMB: { rss: mb(rss), heapUsed: mb(heapUsed), heapTotal: mb(heapTotal), external: mb(external) },
  };
  return { summary, ack, follow, beforeKatapult, afterKatapult, okCount: ok, activeMs, probe };
}

export type PhaseContext = Awaited<ReturnType<typeof startHarness>>;

/**
 * What every phase of a run shares: the fakes, the load generator, the signing secret, this thread's
 * event-loop delay (the fakes'), and an abort signal (the caller's, and `deadlineMs`). `close` stops
 * them and every process started.
 */
export async function startHarness(options: BenchOptions, outer?: AbortSignal) {
  const fakes = await startInstrumentedFakes(options.katapultLatencyMs);
  fakes.slack.users.set(USER, { tz: 'Europe/London', is_admin: true });
  const [load, controller] = [loadGenerator(), new AbortController()];
  const benchEld = monitorEventLoopDelay({ resolution: 1 });
  benchEld.enable();
  const onAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onAbort, { once: true });
  const late = () => controller.abort(new Error(`deadline of ${options.deadlineMs} ms passed`));
  const deadline = options.deadlineMs === null ? undefined : setTimeout(late, options.deadlineMs);
  // Last resort if this process exits abruptly: no child may outlive it.
  process.once('exit', killAll);
  let runs = 0;
  return {
    options,
    fakes,
    load,
    benchEld,
    signingSecret: randomBytes(24).toString('hex'),
    signal: controller.signal,
    /** A new run number (correlation ids are unique per run). */
    nextRun: () => ++runs,
    /** The bot token the fakes charge a target's calls without a request id to. */
    tokenOf: (name: TargetName) => SLACK_TOKENS[name],
    /** The workspace of each request sent to a target (bench/workspaces.ts); default the fake's one. */
    teamFor: undefined as ((target: Target, seq: number) => string) | undefined,
    /** Waits for the target's remaining background work once the phase's own calls are quiet. */
    settle: async () => {},
    async close() {
      clearTimeout(deadline);
      outer?.removeEventListener('abort', onAbort);
      benchEld.disable();
      killAll();
      process.removeListener('exit', killAll);
      await Promise.allSettled([load.close(), fakes.close()]);
    },
  };
}

/** Drives one phase and waits for its follow-ups and background work to finish. */
export async function runPhase(ctx: PhaseContext, target: Target, phase: Step, amount: number) {
  const { fakes, signal, options, teamFor } = ctx;
  const [run, tagged] = [ctx.nextRun(), { target: target.name, ...phase }];
  const teamOf = teamFor && ((seq: number) => teamFor(target, seq));
  const to = { to: target.name, secret: ctx.signingSecret, url: fakes.slack.responseUrl('bench'), teamOf };
  const bodies = requestBodies(phase.kind, run, amount, to);
  const follow = phase.kind === 'command' ? 'views.open' : 'chat.postMessage';
  const recorder = new PhaseRecorder(run, amount, follow, CHANNEL, ctx.tokenOf(target.name));
  fakes.track(recorder);
  let input: PhaseInput;
  try {
    const serversBefore = storeServersCpu();
    const before = await target.probe('reset');
    const benchCpuBefore = process.cpuUsage();
    ctx.benchEld.reset();
    const spec = { url: target.baseUrl, path: '/slack/events', secret: ctx.signingSecret, amount };
    const load = { ...spec, connections: phase.concurrency, bodies, timeoutSec: options.requestTimeoutSec };
    const result = await ctx.load.run(load, signal);
    await waitFor(() => recorder.followCount >= accepted(result), options.followTimeoutMs, signal);
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const fakesEld = { p99Ms: ctx.benchEld.percentile(99) / 1e6, maxMs: ctx.benchEld.max / 1e6 };
    // Let the work that follows the follow-up (audit, reminders…) finish before the next phase.
    await waitFor(() => hrMs() - recorder.lastCallAt >= 150, 5000, signal, 20);
    await ctx.settle();
    // Event-loop and peak figures of the phase; memory after a full GC (the leak check's timeline).
    const probe = await target.probe('release');
    const serversCpuMs = storeServersCpuSince(serversBefore, storeServersCpu());
    const { katapultLatencyMs } = options;
    input = {
      phase: tagged,
      katapultLatencyMs,
      result,
      recorder,
      before,
      probe,
      benchCpu,
      fakesEld,
      serversCpuMs,
    };
  } finally {
    fakes.untrack(recorder);
  }
  return phaseData(input);
}

/** The progress line of a phase. */
export function phaseLine({ summary: s }: PhaseData): string {
  const follow = `${s.follow.method} ${s.follow.received}/${s.follow.expected} p99 ${s.follow.p99Ms} ms`;
  return (
    `${s.stage.padEnd(7)} ${s.target.padEnd(9)} c=${String(s.concurrency).padStart(3)} ${s.kind.padEnd(10)} ` +
    `${s.requests} req: ${s.acksPerSec ?? 'n/a'} acks/s, ack p99 ${s.ackMs.p99} ms, ${follow}, ` +
    `ELD p99 ${s.eldP99Ms} ms, CPU ${s.cpuMsPerRequest} ms/req${s.non200 > 0 ? `, ${s.non200} NOT 200` : ''}`
  );
}
