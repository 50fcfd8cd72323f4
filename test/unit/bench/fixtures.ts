/** Phase data built by hand, for the aggregation tests (no process is spawned). */
import type { LoadResult } from '../../../bench/load.js';
import { type PhaseData, type PhaseInput, phaseData, type RecorderView } from '../../../bench/phase.js';
import type { ProbeReport, TargetName } from '../../../bench/processes.js';
import type { Kind, Stage } from '../../../bench/report.js';

const MB = 1024 * 1024;

export function probe(
  overrides: Partial<ProbeReport> & { cpuMs?: number; rssMB?: number } = {},
): ProbeReport {
  const { cpuMs = 0, rssMB = 100, ...rest } = overrides;
  return {
    eld: { resolutionMs: 1, count: 10, p50Ms: 1, p99Ms: 5, maxMs: 9, meanMs: 1.5 },
    rss: rssMB * MB,
    peakRss: (rssMB + 10) * MB,
    heapUsed: 20 * MB,
    heapTotal: 30 * MB,
    external: 2 * MB,
    arrayBuffers: 0,
    afterGc: true,
    uptimeMs: 1000,
    cpu: { user: cpuMs * 1000, system: 0 },
    ...rest,
  };
}

/** `acks[i]` ms after `sent[i]`; follow-ups `follows[i]` ms after sending (NaN: none). */
export function loadResult(sent: number[], acks: number[], firstOnConnection: number[] = []): LoadResult {
  const n = sent.length;
  return {
    eld: { p99Ms: 2, maxMs: 3 },
    sentAt: Float64Array.from(sent),
    ackAt: Float64Array.from(sent.map((s, i) => s + (acks[i] as number))),
    status: Uint16Array.from({ length: n }, () => 200),
    emptyBody: Uint8Array.from({ length: n }, () => 1),
    firstOnConnection: Uint8Array.from({ length: n }, (_, i) => (firstOnConnection.includes(i) ? 1 : 0)),
    statusCounts: { '200': n },
    unexpectedBodyCount: 0,
    unexpectedBodies: [],
    extraRequests: 0,
    autocannon: {
      errors: 0,
      timeouts: 0,
      non2xx: 0,
      resets: 0,
      mismatches: 0,
      totalRequests: n,
      totalCompleted: n,
    },
  };
}

export function recorder(
  followAt: number[],
  katapultAt: number[] = [],
  kind: Kind = 'command',
): RecorderView {
  const n = followAt.length;
  return {
    follow: kind === 'command' ? 'views.open' : 'chat.postMessage',
    followAt: Float64Array.from(followAt),
    katapultAt: Float64Array.from({ length: n }, (_, i) => katapultAt[i] ?? Number.NaN),
    followCount: followAt.filter(Number.isFinite).length,
    duplicateFollows: 0,
    katapultCalls: katapultAt.filter(Number.isFinite).length,
    oddPostCount: 0,
    oddPosts: [],
    slackCalls: {},
  };
}

export interface PhaseSpec {
  target: TargetName;
  kind?: Kind;
  stage?: Stage;
  round?: number;
  concurrency?: number;
  /** Ack latencies (ms), one per request, sent 10 ms apart. */
  acks?: number[];
  /** CPU ms the target used for the whole phase. */
  cpuMs?: number;
  /** Post-GC RSS at the end of the phase. */
  rssMB?: number;
  katapultLatencyMs?: number;
  followAfter?: number[];
  katapultAfter?: number[];
}

export function phase(spec: PhaseSpec): PhaseData {
  const acks = spec.acks ?? [1, 2, 3, 4];
  const sent = acks.map((_, i) => 1000 + i * 10);
  const kind = spec.kind ?? 'command';
  const input: PhaseInput = {
    target: spec.target,
    kind,
    connections: spec.concurrency ?? 1,
    amount: acks.length,
    stage: spec.stage ?? 'measure',
    round: spec.round ?? 1,
    katapultLatencyMs: spec.katapultLatencyMs ?? 0,
    result: loadResult(sent, acks),
    recorder: recorder(
      sent.map((s, i) => s + (spec.followAfter?.[i] ?? (acks[i] as number) + 1)),
      spec.katapultAfter ? sent.map((s, i) => s + (spec.katapultAfter?.[i] as number)) : [],
      kind,
    ),
    before: probe(),
    probe: probe({ cpuMs: spec.cpuMs ?? acks.length, rssMB: spec.rssMB ?? 100 }),
    benchCpu: { user: 0, system: 0 },
    fakesEld: { p99Ms: 1, maxMs: 2 },
  };
  return phaseData(input);
}
