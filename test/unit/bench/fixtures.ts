/** Phase data built by hand, for the report tests (no process is spawned). */
import { PhaseRecorder } from '../../../bench/fakes.js';
import {
  type LoadResult,
  type PhaseData,
  type PhaseInput,
  phaseData,
  type Stage,
} from '../../../bench/phase.js';
import type { ProbeReport, TargetName } from '../../../bench/processes.js';
import type { Kind } from '../../../bench/run.js';

const MB = 1024 * 1024;

export function probe(
  overrides: { cpuMs?: number; systemMs?: number; rssMB?: number; forcedGcMs?: number } = {},
): ProbeReport {
  const { cpuMs = 0, systemMs = 0, rssMB = 100, forcedGcMs = 0 } = overrides;
  return {
    eld: { p99Ms: 5, maxMs: 9 },
    rss: rssMB * MB,
    peakRss: (rssMB + 10) * MB,
    heapUsed: 20 * MB,
    heapTotal: 30 * MB,
    external: 2 * MB,
    cpu: { user: (cpuMs - systemMs) * 1000, system: systemMs * 1000 },
    forcedGcCpu: { user: forcedGcMs * 1000, system: 0 },
  };
}

/** `acks[i]` ms after `sent[i]`; the requests at `firstOnConnection` opened their connection. */
export function loadResult(sent: number[], acks: number[], firstOnConnection: number[] = []): LoadResult {
  const n = sent.length;
  return {
    eld: { p99Ms: 2, maxMs: 3 },
    sentAt: Float64Array.from(sent),
    ackAt: Float64Array.from(sent.map((s, i) => s + (acks[i] as number))),
    status: Uint16Array.from({ length: n }, () => 200),
    emptyBody: Uint8Array.from({ length: n }, () => 1),
    firstOnConnection: Uint8Array.from({ length: n }, (_, i) => (firstOnConnection.includes(i) ? 1 : 0)),
    ackBodies: 0,
    ackBodySamples: [],
    load: { errors: 0, timeouts: 0, non2xx: 0, resets: 0, extraRequests: 0, statusCounts: { '200': n } },
  };
}

/** The fakes saw follow-up i at `followAt[i]` and Katapult call i at `katapultAt[i]` (NaN: never). */
export function recorder(
  followAt: number[],
  katapultAt: number[] = [],
  kind: Kind = 'command',
): PhaseRecorder {
  const rec = new PhaseRecorder(
    1,
    followAt.length,
    kind === 'command' ? 'views.open' : 'chat.postMessage',
    'C',
    'x',
  );
  rec.followAt.set(followAt);
  rec.katapultAt.set(katapultAt);
  rec.followCount = followAt.filter(Number.isFinite).length;
  rec.katapultCalls = katapultAt.filter(Number.isFinite).length;
  return rec;
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
}

export function phase(spec: PhaseSpec): PhaseData {
  const acks = spec.acks ?? [1, 2, 3, 4];
  const sent = acks.map((_, i) => 1000 + i * 10);
  const kind = spec.kind ?? 'command';
  const input: PhaseInput = {
    phase: {
      target: spec.target,
      kind,
      concurrency: spec.concurrency ?? 1,
      round: spec.round ?? 1,
      stage: spec.stage ?? 'measure',
    },
    katapultLatencyMs: 0,
    serversCpuMs: null,
    result: loadResult(sent, acks),
    recorder: recorder(
      sent.map((s, i) => s + (acks[i] as number) + 1),
      [],
      kind,
    ),
    before: probe(),
    probe: probe({ cpuMs: spec.cpuMs ?? acks.length, rssMB: spec.rssMB ?? 100 }),
    benchCpu: { user: 0, system: 0 },
    fakesEld: { p99Ms: 1, maxMs: 2 },
  };
  return phaseData(input);
}
