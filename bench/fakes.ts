/**
 * The fake Slack Web API and fake Katapult API of the tests (support/fakes), run in the benchmark
 * process and instrumented: every call they receive is timed (hrMs, when the fake has read and
 * decoded it) and matched to the benchmark request that caused it through the id that request
 * carried (`bench<run>n<seq>` in the trigger_id, view id or policy id).
 *
 * The fakes keep every call in an array (`calls`, `requests`); the benchmark replaces that array's
 * `push` so that calls are timed and counted instead of kept, which keeps the benchmark process's
 * memory and CPU flat over tens of thousands of calls.
 */
import { type FakeKatapult, startFakeKatapult } from '../support/fakes/katapult-api.js';
import { type FakeSlack, type SlackCall, startFakeSlack } from '../support/fakes/slack-api.js';
import { hrMs } from './stats.js';

/** `bench<run>n<seq>`, the correlation id carried by each benchmark request. */
export const correlationId = (run: number, seq: number) => `bench${run}n${seq}`;
const CORRELATION = /bench(\d+)n(\d+)/i;

export type FollowMethod = 'views.open' | 'chat.postMessage';

/** What the fakes saw for one phase (one load run against one target). */
export class PhaseRecorder {
  /** hrMs at which the follow-up call (views.open or chat.postMessage) for request i arrived. */
  readonly followAt: Float64Array;
  /** hrMs at which the Katapult schedule call for request i arrived. */
  readonly katapultAt: Float64Array;
  followCount = 0;
  duplicateFollows = 0;
  katapultCalls = 0;
  /** Follow-up posts that went elsewhere than the expected channel, or read like a failure. */
  readonly oddPosts: string[] = [];
  oddPostCount = 0;
  readonly slackCalls: Record<string, number> = {};
  /** hrMs of the last fake-API call charged to this phase. */
  lastCallAt = hrMs();

  constructor(
    readonly run: number,
    readonly size: number,
    readonly follow: FollowMethod,
    readonly channel: string,
    /** The target's bot token: calls without a request id are charged by it. */
    readonly token: string,
  ) {
    this.followAt = new Float64Array(size).fill(Number.NaN);
    this.katapultAt = new Float64Array(size).fill(Number.NaN);
  }

  /** Resolves when `expected` follow-ups arrived, or after `timeoutMs` (check `followCount`). */
  async waitForFollowUps(expected: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    const deadline = hrMs() + timeoutMs;
    while (this.followCount < expected && hrMs() < deadline) {
      signal.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Waits until no call has been charged to this phase for `quietMs` (at most `maxMs`): background work is done. */
  async waitForQuiet(quietMs: number, maxMs: number, signal: AbortSignal): Promise<void> {
    const deadline = hrMs() + maxMs;
    while (hrMs() - this.lastCallAt < quietMs && hrMs() < deadline) {
      signal.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

export interface InstrumentedFakes {
  slack: FakeSlack;
  katapult: FakeKatapult;
  /** Starts attributing calls that carry run `run`'s ids to `recorder`. */
  track(recorder: PhaseRecorder): void;
  untrack(recorder: PhaseRecorder): void;
  /** Calls that matched no tracked phase (by method). */
  readonly stray: Record<string, number>;
  close(): Promise<void>;
}

const FAILURE_TEXT = /could not|not\*? scheduled|refus|not allowed|only workspace admins/i;

export async function startInstrumentedFakes(options: {
  katapultLatencyMs: number;
  users: Record<string, { tz: string; is_admin: boolean }>;
}): Promise<InstrumentedFakes> {
  const slack = await startFakeSlack();
  let katapult: FakeKatapult;
  try {
    katapult = await startFakeKatapult({ latencyMs: options.katapultLatencyMs });
  } catch (error) {
    await slack.close();
    throw error;
  }
  for (const [id, user] of Object.entries(options.users)) slack.users.set(id, user);

  const phases = new Map<number, PhaseRecorder>();
  const stray: Record<string, number> = {};
  const match = (text: string): { recorder: PhaseRecorder; seq: number } | null => {
    const m = CORRELATION.exec(text);
    if (!m) return null;
    const recorder = phases.get(Number(m[1]));
    const seq = Number(m[2]);
    return recorder && seq < recorder.size ? { recorder, seq } : null;
  };
  const countStray = (method: string) => {
    stray[method] = (stray[method] ?? 0) + 1;
  };

  const onSlackCall = (call: SlackCall) => {
    const t = hrMs();
    let hit: { recorder: PhaseRecorder; seq: number } | null = null;
    if (call.method === 'views.open') {
      hit = match(String(call.args.trigger_id ?? ''));
    } else if (call.method === 'chat.postMessage') {
      hit = match(String(call.args.text ?? '')) ?? match(JSON.stringify(call.args.blocks ?? ''));
    }
    if (!hit) {
      // users.info, views.update and the like carry no request id: charge them by the caller's token.
      for (const recorder of phases.values()) {
        if (recorder.token === call.token) hit = { recorder, seq: -1 };
      }
    }
    if (!hit) {
      countStray(call.method);
      return;
    }
    const { recorder, seq } = hit;
    recorder.lastCallAt = t;
    recorder.slackCalls[call.method] = (recorder.slackCalls[call.method] ?? 0) + 1;
    if (seq < 0 || call.method !== recorder.follow) return;
    if (Number.isFinite(recorder.followAt[seq])) {
      recorder.duplicateFollows++;
      return;
    }
    recorder.followAt[seq] = t;
    recorder.followCount++;
    if (call.method === 'chat.postMessage') {
      const text = String(call.args.text ?? '');
      if (call.args.channel !== recorder.channel || FAILURE_TEXT.test(text)) {
        recorder.oddPostCount++;
        if (recorder.oddPosts.length < 5)
          recorder.oddPosts.push(`${String(call.args.channel)}: ${text.slice(0, 200)}`);
      }
    }
  };

  // The fakes push each call onto these arrays right after reading and decoding it.
  Object.defineProperty(slack.calls, 'push', {
    configurable: true,
    value: (...calls: SlackCall[]) => {
      for (const call of calls) onSlackCall(call);
      return 0;
    },
  });
  Object.defineProperty(katapult.requests, 'push', {
    configurable: true,
    value: (...requests: { path: string; body: unknown }[]) => {
      const t = hrMs();
      for (const request of requests) {
        const id = (request.body as { disk_backup_policy?: { id?: unknown } } | undefined)?.disk_backup_policy
          ?.id;
        const hit = typeof id === 'string' ? match(id) : null;
        if (!hit) {
          countStray(`katapult ${request.path}`);
          continue;
        }
        hit.recorder.katapultCalls++;
        hit.recorder.lastCallAt = t;
        if (!Number.isFinite(hit.recorder.katapultAt[hit.seq])) hit.recorder.katapultAt[hit.seq] = t;
      }
      return 0;
    },
  });

  return {
    slack,
    katapult,
    stray,
    track: (recorder) => phases.set(recorder.run, recorder),
    untrack: (recorder) => phases.delete(recorder.run),
    async close() {
      await Promise.allSettled([slack.close(), katapult.close()]);
    },
  };
}
